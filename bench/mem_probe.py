"""Where a closed session's memory goes: `streamlit run app.py` in a process that traces its own
allocations, driven by bench/load.py's sessions.

    python bench/mem_probe.py [--sessions 60] [--warm 0] [--ttl 5] [--frames 8] [--top 25]

The server is started by this same file (`serve` mode) with tracemalloc on; when the driver asks
(a trigger file), it collects garbage and writes its state: RSS, Python's traced bytes, object
counts by type, glibc's heap (mallinfo2) and the RSS after `malloc_trim(0)` (what the allocator
holds but Python does not), RSS by kind of mapping, and the top allocation sites grown since the
first dump (`--frames 0`: no tracing, for the server's true RSS). The driver runs one session and
`--warm` more (caches filling are then not counted as growth) before the baseline dump, then
`--sessions` more opened and closed ten at a time, waits for the disconnected-session TTL
(`--ttl`, shortened here so the probe stays short), runs one more session (a save into
Streamlit's session store evicts the expired ones) and dumps again.
Tracing slows the server several times: the timings of this run mean nothing, the bytes do.
"""

from __future__ import annotations

import argparse
import asyncio
import ctypes
import gc
import json
import os
import sys
import threading
import time
import tracemalloc
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


# --- the server side ------------------------------------------------------------------------------
def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (n, ctypes.c_size_t)
        for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                  "uordblks", "fordblks", "keepcost")
    ]  # fmt: skip


def _heap() -> dict:
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _Mallinfo2
    m = libc.mallinfo2()
    before = _rss_mb()
    libc.malloc_trim(0)
    return {
        "malloc arena MB": m.arena / 2**20,
        "malloc mmapped MB": m.hblkhd / 2**20,
        "malloc in use MB": m.uordblks / 2**20,
        "malloc free MB": m.fordblks / 2**20,
        "rss before trim MB": before,
        "rss after trim MB": _rss_mb(),
    }


def _maps() -> dict:
    """RSS MB by kind of mapping: glibc's main heap, its other arenas' heaps (64 MB-aligned
    anonymous mappings), other anonymous memory (pymalloc's arenas, large mallocs, JIT code),
    and files (shared libraries)."""
    out = {
        "maps heap MB": 0.0,
        "maps arenas MB": 0.0,
        "maps other anon MB": 0.0,
        "maps files MB": 0.0,
    }
    kind = None
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if "-" in head[0] and not head[0].endswith(":"):
            start = int(head[0].split("-")[0], 16)
            name = head[5] if len(head) > 5 else ""
            if name == "[heap]":
                kind = "maps heap MB"
            elif name.startswith("/"):
                kind = "maps files MB"
            elif not name and start % (64 * 2**20) == 0:
                kind = "maps arenas MB"
            else:
                kind = "maps other anon MB"
        elif head[0] == "Rss:":
            out[kind] += int(head[1]) / 1024
    return out


def _dump(path: Path, baseline: list, frames: int, top: int) -> None:
    gc.collect()
    snap = tracemalloc.take_snapshot() if tracemalloc.is_tracing() else None
    counts = Counter(type(o).__qualname__ for o in gc.get_objects())
    out = {
        "rss MB": _rss_mb(),
        "traced MB": tracemalloc.get_traced_memory()[0] / 2**20,
        "threads": threading.active_count(),
        "types": dict(counts.most_common(400)),
    }
    try:
        from streamlit.runtime import Runtime

        rt = Runtime.instance()
        mgr = rt._session_mgr
        out["active sessions"] = len(mgr.list_active_sessions())
        out["stored sessions"] = len(mgr._session_storage.list())
        files = rt._uploaded_file_mgr.file_storage
        out["uploaded files"] = sum(len(v) for v in files.values())
        out["uploaded MB"] = sum(len(f.data) for v in files.values() for f in v.values()) / 2**20
        out["media files"] = len(rt.media_file_mgr._file_metadata)
    except Exception as err:  # the probe reports what it could not read
        out["runtime error"] = repr(err)
    if snap is None:
        pass
    elif baseline:
        stats = snap.compare_to(baseline[0], "traceback")
        out["top"] = [
            {
                "MB": s.size_diff / 2**20,
                "count": s.count_diff,
                "where": s.traceback.format()[-frames:],
            }
            for s in stats[:top]
        ]
    else:
        baseline.append(snap)
    out |= _maps() | _heap()
    path.write_text(json.dumps(out, indent=1))


