"""A forecast: the series, one-step predictions, the held-out tail, and multi-step forecasts
launched from any step beside their baselines.

Arrays and labels in, `go.Figure` out; nothing here knows about models or Streamlit. Labels (e.g.
a CSV's dates) are escaped with `style.safe`.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lstm_viz.figures.style import PALETTE, base_layout, safe


def forecast_figure(
    values: np.ndarray,
    labels: list[str],
    one_step: np.ndarray,
    test_start: int,
    start: int,
    paths: dict[str, np.ndarray],
    unit: str = "",
    window: tuple[int, int] | None = None,
) -> go.Figure:
    """The series (N,), one-step predictions (N,), the held-out tail shaded, and forecasts
    launched after raw index `start` (name -> (H,) for steps start+1 ..)."""
    n = len(values)
    if np.shape(one_step) != (n,) or len(labels) != n:
        raise ValueError(f"values, labels and one-step predictions need the same length ({n})")
    lo, hi = window or (0, n)
    x = np.arange(n)
    text = [safe(s, 20) for s in labels]
    hover = "%{customdata}<br>%{y:.4g}<extra>"
    data = [
        go.Scatter(
            x=x[lo:hi], y=values[lo:hi], name="series", mode="lines", customdata=text[lo:hi],
            line=dict(color="#222", width=2), hovertemplate=hover + "series</extra>",
        ),
        go.Scatter(
            x=x[lo:hi], y=one_step[lo:hi], name="one-step prediction", mode="lines",
            customdata=text[lo:hi], line=dict(color="#1b9e77", width=2),
            hovertemplate=hover + "one step ahead</extra>",
        ),
    ]  # fmt: skip
    styles = {"forecast": ("#d62728", "solid"), "persistence": ("#888", "dot")}
    for k, (name, path) in enumerate(paths.items()):
        h = np.arange(start + 1, start + 1 + len(path))  # may run past the data: the future
        colour, dash = styles.get(name, (PALETTE[(k + 2) % len(PALETTE)], "dash"))
        data.append(
            go.Scatter(
                x=h, y=np.asarray(path), name=safe(name, 30), mode="lines",
                line=dict(color=colour, width=3 if name == "forecast" else 2, dash=dash),
                hovertemplate="step %{x}<br>%{y:.4g}<extra>" + safe(name, 30) + "</extra>",
            )
        )  # fmt: skip
    fig = go.Figure(data, base_layout(420, "", large=True))
    if test_start < hi:
        fig.add_vrect(
            x0=max(test_start, lo) - 0.5, x1=hi - 0.5, fillcolor="#999", opacity=0.12,
            line_width=0, annotation_text="held-out tail", annotation_position="top left",
        )  # fmt: skip
    fig.add_vline(x=start, line=dict(color="orange", width=2))
    every = max(1, int(np.ceil((hi - lo) / 12)))
    ticks = list(range(lo, hi, every))
    fig.update_xaxes(title="step", tickvals=ticks, ticktext=[safe(labels[k], 12) for k in ticks])
    fig.update_yaxes(title=safe(unit, 20) or "value")
    return fig
