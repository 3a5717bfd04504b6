"""Figures of why a gate took its value (`gate_terms`): arrays and labels in, go.Figure out.

- `terms_waterfall`: the terms of one pre-activation as a waterfall (each bar one term, its number
  on it) ending in the pre-activation, and beside it the squashing curve with the point
  (pre-activation, value): terms -> pre-activation -> squash -> value.
- `drivers_lines`: over the whole sequence, the input part and the recurrent part of one unit's
  gate (the bias as a dotted line), with the current step marked: is the gate driven by what it
  reads or by what it remembers?

Term names and step labels can be user text: they are escaped before Plotly sees them, so a
`<b>` or `<script>` shows as text.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from lstm_viz.cells import SQUASH  # the squashing gate_terms applied to the same sum
from lstm_viz.figures.style import DIVERGING, PALETTE, TEMPLATE, safe, step_axis

DOWN, UP, TOTAL = DIVERGING[0][1], DIVERGING[2][1], "#444444"  # lowers blue, raises red
INPUT, RECURRENT = PALETTE[1], PALETTE[0]  # what it reads, what it remembers


def terms_waterfall(
    names: Sequence[str],
    values: Sequence[float],
    preactivation: float,
    value: float,
    squash: str,
    title: str = "",
) -> go.Figure:
    """names, values: the terms in order (e.g. `GateTerms.grouped()`); preactivation their sum;
    value = squash(preactivation), squash one of "sigmoid", "tanh", "relu"."""
    if squash not in SQUASH:
        raise ValueError(f"unknown squash {squash!r}; use one of {', '.join(SQUASH)}")
    values = [float(v) for v in values]
    if len(names) != len(values):
        raise ValueError(f"got {len(names)} names for {len(values)} values; give one per term")
    fig = make_subplots(
        rows=1, cols=2, column_widths=[0.72, 0.28], horizontal_spacing=0.1,
        subplot_titles=("terms → pre-activation", f"{squash} → value"),
    )  # fmt: skip
    cats = [safe(n, 28) for n in names]
    # a category axis merges equal names: number the repeats (h[3], h[3] #2)
    cats = [c if cats[:k].count(c) == 0 else f"{c} #{cats[:k].count(c) + 1}" for k, c in
            enumerate(cats)]  # fmt: skip
    fig.add_trace(
        go.Waterfall(
            x=[*cats, "pre-activation"],
            y=[*values, preactivation],
            measure=["relative"] * len(values) + ["total"],
            text=[f"{v:+.2f}" for v in values] + [f"{preactivation:+.2f}"],
            textposition="outside",
            increasing=dict(marker=dict(color=UP)),
            decreasing=dict(marker=dict(color=DOWN)),
            totals=dict(marker=dict(color=TOTAL)),
            connector=dict(line=dict(color="#bbb", width=1)),
            hovertemplate="%{x}: %{text}<extra></extra>",
            showlegend=False,
        ),
        row=1,
        col=1,
    )
    reach = max(6.0, abs(preactivation) * 1.15)
    z = np.linspace(-reach, reach, 121)
    fig.add_trace(
        go.Scatter(x=z, y=SQUASH[squash](z), mode="lines", line=dict(color="#999"),
                   hoverinfo="skip", showlegend=False),
        row=1, col=2,
    )  # fmt: skip
    fig.add_trace(
        go.Scatter(
            x=[preactivation], y=[value], mode="markers+text", marker=dict(size=11, color=TOTAL),
            text=[f"{value:.3f}"], textposition="top left" if preactivation > 0 else "top right",
            hovertemplate=f"{squash}(%{{x:.3f}}) = %{{y:.4f}}<extra></extra>", showlegend=False,
        ),
        row=1, col=2,
    )  # fmt: skip
    fig.update_xaxes(tickangle=-40, row=1, col=1)
    fig.update_yaxes(zeroline=True, zerolinecolor="#888", title="contribution", row=1, col=1)
    fig.update_xaxes(title="pre-activation", zeroline=True, zerolinecolor="#ddd", row=1, col=2)
    fig.update_layout(
        height=380,
        margin=dict(l=60, r=20, t=60 if title else 36, b=90),
        title=dict(text=safe(title, 120), x=0, font=dict(size=13)) if title else None,
        template=TEMPLATE,
    )
    return fig


def drivers_lines(
    input_part: np.ndarray,
    recurrent_part: np.ndarray,
    bias: np.ndarray,
    step: int,
    labels: Sequence[str] | None = None,
    title: str = "",
) -> go.Figure:
    """input_part, recurrent_part, bias: (T,) each (`GateDrivers`); step: the one to mark;
    labels: one per step (tokens), shown on hover."""
    parts = [np.asarray(a, dtype=np.float64) for a in (input_part, recurrent_part, bias)]
    t = parts[0].shape[0]
    if any(a.shape != (t,) for a in parts):
        raise ValueError(f"input, recurrent and bias must be 1-D of one length, got "
                         f"{[a.shape for a in parts]}")  # fmt: skip
    if not 0 <= step < t:
        raise ValueError(f"step {step} out of range; the lines have {t} steps (0..{t - 1})")
    if labels is not None and len(labels) != t:
        raise ValueError(f"got {len(labels)} labels for {t} steps; give one per step")
    steps = np.arange(t)
    text = [safe(s, 16) for s in labels] if labels is not None else [""] * t
    hover = "step %{x} %{text}: %{y:+.2f}<extra>%{fullData.name}</extra>"
    fig = go.Figure()
    for name, y, color, dash in (
        ("input part (what it reads)", parts[0], INPUT, None),
        ("recurrent part (what it remembers)", parts[1], RECURRENT, None),
        ("bias", parts[2], "#777", "dot"),
    ):
        fig.add_trace(
            go.Scatter(x=steps, y=y, name=name, text=text, mode="lines", hovertemplate=hover,
                       line=dict(color=color, width=1.2 if dash else 1.8, dash=dash))
        )  # fmt: skip
    mark = f"step {step}" + (f" {text[step]}" if text[step] else "")
    fig.add_vline(x=step, line=dict(color="#222", width=1, dash="dash"))
    fig.add_annotation(x=step, y=1, yref="paper", text=mark, showarrow=False, yanchor="bottom")
    fig.update_layout(
        height=300,
        margin=dict(l=60, r=20, t=56 if title else 30, b=80),
        title=dict(text=safe(title, 120), x=0, font=dict(size=13)) if title else None,
        xaxis=dict(title="step", range=[-0.5, t - 0.5])
        | (step_axis(list(labels)) if labels is not None else {}),  # the tokens as ticks
        yaxis=dict(title="contribution to the pre-activation", zeroline=True,
                   zerolinecolor="#888"),
        legend=dict(orientation="h", y=-0.3),
        template=TEMPLATE,
    )  # fmt: skip
    return fig
