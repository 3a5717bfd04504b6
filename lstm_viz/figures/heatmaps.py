"""Heatmaps of a trace: every gate and state over time (with a colour key per scale) and the
whole-sequence overview (units ranked against a signal are in `ranking`).

Arrays and labels in, `go.Figure` out (the per-step strip of every unit is in `strip`); nothing
here knows about models or Streamlit. Values are drawn on `style`'s scales: gates 0..1, the rest
about 0.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lstm_viz.figures.style import (
    MARGIN,
    TEMPLATE,
    fast_figure,
    step_categories,
    ticks,
    value_scale,
)

TOKEN_CHARS = 8  # time-axis tokens are cut to this many characters when `font` is given


def heatmap_margin(font: int | None = None) -> dict:
    """The fixed margins (px) of `gate_heatmaps(..., font=font)`: `MARGIN` for the usual 12 px
    text, wider for larger text (room for rotated tokens below, the colour keys on the right).
    The app's step marker must be placed with the same margins as the figure it covers."""
    if font is None:
        return dict(MARGIN)
    if font <= 0:
        raise ValueError(f"font {font} px: give a positive size such as 16, or None")
    k = font / 12
    below = font * (TOKEN_CHARS * 0.6 * 0.87 + 0.5 + 1.3) + 8  # a token at -60 degrees, "step"
    return dict(
        l=max(MARGIN["l"], round(MARGIN["l"] * k)),
        r=max(MARGIN["r"], round(5.5 * font)),  # the key and its ticks
        t=max(MARGIN["t"], round(MARGIN["t"] * k)),
        b=max(MARGIN["b"], round(below)),
    )


def _key_title(names: list[str], scale: dict) -> str:
    """A colour key's title: the maps it covers and, for the fixed scales, the range."""
    if "cmid" not in scale:  # the gates' fixed 0..1
        return f"{', '.join(names)}: 0..1"
    if scale["cmax"] == 1.0:  # the tanh range, shared by the bounded maps
        return f"{', '.join(names)}: −1..1"
    return ", ".join(names)  # its own range: the key's ticks give it


