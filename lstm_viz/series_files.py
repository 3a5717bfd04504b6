"""The series shipped in `lstm_viz/data/` (CO2, sunspots), the forecasting variants' names and the
synthetic series' defaults: what a model's `config.extra` may name, read without the task code.

Below `models.py` on purpose: `validate.py` checks a forecast model's stored fields against these
series at load time, and the task modules (which import the models) build on them in
`lstm_viz/tasks/series.py`, which re-exports every name here.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA_DIR = Path(__file__).resolve().parent / "data"
MIN_LENGTH = 60  # shorter series leave too few steps for training, validation and a test tail
VARIANTS = ("co2", "sunspots", "synthetic")
SYNTHETIC = dict(length=600, period=24, trend=0.02, noise=0.2, amplitude=1.0, seed=0)


@dataclass
class Series:
    name: str  # "co2", "sunspots", "synthetic" or "custom"
    values: np.ndarray  # (N,) float64, original units
    labels: list[str]  # (N,) the date, year or step number of each value
    unit: str  # printed after values, e.g. "ppm"
    season: int  # steps per seasonal cycle, for the seasonal-naive baseline


def _read_csv(name: str, key: str, column: str) -> tuple[list[str], np.ndarray]:
    with open(DATA_DIR / name, newline="") as f:
        rows = list(csv.DictReader(f))
    return [r[key] for r in rows], np.array([float(r[column]) for r in rows])


def load_series(name: str) -> Series:
    """A shipped series: "co2" (weekly, Mauna Loa 1958-2001) or "sunspots" (yearly 1700-2008)."""
    if name == "co2":
        dates, values = _read_csv("co2_weekly.csv", "date", "co2")
        return Series("co2", values, dates, "ppm", season=52)
    if name == "sunspots":
        years, values = _read_csv("sunspots_yearly.csv", "year", "sunspots")
        return Series("sunspots", values, years, "", season=11)
    raise ValueError(f"no shipped series {name!r}; choose 'co2' or 'sunspots' (or 'synthetic')")
