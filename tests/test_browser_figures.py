"""The SVG panels' text as Chromium draws it (issue 11): a label's own colour and size win over
the panel's shared style, and a panel laid out for a projector shows every text at 16 CSS px or
more when drawn as wide as it was laid out for.

The SVG markup is inlined into the page (an <img> would hide its computed style); no server.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

from browser_util import ARGS, CHROMIUM  # noqa: E402

from lstm_viz import figures  # noqa: E402

VALUES = dict(
    c_prev=0.5, h_prev=-0.2, input=0.25, forget=0.8, candidate=-0.4, output=0.9, cell=0.3,
    hidden=0.26,
)  # fmt: skip
# every text's content, computed fill and size, and its size on screen (size x the scale the
# viewBox is drawn at)
READ = """() => [...document.querySelectorAll('text')].map(t => {
    const s = getComputedStyle(t);
    return [t.textContent, s.fill, s.fontSize, parseFloat(s.fontSize) * t.getScreenCTM().a];
})"""


@pytest.fixture(scope="module")
def page():
    if not Path(CHROMIUM).exists():
        pytest.skip("needs Debian's chromium")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 720})
        finally:
            browser.close()


def drawn(page, panel: str, width: int) -> list[list]:
    """The panel inlined in a column `width` CSS px wide (as st.image(width="stretch") does)."""
    page.set_content(f'<div style="width:{width}px">{panel}</div>')
    return page.evaluate(READ)


def test_labels_on_dark_blocks_are_white_at_their_own_size(page):
    found = drawn(page, figures.cell_diagram_svg("lstm", VALUES, 3, 7, "she"), 576)
    by_text = {t[0]: t for t in found}
    white = "rgb(255, 255, 255)"
    for label in ("σ forget", "0.800", "σ output", "0.900"):  # forget 0.8, output 0.9: dark
        assert by_text[label][1:3] == [white, "14px"], label
    assert by_text["σ input"][1:3] == ["rgb(17, 17, 17)", "14px"]  # a light block: dark ink
    assert by_text["c(t)"][2] == "14px" and by_text["×"][2] == "18px"
    assert by_text["unit 3, step 7"][2] == "15px"  # the title's own size
    bars = drawn(page, figures.prediction_bars(["He", "She"], np.array([0.3, 0.7]), 4), 470)
    assert {t[0]: t[2] for t in bars}["0.700"] == "11px"  # its own size, not the shared 12
    assert {t[0]: t[1:3] for t in bars}["She"] == ["rgb(17, 17, 17)", "12px"]  # the defaults


def test_projector_panels_show_every_text_at_16px_or_more(page):
    width = figures.diagram_width("lstm", 16)
    panels = {
        "diagram": (figures.cell_diagram_svg("lstm", VALUES, 3, 7, "she", layer=1, direction=1,
                                             min_px=16, width_px=width), width),
        "bars": (figures.prediction_bars(["Massachusetts", "He", "She"], np.array([.1, .2, .7]),
                                         112, top=3, min_px=16, width_px=300), 300),
        "strip": (figures.unit_strip({"forget": np.random.rand(128), "cell": np.zeros(128)},
                                     list(range(128)), 3, min_px=16, width_px=420), 420),
    }  # fmt: skip
    for name, (panel, px) in panels.items():
        found = drawn(page, panel, px)
        assert len(found) > 5
        smallest = min(t[3] for t in found)
        assert smallest >= 16 - 1e-6, (name, smallest)
        wider = drawn(page, panel, round(px * 1.5))  # a wider column: text scales up with it
        assert min(t[3] for t in wider) == pytest.approx(1.5 * smallest, rel=0.01)
    # the usual diagram in a 300 px column (the 7 px) is what presenter mode replaces
    usual = drawn(page, figures.cell_diagram_svg("lstm", VALUES, 3, 7, "she"), 300)
    assert min(t[3] for t in usual) < 8
    white = [t for t in drawn(page, panels["diagram"][0], width) if t[0] == "σ forget"]
    assert white[0][1] == "rgb(255, 255, 255)" and white[0][2] == "16px"


def test_projector_heatmaps_text_is_16px_and_ticks_do_not_overlap(page):
    rng = np.random.default_rng(0)
    steps, units = 150, 128
    maps = {n: rng.random((steps, units)) for n in ("forget", "input", "output")}
    maps["candidate"] = np.tanh(rng.standard_normal((steps, units)))
    maps["cell"] = 4 * maps["candidate"]
    labels = [f"word{k % 17}" * (1 + k % 3) for k in range(steps)]  # long tokens get cut
    fig = figures.gate_heatmaps(maps, labels, row_height=110, font=16, highlight_unit=5)
    fig.update_layout(width=1240)
    page.set_content(fig.to_html(include_plotlyjs=True, full_html=True))
    page.wait_for_selector(".heatmaplayer image", state="attached")
    found = page.evaluate(READ)
    assert min(float(t[2][:-2]) for t in found if t[0].strip()) >= 16
    keys = {"forget, input, output: 0..1", "candidate: −1..1", "cell"}
    assert keys <= {t[0] for t in found}  # each scale's key is titled on the page
    # tokens at -60 degrees: parallel lines of text 1.2 x 16 px tall do not overlap when their
    # anchors are at least that / sin(60) apart
    xs = page.evaluate("""() => [...document.querySelectorAll('.xtick text')]
        .map(t => parseFloat(t.getAttribute('transform').match(/translate\\(([-\\d.]+)/)[1]))""")
    assert len(xs) > 10 and np.diff(xs).min() >= 1.2 * 16 / np.sin(np.radians(60))
    for axis in ("y", "y2", "y5"):
        ys = page.evaluate(f"""() => [...document.querySelectorAll('.{axis}tick text')]
            .map(t => t.getBoundingClientRect()).map(r => [r.top, r.bottom])""")
        assert all(b[0] >= a[1] for a, b in zip(ys, ys[1:], strict=False)), axis  # unit ticks apart
    plot = page.evaluate("() => document.querySelector('.nsewdrag').getBoundingClientRect().width")
    assert plot >= 0.6 * 1280  # a 1240 px figure keeps >= 60% of a 1280 px window for the maps
