"""The training loop every task shares, and the command that reproduces a shipped model.

    python -m lstm_viz.train TASK [--variant V] [--core lstm] [--seed 0] [--steps N]

trains `lstm_viz.tasks.TASK.train_model(core, seed, steps, progress[, variant])` on the CPU, prints
a progress bar, and writes `lstm_viz/weights/TASK[_V]_CORE.pt` plus the metrics JSON beside it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from collections.abc import Callable

import torch

from lstm_viz.models import WEIGHTS_DIR, SequenceModel, save_checkpoint

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


def text_progress(prefix: str = "") -> Progress:
    """A progress bar on stderr for the command line."""
    start = time.perf_counter()

    def show(done: int, total: int, loss: float) -> None:
        filled = int(30 * done / total)
        elapsed = time.perf_counter() - start
        bar = "#" * filled + "-" * (30 - filled)
        sys.stderr.write(f"\r{prefix} [{bar}] {done}/{total} loss {loss:.4f} {elapsed:.0f}s")
        if done == total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Reproduce a shipped lstm_viz model.")
    parser.add_argument("task", help="task module in lstm_viz.tasks, e.g. adding, cue, chars")
    parser.add_argument("--core", default="lstm", help="lstm, gru, rnn_tanh or rnn_relu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None, help="default: the task's own")
    parser.add_argument("--variant", default=None, help="task variant, e.g. a data set name")
    parser.add_argument("--name", default=None, help="weights file stem")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        task = importlib.import_module(f"lstm_viz.tasks.{args.task}")
    except ModuleNotFoundError:
        parser.error(f"no task {args.task!r}; see lstm_viz/tasks/")
    start = time.perf_counter()
    variant = {"variant": args.variant} if args.variant else {}
    model, metrics = task.train_model(
        core=args.core,
        seed=args.seed,
        steps=args.steps,
        progress=text_progress(args.task),
        **variant,
    )
    metrics["train_seconds"] = round(time.perf_counter() - start, 1)
    metrics["seed"] = args.seed
    name = args.name or "_".join(filter(None, [args.task, args.variant, args.core]))
    save_checkpoint(model, WEIGHTS_DIR / f"{name}.pt", metrics)
    print(f"saved {name}: {metrics}")


if __name__ == "__main__":
    main()
