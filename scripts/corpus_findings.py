"""Ask the whole corpus, on the shipped models: the measurements quoted in the README.

1. chars_lstm: select the first quote (at least 15 characters, not at a sequence's edge) in the
   held-out 100,000-character corpus, propose the hidden units on over it and off just around it
   (LSTMVis's rule), match them across the corpus, and count how many of the top 20 matched spans
   lie wholly inside quotes (`chars.inside_quotes`), beside the same count over all spans and the
   share of the text inside quotes (what a random span would score).
2. cue_lstm: select the gap of the first "He" sentence with a gap of at least 100 tokens (from
   just after the cue through the query), propose the cell units on over it, match them across
   2,000 held-out sentences, and count how many of the top 20 matches start inside another
   sentence's gap, how much of that gap they cover, and whether that sentence has the same answer.

    python scripts/corpus_findings.py
"""

from __future__ import annotations

import time

import numpy as np
import torch

import lstm_viz
from lstm_viz.corpus import shipped_corpus
from lstm_viz.tasks import chars


def quote_spans(text: str) -> list[tuple[int, int]]:
    """(first, last) step of every run inside quotes (the opening quote counts as inside)."""
    q = np.concatenate([[0], chars.inside_quotes(text), [0]])
    edges = np.flatnonzero(np.diff(q))
    return [(int(a), int(b) - 1) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def chars_finding(threshold: float = 0.0) -> None:
    corpus, ct = shipped_corpus("chars_lstm")
    inside = chars.inside_quotes("".join(corpus.info["text"]))  # (N,) flat, as the corpus
    seq, (a, b) = next(
        (i, span)
        for i, text in enumerate(corpus.info["text"])
        for span in quote_spans(text)
        if span[1] - span[0] >= 15 and span[0] > 0 and span[1] + 1 < len(text)
    )
    text = corpus.info["text"][seq]
    print(f"chars_lstm, {corpus.description}; {ct.nbytes / 1e6:.1f} MB in float16")
    print(f"  selection: sequence {seq}, steps {a}-{b}: {text[a : b + 2]!r} (hidden, layer 0)")
    print("  threshold  units  found                                          top-20 inside  all")
    for thr in (threshold, 0.03, 0.05, 0.1):
        p = lstm_viz.propose_units(ct, a, b, thr, sequence=seq)
        if not p.units:
            print(f"  {thr:9.2f}  (no unit is on over the whole span and off around it)")
            continue
        start = time.perf_counter()
        res = lstm_viz.match(ct, p, top=20)
        ms = (time.perf_counter() - start) * 1000
        everything = lstm_viz.match(ct, p, top=res.n_matches)
        top = sum(_all_inside(ct, inside, m) for m in res.matches)
        share = np.mean([_all_inside(ct, inside, m) for m in everything.matches])
        print(
            f"  {thr:9.2f}  {str(p.units):5s}  {res.summary:45s}  {top:2d} / {len(res.matches)}"
            f"  {share:13.1%}  ({ms:.0f} ms)"
        )
        if thr == threshold:
            main = (p, res, everything)
    p, res, everything = main
    n_quotes = sum(len(quote_spans(t)) for t in corpus.info["text"])
    opened = sum(corpus.labels[m.sequence][m.start] == '"' for m in everything.matches)
    print(
        f"  at threshold {threshold}: {opened} of {res.n_matches} spans begin at an opening quote"
    )
    print(f"  ({n_quotes} quotes in the corpus); {inside.mean():.1%} of all characters are inside")
    print(f"  quotes; spans most often start with {res.starts[:3]}")


def _all_inside(ct, inside, m) -> bool:
    lo = ct.offsets[m.sequence] + m.start
    return bool(inside[lo : lo + m.length].all())


def cue_finding(threshold: float = 1.0) -> None:
    corpus, ct = shipped_corpus("cue_lstm")
    cue, query = np.array(corpus.info["cue"]), np.array(corpus.info["query"])
    answer, gap = np.array(corpus.info["answer"], dtype=object), np.array(corpus.info["gap"])
    seq = int(np.argmax((answer == "He") & (gap >= 100)))
    a, b = int(cue[seq]) + 1, int(query[seq])
    labels = corpus.labels[seq]
    print(f"\ncue_lstm, {corpus.description}; {ct.nbytes / 1e6:.1f} MB in float16")
    print(
        f"  selection: sentence {seq} (cue {labels[cue[seq]]!r}, answer {answer[seq]!r}), "
        f"steps {a}-{b}: the {gap[seq]}-token gap and the query (cell, layer 0)"
    )
    # after=0: the sentence goes on with the answer, and nothing there tells a cell to let go
    print(
        "  threshold  units                 found                                            "
        "top 20: in a gap  covers  same answer"
    )
    for thr in (0.5, threshold, 2.0):
        p = lstm_viz.propose_units(ct, a, b, thr, sequence=seq, name="cell", before=1, after=0)
        if not p.units:
            print(f"  {thr:9.2f}  (no cell is on over the whole gap and off at the cue)")
            continue
        res = lstm_viz.match(ct, p, name="cell", top=20)
        in_gap = [cue[m.sequence] < m.start <= query[m.sequence] for m in res.matches]
        cover = [_cover(m, cue, query) for m in res.matches]
        same = sum(answer[m.sequence] == answer[seq] for m in res.matches)
        print(
            f"  {thr:9.2f}  {str(p.units):20s}  {res.summary:47s}  {sum(in_gap):9d} / 20"
            f"  {np.mean(cover):6.0%}  {same:5d} / 20"
        )
        if thr == threshold:
            whole = lstm_viz.match(ct, p, name="cell", top=res.n_matches)
            hit = {
                m.sequence for m in whole.matches if cue[m.sequence] < m.start <= query[m.sequence]
            }
            he = set(np.flatnonzero(answer == "He").tolist())
            kinds = {k: sum(answer[s] == k for s in hit) for k in dict.fromkeys(answer)}
            print(
                f"  at threshold {threshold}: matches start inside the gap of {len(hit)} sentences"
                f" ({len(he & hit)} of the {len(he)} He sentences); their answers: {kinds}"
            )


def _cover(m, cue, query) -> float:
    """Share of the sentence's gap (cue + 1 .. query) that the span covers."""
    lo, hi = int(cue[m.sequence]) + 1, int(query[m.sequence])
    return max(0, min(hi, m.end) - max(lo, m.start) + 1) / (hi - lo + 1)


if __name__ == "__main__":
    torch.set_num_threads(1)
    chars_finding()
    cue_finding()
