"""Moments for lesson mode: each function traces one real input with a shipped model and searches
the trace for the step (often a unit) where something visibly happens, returning the numbers the
lesson's text quotes (`lstm_viz.lessons` holds the texts; tests/test_lessons.py re-checks every
claim on the trace).

What the shipped models really do shaped these searches. The cue LSTM does not close its forget
gate at sentence ends, nor open its input gate widest on the name (its input gate is open at most
steps), so the forget and input moments come from the character model instead: its forget gate
drops at spaces and its bracket unit writes at brackets. The cue LSTM (retrained for issue 13 to
answer at any word of a typed sentence) keeps towns with different answers far apart across 100
words and towns with the same answer close; its memory cells keep their output gates open, and
it spreads the answer over many cells, so clamping three changes nothing. The plain RNN, given
twice the training steps, keeps towns with different answers apart across the gap too.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from lstm_viz import compare, core_tables
from lstm_viz.gate_terms import gate_drivers, gate_terms
from lstm_viz.interventions import Clamp
from lstm_viz.models import SequenceModel, load_shipped, shipped_metrics
from lstm_viz.tasks import Example, chars, cue, get_task
from lstm_viz.trace_result import LSTMTrace


@dataclass
class Moment:
    step: int  # where the lesson puts the view
    unit: int | None  # the unit the text is about (None: the whole layer)
    numbers: dict  # measured values the text quotes
    lines: dict[str, np.ndarray]  # curves over the steps to draw, name -> (T,)
    ylabel: str  # what the curves measure
    log: bool = False  # draw the curves on a log axis
    trace: LSTMTrace | None = None  # the lesson model's trace on its input
    preds: np.ndarray | None = None  # its outputs (T, out)
    extra: dict = field(default_factory=dict)  # e.g. a second model's trace
    # the words the text names, step -> label, to mark on the curves (`figures.step_lines`)
    marks: dict[int, str] = field(default_factory=dict)


def _named(labels: list[str], at: int | None = None, q: int | None = None) -> dict[int, str]:
    """Marks for the cue (the town or name) at `at` and the question's last word at `q`."""
    marks = {} if at is None else {at: f"'{labels[at]}'"}
    return marks | ({} if q is None else {q: f"question: '{labels[q]}'"})


@functools.lru_cache(maxsize=8)
def model(name: str) -> SequenceModel:
    return load_shipped(name)


@functools.lru_cache(maxsize=16)
def example(name: str, index: int) -> Example:
    """The `index`-th example of the model's task (the sidebar offers the same list)."""
    return get_task(model(name).config.task).examples()[index]


def _trace(name: str, index: int, tokens: list[str] | None = None):
    ex = example(name, index)
    # labels are words as typed ("The", "reportedly"): read them back as the app would
    x = ex.x if tokens is None else cue.encode(cue.tokenize(" ".join(tokens)))
    return model(name).trace(x, labels=list(tokens or ex.labels))


def _cue_steps(labels: list[str]) -> tuple[int, int]:
    """(cue step, query step) of a cue example: the query is the step before the answer."""
    return cue.cue_step(labels), cue.query_step(labels)


def _swap(labels: list[str], at: int, word: str) -> list[str]:
    return [word if k == at else t for k, t in enumerate(labels)]


def forget_at_space() -> Moment:
    tr, preds = _trace("chars_lstm", 0)
    mean = tr.gate("forget").mean(axis=1)  # (T,) over all units
    step = int(np.argmin(np.diff(mean))) + 1  # the largest one-step drop
    space = np.array([t == chars.SPACE for t in tr.labels])
    nums = dict(
        units=tr.units("forget"),
        token=tr.labels[step],
        before=float(mean[step - 1]),
        at=float(mean[step]),
        space=float(mean[space].mean()),
        other=float(mean[~space].mean()),
        n_space=int(space.sum()),
        n_other=int((~space).sum()),
    )
    lines = {"mean forget gate": mean}
    return Moment(step, None, nums, lines, "mean forget gate", trace=tr, preds=preds)


def _bracket_unit(tr: LSTMTrace) -> tuple[int, np.ndarray]:
    """The unit whose input gate opens most at brackets compared with every other character."""
    bracket = np.array([t in "()" for t in tr.labels])
    i = tr.gate("input")
    return int(np.argmax(i[bracket].mean(0) - i[~bracket].mean(0))), bracket


