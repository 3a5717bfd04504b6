"""`Scaling`: how a forecast model's numbers relate to the data's, both ways.

A forecast model reads and writes scaled numbers, z = (v - mean) / std, where v is the value, or
with `difference` its change since the previous step (so a trend like CO2's extrapolates instead
of saturating). The scaling is fit on the training part of the series only and travels with the
model in config.extra["scaling"]; `SequenceModel.readout` uses it to give outputs in the data's
units. The series conventions (offsets, one-step predictions) are in `lstm_viz/tasks/series.py`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass
class Scaling:
    """z = (v - mean) / std of the values v, or with `difference` of their changes."""

    difference: bool  # model step changes (value[t] - value[t-1]) instead of values
    mean: float  # subtracted from the (differenced) values, fit on the training part only
    std: float  # then divided by this

    @property
    def offset(self) -> int:
        return 1 if self.difference else 0

    @classmethod
    def of(cls, extra: dict) -> Scaling | None:
        """The scaling a model keeps in config.extra["scaling"], None if it has none."""
        given = extra.get("scaling")
        if not given:
            return None
        try:
            return cls(**given)
        except TypeError as err:
            raise ValueError(
                f"config.extra['scaling'] must hold difference, mean and std ({err}); "
                "re-save the model with its task's scaling"
            ) from None

    @classmethod
    def fit(cls, train_values: np.ndarray, difference: bool) -> Scaling:
        z = np.diff(train_values) if difference else train_values
        std = float(np.std(z))
        return cls(difference, float(np.mean(z)), std if std > 0 else 1.0)

    def to_input(self, values: np.ndarray) -> np.ndarray:
        """Model input (N - offset, 1) float32 from raw values (N,)."""
        z = np.diff(values) if self.difference else np.asarray(values, dtype=np.float64)
        return ((z - self.mean) / self.std).astype(np.float32)[:, None]

    def to_original(self, out) -> np.ndarray:
        """Model outputs in the data's units (float64, same shape): values, or with
        `difference` changes since the previous step."""
        return np.asarray(out, dtype=np.float64) * self.std + self.mean

    def to_values(self, out: np.ndarray, values: np.ndarray) -> np.ndarray:
        """One-step predictions (N,) in original units from model outputs (N - offset,)."""
        step = self.to_original(out)  # (N - offset,)
        pred = np.full(len(values), np.nan)
        o = self.offset
        # output j forecasts raw index j + o + 1; the last output looks past the end of the data
        pred[o + 1 :] = step[:-1] + (values[o:-1] if self.difference else 0.0)
        return pred

    def unroll(self, out: np.ndarray, last_value: float) -> np.ndarray:
        """Raw values (H,) from H autoregressive outputs that continue after `last_value`."""
        step = self.to_original(out)
        return last_value + np.cumsum(step) if self.difference else step

    def to_dict(self) -> dict:
        return asdict(self)
