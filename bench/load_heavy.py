"""The classroom beside one heavy session, sessions that come and go, and a tab closed mid-training,
all against the real `streamlit run app.py` on loopback (run by bench/load.py; helpers here).

- `heavy_beside_classroom`: `n` sessions step through shipped models (one press every THINK
  seconds, as a student clicking "next") first alone, then while one more session does the
  heaviest work the limits allow: the largest LSTM a model file under the upload limit can hold
  at MAX_LAYERS layers, traced on MAX_STEPS steps, a CSV export at the row cap, and a quick
  forecast model trained for the most steps the Forecast view offers. Step times are returned
  for both phases.
- `churn`: sessions opened and closed (each does one of bench/load.py's session kinds), with the
  server's RSS after the first, right after all have closed, and after the disconnected-session
  TTL has passed (Streamlit keeps a closed tab's state that long, so the tab can reconnect).
- `abandoned_training`: a session starts training, the tab closes after a few progress updates;
  how long its script thread lives on, and the CPU it uses, beside what the rest of the training
  would have cost.
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import time
from pathlib import Path

import numpy as np
import st_client
from rss import rss_mb
from st_client import Session, element_key
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from lstm_viz import limits
from lstm_viz.limits import MAX_HIDDEN, MAX_LAYERS, MAX_STEPS, MAX_UPLOAD_BYTES
from lstm_viz.ui.server_memory import TRIM_EVERY

# seconds between one stepping session's presses (a student reading the step): 1 s on average,
# each student drawing their own from THINK_RANGE (seeded per session). With exactly 1 s for
# everyone, the 30 sessions fell into step and pressed at the same instant every second: each
# press then waited for all 30 runs sharing the GIL (p10 358 ms with the server at 34% CPU), a
# class clicking in unison, not students reading at their own pace. `--lockstep` measures that.
THINK = 1.0
THINK_RANGE = (0.5, 1.5)
LOCKSTEP = False  # every session THINK s exactly (bench/load.py --lockstep)
SHIPPED = ("cue_lstm", "adding_gru", "adding_lstm", "cue_rnn_tanh", "chars_lstm")
TRAIN_STEPS = 3000  # the Forecast view's largest "Training steps"
# rows of the largest CSV export: the app's cap (issue 10) where this version has it; 1,000,000
# otherwise, rather than the ~60 million rows of an uncapped export of the largest trace
EXPORT_ROWS = getattr(limits, "MAX_EXPORT_ROWS", 1_000_000)
TTL = 120  # server.disconnectedSessionTTL (Streamlit's default; .streamlit/config.toml keeps it)


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """utime + stime of the process (or one of its threads), in seconds."""
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    fields = Path(path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # USER_HZ is 100 on Linux


def threads(pid: int) -> dict[int, float]:
    """tid -> CPU seconds of every thread of the process now."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            out[int(task.name)] = cpu_seconds(pid, int(task.name))
        except (FileNotFoundError, ProcessLookupError):
            pass  # the thread ended meanwhile
    return out


def largest_lstm(layers: int = MAX_LAYERS, limit: int = MAX_UPLOAD_BYTES) -> tuple[bytes, int]:
    """(state_dict file, hidden size) of the widest nn.LSTM(1, H, layers), H <= MAX_HIDDEN, whose
    file fits `limit` (8 MB holds about 2 million float32 weights: H = 127 at 16 layers)."""
    import torch

    def file(hidden: int) -> bytes:
        torch.manual_seed(0)
        buf = io.BytesIO()
        torch.save(torch.nn.LSTM(1, hidden, layers).state_dict(), buf)
        return buf.getvalue()

    lo, hi = 1, MAX_HIDDEN  # the file grows with H: bisect for the last H that fits
    while lo < hi:
        mid = (lo + hi + 1) // 2
        lo, hi = (mid, hi) if len(file(mid)) <= limit else (lo, mid - 1)
    return file(lo), lo


