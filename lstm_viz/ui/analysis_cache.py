"""Cached analysis for the memory, intervene and find-a-cell views.

Everything a view needs beyond the trace itself (saliency, saturation, unit rankings, re-traces
with clamps) is computed here once per trace and choice, keyed by the trace's id (model + input)
and cached in the budgeted cache (`budget_cache`: a byte budget shared by every session, besides
the entry counts), so switching views or moving a slider back recomputes nothing.

Clamps travel as a `ClampSpec` (a hashable tuple) so the cache can key on them.
"""

from __future__ import annotations

import numpy as np
import torch

from lstm_viz import analysis
from lstm_viz.cells import SIGMOID_NAMES
from lstm_viz.models import SequenceModel
from lstm_viz.trace_result import LSTMTrace
from lstm_viz.ui.budget_cache import cached
from lstm_viz.ui.place import ClampSpec  # noqa: F401  (views build clamps from here)


def core_input(model, x: np.ndarray):
    """What `model(...)` takes: the raw ids / values for a SequenceModel, a float tensor for a
    bare nn.LSTM / GRU / RNN (as `loaders.run_trace` feeds it)."""
    if isinstance(model, SequenceModel):
        return x
    return torch.as_tensor(np.asarray(x, dtype=np.float32))


@cached(max_entries=16)
def intervened(
    trace_id: str, _model, x: np.ndarray, labels: tuple[str, ...], spec: tuple[ClampSpec, ...]
) -> tuple[LSTMTrace, np.ndarray | None]:
    """(trace, per-step outputs or None) of the model with the clamps of `spec` applied."""
    clamps = [c.clamp() for c in spec]
    if isinstance(_model, SequenceModel):
        return _model.trace(x, interventions=clamps, labels=list(labels))
    from lstm_viz.trace import trace

    return trace(_model, core_input(_model, x), interventions=clamps, labels=list(labels)), None


@cached(max_entries=64)
def saliency_curve(trace_id: str, _model, x: np.ndarray, step: int) -> np.ndarray:
    """(T,) |d output(step) / d core input(s)| (the output's largest component)."""
    return analysis.saliency(_model, core_input(_model, x), step)


@cached(max_entries=16)
def saturation_all(
    trace_id: str, _tr: LSTMTrace, layer: int, direction: int
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name -> (share of steps below 0.1, above 0.9) per unit, for every sigmoid gate."""
    names = [n for n in _tr.names if n in SIGMOID_NAMES]
    return {n: analysis.saturation(_tr, n, layer, direction) for n in names}


@cached(max_entries=32)
def ranking(
    trace_id: str,
    _tr: LSTMTrace,
    signal: np.ndarray,
    names: tuple[str, ...],
    layer: int,
    direction: int,
) -> list[tuple[str, int, float]]:
    """(name, unit, r) over every name's units, by |r| descending: `analysis.unit_search` run on
    each name and merged (ties keep the names' order)."""
    rows = [
        (name, unit, r)
        for name in names
        for unit, r in analysis.unit_search(_tr, signal, name, layer, direction)
    ]
    return sorted(rows, key=lambda row: -abs(row[2]))


def memory_share(
    tr: LSTMTrace, layer: int, step: int, direction: int = 0
) -> tuple[np.ndarray, np.ndarray, str, int]:
    """(kept (S, H), written (S, H), gate, first step) of the state that carries memory.

    LSTM: c_t = f_t c_(t-1) + i_t g_t, so what was written at s is i_s g_s and the share of it
    left at `step` is the product of the forget gates in between (`analysis.retention`).
    GRU: h_t = z_t h_(t-1) + (1 - z_t) n_t has the same form with the update gate z as the
    forget gate and (1 - z_s) n_s as the write. Either way, from the zero state,
    sum_s kept[s] * written[s] is exactly the state at `step` (tests check this).
    A plain RNN has no such gate: raises ValueError.
    """
    if tr.kind == "lstm":
        kept = analysis.retention(tr, layer, step, direction)
        write = tr.gate("input", layer, direction) * tr.gate("candidate", layer, direction)
        gate = "forget"
    elif tr.kind == "gru":
        z = tr.gate("update", layer, direction)  # (T, H)
        if not 0 <= step < tr.steps:
            raise ValueError(f"step {step} out of range; the trace has steps 0..{tr.steps - 1}")
        ones = np.ones((1, z.shape[1]))
        if direction == 0:  # row s: prod z_(s+1..step), as analysis.retention does for f
            kept = np.cumprod(np.vstack([ones, z[1 : step + 1][::-1]]), axis=0)[::-1]
        else:  # row s (from step): prod z_(step..s-1)
            kept = np.cumprod(np.vstack([ones, z[step : tr.steps - 1]]), axis=0)
        write = (1.0 - z) * tr.gate("new", layer, direction)
        gate = "update"
    else:
        raise ValueError(
            "a plain RNN has no gate that keeps a value: its memory is spread through the "
            "recurrent weights, so there is no exact share kept to draw (see saliency below)"
        )
    first = 0 if direction == 0 else step
    written = write[first : first + kept.shape[0]]
    return kept, written, gate, first


def cue_step(labels: list[str], extra: dict) -> int | None:
    """The first step whose token is a cue (a name or town) on cue-task models, else None."""
    cues = extra.get("cue_answer")
    if not cues:
        return None
    return next((t for t, s in enumerate(labels) if s in cues), None)


def answer_step(labels: list[str], extra: dict) -> int | None:
    """The step where a cue model must answer: the token before the first answer after the cue
    (the model scores the answer there); the last step when the input stops at the query."""
    at = cue_step(labels, extra)
    if at is None:
        return None
    answers = set(extra["cue_answer"].values())
    found = next((t for t in range(at + 1, len(labels)) if labels[t] in answers), None)
    return found - 1 if found is not None else len(labels) - 1
