"""The cell at one step, drawn: an LSTM (or GRU / RNN) cell diagram with live numbers for one unit.

In the spirit of the classic LSTM figure: the cell-state line runs along the top, the forget gate
multiplies it, input gate times candidate is added to it, and the output gate reads it out
through tanh into the hidden state. Each block is coloured by its value (gates on 0..1, the rest
diverging about 0) and the update is written out with this step's numbers:
    c(t) = f * c(t-1) + i * g        h(t) = o * tanh(c(t))
PyTorch's GRU: h(t) = (1 - z) * n + z * h(t-1); plain RNN: h(t) = tanh(W x(t) + U h(t-1) + b).

One geometry (`cell_geometry`: blocks, operators, wires, notes, in diagram units 0..12 by
0..7.2) and two renderings of it: Plotly (`cell_diagram`, for export and notebooks) and SVG
(`cell_diagram_svg`, for the views that redraw it at every step).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import plotly.graph_objects as go

from lstm_viz.figures.style import TEMPLATE, colour, fast_figure, safe
from lstm_viz.figures.svg import projector, svg_open, text, text_width

WIDTH, HEIGHT = 12, 7.2  # the drawing, in diagram units
HALF_W, HALF_H = 0.8, 0.55  # half a block; the wires stop at its edges
RADIUS = 0.28  # an operator's circle (× and +); the wires stop at its edge
ANCHORS = ("left", "right", "center")  # a note's text starts, ends or is centred at its point
SUBSCRIPT = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


@dataclass(frozen=True)
class Block:
    """A gate or squashing block, coloured by its value on the heatmaps' scales."""

    x: float
    y: float
    label: str  # name and value in our markup: "<b>σ forget</b><br>0.800"
    fill: str
    ink: str  # text colour readable on `fill`


@dataclass(frozen=True)
class Cell:
    """Everything drawn, in diagram units (x 0..WIDTH left to right, y 0..HEIGHT bottom up)."""

    blocks: list[Block]
    ops: list[tuple[float, float, str]]  # (x, y, symbol)
    lines: list[tuple[float, float, float, float]]  # wires (x0, y0, x1, y1)
    notes: list[tuple[float, float, str, str]]  # (x, y, text, anchor in ANCHORS)
    title: str  # the update with this step's numbers; lines split by <br>
    height: int  # px of the Plotly rendering


def _n(v: float) -> str:
    return f"{v:+.3f}"


def _block(x: float, y: float, name: str, value: float, gate: bool) -> Block:
    dark = gate and value > 0.55 or not gate and abs(value) > 0.6
    label = f"<b>{name}</b><br>{f'{value:.3f}' if gate else _n(value)}"
    return Block(x, y, label, colour(value, gate), "white" if dark else "#111")


