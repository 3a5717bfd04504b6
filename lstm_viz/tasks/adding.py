"""The adding problem (Hochreiter & Schmidhuber 1997, "Long Short-Term Memory", experiment 4).

Each step carries two features: a value drawn uniformly from [0, 1] and a marker (0 or 1). Exactly
two steps are marked, one in the first half of the sequence and one in the second half (the form
used by Le, Jaitly & Hinton 2015 and later benchmarks). The target, read at the last step, is the
sum of the two marked values. The head predicts at every step, so the app can show the running
guess; only the last step is trained.

Always answering 1.0 (the mean of the sum) scores MSE = Var(u1 + u2) = 2/12 ~ 0.167: a model that
has not learned to store the marked values stays near that baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lstm_viz.models import ModelConfig, SequenceModel, set_seed
from lstm_viz.tasks.fit import Progress, fit
from lstm_viz.tasks.task import Example, Metrics, Shipped, Task

BASELINE_GUESS = 1.0  # E[u1 + u2]; its MSE is the bar a model must clear
TEST_SEED = 20_250  # the fixed held-out set (never used for training batches)


@dataclass
class AddingConfig:
    T: int = 50  # sequence length (steps)
    hidden_size: int = 64  # units of the recurrent core
    batch_size: int = 64  # sequences per Adam step
    steps: int = 3000  # Adam steps
    lr: float = 1e-3  # Adam learning rate
    clip: float = 1.0  # gradient-norm clip (keeps the plain RNN from blowing up)


def make_batch(
    rng: np.random.Generator, batch: int, T: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x (B, T, 2) float32 [value, marker], y (B,) float32 sums, marks (B, 2) int positions."""
    if T < 2:
        raise ValueError(f"T={T} is too short; the adding problem needs T >= 2 (e.g. T=50)")
    values = rng.uniform(0.0, 1.0, size=(batch, T)).astype(np.float32)  # (B, T)
    half = T // 2
    first = rng.integers(0, half, size=batch)  # one marker in the first half ...
    second = rng.integers(half, T, size=batch)  # ... and one in the second
    marker = np.zeros((batch, T), dtype=np.float32)
    rows = np.arange(batch)
    marker[rows, first] = 1.0
    marker[rows, second] = 1.0
    x = np.stack([values, marker], axis=-1)  # (B, T, 2)
    y = values[rows, first] + values[rows, second]  # (B,)
    return x, y.astype(np.float32), np.stack([first, second], axis=1)


def _loss(model: SequenceModel, batch: tuple) -> torch.Tensor:
    x, y = batch
    pred = model(x)[:, -1, 0]  # (B,): only the last step is scored
    return torch.mean((pred - y) ** 2)


@torch.no_grad()
def evaluate(model: SequenceModel, T: int | None = None, n: int = 1000) -> dict:
    """Test MSE at the last step on a fixed seeded set of `n` sequences, and the baseline MSE.

    T defaults to the length the model was trained on (config.extra["T"]).
    """
    T = int(T or model.config.extra.get("T", AddingConfig.T))
    x, y, _ = make_batch(np.random.default_rng(TEST_SEED + T), n, T)
    was_training = model.training
    model.eval()
    pred = model(torch.from_numpy(x))[:, -1, 0].numpy()  # (n,)
    model.train(was_training)
    return {
        "T": T,
        "n_test": n,
        "test_mse": round(float(np.mean((pred - y) ** 2)), 5),
        "baseline_mse": round(float(np.mean((BASELINE_GUESS - y) ** 2)), 5),
    }


def build_model(core: str = "lstm", T: int = AddingConfig.T, hidden_size: int = 64):
    """An untrained adding-problem model (2 features in, 1 value out at every step)."""
    config = ModelConfig(
        core=core,
        input_size=2,
        hidden_size=hidden_size,
        output_size=1,
        output_labels=["sum"],
        task="adding",
        extra={"T": T, "features": ["value", "marker"]},
    )
    return SequenceModel(config)


def train_model(
    core: str = "lstm",
    seed: int = 0,
    steps: int | None = None,
    progress: Progress | None = None,
    metrics: Metrics | None = None,
    T: int = AddingConfig.T,
    cfg: AddingConfig | None = None,
) -> tuple[SequenceModel, dict]:
    """Train on fresh random batches (seeded) and return (model, metrics from `evaluate`, plus
    what `metrics(model)` measures)."""
    cfg = cfg or AddingConfig(T=T)
    steps = cfg.steps if steps is None else steps
    rng = set_seed(seed)
    model = build_model(core, cfg.T, cfg.hidden_size)

    def batch_fn(_step: int) -> tuple:
        x, y, _ = make_batch(rng, cfg.batch_size, cfg.T)
        return torch.from_numpy(x), torch.from_numpy(y)

    losses = fit(model, batch_fn, _loss, steps, lr=cfg.lr, clip=cfg.clip, progress=progress)
    found = evaluate(model, cfg.T)
    found.update(
        core=core,
        steps=steps,
        hidden_size=cfg.hidden_size,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        final_train_loss=round(float(np.mean(losses[-100:])), 5),
    )
    if metrics is not None:
        found.update(metrics(model))
    return model, found


def examples(T: int = AddingConfig.T, n: int = 3, seed: int = 7) -> list[Example]:
    """`n` seeded sequences of length T; step labels are values, marked ones with a '*'."""
    if n < 1:
        raise ValueError(f"n={n}: ask for at least one example (e.g. n=3)")
    x, y, marks = make_batch(np.random.default_rng(seed), n, T)
    out = []
    for k in range(n):
        labels = [f"{v:.2f}" + ("*" if m else "") for v, m in x[k]]
        a, b = (float(x[k, i, 0]) for i in marks[k])
        out.append(
            Example(
                name=f"T={T} #{k + 1}: {a:.2f} + {b:.2f} = {y[k]:.2f}",
                x=x[k],
                labels=labels,
                description=(
                    f"The marked steps {marks[k, 0]} and {marks[k, 1]} (labels with '*') carry "
                    f"{a:.2f} and {b:.2f}; the answer at the last step should be {y[k]:.2f}. "
                    "Watch which cell units jump at the markers and hold still in between."
                ),
            )
        )
    return out


TASK = Task(
    name="adding",
    title="adding problem",
    train_fn=train_model,
    evaluate=evaluate,
    examples_fn=examples,
    reads="numbers",
    models=(
        Shipped("adding_lstm", "lstm"),
        Shipped("adding_gru", "gru"),
        Shipped("adding_rnn_tanh", "rnn_tanh"),
    ),
)
