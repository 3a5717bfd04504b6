"""`trace_model`: run the user's own model once and trace every LSTM / GRU / RNN inside it.

Like TransformerLens's `run_with_cache`, for recurrent cores: a forward hook on each
`nn.LSTM` / `nn.GRU` / `nn.RNN` of the model sees exactly what that core received (input and
initial state) and traces it with `lstm_viz.trace`, so the gates are the ones tracing the core alone
on that input gives. With interventions, the hook replaces the core's output and final state with
the clamped trace's, so everything after the core (a head, a decoder, a second core) computes from
the clamped hidden state.

Hooks are global state on the user's modules: every hook is removed in `finally`, also when the
forward raises, and a core's own hooks are removed before `trace` runs on it (trace must see a
plain module; it never calls the module's forward, so nothing recurses).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence

from lstm_viz.interventions import Clamp
from lstm_viz.trace import trace
from lstm_viz.trace_result import LSTMTrace

CORES = (nn.LSTM, nn.GRU, nn.RNN)


def trace_model(
    model: nn.Module,
    *inputs: Any,
    interventions: Mapping[str, Sequence[Clamp]] | None = None,
    **kwargs: Any,
) -> tuple[Any, dict[str, LSTMTrace]]:
    """Run `model(*inputs, **kwargs)` once; return (its output, {core name: LSTMTrace}).

    Names are those of `model.named_modules()` (e.g. "encoder.lstm"; "" if the model is itself a
    core). interventions: {core name: [lstm_viz.Clamp, ...]}; each core's clamps act inside its
    recurrence and the rest of the model runs on from the clamped output.

    The model runs in eval mode (no dropout) without gradients, as `lstm_viz.trace` does, and its
    mode is restored afterwards. A `PackedSequence` is unpacked and each sequence traced to its own
    length: the trace then has a batch axis padded to the longest sequence, with NaN in every state
    past a sequence's end (and 0 in `output`, as `pad_packed_sequence` gives); clamp steps past a
    sequence's end are skipped for that sequence. A core that runs more than once in one forward
    (e.g. a step-by-step decoding loop) is refused: trace it with `lstm_viz.trace` on the whole
    sequence instead.
    """
    if not isinstance(model, nn.Module):
        raise ValueError(
            f"trace_model takes a torch.nn.Module, got {type(model).__name__}; "
            "for arrays, build the model first (or use lstm_viz.trace on an nn.LSTM)"
        )
    cores = {name: m for name, m in model.named_modules() if isinstance(m, CORES)}
    if not cores:
        raise ValueError(
            f"{type(model).__name__} holds no nn.LSTM, nn.GRU or nn.RNN; trace_model traces "
            "those cores (register the core as a submodule, e.g. self.lstm = nn.LSTM(...))"
        )
    clamps = _check_interventions(interventions, cores)
    traces: dict[str, LSTMTrace] = {}
    handles: dict[str, Any] = {}

    def hook_for(name: str, core: nn.Module):
        def hook(module, args, kw, output):
            handles.pop(name).remove()  # trace sees the core without our hook
            x, state = _received(args, kw)
            tr = _trace_call(core, x, state, clamps.get(name, []))
            traces[name] = tr
            # registered only after trace returned: a second call is refused, not missed
            handles[name] = core.register_forward_pre_hook(again(name))
            return _replace(output, tr, x) if name in clamps else None

        return hook

    def again(name: str):
        def refuse(module, args):
            raise ValueError(
                f"{name or 'the model'} ran more than once in one forward (e.g. a decoding "
                "loop); trace_model traces one call per core: trace that core with "
                "lstm_viz.trace on the whole sequence instead"
            )

        return refuse

    modes = [(m, m.training) for m in model.modules()]
    try:
        for name, core in cores.items():
            handles[name] = core.register_forward_hook(hook_for(name, core), with_kwargs=True)
        model.eval()
        with torch.no_grad():
            output = model(*inputs, **kwargs)
    finally:
        for handle in handles.values():
            handle.remove()
        for m, training in modes:
            m.training = training
    missing = [n for n in clamps if n not in traces]
    if missing:
        raise ValueError(
            f"interventions name {missing}, which did not run in this forward; "
            f"the cores that ran are {sorted(traces)}"
        )
    return output, traces


def _check_interventions(interventions, cores: dict) -> dict[str, list[Clamp]]:
    """{core name: clamps}, or a ValueError naming the cores there are."""
    if interventions is None:
        return {}
    if not isinstance(interventions, Mapping):
        raise ValueError(
            "trace_model takes interventions per core name, e.g. "
            f"interventions={{{next(iter(cores))!r}: [lstm_viz.Clamp('forget', 0.0)]}}"
        )
    out = {}
    for name, clamps in interventions.items():
        if name not in cores:
            raise ValueError(
                f"no recurrent core named {name!r} in the model; its cores are {sorted(cores)}"
            )
        if isinstance(clamps, Clamp):
            clamps = [clamps]
        out[name] = list(clamps)
    return out


def _received(args: tuple, kw: dict) -> tuple[Any, Any]:
    """(input, hx) as the core's forward(input, hx=None) was called."""
    x = kw["input"] if "input" in kw else args[0]
    state = kw["hx"] if "hx" in kw else (args[1] if len(args) > 1 else None)
    return x, state