def series_csv(n: int = 2000) -> bytes:
    t = np.arange(n)
    v = 3 * np.sin(t / 7) + 0.01 * t + np.random.default_rng(0).normal(0, 0.1, n)
    return ("t,value\n" + "".join(f"{k},{x:.4f}\n" for k, x in zip(t, v, strict=True))).encode()


def percentile(xs: list[float], q: float) -> float:
    return float(np.percentile(xs, q)) if len(xs) else float("nan")


async def stepper(url: str, i: int, done: asyncio.Event, times: list[float]) -> list[str]:
    """One student: a shipped model on its own generated input, pressing "next" until `done`."""
    s = Session(
        url,
        {"model": SHIPPED[i % len(SHIPPED)], "input": "generated", "length": "400", "seed": str(i)},
    )
    errors: list[str] = []
    try:
        await s.open()
        await s.rerun()
        if not s.has("lv_heatmaps"):
            return [f"stepper {i}: no heatmaps: {s.errors()}"]
        pressed, think = 0, random.Random(i)
        while not done.is_set():
            s.click("lv_next")
            times.append((await s.rerun("lv_next")).seconds)
            pressed += 1
            await asyncio.sleep(THINK if LOCKSTEP else think.uniform(*THINK_RANGE))
        errors += [f"stepper {i}: {e}" for e in s.errors()]
        if s.value("lv_step") != [float(min(pressed, 399))]:
            errors.append(f"stepper {i}: step {s.value('lv_step')} after {pressed} presses")
    except Exception as err:  # a failed session is a finding, reported with the others
        errors.append(f"stepper {i}: {type(err).__name__}: {err}")
    finally:
        await s.close()
    return errors


def _label(s: Session, key: str) -> str:
    el = next(e for e in s.elements.values() if element_key(e) == key)
    return getattr(el, el.WhichOneof("type")).label