def _lstm(values: dict[str, float], unit: int, step: int, token: str) -> Cell:
    """One LSTM unit at one step (the classic figure's layout)."""
    c0, h0 = values["c_prev"], values["h_prev"]
    f, i, g, o = values["forget"], values["input"], values["candidate"], values["output"]
    c, h = values["cell"], values["hidden"]
    tc = float(np.tanh(c))
    blocks = [
        _block(2.6, 2.8, "σ forget", f, True),
        _block(4.3, 2.8, "σ input", i, True),
        _block(6.0, 2.8, "candidate", g, False),
        _block(7.7, 2.8, "σ output", o, True),
        _block(9.6, 4.7, "tanh", tc, False),
    ]
    ops = [(2.6, 6.0, "×"), (5.15, 4.6, "×"), (5.15, 6.0, "+"), (9.6, 2.8, "×")]
    lines = [  # each wire stops at the edge of a block or an operator
        (1.2, 6.0, 10.8, 6.0),  # the cell-state line c(t-1) -> c(t)
        (1.2, 1.2, 7.7, 1.2), (1.9, 0.3, 1.9, 1.2),  # h(t-1), joined by x(t), feeds every block
        (2.6, 1.2, 2.6, 2.25), (2.6, 3.35, 2.6, 5.72),  # forget -> × on the cell line
        (4.3, 1.2, 4.3, 2.25), (4.3, 3.35, 4.3, 4.6), (4.3, 4.6, 4.87, 4.6),  # input -> i·g
        (6.0, 1.2, 6.0, 2.25), (6.0, 3.35, 6.0, 4.6), (6.0, 4.6, 5.43, 4.6),  # candidate -> i·g
        (5.15, 4.88, 5.15, 5.72),  # i·g -> + on the cell line
        (7.7, 1.2, 7.7, 2.25), (8.45, 2.8, 9.32, 2.8),  # output -> ×
        (9.6, 6.0, 9.6, 5.25), (9.6, 4.15, 9.6, 3.08),  # c(t) -> tanh -> ×
        (9.88, 2.8, 10.8, 2.8), (10.4, 2.8, 10.4, 1.2), (10.4, 1.2, 10.8, 1.2),  # h(t), twice
    ]  # fmt: skip
    notes = [
        (1.1, 6.0, f"c(t-1)<br>{_n(c0)}", "right"),
        (10.9, 6.0, f"c(t)<br>{_n(c)}", "left"),
        (1.1, 1.2, f"h(t-1)<br>{_n(h0)}", "right"),
        (10.9, 2.8, f"h(t)<br>{_n(h)}", "left"),
        (2.1, 0.3, f"x(t) = {safe(token, 16)}", "left"),
        (2.75, 5.1, f"f·c(t-1)<br>{_n(f * c0)}", "left"),  # two lines: clear of i·g
        (5.3, 5.3, f"i·g {_n(i * g)}", "left"),
    ]
    title = (
        f"unit {unit}, step {step}<br>c(t) = f·c(t-1) + i·g<br>"
        f"     = {f:.3f}×({_n(c0)}) + {i:.3f}×({_n(g)}) = {_n(c)}<br>"
        f"h(t) = o·tanh(c(t)) = {o:.3f}×({_n(tc)}) = {_n(h)}"
    )
    return Cell(blocks, ops, lines, notes, title, 400)


def _gru(values: dict[str, float], unit: int, step: int, token: str) -> Cell:
    """One GRU unit at one step: values holds h_prev, reset, update, new, hidden."""
    h0, r, z, n, h = (values[k] for k in ("h_prev", "reset", "update", "new", "hidden"))
    blocks = [
        _block(3.2, 2.8, "σ reset", r, True),
        _block(5.2, 2.8, "σ update", z, True),
        _block(7.4, 2.8, "tanh new", n, False),
    ]
    ops = [(5.2, 6.0, "×"), (7.4, 4.6, "×"), (8.8, 6.0, "+")]
    lines = [  # each wire stops at the edge of a block or an operator
        (1.2, 6.0, 4.92, 6.0), (5.48, 6.0, 8.52, 6.0), (9.08, 6.0, 10.8, 6.0),  # h(t-1) -> h(t)
        (1.2, 1.2, 7.4, 1.2), (1.9, 0.3, 1.9, 1.2), (1.6, 6.0, 1.6, 1.2),  # h(t-1), x(t) feed in
        (3.2, 1.2, 3.2, 2.25), (3.2, 3.35, 3.2, 4.0), (3.2, 4.0, 6.4, 4.0),  # reset ...
        (6.4, 4.0, 6.4, 2.8), (6.4, 2.8, 6.65, 2.8),  # ... scales h(t-1) inside new
        (5.2, 1.2, 5.2, 2.25), (5.2, 3.35, 5.2, 5.72),  # update -> z·h(t-1)
        (7.4, 1.2, 7.4, 2.25), (7.4, 3.35, 7.4, 4.32),  # new -> (1-z)·n
        (7.68, 4.6, 8.8, 4.6), (8.8, 4.6, 8.8, 5.72),  # (1-z)·n -> +
    ]  # fmt: skip
    notes = [
        (1.1, 6.0, f"h(t-1)<br>{_n(h0)}", "right"),
        (10.9, 6.0, f"h(t)<br>{_n(h)}", "left"),
        (2.1, 0.3, f"x(t) = {safe(token, 16)}", "left"),
        (5.35, 5.1, f"z·h(t-1) {_n(z * h0)}", "left"),
        (8.9, 5.1, f"(1-z)·n {_n((1 - z) * n)}", "left"),
    ]
    title = (
        f"unit {unit}, step {step}<br>h(t) = (1-z)·n + z·h(t-1)<br>"
        f"     = {1 - z:.3f}×({_n(n)}) + {z:.3f}×({_n(h0)}) = {_n(h)}"
    )
    return Cell(blocks, ops, lines, notes, title, 370)


