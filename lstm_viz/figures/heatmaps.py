"""Heatmaps of a trace: every gate and state over time, the whole-sequence overview, every unit
at one step, and units ranked against a signal.

Arrays and labels in, `go.Figure` (or SVG text for the per-step strip) out; nothing here knows
about models or Streamlit. Values are drawn on `style`'s scales: gates 0..1, the rest about 0.
"""

from __future__ import annotations

import base64

import numpy as np
import plotly.graph_objects as go

from lstm_viz.cells import SIGMOID_NAMES
from lstm_viz.figures.style import (
    DIVERGING,
    MARGIN,
    TEMPLATE,
    base_layout,
    colours,
    fast_figure,
    safe,
    step_categories,
    ticks,
    value_scale,
)
from lstm_viz.figures.svg import png, svg_open, text


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
            **ticks(y, y, max(2, row_height // 14)),
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
            title = name if cax == "coloraxis" and name in SIGMOID_NAMES else ""
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
        **ticks(x, labels[start:stop], 40),
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


def unit_strip(values: dict[str, np.ndarray], units: list[int], step: int) -> str:
    """Every unit's value of each name at one step (name -> (units,)): a row of cells per name,
    units left to right in the heatmaps' order, coloured on the heatmaps' scales."""
    names = list(values)
    # cells sized so the strip is ~500 units wide whatever the unit count: text stays readable
    label_w, cell_w, cell_h, top = 80, int(np.clip(420 // max(len(units), 1), 2, 24)), 16, 22
    width = label_w + cell_w * len(units) + 4
    parts = [
        svg_open(width, top + cell_h * len(names) + 18, "every unit"),
        text(0, 9, f"<b>every unit at step {step}</b>", "start", 12),
    ]
    rows = []
    for r, name in enumerate(names):
        v = np.asarray(values[name], dtype=np.float64)[units]
        gate = name in SIGMOID_NAMES
        rows.append(colours(v, gate, 1.0 if gate else value_scale(name, v)["cmax"]))
        parts.append(text(label_w - 6, top + (r + 0.5) * cell_h, name, "end", 11))
    # the cells as one tiny PNG (a pixel per value) scaled up without smoothing: ~1 KB instead of
    # a rect per value
    image = base64.b64encode(png(np.stack(rows))).decode()
    parts.append(
        f'<image x="{label_w}" y="{top}" width="{cell_w * len(units)}" '
        f'height="{cell_h * len(names)}" preserveAspectRatio="none" '
        f'style="image-rendering:pixelated" href="data:image/png;base64,{image}"/>'
    )
    every = max(1, len(units) // 8)
    y = top + cell_h * len(names) + 9
    parts += [
        text(label_w + (k + 0.5) * cell_w, y, str(u), "middle", 9)
        for k, u in enumerate(units)
        if k % every == 0
    ]
    parts.append("</svg>")
    return "".join(parts)


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
    fig.update_layout(margin=dict(l=170, r=24, t=16, b=56))
    return fig
