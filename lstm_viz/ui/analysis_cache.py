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
from lstm_viz.tasks import cue
from lstm_viz.trace_result import LSTMTrace
from lstm_viz.ui.budget_cache import cached
from lstm_viz.ui.place import ClampSpec  # noqa: F401  (views build clamps from here)


def core_input(model, x: np.ndarray):
    """What `model(...)` takes: the raw ids / values for a SequenceModel, a float tensor for a
    bare nn.LSTM / GRU / RNN (as `loaders.run_trace` feeds it)."""
    if hasattr(model, "trace"):  # a SequenceModel or a loaded whole model encodes its input
        return x
    return torch.as_tensor(np.asarray(x, dtype=np.float32))


@cached(max_entries=16)
def intervened(
    trace_id: str, _model, x: np.ndarray, labels: tuple[str, ...], spec: tuple[ClampSpec, ...]
) -> tuple[LSTMTrace, np.ndarray | None]:
    """(trace, per-step outputs or None) of the model with the clamps of `spec` applied."""
    clamps = [c.clamp() for c in spec]
    if hasattr(_model, "trace"):
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


@cached(max_entries=32)
def null_band(
    trace_id: str,
    _tr: LSTMTrace,
    signal: np.ndarray,
    names: tuple[str, ...],
    layer: int,
    direction: int,
) -> analysis.NullBand:
    """How large the best |r| over those units gets by chance for this signal on this input
    (`analysis.unit_null`: the signal shifted circularly), and its time-passing and too-short
    flags."""
    return analysis.unit_null(_tr, signal, names, layer, direction)


def cue_step(labels: list[str], extra: dict) -> int | None:
    """The cue's step on a cue-task model (from its config.extra), else None."""
    return cue.cue_step(labels, extra.get("cue_answer") or {})


def answer_step(labels: list[str], extra: dict) -> int | None:
    """The step where a cue-task model must answer (its query step), else None."""
    return cue.query_step(labels, extra.get("cue_answer") or {})
