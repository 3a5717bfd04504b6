"""RNN vs GRU vs LSTM on the long-gap cue task, measured: answers, saliency, recorded tables.

Pure numpy / torch (no Streamlit), so the app, the lesson mode and the tests read the same numbers:
- `cue_sequence`: one cue input (a name or a town, `gap` filler tokens, the query clause);
- `answer_probs`, `answer_saliency`: each model's answer at the query step and how strongly it
  depends on every earlier input (gradient norms, `lstm_viz.saliency`), in float64 so a gradient
  that shrinks by 100 orders of magnitude is still a number and not a float32 zero;
- `accuracy_by_answer`: held-out accuracy at one gap split by answer, on the same fixed sets as
  `tasks.cue.evaluate`;
- `recorded_cue`, `recorded_adding`: the tables recorded when the models were trained (the cue
  rows are in each model's metrics JSON; the adding rows over T in docs/core_comparison.md).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from lstm_viz.analysis import saliency
from lstm_viz.models import SequenceModel, shipped_metrics
from lstm_viz.tasks import adding, cue

CORES = {"rnn_tanh": "RNN (tanh)", "gru": "GRU", "lstm": "LSTM"}  # compared, in this order
# shipped model name -> title, from the task registry's records
CUE_MODELS = {cue.TASK.shipped(core).name: title for core, title in CORES.items()}
ADDING_MODELS = {adding.TASK.shipped(core).name: title for core, title in CORES.items()}
CUES = cue.FEMALE + cue.MALE + list(cue.TOWNS)  # every cue word the task knows
GAP_RANGE = (5, 200)  # the compare view's gap slider
HELDOUT_N = 1000  # held-out sequences per gap, as tasks.cue.evaluate scores them
TABLE = Path(__file__).resolve().parent.parent / "docs" / "core_comparison.md"


@dataclass
class CueInput:
    tokens: list[str]  # the whole input, query clause included
    ids: np.ndarray  # (T,) int64
    cue_step: int  # where the cue word is
    query_step: int  # last step: the answer is read here
    answer: str  # the right answer (one of cue.ANSWERS)


def cue_sequence(word: str, gap: int, seed: int = 0, clause: int = 0) -> CueInput:
    """A cue clause with `word`, `gap` filler tokens drawn from `seed`, then the query clause.

    Built like the task's own sequences (`tasks.cue.make_sequence`), with the cue chosen.
    """
    if word not in cue.CUE_ANSWER:
        raise ValueError(f"unknown cue {word!r}; choose a name or town from {', '.join(CUES)}")
    if not 0 <= gap <= 1000:
        raise ValueError(f"gap={gap}: choose 0..1000 filler tokens (the view offers 5..200)")
    name = word in cue.FEMALE + cue.MALE
    clauses = cue.NAME_CLAUSES if name else cue.TOWN_CLAUSES
    query = cue.NAME_QUERY if name else cue.TOWN_QUERY
    head = [word if w == "{}" else w for w in clauses[clause % len(clauses)].split()]
    tokens = head + cue.filler(np.random.default_rng(seed), gap) + query
    return CueInput(
        tokens, cue.encode(tokens), head.index(word), len(tokens) - 1, cue.CUE_ANSWER[word]
    )


@torch.no_grad()
def answer_probs(model: SequenceModel, ids: np.ndarray, step: int) -> np.ndarray:
    """Softmax over the answers (n_answers,) at `step`."""
    logits = model(torch.as_tensor(ids))[0, step]  # (n_answers,)
    return model.readout(logits)


def float64_copy(model: SequenceModel) -> SequenceModel:
    """A float64 copy for gradients: float32 underflows to 0 below ~1e-45."""
    return copy.deepcopy(model).double().eval()


def answer_saliency(model64: SequenceModel, ids: np.ndarray, step: int, answer: str) -> np.ndarray:
    """|d logit(answer) at `step` / d core input at s| for s = 0..T-1, (T,) float64."""
    k = model64.config.output_labels.index(answer)
    return saliency(model64, torch.as_tensor(ids)[None], step, select=lambda y: y[k])


def decades_per_step(sal: np.ndarray, first: int, last: int) -> float:
    """Least-squares slope of log10(saliency) over steps first..last, read backwards in time:
    how many powers of ten the gradient loses per step it travels back."""
    s = np.arange(first, last + 1)
    logs = np.log10(np.maximum(sal[s], 1e-300))
    return float(np.polyfit(s, logs, 1)[0]) if len(s) > 1 else 0.0


@torch.no_grad()
def accuracy_by_answer(model: SequenceModel, gap: int, n: int = HELDOUT_N) -> dict[str, dict]:
    """Per answer at `gap`: {"n", "correct", "said" (the most common answer given)}.

    The held-out set is the one `tasks.cue.evaluate` scores (seed TEST_SEED + gap).
    """
    ids, query, answer, _ = cue.make_batch(np.random.default_rng(cue.TEST_SEED + gap), n, gap)
    pred = model(torch.as_tensor(ids))[torch.arange(n), torch.as_tensor(query)].argmax(-1).numpy()
    out = {}
    for k, name in enumerate(cue.ANSWERS):
        mine = answer == k
        if mine.any():
            said = np.bincount(pred[mine], minlength=len(cue.ANSWERS)).argmax()
            out[name] = {
                "n": int(mine.sum()),
                "correct": int((pred[mine] == k).sum()),
                "said": cue.ANSWERS[said],
            }
    return out


def recorded_cue() -> dict[str, dict[int, float]]:
    """Held-out accuracy by gap as recorded in each shipped cue model's metrics JSON."""
    out = {}
    for name, title in CUE_MODELS.items():
        acc = shipped_metrics(name).get("accuracy_by_gap", {})
        out[title] = {int(g): float(a) for g, a in sorted(acc.items(), key=lambda kv: int(kv[0]))}
    return out


def recorded_adding(path: Path = TABLE) -> tuple[dict[str, dict[int, float]], str]:
    """(rows -> {T: test MSE}, where the numbers come from).

    The full table over T is in docs/core_comparison.md (one model per core and T); without that
    file (an installed package) the shipped adding models' own T=50 numbers are used.
    """
    if path.exists():
        rows = _markdown_table(path.read_text(), "### Adding problem")
        if rows:
            return rows, f"{path.name} (one model per core and T, seed 0)"
    out: dict[str, dict[int, float]] = {}
    for name, title in ADDING_MODELS.items():
        m = shipped_metrics(name)
        if "test_mse" in m:
            out[title] = {int(m["T"]): float(m["test_mse"])}
            out.setdefault("always 1.0", {})[int(m["T"])] = float(m["baseline_mse"])
    return out, "the shipped adding models' metrics (T=50 only)"


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
