"""The second half of `measure_claims.py`: the character model's units on fresh text, and for
each lesson stop that measures one example, the same measurement over fresh examples like it.

A lesson stop quotes numbers found on its one input ("on this sentence"); beside them it shows
how the same number spreads over fresh inputs of the same kind (median and range), so a reader
sees whether the example is typical. Fresh texts are generated with int seeds from
15_000_015_000 on (the chars model trained from seed 0; its held-out text is seed 20150605, the
corpus 20170101); fresh cue sentences come from the two-word seeds `measure_claims.rng` makes.
"""

from __future__ import annotations

import numpy as np
import torch

from lstm_viz import lessons, stats
from lstm_viz.interventions import Clamp
from lstm_viz.models import load_shipped, shipped_metrics
from lstm_viz.tasks import chars, cue
from lstm_viz.trace import trace

TEXT_SEED = 15_000_015_000
TEXT_CHARS = 500  # each fresh text; 200 of them are 100,000 characters
BOOT = dict(n_boot=1000, seed=11)


def _spread(values, this: float | None = None) -> dict:
    return {"kind": "spread", **stats.spread(values), **({} if this is None else {"this": this})}


def _prop(hits, n, **extra) -> dict:
    lo, hi = stats.wilson(int(hits), int(n))
    return {
        "kind": "proportion",
        "value": hits / n,
        "k": int(hits),
        "n": int(n),
        "lo": lo,
        "hi": hi,
        **extra,
    }


def _corr(rows: np.ndarray) -> float:
    """Pooled Pearson r from per-text sums (n, Sx, Sy, Sxx, Syy, Sxy)."""
    n, sx, sy, sxx, syy, sxy = rows.sum(0)
    return float((n * sxy - sx * sy) / np.sqrt((n * sxx - sx**2) * (n * syy - sy**2)))


