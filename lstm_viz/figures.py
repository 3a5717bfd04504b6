"""Figures of a trace: numpy arrays and labels in, `plotly.graph_objects.Figure` out.

Nothing here knows about models or Streamlit, so every figure works the same in a notebook, in the
app and in an exported HTML file. Conventions:
- sigmoid gates (input, forget, output; GRU reset, update) on a fixed 0..1 scale;
- candidate, cell, hidden (GRU new) on a diverging scale centred at 0;
- time runs left to right on one shared axis; units top to bottom in the order given;
- user text (tokens) is escaped before Plotly sees it, so it always shows as text.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

SIGMOID = ("input", "forget", "output", "reset", "update")  # in (0, 1): fixed 0..1 scale
BOUNDED = ("candidate", "new")  # tanh outputs in (-1, 1); hidden too when it is o * tanh(c)
GATE_SCALE = [[0.0, "#f7fbff"], [0.5, "#6baed6"], [1.0, "#08306b"]]  # closed light, open dark
DIVERGING = [[0.0, "#2166ac"], [0.5, "#f7f7f7"], [1.0, "#b2182b"]]  # negative blue, positive red
MARGIN = dict(l=64, r=96, t=26, b=64)  # fixed (no autoexpand): the app places its marker by it
TEMPLATE = go.layout.Template(  # a few lines instead of Plotly's default ~8 KB theme per figure
    layout=dict(
        font=dict(family="sans-serif", size=12, color="#222"),
        paper_bgcolor="white",
        plot_bgcolor="white",
        hoverlabel=dict(font=dict(family="monospace")),
    )
)


def fast_figure(data: list[dict], layout: dict) -> go.Figure:
    """A Figure from plain dicts without Plotly's per-property validation (~10x faster).

    For the figures redrawn at every step; tests rebuild each one with validation on, so a typo
    here still fails a test rather than a browser.
    """
    return go.Figure(data=data, layout=layout, _validate=False)


def safe(label: object, limit: int = 24) -> str:
    """User text made inert for Plotly (which reads a few HTML tags) and cut to `limit`."""
    text = str(label)
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return html.escape(text, quote=False).replace("\n", "↵")


def step_categories(labels: list[str], start: int = 0) -> list[str]:
    """One unique category per step, '12 · the', so hover shows both step and token."""
    return [f"{start + k} · {safe(s, 16)}" for k, s in enumerate(labels)]


def value_scale(name: str, values: np.ndarray) -> dict:
    """The colour scale for a map: fixed 0..1 for gates, symmetric about 0 otherwise."""
    if name in SIGMOID:
        return dict(colorscale=GATE_SCALE, cmin=0.0, cmax=1.0)
    peak = float(np.nanmax(np.abs(values))) if values.size else 1.0
    bounded = name in BOUNDED or (name == "hidden" and peak <= 1.0)
    peak = 1.0 if bounded else max(peak, 1e-6)
    return dict(colorscale=DIVERGING, cmin=-peak, cmax=peak, cmid=0.0)


def _ticks(categories: list[str], labels: list[str], most: int) -> dict:
    every = max(1, int(np.ceil(len(categories) / most)))
    idx = range(0, len(categories), every)
    return dict(tickvals=[categories[i] for i in idx], ticktext=[safe(labels[i], 10) for i in idx])


def gate_heatmaps(
    maps: dict[str, np.ndarray],
    labels: list[str],
    units: list[int] | None = None,
    window: tuple[int, int] | None = None,
    step: int | None = None,
    clamped: dict[str, np.ndarray] | None = None,
    row_height: int | None = None,
) -> go.Figure:
    """Every map of `maps` (name -> (T, units)) as a heatmap, stacked on one shared time axis.

    units: rows to show, in this order (default all); window: (start, stop) steps to draw (default
    all); step: draw a marker at this step; clamped: name -> (T, units) bool, marked with an x.
    Values are sent as float32 (about 7 significant digits) to keep the figure small.
    """
    if not maps:
        raise ValueError("no maps to draw; pass e.g. {'forget': tr.gate('forget')}")
    steps = len(labels)
    for name, values in maps.items():
        if values.ndim != 2 or values.shape[0] != steps:
            raise ValueError(f"{name} has shape {values.shape}; need (T={steps}, units)")
    start, stop = window or (0, steps)
    if not 0 <= start < stop <= steps:
        raise ValueError(f"window {window} out of range; use 0 <= start < stop <= {steps}")
    n_units = next(iter(maps.values())).shape[1]
    units = list(range(n_units)) if units is None else [int(u) for u in units]
    if not units or min(units) < 0 or max(units) >= n_units:
        raise ValueError(f"units must be a non-empty list in 0..{n_units - 1}")
    x = step_categories(labels[start:stop], start)
    y = [str(u) for u in units]
    n = len(maps)
    row_height = row_height or int(np.clip(3 * len(units), 80, 180))
    gap = 22  # px between maps, room for each map's title
    height = MARGIN["t"] + MARGIN["b"] + n * row_height + (n - 1) * gap
    plot_h = height - MARGIN["t"] - MARGIN["b"]
    traces, notes, shapes = [], [], []
    layout: dict = {}
    axes_of: dict[str, str] = {}  # coloraxis per scale, shared by maps on the same scale
    for k, (name, values) in enumerate(maps.items()):
        z = np.ascontiguousarray(values[start:stop][:, units].T, dtype=np.float32)  # (U, W)
        scale = value_scale(name, values[start:stop][:, units])
        key = str(sorted(scale.items()))
        if key not in axes_of:
            axes_of[key] = "coloraxis" + ("" if not axes_of else str(len(axes_of) + 1))
        cax = axes_of[key]
        top = 1 - k * (row_height + gap) / plot_h
        domain = [max(0.0, top - row_height / plot_h), top]
        ya = "y" if k == 0 else f"y{k + 1}"
        # only the first map carries the step categories; the others index them (x0, dx) and
        # hover still shows the category: the labels are sent once, not once per map
        where = dict(x=x) if k == 0 else dict(x0=0, dx=1)
        hover = f"step %{{x}}<br>unit %{{y}}<br>{name} = %{{z:.4f}}<extra></extra>"
        traces.append(
            dict(
                type="heatmap",
                z=z,
                y=y,
                coloraxis=cax,
                xaxis="x",
                yaxis=ya,
                name=name,
                hovertemplate=hover,
                **where,
            )
        )
        if clamped and name in clamped:
            ts, us = np.nonzero(np.asarray(clamped[name])[start:stop][:, units][:5000])
            if len(ts):
                traces.append(
                    dict(
                        type="scatter",
                        x=[x[t] for t in ts],
                        y=[y[u] for u in us],
                        xaxis="x",
                        yaxis=ya,
                        mode="markers",
                        name=f"{name} clamped",
                        hoverinfo="skip",
                        marker=dict(symbol="x-thin", size=6, line=dict(width=1), color="black"),
                    )
                )
        layout["yaxis" + ya[1:]] = dict(
            domain=domain,
            type="category",
            autorange="reversed",
            fixedrange=True,
            anchor="x",
            title=dict(text="unit", standoff=4),
            **_ticks(y, y, max(2, row_height // 14)),
        )
        notes.append(
            dict(
                text=f"<b>{name}</b>",
                x=0,
                xref="paper",
                xanchor="left",
                y=domain[1],
                yref="paper",
                yanchor="bottom",
                showarrow=False,
            )
        )
        if cax not in layout:
            title = name if cax == "coloraxis" and name in SIGMOID else ""
            layout[cax] = dict(
                **scale,
                colorbar=dict(
                    title=dict(text=title, side="right"),
                    x=1.01,
                    xanchor="left",
                    thickness=10,
                    len=row_height / plot_h,
                    y=domain[1],
                    yanchor="top",
                    lenmode="fraction",
                ),
            )
    last = "y" if n == 1 else f"y{n}"
    layout["xaxis"] = dict(
        type="category",
        anchor=last,
        fixedrange=True,
        tickangle=-60,
        title=dict(text="step", standoff=2),
        **_ticks(x, labels[start:stop], 40),
    )
    if step is not None and start <= step < stop:
        shapes.append(
            dict(
                type="rect",
                xref="x",
                yref="paper",
                x0=step - start - 0.5,
                x1=step - start + 0.5,
                y0=0,
                y1=1,
                line=dict(color="black", width=1.5),
            )
        )
    return fast_figure(
        traces,
        layout=dict(
            template=TEMPLATE,
            height=height,
            margin=dict(**MARGIN, autoexpand=False),
            showlegend=False,
            annotations=notes,
            shapes=shapes,
            **layout,
        ),
    )


def overview(values: np.ndarray, name: str, window: tuple[int, int], bins: int = 200) -> go.Figure:
    """The whole sequence of one map, averaged into at most `bins` time bins, with the window."""
    steps, n_units = values.shape
    edges = np.linspace(0, steps, min(bins, steps) + 1).astype(int)
    spans = zip(edges[:-1], edges[1:], strict=True)
    pooled = np.stack([values[a:b].mean(axis=0) for a, b in spans], axis=1)  # (U, bins)
    fig = go.Figure(
        go.Heatmap(
            z=pooled.astype(np.float32),
            x=edges[:-1],
            coloraxis="coloraxis",
            hovertemplate="from step %{x}<br>unit %{y}<br>mean "
            + name
            + " = %{z:.3f}<extra></extra>",
        )
    )
    fig.add_shape(
        type="rect",
        xref="x",
        yref="paper",
        x0=window[0],
        x1=window[1],
        y0=0,
        y1=1,
        line=dict(color="black", width=2),
    )
    fig.update_layout(
        template=TEMPLATE,
        height=150,
        margin=dict(**MARGIN, autoexpand=False),
        coloraxis=dict(**value_scale(name, values), showscale=False),
        xaxis=dict(range=[0, steps], fixedrange=True, title=dict(text="step", standoff=2)),
        yaxis=dict(fixedrange=True, autorange="reversed", title="unit", range=[n_units, 0]),
        title=dict(text=f"overview: mean {name}", x=0, font=dict(size=12)),
    )
    return fig


def unit_strip(values: dict[str, np.ndarray], units: list[int], step: int) -> go.Figure:
    """Every unit's value of each name at one step (name -> (units,)): one row per name."""
    x = [str(u) for u in units]
    traces, layout = [], {}
    for name in values:
        v = np.asarray(values[name], dtype=np.float64)[units]
        cax = "coloraxis" if name in SIGMOID else "coloraxis2"
        traces.append(
            dict(
                type="heatmap",
                z=v[None],
                x=x,
                y=[name],
                coloraxis=cax,
                xgap=1,
                hovertemplate=f"unit %{{x}}<br>{name} = %{{z:.6f}}<extra></extra>",
            )
        )
        if cax == "coloraxis" or cax not in layout:
            layout[cax] = dict(**value_scale(name, v), showscale=False)
    return fast_figure(
        traces,
        layout=dict(
            template=TEMPLATE,
            height=40 + 24 * len(values),
            margin=dict(l=80, r=10, t=30, b=30),
            title=dict(text=f"every unit at step {step}", x=0, font=dict(size=13)),
            xaxis=dict(type="category", fixedrange=True, **_ticks(x, x, 16)),
            yaxis=dict(type="category", autorange="reversed", fixedrange=True),
            **layout,
        ),
    )


def prediction_bars(names: list[str], probs: np.ndarray, step: int, top: int = 5) -> go.Figure:
    """The `top` most likely outputs at one step, as horizontal bars of probability."""
    probs = np.asarray(probs, dtype=np.float64)
    order = np.argsort(-probs, kind="stable")[:top]
    bar = dict(
        type="bar",
        x=probs[order],
        y=[safe(names[i]) for i in order],
        orientation="h",
        text=[f"{probs[i]:.3f}" for i in order],
        textposition="auto",
        marker=dict(color="#4a7ab5"),
        hovertemplate="%{y}: %{x:.4f}<extra></extra>",
    )
    return fast_figure(
        [bar],
        layout=dict(
            template=TEMPLATE,
            height=50 + 26 * len(order),
            margin=dict(l=90, r=10, t=30, b=24),
            title=dict(text=f"what the model predicts after step {step}", x=0, font=dict(size=13)),
            xaxis=dict(range=[0, 1], fixedrange=True),
            yaxis=dict(type="category", autorange="reversed", fixedrange=True),
        ),
    )
