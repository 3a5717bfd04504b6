"""Issue 11's speed goals for a classroom, measured in one run against `streamlit run app.py`.

    python bench/classroom.py [--students 30] [--steps 24]

Prints each figure beside its goal:
1. the first visitor's page after the server starts, in headless Chromium: `page.goto` to the
   maps shown (a session's first page draws them as previews, lstm_viz/ui/first_paint.py) and
   the cell diagram shown (goal <= 3 s), and on to the Plotly charts drawn in their place (the
   maps answer hover and clicks); `--first-pages` times, each with a fresh server and a fresh
   browser (one run varies by +-0.3 s on this machine), median and range;
2. in the browser, with the students below connected: lesson Next / Back (the new stop's
   "k / N" heading shown and the run over; goal median <= 300 ms), a view switch (the view's
   main chart drawn and the run over; goal median <= 500 ms), a step (Next until the slider
   shows the new step; goal median <= 100 ms);
3. a room: a presenter's page (`present=1`) opens a room from its "Presenter" popover and
   `--students` students follow its link (websocket clients, bench/room_followers.py, which
   rerun the following fragment as the browser does). Per presenter step (PageDown, or Next):
   the time from the press to each student's page receiving the new step, p50 / p95 over all
   students x steps (goal p95 <= 1 s); the same for a change of view and of lesson stop (goal
   <= 3 s); and the server's CPU while the students idle-follow.
The machine is shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from browser_util import chromium_browser, streamlit_process, wait_idle  # noqa: E402
from room_followers import Class  # noqa: E402

SIZE = {"width": 1280, "height": 720}
HEAT = ".st-key-lv_heatmaps .heatmaplayer"
PREVIEW = ".st-key-lv_heatmaps_box .lv-preview img"  # the maps before Plotly (a first page)
DIAGRAM = ".st-key-lv_cell_diagram img"
THUMB = ".st-key-lv_step [data-testid='stSliderThumbValue']"
IDLE = "!document.querySelector(\"[data-testid='stStatusWidget']\")"
# the view titles and, for each, the chart that shows it is drawn
CHART = {"Memory": ".st-key-lv_mem_retention .main-svg", "Gates, step by step": HEAT}
PRESENT = "/?model=cue_lstm&input=generated&length=120&seed=0&present=1"  # 120 steps to take


def ms(xs: list[float]) -> str:
    xs = sorted(xs)
    p95 = xs[min(len(xs) - 1, round(0.95 * (len(xs) - 1)))]
    return f"median {statistics.median(xs) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms (n={len(xs)})"


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed(page, action, condition: str, arg=None, timeout: float = 60_000) -> float:
    """Seconds from `action()` until the JS `condition` holds (polled every frame)."""
    t0 = time.monotonic()
    action()
    page.wait_for_function(condition, arg=arg, polling="raf", timeout=timeout)
    return time.monotonic() - t0


def shown(selector: str) -> str:
    return (
        f"(() => {{ const e = document.querySelector({selector!r}); "
        "return !!e && e.getBoundingClientRect().width > 0; })()"
    )


def first_page(browser, url: str) -> tuple[float, float]:
    """Seconds from `page.goto` to the maps (a preview or the chart) and the diagram shown, and
    to the Plotly charts drawn."""
    page = browser.new_context(viewport=SIZE).new_page()
    diagram = f"{shown(DIAGRAM)} && document.querySelector({DIAGRAM!r}).complete"
    maps = f"({shown(PREVIEW)} && document.querySelector({PREVIEW!r}).complete || {shown(HEAT)})"
    t0 = time.monotonic()
    dt = timed(page, lambda: page.goto(url), f"{maps} && {diagram}", timeout=120_000)
    page.wait_for_function(shown(HEAT), polling="raf", timeout=120_000)
    charts = time.monotonic() - t0
    page.context.close()
    return dt, charts


def cpu_probe() -> float:
    """Seconds for a fixed pure-Python loop: this machine's speed changes by a third within an
    hour (its first pages took 2.7 s to 4.7 s on the same code), so the figures come with it."""
    t0, x = time.perf_counter(), 0
    for i in range(3_000_000):
        x += i
    return time.perf_counter() - t0


def first_pages(playwright, n: int) -> list[tuple[float, float]]:
    """The first page of `n` fresh servers, each opened by a fresh browser."""
    times = []
    for _ in range(n):
        with streamlit_process(90) as (url, _proc), chromium_browser(playwright) as b:
            times.append(first_page(b, url))
    return times


def seconds(xs: list[float]) -> str:
    over = sum(x > 3 for x in xs)
    return (f"median {statistics.median(xs):.2f} s, range {min(xs):.2f}-{max(xs):.2f} s "
            f"(n={len(xs)}, {over} over 3 s)")  # fmt: skip


def lesson(browser, url: str, n: int) -> list[float]:
    page = browser.new_context(viewport=SIZE).new_page()
    page.goto(url + "/?model=cue_lstm&view=lesson")
    page.wait_for_selector("text=Start the tour", timeout=120_000)
    wait_idle(page)
    page.locator("button", has_text="Start the tour").first.click()
    page.wait_for_selector("h2:has-text('1 / ')", timeout=60_000)
    wait_idle(page)
    heading = (
        "(k) => [...document.querySelectorAll('h2')].some(h => h.innerText.startsWith(k + ' /'))"
    )
    times, k = [], 1
    for i in range(n):
        forward = (i // 3) % 2 == 0  # three Next, three Back, ...
        button = ".st-key-lv_lesson_next button" if forward else ".st-key-lv_lesson_back button"
        k += 1 if forward else -1
        times.append(timed(page, page.locator(button).click, f"({heading})({k}) && {IDLE}"))
        page.wait_for_timeout(300)
    page.context.close()
    return times


def view_switches(page, n: int) -> list[float]:
    times = []
    for i in range(n):
        title = "Memory" if i % 2 == 0 else "Gates, step by step"
        button = page.locator(".st-key-lv_view button", has_text=title).first
        times.append(timed(page, button.click, f"{shown(CHART[title])} && {IDLE}"))
        page.wait_for_timeout(300)
    return times


def thumb(page) -> int:
    return int(page.locator(THUMB).inner_text())


def open_room(page, url: str) -> str:
    page.goto(url + PRESENT)
    page.wait_for_selector(HEAT, timeout=120_000)
    wait_idle(page)
    page.locator("button", has_text="Presenter").first.click()
    page.locator("button", has_text="Open a room").first.click()
    code = page.locator("[data-testid='stPopoverBody'] code").first
    code.wait_for(timeout=30_000)
    link = code.inner_text().strip()
    page.keyboard.press("Escape")
    wait_idle(page)
    return link.rsplit("room=", 1)[1].split("&")[0]


# The presenter's step is timed in the page: from the key's keydown (or the button's pointerdown)
# to the animation frame that shows the new step. Timed from Python, Playwright's own round
# trips (the press, then polling the page) added 40-50 ms to every figure.
PRESS_TIMES = """
window.__lvPressed = 0;
for (const type of ["keydown", "pointerdown"])
  document.addEventListener(type, () => { window.__lvPressed = performance.now(); }, true);
