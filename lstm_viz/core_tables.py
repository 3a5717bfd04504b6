"""RNN vs GRU vs LSTM in numbers: cue accuracy and adding-problem error, each with its evidence.

Pure numpy / torch (no Streamlit), so the compare view, the lessons, the README script and the
tests read the same numbers:
- `fresh_cue`: accuracy by gap from the fresh measurement `scripts/measure_claims.py` records in
  `lstm_viz/data/claims.json` (the README's cue table): n = 2,000 sentences per core and gap,
  each with its 95% Wilson interval;
- `accuracy_by_answer`: accuracy at any gap split by answer, measured live, with Wilson
  intervals, on fresh sentences drawn exactly like that table's (`fresh_rng`: at the table's
  gaps the very same sentences, so the view's live numbers equal the recorded ones) or on the
  fixed held-out set `tasks.cue.evaluate` scored at training;
- `recorded_adding`, `fresh_adding`: the adding problem's test MSE over T recorded by
  `scripts/compare_cores.py` (one model per core and T, n = 1,000 sequences each, no interval:
  only the T = 50 models are shipped) and the shipped T = 50 models on fresh sequences with
  Student's t intervals (claims.json);
- `recorded_cue`: the training-time accuracy in each cue model's metrics JSON (kept to check the
  docs against; the view shows the fresh table).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import torch

from lstm_viz import claims, stats
from lstm_viz.compare import ADDING_MODELS, CUE_MODELS
from lstm_viz.models import SequenceModel, shipped_metrics
from lstm_viz.tasks import cue

HELDOUT_N = 1000  # held-out sequences per gap, as tasks.cue.evaluate scores them
FRESH_N = 2000  # fresh sentences per gap, as scripts/measure_claims.py measures the cue table
FRESH_SEED = 15_000_015  # issue 15: the first word of measure_claims' two-word seeds
RECORDED_ADDING_N = 1000  # docs/core_comparison.md: test MSE on 1,000 held-out sequences
TABLE = Path(__file__).resolve().parent.parent / "docs" / "core_comparison.md"


def fresh_rng(gap: int) -> np.random.Generator:
    """The generator of the fresh sentences at `gap` (two-word seed: no training batch, held-out
    set or shown sentence uses its stream); measure_claims draws its cue table from it."""
    return np.random.default_rng([FRESH_SEED, 100 + int(gap)])


@torch.no_grad()
def accuracy_by_answer(
    model: SequenceModel, gap: int, n: int | None = None, fresh: bool = False
) -> dict[str, dict]:
    """Per answer at `gap`: {"n", "correct", "lo", "hi" (its 95% Wilson interval), "said" (the
    most common answer given)}, on `n` fresh sentences (fresh=True: FRESH_N, `fresh_rng`) or the
    held-out set `tasks.cue.evaluate` scores (HELDOUT_N, seed TEST_SEED + gap)."""
    n = int(n or (FRESH_N if fresh else HELDOUT_N))
    rng = fresh_rng(gap) if fresh else np.random.default_rng(cue.TEST_SEED + gap)
    ids, query, answer, _ = cue.make_batch(rng, n, gap)
    pred = model(torch.as_tensor(ids))[torch.arange(n), torch.as_tensor(query)].argmax(-1).numpy()
    out = {}
    for k, name in enumerate(cue.ANSWERS):
        mine = answer == k
        if mine.any():
            said = np.bincount(pred[mine], minlength=len(cue.ANSWERS)).argmax()
            right, count = int((pred[mine] == k).sum()), int(mine.sum())
            lo, hi = stats.wilson(right, count)
            out[name] = {"n": count, "correct": right, "lo": lo, "hi": hi,
                         "said": cue.ANSWERS[said]}  # fmt: skip
    return out


def fresh_cue() -> dict[str, dict[int, dict]]:
    """core title -> {gap: the claims.json record (value, lo, hi, k, n)}: accuracy on fresh
    sentences, the README's cue table."""
    out: dict[str, dict[int, dict]] = {}
    for key, c in claims.load()["claims"].items():
        found = re.fullmatch(r"(\w+)\.accuracy\.gap(\d+)", key)
        if found and found.group(1) in CUE_MODELS:
            out.setdefault(CUE_MODELS[found.group(1)], {})[int(found.group(2))] = c
    if not out:
        raise ValueError(f"no cue accuracy in {claims.PATH.name}; {claims.HINT}")
    return {t: dict(sorted(out[t].items())) for t in CUE_MODELS.values() if t in out}


def fresh_adding() -> dict[str, dict]:
    """row title ('always 1.0' too) -> the claims.json record of the shipped adding model's test
    MSE on fresh sequences (value, lo, hi: Student's t; n), with its "T"."""
    out = {}
    for name, title in {**ADDING_MODELS, "always_1": "always 1.0"}.items():
        T = int(shipped_metrics(next(iter(ADDING_MODELS)) if name == "always_1" else name)["T"])
        out[title] = {**claims.get(f"adding.mse.{name}"), "T": T}
    return out


def recorded_cue() -> dict[str, dict[int, float]]:
    """Held-out accuracy by gap as recorded in each shipped cue model's metrics JSON."""
    out = {}
    for name, title in CUE_MODELS.items():
        acc = shipped_metrics(name).get("accuracy_by_gap", {})
        out[title] = {int(g): float(a) for g, a in sorted(acc.items(), key=lambda kv: int(kv[0]))}
    return out


def recorded_adding(path: Path = TABLE) -> tuple[dict[str, dict[int, float]], str, int]:
    """(rows -> {T: test MSE}, where the numbers come from, test sequences per cell).

    The full table over T is in docs/core_comparison.md (one model per core and T); without that
    file (an installed package) the shipped adding models' own T=50 numbers are used.
    """
    if path.exists():
        rows = _markdown_table(path.read_text(), "### Adding problem")
        if rows:
            return rows, f"{path.name}, one model per core and T, seed 0", RECORDED_ADDING_N
    out: dict[str, dict[int, float]] = {}
    n = RECORDED_ADDING_N
    for name, title in ADDING_MODELS.items():
        m = shipped_metrics(name)
        if "test_mse" in m:
            out[title] = {int(m["T"]): float(m["test_mse"])}
            out.setdefault("always 1.0", {})[int(m["T"])] = float(m["baseline_mse"])
            n = int(m.get("n_test", n))
    return out, "the shipped adding models' metrics, T = 50 only", n


def _markdown_table(text: str, heading: str) -> dict[str, dict[int, float]]:
    """The first markdown table after a heading containing `heading`: row -> {column number:
    value}; the number is the first integer in the column title (e.g. 'T=50' -> 50)."""
    at = text.find(heading)
    if at < 0:
        return {}
    table = []
    for ln in text[at:].splitlines()[1:]:
        if ln.startswith("|"):
            table.append(ln.strip())
        elif table or ln.strip():  # the table ends at its first other line
            break
    if len(table) < 3:
        return {}
    cells = [[c.strip() for c in ln.strip("|").split("|")] for ln in table]
    keys = [int(re.search(r"\d+", c).group()) for c in cells[0][1:]]
    rows = {}
    for row in cells[2:]:
        if len(row) != len(keys) + 1:
            break
        values = [float(c.rstrip("%")) / (100 if c.endswith("%") else 1) for c in row[1:]]
        rows[row[0]] = dict(zip(keys, values, strict=True))
    return rows
