"""Memory analysis: retention, saturation, unit search and saliency, against direct computation."""

import numpy as np
import pytest
import torch

import lstm_viz
from lstm_viz import Clamp
from lstm_viz.models import ModelConfig, SequenceModel
from lstm_viz.tasks import chars, cue


@pytest.fixture
def net():
    torch.manual_seed(0)
    return torch.nn.LSTM(3, 6, num_layers=2, bidirectional=True).eval()


def test_retention_is_the_product_of_later_forget_gates(net):
    tr = lstm_viz.trace(net, torch.randn(30, 3))
    f = tr.gate("forget", layer=1)
    kept = lstm_viz.retention(tr, layer=1, step=20).kept
    assert kept.shape == (21, 6)
    for s in (0, 7, 19, 20):
        np.testing.assert_allclose(kept[s], np.prod(f[s + 1 : 21], axis=0), rtol=1e-6)
    back = lstm_viz.retention(tr, layer=1, step=20, direction=1).kept
    fb = tr.gate("forget", layer=1, direction=1)
    assert back.shape == (10, 6)
    np.testing.assert_allclose(back[3], np.prod(fb[20:23], axis=0), rtol=1e-6)


def test_retention_under_clamped_forget_gates(net):
    x = torch.randn(30, 3)
    held = lstm_viz.trace(net, x, interventions=[Clamp("forget", 1.0)])
    assert (lstm_viz.retention(held, 0, 29).kept == 1).all()
    wiped = lstm_viz.trace(net, x, interventions=[Clamp("forget", 0.0, steps=[15])])
    kept = lstm_viz.retention(wiped, 0, 29).kept
    assert (kept[:15] == 0).all() and (kept[15:] > 0).all()


def test_gru_retention_is_the_product_of_later_update_gates():
    torch.manual_seed(5)
    gru = torch.nn.GRU(2, 4, bidirectional=True).eval()
    x = torch.randn(12, 2)
    tr = lstm_viz.trace(gru, x)
    # the gates by hand from the weights (PyTorch's equations), not from the trace
    w = {k: v.detach().double().numpy() for k, v in gru.named_parameters()}
    h, z_hand, n_hand = np.zeros(4), [], []
    for t in range(12):
        xr, xz, xn = np.split(w["weight_ih_l0"] @ x[t].double().numpy() + w["bias_ih_l0"], 3)
        hr, hz, hn = np.split(w["weight_hh_l0"] @ h + w["bias_hh_l0"], 3)
        r, z = 1 / (1 + np.exp(-(xr + hr))), 1 / (1 + np.exp(-(xz + hz)))
        n = np.tanh(xn + r * hn)
        h = (1 - z) * n + z * h
        z_hand.append(z)
        n_hand.append(n)
    z_hand, n_hand = np.array(z_hand), np.array(n_hand)  # (T, H)
    ret = lstm_viz.retention(tr, layer=0, step=9)
    assert ret.gate == "update" and ret.first == 0 and ret.kept.shape == (10, 4)
    for s in range(10):
        np.testing.assert_allclose(ret.kept[s], np.prod(z_hand[s + 1 : 10], axis=0), rtol=1e-5)
        np.testing.assert_allclose(ret.written[s], (1 - z_hand[s]) * n_hand[s], atol=1e-6)
    back = lstm_viz.retention(tr, layer=0, step=4, direction=1)
    zb = tr.gate("update", direction=1)
    assert back.first == 4 and back.kept.shape == (8, 4)
    np.testing.assert_allclose(back.kept[3], np.prod(zb[4:7], axis=0), rtol=1e-6)  # s = 7
    np.testing.assert_allclose(back.written[3], (1 - zb[7]) * tr.gate("new", direction=1)[7])


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("direction", [0, 1])
def test_retention_adds_up_to_the_state(kind, direction):
    """sum over s of kept[s] * written[s] is the cell (LSTM) / hidden (GRU) at the step."""
    torch.manual_seed(3)
    core = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind](2, 5, bidirectional=True).double()
    tr = lstm_viz.trace(core, torch.randn(30, 2, dtype=torch.float64))
    state = "cell" if kind == "lstm" else "hidden"
    for step in (0, 7, 29):
        ret = lstm_viz.retention(tr, 0, step, direction)
        assert ret.gate == ("forget" if kind == "lstm" else "update")
        assert ret.first == (0 if direction == 0 else step)
        total = (ret.kept * ret.written).sum(axis=0)
        np.testing.assert_allclose(total, tr.gate(state, 0, direction)[step], atol=1e-12)


