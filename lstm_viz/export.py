"""Exports: a trace as .npz or as a long-format CSV, a figure as one offline HTML file.

CSV columns: step, token, layer, direction, name, unit, value: one row per number, so a
spreadsheet or `pandas.read_csv(...).pivot(...)` can slice it any way. Values are written with
repr (exact); token cells that a spreadsheet would run as formulas are neutralised (OWASP);
exports past MAX_EXPORT_ROWS are refused with the .npz export as the way out.
"""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path
from typing import TextIO

import plotly.graph_objects as go

from lstm_viz.checks import whole_number
from lstm_viz.limits import MAX_EXPORT_ROWS
from lstm_viz.trace_result import LSTMTrace

CSV_HEADER = ["step", "token", "layer", "direction", "name", "unit", "value"]
_FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets read as the start of a formula
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def csv_rows(tr: LSTMTrace) -> int:
    """Rows (numbers) a CSV export of `tr` would have, without building it."""
    per_step = sum(tr.units(n) for n in tr.names) * tr.num_layers * tr.num_directions
    return tr.steps * per_step


def write_trace_csv(tr: LSTMTrace, out: TextIO, max_rows: int = MAX_EXPORT_ROWS) -> int:
    """Write every value of a one-sequence trace to `out` (see the module docstring), a step
    at a time, so a file on disk never needs a second copy in memory. Returns the row count.

    More than `max_rows` rows (1,000,000 by default, about 43 MB) is refused before anything
    is written: the .npz export holds the same numbers, compressed."""
    if tr.batched:
        raise ValueError("export one sequence at a time: trace a (T, F) input, not a batch")
    rows = csv_rows(tr)
    if rows > max_rows:
        raise ValueError(
            f"this trace makes a CSV of {rows:,} rows (one per number); the limit is "
            f"{max_rows:,}: export it as .npz instead (all values, compressed), or trace "
            "fewer steps"
        )
    tokens = [_template(_cell(s)) for s in (tr.labels or [""] * tr.steps)]
    out.write(",".join(CSV_HEADER) + "\n")
    for layer in range(tr.num_layers):
        for d in range(tr.num_directions):
            for name in tr.names:
                values = tr.gate(name, layer, d).tolist()  # (T, U) Python floats: repr is exact
                units = [f"{u},%r\n" for u in range(len(values[0]))]
                tag = f"{layer},{d},{_template(_cell(name))},"
                # rows step-major: all units of step 0, then step 1, ...; each step's rows are
                # one %-format of a template "t,token,layer,d,name,u,%r\n" per unit
                for t, row in enumerate(values):
                    head = f"{t},{tokens[t]},{tag}"
                    out.write((head + head.join(units)) % tuple(row))
    return rows


def trace_csv(tr: LSTMTrace, max_rows: int = MAX_EXPORT_ROWS) -> str:
    """Every value of a one-sequence trace, one per row, as text (see `write_trace_csv`)."""
    out = io.StringIO()
    write_trace_csv(tr, out, max_rows)
    return out.getvalue()


def _cell(text: str) -> str:
    """One CSV cell: a cell a spreadsheet would run as a formula (starting with = + - @, tab or
    CR) gets a leading ' as OWASP recommends, unless it is a plain number such as -0.5; then
    quoted as the csv module would (commas, quotes, line breaks)."""
    if text[:1] in _FORMULA and not _NUMBER.fullmatch(text):
        text = "'" + text
    if any(c in text for c in ',"\n\r'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def _template(cell: str) -> str:
    return cell.replace("%", "%%")  # the cell goes into a %-format template


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