def _sums(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return np.array([len(x), x.sum(), y.sum(), (x * x).sum(), (y * y).sum(), (x * y).sum()])


@torch.no_grad()
def chars_claims(n_texts: int) -> dict:
    model = load_shipped("chars_lstm")
    texts = [chars.generate_text(TEXT_CHARS, TEXT_SEED + k) for k in range(n_texts)]
    tr = trace(model.core, model.encode(np.stack([chars.encode_text(t) for t in texts])))
    m = shipped_metrics("chars_lstm")
    quote, depth = [chars.inside_quotes(t) for t in texts], [chars.bracket_depth(t) for t in texts]
    out, n_chars = {}, n_texts * TEXT_CHARS
    how = f"bootstrap over {n_texts} texts of {TEXT_CHARS} characters"
    for key, signal in (("quote", quote), ("bracket", depth)):
        x = tr.gate(m[f"{key}_state"])[:, :, m[f"{key}_unit"]]  # (texts, T)
        rows = np.stack(
            [_sums(x[b].astype(float), signal[b].astype(float)) for b in range(n_texts)]
        )
        value, lo, hi = stats.bootstrap_ci(rows, _corr, **BOOT)
        out[f"chars_lstm.{key}_r"] = {
            "kind": "r",
            "value": value,
            "lo": lo,
            "hi": hi,
            "n": n_chars,
            "texts": n_texts,
            "method": how,
            "unit": m[f"{key}_unit"],
            "state": m[f"{key}_state"],
        }
    space = np.array([[c == " " for c in t] for t in texts])  # (texts, T)
    bracket = np.array([[c in "()" for c in t] for t in texts])
    forget = tr.gate("forget")  # (texts, T, H)
    # stop 1: the layer's mean forget gate, lower at spaces than at other characters
    mean_f = forget.mean(-1)
    gap = [mean_f[b][space[b]].mean() - mean_f[b][~space[b]].mean() for b in range(n_texts)]
    here = lessons.moment(0).numbers
    out["lesson.forget_space_minus_other"] = _spread(gap, here["space"] - here["other"])
    drop_at_space = [space[b][np.argmin(np.diff(mean_f[b])) + 1] for b in range(n_texts)]
    out["lesson.forget_largest_drop_at_space"] = _prop(sum(drop_at_space), n_texts)
    # stops 2 and 3: the bracket unit's input gate at brackets and its cell against the depth
    unit = lessons.moment(1).unit
    i, c = tr.gate("input")[:, :, unit], tr.gate("cell")[:, :, unit]
    has = [b for b in range(n_texts) if bracket[b].any()]
    here = lessons.moment(1).numbers
    out["lesson.bracket_input_min"] = _spread(
        [i[b][bracket[b]].min() for b in has], here["i_bracket_min"]
    )
    out["lesson.bracket_input_other"] = _spread(
        [i[b][~bracket[b]].mean() for b in has], here["i_other"]
    )
    out["lesson.bracket_input_open"] = _prop((i[bracket] >= 0.9).sum(), bracket.sum())
    r = [np.corrcoef(c[b], depth[b])[0, 1] for b in has]
    out["lesson.bracket_cell_r"] = _spread(r, lessons.moment(2).numbers["r"])
    # stop 9: the unit whose forget gate shuts at spaces
    unit = lessons.moment(8).unit
    f = forget[:, :, unit]
    out["lesson.space_forget_below_0.02"] = _prop((f[space] < 0.02).sum(), space.sum())
    out["lesson.space_forget_max"] = {
        "kind": "max",
        "value": float(f[space].max()),
        "n": int(space.sum()),
    }
    rows = np.stack([[f[b][~space[b]].sum(), (~space[b]).sum()] for b in range(n_texts)])
    est = stats.bootstrap_ci(rows, lambda r: float(r[:, 0].sum() / r[:, 1].sum()), **BOOT)
    out["lesson.space_forget_other_mean"] = {
        "kind": "mean",
        "value": est[0],
        "lo": est[1],
        "hi": est[2],
        "n": int((~space).sum()),
        "method": how,
    }
    return out


def _towns(rng, n: int, filler: int) -> list[dict]:
    """n fresh town sentences (cue, `filler` words, query, answer, suffix), each with a town of
    another answer and a town of the same answer to swap in."""
    out = []
    for _ in range(n):
        tokens, at, answer, suffix = cue.make_sequence(rng, filler, "town")
        others = [t for t in cue.TOWNS if cue.TOWNS[t] != answer]
        same = [t for t in cue.TOWNS if cue.TOWNS[t] == answer and t != tokens[at]]
        full = tokens + [answer] + suffix
        out.append(
            dict(
                tokens=full,
                at=at,
                q=len(tokens) - 1,
                answer=answer,
                other=others[rng.integers(len(others))],
                same=same[rng.integers(len(same))],
            )
        )
    return out


@torch.no_grad()
def _run(model, sents: list[dict], swap: str | None = None, clamp_units=None):
    """Trace each sentence (with its town swapped for `swap`'s, or cells clamped after the cue)
    one by one: returns [(trace, logits (T, A))]."""
    out = []
    for s in sents:
        toks = list(s["tokens"])
        if swap:
            toks[s["at"]] = s[swap]
        clamps = None
        if clamp_units is not None:
            clamps = [Clamp("cell", 0.0, units=clamp_units, steps=range(s["at"] + 1, len(toks)))]
        tr = trace(model.core, model.encode(cue.encode(toks))[0], interventions=clamps)
        out.append((tr, model.head(torch.as_tensor(tr.output, dtype=torch.float32)).numpy()))
    return out


def cue_lessons(rng, n: int) -> dict:
    lstm, rnn = load_shipped("cue_lstm"), load_shipped("cue_rnn_tanh")
    sents = _towns(rng, n, 100)  # stops 4-6 use a generated town sentence at gap 100
    base, other, same = (_run(lstm, sents, w) for w in (None, "other", "same"))
    ratio, never_below, o_gap, right_share = [], 0, [], []
    unit = shipped_metrics("cue_lstm")["memory"]["cue_units"][0]["unit"]
    for s, (a, la), (b, _), (c, _) in zip(sents, base, other, same, strict=True):
        d = np.linalg.norm(a.gate("cell") - b.gate("cell"), axis=1)
        e = np.linalg.norm(a.gate("cell") - c.gate("cell"), axis=1)
        at, q = s["at"], s["q"]
        ratio.append(d[q] / e[q])
        never_below += int(d[at : q + 1].min() >= d[at])
        gap = slice(at + 1, q - 4)
        o_gap.append(float(np.median(a.gate("output")[gap, unit])))
        right = cue.ANSWERS.index(s["answer"])
        right_share.append(float(np.mean(la[gap].argmax(-1) == right)))
    m4, m5, m6 = (lessons.moment(k).numbers for k in (3, 4, 5))
    out = {
        "lesson.cue_ratio": _spread(ratio, m4["ratio"]),
        "lesson.cue_never_below": _prop(never_below, n),
        "lesson.output_gate_gap": _spread(o_gap, m5["o_gap"]),
        "lesson.answer_share_gap": _spread(right_share, m5["right_share"]),
    }
    k = m6["k"]
    ranked = shipped_metrics("cue_lstm")["memory"]["ranked_units"]
    clamped = _run(lstm, sents, clamp_units=ranked[:k])
    p_right, flipped = [], 0
    for s, (_, logits) in zip(sents, clamped, strict=True):
        p = lstm.readout(logits[s["q"]])
        right = cue.ANSWERS.index(s["answer"])
        p_right.append(float(p[right]))
        flipped += int(p.argmax() != right)
    out["lesson.clamp_k_p_right"] = _spread(p_right, m6["p_right_after"]) | {"cells": k}
    out["lesson.clamp_k_flipped"] = _prop(flipped, n, cells=k)
    # stop 7: the plain RNN, on fresh town sentences with the example's filler length
    m7 = lessons.moment(6).numbers
    sents = _towns(rng, n, m7["gap"] - len(cue.TOWN_QUERY))
    closest, answered = [], 0
    for s, (a, _), (b, lb) in zip(sents, _run(rnn, sents), _run(rnn, sents, "other"), strict=True):
        d = np.linalg.norm(a.gate("hidden") - b.gate("hidden"), axis=1)
        closest.append(float(d[s["at"] : s["q"] + 1].min()))
        answered += int(cue.ANSWERS[int(lb[s["q"]].argmax())] == cue.TOWNS[s["other"]])
    out["lesson.rnn_closest"] = _spread(closest, m7["rnn_min"]) | {"gap": m7["gap"]}
    out["lesson.rnn_swapped_right"] = _prop(answered, n, gap=m7["gap"])
    return out


def corpus_claims() -> dict:
    """The README's "Ask the whole corpus" counts, with n and Wilson intervals: over the whole
    fixed held-out corpora (`scripts/corpus_findings.py` makes the same selections)."""
    from corpus_findings import _all_inside, _cover, quote_spans

    import lstm_viz
    from lstm_viz.corpus import shipped_corpus

    corpus, ct = shipped_corpus("chars_lstm")
    inside = chars.inside_quotes("".join(corpus.info["text"]))
    seq, (a, b) = next(
        (i, span)
        for i, text in enumerate(corpus.info["text"])
        for span in quote_spans(text)
        if span[1] - span[0] >= 15 and span[0] > 0 and span[1] + 1 < len(text)
    )
    out = {"corpus.chars_inside_quotes": _prop(inside.sum(), inside.size)}
    for thr in (0.0, 0.03, 0.05):
        p = lstm_viz.propose_units(ct, a, b, thr, sequence=seq)
        top = lstm_viz.match(ct, p, top=20)
        every = lstm_viz.match(ct, p, top=top.n_matches)
        hits = [_all_inside(ct, inside, m) for m in every.matches]
        out[f"corpus.quote_top20_inside.{thr}"] = _prop(
            sum(_all_inside(ct, inside, m) for m in top.matches), len(top.matches)
        )
        out[f"corpus.quote_spans_inside.{thr}"] = _prop(sum(hits), len(hits), units=p.units)
    corpus, ct = shipped_corpus("cue_lstm")
    cue_at, query = np.array(corpus.info["cue"]), np.array(corpus.info["query"])
    answer, gap = np.array(corpus.info["answer"], dtype=object), np.array(corpus.info["gap"])
    seq = int(np.argmax((answer == "He") & (gap >= 100)))
    p = lstm_viz.propose_units(
        ct, int(cue_at[seq]) + 1, int(query[seq]), 1.0, sequence=seq, name="cell", before=1, after=0
    )
    top = lstm_viz.match(ct, p, name="cell", top=20)
    cover = [_cover(m, cue_at, query) for m in top.matches]
    mean, lo, hi = stats.t_interval(cover)
    out["corpus.cue_top20_cover"] = {
        "kind": "mean",
        "value": mean,
        "lo": lo,
        "hi": min(hi, 1.0),
        "n": len(cover),
        "method": "Student's t over the 20",
    }
    return out


def measure(rng, div: int = 1) -> dict:
    """Every claim of this file; `rng(tag)` makes the fresh cue sentences' generator."""
    return (
        chars_claims(max(40, 200 // div))
        | cue_lessons(rng(9), max(40, 1000 // div))
        | corpus_claims()
    )
