"""RNN vs GRU vs LSTM on the long-gap cue task, measured: answers, saliency, gradient protocol.

Pure numpy / torch (no Streamlit), so the app, the lesson mode and the tests read the same numbers:
- `cue_sequence`: one cue input (a name or a town, `gap` filler tokens, the query clause);
- `answer_probs`, `answer_saliency`: each model's answer at the query step and how strongly it
  depends on every earlier input (gradient norms, `lstm_viz.saliency`), in float64 so a gradient
  that shrinks by 100 orders of magnitude is still a number and not a float32 zero;
- `gradient_spread`, `gradient_reading`: the one protocol for "which core keeps the larger
  gradient at the cue": the same quantity (`answer_gradients`) on the sentence shown and over
  `GRADIENT_N` fresh sentences at the same gap, read out in the same words by the compare view
  and the lesson (the order of the GRU and the LSTM changes from sentence to sentence);
Accuracy and adding-problem tables, each number with its n and interval, are in
`lstm_viz.core_tables`.
"""

from __future__ import annotations

import copy
import functools
from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch

from lstm_viz.models import SequenceModel, load_shipped
from lstm_viz.tasks import adding, cue

CORES = {"rnn_tanh": "RNN (tanh)", "gru": "GRU", "lstm": "LSTM"}  # compared, in this order
# shipped model name -> title, from the task registry's records
CUE_MODELS = {cue.TASK.shipped(core).name: title for core, title in CORES.items()}
ADDING_MODELS = {adding.TASK.shipped(core).name: title for core, title in CORES.items()}
CUES = cue.FEMALE + cue.MALE + list(cue.TOWNS)  # every cue word the task knows
GAP_RANGE = (5, 200)  # the compare view's gap slider


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


def answer_gradients(
    model64: SequenceModel, ids: np.ndarray, query: np.ndarray, answer: np.ndarray
) -> np.ndarray:
    """|d logit(answer[b]) at query[b] / d core input at (b, s)|, (B, T) float64.

    ids (B, T), query (B,) steps, answer (B,) class indices. Each row's logit depends only on its
    own row, so one backward pass of their sum gives every row's gradient; padding after a query
    changes nothing (the cores are causal). The quantity `lstm_viz.saliency` computes one row at
    a time (tests/test_lessons.py checks they agree).
    """
    ids = torch.as_tensor(np.atleast_2d(ids))
    rows = torch.arange(ids.shape[0])
    with torch.enable_grad():
        enc = model64.encode(ids).detach().requires_grad_(True)  # (B, T, embed)
        out, _ = model64.core(enc)
        logits = model64.head(out)[rows, torch.as_tensor(query), torch.as_tensor(answer)]  # (B,)
        (grad,) = torch.autograd.grad(logits.sum(), enc)
    return grad.norm(dim=-1).numpy()


def answer_saliency(model64: SequenceModel, ids: np.ndarray, step: int, answer: str) -> np.ndarray:
    """|d logit(answer) at `step` / d core input at s| for s = 0..T-1, (T,) float64."""
    k = model64.config.output_labels.index(answer)
    return answer_gradients(model64, np.asarray(ids)[None], np.array([step]), np.array([k]))[0]


def decades_per_step(sal: np.ndarray, first: int, last: int) -> float:
    """Least-squares slope of log10(saliency) over steps first..last, read backwards in time:
    how many powers of ten the gradient loses per step it travels back."""
    s = np.arange(first, last + 1)
    logs = np.log10(np.maximum(sal[s], 1e-300))
    return float(np.polyfit(s, logs, 1)[0]) if len(s) > 1 else 0.0


# ---- one protocol for gradient comparisons: this sentence, and fresh ones at its gap ----------

GRADIENT_N = 100  # fresh sentences per gap behind every gradient comparison (issue 15: >= 40)
GRADIENT_SEED = 27_182  # + gap: fresh sentences, neither a held-out set nor a shown sentence
SHORT = {"RNN (tanh)": "RNN", "GRU": "GRU", "LSTM": "LSTM"}  # core titles inside an order


