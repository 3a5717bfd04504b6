"""Figures readable on a projector (issue 11): text sizes in the SVG panels and Plotly specs, a
colour key per scale, the diagram unit's row outlined, the diagram's labels for layers above 0
and the backward direction. Pure functions: no Streamlit, no browser (test_browser_figures.py
reads the computed style in Chromium)."""

from __future__ import annotations

import json
import re

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from lstm_viz import figures
from lstm_viz.figures import svg

NAMES = ["forget", "input", "candidate", "output", "cell", "hidden"]
VALUES = dict(
    c_prev=0.5, h_prev=-0.2, input=0.25, forget=0.8, candidate=-0.4, output=0.9, cell=0.3,
    hidden=0.26, reset=0.1, update=0.7, new=0.2,
)  # fmt: skip
TEXT = re.compile(r"<text ([^>]*)>([^<]*)</text>")


def texts(panel: str) -> list[tuple[float, float, float, str, str]]:
    """(x, y, font size, anchor, body) of every text in one of our SVG panels; a text without a
    size of its own has the root's."""
    root = float(re.search(r'<svg [^>]*font-size="([\d.]+)"', panel).group(1))
    out = []
    for attrs, body in TEXT.findall(panel):
        a = dict(re.findall(r'([\w-]+)="([^"]*)"', attrs))
        size = float(a.get("font-size", root))
        out.append((float(a["x"]), float(a["y"]), size, a.get("text-anchor", "start"), body))
    return out


def view_width(panel: str) -> float:
    return float(re.search(r'viewBox="0 0 ([\d.]+) ', panel).group(1))


def revalidated(fig: go.Figure) -> go.Figure:
    return go.Figure(json.loads(pio.to_json(fig, validate=False)))


def maps(seed: int = 0, steps: int = 40, units: int = 12, cell_peak: float = 3.0) -> dict:
    rng = np.random.default_rng(seed)
    out = {n: rng.random((steps, units)) for n in ("forget", "input", "output")}
    out["candidate"] = np.tanh(rng.standard_normal((steps, units)))
    out["cell"] = cell_peak * np.tanh(rng.standard_normal((steps, units)))
    out["hidden"] = out["output"] * np.tanh(out["cell"])
    return {n: out[n] for n in NAMES}


# ---- item 1: a label's own colour and size win over the shared style ----------------------


def test_shared_style_sets_no_fill_or_size_and_the_root_holds_the_defaults():
    rule = re.search(r"text\{([^}]*)\}", svg.STYLE).group(1)
    assert "fill" not in rule and "font-size" not in rule  # CSS would beat the attributes
    panel = figures.cell_diagram_svg("lstm", VALUES, unit=3, step=7)
    assert re.search(r'<svg [^>]*font-size="12" fill="#111"', panel)
    # forget 0.8 and output 0.9 are dark boxes: their labels are white, at 14 (not the default)
    white = [m.group(2) for m in TEXT.finditer(panel) if 'fill="white"' in m.group(1)]
    assert white == ["σ forget", "0.800", "σ output", "0.900"]
    assert all(t[2] == 14 for t in texts(panel) if t[4] in white)


# ---- item 2: sizes for a projector --------------------------------------------------------


def test_prediction_bars_for_a_projector_fit_their_width_with_16px_text():
    names = ["Massachusetts", "New Mexico", "He", "a name far too long to show whole"]
    probs = np.array([0.7, 0.2, 0.06, 0.04])
    panel = figures.prediction_bars(names, probs, 112, top=4, min_px=16, width_px=300)
    assert view_width(panel) == 300  # drawn 300 CSS px wide: one unit is one px
    found = texts(panel)
    assert min(t[2] for t in found) == 16
    labels = [t for t in found if t[3] == "end"]
    assert [t[4] for t in labels][:2] == ["Massachusetts", "New Mexico"]  # whole when they fit
    assert labels[3][4].endswith("…") and len(labels[3][4]) < len(names[3])  # cut, not clipped
    for x, _, size, anchor, body in found:  # every text inside the panel (generous widths)
        w = svg.text_width(body, size)
        assert (x - w if anchor == "end" else x) >= -1 and (x if anchor == "end" else x + w) <= 301
    bars = [float(w) for w in re.findall(r'<rect [^>]*width="([\d.]+)"', panel)]
    assert bars == sorted(bars, reverse=True) and bars[1] / bars[0] == pytest.approx(
        0.2 / 0.7, 0.01
    )
    with pytest.raises(ValueError, match="both min_px and width_px"):
        figures.prediction_bars(names, probs, 1, min_px=16)


