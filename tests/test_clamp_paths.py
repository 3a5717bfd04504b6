"""Property test: every way the engine can run a clamp gives the float64 reference's numbers.

A trace with clamps takes one of two paths per layer and direction (lstm_viz/trace.py):
- weight edits (lstm_viz/rewrite.py): the clamps become edited weights and the module's own fused
  kernel runs them, run by run;
- step by step: when `rewrite.plan_runs` returns None (a cell beyond -1..1, a unit before the
  projection, ...), the clamped window runs one step at a time.
Hypothesis draws small LSTM / GRU / RNN modules (1-2 layers, one or two directions, with or without
bias, sometimes a projection, sometimes a batch and a start state) and random lists of clamps
(any name the core has, unit subsets, step ranges or lists, layers, one or both directions,
overlapping clamps on the same and on different names). Each draw is traced as the engine
chooses, traced again with weight edits turned off (forcing the step path), and compared, gate
by gate and with the final state, against tests/reference.py.
"""

from __future__ import annotations

import importlib
from dataclasses import replace
from unittest import mock

import numpy as np
import pytest
import torch
from hypothesis import event, given, settings
from hypothesis import strategies as st
from reference import reference

import lstm_viz
from lstm_viz import Clamp
from lstm_viz.cells import GRU_NAMES, LSTM_NAMES, RNN_NAMES, SIGMOID_NAMES, TANH_NAMES, UNPROJECTED

ENGINE = importlib.import_module("lstm_viz.trace")  # the module (lstm_viz.trace is the function)
TOL = dict(atol=2e-5, rtol=1e-4)  # float32 engine against float64 reference, a dozen steps
MAX_STEPS, MAX_HIDDEN, MAX_CLAMPS = 12, 4, 4  # small: each draw must take milliseconds


def _value(name: str):
    """Values a clamp of `name` may take, limits (the weight edits' special cases) drawn often."""
    if name in SIGMOID_NAMES:
        return st.sampled_from([0.0, 1.0, 0.5]) | st.floats(0, 1, width=32)
    if name in TANH_NAMES:
        return st.sampled_from([-1.0, 0.0, 1.0]) | st.floats(-1, 1, width=32)
    # cell / hidden: beyond -1..1 no weight edit can reach (the step path must run)
    return st.sampled_from([0.0, 1.0, -1.0]) | st.floats(-3, 3, width=32)


@st.composite
def cases(draw, core: str):
    kind = core + ("_" + draw(st.sampled_from(["tanh", "relu"])) if core == "rnn" else "")
    hidden = draw(st.integers(1, MAX_HIDDEN))
    cfg = dict(
        input_size=draw(st.integers(1, 3)),
        hidden_size=hidden,
        num_layers=draw(st.integers(1, 2)),
        bidirectional=draw(st.booleans()),
        bias=draw(st.booleans()),
        batch_first=draw(st.booleans()),
    )
    if kind == "lstm" and hidden > 1 and draw(st.booleans()):
        cfg["proj_size"] = draw(st.integers(1, hidden - 1))
    steps = draw(st.integers(1, MAX_STEPS))
    batch = draw(st.sampled_from([None, 2]))  # None: one unbatched sequence
    names = {"lstm": LSTM_NAMES, "gru": GRU_NAMES}.get(kind, RNN_NAMES)
    names = list(names) + ([UNPROJECTED] if cfg.get("proj_size") else [])
    dirs = 2 if cfg["bidirectional"] else 1
    clamps = []
    for _ in range(draw(st.integers(1, MAX_CLAMPS))):
        name = draw(st.sampled_from(names))
        value = draw(_value(name))
        size = cfg.get("proj_size") or hidden if name == "hidden" else hidden
        if clamps and draw(st.booleans()):
            # the same place as an earlier clamp, another name or value: which one wins there
            # (a state over a gate, a later clamp over an earlier) is what a weight edit can miss
            like = draw(st.sampled_from(clamps))
            fits = like.units is None or max(like.units, default=0) < size
            clamps.append(replace(like, name=name, value=value, units=like.units if fits else None))
            continue
        # lists may repeat a unit or a step, or be empty (a clamp of nothing)
        units = draw(st.none() | st.lists(st.integers(0, size - 1), max_size=5))
        first = draw(st.integers(0, steps - 1))
        span = st.builds(range, st.just(first), st.integers(first, steps))
        picked = st.lists(st.integers(0, steps - 1), max_size=5)
        clamps.append(
            Clamp(
                name,
                value,
                layer=draw(st.integers(0, cfg["num_layers"] - 1)),
                units=units,
                steps=draw(st.none() | span | picked),
                direction=draw(st.none() | st.integers(0, dirs - 1)),
            )
        )
    cfg["dtype"] = draw(st.sampled_from([torch.float32, torch.float64]))
    return kind, cfg, steps, batch, draw(st.booleans()), draw(st.integers(0, 2**16)), clamps


def _module(kind: str, cfg: dict, seed: int) -> torch.nn.RNNBase:
    torch.manual_seed(seed)
    if kind == "lstm":
        return torch.nn.LSTM(**cfg).eval()
    if kind == "gru":
        return torch.nn.GRU(**cfg).eval()
    return torch.nn.RNN(nonlinearity=kind.split("_")[1], **cfg).eval()


