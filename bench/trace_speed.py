"""Trace speed and size, measured side by side in one process (not a test: machines are noisy).

Prints, per configuration, the median of `lstm_viz.trace` time / `nn.LSTM` forward time (goal:
<= 1.5x without interventions, < 10x with one), and the bytes of arrays in a T=10,000, H=256,
2-layer trace (goal: < 300 MB).

    python bench/trace_speed.py
"""

from __future__ import annotations

import statistics
import time

import torch

import lstm_viz

CONFIGS = [  # (steps, hidden, layers, input)
    (1000, 128, 2, 16),
    (5000, 64, 1, 8),
]


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm up caches and kernels
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}")
    for steps, hidden, layers, inputs in CONFIGS:
        lstm = torch.nn.LSTM(inputs, hidden, layers).eval()
        x = torch.randn(steps, inputs)
        clamp = [lstm_viz.Clamp("forget", 0.0, layer=0, units=[0], steps=range(10, 20))]
        # interleave the three so drifts in machine load hit them alike
        fwd, fast, slow = [], [], []
        for _ in range(7):
            with torch.no_grad():
                fwd.append(median_seconds(lambda: lstm(x), 1))
            fast.append(median_seconds(lambda: lstm_viz.trace(lstm, x), 1))
            slow.append(median_seconds(lambda: lstm_viz.trace(lstm, x, interventions=clamp), 1))
        f, a, b = (statistics.median(v) for v in (fwd, fast, slow))
        print(
            f"T={steps} H={hidden} layers={layers} input={inputs}: forward {f * 1e3:.1f} ms, "
            f"trace {a * 1e3:.1f} ms ({a / f:.2f}x), with a clamp {b * 1e3:.1f} ms ({b / f:.2f}x)"
        )
    lstm = torch.nn.LSTM(16, 256, 2).eval()
    tr = lstm_viz.trace(lstm, torch.randn(10_000, 16))
    size = sum(a.nbytes for a in tr.states.values()) + tr.output.nbytes
    print(f"T=10000 H=256 layers=2 trace arrays: {size / 2**20:.0f} MiB (goal < 300 MB)")


if __name__ == "__main__":
    main()
