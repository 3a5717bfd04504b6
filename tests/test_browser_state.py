"""One owner of the app's state, in a real browser (`streamlit run app.py`, headless Chromium):

- the step never falls out of step: Next six times on the Martha sentence, visit each other view,
  come back: the slider, the band on the heatmaps, the panel text and the diagram all say step 6,
  and Next goes to 7;
- a link restores the page: for each view, copy the page's link from "Copy link to this page",
  open it in a fresh browser context, and find the same page (model, view, step, unit, values).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

from browser_util import CHROMIUM, chromium_browser, streamlit_server, wait_idle  # noqa: E402
from conftest import LINK_PAGES  # noqa: E402

from lstm_viz.ui import loaders  # noqa: E402
from lstm_viz.ui.place import VIEWS  # noqa: E402

STEP = ".st-key-lv_step [data-testid='stSliderThumbValue']"
DIAGRAM = "atob(document.querySelector('.st-key-lv_cell_diagram img').src.split(',')[1])"
MARKER = "getComputedStyle(document.querySelector('.st-key-lv_heatmaps'), '::after').left"
MAIN = "[data-testid='stMain']"

needs = pytest.mark.skipif(
    not Path(CHROMIUM).exists()
    or not {"cue_lstm", "cue_gru", "chars_lstm", "forecast_co2_lstm"} <= set(loaders.model_names()),
    reason="needs Debian's chromium and the shipped models",
)


def _errors(page) -> list[str]:
    boxes = page.locator("[data-testid='stException'], [data-testid='stAlertContentError']")
    return [boxes.nth(i).inner_text() for i in range(boxes.count())]


def _gates_ready(page) -> None:
    page.wait_for_selector(".st-key-lv_heatmaps .heatmaplayer", timeout=120_000)
    page.wait_for_selector(".st-key-lv_cell_diagram img", timeout=60_000)
    wait_idle(page)


def _step_is(page, step: int) -> None:
    page.wait_for_function(
        "([sel, s]) => document.querySelector(sel)?.textContent === String(s) && "
        + DIAGRAM
        + ".includes('step ' + s + '<')",
        arg=[STEP, step],
        timeout=30_000,
    )


def _panel_step(page) -> str:
    return page.locator(MAIN).get_by_text("· input:").first.inner_text()


@needs
def test_the_step_stays_in_step_through_every_view():
    with streamlit_server() as url, sync_api.sync_playwright() as p, chromium_browser(p) as b:
        page = b.new_context(viewport={"width": 1500, "height": 1100}).new_page()
        page.goto(url + "/?model=cue_lstm&input=example&ex=martha-she-seed")
        _gates_ready(page)
        for k in range(1, 7):
            page.locator(".st-key-lv_next button").first.click()
            _step_is(page, k)
        band = page.evaluate(MARKER)
        assert _panel_step(page).startswith("Step 6 · input: the")
        for title in [t for v, t in VIEWS.items() if v != "gates"]:
            page.locator(".st-key-lv_view button", has_text=title).first.click()
            wait_idle(page)
            assert not _errors(page), (title, _errors(page))
            page.locator(".st-key-lv_view button", has_text="Gates, step by step").first.click()
            _gates_ready(page)
            _step_is(page, 6)  # the slider and the diagram
            assert page.evaluate(MARKER) == band, title  # the band on the heatmaps
            assert _panel_step(page).startswith("Step 6 · input: the"), title  # the panel
            assert parse_qs(urlsplit(page.url).query)["step"] == ["6"], title  # the address
            page.locator(".st-key-lv_next button").first.click()
            _step_is(page, 7)
            page.locator(".st-key-lv_prev button").first.click()
            _step_is(page, 6)


def _copied_link(page) -> str:
    page.locator("button", has_text="Copy link to this page").first.click()
    code = page.locator("[data-testid='stPopoverBody'] code").first
    code.wait_for(timeout=30_000)
    link = code.inner_text().strip()
    page.keyboard.press("Escape")
    return link


def _page_text(page) -> str:
    """What the main area says (values, captions, chart text), once it stops changing."""
    page.wait_for_selector(".st-key-lv_view", timeout=120_000)  # the page has drawn its views
    wait_idle(page)
    main = page.locator("[data-testid='stMainBlockContainer']")
    text, same = main.inner_text(), 0
    for _ in range(120):  # charts draw their text a while after the run ends
        page.wait_for_timeout(400)
        now = main.inner_text()
        busy = page.locator("[data-testid='stStatusWidget']").count()
        same = same + 1 if now == text and not busy else 0
        if same == 2:
            return text
        text = now
    return text


@needs
def test_a_copied_link_opens_the_same_page_in_a_fresh_browser():
    with streamlit_server() as url, sync_api.sync_playwright() as p, chromium_browser(p) as b:
        for view, query in LINK_PAGES.items():
            first = b.new_context(viewport={"width": 1500, "height": 1100}).new_page()
            first.goto(
                url + "/?" + "&".join(f"{k}={v}" for k, v in {**query, "view": view}.items())
            )
            wait_idle(first, 120_000)
            link = _copied_link(first)
            assert parse_qs(urlsplit(link).query)["view"] == [view]
            # the address bar agrees
            assert parse_qs(urlsplit(link).query) == parse_qs(urlsplit(first.url).query)
            before = _page_text(first)
            second = b.new_context(viewport={"width": 1500, "height": 1100}).new_page()
            second.goto(link)
            wait_idle(second, 120_000)
            after = _page_text(second)
            if after != before:
                import difflib

                diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="")
                pytest.fail(f"{view}: " + "\n".join(list(diff)[:40]))
            assert not _errors(second), (view, _errors(second))
            for pick in (".st-key-lv_model", ".st-key-lv_unit", STEP):
                if first.locator(pick).count():
                    assert (
                        second.locator(pick).first.inner_text()
                        == first.locator(pick).first.inner_text()
                    ), (view, pick)
            first.context.close()
            second.context.close()
