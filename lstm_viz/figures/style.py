"""The one look of every figure: colour scales, the Plotly template and margins, tick helpers,
and the escaping of user text.

Conventions shared by every figure module:
- sigmoid gates (input, forget, output; GRU reset, update) on a fixed 0..1 scale;
- candidate, cell, hidden (GRU new) on a diverging scale centred at 0;
- time runs left to right; units top to bottom in the order given;
- user text (tokens, CSV labels) goes through `safe` before Plotly or an SVG sees it.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go

from lstm_viz.cells import SIGMOID_NAMES, TANH_NAMES

GATE_SCALE = [[0.0, "#f7fbff"], [0.5, "#6baed6"], [1.0, "#08306b"]]  # closed light, open dark
DIVERGING = [[0.0, "#2166ac"], [0.5, "#f7f7f7"], [1.0, "#b2182b"]]  # negative blue, positive red
PALETTE = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e"]  # curves without a set colour
BEFORE, AFTER = "#8c8c8c", "#c0392b"  # grey: the network as trained; red: with the clamp
LINE = "#2b5d9b"  # a single curve or bar series
FONT = dict(family="sans-serif", size=14)  # the large figures (compare, forecast, lesson)
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


def base_layout(height: int, title: str, large: bool = False, **extra) -> dict:
    """The base layout of the line and bar figures; `large` for the compare, forecast and lesson
    figures (bigger text, the legend above the plot on the right)."""
    if large:
        legend = dict(orientation="h", y=1.0, yanchor="bottom", x=1, xanchor="right")
        extra = dict(legend=legend, font=FONT) | extra
    return dict(
        template=TEMPLATE,
        height=height,
        margin=dict(l=70, r=20, t=40, b=60) if large else dict(l=64, r=24, t=40, b=70),
        title=dict(text=title, x=0, font=dict(size=15 if large else 13)),
        **extra,
    )


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
    if name in SIGMOID_NAMES:
        return dict(colorscale=GATE_SCALE, cmin=0.0, cmax=1.0)
    peak = float(np.nanmax(np.abs(values))) if values.size else 1.0
    # tanh outputs lie in -1..1, and so does hidden when it is o * tanh(c)
    bounded = name in TANH_NAMES or (name == "hidden" and peak <= 1.0)
    peak = 1.0 if bounded else max(peak, 1e-6)
    return dict(colorscale=DIVERGING, cmin=-peak, cmax=peak, cmid=0.0)


def colour(value: float, gate: bool, peak: float = 1.0) -> str:
    """The fill for a value on the heatmaps' scales: gates on 0..1, others diverging about 0
    over -peak..peak (for the SVG panels, so a block matches the same value on a heatmap)."""
    scale = GATE_SCALE if gate else DIVERGING
    t = value if gate else (value / peak + 1) / 2
    t = float(np.clip(t, 0, 1)) if np.isfinite(t) else 0.5
    (a, ca), (b, cb) = (scale[0], scale[1]) if t <= scale[1][0] else (scale[1], scale[2])
    w = (t - a) / (b - a)
    rgb = [round(int(ca[i : i + 2], 16) * (1 - w) + int(cb[i : i + 2], 16) * w) for i in (1, 3, 5)]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def on_scale(values: np.ndarray, colorscale: list, cmin: float, cmax: float) -> np.ndarray:
    """RGB (uint8, shape + (3,)) of values on a Plotly colour scale [[stop, "#rrggbb"], ...]
    over cmin..cmax; NaN is white (Plotly leaves it empty)."""
    v = np.asarray(values, dtype=np.float64)
    span = cmax - cmin if cmax > cmin else 1.0
    t = np.clip((v - cmin) / span, 0, 1)
    stops = [float(s) for s, _ in colorscale]
    out = np.stack(
        [np.interp(t, stops, [int(c[i : i + 2], 16) for _, c in colorscale]) for i in (1, 3, 5)],
        axis=-1,
    )
    out[~np.isfinite(v)] = 255
    return out.round().astype(np.uint8)


def colours(values: np.ndarray, gate: bool, peak: float = 1.0) -> np.ndarray:
    """`colour` for many values at once: (N,) -> (N, 3) uint8 (NaN at the scale's middle)."""
    mid = 0.5 if gate else 0.0
    v = np.nan_to_num(np.asarray(values, dtype=np.float64), nan=mid)
    return on_scale(v, GATE_SCALE, 0.0, 1.0) if gate else on_scale(v, DIVERGING, -peak, peak)


MUTED = "#9a9a9a"  # tick labels of steps the model reads as unknown words


def ticks(categories: list[str], labels: list[str], most: int, limit: int = 10, muted=()) -> dict:
    """At most about `most` ticks on a category axis, labelled with the (escaped) labels cut to
    `limit` characters; labels at the indices in `muted` are greyed (Plotly's span styling)."""
    every = max(1, int(np.ceil(len(categories) / most)))
    idx = range(0, len(categories), every)
    grey = set(muted)
    text = [
        f'<span style="color:{MUTED}">{safe(labels[i], limit)}</span>' if i in grey
        else safe(labels[i], limit)
        for i in idx
    ]  # fmt: skip
    return dict(tickvals=[categories[i] for i in idx], ticktext=text)


def step_axis(labels: list[str], start: int = 0, most: int = 30) -> dict:
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


def mark_steps(fig: go.Figure, marks: dict[str, int], start: int, stop: int) -> None:
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
