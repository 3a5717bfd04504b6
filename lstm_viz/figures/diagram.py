"""The cell at one step, drawn: an LSTM (or GRU / RNN) cell diagram with live numbers for one unit.

In the spirit of the classic LSTM figure: the cell-state line runs along the top, the forget gate
multiplies it, input gate times candidate is added to it, and the output gate reads it out
through tanh into the hidden state. Each block is coloured by its value (gates on 0..1, the rest
diverging about 0) and the update is written out with this step's numbers:
    c(t) = f * c(t-1) + i * g        h(t) = o * tanh(c(t))
PyTorch's GRU: h(t) = (1 - z) * n + z * h(t-1); plain RNN: h(t) = tanh(W x(t) + U h(t-1) + b).

One geometry (`cell_geometry`: blocks, operators, wires, notes, in diagram units 0..12 by
0..7.2) and two renderings of it: Plotly (`cell_diagram` here, for export and notebooks) and SVG
(`diagram_svg.cell_diagram_svg`, for the views that redraw it at every step).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import plotly.graph_objects as go

from lstm_viz.figures.style import TEMPLATE, colour, fast_figure, safe

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
