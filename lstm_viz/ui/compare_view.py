"""RNN vs GRU vs LSTM: one cue input at a chosen gap through the three shipped cue models, their
answers, the saliency of each answer over the input, accuracy over the gap and the adding problem,
every accuracy and error with its n and 95% interval (`lstm_viz.core_tables`): the cue table and
the shipped adding models re-measured on fresh samples (claims.json, as in the README), the
per-answer counts at the chosen gap live on fresh sentences drawn the same way, the adding rows
over T as recorded ("no interval").

The view builds its own input (the sidebar's is not used): a cue, `gap` filler tokens, the query.
Every sentence of reading below the charts is made from the numbers shown, so it says what this
input and the recorded tables show, whichever way that goes. The gradient at the cue is read in
`compare.gradient_reading`'s words (lesson stop 8 uses them too): its value on this sentence and,
beside it, its spread over fresh sentences at the same gap.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from lstm_viz import compare, core_tables, figures, stats
from lstm_viz.tasks import cue
from lstm_viz.ui.common import CHART
from lstm_viz.ui.loaders import load_model


@st.cache_resource(show_spinner=False, max_entries=3)
def _model64(name: str):
    """A float64 copy of a shipped model for gradients (shared read-only, like load_model)."""
    return compare.float64_copy(load_model(name))


@st.cache_data(show_spinner=False, max_entries=32)
def _measure(word: str, gap: int, seed: int, clause: int) -> dict:
    """Answers (probabilities at the query) and saliency curves of the three models."""
    seq = compare.cue_sequence(word, gap, seed, clause)
    out = {"seq": seq, "probs": {}, "saliency": {}, "rate": {}}
    for name, title in compare.CUE_MODELS.items():
        out["probs"][title] = compare.answer_probs(load_model(name), seq.ids, seq.query_step)
        sal = compare.answer_saliency(_model64(name), seq.ids, seq.query_step, seq.answer)
        out["saliency"][title] = sal
        out["rate"][title] = compare.decades_per_step(sal, seq.cue_step + 1, seq.query_step - 1)
    return out


@st.cache_data(show_spinner=False, max_entries=32)
def _by_answer(gap: int) -> dict:
    """Accuracy by answer at `gap` on the fresh sentences (about 2 s at gap 200; cached)."""
    return {
        t: core_tables.accuracy_by_answer(load_model(n), gap, fresh=True)
        for n, t in compare.CUE_MODELS.items()
    }


def _input_ui() -> tuple[str, int, int, int]:
    c1, c2, c3, c4 = st.columns([2, 3, 4, 1.3])
    word = c1.selectbox(
        "Cue", compare.CUES, key="lv_cmp_cue", format_func=lambda w: f"{w} → {cue.CUE_ANSWER[w]}"
    )
    clauses = cue.NAME_CLAUSES if word in cue.FEMALE + cue.MALE else cue.TOWN_CLAUSES
    clause = c2.selectbox(
        "Cue clause", [0, 1], key="lv_cmp_clause", format_func=lambda k: clauses[k].format("…")
    )
    lo, hi = compare.GAP_RANGE
    gap = c3.slider("Gap (filler tokens)", lo, hi, 50, key="lv_cmp_gap")
    seed = c4.number_input("Filler seed", 0, 9999, 0, key="lv_cmp_seed")
    return word, int(clause), int(gap), int(seed)


def _answers_ui(m: dict) -> None:
    seq = m["seq"]
    for col, (title, probs) in zip(st.columns(3), m["probs"].items(), strict=True):
        said = cue.ANSWERS[int(np.argmax(probs))]
        right = said == seq.answer
        col.metric(
            title,
            said,
            f"{'right' if right else 'wrong'} · p = {probs.max():.3f}",
            delta_color="normal" if right else "inverse",
        )
        col.image(
            figures.prediction_bars(cue.ANSWERS, probs, seq.query_step, top=3), width="stretch"
        )


def _saliency_reading(m: dict, spread: compare.GradientSpread) -> str:
    seq, sal, rate = m["seq"], m["saliency"], m["rate"]
    here = {t: float(s[seq.cue_step]) for t, s in sal.items()}
    text = compare.gradient_reading(here, seq.query_step - seq.cue_step, spread) + " "
    per = ", ".join(f"{t} {r:.3f}" for t, r in rate.items())
    med = ", ".join(f"{t} {np.median(r):.3f}" for t, r in spread.rate.items())
    rnn, gated = rate["RNN (tanh)"], max(rate["GRU"], rate["LSTM"])
    text += (
        f"Powers of ten lost per step back in time (slope of the log curve across the gap), on "
        f"this sentence: {per} (medians over the {spread.n}: {med}). "
    )
    if rnn > 2 * gated:
        text += "Here the plain RNN's gradient vanishes much faster than the gated cores'. "
    else:
        text += "On this input the plain RNN's gradient does not vanish much faster. "
    right = [t for t, p in m["probs"].items() if cue.ANSWERS[int(np.argmax(p))] == seq.answer]
    text += (
        f"Answering right here: {', '.join(right) or 'none'}. A tiny gradient is not a forgotten "
        "cue (a model can keep a bit in a stable state that small changes at the cue do not "
        "move); it means training gets almost no signal from the cue across this gap."
    )
    return text


def _pct(v: float) -> str:
    """Enough digits to tell 99.95% from 100%."""
    return "100%" if v == 1 else f"{100 * v:.2f}%" if v >= 0.99 else f"{100 * v:.1f}%"


def _ci(lo: float, hi: float) -> str:
    """'95% CI 98.60–99.89%': both ends with the digits the upper one needs."""
    d = 2 if hi >= 0.99 else 1
    return f"95% CI {100 * lo:.{d}f}–" + ("100%" if hi == 1 else f"{100 * hi:.{d}f}%")


def _accuracy_reading(table: dict, by_answer: dict, gap: int) -> str:
    """The fresh table per core (each end with its interval) and the live per-answer counts at
    `gap`; "falls with the gap" only when the ends' intervals do not overlap."""
    lines = []
    for title, row in table.items():
        first, last = row[min(row)], row[max(row)]
        n = f"n = {first['n']:,} fresh sentences per gap"
        ends = f"gaps {min(row)} to {max(row)}"
        if all(c["value"] == 1 for c in row.values()):
            lines.append(f"- **{title}**: 100% at every gap from {min(row)} to {max(row)} ({n}).")
            continue
        low = min(row, key=lambda g: row[g]["value"])
        lo = row[low]
        trend = (
            f"it falls with the gap: the intervals at gap {min(row)} and {max(row)} do not overlap"
            if last["hi"] < first["lo"]
            else f"no fall with the gap that {n} can tell (the intervals at gap {min(row)} and "
            f"{max(row)} overlap)"
        )
        lines.append(
            f"- **{title}**: lowest {_pct(lo['value'])} ({_ci(lo['lo'], lo['hi'])}) at gap {low}, "
            f"over {ends}; {trend}."
        )
    some = next(iter(by_answer.values()))
    total = sum(v["n"] for v in some.values())
    lines.append(
        f"\nNow at gap {gap}, on {total:,} fresh sentences drawn like the table's (at its gaps, "
        "the very same sentences), by answer:\n"
    )
    for title, answers in by_answer.items():
        right = sum(v["correct"] for v in answers.values())
        lo, hi = stats.wilson(right, total)
        wrong = [
            f"{a} ({v['correct']:,} of {v['n']:,}, {_ci(v['lo'], v['hi'])}, says {v['said']})"
            for a, v in answers.items()
            if v["correct"] < v["n"]
        ]
        good = sum(v["correct"] == v["n"] for v in answers.values())
        tail = f"; misses {', '.join(wrong)}" if wrong else ""
        lines.append(
            f"- {title}: {right:,} of {total:,} right ({_ci(lo, hi)}); every cue right for "
            f"{good} of {len(answers)} answers{tail}."
        )
    for title, answers in by_answer.items():
        held = [a for a, v in answers.items() if v["correct"] == v["n"]]
        none = [a for a, v in answers.items() if v["correct"] == 0]
        row = table.get(title, {})
        flat = bool(row) and row[max(row)]["hi"] >= row[min(row)]["lo"]
        if held and none and len(held) + len(none) == len(answers) and flat:
            # all-or-nothing per answer, and no decline with the gap: learning, not memory
            lines.append(
                f"\n{title} gets every cue of {len(held)} answers right and every cue of the "
                f"other {len(none)} wrong, and its accuracy does not measurably fall with the gap: "
                "it failed to learn those answers, not to remember. A few bits can be held "
                "without gates; the adding problem (right) needs more."
            )
    return "\n".join(lines)