def input_at_bracket() -> Moment:
    tr, preds = _trace("chars_lstm", 1)
    unit, bracket = _bracket_unit(tr)
    i, g = tr.gate("input")[:, unit], tr.gate("candidate")[:, unit]
    opens = [k for k, t in enumerate(tr.labels) if t == "("]
    closes = [k for k, t in enumerate(tr.labels) if t == ")"]
    nums = dict(
        unit=unit,
        i_bracket_min=float(i[bracket].min()),
        i_bracket_floor=np.floor(float(i[bracket].min()) * 100) / 100,  # "at least" stays true
        i_other=float(i[~bracket].mean()),
        g_open=float(g[opens].mean()),
        g_close=float(g[closes].mean()),
        n_open=len(opens),
        n_other=int((~bracket).sum()),
        n_other_writes=int((np.abs(i * g)[~bracket] > 0.5).sum()),
        other_writes=", ".join(
            f"'{tr.labels[k]}' at step {k}"
            for k in np.flatnonzero(~bracket & (np.abs(i * g) > 0.5))[:3]
        ),
    )
    lines = {f"input gate, unit {unit}": i, f"written, input × candidate, unit {unit}": i * g}
    return Moment(opens[0], unit, nums, lines, "value", trace=tr, preds=preds)


def cell_counts_depth() -> Moment:
    tr, preds = _trace("chars_lstm", 1)
    unit, _ = _bracket_unit(tr)
    depth = chars.bracket_depth("".join(" " if t == chars.SPACE else t for t in tr.labels))
    cell = tr.gate("cell")[:, unit]
    by_depth = {d: float(cell[depth == d].mean()) for d in sorted(set(depth.tolist()))}
    nums = dict(
        unit=unit,
        r=float(np.corrcoef(cell, depth)[0, 1]),
        n_chars=len(cell),
        by_depth=by_depth,
        levels=", ".join(f"{v:+.2f} at depth {d}" for d, v in by_depth.items()),
    )
    lines = {f"cell, unit {unit}": cell, "bracket depth": depth.astype(float)}
    step = int(np.argmax(depth))  # the first step at the deepest level
    return Moment(step, unit, nums, lines, "value", trace=tr, preds=preds)


def cue_carried() -> Moment:
    tr, preds = _trace("cue_lstm", 3)
    at, q = _cue_steps(tr.labels)
    word, answer = tr.labels[at], cue.CUE_ANSWER[tr.labels[at]]
    # the same input with another town: one whose state has another answer, one the same answer
    other = next(t for t in cue.TOWNS if cue.TOWNS[t] != answer)
    same = next(t for t in cue.TOWNS if t != word and cue.TOWNS[t] == answer)
    dist, said = {}, {}
    for town in (other, same):
        tr2, preds2 = _trace("cue_lstm", 3, _swap(tr.labels, at, town))
        dist[town] = np.linalg.norm(tr.gate("cell") - tr2.gate("cell"), axis=1)  # (T,)
        said[town] = cue.ANSWERS[int(preds2[q].argmax())]
    d, s = dist[other], dist[same]
    nums = dict(
        word=word, answer=answer, other=other, other_answer=said[other], same=same,
        same_answer=said[same], gap=q - at, at_cue=float(d[at]),
        min_gap=float(d[at : q + 1].min()), at_query=float(d[q]),
        same_at_cue=float(s[at]), same_at_query=float(s[q]), ratio=float(d[q] / s[q]),
    )  # fmt: skip
    lines = {f"{word} vs {other}": d, f"{word} vs {same}": s}
    # the step is the town, a word the text names (the gap's middle was an arbitrary "the")
    ylabel, marks = "distance between cell states", _named(tr.labels, at, q)
    return Moment(at, None, nums, lines, ylabel, True, tr, preds, marks=marks)


def output_release() -> Moment:
    """The best memory cell's output gate across the gap: open, so h carries the answer at every
    word (the model was trained to answer at any word), and the answer read at each step."""
    tr, preds = _trace("cue_lstm", 3)
    at, q = _cue_steps(tr.labels)
    o, h, c = tr.gate("output"), tr.gate("hidden"), tr.gate("cell")
    gap = slice(at + 1, q - 4)  # the filler only (the query clause starts 5 steps before q)
    unit = shipped_metrics("cue_lstm")["memory"]["cue_units"][0]["unit"]
    p = model("cue_lstm").readout(preds[q])
    right = cue.ANSWERS.index(cue.CUE_ANSWER[tr.labels[at]])
    said = preds[gap].argmax(-1)  # (gap,) the answer the model would give at each filler word
    nums = dict(
        unit=unit, o_gap=float(np.median(o[gap, unit])), o_query=float(o[q, unit]),
        h_gap=float(np.median(np.abs(h[gap, unit]))), h_query=float(h[q, unit]),
        c_gap=float(np.median(np.abs(c[gap, unit]))), token=tr.labels[q],
        answer=cue.ANSWERS[int(p.argmax())], p=float(p.max()), n_gap=len(said),
        right_share=float(np.mean(said == right)), word=tr.labels[at],
    )  # fmt: skip
    lines = {f"output gate, unit {unit}": o[:, unit], f"hidden, unit {unit}": h[:, unit]}
    return Moment(
        q, unit, nums, lines, "value", trace=tr, preds=preds, marks=_named(tr.labels, q=q)
    )


