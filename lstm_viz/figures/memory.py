"""Memory figures: what a cell still holds of each earlier write (retention), how much an
output depends on each earlier input (saliency), and how often each gate saturates.

Arrays and labels in, `go.Figure` out; nothing here knows about models or Streamlit. Steps are x,
left to right; step labels (tokens or values) are escaped with `style.safe` before Plotly sees
them.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lstm_viz.figures.style import (
    AFTER,
    GATE_SCALE,
    LINE,
    base_layout,
    mark_steps,
    step_axis,
    step_categories,
)


def retention_figure(
    kept: np.ndarray,
    written: np.ndarray | None,
    labels: list[str],
    unit: int,
    step: int,
    gate: str = "forget",
    marks: dict[str, int] | None = None,
    first: int = 0,
    units: list[int] | None = None,
) -> go.Figure:
    """How much of what unit `unit` wrote at each step s is still in its memory at `step`.

    kept: (S, units) share surviving until `step` (products of `gate`) for steps s = first ..
    first + S - 1 (0..step forwards; step..T-1 for a backward direction); labels: S labels of
    those steps; written: (S, units) what was written at s (input x candidate), or None;
    units: the heatmap's rows (default all). Panels, on one step axis: the chosen unit's share
    (0..1); what survives of each write (share x written, which adds up to the memory at
    `step`); the share for every unit as a heatmap.
    """
    s_count, n_units = kept.shape
    if len(labels) != s_count:
        raise ValueError(f"need one label per row of kept ({s_count}), got {len(labels)}")
    if not 0 <= unit < n_units:
        raise ValueError(f"unit {unit} out of range; kept has {n_units} units")
    x = first + np.arange(s_count)
    hover = np.array(step_categories(labels, first), dtype=object)
    panels = [("y", [0.72, 1.0], f"unit {unit}: share of each step's write still there")]
    if written is not None:
        panels.append(("y2", [0.46, 0.64], f"unit {unit}: what survives of each write"))
    panels.append(("y3", [0.0, 0.38], "share still there, every unit"))
    data = [
        go.Scatter(
            x=x,
            y=kept[:, unit],
            mode="lines+markers" if s_count <= 60 else "lines",
            marker=dict(size=4),
            line=dict(color=LINE, width=2),
            customdata=hover,
            hovertemplate="written at step %{customdata}<br>share kept %{y:.4g}<extra></extra>",
            yaxis="y",
        )
    ]
    if written is not None:
        survives = kept[:, unit] * written[:, unit]
        data.append(
            go.Bar(
                x=x,
                y=survives,
                # numeric colours: a list of colour strings costs ~40 ms per 5,000 bars to validate
                marker=dict(
                    color=(survives >= 0).astype(np.float32),
                    colorscale=[[0, "#2166ac"], [1, "#b2182b"]],
                    cmin=0,
                    cmax=1,
                ),
                customdata=hover,
                hovertemplate="written at step %{customdata}<br>survives %{y:.4g}<extra></extra>",
                yaxis="y2",
            )
        )
    rows = list(range(n_units)) if units is None else [int(u) for u in units]
    data.append(
        go.Heatmap(
            z=kept[:, rows].T.astype(np.float32),
            x=x,
            y=[str(u) for u in rows],
            colorscale=GATE_SCALE,
            zmin=0,
            zmax=1,
            yaxis="y3",
            colorbar=dict(title=dict(text="share", side="right"), len=0.38, y=0, yanchor="bottom"),
            hovertemplate="written at step %{x}<br>unit %{y}<br>share kept %{z:.4g}<extra></extra>",
        )
    )
    axes = {
        "yaxis": dict(range=[-0.03, 1.05], title="share", fixedrange=True),
        "yaxis2": dict(title="survives", fixedrange=True, zeroline=True),
        "yaxis3": dict(title="unit", type="category", autorange="reversed", fixedrange=True),
    }
    notes = [
        dict(
            text=title,
            x=0,
            xref="paper",
            y=dom[1],
            yref="paper",
            yanchor="bottom",
            showarrow=False,
            font=dict(size=12),
        )
        for _, dom, title in panels
    ]
    for ya, dom, _ in panels:
        axes["yaxis" + ya[1:]].update(domain=dom, anchor="x")
    fig = go.Figure(data)
    fig.update_layout(
        **base_layout(560, "", showlegend=False, bargap=0.1, annotations=notes),
        xaxis=dict(**step_axis(labels, first), anchor="y3"),
        **{k: v for k, v in axes.items() if k != "yaxis2" or written is not None},
    )
    fig.update_layout(margin=dict(t=24, b=80, r=90))
    mark_steps(fig, marks or {}, first, first + s_count)
    return fig


def saliency_figure(
    saliency: np.ndarray,
    labels: list[str],
    step: int,
    log: bool = False,
    marks: dict[str, int] | None = None,
) -> go.Figure:
    """|d output(step) / d input(s)| for every step s (T,), as bars; later steps are 0 for a
    causal model. A log axis shows a vanishing gradient as a straight slope."""
    sal = np.asarray(saliency, dtype=np.float64)
    if sal.shape != (len(labels),):
        raise ValueError(f"saliency has shape {sal.shape}; need one value per label")
    x = np.arange(len(sal))
    y = np.where(sal > 0, sal, np.nan) if log else sal  # log axes cannot show 0
    fig = go.Figure(
        go.Bar(
            x=x,
            y=y,
            marker=dict(
                color=(x == step).astype(np.float32),  # the current step in red
                colorscale=[[0, LINE], [1, AFTER]],
                cmin=0,
                cmax=1,
            ),
            customdata=np.array(step_categories(labels), dtype=object),
            hovertemplate="input at step %{customdata}<br>gradient norm %{y:.4g}<extra></extra>",
        )
    )
    fig.update_layout(
        **base_layout(300, f"how much the output at step {step} depends on each input"),
        xaxis=step_axis(labels),
        yaxis=dict(type="log" if log else "linear", title="|gradient|", fixedrange=True),
        bargap=0.05,
    )
    mark_steps(fig, marks or {}, 0, len(labels))
    return fig


def saturation_figure(fractions: dict[str, tuple[np.ndarray, np.ndarray]]) -> go.Figure:
    """Per gate (name -> (low, high) fractions per unit): a point per unit at (time below 0.1,
    time above 0.9), the view of Karpathy, Johnson & Fei-Fei (2015), Figure 4."""
    if not fractions:
        raise ValueError("no gates to draw; pass e.g. {'forget': saturation(tr, 'forget', 0)}")
    colours = {"input": "#2b8a3e", "forget": "#c0392b", "output": "#2b5d9b"}
    data = []
    for name, (low, high) in fractions.items():
        data.append(
            go.Scatter(
                x=low,
                y=high,
                mode="markers",
                name=name,
                marker=dict(size=8, opacity=0.75, color=colours.get(name)),
                customdata=np.arange(len(low)),
                hovertemplate=f"{name}, unit %{{customdata}}<br>below 0.1: %{{x:.0%}}"
                "<br>above 0.9: %{y:.0%}<extra></extra>",
            )
        )
    diag = dict(type="line", x0=0, y0=1, x1=1, y1=0, line=dict(color="#bbb", dash="dot"))
    fig = go.Figure(data)
    fig.update_layout(
        **base_layout(380, "gate saturation per unit (each point is a unit)"),
        xaxis=dict(
            range=[-0.03, 1.03], title="share of steps below 0.1 (closed)", tickformat=".0%"
        ),
        yaxis=dict(range=[-0.03, 1.03], title="share of steps above 0.9 (open)", tickformat=".0%"),
        shapes=[diag],
    )
    return fig