def compare_view(src, tr, preds, trace_id: str) -> None:
    st.markdown("### RNN vs GRU vs LSTM on the long-gap cue task")
    st.caption(
        "The shipped cue_rnn_tanh, cue_gru and cue_lstm were trained under one protocol (seed 0, "
        "32 units, 6,000 Adam steps, the plain RNN 12,000, on gaps of 0 to 50 filler tokens). "
        "This view builds its own input below; the sidebar's input is not used here."
    )
    word, clause, gap, seed = _input_ui()
    m = _measure(word, gap, seed, clause)
    seq = m["seq"]
    shown = seq.tokens if len(seq.tokens) <= 24 else [*seq.tokens[:10], "…", *seq.tokens[-8:]]
    st.code(" ".join(shown), language=None, wrap_lines=True)
    st.markdown(f"#### Answers at the question (step {seq.query_step}); right: {seq.answer}")
    _answers_ui(m)
    st.markdown("#### Saliency: how much the answer depends on each earlier input")
    fig = figures.step_lines(
        m["saliency"], seq.tokens, None, "|d answer / d input| (log)", log=True,
        marks={seq.cue_step: word, seq.query_step: "question"},
    )  # fmt: skip
    st.plotly_chart(fig, key="lv_cmp_saliency", config=CHART)
    # the spread over fresh sentences at this gap: computed once per gap (compare caches it)
    st.markdown(_saliency_reading(m, compare.gradient_spread(gap)))
    table = core_tables.fresh_cue()
    n = next(iter(next(iter(table.values())).values()))["n"]
    left, right = st.columns(2, gap="medium")
    with left:
        st.markdown("#### Accuracy over the gap")
        st.plotly_chart(
            figures.accuracy_by_gap(table, gap, f"fresh sentences, n = {n:,} per point"),
            key="lv_cmp_accuracy",
            config=CHART,
        )
        st.markdown(
            f"Each point: accuracy at the question on {n:,} fresh sentences (seeds no training "
            "batch or held-out set uses; `scripts/measure_claims.py`, the README's cue table), "
            "its bar the 95% Wilson interval.\n\n" + _accuracy_reading(table, _by_answer(gap), gap)
        )
    with right:
        st.markdown("#### The adding problem")
        adding, source, n_rec = core_tables.recorded_adding()
        fresh = core_tables.fresh_adding()
        st.plotly_chart(
            figures.adding_mse(adding, f"lines: recorded, n = {n_rec:,}, no interval", fresh),
            key="lv_cmp_adding",
            config=CHART,
        )
        st.markdown(
            "Two real numbers, marked somewhere in a sequence of T random ones, must be kept "
            "exactly until the last step; always answering 1.0 scores the dashed line. "
            + _adding_reading(adding, source, n_rec, fresh)
        )