def clamp_memory() -> Moment:
    """Zero the best k memory cells after the cue, for the smallest k in the recorded clamp curve
    that changes this example's answer (three are not enough: the answer is spread out)."""
    tr, preds = _trace("cue_lstm", 3)
    at, q = _cue_steps(tr.labels)
    memory = shipped_metrics("cue_lstm")["memory"]
    curve = {int(k): v for k, v in memory["clamp_curve"].items()}
    ex = example("cue_lstm", 3)
    right = cue.ANSWERS.index(cue.CUE_ANSWER[tr.labels[at]])
    for k in sorted(curve):
        units = memory["ranked_units"][:k]
        hold = [Clamp("cell", 0.0, units=units, steps=range(at + 1, tr.steps))]
        tr2, preds2 = model("cue_lstm").trace(ex.x, interventions=hold, labels=list(ex.labels))
        if preds2[q].argmax() != right:
            break
    p, p2 = model("cue_lstm").readout(preds[q]), model("cue_lstm").readout(preds2[q])
    nums = dict(
        k=k, word=tr.labels[at], before=cue.ANSWERS[int(p.argmax())],
        p_before=float(p.max()), after=cue.ANSWERS[int(p2.argmax())], p_after=float(p2.max()),
        p_right_after=float(p2[right]), eta2=memory["cue_units"][0]["eta2"],
        eta2_last=memory["eta2_ranked"][-1], n_units=len(memory["eta2_ranked"]),
        heldout3=curve[3], heldout=curve[k], gap=memory["gap"], n_heldout=memory["n_sequences"],
        acc=shipped_metrics("cue_lstm")["accuracy_by_gap"][str(memory["gap"])],
        curve="; ".join(f"{n} cells: {a:.1%}" for n, a in sorted(curve.items())),
    )  # fmt: skip
    u = units[0]
    lines = {
        f"cell {u} as trained": tr.gate("cell")[:, u],
        f"cell {u} clamped to 0": tr2.gate("cell")[:, u],
    }
    extra = {"clamped": preds2, "units": units}
    marks = _named(tr.labels, at, q)
    return Moment(q, u, nums, lines, "cell value", False, tr, preds, extra, marks)


def rnn_keeps_towns() -> Moment:
    """The plain RNN's hidden states for this town and another with another answer: they stay
    apart across the gap (it answers right), as the LSTM's do; it only needed more training."""
    tr, preds = _trace("cue_rnn_tanh", 1)
    at, q = _cue_steps(tr.labels)
    word, answer = tr.labels[at], cue.CUE_ANSWER[tr.labels[at]]
    other = next(t for t in cue.TOWNS if cue.TOWNS[t] not in (answer, "New Mexico", "Colorado"))
    dist, said = {}, {}
    for core in ("cue_rnn_tanh", "cue_lstm"):
        a, _ = _trace(core, 1)
        b, pb = _trace(core, 1, _swap(tr.labels, at, other))
        dist[core] = np.linalg.norm(a.gate("hidden") - b.gate("hidden"), axis=1)
        said[core] = cue.ANSWERS[int(pb[q].argmax())]
    r = dist["cue_rnn_tanh"]
    p = model("cue_rnn_tanh").readout(preds[q])
    held = core_tables.accuracy_by_answer(model("cue_rnn_tanh"), 100)  # the recorded test set
    nums = dict(
        right=sum(v["correct"] for v in held.values()), n=sum(v["n"] for v in held.values()),
        learned=sum(v["correct"] >= 0.99 * v["n"] for v in held.values()),
        word=word, answer=answer, other=other, other_answer=cue.TOWNS[other],
        rnn_said=said["cue_rnn_tanh"], lstm_said=said["cue_lstm"], rnn_at_cue=float(r[at]),
        rnn_min=float(r[at:q + 1].min()), rnn_at_query=float(r[q]), gap=q - at,
        lstm_at_query=float(dist["cue_lstm"][q]), p_answer=float(p[cue.ANSWERS.index(answer)]),
        rnn_steps=shipped_metrics("cue_rnn_tanh")["steps"],
        lstm_steps=shipped_metrics("cue_lstm")["steps"],
    )  # fmt: skip
    lines = {"RNN (tanh)": r, "LSTM": dist["cue_lstm"]}
    marks = _named(tr.labels, at, q)  # the stop shows the town its text names
    ylabel = "distance between hidden states"
    return Moment(at, None, nums, lines, ylabel, True, tr, preds, marks=marks)


