"""The command that reproduces a shipped model, with the measurements its metrics JSON records.

    python -m lstm_viz.train TASK [--variant V] [--core lstm] [--seed 0] [--steps N]

trains the registered task (`lstm_viz.tasks.REGISTRY[TASK].train(...)`) on the CPU, prints a
progress bar, and writes the task's shipped model of that core and variant (by default
`lstm_viz/weights/TASK[_V]_CORE.pt`) plus the metrics JSON beside it. The training loop itself is
`lstm_viz.tasks.fit` (re-exported here as `fit`, `Progress`).
"""

from __future__ import annotations

import argparse
import sys
import time

import torch

from lstm_viz import probes
from lstm_viz.models import CORES, WEIGHTS_DIR, SequenceModel, save_checkpoint
from lstm_viz.tasks import REGISTRY, Metrics, get_task
from lstm_viz.tasks.fit import Progress, fit

__all__ = ["TRACE_METRICS", "Progress", "fit", "main", "text_progress", "train_task"]

# measurements that read a trained model's trace; trace and analysis sit downstream of the tasks,
# so a task gets them as its `metrics` callback instead of importing them
TRACE_METRICS: dict[str, Metrics] = {"chars": probes.chars_units, "cue": probes.cue_memory}


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


def train_task(
    name: str,
    core: str = "lstm",
    seed: int = 0,
    steps: int | None = None,
    progress: Progress | None = None,
    variant: str | None = None,
) -> tuple[SequenceModel, dict]:
    """Train task `name` as the shipped models were: its own metrics plus TRACE_METRICS."""
    task = get_task(name)
    return task.train(core, seed, steps, progress, TRACE_METRICS.get(task.name), variant)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Reproduce a shipped lstm_viz model.")
    parser.add_argument("task", help=f"a registered task: {', '.join(REGISTRY)}")
    parser.add_argument("--core", default="lstm", help="lstm, gru, rnn_tanh or rnn_relu")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--steps", type=int, default=None, help="default: the task's own")
    parser.add_argument("--variant", default=None, help="data set, e.g. co2 (default: the first)")
    parser.add_argument("--name", default=None, help="weights file stem")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--dry-run", action="store_true", help="check the arguments, train nothing")
    args = parser.parse_args(argv)
    try:
        task = get_task(args.task)
        variant = task.check_variant(args.variant)
    except ValueError as err:
        parser.error(str(err))
    if args.core not in CORES:
        parser.error(f"unknown core {args.core!r}; choose one of {', '.join(CORES)}")
    record = task.shipped(args.core, variant)  # retraining a shipped model overwrites its file
    stem = "_".join(filter(None, [task.name, variant, args.core]))
    name = args.name or (record.name if record else stem)
    if args.dry_run:
        print(
            f"would train {task.name} ({task.title}), core {args.core}, variant {variant}, "
            f"seed {args.seed}, into {WEIGHTS_DIR / name}.pt"
        )
        return
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    model, metrics = train_task(
        task.name, args.core, args.seed, args.steps, text_progress(task.name), variant
    )
    metrics["train_seconds"] = round(time.perf_counter() - start, 1)
    metrics["seed"] = args.seed
    save_checkpoint(model, WEIGHTS_DIR / f"{name}.pt", metrics)
    print(f"saved {name}: {metrics}")


if __name__ == "__main__":
    main()
