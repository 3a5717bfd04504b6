"""Every lesson moment is found on the real shipped model, and the claim its text makes holds on
the trace (re-measured here from the trace, not read back from the lesson's numbers); the compare
module's live numbers reproduce the recorded tables."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import lstm_viz
from lstm_viz import claims, compare, core_tables, lessons, probes, stats
from lstm_viz.interventions import Clamp
from lstm_viz.models import load_shipped, shipped_metrics
from lstm_viz.tasks import chars, cue
from lstm_viz.trace import trace

TITLES = [lesson.title for lesson in lessons.LESSONS]


def _lesson(title: str) -> tuple[lessons.Lesson, lessons.Moment]:
    k = TITLES.index(title)
    return lessons.LESSONS[k], lessons.moment(k)


def test_six_to_eight_stops_each_on_a_real_input_with_its_numbers_in_the_text():
    assert 6 <= len(lessons.LESSONS) <= 9
    for k, lesson in enumerate(lessons.LESSONS):
        m = lessons.moment(k)
        ex = lessons.example(lesson.model, lesson.example)
        assert m.trace.labels == list(ex.labels)
        assert 0 <= m.step < m.trace.steps
        # the trace is the shipped model's own trace of the example, bit for bit
        fresh, _ = load_shipped(lesson.model).trace(ex.x)
        np.testing.assert_array_equal(fresh.gate("hidden"), m.trace.gate("hidden"))
        text = lessons.text(k)
        assert "{" not in text and len(text) > 200
        assert all(np.shape(v) == (m.trace.steps,) for v in m.lines.values())


def test_marks_name_the_words_at_their_steps_and_the_text_names_them():
    for k in range(len(lessons.LESSONS)):
        m, text = lessons.moment(k), lessons.text(k)
        for step, label in m.marks.items():
            token = m.trace.labels[step]
            assert f"'{token}'" in label  # the mark shows the word at its step
            assert token in text or label.startswith(("question", "merged")), (k, label)
        if m.marks:  # the stop's own step is one of the marked words
            assert m.step in m.marks, k
    assert sum(bool(lessons.moment(k).marks) for k in range(len(lessons.LESSONS))) == 5


def test_forget_gate_drops_at_a_space():
    _, m = _lesson("Forget: a word ends")
    mean = m.trace.gate("forget").mean(axis=1)
    drops = np.diff(mean)
    assert m.trace.labels[m.step] == chars.SPACE
    assert drops[m.step - 1] == drops.min() < -0.2
    space = np.array([t == chars.SPACE for t in m.trace.labels])
    assert mean[space].mean() < mean[~space].mean() - 0.1
    n = m.numbers  # both means of this text say over how many characters
    assert (n["n_space"], n["n_other"]) == (space.sum(), (~space).sum())
    assert f"over the other {n['n_other']})" in lessons.text(TITLES.index("Forget: a word ends"))


def test_input_gate_opens_at_brackets_and_writes_plus_and_minus():
    _, m = _lesson("Input: a unit that writes at brackets")
    i, g = m.trace.gate("input")[:, m.unit], m.trace.gate("candidate")[:, m.unit]
    labels = m.trace.labels
    bracket = np.array([t in "()" for t in labels])
    assert labels[m.step] == "("
    assert i[bracket].min() >= m.numbers["i_bracket_floor"] >= 0.9
    assert i[~bracket].mean() < 0.3
    assert g[[t == "(" for t in labels]].mean() > 0.8
    assert g[[t == ")" for t in labels]].mean() < -0.8
    written = np.abs(i * g)
    assert written[bracket].min() > 0.85  # every bracket writes almost a full +-1
    assert (written[~bracket] > 0.5).sum() == m.numbers["n_other_writes"] < 0.1 * (~bracket).sum()


def test_cell_counts_bracket_depth():
    _, m = _lesson("Cell: a bracket counter")
    text = "".join(" " if t == chars.SPACE else t for t in m.trace.labels)
    depth = chars.bracket_depth(text)
    cell = m.trace.gate("cell")[:, m.unit]
    means = [cell[depth == d].mean() for d in range(depth.max() + 1)]
    assert np.all(np.diff(means) > 1.0)  # one step up per level
    assert np.corrcoef(cell, depth)[0, 1] > 0.95
    said = lessons.text(TITLES.index("Cell: a bracket counter"))
    assert f"with the depth over the {len(text)} characters of this sentence" in said
    assert depth[m.step] == depth.max() and depth[m.step - 1] < depth.max()
    assert probes.best_units(load_shipped("chars_lstm"), text)["bracket"]["unit"] == m.unit


def test_cell_keeps_the_answer_across_the_gap():
    _, m = _lesson("Cell: carrying the cue across the gap")
    n = m.numbers
    d, s = m.lines.values()
    at = m.trace.labels.index(n["word"])
    q = at + n["gap"]
    assert m.trace.labels[q] == "in" and m.step == at  # the stop shows the town its text names
    assert m.marks == {at: f"'{n['word']}'", q: "question: 'in'"}
    assert np.all(d[:at] == 0) and np.all(s[:at] == 0)
    assert np.argmin(d[at : q + 1]) == 0  # never below its size at the town
    assert d[q] > 10 * d[at]
    assert s[q] < s[at] and d[q] > 50 * s[q]  # same answer: close, and much closer than d
    assert n["ratio"] == pytest.approx(d[q] / s[q])
    assert n["other_answer"] == cue.TOWNS[n["other"]] != n["answer"]
    assert n["same_answer"] == n["answer"] == cue.TOWNS[n["same"]]


def test_output_gate_stays_open_so_the_answer_is_read_at_every_word():
    _, m = _lesson("Output: the memory reaches h at every word")
    o, h = m.trace.gate("output")[:, m.unit], m.trace.gate("hidden")[:, m.unit]
    c = m.trace.gate("cell")[:, m.unit]
    at = next(k for k, t in enumerate(m.trace.labels) if t in cue.CUE_ANSWER)
    q = m.step
    gap = slice(at + 1, q - 4)
    assert m.trace.labels[q] == "in" and m.trace.labels[q + 1] in cue.ANSWERS
    assert m.unit == shipped_metrics("cue_lstm")["memory"]["cue_units"][0]["unit"]
    assert np.median(o[gap]) > 0.5 and o[q] > 0.5  # open through the filler and at the question
    assert np.median(np.abs(h[gap])) > 0.3 and np.median(np.abs(c[gap])) > 1.0
    right = cue.ANSWERS.index(m.trace.labels[q + 1])
    share = np.mean(m.preds[gap].argmax(-1) == right)
    assert share == m.numbers["right_share"] >= 0.95
    assert m.numbers["answer"] == m.trace.labels[q + 1]


def test_clamping_many_memory_cells_changes_the_answer_but_three_do_not():
    _, m = _lesson("Break the memory")
    memory = shipped_metrics("cue_lstm")["memory"]
    right = m.trace.labels[m.step + 1]
    assert cue.ANSWERS[int(m.preds[m.step].argmax())] == right
    assert cue.ANSWERS[int(m.extra["clamped"][m.step].argmax())] != right
    assert m.extra["units"] == memory["ranked_units"][: m.numbers["k"]]
    assert memory["clamp_curve"]["3"] == m.numbers["heldout3"] >= 0.99  # three: nothing happens
    assert memory["clamp_curve"]["32"] < 0.5  # all of them: the cue is gone
    # the record is the probe's own measurement on the shipped model
    got = probes.memory_units(load_shipped("cue_lstm"), gap=memory["gap"])
    assert got["clamp_curve"] == memory["clamp_curve"]


def test_plain_rnn_keeps_two_towns_apart_like_the_lstm():
    _, m = _lesson("The plain RNN keeps the town too")
    n = m.numbers
    rnn, lstm = m.lines.values()
    at = m.trace.labels.index(n["word"])
    q = m.trace.labels.index(n["answer"], at + 1) - 1
    assert m.trace.kind == "rnn" and q - at == n["gap"]
    assert np.all(rnn[:at] == 0) and rnn[at : q + 1].min() == n["rnn_min"] > 1.0
    assert rnn[q] > 1.0 and lstm[q] > 1.0
    assert n["rnn_said"] == n["lstm_said"] == n["other_answer"] != n["answer"]
    assert n["right"] == n["n"] == 1000 and n["learned"] == 6
    assert n["rnn_steps"] == 2 * n["lstm_steps"] == cue.CORE_STEPS["rnn_tanh"]


def _claims_hold(text: str, here: dict[str, float], spread: compare.GradientSpread) -> None:
    """What `compare.gradient_reading` says about one sentence and its gap, re-checked."""
    low, mid, high = sorted(here, key=here.get)
    assert here[low] < here[mid] < here[high]
    order = " < ".join(compare.SHORT[t] for t in (low, mid, high))
    assert f": {order}. " in text  # this sentence's order, as the values show it
    # how often each order holds over the fresh sentences, counted here pairwise
    at = spread.at_cue
    for b in range(spread.n):
        lo, mi, hi = sorted(at, key=lambda t: at[t][b])
        assert at[lo][b] < at[mi][b] < at[hi][b]
    counts = {}
    for b in range(spread.n):
        key = " < ".join(compare.SHORT[t] for t in sorted(at, key=lambda t: at[t][b]))
        counts[key] = counts.get(key, 0) + 1
    assert sum(counts.values()) == spread.n >= 40
    for key, k in counts.items():
        assert f"{key} on {k}" in text
    assert f"(this sentence's order: {counts.get(order, 0)} of {spread.n})" in text
    for t, v in at.items():
        assert f"{t} {np.median(v):.1e} ({v.min():.1e} to {v.max():.1e})" in text


def test_gradient_statement_holds_on_every_sentence_it_is_shown_for():
    _, m = _lesson("Gradients vanish in the plain RNN")
    n, spread, here = m.numbers, m.extra["spread"], m.extra["here"]
    at = m.step
    # one protocol: the stop's spread is the compare view's at the same gap (same cached object)
    ex = lessons.example("cue_rnn_tanh", 2)
    assert ex.name.endswith(f"(gap {n['gap']})") and spread is compare.gradient_spread(n["gap"])
    assert m.trace.labels[at] == n["word"]
    assert n["back"] == m.trace.labels.index(n["answer"]) - 1 - at
    # the values quoted are lstm_viz.saliency's, one sentence at a time, in float64
    k = cue.ANSWERS.index(n["answer"])
    for name, title in compare.CUE_MODELS.items():
        model64 = compare.float64_copy(load_shipped(name))
        x = torch.as_tensor(ex.x)[None]
        one = lstm_viz.saliency(model64, x, at + n["back"], select=lambda y: y[k])
        assert one[at] == pytest.approx(here[title], rel=1e-9) == m.lines[title][at]
    _claims_hold(lessons.text(7), here, spread)
    # the spread's batched gradients equal lstm_viz.saliency on its own sentences (8 of them)
    ids, query, answer, cue_at = cue.make_batch(
        np.random.default_rng(compare.GRADIENT_SEED + spread.gap), spread.n, spread.gap
    )
    for b in range(8):
        for name, title in compare.CUE_MODELS.items():
            model64 = compare.float64_copy(load_shipped(name))
            x = torch.as_tensor(ids[b, : query[b] + 1])[None]
            one = lstm_viz.saliency(model64, x, query[b], select=lambda y, a=answer[b]: y[a])
            assert one[cue_at[b]] == pytest.approx(spread.at_cue[title][b], rel=1e-9)
    # every sentence of the spread, shown in the compare view, gets claims that hold for it
    for b in range(spread.n):
        mine = {t: float(v[b]) for t, v in spread.at_cue.items()}
        _claims_hold(compare.gradient_reading(mine, 100, spread), mine, spread)
    # on this sentence the RNN's gradient vanishes fastest, and all three answer right
    assert n["rnn_rate"] > 5 * max(n["lstm_rate"], n["gru_rate"])
    assert min(n["rnn_p"], n["gru_p"], n["lstm_p"]) > 0.99
    assert all(v.mean() >= 0.95 for v in spread.right.values())


def test_recorded_tables_agree_with_the_docs_and_live_accuracy():
    recorded = core_tables.recorded_cue()
    docs = core_tables._markdown_table(core_tables.TABLE.read_text(), "### Cue task")
    for core, row in docs.items():
        for gap, acc in row.items():
            assert recorded[core][gap] == pytest.approx(acc)
    adding, source, n_adding = core_tables.recorded_adding()
    assert "core_comparison" in source and adding["GRU"][50] == 0.0014 and n_adding == 1000
    # the view's live per-answer numbers reproduce the recorded accuracy at a recorded gap
    by = core_tables.accuracy_by_answer(load_shipped("cue_rnn_tanh"), 100)
    n = core_tables.HELDOUT_N
    assert sum(v["correct"] for v in by.values()) / n == recorded["RNN (tanh)"][100]
    assert sum(v["n"] for v in by.values()) == n and by["He"]["said"] == "He"


def test_cue_sequence_and_float64_saliency():
    seq = compare.cue_sequence("Boston", 20, seed=3)
    assert seq.tokens[seq.cue_step] == "Boston" and seq.answer == "Massachusetts"
    assert seq.tokens[-4:] == ["that", "town", "is", "in"] and seq.query_step == len(seq.tokens) - 1
    with pytest.raises(ValueError, match="unknown cue"):
        compare.cue_sequence("Paris", 20)
    model = load_shipped("cue_lstm")
    s64 = compare.answer_saliency(compare.float64_copy(model), seq.ids, seq.query_step, seq.answer)
    k = cue.ANSWERS.index(seq.answer)
    from lstm_viz import saliency

    s32 = saliency(model, torch.as_tensor(seq.ids)[None], seq.query_step, select=lambda y: y[k])
    big = s32 > 1e-6
    np.testing.assert_allclose(s64[big], s32[big], rtol=1e-3)


# ---- the stops' worded claims against the recorded evidence (issue 15) -------------------------


def test_one_example_numbers_say_so_and_show_the_fresh_spread_beside_them():
    spreads = {  # stop title -> the recorded spreads its text quotes beside its one example
        "Forget: a word ends": ["lesson.forget_space_minus_other"],
        "Input: a unit that writes at brackets": ["lesson.bracket_input_min"],
        "Cell: a bracket counter": ["lesson.bracket_cell_r"],
        "Cell: carrying the cue across the gap": ["lesson.cue_ratio"],
        "Output: the memory reaches h at every word": ["lesson.output_gate_gap"],
        "Break the memory": ["lesson.clamp_k_p_right"],
        "The plain RNN keeps the town too": ["lesson.rnn_closest"],
    }
    for title, keys in spreads.items():
        text = lessons.text(TITLES.index(title))
        assert "this sentence" in text or "this text" in text, title
        for key in keys:
            c = claims.get(key)
            assert c["n"] >= 40, key
            worded = {claims.spread(key, d).split(" over ")[0] for d in (0, 2, 3)}
            assert any(w in text for w in worded), (title, key)
            # the recorded "this" is the stop's own example, measured the same way
            assert "this" in c


def test_break_the_memory_words_its_rates_as_recorded():
    k, text = TITLES.index("Break the memory"), lessons.text(TITLES.index("Break the memory"))
    three = claims.get("cue_lstm.cells_clamped.k3")
    assert claims.evidence("cue_lstm.cells_clamped.k3", 2) in text and three["lo"] > 0.99
    for n in (6, 10, 16, 32):  # "at chance" exactly where the interval covers chance
        key = f"cue_lstm.cells_clamped.k{n}"
        worded = claims.versus_chance(key) if claims.at_chance(key) else claims.evidence(key)
        assert f"{n} cells: {worded}" in text
    assert "16 cells: at chance" in text  # as measured: its interval covers 37.7%
    flipped = claims.get("lesson.clamp_k_flipped")
    assert flipped["cells"] == lessons.moment(k).numbers["k"] and flipped["n"] >= 1000
    assert claims.evidence("lesson.clamp_k_flipped") in text


def test_break_the_memory_three_cells_re_measured_on_a_small_fresh_sample():
    """Three cells clamped barely matter: 200 fresh sentences (a seed the record does not use)."""
    model = load_shipped("cue_lstm")
    units = shipped_metrics("cue_lstm")["memory"]["ranked_units"][:3]
    ids, query, answer, at = cue.make_batch(np.random.default_rng([15_000_015, 98]), 200, 100)
    right = 0
    for a in np.unique(at):
        rows = np.flatnonzero(at == a)
        zero = [Clamp("cell", 0.0, units=units, steps=range(int(a) + 1, ids.shape[1]))]
        tr = trace(model.core, model.encode(ids[rows]), interventions=zero)
        logits = model.head(torch.as_tensor(tr.output))[np.arange(len(rows)), query[rows]]
        right += int((logits.argmax(-1).numpy() == answer[rows]).sum())
    assert stats.wilson(right, 200)[1] >= claims.get("cue_lstm.cells_clamped.k3")["lo"]
    assert right >= 190


def test_plain_rnn_stop_quotes_fresh_accuracy_with_n():
    text = lessons.text(TITLES.index("The plain RNN keeps the town too"))
    rec = claims.get("cue_rnn_tanh.accuracy.gap100")
    assert claims.evidence("cue_rnn_tanh.accuracy.gap100", 2) in text
    assert rec["n"] >= 1000 and rec["lo"] > 0.99
    assert claims.evidence("lesson.rnn_swapped_right") in text
