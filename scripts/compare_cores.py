"""RNN vs GRU vs LSTM under one protocol: cue-task accuracy vs gap, adding-problem MSE vs T.

    python scripts/compare_cores.py [--workers 2] [--write docs/core_comparison.md]

Every run uses the task's own `train_model` with the same budget for all three cores (stated in
the printout), one thread per worker process. The cue models are trained once on mixed gaps and
evaluated at every gap; the adding models are trained separately at every T. Prints two markdown
tables; `--write` also saves the printout, with the date, to a markdown file.
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing as mp
import time
from pathlib import Path

CORES = ("rnn_tanh", "gru", "lstm")
ROW = {"rnn_tanh": "RNN (tanh)", "gru": "GRU", "lstm": "LSTM"}
GAPS = (5, 10, 20, 50, 100, 200)
LENGTHS = (10, 20, 50, 100, 200)


def _run(job: tuple) -> tuple:
    """One training run in a worker: (task, core, T, steps) -> (job, result dict, seconds)."""
    import torch

    torch.set_num_threads(1)
    task, core, T, steps = job
    start = time.perf_counter()
    if task == "cue":
        from lstm_viz.tasks import cue

        _, metrics = cue.train_model(core, seed=0, steps=steps, gaps=GAPS)
    else:
        from lstm_viz.tasks import adding

        _, metrics = adding.train_model(core, seed=0, steps=steps, T=T)
    return job, metrics, time.perf_counter() - start


def protocol(cue_steps: int, adding_steps: int, workers: int) -> str:
    from lstm_viz.tasks.adding import AddingConfig
    from lstm_viz.tasks.cue import CueConfig

    c, a = CueConfig(), AddingConfig()
    return (
        "Protocol (identical for RNN, GRU and LSTM): seed 0, PyTorch default initialisation, "
        f"Adam, gradient-norm clip {c.clip}, one CPU thread per run ({workers} runs in parallel).\n"
        f"- Cue task: {c.hidden_size} units, embedding {c.embed_size}, lr {c.lr}, batch "
        f"{c.batch_size}, {cue_steps} steps on gaps drawn uniformly from {c.min_gap}..{c.max_gap} "
        "filler tokens; one model per core, accuracy of the answer at the query step on 200 "
        "held-out sequences per gap (chance is 50% on name cues, 25% on town cues).\n"
        f"- Adding problem: {a.hidden_size} units, lr {a.lr}, batch {a.batch_size}, "
        f"{adding_steps} steps, one model per core and T; test MSE at the last step on 1,000 "
        "held-out sequences (always answering 1.0 scores about 0.167)."
    )


def tables(results: dict) -> str:
    """The two markdown tables from {(task, core, T): metrics}."""
    lines = ["### Cue task: held-out accuracy vs gap (filler tokens)", ""]
    lines.append("| core | " + " | ".join(f"gap {g}" for g in GAPS) + " |")
    lines.append("|---|" + "---:|" * len(GAPS))
    for core in CORES:
        acc = results[("cue", core, None)]["accuracy_by_gap"]
        lines.append(f"| {ROW[core]} | " + " | ".join(f"{acc[str(g)]:.1%}" for g in GAPS) + " |")
    lines += ["", "### Adding problem: test MSE vs sequence length T", ""]
    lines.append("| core | " + " | ".join(f"T={T}" for T in LENGTHS) + " |")
    lines.append("|---|" + "---:|" * len(LENGTHS))
    for core in CORES:
        row = [f"{results[('adding', core, T)]['test_mse']:.4f}" for T in LENGTHS]
        lines.append(f"| {ROW[core]} | " + " | ".join(row) + " |")
    base = [f"{results[('adding', 'lstm', T)]['baseline_mse']:.4f}" for T in LENGTHS]
    lines.append("| always 1.0 | " + " | ".join(base) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="parallel 1-thread processes")
    parser.add_argument("--cue-steps", type=int, default=None, help="default: the task's own")
    parser.add_argument("--adding-steps", type=int, default=None, help="default: the task's own")
    parser.add_argument("--write", default=None, help="also save the printout to this .md file")
    args = parser.parse_args()
    from lstm_viz.tasks.adding import AddingConfig
    from lstm_viz.tasks.cue import CueConfig

    cue_steps = args.cue_steps or CueConfig().steps
    adding_steps = args.adding_steps or AddingConfig().steps
    jobs = [("adding", core, T, adding_steps) for T in LENGTHS for core in CORES]
    jobs += [("cue", core, None, cue_steps) for core in CORES]
    jobs.sort(key=lambda j: -(j[2] or 60))  # longest first, so the two workers finish together
    start = time.perf_counter()
    results, seconds = {}, {}
    with mp.get_context("spawn").Pool(args.workers) as pool:
        for job, metrics, secs in pool.imap_unordered(_run, jobs):
            results[job[:3]], seconds[job[:3]] = metrics, secs
            print(f"done {job[0]} {job[1]} T={job[2]}: {secs:.0f} s", flush=True)
    wall = time.perf_counter() - start
    text = "\n\n".join(
        [
            f"Measured {datetime.date.today().isoformat()} on a shared 2-core CPU machine "
            f"(wall time {wall / 60:.1f} min; training seconds per run below).",
            protocol(cue_steps, adding_steps, args.workers),
            tables(results),
            "Training seconds per run: "
            + ", ".join(
                f"{t} {ROW[c]}{'' if T is None else f' T={T}'} {s:.0f}"
                for (t, c, T), s in sorted(seconds.items(), key=str)
            ),
        ]
    )
    print("\n" + text)
    if args.write:
        Path(args.write).write_text("# RNN vs GRU vs LSTM\n\n" + text + "\n")


if __name__ == "__main__":
    main()
