"""Units ranked against a signal: the signal on top, one heatmap row per ranked unit, and beside
the rows each unit's |r| with the band chance reaches on the same input (`lstm_viz.unit_null`).

Arrays and labels in, `go.Figure` out; nothing here knows about models or Streamlit.
"""

from __future__ import annotations

import math

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lstm_viz.figures.style import DIVERGING, LINE, MUTED, base_layout, safe, step_categories

CHANCE = "rgba(150, 150, 150, 0.35)"  # the chance band behind the |r| bars


def ranked_units_figure(
    signal: np.ndarray,
    signal_name: str,
    rows: list[tuple[str, np.ndarray]],
    labels: list[str],
    window: tuple[int, int] | None = None,
    scores: list[float] | None = None,
    band: float | None = None,
    quantile: float = 0.95,
) -> go.Figure:
    """The signal on top, then one row per ranked unit (title, (T,) values) over the steps.

    Each row is scaled to its own largest |value| so every unit's shape shows; hover gives the
    raw value. The signal is scaled to 0..1 the same way. With `scores` (each row's r), a narrow
    panel on the right draws |r| per row, and with `band` (the best |r| chance reaches, at
    `quantile`) a grey band from 0 to it: a bar inside the band is no better than chance. A band
    of nan means the input is too short to tell, and the panel says so.
    """
    if scores is not None and len(scores) != len(rows):
        raise ValueError(f"scores: one r per row ({len(rows)}), got {len(scores)}")
    start, stop = window or (0, len(labels))
    names = [f"signal: {safe(signal_name, 30)}"] + [safe(t, 40) for t, _ in rows]
    raw = np.vstack([np.asarray(signal, np.float64)] + [np.asarray(v, np.float64) for _, v in rows])
    raw = raw[:, start:stop]
    peak = np.maximum(np.abs(raw).max(axis=1, keepdims=True), 1e-12)
    z = raw / peak  # (rows, W) in -1..1
    cats = step_categories(labels[start:stop], start)
    heat = go.Heatmap(
        z=z.astype(np.float32),
        x=cats,
        y=names,
        customdata=raw.astype(np.float32),
        colorscale=DIVERGING,
        zmin=-1,
        zmax=1,
        ygap=2,
        colorbar=dict(title=dict(text="value / row max", side="right"), thickness=10),
        hovertemplate="step %{x}<br>%{y}<br>value %{customdata:.4g}<extra></extra>",
    )
    if scores is None:
        fig = go.Figure(heat)
    else:
        fig = make_subplots(
            rows=1, cols=2, shared_yaxes=True, column_widths=[0.85, 0.15], horizontal_spacing=0.02
        )
        fig.add_trace(heat, row=1, col=1)
        _r_panel(fig, names[1:], np.abs(np.asarray(scores, np.float64)), band, quantile)
    chars = all(len(str(s)) == 1 for s in labels[start:stop])  # a character model: upright
    every = max(1, int(np.ceil(len(cats) / (100 if chars else 40))))
    fig.update_layout(
        **base_layout(90 + 26 * len(names), ""),
        xaxis=dict(
            type="category",
            tickvals=cats[::every],
            ticktext=[safe(s, 8) for s in labels[start:stop][::every]],
            tickangle=0 if chars else -60,
            fixedrange=True,
        ),
        yaxis=dict(type="category", autorange="reversed", fixedrange=True),
    )
    fig.update_layout(margin=dict(l=170, r=24, t=16 if scores is None else 30, b=56))
    return fig


def _r_panel(fig: go.Figure, names: list[str], r: np.ndarray, band: float | None, q: float):
    """|r| bars per ranked row in column 2, and the chance band behind them."""
    known = band is not None and math.isfinite(band)
    above = r > band if known else np.zeros(len(r), bool)
    fig.add_trace(
        go.Bar(
            x=r,
            y=names,
            orientation="h",
            marker_color=np.where(above, LINE, MUTED).tolist(),
            hovertemplate="%{y}<br>|r| %{x:.3f}<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=2,
    )
    if known:
        fig.add_vrect(x0=0, x1=band, fillcolor=CHANCE, line_width=0, layer="below", row=1, col=2)
        text = f"chance ({q:.0%}): {band:.2f}"
    else:
        text = "too short to tell" if band is not None else ""
    fig.update_xaxes(
        range=[0, 1], fixedrange=True, title=dict(text="|r|", standoff=2), row=1, col=2
    )
    fig.update_yaxes(autorange="reversed", fixedrange=True, row=1, col=2)
    fig.add_annotation(
        text=text, x=1, y=1, xref="x2 domain", yref="paper", xanchor="right", yanchor="bottom",
        showarrow=False, font=dict(size=11),
    )  # fmt: skip
