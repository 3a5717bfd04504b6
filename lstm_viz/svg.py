"""Light SVG drawings for the panels the app redraws at every step.

Streamlit remounts a Plotly chart whenever its figure changes (a full Plotly.newPlot and new DOM),
which made those panels most of a step's cost. These functions return SVG text instead, shown as
an image (so nothing in it can run); colours follow `figures`' scales, so a block or a cell here
matches the same value on the heatmaps. User text must arrive escaped (`figures.safe`).
"""

from __future__ import annotations

import numpy as np

from lstm_viz.figures import DIVERGING, GATE_SCALE, SIGMOID, value_scale


def colour(value: float, gate: bool, peak: float = 1.0) -> str:
    """The fill for a value: gates on 0..1, others diverging about 0 over -peak..peak."""
    scale = GATE_SCALE if gate else DIVERGING
    t = value if gate else (value / peak + 1) / 2
    t = float(np.clip(t, 0, 1)) if np.isfinite(t) else 0.5
    (a, ca), (b, cb) = (scale[0], scale[1]) if t <= scale[1][0] else (scale[1], scale[2])
    w = (t - a) / (b - a)
    rgb = [round(int(ca[i : i + 2], 16) * (1 - w) + int(cb[i : i + 2], 16) * w) for i in (1, 3, 5)]
    return "#{:02x}{:02x}{:02x}".format(*rgb)


def text(
    x: float,
    y: float,
    body: str,
    anchor: str,
    size: int,
    fill: str = "#111",
    family: str = "sans-serif",
) -> str:
    """Text with our own markup: <br> splits lines (centred on y), <b>...</b> is bold."""
    lines = body.split("<br>")
    out = []
    for k, line in enumerate(lines):
        dy = (k - (len(lines) - 1) / 2) * size * 1.2
        bold = line.startswith("<b>")
        line = line.replace("<b>", "").replace("</b>", "")  # our markup; user text is escaped
        weight = ' font-weight="bold"' if bold else ""
        out.append(
            f'<text x="{x:.1f}" y="{y + dy:.1f}" text-anchor="{anchor}" style="white-space:pre" '
            f'dominant-baseline="central" font-size="{size}" fill="{fill}" '
            f'font-family="{family}"{weight}>{line}</text>'
        )
    return "".join(out)


def unit_strip(values: dict[str, np.ndarray], units: list[int], step: int) -> str:
    """Every unit's value of each name at one step (name -> (units,)): a row of cells per name,
    units left to right in the heatmaps' order, coloured on the heatmaps' scales."""
    names = list(values)
    label_w, cell_w, cell_h, top = 80, 9, 16, 22
    width = label_w + cell_w * len(units) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} '
        f'{top + cell_h * len(names) + 18}" width="100%" role="img" aria-label="every unit">',
        text(0, 9, f"<b>every unit at step {step}</b>", "start", 12),
    ]
    for r, name in enumerate(names):
        v = np.asarray(values[name], dtype=np.float64)[units]
        gate = name in SIGMOID
        peak = 1.0 if gate else value_scale(name, v)["cmax"]
        y = top + r * cell_h
        parts.append(text(label_w - 6, y + cell_h / 2, name, "end", 11))
        parts += [
            f'<rect x="{label_w + k * cell_w}" y="{y}" width="{cell_w - 1}" '
            f'height="{cell_h - 1}" fill="{colour(float(x), gate, peak)}"/>'
            for k, x in enumerate(v)
        ]
    every = max(1, len(units) // 8)
    y = top + cell_h * len(names) + 9
    parts += [
        text(label_w + (k + 0.5) * cell_w, y, str(u), "middle", 9)
        for k, u in enumerate(units)
        if k % every == 0
    ]
    parts.append("</svg>")
    return "".join(parts)


def prediction_bars(names: list[str], probs: np.ndarray, step: int, top: int = 5) -> str:
    """The `top` most likely outputs at one step as bars of probability (names escaped here)."""
    from lstm_viz.figures import safe

    probs = np.asarray(probs, dtype=np.float64)
    order = np.argsort(-probs, kind="stable")[:top]
    label_w, bar_w, row = 110, 300, 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {label_w + bar_w + 60} '
        f'{24 + row * len(order)}" width="100%" role="img" aria-label="prediction">',
        text(0, 9, f"<b>what the model predicts after step {step}</b>", "start", 12),
    ]
    for r, i in enumerate(order):
        y = 22 + r * row
        parts.append(text(label_w - 6, y + row / 2, safe(names[i], 16), "end", 12))
        parts.append(
            f'<rect x="{label_w}" y="{y + 2}" width="{bar_w * probs[i]:.1f}" height="{row - 4}" '
            'fill="#4a7ab5"/>'
        )
        end = label_w + bar_w * probs[i] + 4
        parts.append(text(end, y + row / 2, f"{probs[i]:.3f}", "start", 11))
    parts.append("</svg>")
    return "".join(parts)
