"""Sizes of the offline gate explorer (lstm_viz.trace_html / show), measured, not estimated.

    python bench/explorer_size.py

Prints, for a one-layer LSTM at a few T and H: the data part (values as float16 base64, labels,
the state before the first step), the figure without values, the whole page (plotly.js inlined
once) and show()'s iframe output; and for comparison the app's heatmap HTML export (float32
values inside the Plotly figure).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

import lstm_viz  # noqa: E402
from lstm_viz import export, figures  # noqa: E402
from lstm_viz.explorer import _json, explorer_data, iframe_html, map_names  # noqa: E402


def mb(n: int) -> str:
    return f"{n / 1e6:6.2f} MB"


def main() -> None:
    torch.manual_seed(0)
    head = ("T", "H", "data", "figure", "page", "iframe", "heatmap export")
    print("{:>5} {:>4}  {:>9}  {:>9}  {:>9}  {:>9}  {:>14}".format(*head))
    for t, h in ((500, 64), (1000, 128), (2283, 32)):
        tr = lstm_viz.trace(torch.nn.LSTM(8, h), torch.randn(t, 8))
        data, figure = explorer_data(tr)
        page = lstm_viz.trace_html(tr)
        frame = iframe_html(tr)
        maps = {n: tr.gate(n) for n in map_names(tr)}
        heat = export.figure_html(figures.gate_heatmaps(maps, [str(s) for s in range(t)]), step=0)
        sizes = (_json(data), _json(figure), page, frame, heat)
        print(f"{t:>5} {h:>4}  " + "  ".join(mb(len(s.encode())) for s in sizes))


if __name__ == "__main__":
    main()
