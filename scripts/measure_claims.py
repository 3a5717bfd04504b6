"""Re-measure every accuracy, rate, correlation and comparison the README, the views and the
lessons state, on fresh samples, each with its sample size n and a 95% interval (issue 15).

    python scripts/measure_claims.py            # writes lstm_viz/data/claims.json, prints rows
    python scripts/measure_claims.py --readme   # ... and writes the README's tables
    python scripts/measure_claims.py --quick    # n / 10 everywhere: a smoke run, writes nothing

Fresh means drawn from seeds no training batch or evaluation set uses: every sample here comes
from `np.random.default_rng([SEED, tag])` (a two-word seed: no int seed's stream, so none of the
training seed 0, the cue task's TEST_SEED + gap, the chars held-out seed or the corpora's) or,
for generated text, from int seeds past 15_000_000_000. Proportions get Wilson intervals, means
and correlations a percentile bootstrap over independent units (whole sequences or texts, since
the steps within one are not independent); one-example lesson claims get the spread (median and
range) over fresh examples. The cue measurements are here; the character model's and the
lessons' per-example spreads are in `claims_examples.py` beside this file. Single process, one
torch thread: about two minutes on this 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]  # the repo (lstm_viz, bench) and this folder

import claims_examples  # noqa: E402  (the second half of the measurements, beside this file)

from lstm_viz import compare, core_tables, stats  # noqa: E402
from lstm_viz.claims import PATH  # noqa: E402
from lstm_viz.inputs import text_input  # noqa: E402
from lstm_viz.interventions import Clamp  # noqa: E402
from lstm_viz.models import load_shipped, shipped_metrics  # noqa: E402
from lstm_viz.tasks import adding, cue  # noqa: E402
from lstm_viz.trace import trace  # noqa: E402

SEED = core_tables.FRESH_SEED  # 15_000_015, issue 15; only the first word of two-word seeds
CHUNK = 400  # sequences traced at once (the trace keeps every gate: memory grows with it)
CHANCE_NAME, CHANCE_TOWN = 1 / 2, 1 / 4  # She or He; one of four states


def rng(tag: int) -> np.random.Generator:
    return np.random.default_rng([SEED, tag])


def proportion(k: int, n: int, **extra) -> dict:
    lo, hi = stats.wilson(int(k), int(n))
    return {
        "kind": "proportion",
        "value": k / n,
        "k": int(k),
        "n": int(n),
        "lo": lo,
        "hi": hi,
        **extra,
    }


def estimate(kind: str, est: tuple[float, float, float], n: int, method: str, **extra) -> dict:
    value, lo, hi = est
    return {
        "kind": kind,
        "value": value,
        "lo": lo,
        "hi": hi,
        "n": int(n),
        "method": method,
        **extra,
    }


def chance_of(answer: np.ndarray) -> float:
    """Chance for this sample: knowing the question's kind but not the cue (1/2 on a name's
    pronoun, 1/4 on a town's state)."""
    return float(np.mean(np.where(answer <= 1, CHANCE_NAME, CHANCE_TOWN)))


