"""The find-a-cell ranking against chance, on the shipped models' own inputs.

    python scripts/unit_null.py [--random 100]

For each signal the view offers on the character model's held-out text and on the cue model's
examples, prints the best |r| over the cell and hidden units, the chance band
(`lstm_viz.unit_null`: the 95th percentile of the best |r| with the signal shifted circularly),
and the flags (time passing, too short to tell); then how often a random signal's best |r| beats
its own band (about 5% if the band is right), with a 95% Wilson interval.
"""

from __future__ import annotations

import argparse

import numpy as np

import lstm_viz
from lstm_viz.tasks import chars, cue


def best_r(tr, signal) -> float:
    names = ("cell", "hidden") if tr.kind == "lstm" else ("hidden",)
    return max((lstm_viz.unit_search(tr, signal, n)[0][1] for n in names), key=abs)


def show(where: str, tr, name: str, signal) -> None:
    nb = lstm_viz.unit_null(tr, signal)
    flags = [f for f, on in (("time passing", nb.drifts), ("too short", nb.too_short)) if on]
    print(
        f"{where:34s} {name:24s} T={tr.steps:5d} best r={best_r(tr, signal):+.3f} "
        f"band={nb.band:.3f} shifts={len(nb.shifts):3d}/{nb.usable:4d} usable "
        f"r(step)={nb.time_r:+.2f} {', '.join(flags) or '-'}"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--random", type=int, default=100, help="random signals to test the band")
    args = ap.parse_args()
    model = lstm_viz.load_shipped("chars_lstm")
    text = chars.heldout_text()
    tr, _ = model.trace(chars.encode_text(text))
    for key, fn in chars.SIGNALS.items():
        show("chars_lstm, held-out text", tr, key, fn(text))
    show("chars_lstm, held-out text", tr, "step index", np.arange(tr.steps, dtype=float))
    cue_model = lstm_viz.load_shipped("cue_lstm")
    for ex in cue.examples():
        labels = list(ex.labels)
        t2, _ = cue_model.trace(ex.x, labels=labels)
        since = np.maximum(np.arange(t2.steps) - cue.cue_step(labels), 0.0)
        show(f"cue_lstm, {ex.name}"[:34], t2, "position since the cue", since)
    rng = np.random.default_rng(0)
    over = 0
    for _ in range(args.random):
        signal = rng.normal(size=tr.steps)
        over += abs(best_r(tr, signal)) > lstm_viz.unit_null(tr, signal).band
    lo, hi = cue.wilson(over, args.random)
    print(
        f"random signals on the held-out text: best |r| above the 95% band on {over} of "
        f"{args.random} ({over / args.random:.1%}, 95% CI {lo:.1%} to {hi:.1%}; expected 5%)"
    )


if __name__ == "__main__":
    main()
