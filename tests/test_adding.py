"""The adding problem: deterministic data, the baseline, shipped models, a short training run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_viz.models import load_shipped, shipped_metrics, shipped_models
from lstm_viz.tasks import adding
from lstm_viz.train import fit

SHIPPED = ["adding_lstm", "adding_gru", "adding_rnn_tanh"]


def test_batches_are_deterministic_and_well_formed():
    x, y, marks = adding.make_batch(np.random.default_rng(1), 64, 30)
    x2, y2, marks2 = adding.make_batch(np.random.default_rng(1), 64, 30)
    assert np.array_equal(x, x2) and np.array_equal(y, y2) and np.array_equal(marks, marks2)
    assert x.shape == (64, 30, 2) and x.dtype == np.float32
    assert np.all(x[..., 1].sum(1) == 2)  # exactly two markers ...
    assert np.all(marks[:, 0] < 15) and np.all(marks[:, 1] >= 15)  # ... one in each half
    assert np.allclose(y, (x[..., 0] * x[..., 1]).sum(1))
    assert 0.0 <= x[..., 0].min() and x[..., 0].max() <= 1.0


def test_too_short_sequences_are_rejected():
    with pytest.raises(ValueError, match="T >= 2"):
        adding.make_batch(np.random.default_rng(0), 4, 1)


def test_baseline_is_about_one_sixth():
    metrics = adding.evaluate(adding.build_model("lstm", T=20))
    assert metrics["baseline_mse"] == pytest.approx(1 / 6, abs=0.02)


def test_examples_label_the_two_marked_values():
    ex = adding.examples(T=12, n=2)
    assert len(ex) == 2
    for e in ex:
        assert e.x.shape == (12, 2) and len(e.labels) == 12
        starred = [lab for lab in e.labels if lab.endswith("*")]
        assert len(starred) == 2
        assert all(
            lab == f"{v:.2f}" + ("*" if m else "")
            for lab, (v, m) in zip(e.labels, e.x, strict=True)
        )
    assert adding.examples(T=12, n=2)[0].labels == ex[0].labels


def test_short_training_lowers_the_loss():
    torch.manual_seed(0)
    model = adding.build_model("lstm", T=10, hidden_size=8)
    rng = np.random.default_rng(0)

    def batch_fn(_step):
        x, y, _ = adding.make_batch(rng, 16, 10)
        return torch.from_numpy(x), torch.from_numpy(y)

    losses = fit(model, batch_fn, adding._loss, steps=40, lr=1e-2)
    assert np.mean(losses[-10:]) < 0.5 * np.mean(losses[:10])


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_meets_its_recorded_mse(name):
    assert name in shipped_models(), f"{name} is not shipped; run python -m lstm_viz.train adding"
    model, recorded = load_shipped(name), shipped_metrics(name)
    got = adding.evaluate(model)
    assert got["T"] == recorded["T"] == 50
    assert got["test_mse"] == pytest.approx(recorded["test_mse"], abs=2e-4)
    if name != "adding_rnn_tanh":  # the gated cores must beat the 0.167 baseline by far
        assert got["test_mse"] < 0.1 * got["baseline_mse"]
