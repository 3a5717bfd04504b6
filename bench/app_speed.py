"""How fast the app is, measured the way a user feels it.

    python bench/app_speed.py [--steps 30]

Prints:
1. first render (AppTest, cold: a fresh process, the default shipped model and input);
2. a step change end to end in headless Chromium (key press -> the marker has moved on the
   heatmaps and the cell diagram shows the new step, decoded and loaded), median over
   `--steps` presses at T=500, H=64, and the websocket bytes the server sent per step;
3. the JSON that st.plotly_chart sends for the heatmaps (six maps + overview) at T=1000, H=128,
   beside the naive figure (every step, float32, one category array per map).
Goals (issue 4): <= 3 s, median <= 150 ms, <= 50 KB per step, <= 2 MB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


def first_render() -> float:
    """Seconds for AppTest's first run of app.py in a fresh interpreter."""
    code = (
        "import time; from streamlit.testing.v1 import AppTest\n"
        f"at = AppTest.from_file({str(ROOT / 'app.py')!r}, default_timeout=60)\n"
        "t = time.perf_counter(); at.run(); dt = time.perf_counter() - t\n"
        "assert not at.exception, at.exception\n"
        "print(dt)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(out.stderr[-2000:])
    return float(out.stdout.strip().splitlines()[-1])


def payload(steps: int = 1000, hidden: int = 128) -> tuple[int, int, int]:
    """(heatmap JSON bytes, overview JSON bytes, naive JSON bytes) for an nn.LSTM trace."""
    import numpy as np
    import plotly.graph_objects as go
    import plotly.io as pio
    import torch

    import lstm_viz
    from lstm_viz import figures
    from lstm_viz.ui.gates import window_steps

    torch.manual_seed(0)
    lstm = torch.nn.LSTM(1, hidden)
    x = torch.randn(steps, 1)
    labels = [f"{v:.4g}" for v in x[:, 0].tolist()]
    tr = lstm_viz.trace(lstm, x, labels=labels)
    names = ["forget", "input", "candidate", "output", "cell", "hidden"]
    maps = {n: tr.gate(n) for n in names}
    window = (0, window_steps(hidden, steps))
    heat = len(pio.to_json(figures.gate_heatmaps(maps, labels, window=window), validate=False))
    over = len(pio.to_json(figures.overview(maps["cell"], "cell", window), validate=False))
    naive = go.Figure()
    cats = figures.step_categories(labels)
    for k, n in enumerate(names):
        naive.add_trace(go.Heatmap(z=maps[n].T.astype(np.float32), x=cats, yaxis=f"y{k + 1}"))
    return heat, over, len(pio.to_json(naive, validate=False))


def step_latency(presses: int) -> tuple[list[float], list[int]]:
    """Per press: ms until the marker and the per-step panels show the new step; bytes sent."""
    from browser_util import chromium_context, streamlit_server
    from playwright.sync_api import sync_playwright

    query = "?model=demo_untrained_lstm&input=generated&length=500&seed=0"
    with streamlit_server() as url, sync_playwright() as p, chromium_context(p) as ctx:
        page = ctx.new_page()
        frames: list[int] = []
        page.on("websocket", lambda ws: ws.on("framereceived", lambda m: frames.append(len(m))))
        page.goto(url + query)
        page.wait_for_selector(".st-key-lv_heatmaps .heatmaplayer", timeout=120_000)
        page.wait_for_function("document.body.innerText.includes('500 steps')", timeout=60_000)
        page.wait_for_timeout(1500)  # let the first render settle
        page.mouse.click(5, 5)  # focus the page, not a widget: arrows go to the app shortcuts
        times, sizes = [], []
        marker = (
            "() => getComputedStyle(document.querySelector('.st-key-lv_heatmaps'), '::after').left"
        )
        for k in range(presses):
            want, left = k + 1, page.evaluate(marker)
            before = len(frames)
            t0 = time.perf_counter()
            page.keyboard.press("ArrowRight")
            page.wait_for_function(
                "([s, left]) => { const d = document.querySelector('.st-key-lv_cell_diagram img');"
                " const h = document.querySelector('.st-key-lv_heatmaps');"
                " return !!d && !!h && atob(d.src.split(',')[1]).includes('step ' + s + '<')"
                " && d.complete && getComputedStyle(h, '::after').left !== left; }",
                arg=[want, left],
                polling="raf",
                timeout=30_000,
            )
            times.append((time.perf_counter() - t0) * 1000)
            page.wait_for_timeout(250)  # count the whole delta stream of this step
            sizes.append(sum(frames[before:]))
    return times, sizes


FLOOR_APP = """
import streamlit as st
def _next():
    st.session_state.n = st.session_state.get("n", 0) + 1
@st.fragment
def panel():
    st.button("next", key="lv_next", on_click=_next, shortcut="Right")
    st.markdown(f"step {st.session_state.get('n', 0)}c(t)")
panel()
"""


def floor_latency(presses: int) -> list[float]:
    """The same key press on a one-button fragment that updates one line of text: what this
    machine's Streamlit + Chromium cost per rerun right now, before any lstm_viz work."""
    import tempfile

    from browser_util import chromium_context, streamlit_server
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "floor.py"
        script.write_text(FLOOR_APP)
        with streamlit_server(script=script) as url, sync_playwright() as p:
            with chromium_context(p) as ctx:
                page = ctx.new_page()
                page.goto(url)
                page.wait_for_selector("text=step 0c(t)", timeout=60_000)
                page.wait_for_timeout(1000)
                page.mouse.click(5, 5)
                times = []
                for k in range(presses):
                    t0 = time.perf_counter()
                    page.keyboard.press("ArrowRight")
                    page.wait_for_function(
                        f"document.body.innerText.includes('step {k + 1}c(t)')", polling="raf"
                    )
                    times.append((time.perf_counter() - t0) * 1000)
                    page.wait_for_timeout(250)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=30, help="step presses to time")
    args = parser.parse_args()
    print(f"first render (AppTest, cold):      {first_render():.2f} s   (goal <= 3 s)")
    heat, over, naive = payload()
    total = heat + over
    print(
        f"heatmap JSON at T=1000, H=128:     {total / 1e6:.2f} MB (maps {heat / 1e6:.2f} + "
        f"overview {over / 1e6:.2f}); naive {naive / 1e6:.2f} MB, ratio {naive / total:.1f}x "
        "(goal <= 2 MB)"
    )
    load = os.getloadavg()[0]
    times, sizes = step_latency(args.steps)
    floor = floor_latency(args.steps)
    print(
        f"step change (Chromium, T=500,H=64): median {statistics.median(times):.0f} ms, "
        f"p90 {sorted(times)[int(0.9 * len(times))]:.0f} ms over {len(times)} presses "
        "(goal <= 150 ms)"
    )
    print(
        f"  same press on a 1-button fragment: median {statistics.median(floor):.0f} ms; "
        f"lstm_viz / floor {statistics.median(times) / statistics.median(floor):.1f}x; "
        f"load average {load:.1f} on {os.cpu_count()} cores"
    )
    print(
        f"bytes sent per step:               median {statistics.median(sizes) / 1e3:.1f} KB, "
        f"max {max(sizes) / 1e3:.1f} KB (goal <= 50 KB)"
    )


if __name__ == "__main__":
    main()
