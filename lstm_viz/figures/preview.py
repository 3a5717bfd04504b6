"""A heatmap figure drawn as static HTML: the maps a page shows before Plotly's script is ready.

Plotly's script (4.7 MB) takes about a second of a laptop's main thread to start, which made a
first page that draws a Plotly chart miss the classroom's 3 s goal. The app's first page in a
session shows this preview instead and swaps in the Plotly chart a moment later (`ui/first_paint`).

It reads the figure dict that Plotly gets (`gate_heatmaps(...).to_plotly_json()`, `overview`):
heatmap traces as pixel images on their colour scales, the axes' ticks and titles, the
annotations, the colour keys and the rectangles (the highlighted row, the overview's window),
placed with the figure's own fixed margins, domains and height. The page's width is unknown here,
so horizontal places are CSS `calc()`s of the plot area, as the app's step marker is: the preview
has the chart's exact height (nothing moves when the chart replaces it) and its columns line up.
Scatter traces (the x marks of clamped cells) are not drawn.

Texts come from our figure functions, which escape user text (`style.safe`): their markup is
Plotly's (<b>, <br>, <span style>), which is HTML too.
"""

from __future__ import annotations

import base64
import re

import numpy as np

from lstm_viz.figures.style import on_scale
from lstm_viz.figures.svg import png

INK, AXIS_INK = "#222", "#444"


def array(value) -> np.ndarray:
    """An array of a figure dict: a list, or Plotly's typed array ({"dtype", "bdata", "shape"})
    that `to_plotly_json()` makes of numpy arrays."""
    if isinstance(value, dict) and "bdata" in value:
        flat = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
        shape = [int(n) for n in str(value.get("shape", len(flat))).split(",")]
        return flat.reshape(shape)
    return np.asarray(value)


_TAG = re.compile(r'<(/?)(b|i|br|span)(?:\s+style="color:\s*(#[0-9a-fA-F]{3,6})")?\s*/?>', re.I)
_BARE_AMP = re.compile(r"&(?!(?:#\d{1,7}|#x[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});)")


def label(text: str) -> str:
    """A Plotly label as safe HTML: its markup (<b>, <i>, <br>, <span style="color:#hex">) and
    character entities are kept, as Plotly draws them; any other <, > or & is shown as text.
    (Our figures escape user text already; this holds for any figure dict.)"""

    def plain(part: str) -> str:
        return _BARE_AMP.sub("&amp;", part).replace("<", "&lt;").replace(">", "&gt;")

    out, pos = [], 0
    for m in _TAG.finditer(text):
        closing, name, ink = m.group(1), m.group(2).lower(), m.group(3)
        tag = "<br>" if name == "br" else f"<{closing}{name}>"
        if name == "span" and ink and not closing:
            tag = f'<span style="color:{ink}">'
        out += [plain(text[pos : m.start()]), tag]
        pos = m.end()
    return "".join(out) + plain(text[pos:])


def _ink(colour: object, fallback: str = INK) -> str:
    """A colour fit for a style attribute (#hex or a name), else the fallback."""
    text = str(colour)
    return text if re.fullmatch(r"#[0-9a-fA-F]{3,8}|[a-zA-Z]{3,20}", text) else fallback


def _x(frac: float, margin: dict) -> str:
    """CSS left of a fraction of the plot area's width."""
    return f"calc({margin['l']}px + (100% - {margin['l'] + margin['r']}px) * {frac:.5f})"


def _put(left: str, top: float, body: str, size: float, shift: str = "", extra: str = "") -> str:
    return (
        f'<div style="position:absolute;left:{left};top:{top:.1f}px;font-size:{size:g}px;'
        f'white-space:nowrap;line-height:1.15;transform:{shift or "none"};{extra}">'
        f"{label(body)}</div>"
    )


def _axis_ticks(axis: dict, cats: list | None, lo: float, hi: float) -> list[tuple[float, str]]:
    """(fraction along the axis, text) of each tick: the axis's own tickvals, else a few
    round numbers of a linear axis spanning lo..hi."""
    vals, texts = axis.get("tickvals"), axis.get("ticktext")
    if vals is not None and cats is not None:
        index = {str(c): k for k, c in enumerate(cats)}
        texts = texts if texts is not None else [str(v) for v in vals]
        return [((index[str(v)] + 0.5) / len(cats), str(t))
                for v, t in zip(vals, texts, strict=False) if str(v) in index]  # fmt: skip
    if hi == lo:
        return []
    n = int(axis.get("nticks") or 7)
    step = _nice((hi - lo) / max(n - 1, 1))
    ticks = np.arange(np.ceil(lo / step) * step, hi + step * 1e-6, step)
    return [((v - lo) / (hi - lo), f"{v:g}") for v in ticks]


def _title_size(axis: dict, size: float) -> float:
    """An axis title's font size: its own, else Plotly's default (1.2 x the figure's, rounded)."""
    return float(((axis.get("title") or {}).get("font") or {}).get("size") or round(1.2 * size))


