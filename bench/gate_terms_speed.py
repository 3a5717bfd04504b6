"""What a click on a heatmap cell costs: `gate_terms` at one step and `gate_drivers` over all steps,
each as a ratio to the `lstm_viz.trace` it explains, measured side by side in one process (not a
test: machines are noisy). The drivers are two matrix-vector products over the whole sequence, so
they should cost a small fraction of the trace even at T = 5,000.

    python -m bench.gate_terms_speed [THREADS]
"""

from __future__ import annotations

import statistics
import sys
import time

import torch

import lstm_viz

CONFIGS = [(1000, 128, 2, 16), (5000, 64, 1, 8)]  # (steps, hidden, layers, input)


def median_time(fn, rounds: int = 9) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    torch.set_num_threads(int(sys.argv[1]) if len(sys.argv) > 1 else 1)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    for steps, hidden, layers, inputs in CONFIGS:
        torch.manual_seed(0)
        lstm = torch.nn.LSTM(inputs, hidden, num_layers=layers).eval()
        x = torch.randn(steps, inputs)
        tr = lstm_viz.trace(lstm, x)
        top = layers - 1
        t_trace = median_time(lambda: lstm_viz.trace(lstm, x))  # noqa: B023
        t_terms = median_time(lambda: lstm_viz.gate_terms(tr, lstm, "forget", 3, steps // 2, top))  # noqa: B023
        t_drv = median_time(lambda: lstm_viz.gate_drivers(tr, lstm, "forget", 3, top))  # noqa: B023
        print(f"T={steps} H={hidden} layers={layers} input={inputs}: trace {t_trace * 1e3:.1f} ms")
        print(f"  gate_terms (one step, layer {top}): {t_terms * 1e3:6.2f} ms  "
              f"{t_terms / t_trace:.3f}x the trace")  # fmt: skip
        print(f"  gate_drivers (all {steps} steps):  {t_drv * 1e3:6.2f} ms  "
              f"{t_drv / t_trace:.3f}x the trace")  # fmt: skip


if __name__ == "__main__":
    main()
