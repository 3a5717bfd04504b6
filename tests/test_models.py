"""The sequence model and its checkpoints: exact round trip, clear errors, never executing code."""

import json
import os
import pickle

import numpy as np
import pytest
import torch

import lstm_viz
from lstm_viz.models import (
    ModelConfig,
    SequenceModel,
    load_checkpoint,
    save_checkpoint,
    shipped_metrics,
    shipped_models,
)
from lstm_viz.train import fit


@pytest.mark.parametrize("core", ["lstm", "gru", "rnn_tanh", "rnn_relu"])
def test_checkpoint_round_trips_exactly(tmp_path, core):
    torch.manual_seed(0)
    model = SequenceModel(ModelConfig(core=core, input_size=2, hidden_size=5, output_size=3))
    save_checkpoint(model, tmp_path / "m.pt", metrics={"mse": 0.5})
    back = load_checkpoint(tmp_path / "m.pt")
    assert back.config == model.config
    for (name, a), (_, b) in zip(
        model.state_dict().items(), back.state_dict().items(), strict=True
    ):
        assert torch.equal(a, b), name
    assert json.loads((tmp_path / "m.json").read_text()) == {"mse": 0.5}


def test_model_trace_predictions_equal_forward():
    torch.manual_seed(0)
    model = SequenceModel(ModelConfig(vocab=list("abc"), hidden_size=6, output_size=3)).eval()
    ids = torch.tensor([0, 1, 2, 2, 1])
    tr, preds = model.trace(ids, labels=list("abccb"))
    with torch.no_grad():
        expected = model(ids)[0]
    np.testing.assert_allclose(preds, expected.numpy(), atol=1e-6)
    assert tr.labels == list("abccb")
    clamped, moved = model.trace(ids, interventions=[lstm_viz.Clamp("hidden", 0.0)])
    assert np.allclose(moved, model.head.bias.detach().numpy(), atol=1e-6)  # h = 0: only bias


def test_unknown_tokens_are_named():
    model = SequenceModel(ModelConfig(vocab=["the", "cat"], output_size=2))
    with pytest.raises(ValueError, match="'dog'"):
        model.tokens_to_ids(["the", "dog"])


def test_short_training_lowers_the_loss():
    torch.manual_seed(0)
    model = SequenceModel(ModelConfig(input_size=1, hidden_size=8, output_size=1))
    x = torch.sin(torch.linspace(0, 12, 60))[None, :, None]

    def loss_fn(m, batch):
        return torch.nn.functional.mse_loss(m(batch[0])[:, :-1], batch[0][:, 1:])

    losses = fit(model, lambda step: (x,), loss_fn, steps=60, lr=1e-2)
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5])


def test_mismatched_checkpoint_is_refused(tmp_path):
    model = SequenceModel(ModelConfig(hidden_size=5))
    save_checkpoint(model, tmp_path / "m.pt")
    blob = torch.load(tmp_path / "m.pt", weights_only=True)
    config = json.loads(blob["config_json"])
    config["hidden_size"] = 7  # the weights are for 5 units
    torch.save({**blob, "config_json": json.dumps(config)}, tmp_path / "bad.pt")
    with pytest.raises(ValueError, match="shape"):
        load_checkpoint(tmp_path / "bad.pt")
    del blob["state_dict"]["head.bias"]
    torch.save(blob, tmp_path / "missing.pt")
    with pytest.raises(ValueError, match="missing"):
        load_checkpoint(tmp_path / "missing.pt")


def test_nan_weights_and_junk_files_are_refused(tmp_path):
    model = SequenceModel(ModelConfig(hidden_size=4))
    with torch.no_grad():
        model.head.weight[0, 0] = float("nan")
    save_checkpoint(model, tmp_path / "nan.pt")
    with pytest.raises(ValueError, match="NaN"):
        load_checkpoint(tmp_path / "nan.pt")
    (tmp_path / "junk.pt").write_bytes(b"\x00not a checkpoint at all")
    with pytest.raises(ValueError, match="could not read"):
        load_checkpoint(tmp_path / "junk.pt")
    good = tmp_path / "good.pt"
    save_checkpoint(SequenceModel(ModelConfig(hidden_size=4)), good)
    (tmp_path / "cut.pt").write_bytes(good.read_bytes()[:300])
    with pytest.raises(ValueError):
        load_checkpoint(tmp_path / "cut.pt")


class _Boom:
    """Unpickling this runs os.system: what a malicious checkpoint would do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_pickle_that_executes_code_never_runs(tmp_path):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pt"
    torch.save({"config_json": "{}", "state_dict": _Boom(marker)}, evil, pickle_protocol=2)
    with pytest.raises(ValueError):
        load_checkpoint(evil)
    assert not marker.exists()
    with open(tmp_path / "plain.pkl", "wb") as f:
        pickle.dump(_Boom(marker), f)
    with pytest.raises(ValueError):
        load_checkpoint(tmp_path / "plain.pkl")
    assert not marker.exists()


def test_every_shipped_model_loads_with_its_metrics():
    names = shipped_models()
    assert names, "no shipped weights found in lstm_viz/weights"
    for name in names:
        model = lstm_viz.load_shipped(name)
        assert model.config.task and shipped_metrics(name)
        assert sum(p.numel() for p in model.parameters()) < 500_000  # small: a few MB in all
    with pytest.raises(ValueError, match="no shipped model"):
        lstm_viz.load_shipped("nope")


def test_readout_of_a_classifier_is_torch_softmax():
    torch.manual_seed(0)
    model = SequenceModel(ModelConfig(vocab=list("abcd"), hidden_size=6, output_size=4)).eval()
    _, preds = model.trace(np.array([0, 1, 2, 3, 3, 1]))  # (T, 4) float32 logits
    probs = model.readout(preds)
    assert probs.shape == (6, 4) and probs.dtype == np.float64
    want = torch.softmax(torch.from_numpy(preds).double(), dim=-1).numpy()
    np.testing.assert_allclose(probs, want, rtol=1e-12)
    np.testing.assert_allclose(model.readout(preds[2]), want[2], rtol=1e-12)  # one step
    np.testing.assert_allclose(model.readout([1000.0, 0, 0, 0]), [1, 0, 0, 0])  # no overflow
    with pytest.raises(ValueError, match=r"\(\.\.\., 4\)"):
        model.readout(preds[:, :3])


def test_readout_of_a_forecast_model_is_in_the_data_units():
    scaling = {"difference": True, "mean": 0.25, "std": 3.0}
    model = SequenceModel(ModelConfig(hidden_size=4, extra={"scaling": scaling}))
    preds = np.array([[-1.0], [0.0], [2.5]], dtype=np.float32)
    np.testing.assert_array_equal(model.readout(preds), [[-2.75], [0.25], [7.75]])  # z*3 + 0.25
    plain = SequenceModel(ModelConfig(hidden_size=4))  # e.g. the adding problem: as it is
    np.testing.assert_array_equal(plain.readout(preds), preds.astype(np.float64))
    broken = SequenceModel(ModelConfig(hidden_size=4, extra={"scaling": {"mean": 1.0}}))
    with pytest.raises(ValueError, match="difference, mean and std"):
        broken.readout(preds)
