"""Why a gate took its value: its pre-activation split into terms that add up to it exactly.

Every gate of `lstm_viz.cells` is a squashing of a sum (PyTorch's docs, gate order i, f, g, o):
    f_t = sigmoid(W_if x_t + b_if + W_hf h_{t-1} + b_hf)
so for one unit u the pre-activation is
    sum_j W_if[u, j] x_t[j]  +  sum_j W_hf[u, j] h_{t-1}[j]  +  b_if[u]  +  b_hf[u]
      (input part, per feature)   (recurrent part, per unit)      (biases)
GRU new: n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn)), so its recurrent terms are
r_t[u] W_hn[u, j] h_{t-1}[j] and r_t[u] b_hn[u] is a bias term. A plain RNN's "hidden" is the
same sum squashed by tanh or relu.

Where x_t and h_{t-1} come from: layer 0 reads the input the trace recorded; a layer above reads
the hidden of the layer below (both directions concatenated, forward units first; the projected
h with proj_size). h_{t-1} is the hidden of the step read before: step t - 1 forward, step t + 1
in the reverse direction, and the trace's initial state at the first step read.

`gate_terms` gives the terms at one step; `gate_drivers` the three parts at every step at once.
Both are computed in float64 from the module's weights and the trace's own states, and both
refuse (ValueError) when their sum does not reproduce the traced gate: that means the module is
not the one the trace was made with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lstm_viz.cells import SIGMOID_NAMES, SQUASH
from lstm_viz.checks import module_config, module_kind, whole_number
from lstm_viz.rewrite import GATE_ORDER
from lstm_viz.trace_result import LSTMTrace

# the docs' letter of each gate, for naming its biases (b_if, b_hf, ...)
LETTER = dict(input="i", forget="f", candidate="g", output="o", reset="r", update="z", new="n")
# what must agree between the module given and the one traced
SAME = ("input_size", "hidden_size", "num_layers", "bidirectional", "proj_size", "bias")


@dataclass(frozen=True)
class GateTerms:
    """One gate of one unit at one step, as terms that sum to its pre-activation."""

    name: str  # the gate ("forget", "new", ...)
    unit: int
    step: int
    layer: int
    direction: int
    squash: str  # "sigmoid", "tanh" or "relu"
    input_terms: dict[str, float]  # W[u, j] x_t[j] for every input feature j, in feature order
    recurrent_terms: dict[str, float]  # the largest W[u, j] h_{t-1}[j] by |value|, then the rest
    bias_terms: dict[str, float]  # e.g. b_if, b_hf (empty for a module with bias=False)
    preactivation: float  # the sum of all terms
    value: float  # squash(preactivation): equal to the traced gate unless clamped
    traced: float  # the value in the trace
    clamped: bool  # a Clamp set this value: the formula says what the network would have had
    input_label: str  # what the input part stands for, e.g. "input (e)" for the token e

    @property
    def terms(self) -> dict[str, float]:
        """Every term in order: input features, recurrent units, biases."""
        return {**self.input_terms, **self.recurrent_terms, **self.bias_terms}

    @property
    def input_total(self) -> float:
        return float(sum(self.input_terms.values()))

    @property
    def recurrent_total(self) -> float:
        return float(sum(self.recurrent_terms.values()))

    @property
    def bias_total(self) -> float:
        return float(sum(self.bias_terms.values()))

    def grouped(self) -> dict[str, float]:
        """The terms with the input features summed into one (a token's embedding has no
        meaningful single features: what counts is the token), named by `input_label`."""
        return {self.input_label: self.input_total, **self.recurrent_terms, **self.bias_terms}

    def summary(self, k: int = 3) -> str:
        """One line: the value, its squashing, and the k largest grouped terms."""
        big = sorted(self.grouped().items(), key=lambda kv: -abs(kv[1]))[:k]
        parts = ", ".join(f"{n} {v:+.2f}" for n, v in big)
        note = f" (clamped to {self.traced:.3f})" if self.clamped else ""
        head = f"{self.name}[{self.unit}] at step {self.step} = {self.squash}"
        return f"{head}({self.preactivation:+.2f}) = {self.value:.3f}{note}; {parts}"


@dataclass(frozen=True)
class GateDrivers:
    """One unit's gate at every step: what it reads, what it remembers, and its bias. (T,) each."""

    name: str
    unit: int
    layer: int
    direction: int
    squash: str
    input: np.ndarray  # W[u, :] x_t
    recurrent: np.ndarray  # W_h[u, :] h_{t-1} (GRU new: times r_t)
    bias: np.ndarray  # b_i + b_h (GRU new: b_in + r_t b_hn, so it varies)
    preactivation: np.ndarray  # input + recurrent + bias
    value: np.ndarray  # squash(preactivation)
    traced: np.ndarray  # the trace's values
    clamped: np.ndarray  # bool: a Clamp set the value at these steps


