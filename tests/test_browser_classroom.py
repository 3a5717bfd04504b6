"""The classroom in a real browser at 1280x720 (`streamlit run app.py`, headless Chromium):

- presenter mode (`present=1`): the heatmaps' plot area takes >= 60% of the width and starts in
  the top third; every text a viewer reads on the charts and SVG panels is >= 16 CSS px;
- a clicker's keys step (PageDown, Space, arrows, PageUp, Home, End), never while typing, and
  drive the lesson;
- a room: a student's page follows the presenter's step, view and lesson stop; "Explore on my
  own" stops following, "Catch up" takes the presenter's page again.

Screenshots of presenter mode go to docs/ with LSTM_VIZ_SCREENSHOTS=1.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

from browser_util import (  # noqa: E402
    CHROMIUM,
    chromium_browser,
    screenshot_dir,
    streamlit_server,
    wait_idle,
)

from lstm_viz.ui import loaders  # noqa: E402

STEP = ".st-key-lv_step [data-testid='stSliderThumbValue']"
SIZE = {"width": 1280, "height": 720}
FOLLOW_BOUND = 15.0  # s: generous, for a loaded machine (bench/classroom.py measures the p95)
needs = pytest.mark.skipif(
    not Path(CHROMIUM).exists() or not {"cue_lstm", "chars_lstm"} <= set(loaders.model_names()),
    reason="needs Debian's chromium and the shipped models",
)
# the smallest font of every text inside the charts and SVG panels of the main area
SMALLEST = """() => {
  const sizes = [];
  for (const t of document.querySelectorAll('[data-testid=stMain] .main-svg text')) {
    const r = t.getBoundingClientRect();
    if (r.width > 0 && t.textContent.trim()) sizes.push(parseFloat(getComputedStyle(t).fontSize));
  }
  return sizes.length ? Math.min(...sizes) : null;
}"""
# an <img> of SVG: its smallest text at the size it is drawn (viewBox units x drawn / viewBox)
SVG_SMALLEST = """(sel) => {
  const img = document.querySelector(sel + ' img');
  const svg = new DOMParser().parseFromString(atob(img.src.split(',')[1]), 'image/svg+xml');
  const root = svg.documentElement;
  const vb = root.getAttribute('viewBox').split(/[ ,]+/).map(Number);
  const scale = img.getBoundingClientRect().width / vb[2];
  const base = parseFloat(root.getAttribute('font-size') || '12');
  let least = Infinity;
  for (const t of svg.querySelectorAll('text')) {
    if (!t.textContent.trim()) continue;
    let size = parseFloat(t.getAttribute('font-size') || base);
    least = Math.min(least, size * scale);
  }
  return least;
}"""


def _step(page) -> int:
    return int(page.locator(STEP).inner_text())


def _wait_step(page, value: int, timeout: float = 30.0) -> float:
    begin = time.monotonic()
    while time.monotonic() - begin < timeout:
        if page.locator(STEP).count() and page.locator(STEP).inner_text() == str(value):
            return time.monotonic() - begin
        page.wait_for_timeout(50)
    raise AssertionError(f"step {value} not shown in {timeout} s (shows {_step(page)})")


@needs
def test_presenter_mode_is_readable_at_1280x720_and_a_clicker_drives_it():
    with streamlit_server() as url, sync_api.sync_playwright() as p, chromium_browser(p) as b:
        page = b.new_context(viewport=SIZE).new_page()
        page.goto(url + "/?model=cue_lstm&input=example&ex=martha-she-seed&present=1")
        page.wait_for_selector(".st-key-lv_heatmaps .heatmaplayer", timeout=120_000)
        page.wait_for_selector(".st-key-lv_cell_diagram img", timeout=60_000)
        wait_idle(page)
        plot = page.locator(".st-key-lv_heatmaps .nsewdrag").first.bounding_box()
        assert plot["width"] >= 0.6 * SIZE["width"], plot
        assert plot["y"] <= SIZE["height"] / 3, plot
        assert page.evaluate(SMALLEST) >= 16
        for panel in (".st-key-lv_cell_diagram", ".st-key-lv_unit_strip"):
            page.locator(panel).scroll_into_view_if_needed()
            assert page.evaluate(SVG_SMALLEST, panel) >= 16 - 1e-6, panel
        page.mouse.move(5, 5)
        page.screenshot(path=str(screenshot_dir() / "presenter_1280x720.png"))
        for key, want in [("PageDown", 1), ("Space", 2), ("ArrowRight", 3), ("PageUp", 2),
                          ("End", 14), ("Home", 0)]:  # fmt: skip
            page.keyboard.press(key)
            _wait_step(page, want)
        # the lesson: PageDown starts the tour and moves through it, PageUp goes back
        page.locator(".st-key-lv_view button", has_text="Lesson").first.click()
        page.wait_for_selector("text=Start the tour", timeout=60_000)
        wait_idle(page)
        page.keyboard.press("PageDown")
        page.wait_for_selector("h2:has-text('1 / ')", timeout=60_000)
        wait_idle(page)
        page.keyboard.press("PageDown")
        page.wait_for_selector("h2:has-text('2 / ')", timeout=60_000)
        wait_idle(page)
        page.wait_for_timeout(1500)
        assert page.evaluate(SMALLEST) >= 16
        page.screenshot(path=str(screenshot_dir() / "presenter_lesson_1280x720.png"))
        page.keyboard.press("PageUp")
        page.wait_for_selector("h2:has-text('1 / ')", timeout=60_000)


@needs
def test_keys_do_not_step_while_typing():
    with streamlit_server() as url, sync_api.sync_playwright() as p, chromium_browser(p) as b:
        page = b.new_context(viewport={"width": 1500, "height": 1000}).new_page()
        page.goto(url + "/?model=cue_lstm&input=text")
        page.wait_for_selector(".st-key-lv_heatmaps .heatmaplayer", timeout=120_000)
        wait_idle(page)
        box = page.locator(".st-key-lv_text textarea")
        box.click()
        for key in ("ArrowRight", "PageDown", "Space", "End"):
            page.keyboard.press(key)
        page.wait_for_timeout(1500)
        assert _step(page) == 0


@needs
def test_students_follow_the_presenter_and_can_explore_on_their_own():
    with streamlit_server() as url, sync_api.sync_playwright() as p, chromium_browser(p) as b:
        teacher = b.new_context(viewport=SIZE).new_page()
        teacher.goto(url + "/?model=cue_lstm&input=example&ex=martha-she-seed&present=1")
        teacher.wait_for_selector(".st-key-lv_heatmaps .heatmaplayer", timeout=120_000)
        wait_idle(teacher)
        teacher.locator("button", has_text="Presenter").first.click()
        teacher.locator("button", has_text="Open a room").first.click()
        code = teacher.locator("[data-testid='stPopoverBody'] code").first
        code.wait_for(timeout=30_000)
        link = code.inner_text().strip()
        teacher.keyboard.press("Escape")
        student = b.new_context(viewport=SIZE).new_page()
        student.goto(link)
        student.wait_for_selector(".st-key-lv_heatmaps .heatmaplayer", timeout=120_000)
        wait_idle(student)
        assert "Following room" in student.locator("[data-testid='stMain']").inner_text()
        for want in (1, 2, 3):
            teacher.keyboard.press("PageDown")
            _wait_step(teacher, want)  # the presenter's own page first (a key is not lost)
            wait_idle(teacher)
            _wait_step(student, want, FOLLOW_BOUND)
        # a change of view follows too
        teacher.locator(".st-key-lv_view button", has_text="Memory").first.click()
        student.wait_for_selector(".st-key-lv_mem_retention .main-svg", timeout=30_000)
        # exploring on one's own: the presenter's moves no longer arrive
        student.locator("button", has_text="Explore on my own").first.click()
        student.wait_for_selector("text=exploring on your own", timeout=30_000)
        teacher.locator(".st-key-lv_view button", has_text="Gates, step by step").first.click()
        wait_idle(teacher)
        student.wait_for_timeout(2500)
        assert student.locator(".st-key-lv_mem_retention").count() == 1  # still on Memory
        student.locator("button", has_text="Catch up").first.click()
        student.wait_for_selector(".st-key-lv_heatmaps .heatmaplayer", timeout=30_000)
        _wait_step(student, 3, FOLLOW_BOUND)
