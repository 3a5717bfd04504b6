"""The recorded evidence behind every number the README, the views and the lessons state.

`python scripts/measure_claims.py` re-measures each claim on fresh samples (seeds no training or
evaluation set uses) and writes `lstm_viz/data/claims.json`: per claim its value, its sample
size n and a 95% interval (`lstm_viz.stats`), or for a one-example claim the spread over fresh
examples. This module reads that file and words a claim with its evidence, so the app and the
lessons quote the same numbers the README's tables show, e.g.

    >>> claims.evidence("cue_lstm.forget_closed.gap100")
    '38.6% (95% CI 37.3–40.0%, n = 5,000)'
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

PATH = Path(__file__).resolve().parent / "data" / "claims.json"
HINT = "run `python scripts/measure_claims.py` to measure it"


@functools.lru_cache(maxsize=1)
def load(path: Path = PATH) -> dict:
    """The whole record: {"meta": {...}, "claims": {key: record}}."""
    return json.loads(Path(path).read_text())


def get(key: str) -> dict:
    """One claim's record; a key the file lacks raises a ValueError naming the fix."""
    found = load()["claims"].get(key)
    if found is None:
        raise ValueError(f"no recorded claim {key!r} in {PATH.name}; {HINT}")
    return found


def count(n: int) -> str:
    return f"n = {n:,}"


def _pct(x: float, digits: int) -> str:
    text = f"{100 * x:.{digits}f}"
    return "100" if text == f"{100:.{digits}f}" else text  # "100%", not "100.0%", at the top


def interval(key: str, digits: int = 1) -> str:
    """'95% CI 37.3–40.0%' for a proportion, '95% CI 0.91–0.95' for any other value."""
    c = get(key)
    if c["kind"] == "proportion":
        return f"95% CI {_pct(c['lo'], digits)}–{_pct(c['hi'], digits)}%"
    return f"95% CI {c['lo']:.{digits}f}–{c['hi']:.{digits}f}"


def value(key: str, digits: int = 1) -> str:
    c = get(key)
    if c["kind"] == "proportion":
        return f"{_pct(c['value'], digits)}%"
    return f"{c['value']:.{digits}f}"


def evidence(key: str, digits: int = 1) -> str:
    """'38.6% (95% CI 37.3–40.0%, n = 5,000)': the value, its interval and its sample size."""
    c = get(key)
    return f"{value(key, digits)} ({interval(key, digits)}, {count(c['n'])})"


def count_of(key: str, digits: int = 1) -> str:
    """'200 of 200 (95% CI 98.1–100%)': a proportion as counts, with its interval."""
    c = get(key)
    return f"{c['k']:,} of {c['n']:,} ({interval(key, digits)})"


def at_chance(key: str) -> bool:
    """Whether a proportion's interval covers its chance level."""
    c = get(key)
    return c["lo"] <= c["chance"] <= c["hi"]


def versus_chance(key: str, digits: int = 1) -> str:
    """'at chance (38.6%, 95% CI …, n = 5,000; chance 37.5%)', or 'above chance (…)' /
    'below chance (…)' when the interval leaves it out."""
    c = get(key)
    where = "at" if at_chance(key) else ("above" if c["lo"] > c["chance"] else "below")
    inner = evidence(key, digits)[:-1].replace(" (", ", ", 1)
    return f"{where} chance ({inner}; chance {100 * c['chance']:.1f}%)"


def spread(key: str, digits: int = 2, what: str = "fresh examples") -> str:
    """'median 0.93, range 0.85 to 0.99 over 200 fresh examples' for a one-example claim."""
    c = get(key)
    f = f"{{:.{digits}f}}"
    return (
        f"median {f.format(c['median'])}, range {f.format(c['min'])} to "
        f"{f.format(c['max'])} over {c['n']:,} {what}"
    )
