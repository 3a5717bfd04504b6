"""The offline explorer in a real browser: a page from `trace_html` opened from a file:// URL, and
the tutorial notebook's `show` outputs opened as a saved notebook's HTML, in headless Chromium.
Step with the slider, the buttons and the keys; the marker must sit on the step and the panel's
numbers must be the trace's at that step; no request may leave the page."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

import lstm_viz

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

from browser_util import CHROMIUM, chromium_context  # noqa: E402

needs_chromium = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")
EVIL = '</script><img src=x onerror="window.__xss=1">'

# what the page shows, read in the page: step, unit, label, the panel's numbers, the equations,
# where the step marker and the unit's row box are drawn (pixels) and where that step and unit
# are on Plotly's axes; k is the step (counted from the window's start) under the marker
READ = """(root, start) => {
  const gd = root.querySelector('.lv-figure'), fl = gd._fullLayout, xa = fl.xaxis;
  const ya = fl.yaxis2 || fl.yaxis;
  const nums = {}, eqs = {};
  root.querySelectorAll('.lv-values td').forEach(td => {
    nums[td.dataset.name] = [td.querySelector('.num').textContent, td.lastChild.textContent];
  });
  root.querySelectorAll('.lv-eq').forEach(d => { eqs[d.dataset.eq] = d.textContent; });
  const g = gd.getBoundingClientRect();
  const m = root.querySelector('.lv-marker').getBoundingClientRect();
  const row = root.querySelectorAll('.lv-row')[ya === fl.yaxis ? 0 : 1].getBoundingClientRect();
  const step = Number(root.querySelector('.lv-step').textContent);
  const unit = root.querySelector('.lv-unit').selectedIndex;
  const center = m.left + m.width / 2 - g.left;
  return {
    step: step,
    unit: Number(root.querySelector('.lv-unit-id').textContent),
    label: root.querySelector('.lv-label').textContent,
    slider: Number(root.querySelector('.lv-slider').value),
    k: Math.round(xa.p2l(center - xa._offset)), nums: nums, eqs: eqs,
    marker: center, want: xa._offset + xa.l2p(step - start),
    row: row.top + row.height / 2 - g.top, wantRow: ya._offset + ya.l2p(unit),
  };
}"""
# settled: the page has drawn and the marker sits on the step the panel shows
SETTLED = """([root, start]) => {
  const r = document.querySelector(root);
  if (!r || r.dataset.ready !== '1') return false;
  const gd = r.querySelector('.lv-figure'), xa = gd._fullLayout.xaxis;
  const k = Number(r.querySelector('.lv-step').textContent) - start;
  const m = r.querySelector('.lv-marker').getBoundingClientRect();
  const center = m.left + m.width / 2 - gd.getBoundingClientRect().left;
  return Math.abs(center - xa._offset - xa.l2p(k)) < 1;
}"""


def close(shown: str, value: float) -> bool:
    """A value shown to 3 decimals of its float16: within rounding of both."""
    return abs(float(shown) - value) <= 5e-4 + abs(value) * 2**-11 + 1e-9


def numbers(text: str) -> list[float]:
    return [float(v) for v in re.findall(r"-?\d+\.\d{3}", text)]


def read(page, start: int = 0, root: str = ".lv-explorer") -> dict:
    page.wait_for_function(SETTLED, arg=[root, start], timeout=30_000)
    return page.locator(root).evaluate(READ, start)


@pytest.fixture(scope="module")
def lstm_page(tmp_path_factory):
    torch.manual_seed(3)
    lstm = torch.nn.LSTM(3, 6, num_layers=2, bidirectional=True)
    labels = [EVIL if t == 5 else f"w{t}" for t in range(40)]
    clamp = lstm_viz.Clamp("forget", 0.0, layer=1, units=[2], steps=range(10, 20))
    tr = lstm_viz.trace(lstm, torch.randn(40, 3), labels=labels, interventions=[clamp])
    path = tmp_path_factory.mktemp("explorer") / "lstm.html"
    lstm_viz.trace_html(tr, path, layer=1, direction=0)
    return tr, path


def check_lstm_panel(tr, seen: dict, layer: int = 1) -> None:
    t, u = seen["step"], seen["unit"]
    assert seen["slider"] == t and seen["k"] == t
    assert abs(seen["marker"] - seen["want"]) < 1, seen  # drawn on the step's column
    assert abs(seen["row"] - seen["wantRow"]) < 1, seen  # the chosen unit's row is boxed
    g = {n: float(tr.gate(n, layer, 0)[t, u]) for n in tr.names}
    # the first step reads the zero initial state
    g["prev"] = float(tr.gate("cell", layer, 0)[t - 1, u]) if t else 0.0
    for name, (shown, tag) in seen["nums"].items():
        assert close(shown, g[name]), (name, shown, g[name])
        held = name != "prev" and bool(tr.clamped(name, layer)[t, u])
        assert tag == (" clamped" if held else ""), (name, tag)
    # c(t) = f·c(t−1) + i·g = f·c_prev + i·g = f*c_prev + i*g = c, every number the trace's
    eq = seen["eqs"]["cell"]
    assert eq.startswith("c(t) = f·c(t−1) + i·g = ")
    f, cp, i, gg, fc, ig, c = numbers(eq)
    names = ("forget", "prev", "input", "candidate", "cell")
    for got, name in zip((f, cp, i, gg, c), names, strict=True):
        assert close(f"{got:.3f}", g[name]), eq
    assert abs(fc + ig - c) <= 2e-3  # the sum as written adds up (to rounding)
    o, c2, h = numbers(seen["eqs"]["hidden"])
    assert close(f"{o:.3f}", g["output"]) and close(f"{h:.3f}", g["hidden"])


@needs_chromium
def test_exported_page_steps_offline(lstm_page):
    tr, path = lstm_page
    with sync_api.sync_playwright() as p, chromium_context(p) as ctx:
        page = ctx.new_page()
        urls: list[str] = []
        page.on("request", lambda r: urls.append(r.url))
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        seen = read(page)
        assert seen["step"] == 0 and seen["unit"] == 0
        check_lstm_panel(tr, seen)
        page.locator(".lv-title").click()  # focus the page, not a control: keys step
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        page.wait_for_function("document.querySelector('.lv-step').textContent === '5'")
        seen = read(page)
        assert seen["label"] == EVIL  # user text shown as text, never run
        check_lstm_panel(tr, seen)
        page.locator(".lv-slider").fill("14")  # the slider
        page.locator(".lv-unit").select_option("2")  # a clamped unit
        seen = read(page)
        assert (seen["step"], seen["unit"]) == (14, 2)
        assert seen["nums"]["forget"] == ["0.000", " clamped"]
        check_lstm_panel(tr, seen)
        page.locator(".lv-next").click()
        page.locator(".lv-next").click()
        page.locator(".lv-prev").click()
        page.wait_for_function("document.querySelector('.lv-step').textContent === '15'")
        check_lstm_panel(tr, read(page))
        page.locator(".lv-title").click()
        page.keyboard.press("End")
        page.wait_for_function("document.querySelector('.lv-step').textContent === '39'")
        check_lstm_panel(tr, read(page))
        page.keyboard.press("ArrowRight")  # past the end: stays
        page.keyboard.press("ArrowLeft")
        page.wait_for_function("document.querySelector('.lv-step').textContent === '38'")
        check_lstm_panel(tr, read(page))
        # a click on a map picks its step and unit (here: step 22, the 4th unit row)
        x, y = page.evaluate("""() => {
          const gd = document.querySelector('.lv-figure'), fl = gd._fullLayout;
          const box = gd.getBoundingClientRect();
          return [box.left + fl.xaxis._offset + fl.xaxis.l2p(22),
                  box.top + fl.yaxis2._offset + fl.yaxis2.l2p(3)];  // on the second map
        }""")
        page.mouse.move(x, y)
        page.mouse.click(x, y)
        page.wait_for_function("document.querySelector('.lv-step').textContent === '22'")
        seen = read(page)
        assert seen["unit"] == 3
        check_lstm_panel(tr, seen)
        assert page.evaluate("window.__xss") is None and not errors, errors
    # no network: the page and nothing else (plotly.js and the data are inline)
    assert urls and all(u.startswith(("file:", "data:")) for u in urls), urls


@needs_chromium
def test_gru_backward_direction_in_a_window(tmp_path):
    torch.manual_seed(4)
    gru = torch.nn.GRU(2, 4, bidirectional=True, batch_first=True)
    tr = lstm_viz.trace(gru, torch.randn(1, 30, 2))  # a batch of one
    path = tmp_path / "gru.html"
    lstm_viz.trace_html(tr, path, direction=1, window=(10, 20), units=[3, 1], step=12)
    with sync_api.sync_playwright() as p, chromium_context(p) as ctx:
        page = ctx.new_page()
        page.goto(path.as_uri())
        for step, unit in ((12, 3), (19, 1)):  # 19: the window's last step reads step 20
            if step == 19:
                page.locator(".lv-unit").select_option("1")
                page.locator(".lv-slider").fill("9")
            seen = read(page, start=10)
            assert (seen["step"], seen["unit"]) == (step, unit)
            assert abs(seen["marker"] - seen["want"]) < 1 and seen["k"] == step - 10
            assert abs(seen["row"] - seen["wantRow"]) < 1
            row = {n: tr.gate(n, 0, 1)[0, :, unit] for n in tr.names}
            for name, (shown, _) in seen["nums"].items():
                want = row["hidden"][step + 1] if name == "prev" else row[name][step]
                assert close(shown, float(want)), (name, shown, want)
            eq = seen["eqs"]["hidden"]
            assert eq.startswith("h(t) = (1 − z)·n + z·h(t+1) = ")
            z, n, z2, hp, h = numbers(eq.replace("(1 − ", "("))
            assert close(f"{h:.3f}", float(row["hidden"][step]))
            assert abs((1 - z) * n + z * hp - h) <= 3e-3  # the equation holds as written


def stored(frame) -> dict:
    """The frame's data block, values decoded as the page decodes them: name -> (W, U)."""
    data = json.loads(frame.evaluate("document.querySelector('[id$=-data]').textContent"))
    shape = (data["steps"], len(data["units"]))
    data["arrays"] = {
        n: np.frombuffer(base64.b64decode(p["b64"]), "<" + p["dtype"]).reshape(shape)
        for n, p in data["values"].items()
    }
    return data


