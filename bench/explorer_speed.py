"""How long a step takes in the offline explorer (lstm_viz.trace_html), in headless Chromium.

    python bench/explorer_speed.py [--steps 40]

Opens the page of a one-layer LSTM at T=500, H=64 from a file:// URL, presses the right arrow
`--steps` times and, for each press, times until the panel shows the new step and the marker has
been placed there (through the driver's round trips), then times the same in the page itself, from
the key press to the next painted frame.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import torch  # noqa: E402
from browser_util import chromium_context  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

import lstm_viz  # noqa: E402

# the panel shows step s and the marker box has been placed on its column
MOVED = """(s) => {
  const gd = document.querySelector('.lv-figure'), xa = gd._fullLayout.xaxis;
  const m = document.querySelector('.lv-marker').getBoundingClientRect();
  const center = m.left + m.width / 2 - gd.getBoundingClientRect().left;
  return document.querySelector('.lv-step').textContent === String(s) &&
    Math.abs(center - xa._offset - xa.l2p(s)) < 1;
}"""
# in the page, without the driver's round trips: from the key press to the next painted frame
IN_PAGE = """async (n) => {
  const out = [];
  for (let s = 0; s < n; s++) {
    const t0 = performance.now();
    document.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true}));
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    out.push(performance.now() - t0);
  }
  return out;
}"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=40)
    steps = parser.parse_args().steps
    torch.manual_seed(0)
    tr = lstm_viz.trace(torch.nn.LSTM(8, 64), torch.randn(500, 8))
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p, chromium_context(p) as ctx:
        path = Path(tmp) / "explorer.html"
        lstm_viz.trace_html(tr, path)
        page = ctx.new_page()
        t0 = time.perf_counter()
        page.goto(path.as_uri())
        page.wait_for_selector(".lv-explorer[data-ready='1']")
        load = time.perf_counter() - t0
        page.locator(".lv-title").click()
        times = []
        for s in range(1, steps + 1):
            t0 = time.perf_counter()
            page.keyboard.press("ArrowRight")
            page.wait_for_function(MOVED, arg=s, polling="raf")
            times.append((time.perf_counter() - t0) * 1000)
        painted = sorted(page.evaluate(IN_PAGE, steps))
    times.sort()
    p90 = times[int(0.9 * (len(times) - 1))]
    print(f"T=500 H=64, {steps} steps: page load {load:.2f} s")
    print(
        f"  a step, key press to marker placed (via the driver): median "
        f"{statistics.median(times):.0f} ms, p90 {p90:.0f} ms"
    )
    print(
        f"  a step, key press to the next painted frame (in the page): median "
        f"{statistics.median(painted):.0f} ms, max {painted[-1]:.0f} ms"
    )


if __name__ == "__main__":
    main()