def _rnn(values: dict[str, float], unit: int, step: int, token: str) -> Cell:
    """One plain-RNN unit at one step: values holds h_prev and hidden."""
    h0, h = values["h_prev"], values["hidden"]
    blocks = [_block(6.0, 3.5, "tanh", h, False)]
    lines = [(1.2, 3.5, 5.25, 3.5), (6.75, 3.5, 10.8, 3.5), (3.0, 1.0, 3.0, 3.5)]
    notes = [
        (1.1, 3.5, f"h(t-1)<br>{_n(h0)}", "right"),
        (10.9, 3.5, f"h(t)<br>{_n(h)}", "left"),
        (3.2, 1.0, f"x(t) = {safe(token, 16)}", "left"),
        (6.0, 5.3, "no gates: every step rewrites all of h", "center"),
    ]
    title = f"unit {unit}, step {step}<br>h(t) = tanh(W·x(t) + U·h(t-1) + b) = {_n(h)}"
    return Cell(blocks, [], lines, notes, title, 300)


def input_name(layer: int) -> str:
    """What a unit of `layer` reads: x(t) in layer 0, the layer below's hidden state above it."""
    if layer < 0:
        raise ValueError(f"layer {layer} is negative; layers count from 0")
    below = layer - 1
    return "x(t)" if layer == 0 else f"h{str(below).translate(SUBSCRIPT)}(t) (layer {below})"


def cell_geometry(
    kind: str,
    values: dict[str, float],
    unit: int,
    step: int,
    token: str = "",
    *,
    layer: int = 0,
    direction: int = 0,
) -> Cell:
    """The diagram of one unit at one step. kind: "lstm" (values: c_prev, h_prev, input, forget,
    candidate, output, cell, hidden), "gru" (h_prev, reset, update, new, hidden) or "rnn"
    (h_prev, hidden); token: the input at this step (escaped here).

    layer: above layer 0 a unit reads the layer below's hidden state, not the token: the input is
    labelled "h₀(t) (layer 0)" with no value (it is a vector). direction 1 (backward) reads its
    cell and hidden state from the next step: c(t+1), h(t+1), and the title says so."""
    parts = {"lstm": _lstm, "gru": _gru, "rnn": _rnn}
    if kind not in parts:
        raise ValueError(f"unknown cell kind {kind!r}; use one of {list(parts)} (a trace's .kind)")
    if direction not in (0, 1):
        raise ValueError(f"direction {direction!r}: use 0 (forward) or 1 (backward)")
    cell = parts[kind](values, unit, step, token)
    if layer == 0 and direction == 0:
        return cell
    source = input_name(layer)

    def relabel(t: str) -> str:
        if layer:  # the x(t) note carries the token: replace it whole
            t = t if not t.startswith("x(t) = ") else source
            t = t.replace("x(t)", source.split(" ")[0])  # in the formulas: h₀(t)
        return t.replace("(t-1)", "(t+1)") if direction else t

    notes = [(x, y, relabel(t), a) for x, y, t, a in cell.notes]
    head, _, rest = cell.title.partition("<br>")
    if direction:  # a line of its own: the first line stays "unit u, step s"
        carried = "c(t+1), h(t+1) come" if kind == "lstm" else "h(t+1) comes"
        head += f"<br>backward: {carried} from the next step"
    title = head + "<br>" + relabel(rest) if rest else head
    return replace(cell, notes=notes, title=title)


