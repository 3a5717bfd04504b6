"""What trained task models hold, found on their traces: the character model's quote and bracket
units, and the cue model's memory units with a clamp test.

These read traces (`lstm_viz.trace`, `lstm_viz.analysis`), which sit downstream of the tasks, so
a task never calls them itself: `lstm_viz.train` hands them to a task's `train_model(metrics=...)`
and they land in the shipped model's metrics JSON, where the app and the lessons read them.
"""

from __future__ import annotations

import numpy as np
import torch

from lstm_viz.analysis import unit_search
from lstm_viz.interventions import Clamp
from lstm_viz.models import SequenceModel
from lstm_viz.tasks import chars, cue
from lstm_viz.trace import trace


def best_units(model: SequenceModel, text: str) -> dict[str, dict]:
    """Per signal ("quote", "bracket"), the unit with the largest |r| over cell and hidden units.

    Returns {"quote": {"state": "hidden", "unit": 34, "r": 0.93}, "bracket": {...}}; a signal
    that never changes in `text` (no quotes, say) has no r and is left out.
    """
    tr, _ = model.trace(chars.encode_text(text))
    names = ("cell", "hidden") if tr.kind == "lstm" else ("hidden",)
    found = {}
    for key, signal_fn in chars.SIGNALS.items():
        signal = signal_fn(text)
        if signal.std() == 0:
            continue
        best = [(name, *unit_search(tr, signal, name=name)[0]) for name in names]
        state, unit, r = max(best, key=lambda b: abs(b[2]))
        found[key] = {"state": state, "unit": unit, "r": round(r, 4)}
    return found


def chars_units(model: SequenceModel) -> dict:
    """The best quote and bracket units on the held-out text, flat: quote_state, quote_unit,
    quote_r, bracket_state, ... (the chars task's `metrics` callback)."""
    found = best_units(model, chars.heldout_text())
    return {f"{key}_{field}": value for key, best in found.items() for field, value in best.items()}


def _eta2(values: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Correlation ratio per unit: share of the variance of values (N, H) explained by class."""
    total = ((values - values.mean(0)) ** 2).sum(0)
    between = sum(
        (classes == k).sum() * (values[classes == k].mean(0) - values.mean(0)) ** 2
        for k in np.unique(classes)
    )
    return between / np.maximum(total, 1e-12)


CLAMP_KS = (3, 6, 10, 16, 32)  # how many of the best memory cells the clamp curve zeroes


@torch.no_grad()
def memory_units(model: SequenceModel, gap: int = 100, n: int = 200, top: int = 3) -> dict:
    """Which LSTM cell units hold the cue across `gap`, their forget gates there, and a clamp test.

    Over the cue task's held-out set at `gap`, every (sequence, step) from just after the cue to
    the query is pooled; a unit holds the cue when its cell value there is explained by the answer
    (eta^2 near 1). The pronoun unit is the one whose cell correlates best with She-vs-He on name
    sequences. The clamp test sets the top units' cell to 0 at every step after the cue and
    re-scores; the clamp curve does the same for the best k units by eta^2, k in CLAMP_KS (a model
    that spreads the answer over many cells shrugs off three).
    """
    if model.config.core != "lstm" or model.config.num_layers != 1:
        raise ValueError("memory_units reads LSTM cell states; pass a 1-layer LSTM cue model")
    ids, query, answer, at = cue.make_batch(np.random.default_rng(cue.TEST_SEED + gap), n, gap)
    enc = model.encode(ids)  # (n, T, embed)
    tr = trace(model.core, enc)
    cell, forget = tr.gate("cell"), tr.gate("forget")  # (n, T, H) each
    steps = np.arange(ids.shape[1])
    span = (steps > at[:, None]) & (steps <= query[:, None])  # (n, T) the held stretch
    c, f, a = cell[span], forget[span], answer[np.nonzero(span)[0]]  # (N, H), (N, H), (N,)
    eta2 = _eta2(c, a)
    names = a <= 1  # answers 0 ("He") and 1 ("She")
    r = np.array([np.corrcoef(c[names, u], a[names])[0, 1] for u in range(c.shape[1])])
    best = int(np.nanargmax(np.abs(r)))
    mean_f = f.mean(0)  # (H,) forget gate per unit across the gap
    units = [int(u) for u in np.argsort(-eta2)[:top]]
    after = range(int(at.max()) + 1, ids.shape[1])

    def clamped_accuracy(chosen: list[int]) -> float:
        clamp = Clamp("cell", 0.0, units=chosen, steps=after)
        clamped = trace(model.core, enc, interventions=[clamp])
        logits = model.head(torch.as_tensor(clamped.output, dtype=torch.float32))  # (n, T, ans)
        pred = logits[torch.arange(n), torch.as_tensor(query)].argmax(-1).numpy()
        return round(float(np.mean(pred == answer)), 4)

    ranked = [int(u) for u in np.argsort(-eta2)]
    ks = [k for k in CLAMP_KS if k <= len(ranked)]
    return {
        "gap": gap,
        "n_sequences": n,
        "cue_units": [
            {"unit": u, "eta2": round(float(eta2[u]), 3), "mean_forget": round(float(mean_f[u]), 4)}
            for u in units
        ],
        "pronoun_unit": {
            "unit": best,
            "r_she": round(float(r[best]), 3),
            "mean_forget": round(float(mean_f[best]), 4),
        },
        "mean_forget_all_units": round(float(f.mean()), 4),
        "accuracy_cue_units_cell_clamped_0": clamped_accuracy(units),
        "ranked_units": ranked,  # every unit, best memory first
        "eta2_ranked": [round(float(eta2[u]), 3) for u in ranked],
        "clamp_curve": {str(k): clamped_accuracy(ranked[:k]) for k in ks},
    }


def cue_memory(model: SequenceModel) -> dict:
    """{"memory": memory_units at gap 100} for an LSTM, {} for other cores (the cue task's
    `metrics` callback)."""
    return {"memory": memory_units(model, gap=100)} if model.config.core == "lstm" else {}
