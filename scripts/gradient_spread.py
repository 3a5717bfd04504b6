"""The gradient of the answer at the cue, on one sentence and over fresh sentences at its gap.

    python scripts/gradient_spread.py [--gaps 5 50 100 200] [--n 100]

The one protocol the compare view and lesson stop 8 share (`lstm_viz.compare.gradient_spread`,
`gradient_reading`): float64 |d answer logit / d core input at the cue| for the three shipped cue
models, on the compare view's first sentence (Martha, clause 0, filler seed 0) and on `n` fresh
sentences per gap. Prints each gap's reading as the view shows it, and the seconds it took (the
app computes it live, once per gap). The README's gradient sentence quotes gap 50.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from lstm_viz import compare
from lstm_viz.models import load_shipped


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gaps", type=int, nargs="+", default=[5, 50, 100, 200])
    ap.add_argument("--n", type=int, default=compare.GRADIENT_N)
    args = ap.parse_args()
    models = {t: compare.float64_copy(load_shipped(n)) for n, t in compare.CUE_MODELS.items()}
    for gap in args.gaps:
        t0 = time.perf_counter()
        spread = compare.gradient_spread(gap, args.n)
        seconds = time.perf_counter() - t0
        seq = compare.cue_sequence("Martha", gap, seed=0, clause=0)
        here = {
            t: float(compare.answer_saliency(m, seq.ids, seq.query_step, seq.answer)[seq.cue_step])
            for t, m in models.items()
        }
        print(f"## gap {gap} ({seconds:.2f} s for {spread.n} sentences x 3 cores)")
        print(compare.gradient_reading(here, seq.query_step - seq.cue_step, spread))
        rates = ", ".join(f"{t} {np.median(r):.3f}" for t, r in spread.rate.items())
        print(f"median powers of ten lost per step: {rates}\n")


if __name__ == "__main__":
    main()
