"""A classroom at once: 30 concurrent sessions against the real `streamlit run app.py` on loopback.

    python bench/load.py [--sessions 30] [--parts classroom,heavy,churn,abandon]

Each session is a websocket client (bench/st_client.py) that picks its own model and input --
a generated series, typed text, its own uploaded model file, its own CSV file, bad text then good,
or a clamp experiment in the intervene view -- and then steps five times. Every uploaded file
name, CSV column and typed text carries a tag unique to its session.

Checks: no exception or unexpected error box in any session; no session ever receives another
session's tag (no cross-talk); a fresh session's heatmaps after the load are byte-identical to one
taken before it (the cached shipped model was not changed by anyone's clamps). Prints the
server's RSS (before any session, after a warm-up session, at the end, and per session), the run
times and the wall time. The other parts (bench/load_heavy.py, each on a fresh server): the
classroom stepping beside one session doing the heaviest allowed work, 200 sessions opened and
closed (server memory after), and a tab closed mid-training (does its work stop).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import io
import os
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

from browser_util import streamlit_process  # noqa: E402
from rss import rss_mb  # noqa: E402
from st_client import Session  # noqa: E402

KINDS = ("generated", "text", "upload", "csv", "intervene", "bad_then_good")
STEPS = 5  # step presses per session
SHIPPED = ("cue_lstm", "adding_gru", "forecast_synthetic_lstm", "cue_rnn_tanh", "adding_lstm")


def tag(i: int) -> str:
    """A lowercase word unique to session i that the app never writes by itself."""
    return "zqx" + chr(97 + i // 26 % 26) + chr(97 + i % 26)


@dataclass
class Outcome:
    index: int
    kind: str
    errors: list[str] = field(default_factory=list)  # anything unexpected
    full_runs: list[float] = field(default_factory=list)  # seconds per whole-script run
    step_runs: list[float] = field(default_factory=list)  # seconds per step (fragment) run
    received: int = 0  # bytes the server sent
    session: Session | None = None


@contextlib.contextmanager
def server(log_path: str | None = None, timeout: float = 90.0):
    """`streamlit run app.py` on a free loopback port; yields (url, pid). The server's output
    goes to `log_path` when given (tracebacks of failed runs are there)."""
    with streamlit_process(timeout, log_path=log_path) as (url, proc):
        yield url, proc.pid


def model_file(i: int) -> bytes:
    import torch

    torch.manual_seed(i)
    buf = io.BytesIO()
    torch.save(torch.nn.LSTM(1, 4 + i % 12).state_dict(), buf)
    return buf.getvalue()


def csv_file(i: int) -> bytes:
    t = np.arange(40 + i)
    rows = "".join(f"{k},{np.sin(k / (3 + i % 5)):.4f}\n" for k in t)
    return f"step,col_{tag(i)}\n{rows}".encode()


async def _steps(s: Session, out: Outcome) -> None:
    for _ in range(STEPS):
        s.click("lv_next")
        run = await s.rerun("lv_next")
        out.step_runs.append(run.seconds)
    if s.value("lv_step") != [float(STEPS)]:
        out.errors.append(f"step is {s.value('lv_step')} after {STEPS} presses")


async def _run(s: Session, out: Outcome) -> None:
    run = await s.rerun()
    out.full_runs.append(run.seconds)


async def session(url: str, i: int) -> Outcome:
    kind = KINDS[i % len(KINDS)]
    out = Outcome(i, kind)
    query = {
        "generated": {"model": SHIPPED[i % len(SHIPPED)], "input": "generated"},
        "text": {"model": "chars_lstm", "input": "text"},
        "upload": {"model": "upload", "input": "generated"},
        "csv": {"model": "demo_untrained_lstm", "input": "csv"},
        "intervene": {"model": "cue_lstm", "input": "example"},
        "bad_then_good": {"model": "demo_untrained_lstm", "input": "text"},
    }[kind]
    if kind in ("generated", "upload"):
        query |= {"length": str(60 + 7 * i), "seed": str(i)}
    s = out.session = Session(url, query)
    try:
        await s.open()
        await _run(s, out)
        expect_error = None
        text = f'{tag(i)} said, "we go (now)."'
        if kind == "text":
            s.set("lv_text", string_value=text)
        elif kind == "upload":
            await s.upload("lv_model_file", f"student_{tag(i)}.pt", model_file(i))
        elif kind == "csv":
            await s.upload("lv_csv", f"series_{tag(i)}.csv", csv_file(i))
        elif kind == "bad_then_good":
            s.set("lv_text", string_value=f"<script>{tag(i)}</script>")
            expect_error = "not a number"
        if kind != "generated":
            await _run(s, out)
        if expect_error:
            found = s.errors()
            if not any(expect_error in e for e in found):
                out.errors.append(f"expected an error naming {expect_error!r}, got {found}")
            s.set("lv_text", string_value=" ".join(str(k % 7) for k in range(20 + i)))
            await _run(s, out)
        if kind == "intervene":
            s.set("lv_view", string_array_value=["Intervene"])
            await _run(s, out)
            s.click("lv_iv_exp_cut")
            await _run(s, out)
            if not s.has("lv_iv_diff"):
                out.errors.append("the clamp experiment drew no difference map")
            s.set("lv_view", string_array_value=["Gates, step by step"])
            await _run(s, out)
        out.errors += s.errors()
        if not s.has("lv_heatmaps"):
            out.errors.append("no heatmaps")
        else:
            await _steps(s, out)
            out.errors += s.errors()
        if kind in ("upload", "csv") and not s.saw(tag(i)):
            out.errors.append(f"its own tag {tag(i)} never came back")
        # its heatmaps are of its own input: the steps (and for text, every character)
        x = s.chart("lv_heatmaps")["data"][0]["x"] if s.has("lv_heatmaps") else []
        labels = "".join(str(v).split(" · ", 1)[-1] for v in x).replace("␣", " ")
        want = {"upload": 60 + 7 * i, "csv": 40 + i, "bad_then_good": 20 + i}.get(kind)
        if kind == "text" and labels != text:
            out.errors.append(f"its heatmaps show {labels[:40]!r}, not its text {text!r}")
        elif want is not None and len(x) != want:
            out.errors.append(f"its heatmaps have {len(x)} steps, not its {want}")
    except Exception as err:  # a failed session is a finding, reported with the others
        out.errors.append(f"{type(err).__name__}: {err}")
    finally:
        out.received = s.received
        await s.close()
    return out


async def heatmap_digest(url: str) -> str:
    """sha256 of the heatmap figure a fresh session gets for the cue model's first example."""
    s = Session(url, {"model": "cue_lstm", "input": "example"})
    try:
        await s.open()
        await s.rerun()
        spec = next(
            el.plotly_chart.spec
            for el in s.elements.values()
            if el.WhichOneof("type") == "plotly_chart"
            and el.plotly_chart.id.endswith("-lv_heatmaps")
        )
        return hashlib.sha256(spec.encode()).hexdigest()
    finally:
        await s.close()