def check_against_stored(frame, data: dict) -> dict:
    frame.wait_for_function(SETTLED, arg=[".lv-explorer", data["start"]], timeout=30_000)
    seen = frame.locator(".lv-explorer").evaluate(READ, data["start"])
    assert abs(seen["marker"] - seen["want"]) < 1, seen
    assert seen["k"] == seen["step"] - data["start"]
    assert abs(seen["row"] - seen["wantRow"]) < 1, seen  # the chosen unit's row is boxed
    k, u = seen["step"] - data["start"], data["units"].index(seen["unit"])
    assert seen["label"] == data["labels"][k]
    prev = data["arrays"][data["carried"]][k - 1, u] if k else data["before"][u]
    for name, (shown, _) in seen["nums"].items():
        want = prev if name == "prev" else data["arrays"][name][k, u]
        assert close(shown, float(want)), (name, shown, want)
    return seen


@needs_chromium
def test_notebook_outputs_step_with_no_kernel(tmp_path):
    pytest.importorskip("nbclient")
    from notebook_util import executed_notebook, explorer_outputs

    outputs = explorer_outputs(executed_notebook())
    assert len(outputs) == 3  # the LSTM, the LSTM with a forget gate closed, the GRU
    # a saved notebook's HTML: the outputs as they are, one after another, no kernel behind them
    path = tmp_path / "tutorial.html"
    body = "".join(f"<div class='output'>{o}</div>" for o in outputs)
    path.write_text(f"<!DOCTYPE html><html><body>{body}</body></html>", encoding="utf-8")
    with sync_api.sync_playwright() as p, chromium_context(p) as ctx:
        page = ctx.new_page()
        urls: list[str] = []
        page.on("request", lambda r: urls.append(r.url))
        page.goto(path.as_uri())
        frames = [f for f in page.frames if f.parent_frame is not None]
        assert len(frames) == 3
        for frame in frames:
            frame.wait_for_selector(".lv-explorer[data-ready='1']", timeout=60_000)
        data = [stored(f) for f in frames]
        lstm, clamped, gru = frames
        start = [check_against_stored(f, d)["step"] for f, d in zip(frames, data, strict=True)]
        # keys and buttons in the first explorer move it alone
        lstm.locator(".lv-title").click()
        for _ in range(3):
            page.keyboard.press("ArrowRight")
        lstm.locator(".lv-next").click()
        assert check_against_stored(lstm, data[0])["step"] == start[0] + 4
        assert check_against_stored(gru, data[2])["step"] == start[2]
        # the clamped run: the closed forget gate (the first unit shown) reads 0 and says why
        clamped.locator(".lv-slider").fill("50")
        seen = check_against_stored(clamped, data[1])
        assert seen["step"] == data[1]["start"] + 50
        assert seen["nums"]["forget"] == ["0.000", " clamped"]
        assert seen["eqs"]["cell"].startswith("c(t) = f·c(t−1) + i·g = 0.000·")
        gru.locator(".lv-unit").select_option("5")
        gru.locator(".lv-slider").fill("20")
        seen = check_against_stored(gru, data[2])
        assert (seen["step"], seen["unit"]) == (data[2]["start"] + 20, data[2]["units"][5])
        assert seen["eqs"]["hidden"].startswith("h(t) = (1 − z)·n + z·h(t−1) = ")
    # no network: srcdoc frames load nothing; plotly.js and the data are inside each output
    assert all(u.startswith(("file:", "data:", "about:")) for u in urls), urls
