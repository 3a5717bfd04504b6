"""`trace_model` against models taken apart by hand: the same gates as tracing each core alone on
what it received, the model's own output, and clamps that reach the rest of the model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

import lstm_viz
from lstm_viz import Clamp


@pytest.fixture(autouse=True)
def seeded():
    torch.manual_seed(0)  # each test its own weights, whatever ran before it


def same_trace(a: lstm_viz.LSTMTrace, b: lstm_viz.LSTMTrace) -> None:
    assert a.kind == b.kind and a.names == b.names
    for name in a.names:
        np.testing.assert_allclose(a.states[name], b.states[name], rtol=0, atol=1e-6)
    np.testing.assert_allclose(a.output, b.output, rtol=0, atol=1e-6)
    pairs = (
        zip(a.final_state, b.final_state, strict=True)
        if a.kind == "lstm"
        else [(a.final_state, b.final_state)]
    )
    for x, y in pairs:
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-6)


class Tagger(nn.Module):
    """embedding -> (nested) LSTM -> head: the usual shape."""

    def __init__(self, bidirectional=False, batch_first=True, proj_size=0, layers=1):
        super().__init__()
        self.embed = nn.Embedding(11, 4)
        self.encoder = nn.Module()
        self.encoder.lstm = nn.LSTM(
            4,
            6,
            num_layers=layers,
            batch_first=batch_first,
            bidirectional=bidirectional,
            proj_size=proj_size,
        )
        width = (proj_size or 6) * (2 if bidirectional else 1)
        self.head = nn.Linear(width, 3)

    def forward(self, ids):
        out, _ = self.encoder.lstm(self.embed(ids))
        return self.head(out)


@pytest.mark.parametrize(
    "opts",
    [
        dict(),
        dict(bidirectional=True, layers=2),
        dict(batch_first=False),
        dict(proj_size=3, bidirectional=True),
    ],
    ids=["nested", "bidirectional-2-layers", "time-first", "projected"],
)
def test_nested_core_traced_as_alone(opts):
    model = Tagger(**opts).eval()
    ids = torch.randint(0, 11, (2, 9) if opts.get("batch_first", True) else (9, 2))
    out, traces = lstm_viz.trace_model(model, ids)
    assert list(traces) == ["encoder.lstm"]
    torch.testing.assert_close(out, model(ids), rtol=0, atol=0)  # the model's own output
    alone = lstm_viz.trace(model.encoder.lstm, model.embed(ids).detach())
    same_trace(traces["encoder.lstm"], alone)
    # and the core's own numbers, not just trace's: output and final state of nn.LSTM
    ref_out, (h_n, c_n) = model.encoder.lstm(model.embed(ids))
    np.testing.assert_allclose(traces["encoder.lstm"].output, ref_out.detach(), atol=1e-6)
    np.testing.assert_allclose(traces["encoder.lstm"].final_state[1], c_n.detach(), atol=1e-6)


class Seq2Seq(nn.Module):
    """An LSTM encoder whose final h starts a GRU decoder; a plain RNN reads the decoder."""

    def __init__(self):
        super().__init__()
        self.enc = nn.LSTM(3, 5, batch_first=True)
        self.dec = nn.GRU(2, 5, batch_first=True)
        self.post = nn.RNN(5, 4, batch_first=True)
        self.head = nn.Linear(4, 1)

    def forward(self, src, tgt):
        _, (h, _) = self.enc(src)
        out, _ = self.dec(tgt, h)
        out, _ = self.post(out)
        return self.head(out)


def test_several_cores_each_traced_from_what_it_received():
    model = Seq2Seq().eval()
    src, tgt = torch.randn(2, 7, 3), torch.randn(2, 4, 2)
    out, traces = lstm_viz.trace_model(model, src, tgt=tgt)  # kwargs reach forward
    assert set(traces) == {"enc", "dec", "post"}
    torch.testing.assert_close(out, model(src, tgt), rtol=0, atol=0)
    _, (h, _) = model.enc(src)
    dec_out, _ = model.dec(tgt, h)
    same_trace(traces["enc"], lstm_viz.trace(model.enc, src))
    same_trace(traces["dec"], lstm_viz.trace(model.dec, tgt, state=h.detach()))
    same_trace(traces["post"], lstm_viz.trace(model.post, dec_out.detach()))
    assert traces["dec"].kind == "gru" and traces["post"].kind == "rnn"


def test_clamp_flows_through_the_rest_of_the_model():
    model = Seq2Seq().eval()
    src, tgt = torch.randn(1, 7, 3), torch.randn(1, 4, 2)
    clamp = Clamp("forget", 0.0, units=[1, 3], steps=range(2, 6))
    plain, _ = lstm_viz.trace_model(model, src, tgt)
    out, traces = lstm_viz.trace_model(model, src, tgt, interventions={"enc": [clamp]})
    assert (out - plain).abs().max() > 1e-5  # the clamp reached the head (not float noise)
    # by hand: the clamped encoder's final h starts the decoder, and so on to the head
    enc = lstm_viz.trace(model.enc, src, interventions=[clamp])
    same_trace(traces["enc"], enc)
    h = torch.from_numpy(enc.final_state[0])
    with torch.no_grad():
        dec_out, _ = model.dec(tgt, h)
        post_out, _ = model.post(dec_out)
        torch.testing.assert_close(out, model.head(post_out), rtol=0, atol=1e-6)
    same_trace(traces["dec"], lstm_viz.trace(model.dec, tgt, state=h))
    assert traces["enc"].clamped("forget")[2:6, [1, 3]].all()


def test_head_sees_the_clamped_hidden_state():
    model = Tagger(bidirectional=True).eval()
    ids = torch.randint(0, 11, (1, 12))
    clamps = [Clamp("cell", 0.0, units=[0, 2]), Clamp("output", 1.0, direction=1, steps=[4])]
    out, traces = lstm_viz.trace_model(model, ids, interventions={"encoder.lstm": clamps})
    tr = traces["encoder.lstm"]
    with torch.no_grad():
        by_hand = model.head(torch.from_numpy(tr.output))
    torch.testing.assert_close(out, by_hand, rtol=0, atol=1e-6)
    assert np.all(tr.gate("cell", direction=0)[..., [0, 2]] == 0)
    assert (out - model(ids)).abs().max() > 1e-5


class Packed(nn.Module):
    def __init__(self, batch_first=True):
        super().__init__()
        self.lstm = nn.LSTM(3, 4, batch_first=batch_first, bidirectional=True, num_layers=2)
        self.head = nn.Linear(8, 1)

    def forward(self, x, lengths, state=None):
        packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed, state)
        out, _ = pad_packed_sequence(out, batch_first=True)
        return self.head(out)


@pytest.mark.parametrize("batch_first", [True, False])
def test_packed_sequences_traced_to_their_own_length(batch_first):
    model = Packed(batch_first).eval()
    lengths = [5, 3, 7]
    x = torch.randn(3, 7, 3)
    state = (torch.randn(4, 3, 4), torch.randn(4, 3, 4))
    out, traces = lstm_viz.trace_model(model, x, lengths, state)
    torch.testing.assert_close(out, model(x, lengths, state), rtol=0, atol=0)
    tr = traces["lstm"]
    assert tr.batched and tr.steps == 7
    outputs = tr.output if batch_first else tr.output.swapaxes(0, 1)  # (B, T, 2H)
    for k, n in enumerate(lengths):
        own = (state[0][:, k], state[1][:, k])
        alone = lstm_viz.trace(model.lstm, x[k, :n], state=own)
        for name in tr.names:
            got = tr.gate(name, layer=1, direction=1)[k]
            np.testing.assert_allclose(got[:n], alone.gate(name, 1, 1), atol=1e-6)
            assert np.isnan(got[n:]).all()  # past the end: no values, not zeros
        # the reverse direction starts at each sequence's own end, as nn.LSTM does on it alone
        ref_out, _ = model.lstm(x[k, :n], own)
        np.testing.assert_allclose(outputs[k, :n], ref_out.detach(), atol=1e-6)
        assert not outputs[k, n:].any()
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    _, (h_n, c_n) = model.lstm(packed, state)
    np.testing.assert_allclose(tr.final_state[0], h_n.detach(), atol=1e-6)
    np.testing.assert_allclose(tr.final_state[1], c_n.detach(), atol=1e-6)


def test_packed_with_a_clamp_reaches_the_head():
    model = Packed().eval()
    lengths = [2, 6, 4]  # unsorted: packing reorders them, the clamped output must not
    x = torch.randn(3, 6, 3)
    clamp = Clamp("forget", 0.0, layer=0, steps=range(1, 5))
    plain, _ = lstm_viz.trace_model(model, x, lengths)
    out, traces = lstm_viz.trace_model(model, x, lengths, interventions={"lstm": clamp})
    assert (out - plain).abs().max() > 1e-5
    for k, n in enumerate(lengths):
        # the short sequence is clamped only on the steps it has
        steps = [s for s in range(1, 5) if s < n]
        own = lstm_viz.trace(
            model.lstm, x[k, :n], interventions=[Clamp("forget", 0.0, layer=0, steps=steps)]
        )
        with torch.no_grad():
            by_hand = model.head(torch.from_numpy(own.output))
        torch.testing.assert_close(out[k, :n], by_hand, rtol=0, atol=1e-6)
        torch.testing.assert_close(out[k, n:], model.head.bias.expand(6 - n, 1), rtol=0, atol=0)
    assert traces["lstm"].clamped("forget")[1:5].all()


def test_unbatched_gru_with_a_given_state():
    gru = nn.GRU(3, 4, num_layers=2).eval()
    x, h0 = torch.randn(6, 3), torch.randn(2, 4)
    (out, h_n), traces = lstm_viz.trace_model(gru, x, h0)
    assert list(traces) == [""]  # the model is itself the core
    same_trace(traces[""], lstm_viz.trace(gru, x, state=h0))
    torch.testing.assert_close(out, gru(x, h0)[0], rtol=0, atol=0)


def test_hooks_removed_and_mode_restored_even_when_the_forward_fails():
    model = Seq2Seq().train()
    model.head.eval()  # a mixed state must come back as it was
    with pytest.raises(RuntimeError):
        lstm_viz.trace_model(model, torch.randn(1, 5, 3), torch.randn(1, 4, 7))  # bad width
    for m in (model.enc, model.dec, model.post):
        assert not m._forward_hooks and not m._forward_pre_hooks
    assert model.training and model.enc.training and not model.head.training


class Looped(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = nn.LSTM(2, 3, batch_first=True)

    def forward(self, x):
        out, state = self.cell(x[:, :1])
        return self.cell(x[:, 1:], state)[0]


def test_bad_calls_explain_the_fix():
    model = Seq2Seq()
    src, tgt = torch.randn(1, 5, 3), torch.randn(1, 4, 2)
    with pytest.raises(ValueError, match=r"no recurrent core named 'decoder'.*\['dec', 'enc'"):
        lstm_viz.trace_model(model, src, tgt, interventions={"decoder": [Clamp("reset", 0.0)]})
    with pytest.raises(ValueError, match="interventions per core name"):
        lstm_viz.trace_model(model, src, tgt, interventions=[Clamp("forget", 0.0)])
    with pytest.raises(ValueError, match="cannot clamp 'forget'.*reset"):
        lstm_viz.trace_model(model, src, tgt, interventions={"dec": [Clamp("forget", 0.0)]})
    with pytest.raises(ValueError, match="holds no nn.LSTM"):
        lstm_viz.trace_model(nn.Linear(2, 2), torch.randn(2))
    looped = Looped()
    with pytest.raises(ValueError, match="ran more than once"):
        lstm_viz.trace_model(looped, torch.randn(1, 4, 2))
    assert not looped.cell._forward_hooks
    assert model.enc._forward_hooks == {} and model.dec._forward_hooks == {}
