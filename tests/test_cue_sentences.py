"""Any sentence works on the cue models (issue 13): typed text with punctuation, capitals and words
the model never saw is read through `lstm_viz.inputs.text_input`, as the app reads it; unknown
words become the unknown token (filler) and are marked; the answer is read at the query step."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_viz.inputs import text_input
from lstm_viz.models import SequenceModel, load_shipped
from lstm_viz.tasks import cue

# (text, the answer the story says, words in it the model never saw)
STORIES = [
    (cue.STORY_MARTHA, "She", []),
    (cue.STORY_SANTA_FE, "New Mexico", ["reportedly"]),
]
OWN = [
    (
        "Yesterday Martha went to the market with her brother and then she",
        "She",
        ["her"],
    ),
    (
        "When Peter finished his homework, the whole family drove to the seaside and watched "
        "the fireworks. Then he",
        "He",
        ["finished", "his", "homework", "fireworks"],
    ),
    (
        "I grew up in a town called Denver, where my grandmother sold marmalade at the farmers' "
        "market. That town is in",
        "Colorado",
        ["marmalade", "farmers"],
    ),
    (
        "Anna adopted a scruffy labrador puppy from the shelter last autumn, and everybody "
        "agrees that she",
        "She",
        ["adopted", "scruffy", "labrador", "shelter", "agrees"],
    ),
    (
        "The astronaut trained for years near Houston before the mission. Everyone knows that "
        "Houston is in",
        "Texas",
        ["astronaut", "trained", "mission"],
    ),
]
CORES = ["cue_lstm", "cue_gru", "cue_rnn_tanh"]


@pytest.fixture(scope="module")
def models() -> dict[str, SequenceModel]:
    return {name: load_shipped(name) for name in CORES}


def _answer(model: SequenceModel, text: str) -> tuple[int, str, list[str], list[int]]:
    """(query step, the model's answer there, labels, unknown steps), via the app's API."""
    got = text_input(model, text)
    tokens = cue.read_text(text).tokens
    q = cue.query_step(tokens)
    tr, preds = model.trace(got.x, labels=got.labels)  # the heatmaps' trace, every step
    assert tr.steps == len(got.labels) == len(tokens) and preds.shape == (tr.steps, 6)
    with torch.no_grad():  # the trace's outputs are the model's own
        direct = model(torch.as_tensor(got.x)[None])[0].numpy()
    np.testing.assert_allclose(preds, direct, rtol=1e-5, atol=1e-5)
    return q, cue.ANSWERS[int(preds[q].argmax())], got.labels, got.unknown


@pytest.mark.parametrize("text, want, unseen", STORIES + OWN)
def test_typed_sentence_traces_and_the_lstm_answers_at_the_query_step(models, text, want, unseen):
    for w in unseen:  # the sentence really holds words outside the vocabulary
        assert w.lower() not in {t.lower() for t in cue.VOCAB}
    q, said, labels, unknown = _answer(models["cue_lstm"], text)
    assert q is not None and labels[q + 1 :][:1] in ([want], [])  # before the answer, or last
    assert [labels[k] for k in unknown] == [w for w in labels if w.lower() in unseen]
    assert sorted({labels[k].lower() for k in unknown}) == sorted(unseen)
    assert said == want


def test_gru_answers_every_sentence_and_the_rnn_all_but_the_santa_fe_story(models):
    for text, want, _ in STORIES + OWN:
        assert _answer(models["cue_gru"], text)[1] == want
        said = _answer(models["cue_rnn_tanh"], text)[1]
        # the README says so: the plain RNN answers He right after "Santa Fe..."
        assert (said == want) == (text != cue.STORY_SANTA_FE), (text, said)


def test_the_story_sentences_are_examples_and_read_as_typed():
    names = [ex.name for ex in cue.examples()]
    assert "Martha ... She (seed)" in names and "Santa Fe... New Mexico (story)" in names
    martha = cue.read_text(cue.STORY_MARTHA)
    want = ". as Martha proposed the bill in the house . She further in the statement proposed ."
    assert martha.labels == want.split()
    assert martha.unknown == [] and cue.query_step(martha.tokens) == 9  # the '.' before She
    town = cue.read_text(cue.STORY_SANTA_FE)
    assert town.labels == [
        "The", "speaker", "hailed", "from", "a", "town", "called", "Santa Fe", ".",
        "New Mexico", "reportedly", "has", ".",
    ]  # fmt: skip
    assert town.tokens[0] == "the" and town.unknown == [10]
    assert cue.query_step(town.tokens) == 8  # the '...' before New Mexico


def test_unknown_words_are_filler_and_capitalised_ones_get_a_note(models):
    got = text_input(models["cue_lstm"], "Yesterday Zorro met Mary’s cousin in Boulder (twice)!")
    # known words keep their meaning whatever their case; the possessive keeps the name
    assert got.labels == "Yesterday Zorro met Mary cousin in Boulder twice .".split()
    assert got.unknown == [1] and int(got.x[1]) == cue.VOCAB.index(cue.UNK)
    assert "does not know 'Zorro'" in got.note and "Martha" in got.note
    assert text_input(models["cue_lstm"], "Mary met John .").note is None
    # the issue's sentence: 'I' and 'speak' are known now, so it reads without a note
    issue = "I grew up in a town called Santa Fe ... I speak ... New Mexico"
    got = text_input(models["cue_lstm"], issue)
    assert got.unknown == [] and got.labels[7] == "Santa Fe" and got.labels[-1] == "New Mexico"


def test_the_unknown_token_typed_as_printed_reads_as_itself():
    reading = cue.read_text("as <unk> Mary <unk>.")
    assert reading.tokens == ["as", cue.UNK, "Mary", cue.UNK, "."] and reading.unknown == [1, 3]


def test_query_step():
    assert cue.query_step(["as", "Mary", "left", ".", "She", "went", "."]) == 3
    assert cue.query_step(["as", "Mary", "left", "."]) == 3  # no answer yet: the last step
    assert cue.query_step(["She", "left", "."]) is None  # no cue: no question was asked
    # the answer must follow the cue: an answer before it is not the question
    assert cue.query_step(["He", "met", "Boston", "people", ",", "Texas"]) == 4


def test_training_filler_uses_the_big_vocabulary_and_the_unknown_token():
    rng = np.random.default_rng(0)
    words = [t for _ in range(50) for t in cue.filler(rng, 100)]
    assert len(set(words)) > 1000 and len(cue.FILLER_WORDS) >= 2000
    share = words.count(cue.UNK) / sum(t not in ".," for t in words)
    assert 0.07 < share < 0.13  # UNK_RATE = 0.1 of the filler words
    assert not set(words) & (set(cue.CUE_ANSWER) | set(cue.ANSWERS))
    assert not {w.lower() for w in cue.FILLER_WORDS} & {"he", "she", "her", "his", "mexico"}


def test_the_wilson_interval_matches_hand_computed_values():
    lo, hi = cue.wilson(1000, 1000)  # all right: the interval still has width
    assert hi == 1.0 and lo == pytest.approx(1000 / (1000 + 1.96**2), abs=1e-12)
    # p = 0.5, n = 100: centred; width 2 * 1.96 * sqrt(0.0025 + 1.96**2 / 40000) / 1.038416
    lo, hi = cue.wilson(50, 100)
    assert (lo + hi) / 2 == pytest.approx(0.5) and hi - lo == pytest.approx(0.19234, abs=1e-5)
    with pytest.raises(ValueError, match="at least one sample"):
        cue.wilson(0, 0)