async def heavy_session(
    url: str,
    train_steps: int = TRAIN_STEPS,
    length: int = MAX_STEPS,
    layers: int = MAX_LAYERS,
    file_bytes: int = MAX_UPLOAD_BYTES,
) -> dict:
    """The heaviest work the limits allow, one part after another; seconds of each part."""
    st_client.RUN_TIMEOUT = 3600.0  # these runs are long by design
    data, hidden = largest_lstm(layers, file_bytes)
    s = Session(url, {"model": "upload", "input": "generated", "length": str(length), "seed": "1"})
    out: dict = {"hidden": hidden, "layers": layers, "steps": length, "errors": []}
    try:
        await s.open()
        await s.rerun()
        await s.upload("lv_model_file", "widest.pt", data)
        out["trace s"] = (await s.rerun()).seconds
        if not s.has("lv_heatmaps"):
            out["errors"].append(f"no heatmaps for the largest model: {s.errors()}")
            return out
        # the CSV export at its row cap: the input cut to the length whose trace fills it
        out["csv steps"] = min(length, EXPORT_ROWS // (6 * hidden * layers))
        s.set("lv_gen_length", double_value=float(out["csv steps"]))
        await s.rerun()
        s.set("lv_export_kind", string_value="csv")
        await s.rerun()
        s.click("lv_export_prepare")
        out["csv export s"] = (await s.rerun()).seconds
        out["csv export"] = _label(s, "lv_export_download") if s.has("lv_export_download") else ""
        s.set("lv_view", string_array_value=["Forecast"])
        await s.rerun()
        await s.upload("lv_fc_csv", "series.csv", series_csv())
        await s.rerun()
        s.set("lv_fc_steps", double_value=float(train_steps))
        s.click("lv_fc_train")
        out["training s"] = (await s.rerun()).seconds
        if not s.has("lv_fc_download"):
            out["errors"].append(f"training left no model to download: {s.errors()}")
        out["errors"] += s.errors()
    except Exception as err:  # reported with the others
        out["errors"].append(f"{type(err).__name__}: {err}")
    finally:
        await s.close()
    return out


async def heavy_beside_classroom(
    url: str, n: int = 30, idle_seconds: float = 20.0, heavy=heavy_session
) -> dict:
    """Step times of `n` stepping sessions alone (for `idle_seconds`) and beside `heavy`."""
    result: dict = {}
    for phase in ("idle", "heavy"):
        done, times = asyncio.Event(), []
        tasks = [asyncio.create_task(stepper(url, i, done, times)) for i in range(n)]
        while len(times) < n and not all(t.done() for t in tasks):  # everyone is stepping
            await asyncio.sleep(0.2)
        start = len(times)
        if phase == "idle":
            await asyncio.sleep(idle_seconds)
        else:
            result["work"] = await heavy(url)
        done.set()
        errors = [e for t in await asyncio.gather(*tasks) for e in t]
        result[phase] = {"times": times[start:], "errors": errors}
    return result


async def churn(
    url: str, pid: int, session, n: int = 200, batch: int = 10, wait_ttl: bool = True
) -> dict:
    """RSS (MB) after one session, after `n` opened and closed (`batch` at a time), and after
    the closed sessions' TTL; `session(url, i)` is bench/load.py's session (it closes itself)."""
    errors = list((await session(url, 0)).errors)
    await asyncio.sleep(1.0)
    rss = {"first": rss_mb(pid)}
    for start in range(1, n, batch):
        outs = await asyncio.gather(*(session(url, i) for i in range(start, min(n, start + batch))))
        errors += [f"session {o.index} ({o.kind}): {e}" for o in outs for e in o.errors]
        for o in outs:
            o.session = None  # keep no session's messages: this bench counts the server's memory
    await asyncio.sleep(1.0)
    rss["closed"] = rss_mb(pid)
    if wait_ttl:
        await asyncio.sleep(TTL + 5)
        errors += (await session(url, n)).errors  # a save into the session store expires the old
        await asyncio.sleep(1.0)
        rss["after ttl"] = rss_mb(pid)
        await asyncio.sleep(TRIM_EVERY + 1)  # the server's periodic malloc_trim has run since
        rss["after trim"] = rss_mb(pid)
    return {"rss": rss, "errors": errors, "sessions": n}


async def _until_progress(s: Session, done_at_least: int) -> int:
    """Read the running training's messages until its progress bar says `done_at_least`."""
    while True:
        fwd = ForwardMsg()
        fwd.ParseFromString(await asyncio.wait_for(s.ws.recv(), 600))
        if fwd.WhichOneof("type") == "delta" and fwd.delta.new_element.HasField("progress"):
            text = fwd.delta.new_element.progress.text  # "step 31 of 3000 · loss 0.123"
            if text.startswith("step ") and int(text.split()[1]) >= done_at_least:
                return int(text.split()[1])


async def abandoned_training(url: str, pid: int, train_steps: int = TRAIN_STEPS) -> dict:
    """Start a training, close the tab after a few progress updates, and follow its thread."""
    s = Session(
        url,
        {"model": "demo_untrained_lstm", "input": "generated", "length": "50", "view": "forecast"},
    )
    await s.open()
    await s.rerun()
    await s.upload("lv_fc_csv", "series.csv", series_csv())
    await s.rerun()
    s.set("lv_fc_steps", double_value=float(train_steps))
    s.click("lv_fc_train")
    before = threads(pid)
    await s.ws.send(_rerun_msg(s))
    first = await _until_progress(s, 11)
    mid, t_first = threads(pid), time.monotonic()
    last = await _until_progress(s, 51)
    now = threads(pid)
    # the training thread: the one that used the most CPU between the two progress readings
    tid = max(now, key=lambda t: now[t] - mid.get(t, before.get(t, 0.0)))
    per_step = (now[tid] - mid.get(tid, 0.0)) / (last - first)
    closed_cpu, closed = cpu_seconds(pid), time.monotonic()
    await s.close()
    while tid in threads(pid) and time.monotonic() - closed < 3600:
        await asyncio.sleep(0.1)
    return {
        "thread lived s": time.monotonic() - closed,
        "server cpu after close s": cpu_seconds(pid) - closed_cpu,
        "rest of training cpu s": per_step * (train_steps - last),
        "cpu per step s": per_step,
        "ran s before close": closed - t_first,
        "steps done at close": last,
    }


def _rerun_msg(s: Session) -> bytes:
    """The BackMsg `Session.rerun` sends, for a run we follow message by message instead."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    msg.rerun_script.query_string = s.query
    msg.rerun_script.widget_states.widgets.extend(s.widgets.values())
    return msg.SerializeToString()


def report_heavy(r: dict, goal_ms: float = 500.0) -> list[str]:
    idle, heavy = (np.array(r[p]["times"]) * 1000 for p in ("idle", "heavy"))
    w = r["work"]
    parts = (
        ", ".join(f"{k} {w[k]:.1f}" for k in ("trace s", "csv export s", "training s") if k in w)
        + f" (the export of {w.get('csv steps')} steps: {EXPORT_ROWS:,} rows at most)"
    )
    return [
        f"heavy session: nn.LSTM(1, {w['hidden']}, {w['layers']}) on {w['steps']} steps: {parts}"
        f"; {w.get('csv export', '')}",
        f"  steps beside it: {len(heavy)}, p50 {percentile(heavy, 50):.0f} ms, p95 "
        f"{percentile(heavy, 95):.0f} ms, max {heavy.max(initial=0):.0f} ms (goal p95 <= "
        f"{goal_ms:.0f} ms)",
        "  (each session presses "
        + (
            "exactly once a second, all in step"
            if LOCKSTEP
            else f"every {THINK_RANGE[0]}-{THINK_RANGE[1]} s, drawn per session, 1 s on average"
        )
        + ")",
        f"  idle figure:     {len(idle)}, p50 {percentile(idle, 50):.0f} ms, p95 "
        f"{percentile(idle, 95):.0f} ms, max {idle.max(initial=0):.0f} ms",
        f"  errors: {len(w['errors']) + len(r['idle']['errors']) + len(r['heavy']['errors'])}; "
        f"load average (all of the machine's users): {os.getloadavg()[0]:.1f}",
        *(f"    {e}" for e in w["errors"] + r["idle"]["errors"] + r["heavy"]["errors"]),
    ]


def report_churn(r: dict, goal_mb: float = 100.0) -> list[str]:
    rss = r["rss"]
    lines = [
        f"{r['sessions']} sessions opened and closed: server RSS MB after the first "
        f"{rss['first']:.0f}, after all closed {rss['closed']:.0f} "
        f"({rss['closed'] - rss['first']:+.0f})"
    ]
    if "after ttl" in rss:
        lines.append(
            f"  after the closed sessions' {TTL} s TTL: {rss['after ttl']:.0f} "
            f"({rss['after ttl'] - rss['first']:+.0f}; goal within +{goal_mb:.0f})"
        )
    if "after trim" in rss:
        lines.append(
            f"  {TRIM_EVERY:.0f} s later (the server's malloc_trim has run since): "
            f"{rss['after trim']:.0f} ({rss['after trim'] - rss['first']:+.0f})"
        )
    lines.append(f"  errors: {len(r['errors'])}")
    return lines + [f"    {e}" for e in r["errors"]]


def report_abandoned(r: dict) -> list[str]:
    return [
        f"tab closed mid-training (step {r['steps done at close']} of {TRAIN_STEPS}): its thread "
        f"ended {r['thread lived s']:.1f} s later, using {r['server cpu after close s']:.2f} "
        f"CPU-s; the rest of the training would have used {r['rest of training cpu s']:.0f} CPU-s "
        f"({r['cpu per step s'] * 1000:.0f} ms per step)"
    ]