def serve(trigger: Path, frames: int, top: int, argv: list[str]) -> None:
    """Run streamlit (argv as for `streamlit run`) with tracemalloc on; a dump when `trigger`
    appears (written to trigger + ".json", then the trigger is removed)."""
    if frames:  # 0: no tracing (the server's own speed and RSS; no allocation sites)
        tracemalloc.start(frames)
    baseline: list = []

    def watch() -> None:
        while True:
            if trigger.exists():
                _dump(Path(str(trigger) + ".json"), baseline, frames, top)
                trigger.unlink()
            time.sleep(0.2)

    threading.Thread(target=watch, daemon=True).start()
    from streamlit.web.cli import main as st_main

    sys.argv = ["streamlit", "run", *argv]
    st_main()


# --- the driver -----------------------------------------------------------------------------------
async def _ask(trigger: Path) -> dict:
    out = Path(str(trigger) + ".json")
    out.unlink(missing_ok=True)
    trigger.write_text("dump")
    while trigger.exists():
        await asyncio.sleep(0.2)
    return json.loads(out.read_text())


async def _batches(url: str, first: int, stop: int) -> list[str]:
    from load import session

    errors = []
    for k in range(first, stop, 10):
        outs = await asyncio.gather(*(session(url, i) for i in range(k, min(stop, k + 10))))
        errors += [e for o in outs for e in o.errors]
        for o in outs:
            o.session = None
    return errors


async def _drive(
    url: str, trigger: Path, n: int, ttl: float, warm: int
) -> tuple[dict, dict, float]:
    sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests")]
    from load import session

    errors = (await session(url, 0)).errors
    errors += await _batches(url, 1, warm + 1)  # caches fill: their entries are not a leak
    await asyncio.sleep(max(1.0, ttl + 2 if warm else 0))
    first = await _ask(trigger)
    start = time.perf_counter()
    errors += await _batches(url, warm + 1, warm + n + 1)
    seconds = time.perf_counter() - start
    await asyncio.sleep(ttl + 2)
    errors += (await session(url, warm + n + 1)).errors  # a save into the store drops expired ones
    await asyncio.sleep(1.0)
    last = await _ask(trigger)
    last["errors"] = errors
    return first, last, seconds


def main() -> None:
    if sys.argv[1:2] == ["serve"]:  # the server this driver starts: serve TRIGGER FRAMES TOP ...
        trigger, frames, top, *rest = sys.argv[2:]
        serve(Path(trigger), int(frames), int(top), rest)
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sessions", type=int, default=60)
    ap.add_argument("--ttl", type=float, default=5)
    ap.add_argument("--warm", type=int, default=0, help="sessions before the first dump")
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--trigger", default="/tmp/lstm_viz_mem_probe")
    args = ap.parse_args()
    trigger = Path(args.trigger)
    sys.path[:0] = [str(ROOT / "tests")]
    import subprocess
    import urllib.request

    from browser_util import free_port

    port = free_port()
    cmd = [sys.executable, __file__, "serve", str(trigger), str(args.frames), str(args.top),
           str(ROOT / "app.py"),
           "--server.port", str(port), "--server.address", "127.0.0.1",
           "--server.disconnectedSessionTTL", str(int(args.ttl))]  # fmt: skip
    log = open("/tmp/lstm_viz_mem_probe.log", "wb")  # noqa: SIM115
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the server did not start: see /tmp/lstm_viz_mem_probe.log")
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.read().strip() == b"ok":
                        break
            except OSError:
                time.sleep(0.2)
        first, last, seconds = asyncio.run(_drive(url, trigger, args.sessions, args.ttl, args.warm))
    finally:
        proc.terminate()
        proc.wait(10)
    keys = [k for k in first if isinstance(first[k], (int, float)) and k in last]
    print(f"{args.sessions} sessions in {seconds:.0f} s (traced); errors: {len(last['errors'])}")
    for k in keys:
        print(f"  {k:22s} {first[k]:10.1f} -> {last[k]:10.1f} ({last[k] - first[k]:+.1f})")
    grown = Counter(last["types"]) - Counter(first["types"])
    print("  object types grown:", ", ".join(f"{t} +{c}" for t, c in grown.most_common(25)))
    for s in last.get("top", []):
        print(f"  {s['MB']:+8.2f} MB {s['count']:+7d}  " + " <- ".join(
            line.strip() for line in reversed(s["where"]) if line.strip().startswith("File")
        )[:400])  # fmt: skip
    for e in last["errors"][:10]:
        print("  error:", e)


if __name__ == "__main__":
    main()
