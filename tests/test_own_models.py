"""`lstm_viz.load_model` on PyTorch files: bare cores, whole models (core under any prefix, an
embedding before it, a Linear head after it) and lstm_viz checkpoints. Every loaded model is held
to the module it came from; what a state_dict cannot say is asked for, never guessed.
"""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import lstm_viz
from lstm_viz.models import ModelConfig, SequenceModel, save_checkpoint


def saved(state) -> bytes:
    buf = io.BytesIO()
    torch.save(state, buf)
    return buf.getvalue()


class Tagger(nn.Module):
    """The most common tutorial shape: embedding -> LSTM -> Linear per step."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(20, 5)
        self.encoder = nn.Module()
        self.encoder.lstm = nn.LSTM(5, 6, num_layers=2, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(12, 3)
        self.norm = nn.BatchNorm1d(3)  # int64 num_batches_tracked: ignored, said so

    def forward(self, ids):
        return self.fc(self.encoder.lstm(self.embed(ids))[0])


def test_relu_rnn_needs_its_nonlinearity_and_then_matches_the_module():
    """The issue's case: a ReLU RNN run as tanh showed wrong numbers with no warning."""
    torch.manual_seed(0)
    rnn = nn.RNN(1, 8, nonlinearity="relu")
    data = saved(rnn.state_dict())
    with pytest.raises(ValueError, match="nonlinearity='tanh' or nonlinearity='relu'") as err:
        lstm_viz.load_model(data)
    assert isinstance(err.value, lstm_viz.ChoiceNeeded)
    assert (err.value.keyword, err.value.choices) == ("nonlinearity", ["tanh", "relu"])
    model = lstm_viz.load_model(data, nonlinearity="relu")
    x = torch.randn(12, 1)
    tr, preds = model.trace(x)
    own, h_n = rnn(x)
    assert preds is None and model.core.nonlinearity == "relu"
    np.testing.assert_allclose(tr.gate("hidden"), own.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(tr.final_state, h_n.detach().numpy(), rtol=1e-5, atol=1e-6)
    # the tanh reading of the same weights is different: the question is not idle
    tanh = lstm_viz.load_model(data, nonlinearity="tanh").trace(x)[0].gate("hidden")
    assert np.abs(tanh - own.detach().numpy()).max() > 0.05
    with pytest.raises(ValueError, match="'tanh' or 'relu', got 'sigmoid'"):
        lstm_viz.load_model(data, nonlinearity="sigmoid")


def test_lstm_plus_linear_whole_model_under_a_prefix():
    torch.manual_seed(1)
    net = Tagger().eval()
    model = lstm_viz.load_model(saved(net.state_dict()))
    ids = torch.randint(0, 20, (2, 9))
    np.testing.assert_allclose(model(ids).detach(), net(ids).detach(), rtol=1e-5, atol=1e-6)
    tr, preds = model.trace(ids[1])
    np.testing.assert_allclose(preds, net(ids[1:2])[0].detach(), rtol=1e-5, atol=1e-6)
    assert model.core.bidirectional and model.core.num_layers == 2 and tr.num_layers == 2
    s = model.summary
    assert (s.vocab_size, s.input_size, s.hidden, s.output_size) == (20, 5, [6, 6], 3)
    assert s.bidirectional and s.parameters == sum(
        p.numel() for n, p in net.named_parameters() if not n.startswith("norm")
    )
    text = str(s)
    assert "core encoder.lstm: nn.LSTM" in text and "embedding embed: nn.Embedding(20, 5)" in text
    assert "head fc: nn.Linear(12, 3)" in text and "no activation in between" in text
    assert "left out: 5 key(s) not used: norm.weight, norm.bias, norm.running_mean" in text
    assert s.input_format() == "token ids 0..19, one per step"


@pytest.mark.parametrize("prefix", ["", "lstm.", "rnn.", "model.encoder.lstm."])
def test_core_found_under_any_prefix(prefix):
    torch.manual_seed(2)
    lstm = nn.LSTM(4, 5, proj_size=3)
    state = {prefix + k: v for k, v in lstm.state_dict().items()}
    model = lstm_viz.load_model(saved(state))
    x = torch.randn(7, 4)
    np.testing.assert_allclose(model(x)[0].detach(), lstm(x)[0].detach(), rtol=1e-5, atol=1e-6)
    assert model.head is None and model.summary.proj_size == 3
    assert model.summary.input_format() == "4 numbers per step, one step per line"
    with pytest.raises(ValueError, match=r"4 number\(s\) per step, got shape \(1, 7, 10\)"):
        model(torch.randn(7, 10))
    for bad in (torch.full((3, 4), float("nan")), torch.zeros(0, 4), [["a"] * 4]):
        with pytest.raises(ValueError, match="no NaN|must be numbers"):
            model(bad)


def test_several_cores_the_caller_picks_one():
    torch.manual_seed(3)
    enc, dec = nn.GRU(3, 4), nn.LSTM(4, 2)
    state = {**{f"enc.rnn.{k}": v for k, v in enc.state_dict().items()}}
    state |= {f"dec.rnn.{k}": v for k, v in dec.state_dict().items()}
    with pytest.raises(lstm_viz.ChoiceNeeded, match=r"2 recurrent cores \(dec.rnn, enc.rnn\)"):
        lstm_viz.load_model(saved(state))
    gru = lstm_viz.load_model(saved(state), core="enc.rnn")
    x = torch.randn(5, 3)
    np.testing.assert_allclose(gru(x)[0].detach(), enc(x)[0].detach(), rtol=1e-5, atol=1e-6)
    assert "4 key(s) not used: dec.rnn.weight_ih_l0" in str(gru.summary)
    with pytest.raises(ValueError, match="no core 'mid' .* choose one of dec.rnn, enc.rnn"):
        lstm_viz.load_model(saved(state), core="mid")


def test_a_deeper_head_is_left_out_and_said_so():
    """fc1 -> ? -> fc2: the activation between is not in the file, so no prediction is shown."""
    torch.manual_seed(4)
    state = {f"lstm.{k}": v for k, v in nn.LSTM(2, 6).state_dict().items()}
    state |= {f"fc1.{k}": v for k, v in nn.Linear(6, 4).state_dict().items()}
    state |= {f"fc2.{k}": v for k, v in nn.Linear(4, 1).state_dict().items()}
    model = lstm_viz.load_model(saved(state))
    assert model.head is None
    assert "head fc1 -> fc2: a head of several layers" in "\n".join(model.summary.left_out)
    one = lstm_viz.load_model(saved(state), head="fc1")  # the user may still ask for one layer
    assert one.head.out_features == 4


def test_two_candidate_heads_are_asked_about():
    state = {f"lstm.{k}": v for k, v in nn.LSTM(2, 6).state_dict().items()}
    state |= {f"a.{k}": v for k, v in nn.Linear(6, 4).state_dict().items()}
    state |= {f"b.{k}": v for k, v in nn.Linear(6, 1).state_dict().items()}
    with pytest.raises(lstm_viz.ChoiceNeeded, match="head=") as err:
        lstm_viz.load_model(saved(state))
    assert err.value.choices == ["a", "b", "none"]
    assert lstm_viz.load_model(saved(state), head="none").head is None
    assert lstm_viz.load_model(saved(state), head="b").summary.output_size == 1


def test_a_training_checkpoint_dict_is_opened():
    """torch.save({'epoch': ..., 'model_state_dict': ..., 'optimizer_state_dict': ...})."""
    torch.manual_seed(6)
    gru = nn.GRU(2, 3, batch_first=True)
    opt = torch.optim.SGD(gru.parameters(), lr=0.1)
    blob = {"epoch": 9, "model_state_dict": gru.state_dict(), "optimizer": opt.state_dict()}
    model = lstm_viz.load_model(saved(blob))
    x = torch.randn(1, 4, 2)
    np.testing.assert_allclose(model(x).detach(), gru(x)[0].detach(), rtol=1e-5, atol=1e-6)
    assert model.summary.recognised[0] == "the model's weights under 'model_state_dict'"
    with pytest.raises(ValueError, match=r"holds a dict \(epoch, optimizer\) that is not"):
        lstm_viz.load_model(saved({"epoch": 9, "optimizer": opt.state_dict()}))


def test_a_linear_before_the_core_is_named_as_left_out():
    """lstm_viz's own SequenceModel saved as a bare state_dict: encoder -> core -> head."""
    torch.manual_seed(7)
    seq = SequenceModel(ModelConfig(core="gru", input_size=2, hidden_size=5, output_size=3))
    model = lstm_viz.load_model(saved(seq.state_dict()))
    assert model.head.out_features == 3 and isinstance(model.core, nn.GRU)
    left = "\n".join(model.summary.left_out)
    assert "encoder: could be a Linear layer before the core; it is not run" in left


def test_checkpoint_records_its_core(tmp_path):
    torch.manual_seed(5)
    config = ModelConfig(core="rnn_relu", input_size=2, hidden_size=4, output_size=3)
    save_checkpoint(SequenceModel(config), tmp_path / "m.pt")
    model = lstm_viz.load_model(tmp_path / "m.pt")  # no nonlinearity question: it is recorded
    assert isinstance(model, SequenceModel) and model.core.nonlinearity == "relu"
    assert model.summary.core == "RNN (relu)" and model.summary.output_size == 3


@pytest.mark.parametrize(
    ("state", "pattern"),
    [
        ({"fc.weight": torch.zeros(2, 2)}, r"no recurrent core .*keys: fc.weight"),
        (
            {
                "lstm.weight_ih_l0": torch.zeros(1).expand(8, 10**8),
                "lstm.weight_hh_l0": torch.zeros(8, 2),
            },
            r"claims more values than the file stores",
        ),
        (
            {
                **{f"lstm.{k}": v for k, v in nn.LSTM(2, 3).state_dict().items()},
                "fc.weight": torch.full((1, 3), float("nan")),
                "fc.bias": torch.zeros(1),
            },
            r"NaN or inf",
        ),
        ([torch.zeros(2)], r"holds no state_dict"),
    ],
    ids=["no core", "stride 0", "nan head", "a list"],
)
def test_bad_state_dicts(state, pattern):
    with pytest.raises(ValueError, match=pattern):
        lstm_viz.load_model(saved(state))


def test_paths_and_sizes(tmp_path):
    with pytest.raises(ValueError, match="no file at"):
        lstm_viz.load_model(tmp_path / "missing.pt")
    big = tmp_path / "big.pt"
    big.write_bytes(bytes(9 * 2**20))
    with pytest.raises(ValueError, match="the limit is 8 MB"):
        lstm_viz.load_model(big)
    with pytest.raises(ValueError, match="the limit is 8 MB"):
        lstm_viz.load_model(b"\x89HDF\r\n\x1a\n" + bytes(9 * 2**20))  # as bytes, Keras or not
    with pytest.raises(ValueError, match="takes a path or bytes"):
        lstm_viz.load_model(123)


def readme_example(index: int) -> tuple[str, str]:
    """(code, printed output) of the README's `index`-th worked example of load_model."""
    text = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = text.split("## Your own model, as you saved it")[1].split("\n## ")[0]
    pairs = re.findall(r"```python\n(.*?)```\n```\n(.*?)```", section, re.S)
    return pairs[index]


def run_example(code: str, folder, monkeypatch) -> str:
    monkeypatch.chdir(folder)  # the examples save files
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    return out.getvalue()


def test_readme_pytorch_example_prints_what_it_shows(tmp_path, monkeypatch):
    code, shown = readme_example(0)
    assert run_example(code, tmp_path, monkeypatch) == shown


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(["lstm", "gru", "rnn_tanh", "rnn_relu"]),
    layers=st.integers(1, 3),
    bidirectional=st.booleans(),
    proj=st.booleans(),
    prefix=st.sampled_from(["", "rnn.", "model.encoder.core."]),
    parts=st.sampled_from(["core", "embedding", "head", "both"]),
    seed=st.integers(0, 2**16),
)
def test_any_whole_model_loads_to_its_own_numbers(
    kind, layers, bidirectional, proj, prefix, parts, seed
):
    """Every core configuration, under any prefix, with or without an embedding and a head:
    the loaded model's outputs and traced hidden states are the original's."""
    torch.manual_seed(seed)
    kw = dict(num_layers=layers, bidirectional=bidirectional, batch_first=True)
    if kind == "lstm":
        core = nn.LSTM(4, 5, proj_size=3 if proj else 0, **kw)
    elif kind == "gru":
        core = nn.GRU(4, 5, **kw)
    else:
        core = nn.RNN(4, 5, nonlinearity=kind[4:], **kw)
    top = (2 if bidirectional else 1) * (3 if kind == "lstm" and proj else 5)
    emb = nn.Embedding(9, 4) if parts in ("embedding", "both") else None
    head = nn.Linear(top, 2) if parts in ("head", "both") else None
    state = {prefix + k: v for k, v in core.state_dict().items()}
    state |= {f"emb.{k}": v for k, v in (emb.state_dict() if emb else {}).items()}
    state |= {f"out.{k}": v for k, v in (head.state_dict() if head else {}).items()}
    model = lstm_viz.load_model(saved(state), nonlinearity=kind[4:] or None)
    x = torch.randint(0, 9, (1, 6)) if emb else torch.randn(1, 6, 4)
    h = core(emb(x) if emb else x)[0]
    want = head(h) if head else h
    np.testing.assert_allclose(model(x).detach(), want.detach(), rtol=1e-5, atol=1e-5)
    tr, _ = model.trace(x[0])
    np.testing.assert_allclose(tr.output, h[0].detach(), rtol=1e-5, atol=1e-5)
