"""Interventions: `Clamp` replaces a gate or state with a value, and how a trace applies it.

A clamp acts inside the recurrence, so its effect flows on exactly as if the network had computed
that value: through c and h, to later steps, to upper layers and to the output. Clamping "cell"
and "hidden" to 0 is an ablation of those units.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch

from lstm_viz.cells import SIGMOID_NAMES, TANH_NAMES


@dataclass(frozen=True)
class Clamp:
    """Set `name` to `value` at `steps` for `units` of `layer` (all units / steps when None).

    direction=None clamps every direction of a bidirectional layer. Sigmoid gates accept values in
    0..1 and tanh gates -1..1: outside that range the network could never produce the value.
    """

    name: str
    value: float
    layer: int = 0
    units: Sequence[int] | None = None
    steps: Iterable[int] | None = None
    direction: int | None = None

    def __post_init__(self):
        if isinstance(self.value, bool) or not isinstance(self.value, (int, float)):
            raise ValueError(f"Clamp value must be a number, got {self.value!r}")
        value = float(self.value)
        if value != value or abs(value) == float("inf"):
            raise ValueError("Clamp value must be finite; use a number such as 0.0 or 1.0")
        if self.name in SIGMOID_NAMES and not 0.0 <= value <= 1.0:
            raise ValueError(
                f"{self.name!r} is a sigmoid gate, so it only takes values in 0..1; "
                f"got {value} — use 0 to shut it or 1 to open it fully"
            )
        if self.name in TANH_NAMES and not -1.0 <= value <= 1.0:
            raise ValueError(f"{self.name!r} is a tanh output in -1..1; got {value}")
        # freeze iterables (a range or generator would be consumed once otherwise)
        if self.steps is not None:
            object.__setattr__(self, "steps", tuple(int(s) for s in self.steps))
        if self.units is not None:
            object.__setattr__(self, "units", tuple(int(u) for u in self.units))


class ClampPlan:
    """Clamps compiled for one layer and direction: per name a (T, U) mask and values."""

    def __init__(self, steps: int):
        self.steps = steps
        self.masks: dict[str, torch.Tensor] = {}  # name -> (T, U) bool
        self.values: dict[str, torch.Tensor] = {}  # name -> (T, U)
        self.active: dict[str, set[int]] = {}  # name -> steps where some unit is clamped

    def add(self, clamp: Clamp, units: int, dtype: torch.dtype) -> None:
        if clamp.name not in self.masks:
            self.masks[clamp.name] = torch.zeros(self.steps, units, dtype=torch.bool)
            self.values[clamp.name] = torch.zeros(self.steps, units, dtype=dtype)
            self.active[clamp.name] = set()
        rows = range(self.steps) if clamp.steps is None else clamp.steps
        cols = range(units) if clamp.units is None else clamp.units
        if not rows or not cols:
            return
        r, c = torch.tensor(list(rows))[:, None], torch.tensor(list(cols))[None, :]
        self.masks[clamp.name][r, c] = True
        self.values[clamp.name][r, c] = clamp.value  # a later clamp overrides an earlier one
        self.active[clamp.name].update(rows)

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
        bad_steps = [s for s in c.steps or () if not 0 <= s < steps]
        if bad_steps:
            raise ValueError(
                f"Clamp steps {bad_steps[:5]} out of range; the input has {steps} steps"
            )
        bad_units = [u for u in c.units or () if not 0 <= u < units[c.name]]
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


# Added to a pre-activation, this drives sigmoid to exactly 0 or 1 and tanh to exactly -1 or 1 in
# float32 and float64 (exp overflows / underflows), whatever the rest of the sum is.
SATURATE = 1e4
GATE_ORDER = {
    "lstm": ("input", "forget", "candidate", "output"),
    "gru": ("reset", "update", "new"),
    "rnn": ("hidden",),
}


def saturating_inputs(plan: ClampPlan, kind: str, hidden: int, proj: int, relu: bool):
    """Rows of W_ih and per-step additions that make the fused kernel compute the clamped net.

    Many clamps are a gate driven to its limit: a sigmoid gate to 0 or 1, a tanh to -1 or 1; an
    LSTM cell to 0 is forget = input = 0 at that step, an LSTM hidden to 0 is output = 0. Adding
    +-SATURATE to that gate's pre-activation at those steps gives exactly those values, so the
    module's own fused kernel runs the intervened network at full speed. Returns (rows, add
    (T, K)) for K extra input channels wired one-to-one to those rows of W_ih, or None when some
    clamp is not of that kind (any other value) and the step-by-step path must run instead.
    """
    order = GATE_ORDER[kind]
    need: dict[int, torch.Tensor] = {}  # W_ih row -> (T,) required addition (0: none)

    def require(gate: str, unit_mask: torch.Tensor, sign: float) -> bool:
        base = order.index(gate) * hidden
        for u in torch.nonzero(unit_mask.any(0)).flatten().tolist():
            add = torch.where(unit_mask[:, u], sign * SATURATE, 0.0)
            prev = need.get(base + u)
            if prev is not None:
                if ((prev != 0) & (add != 0) & (prev != add)).any():
                    return False  # two clamps pull one gate opposite ways: step path
                add = torch.where(add != 0, add, prev)
            need[base + u] = add
        return True

    for name, mask in plan.masks.items():
        values = plan.values[name][mask]
        if values.numel() == 0:
            continue
        v = float(values[0])
        if not bool((values == v).all()):
            return None  # several values for one name: rare, the step path handles it
        if kind == "rnn":
            ok = (relu and v == 0.0) or (not relu and v in (-1.0, 1.0))
            steps = [("hidden", 1.0 if v > 0 else -1.0)] if ok else None
        elif name in ("input", "forget", "output", "reset", "update"):
            steps = [(name, 1.0 if v == 1.0 else -1.0)] if v in (0.0, 1.0) else None
        elif name in ("candidate", "new"):
            steps = [(name, v)] if v in (-1.0, 1.0) else None
        elif kind == "lstm" and name == "cell" and v == 0.0:
            steps = [("forget", -1.0), ("input", -1.0)]
        elif (
            kind == "lstm"
            and v == 0.0
            and (name == "hidden_unprojected" or name == "hidden" and not proj)
        ):
            steps = [("output", -1.0)]
        else:
            steps = None
        if steps is None or not all(require(g, mask, s) for g, s in steps):
            return None
    return _wire(need, plan.steps, len(order) * hidden)


@dataclass
class Saturation:
    """How the fused kernel takes saturating additions: on the bias, or on extra input channels."""

    bias: torch.Tensor  # (G*H,) added to b_ih: for rows clamped at every step
    wire: torch.Tensor  # (G*H, K): channel k feeds the rows marked 1 in column k
    add: torch.Tensor  # (T, K): what each channel carries at each step


def _wire(need: dict[int, torch.Tensor], steps: int, rows: int) -> Saturation:
    bias = torch.zeros(rows)
    channels: dict[bytes, tuple[torch.Tensor, list[int]]] = {}  # one channel per step pattern
    for row, add in need.items():
        if bool((add == add[0]).all()):
            bias[row] = add[0]  # the same at every step: a bias does it, no channel needed
        else:
            channels.setdefault(add.numpy().tobytes(), (add, []))[1].append(row)
    wire = torch.zeros(rows, len(channels))
    for k, (_, members) in enumerate(channels.values()):
        wire[members, k] = 1.0
    add = torch.stack([a for a, _ in channels.values()], 1) if channels else torch.zeros(steps, 0)
    return Saturation(bias, wire, add)