def test_unit_strip_for_a_projector_shows_every_kth_unit_without_overlap():
    rng = np.random.default_rng(2)
    values = {"forget": rng.random(128), "candidate": np.tanh(rng.standard_normal(128))}
    units = list(range(128))
    panel = figures.unit_strip(values, units, 9, min_px=16, width_px=420)
    assert view_width(panel) == 420 and min(t[2] for t in texts(panel)) == 16
    ticks = [t for t in texts(panel) if t[4].isdigit()]
    assert ticks[0][4] == "0" and 4 <= len(ticks) <= 12
    widest = svg.text_width("127", 16)
    gaps = np.diff([t[0] for t in ticks])
    assert gaps.min() >= widest  # centred numbers: neighbours are a whole number apart
    assert ticks[-1][0] + widest / 2 <= 420
    usual = figures.unit_strip(values, units, 9)  # the usual panel keeps its small numbers
    assert min(t[2] for t in texts(usual)) == 9


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_cell_diagram_for_a_projector_keeps_labels_in_their_blocks(kind):
    width = figures.diagram_width(kind, 16)
    panel = figures.cell_diagram_svg(kind, VALUES, 3, 7, "she", min_px=16, width_px=width)
    assert view_width(panel) == pytest.approx(width, abs=1)
    found = texts(panel)
    assert min(t[2] for t in found) == 16  # every label and number
    rects = [
        tuple(map(float, r))
        for r in re.findall(
            r'<rect x="([-\d.]+)" y="([-\d.]+)" width="([\d.]+)" height="([\d.]+)"', panel
        )
    ]
    inside = 0
    for x, y, size, _, body in found:  # each block label sits inside the block around it
        block = [r for r in rects if r[0] <= x <= r[0] + r[2] and r[1] <= y <= r[1] + r[3]]
        if block:
            inside += 1
            assert svg.text_width(body, size, bold=True) <= block[0][2], body
    assert inside == 2 * len(rects)  # a name and a value in each
    for x, _, size, anchor, body in found:  # and every text inside the panel
        w = svg.text_width(body, size, mono=anchor == "start" and x == 0)
        lo = {"end": x - w, "middle": x - w / 2, "start": x}[anchor]
        assert lo >= -1 and lo + w <= width + 1, body
    # narrower than diagram_width, labels would outgrow the blocks: it is the real minimum
    assert figures.diagram_width(kind, 16) > figures.diagram_width(kind, 12)


# ---- items 3 and 4: a colour key per scale, the unit's row outlined -----------------------


def keys(fig: go.Figure) -> dict[str, str]:
    """Colour axis -> the title written above its key."""
    return {a.name.split()[1]: a.text for a in fig.layout.annotations if a.name}


