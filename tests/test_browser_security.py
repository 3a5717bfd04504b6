"""User text never runs in the browser: `streamlit run app.py` in headless Chromium, HTML and
script tags typed into the text box, used as a file name, and made into step labels (tick labels,
hover, the step panel, the page title line, the exported HTML).

Every payload would set `window.__xss` or the page title if it ran; the test asserts neither
ever happens (a MutationObserver records every title the page has had) and that the payloads are
on the page as plain text.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

pytestmark = pytest.mark.browser
sync_api = pytest.importorskip("playwright.sync_api")

from browser_util import CHROMIUM, chromium_context, streamlit_server  # noqa: E402

from lstm_viz import export, figures  # noqa: E402
from lstm_viz.models import ModelConfig, SequenceModel, save_checkpoint  # noqa: E402

IMG = "<img src=x onerror=\"window.__xss=1;document.title='XSS'\">"
SCRIPT = "<script>window.__xss=2;document.title='XSS'</script>"
# the same, without spaces: tokens of a model's vocabulary (text is split on whitespace)
TOKENS = [
    "<img/src='x'/onerror=window.__xss=3>",
    "<script>window.__xss=4</script>",
    "<svg/onload=window.__xss=5>",
    "<b>bold</b>",
    "[link](javascript:window.__xss=6)",
]
FILE_NAME = '<img src=x onerror="window.__xss=7">.pt'
WATCH = """() => {
    window.__titles = [document.title];
    new MutationObserver(() => window.__titles.push(document.title)).observe(
        document.querySelector('title') || document.head,
        {subtree: true, childList: true, characterData: true});
}"""

needs = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs Debian's chromium")


def _payload_model(tmp: Path) -> bytes:
    """An lstm_viz checkpoint whose tokens and output names are the payloads."""
    torch.manual_seed(0)
    config = ModelConfig(
        vocab=["hello", *TOKENS], hidden_size=8, output_size=3, output_labels=[*TOKENS[:2], "ok"]
    )
    save_checkpoint(SequenceModel(config), tmp / "payload.pt")
    return (tmp / "payload.pt").read_bytes()


def _nothing_ran(page) -> None:
    assert page.evaluate("window.__xss") is None, "a payload ran"
    titles = page.evaluate("window.__titles || []")
    assert "XSS" not in titles, titles


def _type(page, text: str) -> None:
    box = page.locator(".st-key-lv_text textarea")
    box.fill(text)
    box.press("Control+Enter")  # st.text_area commits on Ctrl+Enter (or on blur)


@needs
def test_html_and_script_in_user_text_never_run(tmp_path):
    dialogs: list[str] = []
    with (
        streamlit_server() as url,
        sync_api.sync_playwright() as p,
        chromium_context(p) as ctx,
    ):
        page = ctx.new_page()
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

        # 1. the payloads typed into a numeric model's text box: refused, the message shows them
        page.goto(url + "/?model=demo_untrained_lstm&input=text")
        page.wait_for_selector(".st-key-lv_text textarea", timeout=120_000)
        page.evaluate(WATCH)
        _type(page, f"{IMG} {SCRIPT}")
        alert = page.locator("[data-testid='stAlertContentError']", has_text="not a number")
        alert.wait_for(timeout=60_000)
        assert "<img" in alert.inner_text()  # as text, not as an element
        assert page.locator("[data-testid='stAlertContentError'] img").count() == 0
        _nothing_ran(page)

        # 2. a model whose tokens are payloads: they become the labels of every step; the file
        #    name (a payload too) is in the title line
        page.goto(url + "/?model=upload&input=text")
        upload = page.locator(".st-key-lv_model_file input[type=file]")
        upload.wait_for(state="attached", timeout=120_000)  # the input itself is hidden
        page.evaluate(WATCH)
        data = _payload_model(tmp_path)
        upload.set_input_files(
            files=[{"name": FILE_NAME, "mimeType": "application/octet-stream", "buffer": data}]
        )
        page.wait_for_selector(".st-key-lv_text textarea", timeout=60_000)
        _type(page, " ".join(["hello", *TOKENS, "hello"]))
        page.wait_for_selector(".st-key-lv_heatmaps .heatmaplayer", timeout=120_000)
        ticks = " ".join(page.locator(".st-key-lv_heatmaps .xtick text").all_text_contents())
        # long labels are cut with "…"; the tags are there as characters (<b> is not bold)
        assert all(t in ticks for t in ("<script>w", "<svg/onlo", "<b>bold</")), ticks
        heading = page.locator("h4").first.inner_text()
        assert "<img src=x onerror=" in heading, heading
        for _ in range(3):  # step onto the payload tokens: the step panel shows each label
            page.locator(".st-key-lv_next button").first.click()
            page.wait_for_timeout(400)
        box = page.locator(".st-key-lv_heatmaps .nsewdrag").first.bounding_box()
        for fx in (0.1, 0.3, 0.5, 0.7, 0.9):  # hover labels name the token of each step
            page.mouse.move(box["x"] + fx * box["width"], box["y"] + 10)
            page.wait_for_timeout(150)
        assert "<script>" in page.inner_text("body")
        _nothing_ran(page)

        # 3. the exported heatmaps (standalone HTML) with the payloads as step labels
        maps = {"cell": np.linspace(-1, 1, 6 * 4).reshape(6, 4)}
        labels = ["hello", *TOKENS]
        html = export.figure_html(figures.gate_heatmaps(maps, labels, [0, 1, 2, 3], (0, 6)))
        page.set_content(html)
        page.evaluate(WATCH)
        page.wait_for_selector(".heatmaplayer", timeout=60_000)
        assert "<script>" in page.inner_text("body")
        _nothing_ran(page)

        # control: the same payload put into a page as HTML does run, and the checks see it
        page.set_content(f"<title>t</title><body>{IMG}</body>")
        page.wait_for_function("window.__xss === 1", timeout=10_000)
    assert not dialogs, dialogs


@needs
def test_an_upload_over_the_limit_is_refused_with_the_limit_in_the_browser():
    """Streamlit's uploader refuses a file over server.maxUploadSize (8 MB) before sending it,
    with a message that states the limit; the app goes on with the next, good file."""
    big = b"value\n" + b"0.123456789\n" * (9 * 2**20 // 12)  # 9 MB
    good = b"value\n" + b"".join(f"{np.sin(k / 4):.4f}\n".encode() for k in range(30))
    with (
        streamlit_server() as url,
        sync_api.sync_playwright() as p,
        chromium_context(p) as ctx,
    ):
        page = ctx.new_page()
        page.goto(url + "/?model=demo_untrained_lstm&input=csv")
        upload = page.locator(".st-key-lv_csv input[type=file]")
        upload.wait_for(state="attached", timeout=120_000)
        upload.set_input_files(files=[{"name": "big.csv", "mimeType": "text/csv", "buffer": big}])
        # e.g. "Error: File must be 8.0MB or smaller." (not the dropzone's "Limit 8MB per file")
        refusal = page.get_by_text(re.compile(r"must be 8(\.0)? ?MB or smaller"))
        refusal.first.wait_for(timeout=30_000)
        upload.set_input_files(files=[{"name": "ok.csv", "mimeType": "text/csv", "buffer": good}])
        page.wait_for_selector(".st-key-lv_heatmaps .heatmaplayer", timeout=60_000)
