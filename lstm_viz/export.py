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


def figure_html(fig: go.Figure, title: str = "lstm_viz figure") -> str:
    """A standalone interactive HTML page with plotly.js inlined: it works with no network."""
    return fig.to_html(
        include_plotlyjs=True,
        full_html=True,
        config={"displaylogo": False, "responsive": True},
        div_id="lstm-viz-figure",
    ).replace("<head>", f"<head><title>{_text(title)}</title>", 1)


def _text(s: str) -> str:
    import html

    return html.escape(s, quote=True)
