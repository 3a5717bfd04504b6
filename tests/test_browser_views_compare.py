"""The compare, forecast and lesson views in a real browser (headless Chromium), one visit each.

Saves docs/view_compare.png, docs/view_forecast.png and docs/view_lesson.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

from browser_util import CHROMIUM, chromium_context, screenshot_dir, streamlit_server  # noqa: E402

DOCS = screenshot_dir()


def _errors(page) -> list[str]:
    boxes = page.locator("[data-testid='stException'], [data-testid='stAlertContentError']")
    return [boxes.nth(i).inner_text() for i in range(boxes.count())]


def _view(page, name: str) -> None:
    page.locator(".st-key-lv_view button", has_text=name).first.click()


def _shot(page, name: str, height: int = 1300) -> None:
    """Screenshot at this window height (Streamlit scrolls inside its own container, so a
    full-page screenshot would not show more: a taller window does)."""
    page.set_viewport_size({"width": 1500, "height": height})
    page.mouse.move(5, 5)  # no tooltip in the picture
    page.wait_for_timeout(1000)  # let the charts finish drawing at this size
    page.screenshot(path=str(DOCS / name))
    page.set_viewport_size({"width": 1500, "height": 1300})


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
def test_compare_forecast_and_lesson_views_in_a_real_browser():
    DOCS.mkdir(exist_ok=True)
    with (
        streamlit_server() as url,
        sync_api.sync_playwright() as p,
        chromium_context(p, height=1300) as ctx,
    ):
        page = ctx.new_page()
        page.goto(url)
        page.wait_for_selector(".st-key-lv_view button", timeout=120_000)

        _view(page, "RNN vs GRU vs LSTM")
        page.wait_for_selector(".st-key-lv_cmp_saliency .scatterlayer .trace", timeout=60_000)
        page.wait_for_selector(".st-key-lv_cmp_adding .scatterlayer .trace", timeout=60_000)
        assert page.locator("[data-testid='stMetric']").count() == 3
        assert not _errors(page), _errors(page)
        _shot(page, "view_compare.png", height=2350)  # the tables are below the fold

        page.goto(url + "/?model=forecast_co2_lstm&input=example")
        page.wait_for_selector(".st-key-lv_view button", timeout=120_000)
        _view(page, "Forecast")
        page.wait_for_selector(".st-key-lv_fc_chart .scatterlayer .trace", timeout=60_000)
        page.wait_for_selector("[data-testid='stDataFrame']", timeout=60_000)
        assert not _errors(page), _errors(page)
        _shot(page, "view_forecast.png")

        _view(page, "Lesson")
        page.locator(".st-key-lv_lesson_start button").click()
        for k in range(2, 5):  # to stop 4: the cell carrying the cue across the gap
            page.wait_for_selector(f"h2:has-text('{k - 1} / ')", timeout=60_000)
            page.locator(".st-key-lv_lesson_next button").click()
        page.wait_for_selector("h2:has-text('4 / ')", timeout=60_000)
        page.wait_for_selector(".st-key-lv_lesson_lines .scatterlayer .trace", timeout=60_000)
        assert not _errors(page), _errors(page)
        _shot(page, "view_lesson.png")
