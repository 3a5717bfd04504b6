"""The maps' static preview (figures/preview.py): the same size, cells, colours, ticks, keys and
outlines as the Plotly figure it stands in for on a session's first page."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from lstm_viz import figures
from lstm_viz.figures.preview import array, label, on_scale, preview_html
from lstm_viz.figures.style import DIVERGING, GATE_SCALE, colours

NAMES = ["forget", "input", "candidate", "output", "cell", "hidden"]


def _maps(steps: int = 12, units: int = 10, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        n: rng.uniform(0, 1, (steps, units))
        if n in ("forget", "input", "output")
        else rng.uniform(-2.5, 2.5, (steps, units))
        for n in NAMES
    }


def _images(html: str) -> list[np.ndarray]:
    """The pixel images of a preview, top to bottom, as (rows, cols, 3) arrays."""
    found = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    return [np.asarray(Image.open(io.BytesIO(base64.b64decode(b))).convert("RGB")) for b in found]


def _texts(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", t) for t in re.findall(r'<div style="[^"]*">(.*?)</div>', html)]


def test_on_scale_matches_the_svg_panels_colours():
    values = np.linspace(-1.2, 1.2, 41)
    assert np.array_equal(on_scale(values, DIVERGING, -1.0, 1.0), colours(values, False, 1.0))
    gates = np.linspace(-0.1, 1.1, 41)
    assert np.array_equal(on_scale(gates, GATE_SCALE, 0.0, 1.0), colours(gates, True))
    assert on_scale(np.array([np.nan]), GATE_SCALE, 0.0, 1.0).tolist() == [[255, 255, 255]]


def test_typed_arrays_decode_as_plotly_sends_them():
    fig = figures.gate_heatmaps({"forget": _maps()["forget"]}, [str(t) for t in range(12)])
    z = fig.to_plotly_json()["data"][0]["z"]
    assert isinstance(z, dict) and "bdata" in z  # what the app hands st.plotly_chart
    np.testing.assert_array_equal(array(z), np.asarray(fig.data[0].z))
    assert array([[1, 2]]).tolist() == [[1, 2]]


@pytest.mark.parametrize("font", [None, 16])
def test_every_map_is_drawn_cell_for_cell_on_its_scale(font):
    maps = _maps()
    units = [3, 0, 7, 1]  # an order of the user's, as the app passes it
    fig = figures.gate_heatmaps(maps, [f"w{t}" for t in range(12)], units, (2, 10), font=font)
    html = preview_html(fig.to_plotly_json())
    images = _images(html)
    assert len(images) == len(NAMES)
    layout = fig.layout
    for name, image in zip(NAMES, images, strict=True):
        shown = maps[name][2:10][:, units].T  # rows = units in the order given, cols = steps
        trace = next(t for t in fig.data if t.name == name)
        scale = layout[trace.coloraxis]
        want = on_scale(shown, [list(s) for s in scale.colorscale], scale.cmin, scale.cmax)
        assert image.shape == (len(units), 8, 3), name
        np.testing.assert_array_equal(image, want)


def test_the_preview_has_the_charts_height_ticks_titles_and_keys():
    labels = ["Martha", "went", "to", "the", "<b>", "store"] * 2
    fig = figures.gate_heatmaps(_maps(), labels, font=16, highlight_unit=4, muted=[2])
    spec = fig.to_plotly_json()
    html = preview_html(spec)
    assert re.match(
        rf'<div class="lv-preview" style="position:relative;height:{fig.layout.height}px', html
    )
    texts = _texts(html)
    for name in NAMES:  # each map's title
        assert name in texts
    # the colour keys: one per scale, titled, with their ticks
    assert "forget, input, output: 0..1" in texts and "0.75" in texts
    assert html.count("linear-gradient") == len({t.coloraxis for t in fig.data})
    assert "unit" in texts and "step" in texts
    assert "Martha" in texts and "&lt;b&gt;" in html and "<b><" not in html  # user text escaped
    assert 'color:#9a9a9a">to<' in html  # a muted word stays grey
    assert "font-size:16px" in html and not re.search(r"font-size:(\d|1[0-5])(\.\d+)?px", html)
    # the highlighted row: a white and a black outline on each of the six maps
    assert html.count("solid white") == 6 and html.count("solid #111") == 6


def test_the_highlight_outlines_the_rows_place_on_its_map():
    fig = figures.gate_heatmaps({"forget": _maps(units=4)["forget"]}, list("abcdefghijkl"),
                                units=[2, 0, 1, 3], font=16, highlight_unit=0)  # fmt: skip
    html = preview_html(fig.to_plotly_json())
    lay = fig.layout
    plot_h = lay.height - lay.margin.t - lay.margin.b
    row_h = plot_h / 4  # one map fills the plot; unit 0 is the second row
    tops = [float(t) for t in re.findall(r"top:([\d.]+)px;height:[\d.]+px;border", html)]
    assert tops == pytest.approx([lay.margin.t + row_h - 2.5, lay.margin.t + row_h - 1], abs=0.11)


def test_the_overview_preview_has_its_window_and_linear_ticks():
    values = np.random.default_rng(1).normal(size=(300, 8))
    fig = figures.overview(values, "cell", (100, 200))
    html = preview_html(fig.to_plotly_json())
    assert len(_images(html)) == 1 and _images(html)[0].shape == (8, 200, 3)
    texts = _texts(html)
    assert "overview: mean cell" in texts
    assert {"0", "100", "200", "300"} <= set(texts)  # the step axis 0..300
    assert "400" not in texts  # no tick past the axis's end
    # the window's outline spans steps 100..200 of 300
    assert "* 0.33333)" in html and "* 0.33333 + 2px)" in html
    assert "linear-gradient" not in html  # the overview has no colour key


HOSTILE = [
    '<img src=x onerror="alert(1)">',
    "<script>alert(1)</script>",
    '<span style="background:url(javascript:alert(1))">x</span>',
    "<b onmouseover=alert(1)>bold</b>",
    "a & b <c> &unknown",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_labels_keep_plotly_markup_and_show_anything_else_as_text(text):
    out = label(text)
    assert "<img" not in out and "<script" not in out and "onerror" not in out.split("&")[0]
    assert not re.search(r"<[a-z]+[^>]*\s(on\w+|src|href)=", out), out
    assert not re.search(r"<span style=\"(?!color:#[0-9a-fA-F]{3,6}\")", out), out


def test_labels_keep_what_plotly_draws():
    assert label("<b>forget</b>") == "<b>forget</b>"
    assert (
        label('<span style="color:#9a9a9a">the</span>') == '<span style="color:#9a9a9a">the</span>'
    )
    assert label("a<br>b") == "a<br>b"
    assert label("&lt;b&gt; &amp; &#39;") == "&lt;b&gt; &amp; &#39;"  # escaped by style.safe
    assert label("x & y < z") == "x &amp; y &lt; z"


def test_a_figure_dict_with_raw_hostile_text_draws_it_as_text():
    """Even a figure whose labels skipped style.safe cannot put markup in the page."""
    fig = figures.gate_heatmaps({"forget": _maps()["forget"]}, [str(t) for t in range(12)])
    spec = fig.to_plotly_json()
    spec["layout"]["xaxis"]["ticktext"] = list(HOSTILE) + ["ok"] * 7
    spec["layout"]["annotations"][0]["text"] = "<script>alert(1)</script>"
    spec["layout"]["shapes"] = [
        dict(type="rect", x0=0, x1=1, y0=0, y1=1, line={"color": '#f" a="'})
    ]
    html = preview_html(spec)
    assert "<script" not in html and "<img src=x" not in html and ' a="' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
