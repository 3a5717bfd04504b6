"""The training loop every task uses: Adam with gradient clipping and a progress callback.

It lives with the tasks (not in `lstm_viz.train`, the command line that reproduces the shipped
models) so that the tasks import nothing above them: `lstm_viz.train` imports the tasks, never
the other way round.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from lstm_viz.models import SequenceModel

Progress = Callable[[int, int, float], None]  # (step done, total steps, recent loss)


def fit(
    model: SequenceModel,
    batch_fn: Callable[[int], tuple],
    loss_fn: Callable[[SequenceModel, tuple], torch.Tensor],
    steps: int,
    lr: float = 1e-3,
    clip: float = 1.0,
    progress: Progress | None = None,
) -> list[float]:
    """Adam on `loss_fn(model, batch_fn(step))` for `steps` steps; returns the loss per step.

    Gradient clipping keeps the plain RNN (whose gradients explode as easily as they vanish)
    comparable with the gated cores under one protocol.
    """
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    for step in range(steps):
        loss = loss_fn(model, batch_fn(step))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        losses.append(loss.detach().item())
        if progress is not None and (step % 10 == 0 or step == steps - 1):
            recent = losses[-50:]
            progress(step + 1, steps, sum(recent) / len(recent))
    model.eval()
    return losses