def _reference_clamps(clamps, net, steps: int) -> dict:
    """(name, layer, direction) -> (mask (T, U), values (T, U)); a later clamp of the same name
    wins where they overlap, as `ClampPlan.add` makes it."""
    out = {}
    dirs = 2 if net.bidirectional else 1
    for c in clamps:
        size = (getattr(net, "proj_size", 0) or net.hidden_size) if c.name == "hidden" else None
        size = size or net.hidden_size
        rows = list(range(steps) if c.steps is None else c.steps)
        cols = list(range(size) if c.units is None else c.units)
        for d in range(dirs) if c.direction is None else [c.direction]:
            mask, values = out.setdefault(
                (c.name, c.layer, d), (np.zeros((steps, size), bool), np.zeros((steps, size)))
            )
            mask[np.ix_(rows, cols)] = True
            values[np.ix_(rows, cols)] = c.value
    return out


def _check(tr, ref: dict, top: np.ndarray, net, b: int | None, what: str) -> None:
    """Every traced value, the output and the final state of sequence b against the reference."""
    pick = (lambda a: a) if b is None else (lambda a: a[b])  # noqa: E731
    for (name, layer, d), values in ref.items():
        got = pick(tr.gate(name, layer, d))
        np.testing.assert_allclose(got, values, **TOL, err_msg=f"{what}: {name} {layer} {d}")
    out = tr.output if b is None else (tr.output[b] if net.batch_first else tr.output[:, b])
    np.testing.assert_allclose(out, top, **TOL, err_msg=f"{what}: output")
    dirs = 2 if net.bidirectional else 1
    finals = tr.final_state if isinstance(tr.final_state, tuple) else (tr.final_state,)
    for k in range(net.num_layers * dirs):
        layer, d = divmod(k, dirs)
        last = 0 if d else -1  # the reverse direction ends at the first step
        for final, name in zip(finals, ("hidden", "cell"), strict=False):
            want = ref[(name, layer, d)][last]
            got = final[k] if b is None else final[k, b]
            np.testing.assert_allclose(got, want, **TOL, err_msg=f"{what}: final {name} {k}")


@pytest.mark.parametrize("core", ["lstm", "gru", "rnn"])
@settings(max_examples=40, derandomize=True, deadline=None, database=None)
@given(data=st.data())
def test_weight_edits_step_path_and_reference_agree(core, data):
    kind, cfg, steps, batch, with_state, seed, clamps = data.draw(cases(core))
    net = _module(kind, cfg, seed)
    core_kind = kind.split("_")[0]
    gen = torch.Generator().manual_seed(seed)
    shape = (steps, cfg["input_size"]) if batch is None else (steps, batch, cfg["input_size"])
    x = torch.randn(shape, generator=gen, dtype=cfg["dtype"])
    if batch is not None and cfg["batch_first"]:
        x = x.transpose(0, 1).contiguous()
    dirs = 2 if cfg["bidirectional"] else 1
    h_units = cfg.get("proj_size") or cfg["hidden_size"]
    state = h0 = c0 = None
    if with_state:
        lead = (cfg["num_layers"] * dirs,) + (() if batch is None else (batch,))
        h0 = torch.randn(*lead, h_units, generator=gen, dtype=cfg["dtype"])
        c0 = torch.randn(*lead, cfg["hidden_size"], generator=gen, dtype=cfg["dtype"])
        state = (h0, c0) if core_kind == "lstm" else h0

    fused = []
    real_plan_runs = ENGINE.plan_runs

    def spy(*args):
        runs = real_plan_runs(*args)
        fused.append(runs is not None)
        return runs

    with mock.patch.object(ENGINE, "plan_runs", spy):
        auto = lstm_viz.trace(net, x, state=state, interventions=clamps)
    with mock.patch.object(ENGINE, "plan_runs", lambda *args: None):
        stepped = lstm_viz.trace(net, x, state=state, interventions=clamps)
    event(f"{core_kind}: " + ("weight edits" if all(fused) else "some step path"))

    # the two engine paths agree with each other at float32 precision ...
    for name in auto.names:
        for layer in range(cfg["num_layers"]):
            for d in range(dirs):
                np.testing.assert_allclose(
                    auto.gate(name, layer, d), stepped.gate(name, layer, d), atol=1e-5, rtol=1e-5
                )
                np.testing.assert_array_equal(
                    auto.clamped(name, layer, d), stepped.clamped(name, layer, d)
                )
    # ... and both with the float64 reference, for every sequence of the batch
    ref_clamps = _reference_clamps(clamps, net, steps)
    for b in [None] if batch is None else range(batch):
        seq = x if b is None else (x[b] if cfg["batch_first"] else x[:, b])
        h = None if h0 is None else (h0 if b is None else h0[:, b]).double().numpy()
        c = None if c0 is None else (c0 if b is None else c0[:, b]).double().numpy()
        ref, top = reference(net, seq.double().numpy(), h0=h, c0=c, clamps=ref_clamps)
        _check(auto, ref, top, net, b, "engine's choice")
        _check(stepped, ref, top, net, b, "step path")
    for (name, layer, d), (mask, _) in ref_clamps.items():
        np.testing.assert_array_equal(auto.clamped(name, layer, d), mask)  # (T, U), any batch