"""
SHOWS_STEP = """([s, w]) => {
  if (document.querySelector(s)?.innerText !== String(w)) return false;
  window.__lvShown = performance.now();
  return true;
}"""


def steps(page, room: Class | None, n: int) -> tuple[list[float], list[float], list[float]]:
    """n presses (PageDown, then Next clicks) on a page opened with PRESS_TIMES: (presenter's
    thumb times for Next, students' times for every press, presenter's times for PageDown)."""
    mine_next, mine_key, theirs = [], [], []
    page.mouse.click(5, 5)  # focus the page, not a widget: keys go to the app's shortcuts
    for i in range(n):
        want = thumb(page) + 1
        t0 = time.monotonic()
        if i < n // 2:
            page.keyboard.press("PageDown")
        else:
            page.locator(".st-key-lv_next button").click()
        try:
            page.wait_for_function(SHOWS_STEP, arg=[THUMB, want], polling="raf", timeout=30_000)
        except Exception as err:
            msg = f"press {i}: the presenter shows step {thumb(page)}, not {want}"
            raise RuntimeError(msg) from err
        shown = page.evaluate("() => (window.__lvShown - window.__lvPressed) / 1000")
        (mine_key if i < n // 2 else mine_next).append(shown)
        if room is not None:
            theirs += room.wait_all("step", want, t0)
        page.wait_for_timeout(200)
    return mine_next, theirs, mine_key


def room_pages(page, room: Class, n: int) -> tuple[list[float], list[float]]:
    """n changes of view (to Memory and back), and n of lesson stop: students' times."""
    views, stops = [], []
    for _ in range(n):
        for title, key in (("Memory", "lv_mem_retention"), ("Gates, step by step", "lv_heatmaps")):
            t0 = time.monotonic()
            page.locator(".st-key-lv_view button", has_text=title).first.click()
            views += room.wait_all("view", key, t0)
            wait_idle(page)
    page.locator(".st-key-lv_view button", has_text="Lesson").first.click()
    page.wait_for_selector("text=Start the tour", timeout=60_000)
    wait_idle(page)
    page.locator("button", has_text="Start the tour").first.click()
    page.wait_for_selector("h2:has-text('1 / ')", timeout=60_000)
    wait_idle(page)
    for k in range(2, 2 + n):
        t0 = time.monotonic()
        page.locator(".st-key-lv_lesson_next button").click()
        stops += room.wait_all("stop", k, t0)
        wait_idle(page)
    return views, stops


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--students", type=int, default=30)
    ap.add_argument("--steps", type=int, default=24, help="presenter steps to time")
    ap.add_argument("--repeats", type=int, default=8, help="lesson moves and view switches")
    ap.add_argument("--first-pages", type=int, default=7, help="fresh servers for the first page")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    load, probe = os.getloadavg()[0], cpu_probe()
    with sync_playwright() as p:
        firsts = first_pages(p, args.first_pages)
    print(f"first visitor's page (cold server, fresh Chromium): {seconds([a for a, _ in firsts])}"
          "   (goal <= 3 s)")  # fmt: skip
    print(f"  ... and its maps as Plotly charts (hover, click): {seconds([b for _, b in firsts])}")
    with streamlit_process(90) as (url, proc), sync_playwright() as p, chromium_browser(p) as b:
        presenter_context = b.new_context(viewport=SIZE)
        presenter_context.add_init_script(PRESS_TIMES)
        presenter = presenter_context.new_page()
        code = open_room(presenter, url)
        alone, _, _ = steps(presenter, None, 12)  # the same Next clicks with no one following
        with Class(url, code, args.students) as room:
            room.wait_all("view", "lv_heatmaps", 0.0, timeout=300)
            time.sleep(2)
            runs, before, t0 = room.runs(), cpu_seconds(proc.pid), time.monotonic()
            time.sleep(10)
            idle = (cpu_seconds(proc.pid) - before) / (time.monotonic() - t0)
            idle_runs = (room.runs() - runs) / (time.monotonic() - t0)
            mine_next, theirs, mine_key = steps(presenter, room, args.steps)
            views, stops = room_pages(presenter, room, max(3, args.repeats // 2))
            lesson_times = lesson(b, url, args.repeats)
            switch_page = b.new_context(viewport=SIZE).new_page()
            switch_page.goto(url + "/?model=cue_lstm&input=example&ex=martha-she-seed")
            switch_page.wait_for_selector(HEAT, timeout=120_000)
            wait_idle(switch_page)
            switches = view_switches(switch_page, args.repeats)
            failed = room.failed()
        n = args.students
        print(f"with {n} students following a room (websocket clients):")
        print(f"  lesson Next / Back:   {ms(lesson_times)}   (goal median <= 300 ms)")
        print(f"  view switch:          {ms(switches)}   (goal median <= 500 ms)")
        print(f"  step (Next button):   {ms(mine_next)}   (goal median <= 100 ms)")
        print(f"  step (PageDown key):  {ms(mine_key)}")
        print(f"  step (Next button) with no student yet: {ms(alone)}")
        print("  (steps: in the page, from keydown or pointerdown to the frame showing the step)")
        print(f"  room, step -> every student:        {ms(theirs)}   (goal p95 <= 1 s)")
        print(f"  room, view change -> every student: {ms(views)}   (goal <= 3 s)")
        print(f"  room, lesson stop -> every student: {ms(stops)}   (goal <= 3 s)")
        print(f"  server CPU while {n} students idle-follow: {idle * 100:.0f}% of one core "
              f"({idle_runs:.1f} follower runs/s)")  # fmt: skip
        print(f"  errors: {len(failed)}" + "".join(f"\n    {e}" for e in failed[:5]))
        print(f"  moves some students never showed: {len(room.missed)}"
              + "".join(f"\n    {m}" for m in room.missed))  # fmt: skip
    print(f"load average: {load:.1f} at the start, {os.getloadavg()[0]:.1f} at the end, "
          f"on {os.cpu_count()} cores")  # fmt: skip
    print(f"machine speed: a fixed Python loop took {probe:.3f} s at the start, "
          f"{cpu_probe():.3f} s at the end (smaller is faster)")  # fmt: skip


if __name__ == "__main__":
    main()
