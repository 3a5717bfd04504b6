"""Trace speed and size, measured side by side in one process (not a test: machines are noisy).

Prints, per configuration, the median of `lstm_viz.trace` time / `nn.LSTM` forward time (goal:
<= 1.5x without interventions, < 10x with one), and the bytes of arrays in a T=10,000, H=256,
2-layer trace (goal: < 300 MB).

    python -m bench.trace_speed [THREADS]
"""

from __future__ import annotations

import statistics
import sys
import time

import torch

import lstm_viz

CONFIGS = [  # (steps, hidden, layers, input)
    (1000, 128, 2, 16),
    (5000, 64, 1, 8),
]


LABELS = {
    "trace": "no interventions, goal <= 1.5x",
    "window": "forget = 0.5 on one unit for 10 steps: 3 runs of the fused kernel",
    "hold": "forget = 1, input = 0 at every step: the fused kernel with edited weights",
    "everywhere": "cell = 1.5 at every step: the full step-by-step path, goal < 10x",
}


def once(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare(steps: int, hidden: int, layers: int, inputs: int, rounds: int = 9) -> None:
    lstm = torch.nn.LSTM(inputs, hidden, layers).eval()
    x = torch.randn(steps, inputs)
    window = [lstm_viz.Clamp("forget", 0.5, layer=0, units=[0], steps=range(10, 20))]
    hold = [lstm_viz.Clamp("forget", 1.0), lstm_viz.Clamp("input", 0.0)]  # every step and unit
    everywhere = [lstm_viz.Clamp("cell", 1.5)]  # no weight edit reaches c = 1.5: step by step
    runs = {
        "forward": lambda: lstm(x),
        "trace": lambda: lstm_viz.trace(lstm, x),
        "window": lambda: lstm_viz.trace(lstm, x, interventions=window),
        "hold": lambda: lstm_viz.trace(lstm, x, interventions=hold),
        "everywhere": lambda: lstm_viz.trace(lstm, x, interventions=everywhere),
    }
    times = {k: [] for k in runs}
    with torch.no_grad():
        for fn in runs.values():
            fn()  # warm up kernels and caches
        for _ in range(rounds):  # interleaved, so drifts in machine load hit all three alike
            for k, fn in runs.items():
                times[k].append(once(fn))
    med = {k: statistics.median(v) for k, v in times.items()}
    f = med.pop("forward")
    print(f"T={steps} H={hidden} layers={layers} input={inputs}: forward {f * 1e3:.1f} ms")
    for k, v in med.items():
        print(f"  {k:>10}: {v * 1e3:7.1f} ms  {v / f:5.2f}x   ({LABELS[k]})")


def main() -> None:
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else torch.get_num_threads()
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, threads {threads}")
    for config in CONFIGS:
        compare(*config)
    lstm = torch.nn.LSTM(16, 256, 2).eval()
    tr = lstm_viz.trace(lstm, torch.randn(10_000, 16))
    size = sum(a.nbytes for a in tr.states.values()) + tr.output.nbytes
    print(f"T=10000 H=256 layers=2 trace arrays: {size / 2**20:.0f} MiB (goal < 300 MB)")


if __name__ == "__main__":
    main()
