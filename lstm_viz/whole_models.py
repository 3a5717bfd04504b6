"""A whole PyTorch model's state_dict -> `LoadedModel`: the recurrent core under any prefix
(`lstm.`, `rnn.`, `encoder.lstm.`), an `nn.Embedding` before it and an `nn.Linear` head after
it, recognised from keys and shapes alone.

A state_dict records weights, not the forward code, so what cannot be told from shapes is asked
(`ChoiceNeeded`: tanh or ReLU, which core, which head) or left out and said so, never guessed.
"""

from __future__ import annotations

import re

import torch
from torch import nn

from lstm_viz.limits import MAX_WEIGHT_BYTES, mb
from lstm_viz.loaded import ChoiceNeeded, LoadedModel, summarize
from lstm_viz.model_files import _check_tensor_bytes, core_from_state_dict

_CORE_KEY = re.compile(r"(weight|bias)_(ih|hh|hr)_l\d+(_reverse)?")
_NO_PREFIX = "(none)"  # how a core saved at the top level (keys weight_ih_l0, ...) is named


def find_cores(state: dict) -> list[str]:
    """Prefixes under which a recurrent core's weights sit, e.g. ['encoder.lstm.', 'lstm.']."""
    return sorted(
        k[: -len("weight_ih_l0")]
        for k in state
        if k.endswith("weight_ih_l0")
        and k[: -len("weight_ih_l0")] + "weight_hh_l0" in state
        and (k == "weight_ih_l0" or k[: -len("weight_ih_l0")].endswith("."))
    )


def _name(prefix: str) -> str:
    return prefix.removesuffix(".") or _NO_PREFIX


def from_state_dict(
    state: dict,
    nonlinearity: str | None = None,
    core: str | None = None,
    head: str | None = None,
    embedding: str | None = None,
    kind: str = "PyTorch state_dict",
) -> LoadedModel:
    """The model around the recurrent core of `state` (see the module docstring)."""
    if not state or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items()
    ):
        raise ValueError("the state_dict must map names to tensors; save model.state_dict()")
    _check_all_bytes(state)
    prefixes = find_cores(state)
    if not prefixes:
        keys = ", ".join(list(state)[:5])
        raise ValueError(
            f"no recurrent core in this state_dict (no ...weight_ih_l0 / weight_hh_l0 keys; keys: "
            f"{keys}); upload the state_dict of a model holding an nn.LSTM, nn.GRU or nn.RNN"
        )
    by_name = {_name(p): p for p in prefixes}
    names = list(by_name)
    if core is None and len(prefixes) > 1:
        raise ChoiceNeeded(
            f"this state_dict holds {len(prefixes)} recurrent cores ({', '.join(names)}); "
            f"pick one with core=, e.g. core={names[0]!r}",
            "core",
            names,
        )
    chosen = prefixes[0] if core is None else by_name.get(core.removesuffix(".") or _NO_PREFIX)
    if chosen is None:
        raise ValueError(f"no core {core!r} in this state_dict; choose one of {', '.join(names)}")
    prefix = chosen
    core_state = {
        k[len(prefix) :]: v
        for k, v in state.items()
        if k.startswith(prefix) and _CORE_KEY.fullmatch(k[len(prefix) :])
    }
    _check_tensor_bytes(core_state)
    module = core_from_state_dict(core_state, "auto", _nonlinearity(core_state, nonlinearity))
    module.batch_first = True  # a layout flag only: the weights do not depend on it
    rest = {
        k: v
        for k, v in state.items()
        if not (k.startswith(prefix) and k[len(prefix) :] in core_state)
    }
    where = _name(prefix)
    recognised = [f"core {where}: nn.{type(module).__name__} ({len(core_state)} tensors)"]
    notes, left_out = [], []
    emb, emb_name = _embedding(rest, module, embedding)
    if emb is not None:
        recognised.append(
            f"embedding {emb_name}: nn.Embedding({emb.num_embeddings}, "
            f"{emb.embedding_dim}), assumed to feed the core directly"
        )
    lin, head_name, why = _head(rest, module, head, skip=emb_name)
    if lin is not None:
        recognised.append(f"head {head_name}: nn.Linear({lin.in_features}, {lin.out_features})")
        notes.append(
            "the head is assumed to act on the top layer's hidden state at every step, "
            "with no activation in between (a state_dict does not record the forward "
            "code)"
        )
    if why:
        left_out.append(why)
    used = {f"{m}.{p}" for m in (emb_name, head_name) if m for p in ("weight", "bias")}
    ignored = [k for k in rest if k not in used]
    if ignored:
        shown = ", ".join(ignored[:8]) + (
            f" and {len(ignored) - 8} more" if len(ignored) > 8 else ""
        )
        left_out.append(f"{len(ignored)} key(s) not used: {shown}")
    before = [  # a Linear writing the core's input: a layer before it that is not run here
        m
        for m, p in _modules(rest).items()
        if m not in (emb_name, head_name) and {"weight", "bias"} <= set(p)
        and p["weight"].dim() == 2 and p["weight"].shape[0] == module.input_size
    ]  # fmt: skip
    if before and emb is None:
        left_out.append(
            f"{', '.join(before)}: could be a Linear layer before the core; it is not run, so "
            "inputs go to the core directly"
        )
    model = LoadedModel([module], embedding=emb, head=lin)
    model.summary = summarize(model, kind, recognised, left_out, notes)
    return model


