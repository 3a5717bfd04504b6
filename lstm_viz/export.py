"""Exports: a trace as .npz or as a long-format CSV, a figure as one offline HTML file.

CSV columns: step, token, layer, direction, name, unit, value: one row per number, so a
spreadsheet or `pandas.read_csv(...).pivot(...)` can slice it any way.
"""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import numpy as np
import plotly.graph_objects as go

from lstm_viz.checks import whole_number
from lstm_viz.trace_result import LSTMTrace

CSV_HEADER = ["step", "token", "layer", "direction", "name", "unit", "value"]


def trace_csv(tr: LSTMTrace) -> str:
    """Every value of a one-sequence trace, one per row (see the module docstring)."""
    if tr.batched:
        raise ValueError("export one sequence at a time: trace a (T, F) input, not a batch")
    labels = tr.labels or [""] * tr.steps
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    steps = np.arange(tr.steps)
    for layer in range(tr.num_layers):
        for d in range(tr.num_directions):
            for name in tr.names:
                values = tr.gate(name, layer, d)  # (T, U)
                units = np.arange(values.shape[1])
                # rows step-major: all units of step 0, then step 1, ...
                for t in steps:
                    token = labels[t]
                    writer.writerows(
                        (t, token, layer, d, name, u, repr(float(v)))
                        for u, v in zip(units, values[t], strict=True)
                    )
    return out.getvalue()


def trace_npz(tr: LSTMTrace) -> bytes:
    """The trace as the bytes of the .npz that `LSTMTrace.save` writes (read back with `load`)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trace.npz"
        tr.save(path)
        return path.read_bytes()


def figure_html(fig: go.Figure, title: str = "lstm_viz figure", step: int | None = None) -> str:
    """A standalone interactive HTML page with plotly.js inlined: it works with no network.

    step: for a heatmap figure (`figures.gate_heatmaps`), box this step as the app's marker does,
    so the exported page shows where the user was (the step must be one the figure draws).
    """
    if step is not None:
        fig = with_step_marker(fig, step)
    return fig.to_html(
        include_plotlyjs=True,
        full_html=True,
        config={"displaylogo": False, "responsive": True},
        div_id="lstm-viz-figure",
    ).replace("<head>", f"<head><title>{_text(title)}</title>", 1)


def with_step_marker(fig: go.Figure, step: int) -> go.Figure:
    """A copy of a heatmap figure with the step marker on `step` (any earlier marker replaced).

    The time axis holds categories "step · label" for the steps drawn (a window may start past 0),
    so the marker's place is found from the step number, not assumed from it.
    """
    step = whole_number(step, "step")
    fig = go.Figure(fig)
    # gate_heatmaps' time axis: categories "12 · token" (another heatmap's x is not steps)
    times = next((t.x for t in fig.data if t.type == "heatmap" and t.x is not None), ())
    if len(times) == 0 or not all(isinstance(c, str) and " · " in c for c in times):
        raise ValueError("only a heatmap figure (figures.gate_heatmaps) takes a step marker")
    where = [k for k, c in enumerate(times) if str(c).split(" · ", 1)[0] == str(step)]
    if not where:
        first, last = (str(times[k]).split(" · ", 1)[0] for k in (0, -1))
        raise ValueError(f"step {step} is not drawn in this figure; pick one in {first}..{last}")
    k = where[0]
    shapes = [s for s in fig.layout.shapes if not _is_marker(s)]
    marker = dict(type="rect", xref="x", yref="paper", x0=k - 0.5, x1=k + 0.5, y0=0, y1=1)
    fig.layout.shapes = [*shapes, dict(**marker, line=dict(color="black", width=1.5))]
    return fig


def _is_marker(shape) -> bool:
    """The box `figures.gate_heatmaps` draws for its `step` (full height, on the time axis)."""
    return shape.type == "rect" and shape.yref == "paper" and shape.y0 == 0 and shape.y1 == 1


def _text(s: str) -> str:
    import html

    return html.escape(s, quote=True)