GRADIENT_GAP = 100  # filler words in cue.examples()'s generated sentences (the stop's input)


def gradient_vanishes() -> Moment:
    """The gradient of the answer at the cue on the stop's sentence, and its spread over fresh
    sentences at the same gap: `compare`'s one protocol, in the compare view's words."""
    tr, preds = _trace("cue_rnn_tanh", 2)
    at, q = _cue_steps(tr.labels)
    answer = cue.CUE_ANSWER[tr.labels[at]]
    ids = example("cue_rnn_tanh", 2).x
    spread = compare.gradient_spread(GRADIENT_GAP)
    lines, here = {}, {}
    nums = dict(word=tr.labels[at], answer=answer, back=q - at, gap=GRADIENT_GAP, n=spread.n)
    for name, title in compare.CUE_MODELS.items():
        sal = compare.answer_saliency(compare.float64_copy(model(name)), ids, q, answer)
        core = model(name).config.core
        key = "rnn" if core == "rnn_tanh" else core  # the text quotes rnn_rate, gru_rate, ...
        lines[title] = np.where(np.arange(len(sal)) <= q, sal, np.nan)  # nothing after q
        here[title] = float(sal[at])
        nums[f"{key}_cue"] = float(sal[at])
        nums[f"{key}_rate"] = compare.decades_per_step(sal, at + 1, q - 1)
        nums[f"{key}_rate_median"] = float(np.median(spread.rate[title]))
        probs = compare.answer_probs(model(name), ids, q)
        nums[f"{key}_p"] = float(probs[cue.ANSWERS.index(answer)])
    nums["p_min"] = min(nums["rnn_p"], nums["gru_p"], nums["lstm_p"])
    nums["reading"] = compare.gradient_reading(here, q - at, spread)
    marks = _named(tr.labels, at, q)
    extra = {"spread": spread, "here": here}
    return Moment(at, None, nums, lines, "|gradient| (log scale)", True, tr, preds, extra, marks)


# ---- why the forget gate closes (issue 17: the gate's formula, term by term) -----------------


def forget_closed_by_space() -> Moment:
    """The unit whose forget gate shuts at spaces, and why: its pre-activation term by term.

    A character's input part W_if[u] . embedding(c) is the same wherever c occurs, so "what the
    space alone does" is one number; the recurrent part (the memory, W_hf[u] . h_{t-1}) varies.
    The stop shows the space where the memory pushes hardest to keep the gate open.
    """
    tr, preds = _trace("chars_lstm", 0)
    core = model("chars_lstm").core
    space = np.array([t == chars.SPACE for t in tr.labels])
    f = tr.gate("forget")
    unit = int(np.argmax(f[~space].mean(0) - f[space].mean(0)))
    d = gate_drivers(tr, core, "forget", unit)
    step = int(np.flatnonzero(space)[np.argmax(d.recurrent[space])])
    terms = gate_terms(tr, core, "forget", unit, step)
    by_char = dict(zip(tr.labels, d.input.tolist(), strict=True))  # one value per character
    ranked = sorted(by_char.items(), key=lambda kv: kv[1])
    nums = dict(
        unit=unit, f_space_max=float(f[space, unit].max()), f_other=float(f[~space, unit].mean()),
        n_space=int(space.sum()), n_other=int((~space).sum()), space_input=terms.input_total,
        memory=terms.recurrent_total,
        memory_min=float(d.recurrent[space].min()), bias=terms.bias_total,
        pre=terms.preactivation, value=terms.value, runner_up=ranked[1][0],
        runner_up_input=ranked[1][1], other_input=float(d.input[~space].mean()),
    )  # fmt: skip
    lines = {"input part (the character read)": d.input, "recurrent part (the memory)": d.recurrent}
    ylabel = f"terms of forget unit {unit}'s pre-activation"
    return Moment(step, unit, nums, lines, ylabel, trace=tr, preds=preds, extra={"terms": terms})