def test_one_colour_key_per_scale_titled_for_the_maps_it_covers():
    m = maps()
    fig = revalidated(figures.gate_heatmaps(m, [f"t{k}" for k in range(40)], row_height=80))
    axis_of = {t.name: t.coloraxis for t in fig.data}
    assert len(set(axis_of.values())) == 3  # gates, tanh range, the cell's own
    titles = keys(fig)
    assert titles[axis_of["forget"]] == "forget, input, output: 0..1"
    assert titles[axis_of["candidate"]] == "candidate, hidden: −1..1"
    assert titles[axis_of["cell"]] == "cell"
    assert axis_of["hidden"] == axis_of["candidate"]  # o * tanh(c) lies in -1..1
    domain = {t.name: fig.layout[t.yaxis.replace("y", "yaxis")].domain for t in fig.data}
    gates = fig.layout[axis_of["forget"]]
    assert (gates.cmin, gates.cmax) == (0, 1)
    # beside the forget and input maps (one run on the gate scale); output's is that same key
    bar = gates.colorbar
    assert bar.y == domain["forget"][1] and bar.len == pytest.approx(
        domain["forget"][1] - domain["input"][0]
    )
    assert (bar.ticktext[0], bar.ticktext[-1]) == ("0", "1")
    tanh = fig.layout[axis_of["candidate"]]
    assert (tanh.cmin, tanh.cmax) == (-1, 1) and tanh.colorbar.ticktext[0] == "−1"
    assert tanh.colorbar.y == domain["candidate"][1]
    cell = fig.layout[axis_of["cell"]]
    peak = np.abs(m["cell"]).max()
    assert cell.cmax == pytest.approx(peak) and cell.colorbar.y == domain["cell"][1]
    assert cell.colorbar.ticktext[-1] == f"{peak:.3g}"
    assert all(a.font.size == 12 for a in fig.layout.annotations)


def test_an_unbounded_hidden_state_gets_a_key_of_its_own():
    m = maps()
    m["hidden"] = 5 * m["hidden"]  # a hidden state outside -1..1 (e.g. a GRU's, or a proj.)
    fig = figures.gate_heatmaps(m, [f"t{k}" for k in range(40)])
    axis_of = {t["name"]: t["coloraxis"] for t in fig.data}
    assert len(set(axis_of.values())) == 4
    assert keys(fig)[axis_of["hidden"]] == "hidden"
    assert keys(fig)[axis_of["candidate"]] == "candidate: −1..1"


def test_heatmaps_for_a_projector_have_16px_text_and_fewer_ticks():
    labels = [f"token{k}x" * 2 for k in range(120)]
    m = {n: np.vstack([v] * 3) for n, v in maps(units=64).items()}  # 120 steps, 64 units
    usual = figures.gate_heatmaps(m, labels, row_height=96)
    fig = revalidated(figures.gate_heatmaps(m, labels, row_height=96, font=16))
    layout = fig.layout
    assert layout.font.size == 16
    assert layout.xaxis.tickfont.size == 16 and layout.xaxis.title.font.size == 16
    assert all(layout[f"yaxis{k if k > 1 else ''}"].tickfont.size == 16 for k in range(1, 7))
    assert all(a.font.size == 16 for a in layout.annotations)  # map titles and key titles
    bars = [layout[c].colorbar for c in ("coloraxis", "coloraxis2", "coloraxis3")]
    assert all(b.tickfont.size == 16 for b in bars)
    # every k-th unit: 16 px ticks at least 1.5 lines apart on a 96 px map of 64 rows
    shown = len(layout.yaxis.tickvals)
    assert shown <= 96 // 24 < len(usual.layout.yaxis.tickvals)
    assert len(layout.xaxis.tickvals) <= 30 < len(usual.layout.xaxis.tickvals)
    assert max(len(t) for t in layout.xaxis.ticktext) <= 8  # cut tokens: the margin holds them
    margin = figures.heatmap_margin(16)
    assert {k: layout.margin[k] for k in "lrtb"} == margin and not layout.margin.autoexpand
    assert margin["b"] > figures.MARGIN["b"] and figures.heatmap_margin() == figures.MARGIN
    assert {k: usual.layout.margin[k] for k in "lrtb"} == figures.MARGIN  # the app's marker


def test_highlight_unit_outlines_its_row_on_every_map():
    m = maps()
    units = [7, 2, 9]
    fig = revalidated(figures.gate_heatmaps(m, list("abcdefghij") * 4, units, step=5,
                                            highlight_unit=2))  # fmt: skip
    assert fig.layout.shapes[0].yref == "paper"  # the step marker stays first
    rows = [s for s in fig.layout.shapes if s.yref != "paper"]
    assert [s.yref for s in rows] == [y for y in ("y", "y2", "y3", "y4", "y5", "y6") for _ in "ab"]
    assert [s.line.color for s in rows[:2]] == ["white", "#111"]  # black on a white halo
    assert all((s.y0, s.y1, s.x0, s.x1) == (0.5, 1.5, -0.5, 39.5) for s in rows)  # 2nd row
    none = figures.gate_heatmaps(m, list("abcdefghij") * 4, units, highlight_unit=3)
    assert not none.layout.shapes  # unit 3 is not drawn: nothing to outline


