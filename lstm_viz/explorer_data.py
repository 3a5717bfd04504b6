"""What the gate explorer page carries: one layer and direction of a trace packed for its script.

`explorer_data` returns (data, figure): the heatmaps are the app's own figure
(`figures.gate_heatmaps`) with their values taken out; the values travel once, as float16 (float32
if they overflow it) in base64, with the labels, the clamped cells as bits and the carried state
just before the first step shown. The page around them is assembled in `explorer.py`.
"""

from __future__ import annotations

import base64
import json

import numpy as np
import plotly.io as pio

from lstm_viz import figures
from lstm_viz.checks import whole_number
from lstm_viz.trace_result import LSTMTrace

FLOAT16_MAX = 65504.0  # larger values are stored as float32 instead
LEAD = ("forget", "input", "candidate", "output")  # forget first, as the gates are usually taught


def map_names(tr: LSTMTrace) -> list[str]:
    """Maps drawn, in reading order; a projected LSTM shows h before the projection (the h of
    `h = o * tanh(c)`), which has the cell's units."""
    names = [n for n in LEAD if n in tr.names] + [n for n in tr.names if n not in LEAD]
    if "hidden_unprojected" in names:
        names.remove("hidden")
    return names


def explorer_data(
    tr: LSTMTrace,
    layer: int = 0,
    direction: int = 0,
    batch: int | None = None,
    units=None,
    window: tuple[int, int] | None = None,
    labels=None,
    state=None,
    step: int | None = None,
    row_height: int | None = None,
) -> tuple[dict, dict]:
    """(data, figure) for one layer and direction: data is what the script reads (values as
    float16 base64, labels, the state before the first step), figure the Plotly JSON without z."""
    if not isinstance(tr, LSTMTrace):
        raise ValueError(f"expected an lstm_viz.LSTMTrace, got {type(tr).__name__}")
    names = map_names(tr)
    full = {n: _one_sequence(tr, n, layer, direction, batch) for n in names}  # (T, U) each
    steps = _filled_steps(full)
    given = labels if labels is not None else tr.labels
    labels = [str(s) for s in given] if given is not None else [str(t) for t in range(steps)]
    if len(labels) < steps:
        raise ValueError(f"got {len(labels)} labels for {steps} steps; give one label per step")
    labels = labels[:steps]
    full = {n: v[:steps] for n, v in full.items()}
    start, stop = window if window is not None else (0, steps)
    if not (0 <= start < stop <= steps):
        raise ValueError(f"window {window} out of range; use 0 <= start < stop <= {steps}")
    n_units = full[names[0]].shape[1]
    units = list(range(n_units)) if units is None else [whole_number(u, "unit") for u in units]
    if not units or min(units) < 0 or max(units) >= n_units:
        raise ValueError(f"units must be a non-empty list in 0..{n_units - 1}")
    step = start if step is None else whole_number(step, "step")
    if not start <= step < stop:
        raise ValueError(f"step {step} is outside the steps shown ({start}..{stop - 1})")
    clamped = {n: tr.clamped(n, layer, direction)[:steps] for n in names if n in tr.clamp_masks}
    # no marker shape: the page draws its own, which it can move without a Plotly redraw
    fig = figures.gate_heatmaps(full, labels, units, (start, stop), None, clamped, row_height)
    figure = _without_values(fig)
    kind = tr.kind
    carried = "cell" if kind == "lstm" else "hidden"  # what the equation needs from t-1
    data = {
        "kind": kind,
        "nonlinearity": tr.config.get("nonlinearity", "tanh"),
        "projected": bool(tr.config.get("proj_size")),
        "layer": layer,
        "direction": direction,
        "start": start,
        "steps": stop - start,
        "units": units,
        "names": names,
        "labels": labels[start:stop],
        "step": step,
        "values": {n: _pack(full[n][start:stop][:, units]) for n in names},
        "clamped": {n: _bits(m[start:stop][:, units]) for n, m in clamped.items() if m.any()},
        "carried": carried,
        "before": _before(tr, full, carried, layer, direction, batch, start, stop, units, state),
    }
    return data, figure


# ---- pieces ------------------------------------------------------------------------------------
def _one_sequence(tr: LSTMTrace, name: str, layer, direction, batch) -> np.ndarray:
    values = tr.gate(name, layer, direction)
    if not tr.batched:
        if batch not in (None, 0):
            raise ValueError(f"this trace holds one sequence; use batch=0, not {batch}")
        return values
    b = 0 if batch is None else whole_number(batch, "batch")
    if not 0 <= b < tr.batch_size:
        raise ValueError(f"batch {b} out of range; the trace holds {tr.batch_size} sequences")
    return values[b]


def _filled_steps(full: dict) -> int:
    """Steps up to the last one with any value: a packed sequence's padding (NaN) is cut off."""
    filled = np.zeros(next(iter(full.values())).shape[0], dtype=bool)
    for v in full.values():
        filled |= ~np.isnan(v).all(axis=1)
    if not filled.any():
        raise ValueError("this sequence has no values (all NaN); pick another batch index")
    return int(np.flatnonzero(filled)[-1]) + 1


def _before(tr, full, carried, layer, direction, batch, start, stop, units, state) -> list[float]:
    """The carried state just before the first step read: the step before the window in reading
    order, or the initial state (zeros unless `state` is given) at the sequence's edge."""
    values = full[carried]
    inside = start - 1 if direction == 0 else stop
    if 0 <= inside < len(values):
        return [float(v) for v in values[inside, units]]
    if state is None:
        return [0.0] * len(units)
    part = state if tr.kind != "lstm" else state[1 if carried == "cell" else 0]
    part = np.asarray(part.detach() if hasattr(part, "detach") else part, dtype=np.float64)
    k = layer * tr.num_directions + direction
    want = (tr.num_layers * tr.num_directions, values.shape[1])
    if part.ndim == 3:  # a batched state: this sequence's
        part = part[:, batch or 0]
    if part.shape != want:
        raise ValueError(f"state has shape {part.shape}; expected {want} as the module takes it")
    return [float(v) for v in part[k, units]]


def _pack(values: np.ndarray) -> dict:
    """(W, U) values as little-endian float16 (float32 if they overflow it), base64."""
    finite = values[np.isfinite(values)]
    big = finite.size and float(np.abs(finite).max()) > FLOAT16_MAX
    dtype = "<f4" if big else "<f2"
    raw = np.ascontiguousarray(values, dtype=dtype).tobytes()
    return {"dtype": dtype[1:], "b64": base64.b64encode(raw).decode("ascii")}


def _bits(mask: np.ndarray) -> str:
    """(W, U) bool as packed bits (row-major, most significant bit first), base64."""
    return base64.b64encode(np.packbits(mask.ravel()).tobytes()).decode("ascii")


def _without_values(fig) -> dict:
    """The figure as plain JSON without heatmap values (the script fills them in) and with
    hover at the 3 decimals the stored float16 values carry."""
    spec = json.loads(pio.to_json(fig, validate=False))
    for t in spec["data"]:
        if t.get("type") == "heatmap":
            t["z"] = []
            t["hovertemplate"] = t["hovertemplate"].replace(":.4f}", ":.3f}")
    return spec
