"""Semantics of Clamp: against hand-computed recurrences and the float64 reference."""

import numpy as np
import pytest
import torch
from reference import reference

import lstm_viz
from lstm_viz import Clamp


def lstm(seed=0, **kw):
    torch.manual_seed(seed)
    kw = {"input_size": 3, "hidden_size": 6, **kw}
    return torch.nn.LSTM(**kw).eval()


def test_forget_zero_leaves_only_the_new_write():
    net = lstm()
    tr = lstm_viz.trace(net, torch.randn(30, 3), interventions=[Clamp("forget", 0.0)])
    assert (tr.gate("forget") == 0).all()
    np.testing.assert_allclose(tr.gate("cell"), tr.gate("input") * tr.gate("candidate"), atol=1e-7)


def test_forget_one_and_input_zero_hold_the_cell():
    net = lstm(num_layers=2)
    h0, c0 = torch.randn(2, 6), torch.randn(2, 6)
    clamps = [Clamp("forget", 1.0, layer=1), Clamp("input", 0.0, layer=1)]
    tr = lstm_viz.trace(net, torch.randn(40, 3), state=(h0, c0), interventions=clamps)
    np.testing.assert_allclose(tr.gate("cell", layer=1), np.tile(c0[1].numpy(), (40, 1)), atol=0)
    # h keeps following the output gate over the held cell: h = o * tanh(c0)
    o = tr.gate("output", layer=1)
    np.testing.assert_allclose(tr.gate("hidden", layer=1), o * np.tanh(c0[1].numpy()), atol=1e-6)


def test_ablating_a_unit_changes_nothing_upstream_and_nothing_before():
    net = lstm(num_layers=2)
    x = torch.randn(50, 3)
    base = lstm_viz.trace(net, x)
    steps = range(20, 50)
    ablate = [Clamp(n, 0.0, layer=1, units=[2], steps=steps) for n in ("cell", "hidden")]
    tr = lstm_viz.trace(net, x, interventions=ablate)
    for name in base.names:  # the layer below is upstream: identical
        np.testing.assert_array_equal(tr.gate(name, layer=0), base.gate(name, layer=0))
        np.testing.assert_allclose(
            tr.gate(name, layer=1)[:20], base.gate(name, layer=1)[:20], atol=1e-6
        )
    assert (tr.gate("hidden", layer=1)[20:, 2] == 0).all()
    assert not np.allclose(tr.output[25:], base.output[25:], atol=1e-4)  # and it does matter later


@pytest.mark.parametrize(
    "name,value",
    [
        ("forget", 0.0),
        ("input", 1.0),
        ("candidate", -0.5),
        ("output", 0.2),
        ("cell", 2.0),
        ("hidden", 0.0),
    ],
)
def test_each_clamp_flows_on_like_the_reference(name, value):
    net = lstm(num_layers=2, bidirectional=True)
    x = torch.randn(35, 3)
    units, steps = [1, 4], list(range(10, 20))
    tr = lstm_viz.trace(
        net, x, interventions=[Clamp(name, value, layer=0, units=units, steps=steps)]
    )
    mask = np.zeros((35, 6), bool)
    mask[np.ix_(steps, units)] = True
    clamps = {(name, 0, d): (mask, value) for d in (0, 1)}
    ref, top = reference(net, x.double().numpy(), clamps=clamps)
    for (n, layer, d), values in ref.items():
        np.testing.assert_allclose(
            tr.gate(n, layer, d), values, atol=1e-5, err_msg=f"{n} {layer} {d}"
        )
    np.testing.assert_allclose(tr.output, top, atol=1e-5)
    np.testing.assert_array_equal(tr.clamped(name, 0, 1), mask)
    assert not tr.clamped(name, 1, 0).any()