def cell_diagram(
    kind: str,
    values: dict[str, float],
    unit: int,
    step: int,
    token: str = "",
    *,
    layer: int = 0,
    direction: int = 0,
) -> go.Figure:
    """The diagram as a Plotly figure (arguments as `cell_geometry`)."""
    cell = cell_geometry(kind, values, unit, step, token, layer=layer, direction=direction)
    # a handful of traces instead of ~40 shapes and annotations: Plotly validates (server) and
    # lays out (browser) each annotation separately, which made every step ~10x slower
    lx, ly = [], []
    for x0, y0, x1, y1 in cell.lines:
        lx += [x0, x1, None]
        ly += [y0, y1, None]
    shapes = [
        dict(
            type="rect",
            x0=b.x - HALF_W,
            x1=b.x + HALF_W,
            y0=b.y - HALF_H,
            y1=b.y + HALF_H,
            fillcolor=b.fill,
            line=dict(color="#333", width=1.5),
            layer="below",  # under the text trace (lines stop at the block edges)
        )
        for b in cell.blocks
    ]
    traces = [
        dict(
            type="scatter",
            x=lx,
            y=ly,
            mode="lines",
            line=dict(color="#555", width=2),
            hoverinfo="skip",
        ),
        dict(
            type="scatter",
            x=[b.x for b in cell.blocks],
            y=[b.y for b in cell.blocks],
            mode="text",
            text=[b.label for b in cell.blocks],
            textfont=dict(size=11, color=[b.ink for b in cell.blocks]),
            hoverinfo="skip",
        ),
        dict(
            type="scatter",
            x=[o[0] for o in cell.ops],
            y=[o[1] for o in cell.ops],
            mode="markers+text",
            text=[o[2] for o in cell.ops],
            textfont=dict(size=14),
            marker=dict(size=20, color="white", line=dict(color="#333", width=1.5)),
            hoverinfo="skip",
        ),
    ]
    where = {"left": "middle right", "right": "middle left", "center": "middle center"}
    for anchor in ANCHORS:
        mine = [n for n in cell.notes if n[3] == anchor]
        if mine:
            traces.append(
                dict(
                    type="scatter",
                    x=[n[0] for n in mine],
                    y=[n[1] for n in mine],
                    mode="text",
                    text=[n[2] for n in mine],
                    textposition=where[anchor],
                    textfont=dict(size=11),
                    hoverinfo="skip",
                )
            )
    layout = dict(
        shapes=shapes,
        showlegend=False,
        template=TEMPLATE,
        height=cell.height,
        margin=dict(l=4, r=4, t=12 + 14 * (cell.title.count("<br>") + 1), b=4),
        title=dict(
            text=cell.title,
            x=0,
            y=1,
            yref="paper",
            yanchor="bottom",
            pad=dict(b=8),
            font=dict(family="monospace", size=11),
        ),
        xaxis=dict(visible=False, range=[0, WIDTH], fixedrange=True),
        yaxis=dict(visible=False, range=[0, HEIGHT], fixedrange=True),
    )
    return fast_figure(traces, layout)


@dataclass(frozen=True)
class _Fit:
    """The SVG layout: pixels per diagram unit, the pads left of 0 and right of WIDTH that the
    notes need, half a block's size and the text sizes (all in viewBox units)."""

    scale: float
    left: float
    right: float
    half_w: float
    half_h: float
    title: float  # the monospace title lines
    label: float  # block labels and notes
    symbol: float  # × and +


DEFAULT_FIT = _Fit(48, 0, 0, HALF_W * 48, HALF_H * 48, 15, 14, 18)  # the usual ~576-unit panel


def _fit(cell: Cell, size: float, width: float) -> _Fit:
    """Lay the drawing out `width` units wide with text of `size`: the notes get the pads they
    need beyond the drawing, and blocks grow (up to touching their neighbours) to hold their
    labels."""
    scale, left, right = width / WIDTH, 0.0, 0.0
    for _ in range(3):  # pads depend on the scale and the scale on the pads: settles fast
        left = right = 0.0
        for x, _y, note, anchor in cell.notes:
            w = text_width(note, size)
            lo = {"right": x * scale - w, "left": x * scale, "center": x * scale - w / 2}[anchor]
            left = max(left, -lo + 4)
            right = max(right, lo + w - WIDTH * scale + 4)
        scale = (width - left - right) / WIDTH
    widest = max((text_width(b.label, size, bold=True) for b in cell.blocks), default=0)
    half_w = min(max(HALF_W * scale, widest / 2 + size / 3), 0.84 * scale)
    half_h = max(HALF_H * scale, 1.3 * size)
    return _Fit(scale, left, right, half_w, half_h, size, size, 1.25 * size)


