"""Lesson mode as data: eight stops, each a moment found on a real input with a shipped model.

Every stop names a shipped model, one of its task's examples and a `find` function from
`lstm_viz.moments` that searches that input's trace for the moment and measures the numbers the
stop's text quotes. The text is formatted with those numbers, so it can only say what the trace
shows; tests/test_lessons.py re-checks every claim on the trace. A number found on the stop's one
input is said to be "on this sentence" (or text), and beside it stands the spread of the same
number over fresh inputs of its kind, with n and a 95% interval for rates, from the record
`scripts/measure_claims.py` writes (`lstm_viz.claims`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from lstm_viz import claims
from lstm_viz.moments import (
    Moment,
    cell_counts_depth,
    clamp_memory,
    cue_carried,
    example,
    forget_at_space,
    forget_closed_by_space,
    gradient_vanishes,
    input_at_bracket,
    output_release,
    rnn_keeps_towns,
)

__all__ = ["GATES", "LESSONS", "Lesson", "Moment", "example", "moment", "text"]

GATES = {  # the four gates in this app's words (the intro and the explanations use them)
    "forget": "how much of the old cell to keep",
    "input": "which values to update",
    "candidate": "the new candidate values (also called the input modulation)",
    "output": "what to pass on as the hidden state h",
}


@dataclass(frozen=True)
class Lesson:
    title: str
    model: str  # the shipped model the sidebar switches to
    example: int  # index into the task's examples()
    gate: str  # the gate or state shown as a heatmap row
    text: str  # explanation in Markdown, formatted with Moment.numbers
    find: Callable[[], Moment]


LESSONS = [
    Lesson(
        "Forget: a word ends",
        "chars_lstm",
        0,
        "forget",
        "The **forget** gate decides {forget}: 1 keeps all of it, 0 wipes it. This model reads "
        "text one character at a time and was trained to predict the next one. Averaged over "
        "its {units} units, the forget gate falls from {before:.2f} to {at:.2f} at step {step}, "
        "a space: the largest one-step drop anywhere in this text. On average it sits lower at "
        "spaces ({space:.2f} over the {n_space} spaces) than at the other characters "
        "({other:.2f} over the other {n_other}): when a word ends, the cells keep less of their "
        "old values. That is this text; over {forget_texts} the difference (spaces minus the "
        "rest) has {forget_spread}, and the largest drop falls at a space in {drop_at_space}.",
        forget_at_space,
    ),
    Lesson(
        "Input: a unit that writes at brackets",
        "chars_lstm",
        1,
        "input",
        "The **input** gate decides {input}. Unit {unit}'s input gate is at least "
        "{i_bracket_floor:.2f} at every bracket in this sentence, and only {i_other:.2f} on "
        "average at the other characters (over {bracket_texts}: its lowest value at a bracket "
        "has {bracket_min}; it is at least 0.9 at {bracket_open} of the fresh brackets). What "
        "it writes is input × **candidate**, the "
        "candidate being {candidate}: {g_open:+.2f} on average at '(' and {g_close:+.2f} at ')'. "
        "The candidate swings at many letters too, but with the input gate shut little of that "
        "reaches the cell: outside brackets the write exceeds 0.5 at {n_other_writes} of "
        "{n_other} characters ({other_writes}).",
        input_at_bracket,
    ),
    Lesson(
        "Cell: a bracket counter",
        "chars_lstm",
        1,
        "cell",
        "The **cell** is the unit's running memory: c(t) = forget × c(t-1) + input × candidate. "
        "Adding about +1 at each '(' and -1 at each ')' turns unit {unit}'s cell into a counter. "
        "Its mean value: {levels} (r = {r:.2f} with the depth over the {n_chars} characters of "
        "this sentence; over "
        "{bracket_texts} r has {bracket_r_spread}, and pooled r = {bracket_r}). Nobody told the "
        "model about "
        "brackets; it was only trained to predict the next character (Karpathy, Johnson & "
        "Fei-Fei 2015 found such cells in real text).",
        cell_counts_depth,
    ),
    Lesson(
        "Cell: carrying the cue across the gap",
        "cue_lstm",
        3,
        "cell",
        "This LSTM reads '{word}', then {gap} more words ending in '... that town is in', where "
        "it must answer {answer}. Run the same input with {other} (answer {other_answer}) in "
        "place of {word} and measure how far apart the two cell states are at every step (the "
        "curve). Before the town nothing differs. At the town they are {at_cue:.1f} apart; "
        "across the gap the distance never falls below that, and at the question it is "
        "{at_query:.1f}: the difference grows instead of fading. With {same} instead (the same "
        "answer, {same_answer}) the states start {same_at_cue:.1f} apart and end "
        "{same_at_query:.2f} apart, {ratio:.0f} times closer than the first pair: the cells keep "
        "the answer, not the word. That is this sentence; over {town_sentences} the ratio has "
        "{ratio_spread}, and the first distance never falls below its size at the town in "
        "{never_below}.",
        cue_carried,
    ),
    Lesson(
        "Output: the memory reaches h at every word",
        "cue_lstm",
        3,
        "output",
        "The **output** gate decides {output}: h = output × tanh(cell). This model was trained to "
        "answer at any word, since a typed sentence may ask anywhere ('... and then she'). Unit "
        "{unit}, its best memory cell, keeps its output gate open through the filler (median "
        "{o_gap:.2f} in this sentence; over {town_sentences} that per-sentence median has "
        "{o_gap_spread}), so its cell (median |c| {c_gap:.1f}) reaches h at every word (median |h| "
        "{h_gap:.2f}). Read at each of the {n_gap} filler words, the model's answer is already "
        "{answer} at {right_share:.0%} of them; at '{token}', the last word of the question, "
        "the gate is {o_query:.2f}, h is {h_query:.2f} and it answers {answer} (p = {p:.3f}).",
        output_release,
    ),
    Lesson(
        "Break the memory",
        "cue_lstm",
        3,
        "cell",
        "If some cells are the memory, removing them should make the model forget. At training "
        "time the {n_units} cell units were ranked by how much of their value across a "
        "{gap}-word gap the answer explains; on fresh sentences that is {eta2_first} for the "
        "first, still {eta2_last_ev} for the last. This model spreads the answer over many cells, "
        "so clamping the best three to 0 after the cue leaves accuracy on fresh sentences at gap "
        "{gap} at {clamp3}; more cells: {clamp_curve}. Here the best {k} cells are clamped to 0 at "
        "every step after '{word}', nothing else changed: the answer at the question turns from "
        "{before} (p = {p_before:.3f}) to {after} (p = {p_after:.3f}). That is this sentence: "
        "over {town_sentences} the same clamp turns the answer on {clamp_k_flipped}, and the "
        "right answer's p has {clamp_k_spread}. Try your own clamps in the Intervene view.",
        clamp_memory,
    ),
    Lesson(
        "The plain RNN keeps the town too",
        "cue_rnn_tanh",
        1,
        "hidden",
        "A plain RNN has no gates: h(t) = tanh(W·x(t) + U·h(t-1) + b) rewrites its whole state "
        "at every step. Yet run this input with {other} in place of {word} and compare the hidden "
        "states: {rnn_at_cue:.2f} apart at the town, never closer than {rnn_min:.2f} across the "
        "gap, and {rnn_at_query:.2f} at the question, {gap} words later. So it answers {rnn_said} "
        "for {other} (right: {other_answer}), as the LSTM does (its states end {lstm_at_query:.1f} "
        "apart). That is this sentence; over {rnn_sentences} the closest distance has "
        "{rnn_closest}, and it answers the swapped-in town right on {rnn_swapped}. On fresh "
        "sentences at gap 100 it is right on {rnn_gap100}; its weakest of the six answers, "
        "{rnn_worst_answer}. A few bits can sit in the attractors of a tanh RNN's state. What it "
        "lacked was training: it got {rnn_steps} steps, the gated cores {lstm_steps}; on the "
        "budget they had, it was still on a loss plateau (docs/core_comparison.md). The next "
        "stop shows why its gradient teaches it so slowly.",
        rnn_keeps_towns,
    ),
    Lesson(
        "Gradients vanish in the plain RNN",
        "cue_rnn_tanh",
        2,
        "hidden",
        "How strongly does the answer at the question depend on '{word}'? Measure the "
        "saliency: the size of the gradient of the answer with respect to each input, in "
        "float64. {reading} Going back in time, on this sentence the RNN's gradient loses "
        "{rnn_rate:.2f} powers of ten per step, the LSTM's {lstm_rate:.3f} and the GRU's "
        "{gru_rate:.3f} (medians over the {n}: {rnn_rate_median:.2f}, {lstm_rate_median:.3f} "
        "and {gru_rate_median:.3f}). All three still answer {answer} here (p ≥ {p_min:.4f}): a "
        "vanished gradient is not a forgotten cue. It says the gradient could hardly have taught "
        "the RNN this gap; it was trained on gaps up to 50, and the bit it keeps in h still "
        "carries across these {back} steps. RNN vs GRU vs LSTM, set to a gap of {gap}, shows "
        "the same spread beside any sentence you build.",
        gradient_vanishes,
    ),
    Lesson(
        "Why did the forget gate close?",
        "chars_lstm",
        0,
        "forget",
        "The **forget** gate decides {forget}, and like every gate it is a squashed sum: "
        "f = sigmoid(W_if·x(t) + b_if + W_hf·h(t-1) + b_hf). Unit {unit}'s forget gate averages "
        "{f_other:.2f} at the {n_other} other characters of this text and is at most "
        "{f_space_max:.3f} at "
        "its {n_space} spaces (on fresh text: below 0.02 at {space_shut} spaces, and "
        "{space_other} on average at the other characters). Why? Split its sum at step {step}, a "
        "space: the space itself adds "
        "{space_input:+.2f}; the memory, W_hf·h(t-1) over all 64 units, adds {memory:+.2f} (the "
        "most it adds at any space); the biases {bias:+.2f}. So f = sigmoid({pre:+.2f}) = "
        "{value:.3f}. The memory pulls to keep the cell, the character wins: no other character "
        "pushes this gate down half as hard ('{runner_up}' comes next, {runner_up_input:+.2f}). "
        'Click any cell of a heatmap in the step-by-step view and open "Why this value?" to '
        "split any gate this way.",
        forget_closed_by_space,
    ),
]


@functools.lru_cache(maxsize=len(LESSONS))
def moment(index: int) -> Moment:
    """The moment of lesson `index` (0-based), found on its real input (cached)."""
    if not 0 <= index < len(LESSONS):
        raise ValueError(
            f"lesson {index} out of range; there are {len(LESSONS)} (0..{len(LESSONS) - 1})"
        )
    return LESSONS[index].find()


def evidence() -> dict[str, str]:
    """The fresh-sample evidence the texts quote beside their one example, worded with n and
    intervals (`lstm_viz.claims`; `scripts/measure_claims.py` measures it)."""
    c, ev, sp = claims.get, claims.evidence, claims.spread
    texts = f"{c('lesson.forget_space_minus_other')['n']} fresh texts of 500 characters"
    towns = f"{c('lesson.cue_ratio')['n']:,} fresh town sentences at gap 100"
    rnn = c("lesson.rnn_closest")
    curve = "; ".join(
        f"{k} cells: " + (claims.versus_chance(key) if claims.at_chance(key) else ev(key))
        for k in (6, 10, 16, 32)
        for key in [f"cue_lstm.cells_clamped.k{k}"]
    )
    answers = ("He", "She", "New Mexico", "Massachusetts", "Texas", "Colorado")
    worst = min(answers, key=lambda a: c(f"cue_rnn_tanh.accuracy.gap100.{a}")["value"])
    return dict(
        forget_texts=texts,
        forget_spread=sp("lesson.forget_space_minus_other", 2, "texts").split(" over ")[0],
        drop_at_space=claims.count_of("lesson.forget_largest_drop_at_space"),
        bracket_texts=texts,
        bracket_min=sp("lesson.bracket_input_min", 2).split(" over ")[0],
        bracket_open=ev("lesson.bracket_input_open", 2),
        bracket_r_spread=sp("lesson.bracket_cell_r", 2).split(" over ")[0],
        bracket_r=ev("chars_lstm.bracket_r", 3)[:-1] + " characters)",
        town_sentences=towns,
        ratio_spread=sp("lesson.cue_ratio", 0).split(" over ")[0],
        never_below=claims.count_of("lesson.cue_never_below"),
        o_gap_spread=sp("lesson.output_gate_gap", 2).split(" over ")[0],
        eta2_first=ev("cue_lstm.eta2.first", 3),
        eta2_last_ev=ev("cue_lstm.eta2.last", 3),
        clamp3=ev("cue_lstm.cells_clamped.k3", 2),
        clamp_curve=curve,
        clamp_k_flipped=ev("lesson.clamp_k_flipped"),
        clamp_k_spread=sp("lesson.clamp_k_p_right", 3).split(" over ")[0],
        rnn_sentences=f"{rnn['n']:,} fresh town sentences, {rnn['gap']} steps from town to query",
        rnn_closest=sp("lesson.rnn_closest", 2).split(" over ")[0],
        rnn_swapped=ev("lesson.rnn_swapped_right"),
        rnn_gap100=ev("cue_rnn_tanh.accuracy.gap100", 2),
        rnn_worst_answer=f"{worst}, {ev(f'cue_rnn_tanh.accuracy.gap100.{worst}', 2)}",
        space_shut=claims.count_of("lesson.space_forget_below_0.02", 2),
        space_other=ev("lesson.space_forget_other_mean", 3),
    )


def text(index: int) -> str:
    """Lesson `index`'s explanation with the measured numbers filled in."""
    m = moment(index)
    return LESSONS[index].text.format(**GATES, **evidence(), **m.numbers, step=m.step)
