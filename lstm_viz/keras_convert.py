"""Keras layers (from `keras_files.KerasFile`) -> torch modules computing the same numbers.

Per layer, exactly (Keras computes x @ kernel, torch W @ x, so every matrix is transposed):
- LSTM: Keras's gate order i, f, c, o is torch's i, f, g, o; its one bias becomes bias_ih and
  bias_hh is zero (torch adds the two, so the sum is Keras's bias);
- GRU (reset_after=True): Keras's z, r, h becomes torch's r, z, n; its two bias rows are torch's
  input and recurrent biases, so r * (W_hn h + b_hn) is Keras's reset-after form;
- SimpleRNN: tanh or relu, one bias as for the LSTM;
- Bidirectional(concat): torch's reverse direction (the backward layer reads the sequence
  backwards, and its outputs are put back in time order, as Keras does);
- Embedding -> nn.Embedding; Dense / TimeDistributed(Dense) -> nn.Linear + its activation.
Consecutive recurrent layers of one kind and size become one multi-layer torch module. Settings
torch's modules cannot compute are refused, naming the layer and the setting.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from lstm_viz.keras_files import KerasFile
from lstm_viz.limits import MAX_HIDDEN, MAX_LAYERS
from lstm_viz.loaded import LoadedModel, summarize

_RECURRENT = {"LSTM": ("lstm", 4), "GRU": ("gru", 3), "SimpleRNN": ("rnn", 1)}
_TORCH = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
# layers that are the identity at inference (what predict computes)
_IDENTITY = {"Dropout", "SpatialDropout1D", "GaussianDropout", "GaussianNoise", "AlphaDropout"}
_ACTIVATIONS = {  # Keras name -> torch module (None: linear); each is the same formula
    "linear": None,
    "relu": nn.ReLU,
    "sigmoid": nn.Sigmoid,
    "tanh": nn.Tanh,
    "softmax": lambda: nn.Softmax(dim=-1),
}
_SUPPORTED = (
    "Embedding, LSTM, GRU, SimpleRNN, Bidirectional of those, Dropout, Dense and "
    "TimeDistributed(Dense)"
)


def refuse(name: str, what: str) -> ValueError:
    return ValueError(f"layer {name!r}: {what}")


def convert(kf: KerasFile) -> LoadedModel:
    """The torch model of a Keras file (see the module docstring); ValueError if it has none."""
    embedding, recs, head, notes, recognised = None, [], [], [], []
    for layer, ws in zip(kf.layers, kf.weights, strict=True):
        cls, cfg, name = layer["class_name"], layer["config"], layer["name"]
        if cls in _IDENTITY:
            recognised.append(f"{name}: {cls}, no effect at inference (as in predict)")
        elif cls == "Embedding":
            if recs or embedding is not None:
                raise refuse(name, "an Embedding must come first, before the recurrent layers")
            if cfg.get("mask_zero"):
                raise refuse(
                    name,
                    "mask_zero=True (masked steps keep the last state, which "
                    "nn.LSTM cannot do); save the model with mask_zero=False",
                )
            (w,) = _weights(name, ws, [None], "Embedding")
            embedding = nn.Embedding(*w.shape)
            embedding.weight.data.copy_(torch.from_numpy(w))
            recognised.append(f"{name}: Embedding({w.shape[0]}, {w.shape[1]})")
        elif cls in _RECURRENT or cls == "Bidirectional":
            if head:
                raise refuse(name, "a recurrent layer after a Dense layer is not supported")
            if recs and not recs[-1]["return_sequences"]:
                raise refuse(
                    recs[-1]["name"],
                    "return_sequences=False, but the next recurrent "
                    f"layer ({name!r}) reads a sequence; save it with True",
                )
            recs.append(_recurrent(name, cls, cfg, ws, notes))
            recognised.append(f"{name}: {recs[-1]['label']}")
        elif cls in ("Dense", "TimeDistributed", "Activation", "Softmax"):
            if not recs:
                raise refuse(name, f"a {cls} layer before the recurrent layers is not supported")
            head += _head_layer(name, cls, cfg, ws)
            recognised.append(f"{name}: {cls} (head)")
        else:
            raise refuse(name, f"{cls[:60]} layers are not supported; lstm_viz reads {_SUPPORTED}")
    if not recs:
        raise ValueError(
            f"the model has no LSTM, GRU or SimpleRNN layer; lstm_viz reads {_SUPPORTED}"
        )
    if len(recs) > MAX_LAYERS:
        raise ValueError(f"the model has {len(recs)} recurrent layers; the limit is {MAX_LAYERS}")
    width = embedding.embedding_dim if embedding is not None else recs[0]["input_size"]
    for r in recs:  # each layer must read what the one before writes
        if r["input_size"] != width:
            raise refuse(
                r["name"],
                f"its kernel reads {r['input_size']} features but the layer "
                f"before gives {width}; the config and weights do not match",
            )
        width = r["units"] * (2 if r["bidirectional"] else 1)
    for m in head:
        if isinstance(m, nn.Linear):
            if m.in_features != width:
                raise ValueError(
                    f"a Dense layer reads {m.in_features} features but gets {width}"
                    "; the config and weights do not match"
                )
            width = m.out_features
    groups = _groups(recs)
    returns = "every step" if recs[-1]["return_sequences"] else "last step"
    if returns == "last step":
        notes.append(
            "the Keras model returns only the last step (return_sequences=False); "
            "final_output(x) equals it, and the per-step predictions apply the head at "
            "every step, as return_sequences=True would"
        )
    if len(groups) > 1:
        notes.append(
            f"the recurrent layers form {len(groups)} torch modules (one per run of "
            "layers of one kind and size); .core is the top one, trace(x, group=k) "
            "traces another"
        )
    head_module = nn.Sequential(*head) if head else None
    model = LoadedModel(groups, embedding=embedding, head=head_module)
    for p in model.parameters():
        if not torch.isfinite(p).all():
            raise ValueError("the weights hold NaN or inf; retrain or re-save the model")
    kind = f"Keras {kf.keras_version} {kf.format} file".replace("  ", " ")
    model.summary = summarize(model, kind, recognised, [], notes, returns)
    return model


def _weights(name, ws, shapes, what) -> list[np.ndarray]:
    """The layer's arrays, checked against the shapes its config implies (None: any size)."""
    if len(ws) != len(shapes):
        raise refuse(
            name,
            f"{what} needs {len(shapes)} weight arrays, the file has {len(ws)} "
            "(weights missing or from another model)",
        )
    for w, shape in zip(ws, shapes, strict=True):
        want = shape if shape is not None else (None, None)
        if w.ndim != len(want) or any(
            a is not None and a != b for a, b in zip(want, w.shape, strict=True)
        ):
            shown = tuple("?" if a is None else a for a in want)
            raise refuse(
                name,
                f"a weight has shape {w.shape}, {what} needs {shown}; the config "
                "and weights do not match",
            )
    return list(ws)


