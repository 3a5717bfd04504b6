"""Corpus trace and match speed, measured side by side in one process (not a test: machines are
noisy, so every number is a median of interleaved rounds).

Prints, for the shipped chars and cue LSTMs on their held-out corpora:
- batched `corpus_trace` throughput (steps/s, batch_size 256) against tracing the sequences one
  by one with `lstm_viz.trace` (goal >= 10x) and against the raw batched `nn.LSTM` forward on
  the same padded batches (goal: corpus_trace within 2x of it);
- a `match` over the 100,000-step chars corpus (goal <= 300 ms), and the corpus memory.

    python -m bench.corpus_speed [ROUNDS] [THREADS]
"""

from __future__ import annotations

import statistics
import sys
import time

import numpy as np
import torch

import lstm_viz
from lstm_viz.batch_states import _pad, batches
from lstm_viz.tasks.corpora import corpus_for


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def trace_speed(name: str, rounds: int, batch_size: int = 256) -> lstm_viz.CorpusTrace:
    model = lstm_viz.load_shipped(name)
    corpus = corpus_for(name)
    seqs = corpus.sequences
    steps = corpus.steps
    lengths = np.array([len(s) for s in seqs])
    padded = [
        _pad([seqs[i] for i in b], int(lengths[b].max()))
        for b in batches(lengths, batch_size, False)
    ]

    @torch.no_grad()
    def raw():
        for x in padded:
            model.core(model.encode(torch.from_numpy(x)))

    def one_by_one():
        for s in seqs:
            model.trace(s)

    runs = {
        "corpus_trace": lambda: lstm_viz.corpus_trace(model, seqs, batch_size, threads=None),
        "raw forward": raw,
        "one by one": one_by_one,
    }
    times = {k: [] for k in runs}
    for _ in range(rounds):  # interleaved, so a busy moment hits every method alike
        for k, fn in runs.items():
            times[k].append(timed(fn))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\n{name}: {corpus.description} ({steps:,} steps), batch_size {batch_size}")
    for k, t in med.items():
        print(f"  {k:13s} {t * 1000:8.0f} ms  {steps / t:12,.0f} steps/s")
    print(
        f"  corpus_trace vs one by one: {med['one by one'] / med['corpus_trace']:.1f}x faster "
        "(goal >= 10x)"
    )
    print(
        f"  corpus_trace / raw batched forward: {med['corpus_trace'] / med['raw forward']:.2f}x "
        "(goal <= 2x)"
    )
    print(  # no batched trace can beat the batched forward it contains: the 10x goal's ceiling
        f"  raw batched forward vs one by one: {med['one by one'] / med['raw forward']:.1f}x "
        f"(the ceiling for any batched trace of these {len(seqs):,} sequences)"
    )
    ct = lstm_viz.corpus_trace(model, seqs, labels=corpus.labels)
    f32 = lstm_viz.corpus_trace(model, seqs[:1], dtype=np.float32)
    per_step = sum(a.nbytes for a in f32.states.values()) / f32.steps
    print(
        f"  memory: {ct.nbytes / 1e6:.1f} MB in float16 (float32 states would add "
        f"{per_step * steps / 2 / 1e6:.1f} MB)"
    )
    return ct


def match_speed(ct: lstm_viz.CorpusTrace, repeats: int = 21) -> None:
    rng = np.random.default_rng(0)
    cases = {
        "3 random units, threshold 0.3": dict(
            units=rng.choice(64, 3, replace=False).tolist(), threshold=0.3
        ),
        "1 unit, threshold 0.0 (many spans)": dict(units=[34], threshold=0.0),
    }
    print(f"\nmatch over {ct.steps:,} steps x {ct.flat().shape[1]} units (float16):")
    for label, kw in cases.items():
        times = [timed(lambda kw=kw: lstm_viz.match(ct, **kw)) for _ in range(repeats)]
        res = lstm_viz.match(ct, **kw)
        print(
            f"  {label:36s} median {statistics.median(times) * 1000:6.1f} ms, "
            f"max {max(times) * 1000:6.1f} ms  ({res.n_matches:,} spans; goal <= 300 ms)"
        )


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else 1)
    print(f"torch threads: {torch.get_num_threads()}, rounds: {rounds}")
    chars = trace_speed("chars_lstm", rounds)
    trace_speed("cue_lstm", rounds)
    match_speed(chars)


if __name__ == "__main__":
    main()
