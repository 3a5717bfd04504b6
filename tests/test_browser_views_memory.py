"""The memory, intervene and find-a-cell views in a real browser (`streamlit run app.py`, headless
Chromium): each view is visited once on a shipped model, and a screenshot of each is saved to
docs/view_memory.png, docs/view_intervene.png and docs/view_find_cell.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

from browser_util import CHROMIUM, chromium_context, screenshot_dir, streamlit_server  # noqa: E402

from lstm_viz.ui import loaders  # noqa: E402

DOCS = screenshot_dir()
PLOT = ".st-key-{} .main-svg"  # a Plotly chart has drawn when its SVG is in the page
STEP = ".st-key-lv_step [data-testid='stSliderThumbValue']"
WIDTH, TALL = 1500, 2600  # px of the window; screenshots are as tall as their view
LONG = "Robert ... He (gap 100)"  # a cue example with a long gap (lstm_viz.tasks.cue.examples)

needs = pytest.mark.skipif(
    not Path(CHROMIUM).exists() or not {"cue_lstm", "chars_lstm"} <= set(loaders.model_names()),
    reason="needs Debian's chromium and the shipped cue and chars models",
)


def _errors(page) -> list[str]:
    boxes = page.locator("[data-testid='stException'], [data-testid='stAlertContentError']")
    return [boxes.nth(i).inner_text() for i in range(boxes.count())]


def _view(page, name: str) -> None:
    page.locator(".st-key-lv_view button", has_text=name).first.click()


def _shot(page, name: str) -> None:
    """Screenshot the whole view: Streamlit scrolls inside its main area, so the window is made
    tall enough for the view, then cut to where the view ends."""
    page.set_viewport_size({"width": WIDTH, "height": TALL})
    page.mouse.move(5, 5)  # no tooltip in the picture
    page.wait_for_timeout(1200)  # charts resize to the new window and finish their transition
    assert not _errors(page), _errors(page)
    bottom = page.evaluate(
        "document.querySelector('[data-testid=stMainBlockContainer]')"
        ".getBoundingClientRect().bottom"
    )
    height = int(min(max(bottom + 10, 600), TALL))
    page.screenshot(path=str(DOCS / name), clip=dict(x=0, y=0, width=WIDTH, height=height))
    page.set_viewport_size({"width": WIDTH, "height": 1000})


def _pick_example(page, name: str) -> None:
    page.locator(".st-key-lv_example").click()
    page.get_by_role("option", name=name).click()
    page.wait_for_function(
        "document.querySelector('h4')?.innerText.includes('115 steps')", timeout=60_000
    )


def _go_to_step(page, step: int, steps: int) -> None:
    """Keyboard on the step slider: End, then back (each key press is one rerun)."""
    thumb = page.locator(".st-key-lv_step input[type='range']")
    thumb.focus()
    thumb.press("End")
    for _ in range(steps - 1 - step):
        thumb.press("ArrowLeft")
    page.wait_for_function(
        "([sel, s]) => document.querySelector(sel)?.textContent === String(s)",
        arg=[STEP, step],
        timeout=30_000,
    )


@needs
def test_memory_intervene_and_find_cell_views_in_a_real_browser():
    DOCS.mkdir(exist_ok=True)
    with (
        streamlit_server() as url,
        sync_api.sync_playwright() as p,
        chromium_context(p, width=WIDTH, height=1000) as ctx,
    ):
        page = ctx.new_page()
        page.goto(url + "/?model=cue_lstm")
        page.wait_for_selector(".st-key-lv_heatmaps .heatmaplayer", timeout=120_000)
        _pick_example(page, LONG)

        _view(page, "Memory")
        page.wait_for_selector(PLOT.format("lv_mem_retention"), timeout=60_000)
        _go_to_step(page, 108, 115)  # the answer step: the model must say "He" here
        page.wait_for_function(
            "document.body.innerText.includes('still there at step 108')", timeout=60_000
        )
        page.wait_for_selector(PLOT.format("lv_mem_saliency"), timeout=60_000)
        page.wait_for_selector(PLOT.format("lv_mem_saturation"), timeout=60_000)
        _shot(page, "view_memory.png")

        _view(page, "Intervene")
        page.wait_for_selector(".st-key-lv_iv_exp_cut button", timeout=60_000)
        page.locator(".st-key-lv_iv_exp_cut button").click()
        page.wait_for_selector(PLOT.format("lv_iv_diff"), timeout=60_000)
        page.wait_for_selector(PLOT.format("lv_iv_pred"), timeout=60_000)
        assert "Clamped:" in page.inner_text("body")
        _shot(page, "view_intervene.png")
        page.locator(".st-key-lv_iv_reset button").click()
        page.wait_for_function(
            "document.body.innerText.includes('No clamp applied')", timeout=60_000
        )

        page.goto(url + "/?model=chars_lstm")
        page.wait_for_selector(".st-key-lv_heatmaps .heatmaplayer", timeout=120_000)
        _view(page, "Find a cell")
        page.wait_for_selector(PLOT.format("lv_fc_rows"), timeout=60_000)
        _shot(page, "view_find_cell.png")
        # one click from a ranked unit to its row in the gates view
        label = page.locator(".st-key-lv_fc_pin_0 button").inner_text()
        unit = label.split(" (r")[0].split()[-1]
        page.locator(".st-key-lv_fc_pin_0 button").click()
        page.wait_for_selector(".st-key-lv_heatmaps .heatmaplayer", timeout=60_000)
        pinned = page.locator(".st-key-lv_pinned [data-tag]").first.get_attribute("aria-label")
        assert pinned == unit
        assert not _errors(page), _errors(page)