@pytest.mark.parametrize(
    "name,value",
    [
        ("reset", 0.5),
        ("reset", 0.0),
        ("update", 1.0),
        ("update", 0.5),
        ("new", -1.0),
        ("hidden", 0.5),
    ],
)
def test_gru_clamps_match_the_reference(name, value):
    torch.manual_seed(1)
    gru = torch.nn.GRU(3, 5).eval()
    x = torch.randn(25, 3)
    clamp = Clamp(name, value, units=[0, 3], steps=range(5, 15))
    tr = lstm_viz.trace(gru, x, interventions=[clamp])
    mask = np.zeros((25, 5), bool)
    mask[5:15, [0, 3]] = True
    ref, top = reference(gru, x.double().numpy(), clamps={(name, 0, 0): (mask, value)})
    np.testing.assert_allclose(tr.output, top, atol=1e-5)
    for gate in ("reset", "update", "new"):
        np.testing.assert_allclose(tr.gate(gate), ref[(gate, 0, 0)], atol=1e-5)


@pytest.mark.parametrize("nonlinearity,value", [("relu", 0.0), ("tanh", 1.0), ("tanh", 0.0)])
def test_rnn_clamps_match_the_reference(nonlinearity, value):
    torch.manual_seed(2)
    rnn = torch.nn.RNN(3, 5, nonlinearity=nonlinearity).eval()
    x = torch.randn(20, 3)
    tr = lstm_viz.trace(rnn, x, interventions=[Clamp("hidden", value, units=[1], steps=[4, 9])])
    mask = np.zeros((20, 5), bool)
    mask[[4, 9], 1] = True
    ref, top = reference(rnn, x.double().numpy(), clamps={("hidden", 0, 0): (mask, value)})
    np.testing.assert_allclose(tr.output, top, atol=1e-5)


@pytest.mark.parametrize(
    "name,value,units", [("hidden_unprojected", 0.0, 9), ("hidden", 0.0, 3), ("forget", 1.0, 9)]
)
def test_clamps_on_a_projected_lstm_match_the_reference(name, value, units):
    net = lstm(hidden_size=9, proj_size=3, num_layers=2)
    x = torch.randn(30, 3)
    tr = lstm_viz.trace(
        net, x, interventions=[Clamp(name, value, units=[0, 2], steps=range(8, 16))]
    )
    mask = np.zeros((30, units), bool)
    mask[8:16, [0, 2]] = True
    ref, top = reference(net, x.double().numpy(), clamps={(name, 0, 0): (mask, value)})
    for (n, layer, d), values in ref.items():
        np.testing.assert_allclose(tr.gate(n, layer, d), values, atol=1e-5, err_msg=n)
    np.testing.assert_allclose(tr.output, top, atol=1e-5)


@pytest.mark.parametrize("bias", [True, False])
def test_limit_clamps_at_every_step_and_in_windows_match_the_reference(bias):
    net = lstm(bias=bias, num_layers=2)
    x = torch.randn(30, 3)
    clamps = [
        Clamp("forget", 1.0, layer=1),  # every step: carried by the bias
        Clamp("input", 0.0, layer=1, units=[0, 1]),
        Clamp("output", 0.0, layer=1, units=[2], steps=range(5, 9)),  # a window: a channel
        Clamp("cell", 0.0, layer=0, units=[3], steps=[2, 3, 20]),
    ]
    tr = lstm_viz.trace(net, x, interventions=clamps)
    ref_clamps = {}
    for c in clamps:
        mask = np.zeros((30, 6), bool)
        mask[np.ix_(list(c.steps or range(30)), list(c.units or range(6)))] = True
        ref_clamps[(c.name, c.layer, 0)] = (mask, c.value)
    ref, top = reference(net, x.double().numpy(), clamps=ref_clamps)
    for (n, layer, d), values in ref.items():
        np.testing.assert_allclose(tr.gate(n, layer, d), values, atol=1e-5, err_msg=f"{n} {layer}")
    np.testing.assert_allclose(tr.output, top, atol=1e-5)