def _setting(name, cfg, key, allowed, default):
    value = cfg.get(key, default)
    if value not in allowed:
        shown = value if isinstance(value, (str, int, float, bool)) else type(value).__name__
        raise refuse(
            name,
            f"{key}={shown!r} has no exact torch equivalent here (lstm_viz converts "
            f"{' or '.join(map(repr, allowed))}); retrain or re-save with one of those",
        )
    return value


def _recurrent(name, cls, cfg, ws, notes) -> dict:
    """One Keras recurrent layer as torch parameters per direction, after checking settings."""
    bidirectional = cls == "Bidirectional"
    inner = cfg
    if bidirectional:
        _setting(name, cfg, "merge_mode", ["concat"], "concat")
        layer = cfg.get("layer") if isinstance(cfg.get("layer"), dict) else {}
        cls, inner = layer.get("class_name", "?"), layer.get("config") or {}
        if cls not in _RECURRENT:
            raise refuse(
                name,
                f"Bidirectional({str(cls)[:40]}) is not supported; wrap an LSTM, GRU or SimpleRNN",
            )
        back = cfg.get("backward_layer")
        if isinstance(back, dict):  # Keras 3 records it; it must be the forward layer reversed
            same = ("units", "activation", "recurrent_activation", "use_bias", "reset_after")
            bc = back.get("config") or {}
            if back.get("class_name") != cls or any(bc.get(k) != inner.get(k) for k in same):
                raise refuse(
                    name,
                    "its backward layer differs from its forward layer; "
                    "torch's bidirectional modules use one kind and size",
                )
    kind, gates = _RECURRENT[cls]
    units = inner.get("units")
    if not isinstance(units, int) or not 1 <= units <= MAX_HIDDEN:
        raise refuse(name, f"units={units!r}; the app takes 1..{MAX_HIDDEN}")
    for key in ("stateful", "return_state", "time_major"):
        _setting(name, inner, key, [False], False)
    if not bidirectional:
        _setting(name, inner, "go_backwards", [False], False)
    act = _setting(
        name, inner, "activation", ["tanh", "relu"] if kind == "rnn" else ["tanh"], "tanh"
    )
    if kind != "rnn":
        _setting(name, inner, "recurrent_activation", ["sigmoid"], "sigmoid")
    if kind == "gru":
        _setting(name, inner, "reset_after", [True], True)
    bias = _setting(name, inner, "use_bias", [True, False], True)
    if inner.get("dropout") or inner.get("recurrent_dropout"):
        notes.append(f"{name}: dropout has no effect at inference (as in predict)")
    n_dir = 2 if bidirectional else 1
    per_dir = 3 if bias else 2
    if len(ws) != n_dir * per_dir:
        raise refuse(
            name,
            f"{cls} needs {n_dir * per_dir} weight arrays, the file has "
            f"{len(ws)} (weights missing or from another model)",
        )
    params = []
    for d in range(n_dir):
        w = ws[d * per_dir : (d + 1) * per_dir]
        g = gates * units
        bias_shape = [(2, g) if kind == "gru" else (g,)] if bias else []
        k, r, *b = _weights(name, w, [(None, g), (units, g), *bias_shape], f"{cls}({units})")
        params.append(_to_torch(kind, units, k, r, b[0] if b else None))
    label = f"{cls}({units}" + (f", {act}" if kind == "rnn" else "") + ")"
    return dict(
        name=name, kind=kind, units=units, bias=bias, nonlinearity=act, params=params,
        bidirectional=bidirectional, input_size=int(ws[0].shape[0]),
        return_sequences=bool(inner.get("return_sequences", False)),
        label=f"Bidirectional({label})" if bidirectional else label,
    )  # fmt: skip