def test_retention_reads_one_sequence_of_a_batch_and_refuses_a_plain_rnn():
    torch.manual_seed(0)
    gru = torch.nn.GRU(3, 4).eval()
    xs = torch.randn(15, 2, 3)  # (T, B, F): a batch of two
    batch = lstm_viz.trace(gru, xs)
    one = lstm_viz.trace(gru, xs[:, 1])
    got, want = lstm_viz.retention(batch, 0, 10, batch=1), lstm_viz.retention(one, 0, 10)
    np.testing.assert_allclose(got.kept, want.kept, rtol=1e-5)
    np.testing.assert_allclose(got.written, want.written, atol=1e-6)
    rnn_tr = lstm_viz.trace(torch.nn.RNN(3, 4), torch.randn(5, 3))
    with pytest.raises(ValueError, match="plain RNN has no gate"):
        lstm_viz.retention(rnn_tr, 0, 2)


def test_saturation_counts_steps_beyond_the_thresholds(net):
    x = torch.randn(40, 3)
    tr = lstm_viz.trace(net, x, interventions=[Clamp("output", 0.95, units=[2], steps=range(10))])
    low, high = lstm_viz.saturation(tr, "output", layer=0)
    o = tr.gate("output")
    np.testing.assert_allclose(high, (o > 0.9).mean(axis=0))
    np.testing.assert_allclose(low, (o < 0.1).mean(axis=0))
    assert high[2] >= 10 / 40
    with pytest.raises(ValueError, match="sigmoid"):
        lstm_viz.saturation(tr, "cell")


def test_unit_search_finds_the_unit_that_is_the_signal(net):
    tr = lstm_viz.trace(net, torch.randn(50, 3))
    signal = tr.gate("cell", layer=1)[:, 4] * 3 + 1  # an affine copy of unit 4: r = 1
    ranked = lstm_viz.unit_search(tr, signal, name="cell", layer=1)
    assert ranked[0][0] == 4 and ranked[0][1] == pytest.approx(1.0)
    assert [abs(r) for _, r in ranked] == sorted((abs(r) for _, r in ranked), reverse=True)
    with pytest.raises(ValueError, match="vary"):
        lstm_viz.unit_search(tr, np.ones(50))
    with pytest.raises(ValueError, match="one value per step"):
        lstm_viz.unit_search(tr, np.arange(10))


def test_saliency_equals_autograd_and_respects_causality():
    torch.manual_seed(0)
    model = SequenceModel(ModelConfig(core="lstm", input_size=2, hidden_size=8, output_size=1))
    x = torch.randn(25, 2)
    sal = lstm_viz.saliency(model, x, step=15)
    assert sal.shape == (25,)
    assert (sal[16:] == 0).all() and (sal[:16] > 0).all()  # the future cannot matter
    core_in = model.encode(x).detach().requires_grad_(True)
    out = model.head(model.core(core_in)[0])
    out[0, 15, 0].backward()
    np.testing.assert_allclose(sal, core_in.grad[0].norm(dim=1).numpy(), rtol=1e-5)
    assert not any(model.core._forward_pre_hooks.values())  # the hook was removed


@pytest.mark.parametrize("core", ["lstm", "gru", "rnn_tanh"])
def test_saliency_works_through_an_embedding_for_every_core(core):
    torch.manual_seed(0)
    model = SequenceModel(ModelConfig(core=core, vocab=list("abcd"), hidden_size=8, output_size=4))
    ids = torch.tensor([0, 1, 2, 3, 0, 1, 2, 3])
    sal = lstm_viz.saliency(model, ids, step=6, select=lambda y: y[2])
    assert sal.shape == (8,) and (sal[7:] == 0).all() and sal[6] > 0