@dataclass
class Report:
    sessions: int
    outcomes: list[Outcome]
    rss: dict[str, float]  # MB: idle, warm, peak, end, per_session
    seconds: float
    digest_before: str
    digest_after: str

    @property
    def errors(self) -> list[str]:
        return [f"session {o.index} ({o.kind}): {e}" for o in self.outcomes for e in o.errors]

    @property
    def cross_talk(self) -> list[str]:
        found = []
        tags = {o.index: tag(o.index) for o in self.outcomes if o.kind in ("text", "upload", "csv")}
        for o in self.outcomes:
            for j, t in tags.items():
                if j != o.index and o.session is not None and o.session.saw(t):
                    found.append(f"session {o.index} saw session {j}'s {t}")
        return found


async def load(url: str, pid: int, sessions: int) -> Report:
    rss = {"idle": rss_mb(pid)}
    before = await heatmap_digest(url)  # also the warm-up: imports, shipped model, first trace
    rss["warm"] = rss_mb(pid)
    peak = [rss["warm"]]

    async def watch():
        while True:
            peak.append(rss_mb(pid))
            await asyncio.sleep(0.25)

    watcher = asyncio.create_task(watch())
    start = time.perf_counter()
    outcomes = await asyncio.wait_for(
        asyncio.gather(*(session(url, i) for i in range(sessions))), timeout=900
    )
    seconds = time.perf_counter() - start
    watcher.cancel()
    rss["peak"] = max(peak)
    rss["end"] = rss_mb(pid)
    rss["per_session"] = (rss["peak"] - rss["warm"]) / sessions
    after = await heatmap_digest(url)
    return Report(sessions, list(outcomes), rss, seconds, before, after)


def run_load(sessions: int = 30, log_path: str | None = None) -> Report:
    with server(log_path) as (url, pid):
        return asyncio.run(load(url, pid, sessions))


def run_part(part: str, sessions: int, log_path: str | None = None) -> list[str]:
    """One of bench/load_heavy.py's parts on a fresh server; the lines to print."""
    import load_heavy as h

    with server(log_path) as (url, pid):
        if part == "heavy":
            return h.report_heavy(asyncio.run(h.heavy_beside_classroom(url, sessions)))
        if part == "churn":
            return h.report_churn(asyncio.run(h.churn(url, pid, session, n=200)))
        return h.report_abandoned(asyncio.run(h.abandoned_training(url, pid)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=30)
    ap.add_argument("--parts", default="classroom,heavy,churn,abandon")
    ap.add_argument("--log", help="write the server's output here")
    ap.add_argument("--lockstep", action="store_true",
                    help="heavy part: every session presses exactly once a second")  # fmt: skip
    args = ap.parse_args()
    if args.lockstep:
        import load_heavy

        load_heavy.LOCKSTEP = True
    parts = args.parts.split(",")
    for part in [p for p in parts if p != "classroom"]:
        print("\n".join(run_part(part, args.sessions, args.log)), flush=True)
    if "classroom" not in parts:
        return
    r = run_load(args.sessions, args.log)
    full = [t for o in r.outcomes for t in o.full_runs]
    steps = [t for o in r.outcomes for t in o.step_runs]
    print(f"sessions: {r.sessions} concurrent ({', '.join(KINDS)}), {STEPS} steps each")
    print(f"wall time: {r.seconds:.1f} s; load average now: {os.getloadavg()[0]:.2f}")
    print(f"errors: {len(r.errors)}; cross-talk: {len(r.cross_talk)}")
    for line in r.errors + r.cross_talk:
        print("  ", line)
    print(
        "server RSS MB: idle {idle:.0f}, after warm-up {warm:.0f}, peak {peak:.0f}, "
        "end {end:.0f}; per session {per_session:.1f}".format(**r.rss)
    )
    print(
        f"whole-script runs: {len(full)}, median {statistics.median(full):.2f} s, "
        f"max {max(full):.2f} s"
    )
    print(
        f"step runs: {len(steps)}, median {statistics.median(steps) * 1000:.0f} ms, "
        f"max {max(steps) * 1000:.0f} ms"
    )
    mb = sum(o.received for o in r.outcomes) / 1e6
    print(f"bytes sent by the server: {mb:.1f} MB in all")
    same = "identical" if r.digest_before == r.digest_after else "DIFFERENT"
    print(f"cue_lstm heatmaps of a fresh session before vs after the load: {same}")


if __name__ == "__main__":
    main()