def gate_terms(
    trace: LSTMTrace,
    module,
    name: str,
    unit: int,
    step: int,
    layer: int = 0,
    direction: int = 0,
    *,
    top: int = 6,
    input_label: str | None = None,
    batch: int = 0,
) -> GateTerms:
    """Split gate `name` of `unit` at `step` into the terms of its pre-activation.

    module: the nn.LSTM / GRU / RNN the trace was made with (for a shipped model, `model.core`).
    top: how many recurrent units to list by |contribution|; the rest are summed into one term.
    input_label: the name of the input part in `grouped()`; by default the step's label (token).
    batch: which sequence of a batched trace.
    """
    g = _Gate(trace, module, name, layer, direction, batch)
    unit, step = g.check_unit(unit), g.check_step(step)
    top = whole_number(top, "top")
    if top < 0:
        raise ValueError(f"top must be 0 or more (how many units to list), got {top}")
    x, h = g.x[step], g.h_prev[step]  # (F,), (H_out,)
    w_x, w_h, b_x, b_h = g.rows(unit)
    r = g.reset[step, unit] if g.reset is not None else 1.0
    feat = x * w_x  # (F,)
    rec = r * (h * w_h)  # (H_out,)
    order = np.argsort(-np.abs(rec), kind="stable")
    mark = "r·" if name == "new" else ""
    num = lambda v: float(v) + 0.0  # noqa: E731  (+ 0.0 turns -0.0, e.g. w * 0, into 0.0)
    inputs = {n: num(v) for n, v in zip(g.feature_names(), feat, strict=True)}
    recurrent = {f"{mark}h[{j}]": num(rec[j]) for j in order[:top]}
    if len(order) > top:
        recurrent[f"other {len(order) - top} units"] = num(rec[order[top:]].sum())
    biases = {}
    if b_x is not None:
        c = LETTER.get(name, "h")
        biases = {f"b_i{c}": num(b_x), f"{mark}b_h{c}": num(r * b_h)}
    pre = float(sum(inputs.values()) + sum(recurrent.values()) + sum(biases.values()))
    scale = np.abs(feat).sum() + np.abs(rec).sum() + sum(abs(v) for v in biases.values())
    value = float(g.squash_fn(np.float64(pre)))
    traced, clamped = float(g.traced[step, unit]), bool(g.clamped[step, unit])
    g.check_agrees(np.array([value]), np.array([traced]), np.array([clamped]), scale)
    if input_label is None:
        label = trace.labels[step] if trace.labels else None
        label = f"layer {layer - 1} hidden" if layer else label
        input_label = f"input ({label})" if label else "input"
    return GateTerms(
        name, unit, step, layer, direction, g.squash, inputs, recurrent, biases, pre, value,
        traced, clamped, input_label,
    )  # fmt: skip


def gate_drivers(
    trace: LSTMTrace,
    module,
    name: str,
    unit: int,
    layer: int = 0,
    direction: int = 0,
    *,
    batch: int = 0,
) -> GateDrivers:
    """The input, recurrent and bias parts of one unit's gate at every step, all at once.

    Is the gate driven by what it reads or by what it remembers? Two matrix-vector products over
    the whole sequence (no loop over steps). Same arguments as `gate_terms`.
    """
    g = _Gate(trace, module, name, layer, direction, batch)
    unit = g.check_unit(unit)
    w_x, w_h, b_x, b_h = g.rows(unit)
    r = g.reset[:, unit] if g.reset is not None else 1.0
    inp = g.x @ w_x  # (T,)
    rec = r * (g.h_prev @ w_h)  # (T,)
    bias = np.zeros_like(inp) if b_x is None else b_x + r * b_h + np.zeros_like(inp)
    pre = inp + rec + bias
    scale = np.abs(g.x) @ np.abs(w_x) + np.abs(r) * (np.abs(g.h_prev) @ np.abs(w_h)) + abs(bias)
    value = g.squash_fn(pre)
    traced, clamped = g.traced[:, unit].astype(np.float64), g.clamped[:, unit]
    g.check_agrees(value, traced, clamped, scale)
    return GateDrivers(
        name, unit, layer, direction, g.squash, inp, rec, bias, pre, value, traced, clamped.copy()
    )