def diagram_width(kind: str, min_px: float = 16) -> int:
    """The narrowest `width_px` at which `cell_diagram_svg(..., min_px=min_px, width_px=...)`
    keeps every block's label inside its block and the title lines inside the panel (with
    typical numbers); give the diagram at least this many CSS px on a projector."""
    values = dict.fromkeys(("c_prev", "h_prev", "input", "forget", "candidate", "output", "cell",
                            "hidden", "reset", "update", "new"), -0.5)  # fmt: skip
    cell = cell_geometry(kind, values, 100, 1000, "token", layer=1, direction=1)
    for width in range(200, 4000, 10):
        fit = _fit(cell, min_px, width)
        title = max(text_width(t, min_px, mono=True) for t in cell.title.split("<br>"))
        widest = max((text_width(b.label, min_px, bold=True) for b in cell.blocks), default=0)
        if widest <= 2 * fit.half_w - 4 and title <= width:
            return width
    raise AssertionError("no width fits")  # unreachable: the drawing grows with the width


def cell_diagram_svg(
    kind: str,
    values: dict[str, float],
    unit: int,
    step: int,
    token: str = "",
    *,
    layer: int = 0,
    direction: int = 0,
    min_px: float | None = None,
    width_px: float | None = None,
) -> str:
    """The diagram as inline SVG text (arguments as `cell_geometry`), for views that redraw it
    at every step: Streamlit remounts a Plotly chart whenever its figure changes (a full
    Plotly.newPlot); an SVG string is swapped in place by the browser at a small fraction of that
    cost.

    min_px, width_px: for a projector, lay the diagram out `width_px` wide with every label and
    number at least `min_px`: drawn at least `width_px` CSS px wide, every text is at least
    `min_px` CSS px (see `svg`). Below `diagram_width(kind, min_px)` the labels outgrow their
    blocks."""
    cell = cell_geometry(kind, values, unit, step, token, layer=layer, direction=direction)
    size = projector(min_px, width_px, 14)
    fit = DEFAULT_FIT if size is None else _fit(cell, size, width_px)
    heads = cell.title.split("<br>")
    line = round(fit.title * 1.27)  # 19 at the usual 15
    top = line * len(heads) + 10  # title lines above the drawing
    scale = fit.scale

    def px(x: float, y: float) -> tuple[float, float]:
        return fit.left + x * scale, top + (HEIGHT - y) * scale

    width = fit.left + WIDTH * scale + fit.right
    parts = [svg_open(width, HEIGHT * scale + top, "cell diagram")]
    parts += [
        text(0, line * (k + 0.58), head, "start", fit.title, family="monospace")
        for k, head in enumerate(heads)
    ]
    path = "".join(
        f"M{px(a, b)[0]:.1f},{px(a, b)[1]:.1f}L{px(c, d)[0]:.1f},{px(c, d)[1]:.1f}"
        for a, b, c, d in cell.lines
    )
    parts.append(f'<path d="{path}" stroke="#555" stroke-width="2" fill="none"/>')
    for b in cell.blocks:
        cx, cy = px(b.x, b.y)
        parts.append(
            f'<rect x="{cx - fit.half_w:.1f}" y="{cy - fit.half_h:.1f}" '
            f'width="{2 * fit.half_w:.1f}" height="{2 * fit.half_h:.1f}" '
            f'fill="{b.fill}" stroke="#333" stroke-width="1.5"/>'
        )
        parts.append(text(cx, cy, b.label, "middle", fit.label, b.ink))
    radius = max(RADIUS * scale, 0.8 * fit.symbol)  # the symbol stays inside its circle
    for x, y, symbol in cell.ops:
        cx, cy = px(x, y)
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{radius:.1f}" fill="white" '
            'stroke="#333" stroke-width="1.5"/>'
        )
        parts.append(text(cx, cy, symbol, "middle", fit.symbol))
    svg_anchor = {"left": "start", "right": "end", "center": "middle"}
    for x, y, note, anchor in cell.notes:
        cx, cy = px(x, y)
        parts.append(text(cx, cy, note, svg_anchor[anchor], fit.label))
    parts.append("</svg>")
    return "".join(parts)
