"""Every unit at one step as a strip of coloured cells (SVG text): the per-step companion of the
heatmaps, on the same colour scales, units in the same order."""

from __future__ import annotations

import base64

import numpy as np

from lstm_viz.cells import SIGMOID_NAMES
from lstm_viz.figures.style import colours, value_scale
from lstm_viz.figures.svg import png, projector, svg_open, text, text_width


def unit_strip(
    values: dict[str, np.ndarray],
    units: list[int],
    step: int,
    *,
    min_px: float | None = None,
    width_px: float | None = None,
) -> str:
    """Every unit's value of each name at one step (name -> (units,)): a row of cells per name,
    units left to right in the heatmaps' order, coloured on the heatmaps' scales.

    min_px, width_px: for a projector, lay the strip out `width_px` wide with every text (title,
    names, unit numbers: every k-th unit so they do not overlap) at least `min_px`; drawn at least
    `width_px` CSS px wide, every text is at least `min_px` CSS px (see `svg`)."""
    names = list(values)
    size = projector(min_px, width_px, 12)
    n = max(len(units), 1)
    if size is None:
        # cells sized so the strip is ~500 units wide whatever the unit count: text stays readable
        label_w, cell_w, cell_h, top = 80, int(np.clip(420 // n, 2, 24)), 16, 22
        size, small, width = 12, 9, label_w + cell_w * len(units) + 4
        every = max(1, len(units) // 8)
    else:  # sized around the text: the longest name, then the cells share what is left
        width, small = width_px, size
        label_w = text_width(max(names, key=len), size) + size / 2
        number = text_width(str(max(units, default=0)), size)  # the widest unit number
        # the last number is centred on the last cell: half of it hangs past the cells
        cell_w = (width - label_w - max(4, number / 2)) / n
        cell_h, top = round(1.3 * size), round(1.6 * size)
        every = int(np.ceil((number + size) / cell_w))  # every k-th unit: numbers with a gap
    parts = [
        svg_open(width, top + cell_h * len(names) + 1.5 * small, "every unit"),
        text(0, top / 2 - 2, f"<b>every unit at step {step}</b>", "start", size),
    ]
    rows = []
    for r, name in enumerate(names):
        v = np.asarray(values[name], dtype=np.float64)[units]
        gate = name in SIGMOID_NAMES
        rows.append(colours(v, gate, 1.0 if gate else value_scale(name, v)["cmax"]))
        parts.append(text(label_w - 6, top + (r + 0.5) * cell_h, name, "end", size))
    # the cells as one tiny PNG (a pixel per value) scaled up without smoothing: ~1 KB instead of
    # a rect per value
    image = base64.b64encode(png(np.stack(rows))).decode()
    parts.append(
        f'<image x="{label_w:.1f}" y="{top}" width="{cell_w * len(units):.1f}" '
        f'height="{cell_h * len(names)}" preserveAspectRatio="none" '
        f'style="image-rendering:pixelated" href="data:image/png;base64,{image}"/>'
    )
    y = top + cell_h * len(names) + 0.8 * small
    parts += [
        text(label_w + (k + 0.5) * cell_w, y, str(u), "middle", small)
        for k, u in enumerate(units)
        if k % every == 0
    ]
    parts.append("</svg>")
    return "".join(parts)