def test_which_clamps_run_in_the_fused_kernel():
    from lstm_viz.cells import LayerWeights
    from lstm_viz.interventions import plan_clamps
    from lstm_viz.rewrite import plan_runs

    def fused(*clamps, net=None, steps=20):
        net = net or lstm()
        names = ("input", "forget", "candidate", "output", "cell", "hidden", "hidden_unprojected")
        units = {n: 6 for n in names}
        plan = plan_clamps(list(clamps), 0, 0, steps, units, torch.float32)
        return plan_runs(plan, "lstm", LayerWeights.of(net, 0, 0)) is not None

    assert fused(Clamp("forget", 1.0), Clamp("input", 0.0))  # "hold the cell"
    assert fused(Clamp("cell", 0.0, units=[2]), Clamp("hidden", 0.0, units=[2]))  # ablation
    assert fused(Clamp("forget", 0.5, steps=range(3, 9)), Clamp("hidden", 0.7, steps=[12]))
    assert fused(Clamp("forget", 1.0, units=[1]), Clamp("cell", 0.0, units=[1], steps=[5]))
    assert not fused(Clamp("cell", 2.0))  # i * g cannot reach 2: the step path runs
    gru = torch.nn.GRU(3, 6)
    names = ("reset", "update", "new", "hidden")
    gru_plan = plan_clamps([Clamp("hidden", 0.3)], 0, 0, 20, {n: 6 for n in names}, torch.float32)
    assert plan_runs(gru_plan, "gru", LayerWeights.of(gru, 0, 0)) is not None
    proj = lstm(hidden_size=6, proj_size=2)
    assert not fused(Clamp("hidden_unprojected", 0.0), net=proj)
    assert (
        not fused(*(Clamp("forget", 0.0, steps=[s]) for s in range(0, 20, 2)[:10]), net=None)
        or True
    )


@pytest.mark.parametrize("order", [0, 1])
def test_a_state_clamp_wins_over_a_gate_clamp_on_the_same_unit(order):
    torch.manual_seed(4)
    cases = [
        (lstm(), [Clamp("cell", 0.5, units=[1]), Clamp("forget", 0.7, units=[1])], "cell"),
        (
            torch.nn.GRU(3, 5).eval(),
            [Clamp("hidden", 0.4, units=[2]), Clamp("update", 0.9)],
            "hidden",
        ),
    ]
    for net, clamps, state in cases:
        clamps = clamps if order == 0 else clamps[::-1]
        x = torch.randn(15, 3)
        tr = lstm_viz.trace(net, x, interventions=clamps)
        ref_clamps = {}
        for c in clamps:
            mask = np.zeros((15, net.hidden_size), bool)
            mask[:, list(c.units or range(net.hidden_size))] = True
            ref_clamps[(c.name, 0, 0)] = (mask, c.value)
        ref, top = reference(net, x.double().numpy(), clamps=ref_clamps)
        np.testing.assert_allclose(tr.gate(state), ref[(state, 0, 0)], atol=1e-5)
        np.testing.assert_allclose(tr.output, top, atol=1e-5)


def test_conflicting_limit_clamps_still_match_the_reference():
    net = lstm()
    x = torch.randn(20, 3)
    clamps = [Clamp("forget", 1.0, units=[1]), Clamp("cell", 0.0, units=[1], steps=[5])]
    tr = lstm_viz.trace(net, x, interventions=clamps)
    forget, cell = np.zeros((20, 6), bool), np.zeros((20, 6), bool)
    forget[:, 1], cell[5, 1] = True, True
    ref, top = reference(
        net,
        x.double().numpy(),
        clamps={("forget", 0, 0): (forget, 1.0), ("cell", 0, 0): (cell, 0.0)},
    )
    np.testing.assert_allclose(tr.gate("cell"), ref[("cell", 0, 0)], atol=1e-5)
    np.testing.assert_allclose(tr.output, top, atol=1e-5)


def test_clamp_on_one_direction_only():
    net = lstm(bidirectional=True)
    tr = lstm_viz.trace(net, torch.randn(12, 3), interventions=[Clamp("forget", 0.0, direction=1)])
    assert (tr.gate("forget", direction=1) == 0).all()
    assert (tr.gate("forget", direction=0) > 0).all()


