"""The server's memory settings (lstm_viz/ui/server_memory.py): traces of many input lengths,
one per session as in a classroom, no longer grow the process by a kernel per length.

Each case runs in a fresh interpreter: oneDNN reads its cache capacity once per process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = """
import sys
from pathlib import Path
import numpy as np, torch
from lstm_viz.ui import server_memory
if sys.argv[1] == "tuned":
    assert server_memory.tune()
torch.set_num_threads(1)
from lstm_viz.models import load_shipped
m = load_shipped("adding_lstm")
def rss():
    text = Path("/proc/self/status").read_text()
    line = next(l for l in text.splitlines() if l.startswith("VmRSS"))
    return int(line.split()[1]) / 1024
m.trace(np.zeros((100, 2), np.float32))
before = rss()
for k in range(150):  # 150 lengths, as 150 students' own inputs
    m.trace(np.random.rand(60 + 7 * k, 2).astype(np.float32))
print(rss() - before)
"""


def _growth(mode: str) -> float:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=120, check=True,
    )  # fmt: skip
    return float(out.stdout.split()[-1])


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads RSS from /proc")
def test_many_input_lengths_do_not_grow_the_process():
    tuned, plain = _growth("tuned"), _growth("plain")
    # measured here: 42 MB untuned (a kernel per length), 18-21 MB tuned (32 kernels kept)
    assert plain > 32, f"the untuned process grew {plain:.1f} MB: the test no longer tells"
    assert tuned < 30, f"150 input lengths grew the tuned process by {tuned:.1f} MB"


TRIM_SCRIPT = """
import time
from pathlib import Path
import numpy as np
from lstm_viz.ui import server_memory
def rss():
    text = Path("/proc/self/status").read_text()
    return int(next(l for l in text.splitlines() if l.startswith("VmRSS")).split()[1]) / 1024
held = [np.ones(4096) for _ in range(5_000)]  # 165 MB of small blocks: glibc's heap, no mmap
del held[:-1]  # ... freed, but the heap's pages stay with the process
before = rss()
server_memory.trim_in_background(every=0.2)
server_memory.trim_in_background(every=0.2)  # once per process: no second thread
time.sleep(1.0)
import threading
names = [t.name for t in threading.enumerate()]
print(before, rss(), names.count("lstm_viz malloc_trim"))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_the_server_hands_freed_memory_back_in_the_background():
    """Memory freed by closed sessions goes back to the system within a trim period, not
    when glibc happens to reuse it (the churn figure in bench/load.py)."""
    out = subprocess.run([sys.executable, "-c", TRIM_SCRIPT], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, check=True).stdout.split()  # fmt: skip
    before, after, threads = float(out[0]), float(out[1]), int(out[2])
    assert threads == 1
    assert before - after > 100, (before, after)