def _plain(text: str) -> str:
    """A label without its markup (for its length)."""
    return re.sub(r"<[^>]*>", "", text)


def _nice(raw: float) -> float:
    """The round step (1, 2 or 5 times a power of ten) nearest above `raw`."""
    if raw <= 0:
        return 1.0
    power = 10 ** np.floor(np.log10(raw))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def _key(scale: dict, top: float, height: float, margin: dict, size: float) -> list[str]:
    """A colour key: the bar (top = cmax) and its tick labels, right of the plot."""
    bar = scale.get("colorbar", {})
    lo, hi = float(scale["cmin"]), float(scale["cmax"])
    stops = ", ".join(f"{_ink(c)} {100 * float(s):.1f}%" for s, c in scale["colorscale"])
    # Plotly pads a key by 10 px (its xpad and ypad) inside its place
    left = f"calc({_x(float(bar.get('x', 1.02)), margin)} + 10px)"
    thick = float(bar.get("thickness", 10))
    top, height = top + 10, max(height - 20, 4)
    out = [
        f'<div style="position:absolute;left:{left};top:{top:.1f}px;width:{thick:g}px;'
        f'height:{height:.1f}px;background:linear-gradient(to top, {stops})"></div>'
    ]
    vals = bar.get("tickvals", [lo, hi])
    texts = bar.get("ticktext", [f"{v:.3g}" for v in vals])
    for v, t in zip(vals, texts, strict=False):
        y = top + (1 - (float(v) - lo) / ((hi - lo) or 1.0)) * height
        out.append(_put(f"calc({left} + {thick + 3:g}px)", y, str(t), size, "translateY(-50%)"))
    return out