def _to_torch(kind, units, kernel, recurrent, bias) -> dict[str, torch.Tensor]:
    """Keras's (in, G*H) kernels as torch's (G*H, in) weights, gates in torch's order."""
    h = units
    order = np.arange(kernel.shape[1])
    if kind == "gru":  # Keras z, r, h -> torch r, z, n
        order = np.concatenate([order[h : 2 * h], order[:h], order[2 * h :]])
    out = {
        "weight_ih": torch.from_numpy(np.ascontiguousarray(kernel[:, order].T)),
        "weight_hh": torch.from_numpy(np.ascontiguousarray(recurrent[:, order].T)),
    }
    if bias is not None:
        if kind == "gru":  # row 0: input bias, row 1: recurrent bias (inside r * (...))
            out["bias_ih"], out["bias_hh"] = (
                torch.from_numpy(bias[j, order].copy()) for j in (0, 1)
            )
        else:  # torch adds bias_ih + bias_hh: Keras's single bias and a zero
            out["bias_ih"] = torch.from_numpy(bias[order].copy())
            out["bias_hh"] = torch.zeros(bias.shape[0])
    return out


def _groups(recs: list[dict]) -> list[nn.Module]:
    """Runs of layers one multi-layer torch module computes exactly (same kind, size, direction,
    bias and nonlinearity), each built and filled from the converted parameters."""
    runs: list[list[dict]] = []
    key = lambda r: (r["kind"], r["units"], r["bidirectional"], r["bias"], r["nonlinearity"])  # noqa: E731
    for r in recs:
        if runs and key(runs[-1][-1]) == key(r):
            runs[-1].append(r)
        else:
            runs.append([r])
    modules = []
    for run in runs:
        first = run[0]
        extra = {"nonlinearity": first["nonlinearity"]} if first["kind"] == "rnn" else {}
        module = _TORCH[first["kind"]](
            first["input_size"], first["units"], len(run), bias=first["bias"], batch_first=True,
            bidirectional=first["bidirectional"], **extra,
        )  # fmt: skip
        state = {}
        for k, r in enumerate(run):
            for d, params in enumerate(r["params"]):
                for pname, t in params.items():
                    state[f"{pname}_l{k}" + ("_reverse" if d else "")] = t
        module.load_state_dict(state)  # strict: a missing or extra tensor is a bug here
        modules.append(module.float().eval())
    return modules


def _head_layer(name, cls, cfg, ws) -> list[nn.Module]:
    """A Dense (per step), TimeDistributed(Dense), Activation or Softmax as torch modules."""
    if cls == "TimeDistributed":
        inner = cfg.get("layer") if isinstance(cfg.get("layer"), dict) else {}
        if inner.get("class_name") != "Dense":
            raise refuse(
                name,
                f"TimeDistributed({str(inner.get('class_name'))[:40]}) is not "
                "supported; only TimeDistributed(Dense)",
            )
        return _head_layer(name, "Dense", inner.get("config") or {}, ws)
    if cls == "Softmax":
        _setting(name, cfg, "axis", [-1], -1)
        return [nn.Softmax(dim=-1)]
    act = _setting(name, cfg, "activation", list(_ACTIVATIONS), "linear")
    out = []
    if cls == "Dense":
        bias = _setting(name, cfg, "use_bias", [True, False], True)
        shapes = [(None, None), (None,)] if bias else [(None, None)]
        k, *b = _weights(name, ws, shapes, "Dense")
        if b and b[0].shape[0] != k.shape[1]:
            raise refuse(name, f"bias has {b[0].shape[0]} values for {k.shape[1]} outputs")
        lin = nn.Linear(*k.shape, bias=bias)
        lin.weight.data.copy_(torch.from_numpy(np.ascontiguousarray(k.T)))
        if b:
            lin.bias.data.copy_(torch.from_numpy(b[0]))
        out.append(lin)
    if _ACTIVATIONS[act] is not None:
        out.append(_ACTIVATIONS[act]())
    return out
