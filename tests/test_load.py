"""A classroom at once, and the same answer every time.

1. 30 concurrent sessions against the real `streamlit run app.py` on loopback (bench/load.py):
   no errors, no cross-talk, bounded server memory, the cached shipped model unchanged by the
   sessions' clamps. The figures are printed (run with -s to see them).
2. Small versions of bench/load_heavy.py's parts on one real server, checking correctness (their
   timing and memory figures are the bench's): stepping sessions beside one doing heavy work
   (an uploaded model's trace, its CSV export, forecast training), sessions opened and closed,
   and a tab closed mid-training, whose script thread must stop long before the training would
   have ended (measured in the server's CPU time, not in wall time).
3. Determinism: the same model and input give byte-identical traces (the exported .npz file and
   the predictions) in two separate processes and in this one.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

SESSIONS = 30

# every shipped model (and the untrained demo) on a seeded input of 300 steps, with and without
# a clamp; the digest covers the .npz export of each trace and the per-step outputs
DIGEST = """
import hashlib
import torch
torch.set_num_threads(1)  # as the app runs
import lstm_viz
from lstm_viz import export, inputs
from lstm_viz.models import load_shipped, shipped_models
from lstm_viz.ui.loaders import DEMO, load_model

h = hashlib.sha256()
for name in [*shipped_models(), DEMO]:
    model = load_model(name)
    if model.is_token_model:
        x = inputs.generated_tokens(model, 300, seed=1).x
    elif model.config.input_size == 1:
        x = inputs.numbers_input(model, inputs.generated_series(300, 1)).x
    else:
        x = inputs.numbers_input(model, inputs.generated_series(600, 1).reshape(300, 2)).x
    for clamps in (None, [lstm_viz.Clamp("hidden", 0.0, units=[0, 1], steps=range(50, 60))]):
        tr, preds = model.trace(x, interventions=clamps)
        h.update(name.encode() + export.trace_npz(tr) + preds.tobytes())
print(h.hexdigest())
"""


def _digest_in_a_new_process() -> str:
    out = subprocess.run(
        [sys.executable, "-c", DIGEST], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


def test_traces_are_byte_identical_across_processes():
    first, second = _digest_in_a_new_process(), _digest_in_a_new_process()
    assert first == second
    scope: dict = {}
    with contextlib.redirect_stdout(io.StringIO()) as here:
        exec(DIGEST, scope)  # the same code in this process, after everything else ran here
    assert here.getvalue().strip() == first
    assert len(first) == len(hashlib.sha256().hexdigest())


def test_thirty_concurrent_sessions_on_the_real_server():
    pytest.importorskip("websockets")  # streamlit's own dependency; the client speaks it
    import load  # bench/load.py

    r = load.run_load(SESSIONS)
    print(
        f"\n{r.sessions} sessions in {r.seconds:.1f} s; server RSS MB: idle {r.rss['idle']:.0f}, "
        f"warm {r.rss['warm']:.0f}, peak {r.rss['peak']:.0f}, end {r.rss['end']:.0f}, "
        f"per session {r.rss['per_session']:.1f}"
    )
    assert len(r.outcomes) == SESSIONS
    assert not r.errors, r.errors
    assert not r.cross_talk, r.cross_talk
    assert all(o.step_runs for o in r.outcomes)  # every session stepped
    assert r.digest_before == r.digest_after, "a session changed the shared cue model"
    # bounded: the sessions add little beyond the warm server (traces are small and cached)
    assert r.rss["per_session"] < 20, r.rss
    assert r.rss["peak"] < r.rss["warm"] + 600, r.rss


@pytest.fixture(scope="module")
def live_server():
    pytest.importorskip("websockets")
    import load  # bench/load.py

    with load.server() as (url, pid):
        yield url, pid


def test_steppers_beside_a_heavy_session_all_step_and_the_heavy_work_completes(live_server):
    import asyncio
    import functools

    import load_heavy as h

    url, _ = live_server
    heavy = functools.partial(
        h.heavy_session, train_steps=30, length=120, layers=2, file_bytes=200_000
    )
    r = asyncio.run(h.heavy_beside_classroom(url, n=3, idle_seconds=1.0, heavy=heavy))
    w = r["work"]
    assert not w["errors"] and not r["idle"]["errors"] and not r["heavy"]["errors"], r
    assert r["idle"]["times"] and r["heavy"]["times"]  # the steppers stepped in both phases
    # the largest LSTM whose file fits 200 kB at 2 layers; its CSV export was prepared
    assert 0 < w["hidden"] and w["csv export"].startswith("Download trace.csv (")
    assert len(h.largest_lstm(2, 200_000)[0]) <= 200_000 < len(_lstm_file(w["hidden"] + 1))
    assert "\n".join(h.report_heavy(r)).count("goal p95") == 1


def _lstm_file(hidden: int) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(torch.nn.LSTM(1, hidden, 2).state_dict(), buf)
    return buf.getvalue()


def test_sessions_opened_and_closed_leave_no_errors(live_server):
    import asyncio

    import load
    import load_heavy as h

    url, pid = live_server
    r = asyncio.run(h.churn(url, pid, load.session, n=8, batch=4, wait_ttl=False))
    assert not r["errors"], r["errors"]
    assert set(r["rss"]) == {"first", "closed"} and r["rss"]["first"] > 0


def test_a_closed_tab_stops_its_training(live_server):
    import asyncio

    import load_heavy as h

    url, pid = live_server
    r = asyncio.run(h.abandoned_training(url, pid, train_steps=3000))
    print("\n" + "\n".join(h.report_abandoned(r)))
    assert r["steps done at close"] < 3000
    # the thread ended after at most a progress update's worth of steps (10), not the rest
    assert r["server cpu after close s"] < 0.1 * r["rest of training cpu s"], r