def preview_html(spec: dict, css_class: str = "lv-preview") -> str:
    """The figure dict as one <div> of its height; see the module's docstring."""
    lay = spec.get("layout", {})
    margin = {k: float(lay.get("margin", {}).get(k, 80)) for k in "lrtb"}
    height = float(lay.get("height") or 450)
    size = float(lay.get("font", {}).get("size", 12))
    plot_h = height - margin["t"] - margin["b"]

    def y_px(frac: float) -> float:  # paper fraction (0 = bottom) -> px from the top
        return margin["t"] + (1 - frac) * plot_h

    parts, x_cats, x_range = [], None, None
    rows_of: dict[str, int] = {}  # y axis -> rows of its heatmap (for the rectangles)
    keyed: set[str] = set()  # colour axes whose key is drawn (maps on one scale share it)
    for trace in spec.get("data", []):
        if trace.get("type") != "heatmap":
            continue
        z = array(trace["z"]).astype(np.float64)
        axis_name = "yaxis" + str(trace.get("yaxis", "y"))[1:]
        y_axis = lay.get(axis_name, {})
        d0, d1 = y_axis.get("domain", [0, 1])
        top, box_h = y_px(d1), (d1 - d0) * plot_h
        rng = y_axis.get("range")
        if (y_axis.get("autorange") != "reversed") and not (rng and rng[0] > rng[1]):
            z = z[::-1]  # Plotly draws row 0 at the bottom unless the axis is reversed
        scale = lay.get(trace.get("coloraxis", "coloraxis"), {})
        colorscale = scale.get("colorscale") or [[0, "#ffffff"], [1, "#000000"]]
        lo, hi = scale.get("cmin", np.nanmin(z)), scale.get("cmax", np.nanmax(z))
        image = base64.b64encode(png(on_scale(z, colorscale, lo, hi))).decode()
        parts.append(
            f'<img alt="" src="data:image/png;base64,{image}" style="position:absolute;'
            f"left:{margin['l']:g}px;right:{margin['r']:g}px;top:{top:.1f}px;"
            f"width:calc(100% - {margin['l'] + margin['r']:g}px);height:{box_h:.1f}px;"
            'image-rendering:pixelated">'
        )
        rows_of[str(trace.get("yaxis", "y"))] = z.shape[0]
        rows = list(array(trace["y"])) if trace.get("y") is not None else None
        row_range = y_axis.get("range") or [0, z.shape[0]]
        y_ticks = _axis_ticks(y_axis, rows, *sorted(row_range))
        for frac, text in y_ticks:
            parts.append(_put("0px", top + frac * box_h, text, size, "translateY(-50%)",
                              f"width:{margin['l'] - 6:g}px;text-align:right"))  # fmt: skip
        title = (y_axis.get("title") or {}).get("text")
        if title:  # up the side, its standoff left of the widest tick label
            widest = max((len(_plain(t)) * 0.55 * size for _, t in y_ticks), default=0)
            standoff = float((y_axis.get("title") or {}).get("standoff") or 4)
            big = _title_size(y_axis, size)
            centre = max(big * 0.6, margin["l"] - 6 - widest - standoff - 0.6 * big)
            up = "translate(-50%, -50%) rotate(-90deg)"
            parts.append(_put(f"{centre:.1f}px", top + box_h / 2, title, big, up,
                              f"color:{AXIS_INK}"))  # fmt: skip
        if x_cats is None:
            x_cats = trace.get("x")
            x_cats = list(array(x_cats)) if x_cats is not None else list(range(z.shape[1]))
            x_range = lay.get("xaxis", {}).get("range")
        cax = trace.get("coloraxis", "coloraxis")
        if scale.get("showscale", True) and "colorbar" in scale and cax not in keyed:
            keyed.add(cax)
            bar = scale["colorbar"]
            bar_top = y_px(float(bar.get("y", d1)))
            parts += _key(scale, bar_top, float(bar.get("len", 1)) * plot_h, margin, size)
    x_axis = lay.get("xaxis", {})
    n_cols = len(x_cats or [])

    def x_frac(v: float) -> float:  # a data x (category index, or number) -> plot fraction
        if x_range:
            return (v - x_range[0]) / ((x_range[1] - x_range[0]) or 1.0)
        return (v + 0.5) / max(n_cols, 1)

    categorical = x_axis.get("type") == "category" or not x_range
    x_ticks = _axis_ticks(x_axis, x_cats if categorical else None, *(x_range or (0, n_cols)))
    angle = float(x_axis.get("tickangle", 0) or 0)
    for frac, text in x_ticks:
        shift = f"translate(-100%, -50%) rotate({angle:g}deg)" if angle else "translateX(-50%)"
        origin = "transform-origin:100% 50%" if angle else ""
        parts.append(_put(_x(frac, margin), height - margin["b"] + 6, text, size, shift, origin))
    title = (x_axis.get("title") or {}).get("text")
    if title:  # below the ticks: rotated ones reach down by their length
        longest = max((len(_plain(t)) for _, t in x_ticks), default=0)
        reach = longest * 0.5 * size * abs(np.sin(np.radians(angle))) + 0.6 * size
        top = min(height - margin["b"] + 6 + max(reach, 1.2 * size) + 4, height - 1.3 * size)
        big = _title_size(x_axis, size)
        parts.append(_put(_x(0.5, margin), top, title, big, "translateX(-50%)",
                          f"color:{AXIS_INK}"))  # fmt: skip
    for note in lay.get("annotations", []):
        anchor = {"right": "translateX(-100%)", "center": "translateX(-50%)"}
        shift = anchor.get(note.get("xanchor"), "") + (
            " translateY(-100%)" if note.get("yanchor") == "bottom" else ""
        )
        parts.append(_put(_x(float(note.get("x", 0)), margin), y_px(float(note.get("y", 1))),
                          str(note.get("text", "")), size, shift.strip()))  # fmt: skip
    for shape in lay.get("shapes", []):
        if shape.get("type") != "rect":
            continue
        parts.append(_rect(shape, lay, x_frac, y_px, margin, plot_h, rows_of))
    head = (lay.get("title") or {}).get("text")
    if head:
        parts.append(_put("0px", margin["t"] / 2, head, size, "translateY(-50%)"))
    return (
        f'<div class="{css_class}" style="position:relative;height:{height:g}px;'
        f'font-family:sans-serif;color:{INK};overflow:hidden">' + "".join(parts) + "</div>"
    )


def _rect(shape: dict, lay: dict, x_frac, y_px, margin: dict, plot_h: float, rows_of) -> str:
    """A rectangle's outline: x on the data axis, y on a category axis's rows or the paper."""
    left, right = x_frac(float(shape["x0"])), x_frac(float(shape["x1"]))
    if shape.get("yref", "paper") == "paper":
        top, bottom = y_px(float(shape.get("y1", 1))), y_px(float(shape.get("y0", 0)))
    else:  # rows of a reversed category axis: row r spans r - 0.5 .. r + 0.5 from the top
        axis = lay.get("yaxis" + str(shape["yref"])[1:], {})
        d0, d1 = axis.get("domain", [0, 1])
        box_top, box_h = y_px(d1), (d1 - d0) * plot_h
        rows = rows_of.get(str(shape["yref"]), 1)
        top = box_top + (float(shape["y0"]) + 0.5) / rows * box_h
        bottom = box_top + (float(shape["y1"]) + 0.5) / rows * box_h
    line = shape.get("line", {})
    w = float(line.get("width", 2))  # Plotly centres a line on the edge: half falls outside
    return (
        f'<div style="position:absolute;box-sizing:border-box;'
        f"left:calc({_x(left, margin)} - {w / 2:g}px);"
        f"width:calc((100% - {margin['l'] + margin['r']:g}px) * {right - left:.5f} + {w:g}px);"
        f"top:{top - w / 2:.1f}px;height:{bottom - top + w:.1f}px;"
        f'border:{w:g}px solid {_ink(line.get("color", "#111"))}"></div>'
    )