def _adding_reading(adding: dict, source: str, n_rec: int, fresh: dict) -> str:
    """The recorded rows (no interval) and the re-measured T = 50 points (t intervals)."""
    base = adding.get("always 1.0", {})
    out, kinds = [], set()
    for title, row in adding.items():
        if title == "always 1.0":
            continue
        solved = [T for T, v in row.items() if base.get(T) and v < 0.1 * base[T]]
        kinds.add(tuple(solved))
        where = f"T = {', '.join(map(str, solved))}" if solved else "no T"
        out.append(f"{title} gets below a tenth of the baseline at {where}")
    verdict = "the cores separate here" if len(kinds) > 1 else "the cores do not separate here"
    text = (
        f"Recorded in {source}, n = {n_rec:,} test sequences per point, no interval: "
        + "; ".join(out)
        + f": {verdict}."
    )
    if fresh:
        b = fresh["always 1.0"]
        parts, says = [], []
        for title, c in fresh.items():
            parts.append(f"{title} {c['value']:.4f} (95% CI {c['lo']:.4f}–{c['hi']:.4f})")
            if title == "always 1.0":
                continue
            if c["hi"] < 0.1 * b["lo"]:
                says.append(f"{title} below a tenth of always 1.0's, even at its interval's ends")
            elif c["lo"] <= b["hi"] and b["lo"] <= c["hi"]:
                says.append(f"{title} no better than always 1.0 (the intervals overlap)")
            else:
                says.append(f"{title} below always 1.0 but not below a tenth of it")
        T, n = b["T"], b["n"]
        text += (
            f" The shipped T = {T} models re-measured on {n:,} fresh sequences (test MSE with its "
            f"95% Student's t interval; the diamonds): {', '.join(parts)}: {'; '.join(says)}."
        )
    return text