def gate_heatmaps(
    maps: dict[str, np.ndarray],
    labels: list[str],
    units: list[int] | None = None,
    window: tuple[int, int] | None = None,
    step: int | None = None,
    clamped: dict[str, np.ndarray] | None = None,
    row_height: int | None = None,
    *,
    font: int | None = None,
    highlight_unit: int | None = None,
    muted: list[int] | tuple[int, ...] = (),
) -> go.Figure:
    """Every map of `maps` (name -> (T, units)) as a heatmap, stacked on one shared time axis.

    muted: steps whose time-axis label is greyed (words the model reads as unknown).

    units: rows to show, in this order (default all); window: (start, stop) steps to draw (default
    all); step: draw a marker at this step; clamped: name -> (T, units) bool, marked with an x.
    Values are sent as float32 (about 7 significant digits) to keep the figure small.

    One colour key per scale, beside the first map on it (and the maps right below it on the same
    scale), titled above that map's right end with every map it covers: "forget, input, output:
    0..1", "candidate, hidden: −1..1", "cell" (its own range).

    font: every text (ticks, tokens, map titles, colour keys) at this many px, for a projector
    (None: 12 px); larger text shows every k-th unit and step so ticks do not overlap, cuts tokens
    to `TOKEN_CHARS` and widens the margins to `heatmap_margin(font)`. highlight_unit: outline
    that unit's row on every map (ignored if it is not among `units`).
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
    margin = heatmap_margin(font)
    px = font or 12
    x = step_categories(labels[start:stop], start)
    y = [str(u) for u in units]
    n = len(maps)
    row_height = row_height or int(np.clip(3 * len(units), 80, 180))
    gap = round(22 * px / 12)  # px between maps, room for each map's title
    height = margin["t"] + margin["b"] + n * row_height + (n - 1) * gap
    plot_h = height - margin["t"] - margin["b"]
    traces, notes, shapes, outlines = [], [], [], []
    layout: dict = {}
    axes_of: dict[str, str] = {}  # coloraxis per scale, shared by maps on the same scale
    covers: dict[str, list[int]] = {}  # coloraxis -> the maps drawn on it
    domains, scales = [], {}
    for k, (name, values) in enumerate(maps.items()):
        z = np.ascontiguousarray(values[start:stop][:, units].T, dtype=np.float32)  # (U, W)
        scale = value_scale(name, values[start:stop][:, units])
        key = str(sorted(scale.items()))
        if key not in axes_of:
            axes_of[key] = "coloraxis" + ("" if not axes_of else str(len(axes_of) + 1))
        cax = axes_of[key]
        covers.setdefault(cax, []).append(k)
        scales[cax] = scale
        top = 1 - k * (row_height + gap) / plot_h
        domain = [max(0.0, top - row_height / plot_h), top]
        domains.append(domain)
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
            # first unit on top; a set range, or Plotly widens it for the outlines' line width
            # and the maps no longer fill the plot area the step marker is placed on
            range=[len(units) - 0.5, -0.5],
            fixedrange=True,
            anchor="x",
            title=dict(text="unit", standoff=4, font=dict(size=px)),
            tickfont=dict(size=px),
            **ticks(y, y, max(2, row_height // (14 if font is None else round(1.5 * px)))),
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
                font=dict(size=px),
            )
        )
        if highlight_unit is not None and int(highlight_unit) in units:
            row = units.index(int(highlight_unit))  # category index: rows sit at 0, 1, ...
            # black on a white halo: visible on the light and the dark ends of every scale,
            # and unlike the step marker's orange
            outlines += [
                dict(
                    type="rect", xref="x", yref=ya, x0=-0.5, x1=stop - start - 0.5,
                    y0=row - 0.5, y1=row + 0.5, line=dict(color=ink, width=width),
                    name=f"unit {int(highlight_unit)}",
                )
                for ink, width in (("white", 5), ("#111", 2))
            ]  # fmt: skip
    names = list(maps)
    for cax, ks in covers.items():
        run = [ks[0]]  # the key spans the maps right below its first one on the same scale
        while run[-1] + 1 in ks:
            run.append(run[-1] + 1)
        top, bottom = domains[run[0]][1], domains[run[-1]][0]
        # the title reads across, above the key's first map at its right end, next to the
        # bar: written up the side of a short bar it would not fit
        notes.append(
            dict(
                text=_key_title([names[k] for k in ks], scales[cax]), name=f"key {cax}",
                x=1, xref="paper", xanchor="right", y=top, yref="paper", yanchor="bottom",
                showarrow=False, font=dict(size=px),
            )
        )  # fmt: skip
        lo, hi = scales[cax]["cmin"], scales[cax]["cmax"]
        # three ticks on a short key, five when they fit 1.6 lines of text apart
        values = np.linspace(lo, hi, 5 if (top - bottom) * plot_h >= 6.4 * px else 3)
        layout[cax] = dict(
            **scales[cax],
            colorbar=dict(
                tickfont=dict(size=px),
                tickvals=values.tolist(),
                ticktext=[f"{v:.3g}".replace("-", "−") for v in values],
                x=1.01,
                xanchor="left",
                thickness=10 if font is None else round(0.8 * px),
                len=top - bottom,
                y=top,
                yanchor="top",
                lenmode="fraction",
            ),
        )
    last = "y" if n == 1 else f"y{n}"
    # rotated tokens need about 1.4 x their size apart; 40 ticks at 12 px, fewer when larger
    most, cut = (40, 10) if font is None else (max(4, int(40 * 12 / px)), TOKEN_CHARS)
    layout["xaxis"] = dict(
        type="category",
        range=[-0.5, stop - start - 0.5],  # the maps fill the plot area (see the y axes)
        anchor=last,
        fixedrange=True,
        tickangle=-60,
        tickfont=dict(size=px),
        title=dict(text="step", standoff=2, font=dict(size=px)),
        **ticks(x, labels[start:stop], most, cut, [t - start for t in muted if start <= t < stop]),
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
            margin=dict(**margin, autoexpand=False),
            showlegend=False,
            annotations=notes,
            shapes=shapes + outlines,  # the step marker first
            **({} if font is None else dict(font=dict(size=px))),
            **layout,
        ),
    )


def overview(
    values: np.ndarray,
    name: str,
    window: tuple[int, int],
    bins: int = 200,
    *,
    font: int | None = None,
) -> go.Figure:
    """The whole sequence of one map, averaged into at most `bins` time bins, with the window.

    font: every text at this many px (None: 12), with the margins of `gate_heatmaps(...,
    font=font)` (`heatmap_margin`) so one step marker rule fits both; the plot stays 60 px tall.
    """
    margin, px = heatmap_margin(font), font or 12
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
        height=60 + margin["t"] + margin["b"],  # 150 with the usual margins
        margin=dict(**margin, autoexpand=False),
        coloraxis=dict(**value_scale(name, values), showscale=False),
        font=dict(size=px),
        xaxis=dict(range=[0, steps], fixedrange=True, title=dict(text="step", standoff=2),
                   tickfont=dict(size=px)),
        yaxis=dict(fixedrange=True, autorange="reversed", title="unit", range=[n_units, 0],
                   tickfont=dict(size=px), nticks=3 if font else None),
        title=dict(text=f"overview: mean {name}", x=0, font=dict(size=px)),
    )  # fmt: skip
    return fig