class _Gate:
    """What both functions read: the layer's input and h_{t-1} at every step (T, K) in float64,
    the module's weights for this gate, and the traced values."""

    def __init__(self, tr: LSTMTrace, module, name, layer, direction, batch):
        if not isinstance(tr, LSTMTrace):
            raise ValueError(f"trace must be an lstm_viz.LSTMTrace, got {type(tr).__name__}")
        kind = module_kind(module)
        cfg = module_config(module, kind)
        for key in ("kind", *SAME, *(("nonlinearity",) if kind == "rnn" else ())):
            if cfg[key] != tr.config.get(key, tr.kind if key == "kind" else None):
                raise ValueError(f"the module's {key} is {cfg[key]} but the trace's is "
                                 f"{tr.config.get(key, tr.kind)}; pass the module the trace was "
                                 "made with (for a shipped model, model.core)")  # fmt: skip
        names = GATE_ORDER[kind]
        if name not in names:
            why = " (cell and hidden follow from the gates)" if kind == "lstm" else ""
            why = " (hidden mixes new and the old h through update)" if kind == "gru" else why
            raise ValueError(
                f"{name!r} is not a gate with a pre-activation in this {kind}{why}; "
                f"choose one of {', '.join(names)}"
            )
        self.clamped = tr.clamped(name, layer, direction)  # (T, H); checks layer and direction
        self.batch = b = whole_number(batch, "batch")
        if not 0 <= b < tr.batch_size:
            raise ValueError(f"batch {b} out of range; the trace has {tr.batch_size} (0..)")
        self.tr, self.name, self.layer, self.direction = tr, name, layer, direction
        self.squash = cfg["nonlinearity"] if kind == "rnn" else "tanh"
        self.squash = "sigmoid" if name in SIGMOID_NAMES else self.squash
        self.x = self._layer_input()  # (T, F)
        self.h_prev = self._h_prev()  # (T, H_out)
        reset = tr.states["reset"][layer, direction, b] if name == "new" else None
        self.reset = None if reset is None else reset.astype(np.float64)  # (T, H): r_t for new
        self.traced = tr.states[name][layer, direction, b]  # (T, H)
        self.index = names.index(name)
        sfx = f"_l{layer}" + ("_reverse" if direction else "")
        get = lambda k: getattr(module, k + sfx, None)  # noqa: E731
        self.weights = [get(k) for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        self.float64 = tr.config["dtype"] == "float64" and get("weight_ih").dtype == torch.float64

    def squash_fn(self, z: np.ndarray) -> np.ndarray:
        return SQUASH[self.squash](z)

    def check_step(self, step) -> int:
        step, t = whole_number(step, "step"), self.tr.steps
        if not 0 <= step < t:
            raise ValueError(f"step {step} out of range; the trace has {t} steps (0..{t - 1})")
        return step

    def check_unit(self, unit) -> int:
        unit = whole_number(unit, "unit")
        n = self.tr.hidden_size
        if not 0 <= unit < n:
            raise ValueError(f"unit {unit} out of range; {self.name!r} has {n} units (0..{n - 1})")
        return unit

    def rows(self, unit: int):
        """(W_i[u] (F,), W_h[u] (H_out,), b_i[u], b_h[u]) in float64; biases None without bias."""
        row = self.index * self.tr.hidden_size + unit
        w_ih, w_hh, b_ih, b_hh = (
            None if p is None else p.detach()[row].double().numpy() for p in self.weights
        )
        as_float = lambda b: None if b is None else float(b)  # noqa: E731
        return w_ih, w_hh, as_float(b_ih), as_float(b_hh)

    def feature_names(self) -> list[str]:
        if self.layer == 0:
            return [f"x[{j}]" for j in range(self.x.shape[1])]
        if self.tr.num_directions == 1:
            return [f"below h[{j}]" for j in range(self.x.shape[1])]
        half = self.x.shape[1] // 2
        return [f"below {('fwd', 'bwd')[j // half]} h[{j % half}]" for j in range(2 * half)]

    def _layer_input(self) -> np.ndarray:
        tr, b = self.tr, self.batch
        if self.layer == 0:
            if tr.inputs is None:
                raise ValueError(
                    "this trace does not hold the input it read (saved by an older lstm_viz); "
                    "trace the module again with lstm_viz.trace"
                )
            return tr.inputs[b].astype(np.float64)
        below = tr.states["hidden"][self.layer - 1, :, b]  # (D, T, H_out)
        return np.concatenate(list(below), axis=-1).astype(np.float64)

    def _h_prev(self) -> np.ndarray:
        """h_{t-1} for every step t, in original time: the step read just before t."""
        tr, b = self.tr, self.batch
        h = tr.states["hidden"][self.layer, self.direction, b].astype(np.float64)  # (T, H_out)
        h0 = np.zeros(h.shape[1])
        if tr.initial_state is not None:
            start = tr.initial_state[0] if tr.kind == "lstm" else tr.initial_state  # (L*D[, B], H)
            k = self.layer * tr.num_directions + self.direction
            h0 = (start[k, b] if tr.batched else start[k]).astype(np.float64)
        if self.direction:  # the reverse pass reads step t + 1 before step t
            return np.concatenate([h[1:], h0[None]])
        return np.concatenate([h0[None], h[:-1]])

    def check_agrees(self, value, traced, clamped, scale) -> None:
        """The formula must give the traced value wherever no clamp set it; a gap far beyond
        rounding means another module (or changed weights) than the one traced."""
        # generous next to float rounding (1e-7 / 1e-16 per term), tiny next to a wrong weight
        rel = 1e-9 if self.float64 else 1e-4
        gap = np.abs(value - traced) - rel * (1.0 + scale)
        bad = np.flatnonzero((gap > 0) & ~clamped)
        if bad.size:
            k = int(bad[0])
            raise ValueError(
                f"the terms give {float(value[k]):.6g} but the trace has {float(traced[k]):.6g} "
                f"for {self.name!r}; pass the module the trace was made with, unchanged"
            )
