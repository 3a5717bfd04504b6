"""Tasks: each module makes deterministic data, trains, evaluates and offers example inputs.

Every task module exposes the same few names:
- `train_model(core="lstm", seed=0, steps=None, progress=None) -> (SequenceModel, metrics dict)`
  reproducible from the seed on 2 CPU cores in at most 10 minutes (a task with several data
  sets, such as forecast, also takes `variant=`);
- `evaluate(model) -> metrics dict` on a fixed held-out set (fast: tests call it);
- `examples() -> list[Example]` inputs for the app with readable step labels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Example:
    name: str  # short title shown in the app's picker
    x: np.ndarray  # model input: token ids (T,) int64 or values (T, F) float32
    labels: list[str]  # one readable label per step (the token, or the value as text)
    description: str = ""  # one or two sentences: what to look for
