"""SVG primitives for the panels the app redraws at every step (and the cell diagram's SVG).

Streamlit remounts a Plotly chart whenever its figure changes (a full Plotly.newPlot and new DOM),
which made those panels most of a step's cost. Those panels are SVG text instead, shown as an
image (so nothing in it can run). User text must arrive escaped (`style.safe`).
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

STYLE = (  # shared by every text in one SVG: keeps a step's SVG small on the wire
    "<style>text{dominant-baseline:central;white-space:pre;font-family:sans-serif;"
    "font-size:12px;fill:#111}.m{font-family:monospace}.b{font-weight:bold}</style>"
)


def svg_open(width: float, height: float, label: str) -> str:
    """The opening tag of a panel as wide as its container, with `STYLE` inside."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="100%" role="img" aria-label="{label}">' + STYLE
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
