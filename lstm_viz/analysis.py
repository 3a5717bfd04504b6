"""Memory analysis on traces: what "long-term memory" means, measured.

- retention: how much of what the cell wrote at step s is still in c_t (product of forget gates;
  for a GRU, of update gates), and what was written;
- saliency: how strongly the output at step t depends on the input at each earlier step s
  (gradient norms; the "connectivity" view of Distill's "Visualizing memorization in RNNs");
- saturation: per unit, how often a sigmoid gate sits below 0.1 or above 0.9
  (Karpathy, Johnson & Fei-Fei 2015, "Visualizing and understanding recurrent networks");
- unit_search: units ranked by correlation with a per-step signal the user gives;
- unit_null: how large the best |r| of that search gets by chance on the same input (the signal
  shifted circularly), whether the signal is just time passing, and when the input is too short.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from lstm_viz.cells import SIGMOID_NAMES
from lstm_viz.checks import whole_number
from lstm_viz.trace_result import LSTMTrace


class Retention(NamedTuple):
    """What a gated state holds at one step, split by the step that wrote it (rows are steps)."""

    kept: np.ndarray  # (S, H) share of the write at step first + row still in the state
    written: np.ndarray  # (S, H) that write: i * g (LSTM cell), (1 - z) * n (GRU hidden)
    gate: str  # the gate whose product is `kept`: "forget" (LSTM) or "update" (GRU)
    first: int  # the step of row 0: 0 forward, `step` for direction 1 (it reads backwards)


def retention(
    tr: LSTMTrace, layer: int, step: int, direction: int = 0, batch: int = 0
) -> Retention:
    """Of what the memory state wrote at each step s, the share still in it at `step`, per unit.

    LSTM: c_t = f_t c_(t-1) + i_t g_t, so the write at s is i_s g_s and its share left at `step`
    is the product of the forget gates in between. GRU: h_t = z_t h_(t-1) + (1 - z_t) n_t has the
    same form, with the update gate z as the forget gate and (1 - z_s) n_s as the write. Either
    way, from the zero state, sum over rows of kept * written is the state at `step`.
    Direction 0: rows s = 0..step, kept prod(f_{s+1..step}) (1 at s = step) -> (step + 1, H).
    Direction 1 reads backwards: rows s = step..T-1, kept prod(f_{step..s-1}) -> (T - step, H).
    A plain RNN has no such gate: ValueError.
    """
    v = lambda name: _one(tr, name, layer, direction, batch)  # noqa: E731  (T, H)
    if tr.kind == "lstm":
        gate, write = "forget", v("input") * v("candidate")
    elif tr.kind == "gru":
        gate, write = "update", (1.0 - v("update")) * v("new")
    else:
        raise ValueError(
            "a plain RNN has no gate that keeps a value: its memory is spread through the "
            "recurrent weights, so there is no exact share kept to draw (see saliency instead)"
        )
    keep = v(gate)
    _check_step(tr, step)
    ones = np.ones((1, keep.shape[1]))
    if direction == 0:
        later = keep[1 : step + 1][::-1]  # f_step, f_step-1, ..., f_1
        kept = np.cumprod(np.vstack([ones, later]), axis=0)[::-1]  # row s: prod f_{s+1..step}
        first = 0
    else:
        earlier = keep[step : tr.steps - 1]  # f_step, ..., f_{T-2}
        kept = np.cumprod(np.vstack([ones, earlier]), axis=0)  # row s - step: prod f_{step..s-1}
        first = step
    return Retention(kept, write[first : first + kept.shape[0]], gate, first)


def saturation(
    tr: LSTMTrace,
    name: str,
    layer: int = 0,
    direction: int = 0,
    low: float = 0.1,
    high: float = 0.9,
) -> tuple[np.ndarray, np.ndarray]:
    """Per unit, the fraction of steps (over the batch too) the gate is < low and > high."""
    if name not in SIGMOID_NAMES:
        raise ValueError(f"saturation is defined for sigmoid gates {SIGMOID_NAMES}; got {name!r}")
    values = tr.gate(name, layer, direction).reshape(-1, tr.units(name))
    return (values < low).mean(axis=0), (values > high).mean(axis=0)


def unit_search(
    tr: LSTMTrace, signal, name: str = "cell", layer: int = 0, direction: int = 0, batch: int = 0
) -> list[tuple[int, float]]:
    """Units ranked by |Pearson r| between their activation and `signal` (one value per step)."""
    values = _one(tr, name, layer, direction, batch).astype(np.float64)  # (T, U)
    signal = np.asarray(signal, dtype=np.float64)
    if signal.shape != (tr.steps,):
        raise ValueError(f"signal needs one value per step ({tr.steps}), got shape {signal.shape}")
    if not np.isfinite(signal).all() or signal.std() == 0:
        raise ValueError("signal must be finite and vary over the steps (a constant has no r)")
    s = (signal - signal.mean()) / signal.std()
    spread = values.std(axis=0)
    centred = values - values.mean(axis=0)
    # a unit that never moves correlates with nothing: r = 0 instead of 0/0
    r = np.where(spread > 0, (centred * s[:, None]).mean(axis=0) / np.maximum(spread, 1e-300), 0.0)
    order = np.argsort(-np.abs(r), kind="stable")
    return [(int(u), float(r[u])) for u in order]


SELF_R = 0.5  # a shift whose signal still correlates with the signal beyond this is not chance
MIN_SHIFTS = 20  # fewer usable shifts than this: the input is too short to tell
TIME_R = 0.9  # |r| of the signal with the step index from which it is "time passing"


class NullBand(NamedTuple):
    """How large the best |r| of `unit_search` gets by chance, for one signal on one input."""

    band: float  # the `quantile` of `maxima` (nan when too short): beat it to beat chance
    maxima: np.ndarray  # (S,) the best |r| over the units, the signal shifted by each of `shifts`
    shifts: np.ndarray  # (S,) the circular shifts used (steps)
    quantile: float  # e.g. 0.95
    usable: int  # how many of the T - 1 shifts leave a signal unlike itself (|r| <= SELF_R)
    time_r: float  # Pearson r of the signal with the step index on this input
    drifts: bool  # |time_r| >= TIME_R: the signal is mostly time passing on this input
    too_short: bool  # usable < MIN_SHIFTS: chance cannot be told from a unit on this input


def unit_null(
    tr: LSTMTrace,
    signal,
    names: tuple[str, ...] | None = None,
    layer: int = 0,
    direction: int = 0,
    batch: int = 0,
    quantile: float = 0.95,
    max_shifts: int = 200,
) -> NullBand:
    """The chance band of a unit search: the signal shifted circularly by s steps keeps its
    shape (how often and how long it is on) but no longer lines up with the input, so the best
    |r| over the units (`names`, default cell and hidden where traced) against the shifted
    signal is what chance gives on this input, with these units. Shifts that leave the signal
    like itself (|r| > SELF_R with the unshifted one, e.g. a period of a periodic signal) are
    left out; up to `max_shifts` of the rest, evenly spread, are used.

    Rules (stated in `NullBand`): the input is too short to tell when fewer than MIN_SHIFTS
    shifts are usable (band = nan); the signal is time passing when |r| with the step index is
    at least TIME_R, since then any unit that drifts steadily scores like it.
    """
    names = names or tuple(n for n in ("cell", "hidden") if n in tr.names)
    if not 0 < quantile < 1 or whole_number(max_shifts, "max_shifts") < 1:
        raise ValueError(f"quantile={quantile}, max_shifts={max_shifts}: use 0 < q < 1, >= 1")
    signal = np.asarray(signal, dtype=np.float64)
    for name in names:
        unit_search(tr, signal, name, layer, direction, batch)  # the same checks, same message
    values = np.hstack([_one(tr, n, layer, direction, batch) for n in names]).astype(np.float64)
    T = tr.steps
    z = (signal - signal.mean()) / signal.std()
    spread = values.std(axis=0)
    vz = np.where(spread > 0, (values - values.mean(0)) / np.maximum(spread, 1e-300), 0.0)
    # r of the signal with itself shifted by s, for every s at once (circular autocorrelation)
    self_r = np.fft.irfft(np.abs(np.fft.rfft(z)) ** 2, n=T) / T  # (T,)
    ok = np.flatnonzero(np.abs(self_r[1:]) <= SELF_R) + 1
    shifts = ok[
        np.unique(np.linspace(0, len(ok) - 1, min(max_shifts, len(ok))).round().astype(int))
    ]
    maxima = np.empty(len(shifts))
    steps = np.arange(T)
    for k0 in range(0, len(shifts), 32):  # (32, T) shifted signals at a time: bounded memory
        rolled = z[(steps[None, :] - shifts[k0 : k0 + 32, None]) % T]  # np.roll for each shift
        maxima[k0 : k0 + 32] = np.abs(rolled @ vz / T).max(axis=1)
    time_r = float(np.corrcoef(signal, steps)[0, 1])
    too_short = len(ok) < MIN_SHIFTS
    band = float("nan") if too_short else float(np.quantile(maxima, quantile))
    return NullBand(
        band, maxima, shifts, quantile, len(ok), time_r, abs(time_r) >= TIME_R, too_short
    )


def saliency(
    model: nn.Module,
    x,
    step: int,
    core: nn.Module | None = None,
    select: Callable[[torch.Tensor], torch.Tensor] | None = None,
) -> np.ndarray:
    """|d y_step / d input_s| for every step s: (T,) norms over the core's input features.

    y_step is the model's output at `step` reduced to a scalar: by `select(y_step)` if given, else
    its largest component (the predicted class's logit, or the forecast value). The gradient is
    taken with respect to what the recurrent core reads (after any embedding), so token models work
    too. `model` is any module wrapping one nn.LSTM / GRU / RNN (or that core itself); its output
    must put time on axis 1 when the core is batch_first and 3-D, else on axis 0.
    """
    step = whole_number(step, "step")
    core = core or next((m for m in model.modules() if isinstance(m, nn.RNNBase)), None)
    if core is None:
        raise ValueError("no nn.LSTM / GRU / RNN inside this model; pass core= explicitly")
    captured = []

    def grab_input(_module, args):
        leaf = args[0].detach().requires_grad_(True)  # gradient stops here: we want d/d(core input)
        captured.append(leaf)
        return (leaf, *args[1:])

    handle = core.register_forward_pre_hook(grab_input)
    was_training = model.training
    model.eval()
    try:
        with torch.enable_grad():
            out = model(x)
            out = out[0] if isinstance(out, tuple) else out
            time_axis = 1 if (core.batch_first and out.dim() == 3) else 0
            if not 0 <= step < out.shape[time_axis]:
                raise ValueError(f"step {step} out of range; the output has {out.shape[time_axis]}")
            y = out.select(time_axis, step)
            y = y[0] if out.dim() == 3 else y  # first sequence of a batch
            scalar = select(y) if select is not None else y.reshape(-1).max()
            (grad,) = torch.autograd.grad(scalar, captured[0])
    finally:
        handle.remove()  # hooks are global state on the module: never leave one behind
        model.train(was_training)
    g = grad.detach()
    if g.dim() == 3:  # pick the first sequence, time first
        g = g[0] if core.batch_first else g[:, 0]
    return g.reshape(g.shape[0], -1).norm(dim=1).double().numpy()


def _one(tr: LSTMTrace, name: str, layer: int, direction: int, batch: int) -> np.ndarray:
    values = tr.gate(name, layer, direction)
    if tr.batched:
        if not 0 <= whole_number(batch, "batch") < tr.batch_size:
            raise ValueError(f"batch {batch} out of range; the trace holds {tr.batch_size}")
        values = values[batch]
    return values


def _check_step(tr: LSTMTrace, step: int) -> None:
    whole_number(step, "step")
    if not 0 <= step < tr.steps:
        raise ValueError(f"step {step} out of range; the trace has steps 0..{tr.steps - 1}")