def _trace_call(core: nn.Module, x, state, clamps: list[Clamp]) -> LSTMTrace:
    if not isinstance(x, PackedSequence):
        return trace(core, x, state=state, interventions=clamps or None)
    return _trace_packed(core, x, state, clamps)


def _trace_packed(core: nn.Module, x: PackedSequence, state, clamps: list[Clamp]) -> LSTMTrace:
    """Each sequence traced to its own length, then padded into one batched trace."""
    padded, lengths = pad_packed_sequence(x, batch_first=True)  # (B, T, F), original order
    b, t_max = padded.shape[:2]
    is_lstm = isinstance(core, nn.LSTM)
    parts = []
    for k in range(b):
        n = int(lengths[k])
        own = _state_of(state, k, is_lstm)
        mine = [_clip(c, n) for c in clamps]
        mine = [c for c in mine if c is not None]
        parts.append(trace(core, padded[k, :n], state=own, interventions=mine or None))
    first = parts[0]

    def pad(a: np.ndarray, n: int, fill) -> np.ndarray:  # (..., n, U) -> (..., t_max, U)
        wide = np.full((*a.shape[:-2], t_max, a.shape[-1]), fill, dtype=a.dtype)
        wide[..., :n, :] = a
        return wide

    states = {
        name: np.stack(
            [pad(p.states[name][:, :, 0], p.steps, np.nan) for p in parts], axis=2
        )  # (L, D, B, T, U)
        for name in first.names
    }
    masks = {}
    for name in {m for p in parts for m in p.clamp_masks}:
        masks[name] = np.any(
            [pad(p.clamp_masks[name], p.steps, False) for p in parts if name in p.clamp_masks],
            axis=0,
        )
    output = np.stack([pad(p.output, p.steps, 0) for p in parts])  # (B, T, D*H_out)
    if not core.batch_first:
        output = output.swapaxes(0, 1)
    h_n = np.stack([p.final_state[0] if is_lstm else p.final_state for p in parts], axis=1)
    final = (h_n, np.stack([p.final_state[1] for p in parts], axis=1)) if is_lstm else h_n
    return LSTMTrace(
        kind=first.kind,
        config=first.config,
        states=states,
        output=output,
        final_state=final,
        batched=True,
        clamp_masks=masks,
    )


def _state_of(state, k: int, is_lstm: bool):
    """Sequence k's initial state, unbatched ((L*D, H) each), from the core's (L*D, B, H)."""
    if state is None:
        return None
    if is_lstm:
        return tuple(s[:, k] for s in state)
    return state[:, k]


def _clip(clamp: Clamp, n: int) -> Clamp | None:
    """The clamp restricted to a sequence of n steps (None if it touches none of them)."""
    if clamp.steps is None:
        return clamp
    steps = [s for s in clamp.steps if s < n]
    return dataclasses.replace(clamp, steps=steps) if steps else None


def _replace(output, tr: LSTMTrace, x):
    """The core's (output, state) rebuilt from the clamped trace, in the core's own types."""
    out, state = output
    h_ref = state[0] if isinstance(state, tuple) else state
    as_t = lambda a: torch.tensor(np.asarray(a), dtype=h_ref.dtype)  # noqa: E731
    if isinstance(x, PackedSequence):
        # repack in the original packing order so the rest of the model sees the same layout
        padded = as_t(tr.output)
        assert padded.dim() == 3, "a packed trace is always batched"
        _, lengths = pad_packed_sequence(x, batch_first=True)
        batch_first = padded if tr.config["batch_first"] else padded.transpose(0, 1)
        order = x.sorted_indices if x.sorted_indices is not None else torch.arange(len(lengths))
        packed = pack_padded_sequence(batch_first[order], lengths[order], batch_first=True)
        new_out = PackedSequence(
            packed.data, packed.batch_sizes, x.sorted_indices, x.unsorted_indices
        )
    else:
        new_out = as_t(tr.output)
    if isinstance(state, tuple):
        return new_out, (as_t(tr.final_state[0]), as_t(tr.final_state[1]))
    return new_out, as_t(tr.final_state)
