"""CSV export at the app's cap: time, size and peak memory of `export.trace_csv`, beside the
csv.writer loop it replaced (same rows, same values), measured side by side in one process.

    python bench/export_speed.py            # a 64-unit LSTM traced on 2604 steps: ~1M rows
"""

from __future__ import annotations

import argparse
import csv
import io
import time
import tracemalloc

import numpy as np
import torch

import lstm_viz
from lstm_viz import export
from lstm_viz.limits import MAX_EXPORT_ROWS


def naive_csv(tr) -> str:
    """The export before the cap: one csv.writer row per number."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(export.CSV_HEADER)
    labels = tr.labels or [""] * tr.steps
    for layer in range(tr.num_layers):
        for d in range(tr.num_directions):
            for name in tr.names:
                values = tr.gate(name, layer, d)
                for t in range(tr.steps):
                    writer.writerows(
                        (t, labels[t], layer, d, name, u, repr(float(v)))
                        for u, v in enumerate(values[t])
                    )
    return out.getvalue()


def measure(fn, tr) -> tuple[float, int, int]:
    """(seconds, characters, peak traced bytes): timed without tracemalloc, which slows it."""
    start = time.perf_counter()
    text = fn(tr)
    seconds = time.perf_counter() - start
    del text
    tracemalloc.start()
    size = len(fn(tr))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return seconds, size, peak


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hidden", type=int, default=64)
    args = parser.parse_args()
    steps = MAX_EXPORT_ROWS // (6 * args.hidden)  # the most steps under the cap
    torch.manual_seed(0)
    x = torch.randn(steps, 1)
    tr = lstm_viz.trace(torch.nn.LSTM(1, args.hidden), x, labels=[f"{v:.4g}" for v in x[:, 0]])
    rows = export.csv_rows(tr)
    print(f"trace: {steps} steps x {args.hidden} units x 6 names = {rows:,} rows")
    new = measure(export.trace_csv, tr)
    old = measure(naive_csv, tr)
    for name, (sec, size, peak) in (("trace_csv", new), ("csv.writer loop", old)):
        print(f"{name:>16}: {sec:6.2f} s, {size / 2**20:6.1f} MB text, peak {peak / 2**20:6.1f} MB")
    print(f"speed-up {old[0] / new[0]:.2f}x; same size: {new[1] == old[1]}")
    over = lstm_viz.trace(torch.nn.LSTM(1, args.hidden), torch.randn(steps + 10, 1))
    start = time.perf_counter()
    try:
        export.trace_csv(over)
    except ValueError as err:
        print(f"over the cap: refused in {1e3 * (time.perf_counter() - start):.2f} ms: {err}")
    np.testing.assert_equal(len(export.trace_csv(tr).splitlines()) - 1, rows)


if __name__ == "__main__":
    main()