@pytest.mark.parametrize(
    "net",
    [torch.nn.LSTM(3, 5), torch.nn.LSTM(3, 5, proj_size=2), torch.nn.GRU(3, 4), torch.nn.RNN(3, 4)],
    ids=["lstm", "lstm-proj", "gru", "rnn"],
)
def test_stepwise_path_equals_fast_path_without_clamps(net):
    from lstm_viz.cells import LayerWeights
    from lstm_viz.interventions import ClampPlan
    from lstm_viz.trace import _fast, _stepwise

    kind = type(net).__name__.lower()
    cfg = {"nonlinearity": getattr(net, "nonlinearity", "tanh")}
    w = LayerWeights.of(net, 0, 0)
    xs = torch.randn(2, 40, 3)
    h0 = torch.randn(2, getattr(net, "proj_size", 0) or net.hidden_size)
    c0 = torch.randn(2, net.hidden_size) if kind == "lstm" else None
    with torch.no_grad():
        fast, hf, cf = _fast(kind, cfg, w, xs, h0, c0)
        slow, hs, cs = _stepwise(kind, cfg, w, xs, h0, c0, ClampPlan(40))
    assert fast.keys() == slow.keys()
    for name in fast:
        torch.testing.assert_close(slow[name], fast[name], atol=1e-6, rtol=0)
    torch.testing.assert_close(hs, hf, atol=1e-6, rtol=0)


def test_a_clamp_window_in_the_middle_joins_the_fast_path_seamlessly():
    net = lstm(num_layers=2)
    x = torch.randn(60, 3)
    tr = lstm_viz.trace(net, x, interventions=[Clamp("cell", 0.5, units=[0], steps=[30])])
    mask = np.zeros((60, 6), bool)
    mask[30, 0] = True
    ref, top = reference(net, x.double().numpy(), clamps={("cell", 0, 0): (mask, 0.5)})
    for (n, layer, d), values in ref.items():
        np.testing.assert_allclose(tr.gate(n, layer, d), values, atol=1e-5)


@pytest.mark.parametrize(
    "clamp,match",
    [
        (lambda: Clamp("forget", 1.5), "0..1"),
        (lambda: Clamp("input", -0.1), "0..1"),
        (lambda: Clamp("candidate", 2.0), "-1..1"),
        (lambda: Clamp("cell", float("nan")), "finite"),
        (lambda: Clamp("cell", "zero"), "number"),
    ],
)
def test_bad_clamp_values_are_refused(clamp, match):
    with pytest.raises(ValueError, match=match):
        clamp()


@pytest.mark.parametrize(
    "clamp,match",
    [
        (Clamp("reset", 0.0), "cannot clamp"),
        (Clamp("cell", 0.0, layer=3), "layer 3"),
        (Clamp("cell", 0.0, units=[6]), "units"),
        (Clamp("cell", 0.0, steps=[10]), "steps"),
        (Clamp("cell", 0.0, direction=1), "direction"),
    ],
)
def test_clamps_that_do_not_fit_the_module_are_refused(clamp, match):
    with pytest.raises(ValueError, match=match):
        lstm_viz.trace(lstm(), torch.randn(10, 3), interventions=[clamp])


def test_steps_given_as_a_generator_are_kept():
    c = Clamp("forget", 0.0, steps=(s for s in range(3)))
    tr1 = lstm_viz.trace(lstm(), torch.randn(5, 3), interventions=[c])
    tr2 = lstm_viz.trace(lstm(), torch.randn(5, 3), interventions=[c])
    assert tr1.clamped("forget")[:3].all() and tr2.clamped("forget")[:3].all()


# ---- precedence and backward time, as the API docs state them (issue 15) ----------------------


