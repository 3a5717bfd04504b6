"""The shipped forecasting models against persistence and seasonal naive, with intervals.

    python scripts/forecast_intervals.py

For each shipped forecast model, its one-step RMSE on the held-out tail of its series beside the
two baselines, each with a 95% moving-block bootstrap interval over the tail's steps, and the
model-minus-baseline differences with their paired intervals (`series.tail_comparison`, what
the Forecast view shows); then how the persistence verdict moves with the block length, and how
long the comparison takes (the view computes it once per model and series).
"""

from __future__ import annotations

import time

import torch

from lstm_viz.models import load_shipped
from lstm_viz.tasks import forecast, series


def main() -> None:
    torch.set_num_threads(1)
    for model_spec in forecast.TASK.models:
        model = load_shipped(model_spec.name)
        extra = model.config.extra
        s = series.variant_series(extra["variant"], extra.get("synthetic"))
        pred = forecast.one_step(model, s.values)
        args = (s.values, pred, extra["test_start"], extra["season"])
        series.tail_comparison(*args)  # warm up numpy's first call
        began = time.perf_counter()
        cmp = series.tail_comparison(*args)
        ms = 1000 * (time.perf_counter() - began)
        unit = f" {s.unit}" if s.unit else ""
        print(
            f"{model_spec.name}: n = {cmp.n} steps, {cmp.block}-step blocks, "
            f"{cmp.n_boot} resamples, seed {cmp.seed}, {ms:.1f} ms"
        )
        for k, (v, lo, hi) in cmp.rmse.items():
            print(f"  RMSE {k:15s} {v:.4f}{unit} (95% CI {lo:.4f} to {hi:.4f})")
        for k, (d, lo, hi) in cmp.diff.items():
            print(
                f"  model {cmp.verdict(k)} {k}: difference {d:+.4f} (95% CI {lo:+.4f} to "
                f"{hi:+.4f}, n = {cmp.n})"
            )
        for block in sorted({1, 5, 2 * cmp.block, min(cmp.n, extra["season"])}):
            d, lo, hi = series.tail_comparison(*args, block=block).diff["persistence"]
            print(f"    blocks of {block:3d}: vs persistence {lo:+.4f} to {hi:+.4f}")


if __name__ == "__main__":
    main()
