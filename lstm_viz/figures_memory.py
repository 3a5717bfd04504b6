"""Figures for the memory, intervene and find-a-cell views: arrays in, `go.Figure` out.

Like `figures`, nothing here knows about models or Streamlit. Steps are x, left to right; the
step labels (tokens or values) are escaped with `figures.safe` before Plotly sees them.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lstm_viz.figures import DIVERGING, GATE_SCALE, TEMPLATE, safe, step_categories

BEFORE, AFTER = "#8c8c8c", "#c0392b"  # grey: the network as trained; red: with the clamp
LINE = "#2b5d9b"


def _layout(height: int, title: str, **extra) -> dict:
    return dict(
        template=TEMPLATE,
        height=height,
        margin=dict(l=64, r=24, t=40, b=70),
        title=dict(text=title, x=0, font=dict(size=13)),
        **extra,
    )


def _marks(fig: go.Figure, marks: dict[str, int], start: int, stop: int) -> None:
    """Dotted vertical lines over the whole figure at named steps (e.g. {'cue': 1}) that fall
    in start..stop-1, each named at its top."""
    for name, step in marks.items():
        if start <= step < stop:
            fig.add_shape(
                type="line",
                xref="x",
                yref="paper",
                x0=step,
                x1=step,
                y0=0,
                y1=1,
                line=dict(color="#444", width=1, dash="dot"),
            )
            fig.add_annotation(
                x=step,
                y=1,
                xref="x",
                yref="paper",
                text=safe(name),
                showarrow=False,
                yanchor="top",
                xanchor="left",
                font=dict(size=11, color="#444"),
                bgcolor="rgba(255,255,255,0.8)",
            )


def _step_axis(labels: list[str], start: int = 0, most: int = 30) -> dict:
    """A linear step axis (steps start..start+n-1) with the input labels as tick text."""
    n = len(labels)
    every = max(1, int(np.ceil(n / most)))
    idx = list(range(0, n, every))
    return dict(
        tickvals=[start + i for i in idx],
        ticktext=[f"{safe(labels[i], 8)}" for i in idx],
        tickangle=-60,
        range=[start - 0.5, start + n - 0.5],
        fixedrange=True,
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
        **_layout(560, "", showlegend=False, bargap=0.1, annotations=notes),
        xaxis=dict(**_step_axis(labels, first), anchor="y3"),
        **{k: v for k, v in axes.items() if k != "yaxis2" or written is not None},
    )
    fig.update_layout(margin=dict(t=24, b=80, r=90))
    _marks(fig, marks or {}, first, first + s_count)
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
        **_layout(300, f"how much the output at step {step} depends on each input"),
        xaxis=_step_axis(labels),
        yaxis=dict(type="log" if log else "linear", title="|gradient|", fixedrange=True),
        bargap=0.05,
    )
    _marks(fig, marks or {}, 0, len(labels))
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
        **_layout(380, "gate saturation per unit (each point is a unit)"),
        xaxis=dict(
            range=[-0.03, 1.03], title="share of steps below 0.1 (closed)", tickformat=".0%"
        ),
        yaxis=dict(range=[-0.03, 1.03], title="share of steps above 0.9 (open)", tickformat=".0%"),
        shapes=[diag],
    )
    return fig


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
        **_layout(90 + 34 * top, "", barmode="group", bargap=0.25),
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
        **_layout(280, safe(what, 80), legend=dict(orientation="h", y=1.0, yanchor="bottom")),
        xaxis=_step_axis(labels),
        yaxis=dict(title=safe(what, 20), fixedrange=True),
    )
    if span is not None:
        fig.add_vrect(x0=span[0] - 0.5, x1=span[1] - 0.5, fillcolor="#c0392b", opacity=0.08)
    _marks(fig, marks or {}, 0, len(labels))
    return fig


def ranked_units_figure(
    signal: np.ndarray,
    signal_name: str,
    rows: list[tuple[str, np.ndarray]],
    labels: list[str],
    window: tuple[int, int] | None = None,
) -> go.Figure:
    """The signal on top, then one row per ranked unit (title, (T,) values) over the steps.

    Each row is scaled to its own largest |value| so every unit's shape shows; hover gives the
    raw value. The signal is scaled to 0..1 the same way."""
    start, stop = window or (0, len(labels))
    names = [f"signal: {safe(signal_name, 30)}"] + [safe(t, 40) for t, _ in rows]
    raw = np.vstack([np.asarray(signal, np.float64)] + [np.asarray(v, np.float64) for _, v in rows])
    raw = raw[:, start:stop]
    peak = np.maximum(np.abs(raw).max(axis=1, keepdims=True), 1e-12)
    z = raw / peak  # (rows, W) in -1..1
    cats = step_categories(labels[start:stop], start)
    fig = go.Figure(
        go.Heatmap(
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
    )
    chars = all(len(str(s)) == 1 for s in labels[start:stop])  # a character model: upright
    every = max(1, int(np.ceil(len(cats) / (100 if chars else 40))))
    fig.update_layout(
        **_layout(90 + 26 * len(names), ""),
        xaxis=dict(
            type="category",
            tickvals=cats[::every],
            ticktext=[safe(s, 8) for s in labels[start:stop][::every]],
            tickangle=0 if chars else -60,
            fixedrange=True,
        ),
        yaxis=dict(type="category", autorange="reversed", fixedrange=True),
    )
    fig.update_layout(margin=dict(l=170, r=24, t=16, b=56))
    return fig