@torch.no_grad()
def answers_after_cue(model, ids, query, at, clamp_fn=None, keep=()):
    """Each sequence's logits at its query step (B, A), with `clamp_fn(cue step, width)`'s clamps
    after each sequence's own cue; `keep` names states to return at every step (B, W, H)."""
    logits = torch.zeros(len(ids), len(cue.ANSWERS))
    kept = {n: np.zeros((*ids.shape, model.config.hidden_size), np.float32) for n in keep}
    for a in np.unique(at):  # one clamp per cue position: a batch shares its steps
        rows = np.flatnonzero(at == a)
        for part in np.array_split(rows, max(1, len(rows) // CHUNK)):
            clamps = clamp_fn(int(a), ids.shape[1]) if clamp_fn else None
            tr = trace(model.core, model.encode(ids[part]), interventions=clamps)
            out = model.head(torch.as_tensor(tr.output, dtype=torch.float32))  # (b, W, A)
            logits[part] = out[torch.arange(len(part)), torch.as_tensor(query[part])]
            for n in keep:
                kept[n][part] = tr.gate(n)
    return logits.numpy(), kept


def accuracy_table(models: dict, n: int) -> dict:
    """Accuracy at the query step per core and gap, on the same fresh sentences for every core
    (`core_tables.fresh_rng`, = rng(100 + gap): the compare view draws its live sentences there)."""
    out = {}
    for gap in (*cue.EVAL_GAPS, 400):
        ids, query, answer, at = cue.make_batch(core_tables.fresh_rng(gap), n, gap)
        for name, m in models.items():
            logits, _ = answers_after_cue(m, ids, query, at)
            said = logits.argmax(-1)
            out[f"{name}.accuracy.gap{gap}"] = proportion((said == answer).sum(), n)
            if gap == 100:  # per answer: has the model learned each of the six?
                for k, word in enumerate(cue.ANSWERS):
                    mine = answer == k
                    rec = proportion((said[mine] == k).sum(), mine.sum())
                    out[f"{name}.accuracy.gap100.{word}"] = rec
    return out


def forget_closed(lstm, n: int) -> dict:
    """The intervene view's experiment: every forget gate shut from the step after the cue."""
    ids, query, answer, at = cue.make_batch(rng(2), n, 100)
    shut = lambda a, width: [Clamp("forget", 0.0, steps=range(a + 1, width))]  # noqa: E731
    plain, _ = answers_after_cue(lstm, ids, query, at)
    closed, _ = answers_after_cue(lstm, ids, query, at, shut)
    kinds_kept = np.mean((closed.argmax(-1) <= 1) == (answer <= 1))
    return {
        "cue_lstm.forget_open.gap100": proportion((plain.argmax(-1) == answer).sum(), n),
        "cue_lstm.forget_closed.gap100": proportion(
            (closed.argmax(-1) == answer).sum(),
            n,
            chance=chance_of(answer),
            right_kind=float(kinds_kept),
        ),
    }


def forget_closed_short(lstm, n: int) -> dict:
    """The same clamp on the Martha story sentence, and on fresh short name sentences like it
    (a name clause, 0-10 filler words, the '.' where the pronoun is asked)."""
    ex = cue.examples()[0]
    q, at = cue.query_step(ex.labels), ex.labels.index("Martha")
    ids1, q1, at1 = ex.x[None], np.array([q]), np.array([at])
    shut = lambda a, width: [Clamp("forget", 0.0, steps=range(a + 1, width))]  # noqa: E731
    p0 = lstm.readout(answers_after_cue(lstm, ids1, q1, at1)[0])[0]
    p1 = lstm.readout(answers_after_cue(lstm, ids1, q1, at1, shut)[0])[0]
    r = rng(3)
    seqs = [cue.make_sequence(r, int(r.integers(0, 11)), "name") for _ in range(n)]
    width = max(len(s[0]) for s in seqs)
    ids = np.full((n, width), cue.PAD_ID, dtype=np.int64)
    for b, s in enumerate(seqs):
        ids[b, : len(s[0])] = cue.encode(s[0])
    query = np.array([len(s[0]) - 1 for s in seqs])
    answer = np.array([cue.ANSWERS.index(s[2]) for s in seqs])
    at = np.array([s[1] for s in seqs])
    p = lstm.readout(answers_after_cue(lstm, ids, query, at, shut)[0])  # (n, A)
    right = p.argmax(-1) == answer
    she = cue.ANSWERS.index("She")
    return {
        "cue_lstm.forget_closed.short": proportion(right.sum(), n, chance=CHANCE_NAME),
        "cue_lstm.forget_closed.short.p_right": {
            "kind": "spread",
            **stats.spread(p[np.arange(n), answer]),
        },
        "cue_lstm.forget_closed.martha": {
            "kind": "example",
            "before": float(p0[she]),
            "after": float(p1[she]),
            "said_before": cue.ANSWERS[int(p0.argmax())],
            "said_after": cue.ANSWERS[int(p1.argmax())],
        },
    }


def memory_cells(lstm, n: int, n_curve: int) -> dict:
    """How the LSTM holds the cue at gap 100 (fresh sentences): eta^2 of the cells the training
    record ranks first and last, the mean forget gate across the gap, and the clamp curve (the
    best k cells set to 0 from the step after each sentence's cue)."""
    ranked = shipped_metrics("cue_lstm")["memory"]["ranked_units"]
    ids, query, answer, at = cue.make_batch(rng(4), n, 100)
    _, kept = answers_after_cue(lstm, ids, query, at, keep=("cell", "forget"))
    steps = np.arange(ids.shape[1])
    span = (steps > at[:, None]) & (steps <= query[:, None])  # (n, W) the held stretch
    cnt = span.sum(1).astype(float)  # per sequence, its sums: resampling keeps sequences whole
    s1 = np.einsum("bt,bth->bh", span, kept["cell"].astype(float))
    s2 = np.einsum("bt,bth->bh", span, kept["cell"].astype(float) ** 2)
    fsum = np.einsum("bt,bth->b", span, kept["forget"].astype(float))
    rows = np.column_stack([answer, cnt, s1, s2, fsum])  # (n, 2 + 2H + 1)
    H = s1.shape[1]

    def eta2(r: np.ndarray, unit: int) -> float:
        a, c, x1, x2 = r[:, 0], r[:, 1], r[:, 2 + unit], r[:, 2 + H + unit]
        total = x2.sum() - x1.sum() ** 2 / c.sum()
        between = sum(x1[a == k].sum() ** 2 / c[a == k].sum() for k in np.unique(a))
        return float((between - x1.sum() ** 2 / c.sum()) / total)

    def mean_forget(r: np.ndarray) -> float:
        return float(r[:, -1].sum() / (r[:, 1].sum() * H))

    boot = dict(n_boot=1000, seed=5)
    how = "bootstrap over sentences"
    out = {
        "cue_lstm.eta2.first": estimate(
            "eta2",
            stats.bootstrap_ci(rows, lambda r: eta2(r, ranked[0]), **boot),
            n,
            how,
            unit=ranked[0],
        ),
        "cue_lstm.eta2.last": estimate(
            "eta2",
            stats.bootstrap_ci(rows, lambda r: eta2(r, ranked[-1]), **boot),
            n,
            how,
            unit=ranked[-1],
        ),
        "cue_lstm.mean_forget.gap": estimate(
            "mean", stats.bootstrap_ci(rows, mean_forget, **boot), n, how
        ),
    }
    ids, query, answer, at = cue.make_batch(rng(5), n_curve, 100)
    for k in (3, 6, 10, 16, 32):
        units = ranked[:k]
        zero = lambda a, width, u=units: [Clamp("cell", 0.0, units=u, steps=range(a + 1, width))]  # noqa: E731
        logits, _ = answers_after_cue(lstm, ids, query, at, zero)
        out[f"cue_lstm.cells_clamped.k{k}"] = proportion(
            (logits.argmax(-1) == answer).sum(), n_curve, chance=chance_of(answer)
        )
    return out


def free_sentences(models: dict, n: int) -> dict:
    """Accuracy on fresh free sentences (a few words, the cue, a gap of 0-50 words, asked at
    whatever word the gap ends on: the shape of typed text), and the typed story sentences."""
    r = rng(6)
    ids, query, answer, at = cue.make_batch(r, n, r.integers(0, 51, n), free=1.0)
    out = {}
    for name, m in models.items():
        logits, _ = answers_after_cue(m, ids, query, at)
        out[f"{name}.accuracy.free"] = proportion((logits.argmax(-1) == answer).sum(), n)
    from bench.cue_measure import SENTENCES  # the README's eight typed sentences

    for name, m in models.items():
        got = []
        for text, want in SENTENCES:
            x = text_input(m, text).x
            q = cue.query_step(cue.read_text(text).tokens)
            p = torch.softmax(m(torch.as_tensor(x)[None])[0, q].detach(), -1).numpy()
            got.append(
                {
                    "text": text[:40],
                    "want": want,
                    "said": cue.ANSWERS[int(p.argmax())],
                    "p": float(p.max()),
                }
            )
        out[f"{name}.typed"] = {"kind": "examples", "n": len(got), "sentences": got}
    return out


@torch.no_grad()
def adding_mse(n: int) -> dict:
    """Test MSE at T = 50 of the shipped adding models and of always answering 1.0."""
    x, y, _ = adding.make_batch(rng(7), n, 50)
    out, how = {}, "Student's t over sequences"
    for name in {**compare.ADDING_MODELS, "always_1": "always 1.0"}:
        pred = (
            np.full(n, adding.BASELINE_GUESS)
            if name == "always_1"
            else load_shipped(name)(torch.from_numpy(x))[:, -1, 0].numpy()
        )
        out[f"adding.mse.{name}"] = estimate("mse", stats.t_interval((pred - y) ** 2), n, how)
    return out


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n / 10; print, write nothing")
    parser.add_argument("--readme", action="store_true", help="also write the README's tables")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    div = 10 if args.quick else 1
    models = {name: load_shipped(name) for name in compare.CUE_MODELS}
    lstm = models["cue_lstm"]
    claims, started = {}, time.perf_counter()
    for label, fn in [
        ("accuracy by gap", lambda: accuracy_table(models, 2000 // div)),
        ("forget gates shut", lambda: forget_closed(lstm, 5000 // div)),
        ("forget gates shut, short", lambda: forget_closed_short(lstm, 2000 // div)),
        ("memory cells", lambda: memory_cells(lstm, 2000 // div, 2000 // div)),
        ("free sentences", lambda: free_sentences(models, 2000 // div)),
        ("adding", lambda: adding_mse(5000 // div)),
        ("chars and lesson examples", lambda: claims_examples.measure(rng, div)),
    ]:
        claims.update(fn())
        print(f"[{time.perf_counter() - started:6.1f} s] {label}", file=sys.stderr)
    record = {
        "meta": {
            "made_by": "python scripts/measure_claims.py",
            "date": datetime.date.today().isoformat(),
            "seed": SEED,
            "torch": torch.__version__,
            "seconds": round(time.perf_counter() - started, 1),
        },
        "claims": claims,
    }
    if not args.quick:
        PATH.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        print(f"wrote {PATH}", file=sys.stderr)
    import claims_readme  # the README's tables, made from the record just written

    print(claims_readme.rows(record))
    if args.readme and not args.quick:
        print(f"README tables written: {claims_readme.write_readme(record)}", file=sys.stderr)
    return record


if __name__ == "__main__":
    main()