def _nonlinearity(core_state: dict, given: str | None) -> str:
    """An RNN's weights cannot tell tanh from ReLU, so the caller must say which."""
    w_ih, w_hh = core_state["weight_ih_l0"], core_state["weight_hh_l0"]
    for key, w in (("weight_ih_l0", w_ih), ("weight_hh_l0", w_hh)):
        if w.dim() != 2:
            raise ValueError(f"{key} is {w.dim()}-D; a recurrent layer's weights are 2-D matrices")
    hidden = core_state["weight_hr_l0"].shape[1] if "weight_hr_l0" in core_state else w_hh.shape[1]
    is_rnn = w_ih.dim() == 2 and w_ih.shape[0] == hidden and "weight_hr_l0" not in core_state
    if given is not None and given not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {given!r}")
    if is_rnn and given is None:
        raise ChoiceNeeded(
            "this is a plain RNN (nn.RNN): its weights cannot tell tanh from ReLU; say which "
            "with nonlinearity='tanh' or nonlinearity='relu'",
            "nonlinearity",
            ["tanh", "relu"],
        )
    return given or "tanh"


def _modules(rest: dict) -> dict[str, dict[str, torch.Tensor]]:
    """Leftover keys grouped by module: {'fc': {'weight': ..., 'bias': ...}}."""
    out: dict[str, dict[str, torch.Tensor]] = {}
    for k, v in rest.items():
        mod, _, param = k.rpartition(".")
        out.setdefault(mod, {})[param] = v
    return out


def _embedding(rest: dict, core: nn.Module, chosen: str | None):
    """An nn.Embedding feeding the core: a module with only a float 2-D weight (V, input_size)."""
    found = [
        m
        for m, p in _modules(rest).items()
        if set(p) == {"weight"}
        and m
        and p["weight"].dim() == 2
        and p["weight"].shape[1] == core.input_size
        and p["weight"].is_floating_point()
        and ("emb" in m.lower() or p["weight"].shape[1] != _top_width(core))
    ]
    if chosen is not None:
        if chosen == "none":
            return None, None
        if chosen not in found:
            raise ValueError(
                f"no embedding {chosen!r} fits this core; choose one of "
                f"{', '.join(found) or 'none'} or embedding='none'"
            )
        found = [chosen]
    if len(found) > 1:
        raise ChoiceNeeded(
            f"several modules could be the embedding ({', '.join(found)}); pick "
            "one with embedding=, or embedding='none'",
            "embedding",
            [*found, "none"],
        )
    if not found:
        return None, None
    w = rest[found[0] + ".weight"]
    emb = nn.Embedding(w.shape[0], w.shape[1])
    emb.weight.data.copy_(w.float())
    return emb, found[0]


def _top_width(core: nn.Module) -> int:
    dirs = 2 if core.bidirectional else 1
    return dirs * (getattr(core, "proj_size", 0) or core.hidden_size)


def _head(rest: dict, core: nn.Module, chosen: str | None, skip: str | None):
    """An nn.Linear reading the top layer's h: weight (out, D*H) and bias (out,) or none.

    A Linear that feeds another Linear (fc1 -> fc2) is part of a deeper head whose activations
    the state_dict does not record: then nothing is used, and the reason is returned.
    """
    mods = {m: p for m, p in _modules(rest).items() if m != skip}
    width = _top_width(core)

    def linear(p):
        w = p.get("weight")
        ok = (
            w is not None
            and w.dim() == 2
            and w.is_floating_point()
            and set(p) <= {"weight", "bias"}
        )
        return ok and ("bias" not in p or tuple(p["bias"].shape) == (w.shape[0],))

    found = [m for m, p in mods.items() if m and linear(p) and p["weight"].shape[1] == width]
    if chosen is not None:
        if chosen == "none":
            return None, None, None
        if chosen not in found:
            raise ValueError(
                f"no head {chosen!r} reads this core's output ({width} wide); "
                f"choose one of {', '.join(found) or 'none'} or head='none'"
            )
        found = [chosen]
    if len(found) > 1:
        raise ChoiceNeeded(
            f"several Linear layers could read the core's output "
            f"({', '.join(found)}); pick one with head=, or head='none'",
            "head",
            [*found, "none"],
        )
    if not found:
        return None, None, None
    name = found[0]
    w = mods[name]["weight"]
    after = [
        m for m, p in mods.items() if m != name and linear(p) and p["weight"].shape[1] == w.shape[0]
    ]
    if after and chosen is None:
        return (
            None,
            None,
            (
                f"head {name} -> {', '.join(after)}: a head of several layers, whose activations a "
                "state_dict does not record; no predictions are shown (pick head= to use one layer)"
            ),
        )
    lin = nn.Linear(w.shape[1], w.shape[0], bias="bias" in mods[name])
    lin.weight.data.copy_(w.float())
    if lin.bias is not None:
        lin.bias.data.copy_(mods[name]["bias"].float())
    if not all(torch.isfinite(p).all() for p in lin.parameters()):
        raise ValueError(f"the head {name} holds NaN or inf; retrain or re-save the model")
    return lin, name, None


def _check_all_bytes(state: dict) -> None:
    """Every tensor (used or not) must own its bytes, and all together fit the limit."""
    total = 0
    for name, t in state.items():
        if t.layout != torch.strided or t.device.type != "cpu":
            raise ValueError(f"tensor {name} is not a dense CPU tensor; save model.cpu() weights")
        size = t.numel() * t.element_size()
        if size > t.untyped_storage().nbytes():
            raise ValueError(f"tensor {name} claims more values than the file stores; re-save it")
        total += size
    if total > MAX_WEIGHT_BYTES:
        raise ValueError(
            f"the weights take {mb(total)}; the limit is "
            f"{MAX_WEIGHT_BYTES // 2**20} MB: save a smaller model"
        )
