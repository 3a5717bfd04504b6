"""Shared by the browser test and bench/app_speed.py: start `streamlit run app.py` on a free
port and open Debian's Chromium through playwright (no browser download, no network)."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_process(timeout: float = 60.0, script: Path = ROOT / "app.py", log_path=None):
    """Yield (base URL, process) of a fresh server for `script` on loopback; stop it (and only
    it) afterwards. Its output goes to `log_path` if given (else a temporary file)."""
    port = free_port()
    log = open(log_path, "w+b") if log_path else tempfile.TemporaryFile()  # noqa: SIM115
    cmd = [sys.executable, "-m", "streamlit", "run", str(script), "--server.port", str(port)]
    cmd += ["--server.address", "127.0.0.1", "--server.headless", "true"]
    cmd += ["--browser.gatherUsageStats", "false"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:  # poll the health endpoint: ready as soon as it answers "ok"
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                raise RuntimeError(f"streamlit did not start: {log.read()[-2000:]!r}")
            time.sleep(0.1)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@contextlib.contextmanager
def streamlit_server(timeout: float = 60.0, script: Path = ROOT / "app.py"):
    """Yield the base URL of a fresh server for `script` (see `streamlit_process`)."""
    with streamlit_process(timeout, script) as (url, _):
        yield url


@contextlib.contextmanager
def chromium_context(playwright, width: int = 1500, height: int = 1100):
    """A headless Chromium with a fresh profile directory."""
    with tempfile.TemporaryDirectory() as profile:
        ctx = playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            args=ARGS,
            headless=True,
            viewport={"width": width, "height": height},
        )
        try:
            yield ctx
        finally:
            ctx.close()


@contextlib.contextmanager
def chromium_browser(playwright):
    """A headless Chromium whose `new_context()` calls are fresh, separate browser profiles
    (what a second person opening a link has)."""
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
    try:
        yield browser
    finally:
        browser.close()


def wait_idle(page, timeout: float = 60_000) -> None:
    """Wait until the app has finished its run (Streamlit shows a status widget meanwhile)."""
    page.wait_for_timeout(400)  # a run starts a moment after the click that caused it
    page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=timeout)


def screenshot_dir() -> Path:
    """Where browser tests save screenshots: docs/ (the README's pictures) only when asked with
    LSTM_VIZ_SCREENSHOTS=1, so an ordinary test run leaves the work tree untouched."""
    if os.environ.get("LSTM_VIZ_SCREENSHOTS") == "1":
        return Path(__file__).resolve().parents[1] / "docs"
    out = Path(tempfile.gettempdir()) / "lstm_viz_screenshots"
    out.mkdir(exist_ok=True)
    return out
