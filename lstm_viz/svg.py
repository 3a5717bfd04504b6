"""Light SVG drawings for the panels the app redraws at every step.

Streamlit remounts a Plotly chart whenever its figure changes (a full Plotly.newPlot and new DOM),
which made those panels most of a step's cost. These functions return SVG text instead, shown as
an image (so nothing in it can run); colours follow `figures`' scales, so a block or a cell here
matches the same value on the heatmaps. User text must arrive escaped (`figures.safe`).
"""

from __future__ import annotations

import base64

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


STYLE = (  # shared by every text in one SVG: keeps a step's SVG small on the wire
    "<style>text{dominant-baseline:central;white-space:pre;font-family:sans-serif;"
    "font-size:12px;fill:#111}.m{font-family:monospace}.b{font-weight:bold}</style>"
)


def text(
    x: float,
    y: float,
    body: str,
    anchor: str,
    size: int = 12,
    fill: str = "#111",
    family: str = "sans-serif",
) -> str:
    """Text with our own markup: <br> splits lines (centred on y), <b>...</b> is bold.
    Needs `STYLE` in the same SVG."""
    lines = body.split("<br>")
    out = []
    for k, line in enumerate(lines):
        dy = (k - (len(lines) - 1) / 2) * size * 1.2
        classes = ("b " if line.startswith("<b>") else "") + ("m" if family == "monospace" else "")
        line = line.replace("<b>", "").replace("</b>", "")  # our markup; user text is escaped
        extra = f' class="{classes.strip()}"' if classes.strip() else ""
        extra += f' font-size="{size}"' if size != 12 else ""
        extra += f' fill="{fill}"' if fill != "#111" else ""
        extra += f' text-anchor="{anchor}"' if anchor != "start" else ""
        out.append(f'<text x="{x:.0f}" y="{y + dy:.0f}"{extra}>{line}</text>')
    return "".join(out)


def png(rgb: np.ndarray) -> bytes:
    """A minimal PNG (8-bit RGB, no filter) of an (H, W, 3) uint8 array."""
    import struct
    import zlib

    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[r].tobytes() for r in range(h))  # filter byte 0 per row

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def colours(values: np.ndarray, gate: bool, peak: float = 1.0) -> np.ndarray:
    """`colour` for many values at once: (N,) -> (N, 3) uint8."""
    scale = GATE_SCALE if gate else DIVERGING
    t = values if gate else (values / peak + 1) / 2
    t = np.clip(np.nan_to_num(np.asarray(t, dtype=np.float64), nan=0.5), 0, 1)
    stops = [s for s, _ in scale]
    rgb = [[int(c[i : i + 2], 16) for c in (c for _, c in scale)] for i in (1, 3, 5)]
    return (
        np.stack([np.interp(t, stops, channel) for channel in rgb], axis=-1)
        .round()
        .astype(np.uint8)
    )


def unit_strip(values: dict[str, np.ndarray], units: list[int], step: int) -> str:
    """Every unit's value of each name at one step (name -> (units,)): a row of cells per name,
    units left to right in the heatmaps' order, coloured on the heatmaps' scales."""
    names = list(values)
    # cells sized so the strip is ~500 units wide whatever the unit count: text stays readable
    label_w, cell_w, cell_h, top = 80, int(np.clip(420 // max(len(units), 1), 2, 24)), 16, 22
    width = label_w + cell_w * len(units) + 4
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} '
        f'{top + cell_h * len(names) + 18}" width="100%" role="img" aria-label="every unit">'
        + STYLE,
        text(0, 9, f"<b>every unit at step {step}</b>", "start", 12),
    ]
    rows = []
    for r, name in enumerate(names):
        v = np.asarray(values[name], dtype=np.float64)[units]
        gate = name in SIGMOID
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


def prediction_bars(names: list[str], probs: np.ndarray, step: int, top: int = 5) -> str:
    """The `top` most likely outputs at one step as bars of probability (names escaped here)."""
    from lstm_viz.figures import safe

    probs = np.asarray(probs, dtype=np.float64)
    order = np.argsort(-probs, kind="stable")[:top]
    label_w, bar_w, row = 110, 300, 20
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {label_w + bar_w + 60} '
        f'{24 + row * len(order)}" width="100%" role="img" aria-label="prediction">' + STYLE,
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
