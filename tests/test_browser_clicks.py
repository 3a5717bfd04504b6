"""Click a heatmap cell to go there, in a real browser: the step and unit move everywhere (slider,
diagram, address), in the gates view, in presenter mode, and from the memory view's map."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

from browser_util import CHROMIUM, chromium_browser, streamlit_server, wait_idle  # noqa: E402

from lstm_viz.ui import loaders  # noqa: E402

STEP = ".st-key-lv_step [data-testid='stSliderThumbValue']"
DIAGRAM = "atob(document.querySelector('.st-key-lv_cell_diagram img').src.split(',')[1])"
needs = pytest.mark.skipif(
    not Path(CHROMIUM).exists() or "cue_lstm" not in loaders.model_names(),
    reason="needs Debian's chromium and the shipped cue model",
)
STEPS, UNITS = 15, 32  # the Martha sentence on the cue LSTM


# where a data point of the first map is on the page, read off Plotly's own axes
WHERE = """([key, col, row]) => {
  const gd = document.querySelector(`.st-key-${key} .js-plotly-plot`);
  const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, r = gd.getBoundingClientRect();
  const x = r.left + xa._offset + (col - xa.range[0]) / (xa.range[1] - xa.range[0]) * xa._length;
  const y = r.top + ya._offset + (ya.range[1] - row) / (ya.range[1] - ya.range[0]) * ya._length;
  return [x, y];
}"""


def _click_cell(page, chart: str, col: int, row: int, cols: int, rows: int) -> None:
    """Click the centre of cell (row, col) (row: index among the map's rows) of a chart's first
    map."""
    x, y = page.evaluate(WHERE, [chart, col, row])
    page.mouse.click(x, y)


def _at(page, step: int, unit: int) -> None:
    page.wait_for_function(
        "([sel, s, u]) => document.querySelector(sel)?.textContent === String(s) && "
        + DIAGRAM
        + ".includes('unit ' + u + ', step ' + s)",
        arg=[STEP, step, unit],
        timeout=30_000,
    )
    page.wait_for_function(  # the address follows at the end of the run
        "([s, u]) => { const q = new URLSearchParams(location.search); "
        "return q.get('step') === String(s) && q.get('unit') === String(u); }",
        arg=[step, unit],
        timeout=30_000,
    )


@needs
@pytest.mark.parametrize("present", [False, True])
def test_clicking_a_gates_heatmap_cell_moves_there(present):
    with streamlit_server() as url, sync_api.sync_playwright() as p, chromium_browser(p) as b:
        page = b.new_context(viewport={"width": 1500, "height": 1000}).new_page()
        page.goto(url + "/?model=cue_lstm" + ("&present=1" if present else ""))
        page.wait_for_selector(".st-key-lv_heatmaps .heatmaplayer", timeout=120_000)
        page.wait_for_selector(".st-key-lv_cell_diagram img", timeout=60_000)
        wait_idle(page)
        page.wait_for_timeout(800)  # the listener hooks the chart once it is drawn
        _click_cell(page, "lv_heatmaps", 9, 5, STEPS, UNITS)
        _at(page, 9, 5)
        wait_idle(page)
        page.wait_for_timeout(800)
        _click_cell(page, "lv_heatmaps", 3, 20, STEPS, UNITS)
        _at(page, 3, 20)


@needs
def test_clicking_the_memory_map_moves_the_step_and_unit():
    with streamlit_server() as url, sync_api.sync_playwright() as p, chromium_browser(p) as b:
        page = b.new_context(viewport={"width": 1500, "height": 1100}).new_page()
        page.goto(url + "/?model=cue_lstm&view=memory&step=14&unit=0")
        page.wait_for_selector(".st-key-lv_mem_retention .heatmaplayer", timeout=120_000)
        wait_idle(page)
        page.wait_for_timeout(800)
        grid = page.locator(".st-key-lv_mem_retention .heatmaplayer").first.bounding_box()
        # the retention map: steps 0..14 across, units 0..31 down (unit 0 on top)
        page.mouse.click(
            grid["x"] + grid["width"] * 6.5 / STEPS, grid["y"] + grid["height"] * 4.5 / UNITS
        )
        page.wait_for_function(
            "() => new URLSearchParams(location.search).get('step') === '6'", timeout=30_000
        )
        query = parse_qs(urlsplit(page.url).query)
        assert query["unit"] in (["4"], ["27"]), query  # whichever way the map's rows run


@needs
def test_ask_the_corpus_selects_beside_the_map_and_opens_a_match():
    """The corpus view in a real browser: the step-range slider beside the map selects (moved
    with the keyboard, as a user would), matches are listed, and Open shows one in the gates
    view at its first step."""
    with streamlit_server() as url, sync_api.sync_playwright() as p, chromium_browser(p) as b:
        page = b.new_context(viewport={"width": 1500, "height": 1100}).new_page()
        page.goto(url + "/?model=chars_lstm&input=example&ex=quotes&view=corpus&step=14")
        page.wait_for_selector(".st-key-lv_cx_map .heatmaplayer", timeout=180_000)
        page.wait_for_selector(".st-key-lv_cx_open_0 button", timeout=180_000)
        wait_idle(page)
        thumbs = page.locator(".st-key-lv_cx_span input[type='range']")
        thumbs.last.focus()
        page.keyboard.press("ArrowRight")  # one more step in the selection
        page.wait_for_function(
            "() => [...document.querySelectorAll('.st-key-lv_cx_span input[type=range]')]"
            ".map(e => e.value).join(',') === '14,18'",
            timeout=30_000,
        )
        wait_idle(page)
        page.wait_for_selector(".st-key-lv_cx_open_0 button", timeout=60_000)
        text = page.locator("[data-testid='stMain']").inner_text()
        assert "sequences" in text and "score" in text
        page.locator(".st-key-lv_cx_open_0 button").click()
        page.wait_for_selector(".st-key-lv_heatmaps .heatmaplayer", timeout=60_000)
        query = parse_qs(urlsplit(page.url).query)
        assert query["view"] == ["gates"] and query["input"] == ["text"]
        assert int(query["step"][0]) >= 0
