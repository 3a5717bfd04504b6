"""The cell at one step, drawn: an LSTM (or GRU / RNN) cell diagram with live numbers for one unit.

In the spirit of the classic LSTM figure: the cell-state line runs along the top, the forget gate
multiplies it, input gate times candidate is added to it, and the output gate reads it out
through tanh into the hidden state. Each block is coloured by its value (gates on 0..1, the rest
diverging about 0) and the update is written out with this step's numbers:
    c(t) = f * c(t-1) + i * g        h(t) = o * tanh(c(t))
PyTorch's GRU: h(t) = (1 - z) * n + z * h(t-1); plain RNN: h(t) = tanh(W x(t) + U h(t-1) + b).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from lstm_viz.figures import TEMPLATE, fast_figure, safe
from lstm_viz.svg import STYLE as _STYLE
from lstm_viz.svg import colour as _colour
from lstm_viz.svg import text as _svg_text

_LINE = dict(color="#555", width=2)


def _draw(blocks, ops, lines, notes, title: str, height: int) -> go.Figure:
    """blocks: (x, y, name, value, is_gate); ops: (x, y, symbol); lines: (x0, y0, x1, y1);
    notes: (x, y, text, anchor). Coordinates in diagram units (0..12 by 0..7)."""
    # a handful of traces instead of ~40 shapes and annotations: Plotly validates (server) and
    # lays out (browser) each annotation separately, which made every step ~10x slower
    lx, ly = [], []
    for x0, y0, x1, y1 in lines:
        lx += [x0, x1, None]
        ly += [y0, y1, None]
    shapes = []
    block_text, block_colour = [], []
    for x, y, name, value, gate in blocks:
        dark = gate and value > 0.55 or not gate and abs(value) > 0.6
        shapes.append(
            dict(
                type="rect",
                x0=x - 0.8,
                x1=x + 0.8,
                y0=y - 0.55,
                y1=y + 0.55,
                fillcolor=_colour(value, gate),
                line=dict(color="#333", width=1.5),
                layer="below",  # under the text trace (lines stop at the block edges)
            )
        )
        block_text.append(f"<b>{name}</b><br>{f'{value:.3f}' if gate else _n(value)}")
        block_colour.append("white" if dark else "#111")
    traces = [
        dict(type="scatter", x=lx, y=ly, mode="lines", line=_LINE, hoverinfo="skip"),
        dict(
            type="scatter",
            x=[b[0] for b in blocks],
            y=[b[1] for b in blocks],
            mode="text",
            text=block_text,
            textfont=dict(size=11, color=block_colour),
            hoverinfo="skip",
        ),
        dict(
            type="scatter",
            x=[o[0] for o in ops],
            y=[o[1] for o in ops],
            mode="markers+text",
            text=[o[2] for o in ops],
            textfont=dict(size=14),
            marker=dict(size=20, color="white", line=dict(color="#333", width=1.5)),
            hoverinfo="skip",
        ),
    ]
    where = {"left": "middle right", "right": "middle left", "center": "middle center"}
    for anchor, position in where.items():
        mine = [n for n in notes if n[3] == anchor]
        if mine:
            traces.append(
                dict(
                    type="scatter",
                    x=[n[0] for n in mine],
                    y=[n[1] for n in mine],
                    mode="text",
                    text=[n[2] for n in mine],
                    textposition=position,
                    textfont=dict(size=11),
                    hoverinfo="skip",
                )
            )
    layout = dict(
        shapes=shapes,
        showlegend=False,
        template=TEMPLATE,
        height=height,
        margin=dict(l=4, r=4, t=12 + 14 * (title.count("<br>") + 1), b=4),
        title=dict(
            text=title,
            x=0,
            y=1,
            yref="paper",
            yanchor="bottom",
            pad=dict(b=8),
            font=dict(family="monospace", size=11),
        ),
        xaxis=dict(visible=False, range=[0, 12], fixedrange=True),
        yaxis=dict(visible=False, range=[0, 7.2], fixedrange=True),
    )
    return fast_figure(traces, layout)


def _n(v: float) -> str:
    return f"{v:+.3f}"


def _lstm_parts(values: dict[str, float], unit: int, step: int, token: str) -> tuple:
    """One LSTM unit at one step: values holds c_prev, h_prev, input, forget, candidate, output,
    cell, hidden (floats)."""
    c0, h0 = values["c_prev"], values["h_prev"]
    f, i, g, o = values["forget"], values["input"], values["candidate"], values["output"]
    c, h = values["cell"], values["hidden"]
    tc = float(np.tanh(c))
    blocks = [
        (2.6, 2.8, "σ forget", f, True),
        (4.3, 2.8, "σ input", i, True),
        (6.0, 2.8, "candidate", g, False),
        (7.7, 2.8, "σ output", o, True),
        (9.6, 4.7, "tanh", tc, False),
    ]
    ops = [(2.6, 6.0, "×"), (5.15, 4.6, "×"), (5.15, 6.0, "+"), (9.6, 2.8, "×")]
    lines = [
        (1.2, 6.0, 10.8, 6.0),  # the cell-state line c(t-1) -> c(t)
        (1.2, 1.2, 7.7, 1.2),  # h(t-1) (joined by x(t)) feeds every block
        (1.9, 0.3, 1.9, 1.2),
        (2.6, 1.2, 2.6, 2.25),
        (2.6, 3.35, 2.6, 5.72),
        (4.3, 1.2, 4.3, 2.25),
        (4.3, 3.35, 4.3, 4.6),
        (4.3, 4.6, 4.87, 4.6),
        (6.0, 1.2, 6.0, 2.25),
        (6.0, 3.35, 6.0, 4.6),
        (6.0, 4.6, 5.43, 4.6),
        (5.15, 4.88, 5.15, 5.72),
        (7.7, 1.2, 7.7, 2.25),
        (8.45, 2.8, 9.32, 2.8),
        (9.6, 6.0, 9.6, 5.25),
        (9.6, 4.15, 9.6, 3.08),
        (9.88, 2.8, 10.8, 2.8),
        (10.4, 2.8, 10.4, 1.2),
        (10.4, 1.2, 10.8, 1.2),
    ]
    notes = [
        (1.1, 6.0, f"c(t-1)<br>{_n(c0)}", "right"),
        (10.9, 6.0, f"c(t)<br>{_n(c)}", "left"),
        (1.1, 1.2, f"h(t-1)<br>{_n(h0)}", "right"),
        (10.9, 2.8, f"h(t)<br>{_n(h)}", "left"),
        (2.1, 0.3, f"x(t) = {safe(token, 16)}", "left"),
        (2.75, 5.1, f"f·c(t-1) {_n(f * c0)}", "left"),
        (5.3, 5.3, f"i·g {_n(i * g)}", "left"),
    ]
    title = (
        f"unit {unit}, step {step}<br>c(t) = f·c(t-1) + i·g<br>"
        f"     = {f:.3f}×({_n(c0)}) + {i:.3f}×({_n(g)}) = {_n(c)}<br>"
        f"h(t) = o·tanh(c(t)) = {o:.3f}×({_n(tc)}) = {_n(h)}"
    )
    return blocks, ops, lines, notes, title, 400


def _gru_parts(values: dict[str, float], unit: int, step: int, token: str) -> tuple:
    """One GRU unit at one step: values holds h_prev, reset, update, new, hidden."""
    h0, r, z, n, h = (values[k] for k in ("h_prev", "reset", "update", "new", "hidden"))
    blocks = [
        (3.2, 2.8, "σ reset", r, True),
        (5.2, 2.8, "σ update", z, True),
        (7.4, 2.8, "tanh new", n, False),
    ]
    ops = [(5.2, 6.0, "×"), (7.4, 4.6, "×"), (8.8, 6.0, "+")]
    lines = [
        (1.2, 6.0, 4.92, 6.0),
        (5.48, 6.0, 8.52, 6.0),
        (9.08, 6.0, 10.8, 6.0),
        (1.2, 1.2, 7.4, 1.2),
        (1.9, 0.3, 1.9, 1.2),
        (1.6, 6.0, 1.6, 1.2),
        (3.2, 1.2, 3.2, 2.25),
        (3.2, 3.35, 3.2, 4.0),
        (3.2, 4.0, 6.4, 4.0),
        (6.4, 4.0, 6.4, 2.8),
        (6.4, 2.8, 6.65, 2.8),
        (5.2, 1.2, 5.2, 2.25),
        (5.2, 3.35, 5.2, 5.72),
        (7.4, 1.2, 7.4, 2.25),
        (7.4, 3.35, 7.4, 4.32),
        (7.68, 4.6, 8.8, 4.6),
        (8.8, 4.6, 8.8, 5.72),
    ]
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
    return blocks, ops, lines, notes, title, 370


def _rnn_parts(values: dict[str, float], unit: int, step: int, token: str) -> tuple:
    """One plain-RNN unit at one step: values holds h_prev and hidden."""
    h0, h = values["h_prev"], values["hidden"]
    blocks = [(6.0, 3.5, "tanh", h, False)]
    lines = [(1.2, 3.5, 5.25, 3.5), (6.75, 3.5, 10.8, 3.5), (3.0, 1.0, 3.0, 3.5)]
    notes = [
        (1.1, 3.5, f"h(t-1)<br>{_n(h0)}", "right"),
        (10.9, 3.5, f"h(t)<br>{_n(h)}", "left"),
        (3.2, 1.0, f"x(t) = {safe(token, 16)}", "left"),
        (6.0, 5.3, "no gates: every step rewrites all of h", "center"),
    ]
    title = f"unit {unit}, step {step}<br>h(t) = tanh(W·x(t) + U·h(t-1) + b) = {_n(h)}"
    return blocks, [], lines, notes, title, 300


def lstm_cell_diagram(values: dict[str, float], unit: int, step: int, token: str = "") -> go.Figure:
    """One LSTM unit at one step: values holds c_prev, h_prev, input, forget, candidate, output,
    cell, hidden (floats)."""
    return _draw(*_lstm_parts(values, unit, step, token))


def gru_cell_diagram(values: dict[str, float], unit: int, step: int, token: str = "") -> go.Figure:
    """One GRU unit at one step: values holds h_prev, reset, update, new, hidden."""
    return _draw(*_gru_parts(values, unit, step, token))


def rnn_cell_diagram(values: dict[str, float], unit: int, step: int, token: str = "") -> go.Figure:
    """One plain-RNN unit at one step: values holds h_prev and hidden."""
    return _draw(*_rnn_parts(values, unit, step, token))


def cell_diagram_svg(
    kind: str, values: dict[str, float], unit: int, step: int, token: str = ""
) -> str:
    """The same diagram as inline SVG text, for views that redraw it at every step.

    Streamlit remounts a Plotly chart whenever its figure changes (a full Plotly.newPlot); an
    SVG string is swapped in place by the browser at a small fraction of that cost.
    """
    parts = {"lstm": _lstm_parts, "gru": _gru_parts}.get(kind, _rnn_parts)
    return _svg(*parts(values, unit, step, token))


_PX = 48  # pixels per diagram unit in the SVG
_ANCHOR = {"left": "start", "right": "end", "center": "middle"}


def _svg(blocks, ops, lines, notes, title: str, height: int) -> str:
    heads = title.split("<br>")
    top = 19 * len(heads) + 10  # title lines above the drawing
    w, h = 12 * _PX, 7.2 * _PX

    def px(x: float, y: float) -> tuple[float, float]:
        return x * _PX, top + (7.2 - y) * _PX

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w:.0f} {h + top:.0f}" '
        f'width="100%" role="img" aria-label="cell diagram">' + _STYLE
    ]
    parts += [
        _svg_text(0, 11 + 19 * k, line, "start", 15, family="monospace")
        for k, line in enumerate(heads)
    ]
    path = "".join(
        f"M{px(a, b)[0]:.1f},{px(a, b)[1]:.1f}L{px(c, d)[0]:.1f},{px(c, d)[1]:.1f}"
        for a, b, c, d in lines
    )
    parts.append(f'<path d="{path}" stroke="#555" stroke-width="2" fill="none"/>')
    for x, y, name, value, gate in blocks:
        cx, cy = px(x, y)
        dark = gate and value > 0.55 or not gate and abs(value) > 0.6
        parts.append(
            f'<rect x="{cx - 0.8 * _PX:.1f}" y="{cy - 0.55 * _PX:.1f}" '
            f'width="{1.6 * _PX:.1f}" height="{1.1 * _PX:.1f}" '
            f'fill="{_colour(value, gate)}" stroke="#333" stroke-width="1.5"/>'
        )
        label = f"<b>{name}</b><br>{f'{value:.3f}' if gate else _n(value)}"
        parts.append(_svg_text(cx, cy, label, "middle", 14, "white" if dark else "#111"))
    for x, y, symbol in ops:
        cx, cy = px(x, y)
        parts.append(
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{0.28 * _PX:.1f}" fill="white" '
            'stroke="#333" stroke-width="1.5"/>'
        )
        parts.append(_svg_text(cx, cy, symbol, "middle", 18))
    for x, y, text, anchor in notes:
        cx, cy = px(x, y)
        parts.append(_svg_text(cx, cy, text, _ANCHOR[anchor], 14))
    parts.append("</svg>")
    return "".join(parts)
