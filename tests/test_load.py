"""A classroom at once, and the same answer every time.

1. 30 concurrent sessions against the real `streamlit run app.py` on loopback (bench/load.py):
   no errors, no cross-talk, bounded server memory, the cached shipped model unchanged by the
   sessions' clamps. The figures are printed (run with -s to see them).
2. Determinism: the same model and input give byte-identical traces (the exported .npz file and
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