@dataclass(frozen=True)
class GradientSpread:
    """The float64 gradient of the answer at the cue on `n` fresh sentences at one gap."""

    gap: int  # filler tokens between the cue clause and the query, as in `cue_sequence`
    at_cue: dict[str, np.ndarray]  # core title -> (n,) |d answer / d input at the cue|
    rate: dict[str, np.ndarray]  # core title -> (n,) powers of ten lost per step across the gap
    right: dict[str, np.ndarray]  # core title -> (n,) bool: the answer at the query is right

    @property
    def n(self) -> int:
        return len(next(iter(self.at_cue.values())))

    def orders(self) -> dict[str, int]:
        """'RNN < LSTM < GRU' -> on how many of the n sentences that order holds, most first."""
        per = [order({t: v[b] for t, v in self.at_cue.items()}) for b in range(self.n)]
        return dict(Counter(per).most_common())


def order(at_cue: dict[str, float]) -> str:
    """The cores from the smallest gradient at the cue to the largest: 'RNN < LSTM < GRU'."""
    return " < ".join(SHORT.get(t, t) for t in sorted(at_cue, key=at_cue.__getitem__))


@functools.lru_cache(maxsize=16)
def gradient_spread(gap: int, n: int = GRADIENT_N) -> GradientSpread:
    """The shipped cue models' gradients at the cue on `n` fresh sentences with `gap` filler
    tokens: random cue, clause and filler, drawn like the held-out sets but from the seed
    GRADIENT_SEED + gap. About 0.3 s at gap 200 for the three cores; cached per (gap, n)."""
    if not 0 <= int(gap) <= 1000 or int(n) < 2:
        raise ValueError(f"gap={gap}, n={n}: choose a gap of 0..1000 and n of 2 or more")
    ids, query, answer, cue_at = cue.make_batch(
        np.random.default_rng(GRADIENT_SEED + int(gap)), int(n), int(gap)
    )
    rows = np.arange(int(n))
    at_cue, rate, right = {}, {}, {}
    for name, title in CUE_MODELS.items():
        model = load_shipped(name)
        grads = answer_gradients(float64_copy(model), ids, query, answer)  # (n, T)
        at_cue[title] = grads[rows, cue_at]
        spans = zip(grads, cue_at, query, strict=True)
        rate[title] = np.array([decades_per_step(g, a + 1, q - 1) for g, a, q in spans])
        with torch.no_grad():
            said = model(torch.as_tensor(ids))[rows, torch.as_tensor(query)].argmax(-1).numpy()
        right[title] = said == answer
    return GradientSpread(int(gap), at_cue, rate, right)


def gradient_reading(here: dict[str, float], back: int, spread: GradientSpread) -> str:
    """The compare view's and the lesson's words for the gradient at the cue: its value on this
    sentence (`here`: core title -> value, `back` steps before the question) and, beside it, its
    spread over the fresh sentences at the same gap, with how often each order of the cores
    holds. Every claim is a count over the sentences, so no sentence shown contradicts it."""
    values = ", ".join(f"{t} {v:.1e}" for t, v in here.items())
    ranges = "; ".join(
        f"{t} {np.median(v):.1e} ({v.min():.1e} to {v.max():.1e})" for t, v in spread.at_cue.items()
    )
    orders = spread.orders()
    counts = ", ".join(f"{o} on {k}" for o, k in orders.items())
    mine = orders.get(order(here), 0)
    right = ", ".join(f"{t} {int(v.sum())}" for t, v in spread.right.items())
    return (
        f"On this sentence the gradient of the answer at the cue, {back} steps before the "
        f"question, is {values}: {order(here)}. That varies with the sentence and the gap: over "
        f"{spread.n} fresh sentences with {spread.gap} filler words (random cue, clause and "
        f"filler), the median and range are {ranges}; the order is {counts} of {spread.n} "
        f"(this sentence's order: {mine} of {spread.n}). Answered right there: {right} "
        f"of {spread.n}."
    )