def test_saliency_on_a_bare_module():
    torch.manual_seed(0)
    rnn = torch.nn.RNN(3, 4)
    sal = lstm_viz.saliency(rnn, torch.randn(10, 3), step=9)
    assert sal.shape == (10,) and sal[9] > 0
    with pytest.raises(ValueError, match="no nn.LSTM"):
        lstm_viz.saliency(torch.nn.Linear(3, 3), torch.randn(10, 3), step=1)


# ---- unit search against chance (issue 15) ----------------------------------------------------


def test_unit_null_is_the_best_r_of_the_shifted_signal(net):
    tr = lstm_viz.trace(net, torch.randn(120, 3))
    signal = np.random.default_rng(1).normal(size=120)
    nb = lstm_viz.unit_null(tr, signal, names=("cell", "hidden"), layer=1, max_shifts=30)
    assert len(nb.shifts) == len(nb.maxima) == 30 and not nb.too_short and not nb.drifts
    for k in (0, 11, 29):  # reference: unit_search on np.roll's signal, best over both states
        rolled = np.roll(signal, nb.shifts[k])
        best = max(
            abs(lstm_viz.unit_search(tr, rolled, n, layer=1)[0][1]) for n in ("cell", "hidden")
        )
        assert nb.maxima[k] == pytest.approx(best, abs=1e-12)
    assert nb.band == pytest.approx(np.quantile(nb.maxima, 0.95))
    with pytest.raises(ValueError, match="quantile"):
        lstm_viz.unit_null(tr, signal, quantile=1.5)
    with pytest.raises(ValueError, match="one value per step"):
        lstm_viz.unit_null(tr, signal[:10])


def test_unit_null_excludes_shifts_that_repeat_a_periodic_signal(net):
    tr = lstm_viz.trace(net, torch.randn(100, 3))
    signal = np.sin(2 * np.pi * np.arange(100) / 10)  # period 10: a shift of 10 is the signal
    nb = lstm_viz.unit_null(tr, signal, max_shifts=1000)  # and a shift of 5 its negative
    assert not set(nb.shifts) & {1, 5, 10, 15, 50, 90} and {2, 3, 7, 8} <= set(nb.shifts)
    assert nb.usable == 40 == len(nb.shifts)


def _chars_trace():
    model = lstm_viz.load_shipped("chars_lstm")
    text = chars.heldout_text()
    return model.trace(chars.encode_text(text))[0], text


def test_a_real_signal_beats_the_null_and_random_ones_mostly_do_not():
    tr, text = _chars_trace()
    quotes = chars.inside_quotes(text)
    nb = lstm_viz.unit_null(tr, quotes)
    best = max(abs(lstm_viz.unit_search(tr, quotes, n)[0][1]) for n in ("cell", "hidden"))
    assert not nb.too_short and not nb.drifts and tr.steps == 2000
    assert best > 0.9 > 0.4 > nb.band  # measured: 0.93 against a band of 0.26
    rng = np.random.default_rng(0)
    over = []
    for _ in range(20):  # random signals: above their 95% band about 1 time in 20
        signal = rng.normal(size=tr.steps)
        band = lstm_viz.unit_null(tr, signal).band
        over.append(
            max(abs(lstm_viz.unit_search(tr, signal, n)[0][1]) for n in ("cell", "hidden")) > band
        )
        assert band < 0.15
    assert sum(over) <= 4


def test_a_drifting_signal_on_a_short_input_is_flagged():
    model = lstm_viz.load_shipped("cue_lstm")
    for k, short in ((0, True), (2, False)):  # the 15-step Martha sentence; a gap-100 sentence
        ex = cue.examples()[k]
        tr, _ = model.trace(ex.x, labels=list(ex.labels))
        since = np.maximum(np.arange(tr.steps) - cue.cue_step(list(ex.labels)), 0.0)
        nb = lstm_viz.unit_null(tr, since)
        assert nb.drifts and nb.time_r > 0.99  # position since the cue is time passing here
        assert nb.too_short is short and bool(np.isnan(nb.band)) is short
        if short:  # three units score |r| > 0.98: any drifting unit does
            r = [abs(r) for n in ("cell", "hidden") for _, r in lstm_viz.unit_search(tr, since, n)]
            assert tr.steps == 15 and nb.usable < 20 and sum(v > 0.98 for v in r) >= 3