# ---- item 5: the diagram's input and time labels ------------------------------------------


@pytest.mark.parametrize("kind", ["lstm", "gru", "rnn"])
def test_diagram_labels_for_layers_above_0_and_the_backward_direction(kind):
    usual = figures.cell_diagram_svg(kind, VALUES, 3, 7, "Boston")
    assert "x(t) = Boston" in usual and "(t+1)" not in usual and "next step" not in usual
    above = figures.cell_diagram_svg(kind, VALUES, 3, 7, "2.118", layer=1)
    assert "h₀(t) (layer 0)" in above and "2.118" not in above and "x(t)" not in above
    assert figures.input_name(3) == "h₂(t) (layer 2)"
    back = figures.cell_geometry(kind, VALUES, 3, 7, "Boston", direction=1)
    drawn = back.title + "".join(n[2] for n in back.notes)
    assert "(t-1)" not in drawn and "h(t+1)" in drawn and "from the next step" in back.title
    assert ("c(t+1)" in drawn) == (kind == "lstm")
    assert back.title.startswith("unit 3, step 7<br>")  # the first line as before
    plotly = figures.cell_diagram(kind, VALUES, 3, 7, "Boston", direction=1)
    assert "from the next step" in plotly.layout.title.text
    with pytest.raises(ValueError, match="direction"):
        figures.cell_geometry(kind, VALUES, 3, 7, direction=2)


# ---- item 6: the lesson charts ------------------------------------------------------------


def test_step_lines_for_a_projector_keep_the_legend_clear_of_the_title():
    labels = [f"w{k}" for k in range(60)]
    lines = {"Boston vs Santa Fe": np.r_[np.zeros(5), np.logspace(0, 2, 55)],
             "Boston vs Denver": np.r_[np.zeros(5), np.logspace(0, -2, 55)]}  # fmt: skip
    fig = revalidated(figures.step_lines(lines, labels, 5, log=True, marks={5: "'Boston'"},
                                         font=16))  # fmt: skip
    assert "exact zeros drawn at 1e-03" in fig.layout.title.text
    # the title on the top row of the margin, the legend on the row below it, left-aligned
    assert (fig.layout.title.yref, fig.layout.title.y, fig.layout.title.yanchor) == (
        "container", 1, "top")  # fmt: skip
    assert (fig.layout.legend.x, fig.layout.legend.y, fig.layout.legend.yanchor) == (0, 1, "bottom")
    assert fig.layout.margin.t >= 1.4 * 17 + 1.6 * 16
    assert fig.layout.font.size == 16 and fig.layout.xaxis.tickfont.size == 16
    assert fig.layout.yaxis.tickfont.size == 16 and fig.layout.annotations[0].font.size == 16
    assert fig.layout.yaxis.exponentformat == "e"  # no superscripts at 70% of the size
    assert len(fig.layout.xaxis.tickvals) < len(
        figures.step_lines(lines, labels).layout.xaxis.tickvals
    )


def test_overview_for_a_projector_shares_the_heatmaps_margins():
    fig = revalidated(figures.overview(np.random.rand(700, 4), "cell", (100, 400), font=16))
    margin = figures.heatmap_margin(16)  # one step-marker rule covers both figures
    assert {k: fig.layout.margin[k] for k in "lrtb"} == margin
    assert fig.layout.height - margin["t"] - margin["b"] == 60  # the plot keeps its height
    assert fig.layout.xaxis.tickfont.size == fig.layout.title.font.size == 16
    usual = figures.overview(np.random.rand(700, 4), "cell", (100, 400))
    assert usual.layout.height == 150 and usual.layout.margin.b == figures.MARGIN["b"]
