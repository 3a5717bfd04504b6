"""Two settings of the server process that keep its memory flat as sessions come and go.

Measured with bench/mem_probe.py and bench/load.py's churn part (issue 10): the server grew by
about 0.7 MB for every session opened and closed, and tracemalloc saw almost none of it (0.4 MB of
Python objects over 60 sessions once the caches were full). Two causes outside Python:

- **oneDNN's kernel cache.** torch's CPU LSTM (`torch.lstm`, which `lstm_viz.trace` calls) keeps
  one compiled kernel per input shape, up to 1,024 of them and 0.2-0.7 MB each; every session's
  own input length added one. A few dozen keep the kernel's speed (4x torch's other path) and
  cap the cache at tens of MB. oneDNN reads the capacity once, when it compiles its first kernel.
- **glibc's moving mmap threshold.** Streamlit runs each script run in a new thread, so several
  malloc arenas serve the sessions; glibc raises its mmap threshold each time a large block is
  freed (up to 32 MB), after which a trace's large arrays are carved out of those arenas, and the
  holes they leave, of ever other sizes, are kept. A fixed threshold gives every block over 1 MiB
  its own mapping, returned to the system when freed. It costs a trace at the step limit some
  milliseconds (fresh pages), once per input: traces are cached. Each arena also keeps its own
  holes, so the arenas are capped too (glibc honours the cap once it has made eight; the first
  run's call comes before that). Between them, 200 sessions came and went with ~20 MB less free
  memory held (bench/mem_probe.py); what is left is the caches filling and small holes that
  `malloc_trim` cannot return (it gave back ~18 MB of ~65 MB free).

Both are process-wide and harmless outside the app; `tune()` sets them once (a no-op where glibc
is not the allocator, e.g. macOS). The server (app.py) also starts `trim_in_background()`: every
TRIM_EVERY s, glibc hands the free pages at the top and inside its heaps back to the system, so
the memory of sessions that have closed does not stay with the server until it happens to be
reused.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import time

ONEDNN_KERNELS = 32  # oneDNN kernels kept (its default: 1,024)
MMAP_THRESHOLD = 1 << 20  # bytes: larger blocks get their own mapping (glibc's start: 128 KiB)
ARENAS = 2  # glibc malloc arenas at most (its default: 8 per core)
_M_MMAP_THRESHOLD, _M_ARENA_MAX = -3, -8  # mallopt's parameter numbers, from glibc's malloc.h
_taken: bool | None = None  # whether glibc took the threshold; None until tune() runs
TRIM_EVERY = 30.0  # seconds between two malloc_trim calls in the server
_trimmer: threading.Thread | None = None


def _libc():
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")


def tune() -> bool:
    """Apply both settings once per process; whether glibc took the threshold. Call it before
    the process traces anything: oneDNN reads its capacity at its first kernel."""
    global _taken
    if _taken is None:
        os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", str(ONEDNN_KERNELS))
        try:
            libc = _libc()
            # an operator's own MALLOC_* setting (read by glibc at start) wins
            _taken = "MALLOC_MMAP_THRESHOLD_" not in os.environ and bool(
                libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
            )
            if "MALLOC_ARENA_MAX" not in os.environ:
                libc.mallopt(_M_ARENA_MAX, ARENAS)
        except (OSError, AttributeError):  # not glibc: its allocator has no such knob
            _taken = False
    return _taken


def trim() -> bool:
    """Return glibc's free heap pages to the system now; whether anything was returned (False
    where glibc is not the allocator)."""
    try:
        return bool(_libc().malloc_trim(0))
    except (OSError, AttributeError):
        return False


def trim_in_background(every: float = TRIM_EVERY) -> None:
    """`trim()` every `every` s in a daemon thread, started once per process. A call walks the
    heaps' free lists (a few ms here, outside the GIL)."""
    global _trimmer
    if _trimmer is not None:
        return

    def loop() -> None:
        while True:
            time.sleep(every)
            trim()

    _trimmer = threading.Thread(target=loop, name="lstm_viz malloc_trim", daemon=True)
    _trimmer.start()
