"""Interventions: `Clamp` replaces a gate or state with a value, and how a trace applies it.

A clamp acts inside the recurrence, so its effect flows on exactly as if the network had computed
that value: through c and h, to later steps, to upper layers and to the output. Clamping "cell"
and "hidden" to 0 is an ablation of those units.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from lstm_viz.cells import SIGMOID_NAMES, TANH_NAMES
from lstm_viz.checks import whole_number
from lstm_viz.limits import MAX_CLAMP_INDICES, MAX_STATE_CLAMP


@dataclass(frozen=True)
class Clamp:
    """Set `name` to `value` at `steps` for `units` of `layer` (all units / steps when None).

    direction=None clamps every direction of a bidirectional layer. Sigmoid gates accept values in
    0..1 and tanh gates -1..1: outside that range the network could never produce the value.

    Several clamps in one call combine, with this precedence where they overlap:
    - a later clamp of the same name wins (`[Clamp("forget", 0.5), Clamp("forget", 1.0,
      steps=[4])]` holds the forget gate at 1.0 at step 4 and 0.5 elsewhere);
    - a state clamp wins over a gate clamp: a clamped `"cell"` replaces f·c(t-1) + i·g whatever
      the forget, input or candidate clamps made of it, and a clamped `"hidden"` replaces
      o·tanh(c) (GRU: (1 - z)·n + z·h(t-1)). The trace still shows each gate at its own clamped
      value; the state's value is what flows on.
    `steps` are always in the input's original time, also for the backward direction of a
    bidirectional layer (`direction=1`), which reads the steps from last to first: `steps=[5]`
    there clamps the step that reads x[5], and steps after 5 (read earlier) are unchanged.
    """

    name: str
    value: float
    layer: int = 0
    units: Sequence[int] | None = None
    steps: Iterable[int] | None = None
    direction: int | None = None

    def __post_init__(self):
        if not isinstance(self.name, str):
            raise ValueError(f"Clamp name must be a string such as 'forget', got {self.name!r}")
        number = (int, float, np.integer, np.floating)
        if isinstance(self.value, (bool, np.bool_)) or not isinstance(self.value, number):
            raise ValueError(f"Clamp value must be a number, got {self.value!r}")
        try:
            value = float(self.value)
        except OverflowError:  # an int past float's range, e.g. 10**400
            value = float("inf")
        object.__setattr__(self, "value", value)
        if value != value or abs(value) == float("inf"):
            raise ValueError("Clamp value must be finite; use a number such as 0.0 or 1.0")
        if self.name in SIGMOID_NAMES and not 0.0 <= value <= 1.0:
            raise ValueError(
                f"{self.name!r} is a sigmoid gate, so it only takes values in 0..1; "
                f"got {value} — use 0 to shut it or 1 to open it fully"
            )
        if self.name in TANH_NAMES and not -1.0 <= value <= 1.0:
            raise ValueError(f"{self.name!r} is a tanh output in -1..1; got {value}")
        if abs(value) > MAX_STATE_CLAMP:
            # an LSTM's cell moves by at most 1 per step (|i * g| <= 1) and a tanh network's
            # hidden state stays in -1..1: far larger values only overflow float32 downstream
            raise ValueError(
                f"Clamp value {value:g} for {self.name!r} is out of range; states take values "
                f"in -{MAX_STATE_CLAMP:g}..{MAX_STATE_CLAMP:g} (e.g. 0 to ablate a unit)"
            )
        object.__setattr__(self, "layer", whole_number(self.layer, "Clamp layer"))
        if self.direction is not None:
            object.__setattr__(self, "direction", whole_number(self.direction, "Clamp direction"))
        for field_name in ("steps", "units"):
            object.__setattr__(self, field_name, _indices(getattr(self, field_name), field_name))


def _indices(given, field_name: str) -> range | tuple[int, ...] | None:
    """A Clamp's steps or units, frozen (a generator would be consumed once otherwise): a range
    stays a range, checked arithmetically later, so range(10**12) costs nothing; anything else
    becomes a tuple of at most MAX_CLAMP_INDICES whole numbers."""
    if given is None:
        return None
    if isinstance(given, (int, np.integer, str, bytes)):
        raise ValueError(
            f"Clamp {field_name} must be a list or range, got {given!r}; "
            f"e.g. {field_name}=[{given!s}] or {field_name}=range(10, 20)"
        )
    if isinstance(given, range):
        return given
    try:
        items = list(itertools.islice(iter(given), MAX_CLAMP_INDICES + 1))
    except TypeError:
        raise ValueError(
            f"Clamp {field_name} must be a list or range, got {type(given).__name__}"
        ) from None
    if len(items) > MAX_CLAMP_INDICES:
        raise ValueError(
            f"Clamp {field_name} lists more than {MAX_CLAMP_INDICES:,} items; "
            f"pass a range instead, e.g. {field_name}=range(0, 5000)"
        )
    return tuple(whole_number(v, f"each of Clamp {field_name}") for v in items)


def _outside(indices: range | tuple[int, ...], n: int) -> list[int]:
    """Up to five of `indices` outside 0..n-1; a range is checked by its ends only."""
    if isinstance(indices, range):
        if not indices:
            return []
        ends = (indices[0], indices[-1])
        return [i for i in ends if not 0 <= i < n]
    return [i for i in indices if not 0 <= i < n][:5]


class ClampPlan:
    """Clamps compiled for one layer and direction: per name a (T, U) mask and values."""

    def __init__(self, steps: int):
        self.steps = steps
        self.masks: dict[str, torch.Tensor] = {}  # name -> (T, U) bool
        self.values: dict[str, torch.Tensor] = {}  # name -> (T, U)
        self.active: dict[str, set[int]] = {}  # name -> steps where some unit is clamped
        self.levels: dict[str, set[float]] = {}  # name -> the values its clamps set

    def add(self, clamp: Clamp, units: int, dtype: torch.dtype) -> None:
        if clamp.name not in self.masks:
            self.masks[clamp.name] = torch.zeros(self.steps, units, dtype=torch.bool)
            self.values[clamp.name] = torch.zeros(self.steps, units, dtype=dtype)
            self.active[clamp.name] = set()
        rows = range(self.steps) if clamp.steps is None else clamp.steps
        cols = range(units) if clamp.units is None else clamp.units
        if not rows or not cols:
            return
        r = slice(None) if clamp.steps is None else torch.tensor(rows)
        c = slice(None) if clamp.units is None else torch.tensor(cols)
        if clamp.steps is not None and clamp.units is not None:
            r, c = r[:, None], c[None, :]
        self.masks[clamp.name][r, c] = True
        self.values[clamp.name][r, c] = clamp.value  # a later clamp overrides an earlier one
        self.active[clamp.name].update(rows)
        self.levels.setdefault(clamp.name, set()).add(float(clamp.value))

    def span(self) -> tuple[int, int] | None:
        """(first, last + 1) of the steps where anything is clamped, or None."""
        steps = set().union(*self.active.values())
        return (min(steps), max(steps) + 1) if steps else None

    def window(self, start: int, stop: int, reverse: bool = False) -> ClampPlan:
        """The plan for steps start..stop-1, renumbered from 0, in reversed time if asked."""
        out = ClampPlan(stop - start)
        for name, mask in self.masks.items():
            m, v = mask[start:stop], self.values[name][start:stop]
            out.masks[name], out.values[name] = (m.flip(0), v.flip(0)) if reverse else (m, v)
            out.active[name] = set(torch.nonzero(out.masks[name].any(1)).flatten().tolist())
        out.levels = self.levels
        return out

    def apply(self, name: str, step: int, tensor: torch.Tensor) -> torch.Tensor:
        """tensor (B, U) at `step` with the clamped units replaced."""
        if step not in self.active.get(name, ()):
            return tensor
        return torch.where(self.masks[name][step], self.values[name][step], tensor)


def validate_clamps(
    clamps: Sequence[Clamp],
    names: Sequence[str],
    layers: int,
    directions: int,
    steps: int,
    units: dict[str, int],
) -> None:
    """Raise ValueError, naming the fix, for any clamp that does not fit this module and input."""
    for c in clamps:
        if not isinstance(c, Clamp):
            raise ValueError(
                f"interventions must be lstm_viz.Clamp objects, got {type(c).__name__}"
            )
        if c.name not in names:
            raise ValueError(f"cannot clamp {c.name!r} here; this module has {', '.join(names)}")
        if not 0 <= c.layer < layers:
            raise ValueError(
                f"Clamp layer {c.layer} out of range; the module has {layers} layer(s)"
            )
        if c.direction is not None and c.direction not in range(directions):
            raise ValueError(f"Clamp direction {c.direction} out of range; use 0..{directions - 1}")
        bad_steps = _outside(c.steps or (), steps)
        if bad_steps:
            raise ValueError(
                f"Clamp steps {bad_steps[:5]} out of range; the input has {steps} steps"
            )
        bad_units = _outside(c.units or (), units[c.name])
        if bad_units:
            raise ValueError(
                f"Clamp units {bad_units[:5]} out of range; {c.name!r} has {units[c.name]} units"
            )


def plan_clamps(
    clamps: Sequence[Clamp],
    layer: int,
    direction: int,
    steps: int,
    units: dict[str, int],
    dtype: torch.dtype,
) -> ClampPlan | None:
    """The plan for one layer and direction, or None when nothing there is clamped."""
    mine = [c for c in clamps if c.layer == layer and c.direction in (None, direction)]
    if not mine:
        return None
    plan = ClampPlan(steps)
    for c in mine:
        plan.add(c, units[c.name], dtype)
    return plan
