"""The app in a real browser: `streamlit run app.py`, headless Chromium, press next-step.

Saves screenshot.png: to docs/ with LSTM_VIZ_SCREENSHOTS=1, which is how the README's screenshot
is made.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

from browser_util import CHROMIUM, chromium_context, screenshot_dir, streamlit_server  # noqa: E402

SHOT = screenshot_dir() / "screenshot.png"
STEP = ".st-key-lv_step [data-testid='stSliderThumbValue']"
# the cell diagram is an SVG image: its text is in the data URL
DIAGRAM = "atob(document.querySelector('.st-key-lv_cell_diagram img').src.split(',')[1])"
MARKER = "() => getComputedStyle(document.querySelector('.st-key-lv_heatmaps'), '::after').left"


def _errors(page) -> list[str]:
    boxes = page.locator("[data-testid='stException'], [data-testid='stAlertContentError']")
    return [boxes.nth(i).inner_text() for i in range(boxes.count())]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_step_in_a_real_browser():
    with (
        streamlit_server() as url,
        sync_api.sync_playwright() as p,
        chromium_context(p) as ctx,
    ):
        page = ctx.new_page()
        page.goto(url)
        # the heatmaps have drawn when Plotly has laid out their heatmap layer
        page.wait_for_selector(".st-key-lv_heatmaps .heatmaplayer", timeout=120_000)
        page.wait_for_selector(".st-key-lv_cell_diagram img", timeout=60_000)
        # Plotly's script was fetched once, with the page's own scripts (ui/preload.py): its
        # fetch began before Streamlit's main script had arrived (without the link to it, the
        # chart asked for it about 2 s later)
        plotly, main = page.evaluate(
            "() => [/[/]PlotlyChart[.][^.]+[.]js$/, /[/]index[.][^.]+[.]js$/].map(name => "
            "performance.getEntriesByType('resource').filter(e => name.test(e.name))"
            ".map(e => [e.startTime, e.responseEnd]))"
        )
        assert len(plotly) == 1 and len(main) == 1, (plotly, main)
        assert plotly[0][0] <= main[0][1], (plotly, main)
        before = int(page.locator(STEP).inner_text())
        left = page.evaluate(MARKER)
        assert re.fullmatch(r"[\d.]+px", left), left  # the step marker is placed on the maps
        page.locator(".st-key-lv_next button").first.click()
        page.wait_for_function(
            "([sel, s]) => document.querySelector(sel)?.textContent === String(s)",
            arg=[STEP, before + 1],
            timeout=30_000,
        )
        page.wait_for_function(
            "([s, l]) => getComputedStyle(document.querySelector('.st-key-lv_heatmaps'), "
            "'::after').left !== l && " + DIAGRAM + ".includes('step ' + s + '<')",
            arg=[before + 1, left],
            timeout=30_000,
        )
        assert int(page.locator(STEP).inner_text()) == before + 1
        assert not _errors(page), _errors(page)
        page.mouse.move(5, 5)  # no tooltip in the picture
        page.wait_for_timeout(500)  # let the last panel finish drawing
        SHOT.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOT), full_page=False)
