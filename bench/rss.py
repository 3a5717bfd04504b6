"""A process's resident memory, read from /proc: what bench/load.py and bench/load_heavy.py report
about the server (one helper both import, so neither imports the other)."""

from __future__ import annotations

from pathlib import Path


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")
