"""The cell diagram as SVG text, for the views that redraw it at every step, and its layout for
a projector.

The geometry is `diagram.cell_geometry`'s (in diagram units); this module only renders it. With
`min_px` and `width_px` the drawing is laid out `width_px` units wide around text of `min_px`:
the notes get the room they need beyond the drawing, and the blocks grow to hold their labels
(up to touching their neighbours; `diagram_width` says how wide the panel must be for that).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from lstm_viz.figures.diagram import HALF_H, HALF_W, HEIGHT, RADIUS, WIDTH, Cell, cell_geometry
from lstm_viz.figures.svg import projector, svg_open, text, text_width


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


@functools.lru_cache(maxsize=32)  # a search over widths: a fifth of a presenter's step's work
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
