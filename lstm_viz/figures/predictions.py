"""What the model predicts: the likeliest outputs at one step, and its predictions before and
after an intervention.

Arrays and labels in, `go.Figure` (or SVG text for the per-step bars) out; nothing here knows about
models or Streamlit. Class names and step labels are escaped with `style.safe`.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lstm_viz.figures.style import (
    AFTER,
    BEFORE,
    base_layout,
    mark_steps,
    safe,
    step_axis,
    step_categories,
)
from lstm_viz.figures.svg import CHAR, projector, svg_open, text, text_width


def prediction_bars(
    names: list[str],
    probs: np.ndarray,
    step: int,
    top: int = 5,
    *,
    min_px: float | None = None,
    width_px: float | None = None,
) -> str:
    """The `top` most likely outputs at one step as bars of probability (names escaped here).

    min_px, width_px: for a projector, lay the bars out `width_px` wide with every text at least
    `min_px` (drawn at least `width_px` CSS px wide, every text is at least `min_px` CSS px; see
    `svg`); by default a 470-unit panel with 11-12 unit text."""
    probs = np.asarray(probs, dtype=np.float64)
    order = np.argsort(-probs, kind="stable")[:top]
    size = projector(min_px, width_px, 12)
    fit = 16 if size is None else int((width_px / 2 - size / 2) / (CHAR * size))
    labels = [safe(names[i], max(4, min(16, fit))) for i in order]  # cut to fit their half
    title = f"<b>what the model predicts after step {step}</b>"
    if size is None:
        label_w, bar_w, row, head, small = 110, 300, 20, 22, 11
        width, size = label_w + bar_w + 60, 12
    else:  # sized around the text: the widest name, a bar, room for "0.999" after it
        width, small, row = width_px, size, round(1.7 * size)
        label_w = text_width(max(labels, key=len), size) + size / 2
        bar_w = width - label_w - text_width("0.999", size) - size
        if text_width(title, size) > width:  # two lines rather than text cut at the edge
            title = f"<b>what the model predicts</b><br><b>after step {step}</b>"
        head = round(size * (1.3 + 1.2 * title.count("<br>")))
    parts = [
        svg_open(width, head + 2 + row * len(order), "prediction"),
        text(0, head / 2 - 1, title, "start", size),
    ]
    for r, (i, label) in enumerate(zip(order, labels, strict=True)):
        y = head + r * row
        parts.append(text(label_w - 6, y + row / 2, label, "end", size))
        parts.append(
            f'<rect x="{label_w:.1f}" y="{y + 2}" width="{bar_w * probs[i]:.1f}" '
            f'height="{row - 4}" fill="#4a7ab5"/>'
        )
        end = label_w + bar_w * probs[i] + 4
        parts.append(text(end, y + row / 2, f"{probs[i]:.3f}", "start", small))
    parts.append("</svg>")
    return "".join(parts)


def prediction_change_figure(
    names: list[str], before: np.ndarray, after: np.ndarray, titles: list[str], top: int = 4
) -> go.Figure:
    """Class probabilities before and after an intervention at a few steps.

    before, after: (k, classes) probabilities; titles: k names of those steps. Each step shows
    the `top` classes most likely before or after, as paired bars (grey before, red after)."""
    before, after = np.atleast_2d(before), np.atleast_2d(after)
    if before.shape != after.shape or before.shape[0] != len(titles):
        raise ValueError(f"before {before.shape}, after {after.shape}, {len(titles)} titles")
    k = len(titles)
    data, layout = [], {}
    for r in range(k):
        both = np.maximum(before[r], after[r])
        order = np.argsort(-both, kind="stable")[:top]
        ys = [safe(names[i], 16) for i in order]
        xa, ya = ("x" if r == 0 else f"x{r + 1}"), ("y" if r == 0 else f"y{r + 1}")
        for label, probs, colour in (("before", before, BEFORE), ("after", after, AFTER)):
            data.append(
                go.Bar(
                    x=probs[r, order],
                    y=ys,
                    orientation="h",
                    name=label,
                    marker=dict(color=colour),
                    text=[f"{v:.3f}" for v in probs[r, order]],
                    textposition="outside",
                    xaxis=xa,
                    yaxis=ya,
                    showlegend=r == 0,
                    hovertemplate=f"{label}: %{{y}} %{{x:.4f}}<extra></extra>",
                )
            )
        lo, hi = r / k + 0.06 / k, (r + 1) / k - 0.06 / k
        layout["xaxis" + xa[1:]] = dict(domain=[lo, hi], range=[0, 1.25], fixedrange=True)
        layout["yaxis" + ya[1:]] = dict(
            anchor=xa, autorange="reversed", fixedrange=True, type="category"
        )
        layout.setdefault("annotations", []).append(
            dict(
                text=titles[r],
                x=(lo + hi) / 2,
                xref="paper",
                y=1.02,
                yref="paper",
                showarrow=False,
                yanchor="bottom",
            )
        )
    fig = go.Figure(data)
    fig.update_layout(
        **base_layout(90 + 34 * top, "", barmode="group", bargap=0.25),
        legend=dict(orientation="h", y=-0.15, x=0),
        **layout,
    )
    fig.update_layout(margin=dict(l=90, r=10, t=40, b=40))
    return fig


def output_change_figure(
    before: np.ndarray,
    after: np.ndarray,
    labels: list[str],
    what: str,
    span: tuple[int, int] | None = None,
    marks: dict[str, int] | None = None,
) -> go.Figure:
    """One output over every step, before (grey) and after (red) an intervention (T,) each;
    `span` (first, last + 1) shades the clamped steps."""
    x = np.arange(len(labels))
    cats = np.array(step_categories(labels), dtype=object)
    lines = [
        go.Scatter(
            x=x,
            y=v,
            mode="lines",
            name=name,
            line=dict(color=c, width=2, dash="solid" if name == "after" else "dot"),
            customdata=cats,
            hovertemplate=f"step %{{customdata}}<br>{name}: %{{y:.4g}}<extra></extra>",
        )
        for name, v, c in (("before", before, BEFORE), ("after", after, AFTER))
    ]
    fig = go.Figure(lines)
    fig.update_layout(
        **base_layout(280, safe(what, 80), legend=dict(orientation="h", y=1.0, yanchor="bottom")),
        xaxis=step_axis(labels),
        yaxis=dict(title=safe(what, 20), fixedrange=True),
    )
    if span is not None:
        fig.add_vrect(x0=span[0] - 0.5, x1=span[1] - 0.5, fillcolor="#c0392b", opacity=0.08)
    mark_steps(fig, marks or {}, 0, len(labels))
    return fig
