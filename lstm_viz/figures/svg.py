"""SVG primitives for the panels the app redraws at every step (and the cell diagram's SVG).

Streamlit remounts a Plotly chart whenever its figure changes (a full Plotly.newPlot and new DOM),
which made those panels most of a step's cost. Those panels are SVG text instead, shown as an
image (so nothing in it can run). User text must arrive escaped (`style.safe`).

Each label's own colour and size must win: a stylesheet rule on `text` beats presentation
attributes (`fill="white"`), so the shared <style> sets neither fill nor size; the panel's
defaults sit on the <svg> root, where they are inherited and a label's own attributes override
them.

Sizes on a projector: a panel drawn with `st.image(..., width="stretch")` is scaled to its
column, so a font of s viewBox units shows at s * rendered width / viewBox width CSS px. The
panels that take `min_px` and `width_px` lay themselves out `width_px` viewBox units wide (one
unit = one CSS px when drawn that wide) with every text at least `min_px`: drawn at least
`width_px` wide, every text is at least `min_px` CSS px.
"""

from __future__ import annotations

import html
import struct
import zlib

import numpy as np

STYLE = (  # shared by every text in one SVG: keeps a step's SVG small on the wire; no fill or
    # font-size here, or it would override every label's own (CSS beats presentation attributes)
    "<style>text{dominant-baseline:central;white-space:pre;font-family:sans-serif}"
    ".m{font-family:monospace}.b{font-weight:bold}</style>"
)
SIZE, INK = 12, "#111"  # a text's size and colour unless it names its own
CHAR = 0.6  # a generous mean width of a sans-serif character, in ems (for layout only)


def svg_open(width: float, height: float, label: str) -> str:
    """The opening tag of a panel as wide as its container, with `STYLE` inside; texts inherit
    the default size and colour from it."""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0f} {height:.0f}" '
        f'width="100%" role="img" aria-label="{label}" font-size="{SIZE}" fill="{INK}">' + STYLE
    )


def text_width(body: str, size: float, mono: bool = False, bold: bool = False) -> float:
    """About how wide `body` (our markup, longest line) is at `size`: an overestimate for
    sans-serif (DejaVu Sans, Chromium's default on Debian, is among the widest)."""
    lines = html.unescape(body.replace("<b>", "").replace("</b>", "")).split("<br>")
    em = 0.61 if mono else CHAR + (0.04 if bold else 0)
    return max(len(line) for line in lines) * size * em


def projector(min_px: float | None, width_px: float | None, default: float) -> float | None:
    """The text size (viewBox units = CSS px) of a panel laid out `width_px` wide, or None for
    the panel's usual layout; checks the two go together."""
    if (min_px is None) != (width_px is None):
        raise ValueError("give both min_px and width_px (e.g. min_px=16, width_px=600), or neither")
    if width_px is None:
        return None
    if not (min_px > 0 and width_px >= 100):
        raise ValueError(f"need min_px > 0 and width_px >= 100, got {min_px}, {width_px}")
    return max(float(min_px), default)


def text(
    x: float,
    y: float,
    body: str,
    anchor: str,
    size: float = SIZE,
    fill: str = INK,
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
        extra += f' font-size="{round(size, 1):g}"' if size != SIZE else ""
        extra += f' fill="{fill}"' if fill != INK else ""
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
