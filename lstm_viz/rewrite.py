"""Clamps as rewritten weights: how most interventions run in the module's own fused kernel.

A clamp holds over a run of steps. Within a run whose clamps do not change, each clamp is a fixed
edit of the layer's weights:
- a gate set to v: zero its rows of W_ih and W_hh and put the pre-activation that gives v in the
  bias (logit(v) for a sigmoid, atanh(v) for a tanh; +-SATURATE for the limits 0 / 1 / -1 / 1,
  which exp over- or underflows to exactly those values);
- an LSTM cell set to v (|v| <= 1): forget = 0, input = 1, candidate = v, so c_t = v;
- a hidden unit set to v at step t (LSTM or plain RNN): from step t + 1 on, the step that reads it,
  fold W_hh[:, u] * v into b_hh and zero column u; the kernel's own h there is replaced after;
- a GRU hidden unit set to v (|v| <= 1): update = 0 and new = v, so h_t = v.
The kernel then runs run by run from the state the previous run left. What no weight edit can
express (an LSTM cell or GRU hidden beyond -1..1, a unit before the projection) returns
None, and the trace runs those steps one at a time instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lstm_viz.cells import SIGMOID_NAMES, TANH_NAMES, LayerWeights
from lstm_viz.interventions import ClampPlan

SATURATE = 1e4  # |pre-activation| that saturates sigmoid / tanh exactly in float32 and float64
GATE_ORDER = {
    "lstm": ("input", "forget", "candidate", "output"),
    "gru": ("reset", "update", "new"),
    "rnn": ("hidden",),
}
MAX_RUNS = 64  # beyond this many kernel calls, one Python loop over the steps is as fast


@dataclass
class Run:
    start: int  # first step (reading order)
    stop: int  # one past the last step
    weights: LayerWeights  # the layer's weights as edited for this run's clamps


def plan_runs(plan: ClampPlan, kind: str, w: LayerWeights) -> list[Run] | None:
    """Split the steps into runs of unchanging edits, each with its edited weights."""
    masks, values = dict(plan.masks), dict(plan.values)
    if "hidden" in masks and kind != "gru":  # h_t is read at step t + 1: W_hh changes there
        shift = lambda a: torch.cat([torch.zeros_like(a[:1]), a[:-1]])  # noqa: E731
        masks["hidden_read"] = shift(masks.pop("hidden"))
        values["hidden_read"] = shift(values.pop("hidden"))
    change = torch.zeros(plan.steps, dtype=torch.bool)
    change[0] = True
    for name, mask in masks.items():
        vals = values[name]
        moved = (mask[1:] != mask[:-1]) | (mask[1:] & (vals[1:] != vals[:-1]))
        change[1:] |= moved.any(1)
    starts = torch.nonzero(change).flatten().tolist()
    if len(starts) > MAX_RUNS:
        return None
    runs = []
    for start, stop in zip(starts, [*starts[1:], plan.steps], strict=True):
        active = {n: m[start] for n, m in masks.items() if bool(m[start].any())}
        weights = _edit(active, {n: values[n][start] for n in active}, kind, w) if active else w
        if weights is None:
            return None
        runs.append(Run(start, stop, weights))
    return runs


def _edit(active: dict, values: dict, kind: str, w: LayerWeights) -> LayerWeights | None:
    """The weights with these clamps (units mask and values per name) built in; None if none can."""
    order = GATE_ORDER[kind]
    hidden = w.w_hh.shape[0] // len(order)
    gates = len(order) * hidden
    w_ih, w_hh = w.w_ih.clone(), w.w_hh.clone()
    zeros = w.w_ih.new_zeros(gates)
    b_ih = zeros.clone() if w.b_ih is None else w.b_ih.clone()
    b_hh = zeros.clone() if w.b_hh is None else w.b_hh.clone()
    if "hidden_read" in active:  # first, so a gate row set below is not touched again
        units, v = active["hidden_read"], values["hidden_read"]
        b_hh += w_hh[:, units] @ v[units]
        w_hh[:, units] = 0
    if "hidden_unprojected" in active:
        return None  # o * tanh(c) before the projection: W_hr has no bias to fold it into

    def set_rows(gate: str, units: torch.Tensor, pre: torch.Tensor) -> None:
        rows = order.index(gate) * hidden + torch.nonzero(units).flatten()
        w_ih[rows], w_hh[rows], b_hh[rows] = 0, 0, 0
        b_ih[rows] = pre[units]

    # states last: a cell (or GRU hidden) clamp must win over a gate clamp on the same unit
    for name in sorted(active, key=lambda n: n in ("cell", "hidden")):
        units, v = active[name], values[name]
        if name in SIGMOID_NAMES:
            set_rows(name, units, _pre_activation(v, sigmoid=True))
        elif name in TANH_NAMES:
            set_rows(name, units, _pre_activation(v, sigmoid=False))
        elif name == "hidden" and kind == "gru":  # h_t = (1 - z) n + z h_(t-1) with z = 0, n = v
            if bool((v[units].abs() > 1).any()):
                return None  # n lies in -1..1: only the step path can set a larger h
            set_rows("update", units, torch.full_like(v, -SATURATE))
            set_rows("new", units, _pre_activation(v, sigmoid=False))
        elif name == "cell":
            if bool((v[units].abs() > 1).any()):
                return None  # i * g lies in -1..1: only the step path can set a larger cell
            set_rows("forget", units, torch.full_like(v, -SATURATE))
            set_rows("input", units, torch.full_like(v, SATURATE))
            set_rows("candidate", units, _pre_activation(v, sigmoid=False))
    return LayerWeights(w_ih, w_hh, b_ih, b_hh, w.w_hr)


def _pre_activation(v: torch.Tensor, sigmoid: bool) -> torch.Tensor:
    """The pre-activation whose sigmoid (or tanh) is v; +-SATURATE at the limits."""
    low, high = (0.0, 1.0) if sigmoid else (-1.0, 1.0)
    pre = torch.special.logit(v.double()) if sigmoid else torch.atanh(v.double())  # inf at limits
    pre = torch.where(v <= low, -SATURATE, torch.where(v >= high, SATURATE, pre))
    return pre.to(v.dtype)