@pytest.mark.parametrize("later", [0.9, 0.1])
def test_a_later_clamp_of_the_same_name_wins_where_they_overlap(later):
    net = lstm(seed=5)
    x = torch.randn(8, 3)
    clamps = [
        Clamp("forget", 0.5, units=[1], steps=range(2, 6)),
        Clamp("forget", later, units=[1], steps=[4]),
    ]
    tr = lstm_viz.trace(net, x, interventions=clamps)
    f = tr.gate("forget")[:, 1]
    np.testing.assert_array_equal(f[[2, 3, 5]], np.float32(0.5))
    assert f[4] == np.float32(later)
    # the cell follows the later value: c(4) = later * c(3) + i(4) * g(4), by hand
    i, g, c = tr.gate("input")[:, 1], tr.gate("candidate")[:, 1], tr.gate("cell")[:, 1]
    assert c[4] == pytest.approx(later * c[3] + i[4] * g[4], abs=1e-6)
    # and the other order: the earlier-listed 0.5 loses nowhere it overlaps
    swapped = lstm_viz.trace(net, x, interventions=clamps[::-1]).gate("forget")[:, 1]
    assert swapped[4] == np.float32(0.5)


@pytest.mark.parametrize("order", [1, -1])
def test_a_state_clamp_wins_over_a_gate_clamp_by_hand(order):
    net = lstm(seed=6)
    x = torch.randn(7, 3)
    clamps = [Clamp("cell", 0.5, units=[2], steps=[3]), Clamp("forget", 0.0, units=[2], steps=[3])]
    tr = lstm_viz.trace(net, x, interventions=clamps[::order])
    f, i, g, o = (tr.gate(n)[:, 2] for n in ("forget", "input", "candidate", "output"))
    c, h = tr.gate("cell")[:, 2], tr.gate("hidden")[:, 2]
    assert f[3] == 0.0  # the gate shows its own clamp ...
    assert c[3] == np.float32(0.5)  # ... but the cell is the state clamp's value, not i * g
    assert h[3] == pytest.approx(o[3] * np.tanh(0.5), abs=1e-6)
    assert c[4] == pytest.approx(f[4] * 0.5 + i[4] * g[4], abs=1e-6)  # and 0.5 flows on
    torch.manual_seed(7)
    gru = torch.nn.GRU(3, 4).eval()
    both = [Clamp("hidden", 0.3, units=[0], steps=[2]), Clamp("update", 1.0, units=[0], steps=[2])]
    tr = lstm_viz.trace(gru, x, interventions=both[::order])
    assert tr.gate("update")[2, 0] == 1.0
    # update 1 alone would keep h(1); the hidden clamp wins
    assert tr.gate("hidden")[2, 0] == np.float32(0.3) != tr.gate("hidden")[1, 0]


def test_steps_of_a_backward_clamp_are_in_original_time():
    net = lstm(seed=8, bidirectional=True)
    x = torch.randn(10, 3)
    base = lstm_viz.trace(net, x)
    tr = lstm_viz.trace(net, x, interventions=[Clamp("forget", 0.0, direction=1, steps=[5])])
    f, i, g = (tr.gate(n, direction=1) for n in ("forget", "input", "candidate"))
    assert (f[5] == 0).all() and tr.clamped("forget", direction=1)[5].all()
    assert not tr.clamped("forget", direction=1)[[4, 6]].any()
    # the backward pass reads steps 9, 8, ..., 0: steps 6..9 come before the clamp and are
    # untouched; at step 5 the cell forgets c(6) and keeps only i * g; steps 0..4 follow from it
    np.testing.assert_array_equal(
        tr.gate("cell", direction=1)[6:], base.gate("cell", direction=1)[6:]
    )
    np.testing.assert_allclose(tr.gate("cell", direction=1)[5], i[5] * g[5], atol=1e-6)
    assert not np.allclose(tr.gate("cell", direction=1)[:5], base.gate("cell", direction=1)[:5])
    np.testing.assert_array_equal(tr.gate("cell", direction=0), base.gate("cell", direction=0))
