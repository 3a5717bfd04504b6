"""How fast an intervention re-trace is, at T=500 steps and H=64 units (issue 5: < 300 ms).

    python bench/intervene_speed.py [--repeats 7]

Prints, as medians over `--repeats` runs, one thread (as the app runs):
1. the engine alone: `SequenceModel.trace(x, interventions=[...])` for the clamps the intervene
   view offers, beside the same trace with no clamp (the fused kernel's floor);
2. the whole server side of the intervene view in AppTest: the rerun after pressing Apply with a
   clamp never seen before (re-trace + tables + figures), and the rerun after pressing Reset
   (the unclamped trace comes from the cache).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

T, H = 500, 64


def engine(repeats: int) -> dict[str, float]:
    """Median ms of one traced run per clamp kind."""
    import numpy as np
    import torch

    from lstm_viz import Clamp
    from lstm_viz.models import ModelConfig, SequenceModel

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = SequenceModel(ModelConfig(core="lstm", input_size=1, hidden_size=H)).eval()
    x = np.random.default_rng(0).standard_normal((T, 1)).astype(np.float32)
    after = range(100, T)
    kinds = {
        "no clamp": [],
        "forget = 0, every unit, steps 100..499": [Clamp("forget", 0.0, steps=after)],
        "hold the cell (forget 1, input 0), 3 units": [
            Clamp("forget", 1.0, units=[1, 2, 3], steps=after),
            Clamp("input", 0.0, units=[1, 2, 3], steps=after),
        ],
        "ablate 4 units (cell, hidden = 0), every step": [
            Clamp("cell", 0.0, units=[0, 5, 9, 30]),
            Clamp("hidden", 0.0, units=[0, 5, 9, 30]),
        ],
        "candidate = 0.5 on 8 units, steps 10..409": [
            Clamp("candidate", 0.5, units=range(8), steps=range(10, 410))
        ],
    }
    out = {}
    for name, clamps in kinds.items():
        model.trace(x, interventions=clamps)  # warm up
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            model.trace(x, interventions=clamps)
            times.append((time.perf_counter() - t0) * 1000)
        out[name] = statistics.median(times)
    return out


def view(repeats: int) -> tuple[float, float]:
    """Median ms of the intervene view's rerun after Apply (new clamp) and after Reset."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params.update(model="demo_untrained_lstm", input="generated", length=str(T))
    at.run()
    at.segmented_control(key="lv_view").set_value("Intervene")
    at.run()
    at.selectbox(key="lv_iv_gate").set_value("forget")
    at.slider(key="lv_iv_steps").set_value((100, T - 1))
    at.run()
    applies, resets = [], []
    for k in range(repeats):
        at.number_input(key="lv_iv_value").set_value(0.05 * (k + 1))  # a clamp not cached yet
        at.run()
        at.button(key="lv_iv_apply").click()
        t0 = time.perf_counter()
        at.run()
        applies.append((time.perf_counter() - t0) * 1000)
        assert not at.exception and "lv_iv_diff" in str(at.get("plotly_chart")), at.exception
        at.button(key="lv_iv_reset").click()
        t0 = time.perf_counter()
        at.run()
        resets.append((time.perf_counter() - t0) * 1000)
    return statistics.median(applies), statistics.median(resets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="runs per measurement")
    args = parser.parse_args()
    print(f"intervention re-trace, T={T}, H={H}, one thread (median of {args.repeats}):")
    for name, ms in engine(args.repeats).items():
        print(f"  {'engine, ' + name:<56} {ms:7.1f} ms")
    apply_ms, reset_ms = view(args.repeats)
    print(
        f"  {'intervene view rerun after Apply (server, AppTest)':<56} {apply_ms:7.1f} ms  (< 300)"
    )
    print(f"  {'intervene view rerun after Reset (cached trace)':<56} {reset_ms:7.1f} ms")


if __name__ == "__main__":
    main()
