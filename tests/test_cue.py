"""The long-gap cue task: tokenizer, deterministic data, shipped models, a short training run."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_viz import probes
from lstm_viz.models import load_shipped, shipped_metrics, shipped_models
from lstm_viz.tasks import cue
from lstm_viz.train import fit

SHIPPED = ["cue_lstm", "cue_gru", "cue_rnn_tanh"]
MARTHA = "as Martha proposed the bill in the house . She further in the statement proposed"


def test_tokenize_keeps_multiword_names_whole_and_ignores_case():
    tokens = cue.tokenize("The speaker hailed from a town called Santa Fe ... New Mexico")
    assert tokens[-3:] == ["Santa Fe", ".", "New Mexico"]  # '...' ends a sentence: one '.'
    assert cue.tokenize("SANTA  fe! new\nmexico?") == ["Santa Fe", ".", "New Mexico", "."]
    assert tokens[0] == "the"  # case-insensitive, canonical spelling
    assert cue.tokenize(MARTHA) == MARTHA.split()


def test_tokenize_reads_unknown_words_as_the_unknown_token():
    assert cue.tokenize("as Zorblax proposed the quux") == [
        "as",
        cue.UNK,
        "proposed",
        "the",
        cue.UNK,
    ]
    reading = cue.read_text("as Zorblax proposed the quux")
    assert reading.unknown == [1, 4] and reading.capitalised == ["Zorblax"]
    assert reading.labels == ["as", "Zorblax", "proposed", "the", "quux"]
    with pytest.raises(ValueError, match="tokenize"):
        cue.encode(["the", "Zorblax"])


def test_encode_agrees_with_the_model_vocabulary():
    model = cue.build_model("lstm")
    tokens = cue.tokenize(MARTHA)
    assert model.config.vocab == cue.VOCAB
    assert list(cue.encode(tokens)) == model.tokens_to_ids(tokens)
    assert model.config.output_labels == cue.ANSWERS


def test_generator_is_deterministic_per_seed():
    a = cue.make_batch(np.random.default_rng(3), 16, 40)
    b = cue.make_batch(np.random.default_rng(3), 16, 40)
    c = cue.make_batch(np.random.default_rng(4), 16, 40)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("gap", [0, 1, 17, 120])
def test_sequences_have_the_gap_asked_for_and_neutral_filler(gap):
    rng = np.random.default_rng(gap)
    cues = set(cue.CUE_ANSWER) | set(cue.ANSWERS)
    for _ in range(20):
        tokens, at, answer, _ = cue.make_sequence(rng, gap)
        clause = cue.NAME_CLAUSES if answer in ("He", "She") else cue.TOWN_CLAUSES
        query = cue.NAME_QUERY if answer in ("He", "She") else cue.TOWN_QUERY
        head = len(next(c for c in clause if len(c.split()) > at and c.split()[at] == "{}").split())
        assert len(tokens) == head + gap + len(query)
        assert cue.CUE_ANSWER[tokens[at]] == answer
        assert not cues & set(tokens[at + 1 :])  # nothing after the cue gives the answer away


def test_examples_include_both_seed_sentences_and_the_chosen_gap():
    ex = cue.examples(gap=30, n=2)
    assert ex[0].labels == MARTHA.split()  # the story's sentence without its '...' elisions
    assert ex[1].labels[7] == "Santa Fe" and ex[1].labels[-2] == "New Mexico"
    assert {e.labels[-2] if e.labels[-1] == "." else None for e in ex[3:4]} <= set(cue.ANSWERS)
    for e in ex:
        assert e.x.dtype == np.int64 and len(e.x) == len(e.labels)
        assert list(e.x) == list(cue.encode(cue.tokenize(" ".join(e.labels))))
    assert len(ex) == 5 and all("gap 30" in e.name for e in ex[2:4])
    assert ex[4].labels[7:10] == ["Santa Fe", ".", "New Mexico"]
    with pytest.raises(ValueError, match="gap"):
        cue.examples(gap=-1)
    with pytest.raises(ValueError, match="'name', 'town'"):
        cue.make_sequence(np.random.default_rng(0), 3, kind="city")


def test_cue_and_query_steps():
    tokens = cue.tokenize(MARTHA)  # the cue is Martha (step 1); "She" follows "." (step 8)
    assert cue.cue_step(tokens) == 1 and cue.query_step(tokens) == 8
    assert cue.query_step(tokens[:9]) == 8  # the input stops at the query: its last step
    town = cue.tokenize("the senator grew up in Boston . that town is in Massachusetts")
    assert cue.cue_step(town) == 5 and town[cue.query_step(town) + 1] == "Massachusetts"
    plain = cue.tokenize("the house was full and the debate went on .")
    assert cue.cue_step(plain) is None and cue.query_step(plain) is None
    assert cue.cue_step(tokens, {}) is None  # a model of another task has no cues
    for gap in (0, 9):  # the generator's own positions
        seq, at, _, _ = cue.make_sequence(np.random.default_rng(gap), gap)
        assert cue.cue_step(seq) == at and cue.query_step(seq) == len(seq) - 1


def test_short_training_lowers_the_loss():
    torch.manual_seed(0)
    model = cue.build_model("lstm", cue.CueConfig(hidden_size=8))
    rng = np.random.default_rng(0)

    def batch_fn(_step):
        ids, query, answer, _ = cue.make_batch(rng, 16, rng.integers(0, 4, size=16))
        return torch.from_numpy(ids), torch.from_numpy(query), torch.from_numpy(answer)

    losses = fit(model, batch_fn, cue._loss, steps=40, lr=1e-2)
    assert np.mean(losses[-10:]) < np.mean(losses[:10]) - 0.2


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_meets_its_recorded_accuracy(name):
    assert name in shipped_models(), f"{name} is not shipped; run python -m lstm_viz.train cue"
    model, recorded = load_shipped(name), shipped_metrics(name)
    gaps = (5, 100, 400)
    got = cue.evaluate(model, gaps=gaps)["accuracy_by_gap"]
    for g in gaps:
        assert got[str(g)] == pytest.approx(recorded["accuracy_by_gap"][str(g)], abs=0.006)
    if name == "cue_lstm":
        assert got["100"] >= 0.99


def test_shipped_lstm_memory_units_match_the_record():
    recorded = shipped_metrics("cue_lstm")["memory"]
    got = probes.memory_units(load_shipped("cue_lstm"), gap=recorded["gap"])
    assert [u["unit"] for u in got["cue_units"]] == [u["unit"] for u in recorded["cue_units"]]
    assert got["mean_forget_all_units"] == pytest.approx(
        recorded["mean_forget_all_units"], abs=1e-3
    )
    assert got["cue_units"][0]["eta2"] > 0.5
    clamped = got["accuracy_cue_units_cell_clamped_0"]
    assert clamped == pytest.approx(recorded["accuracy_cue_units_cell_clamped_0"], abs=0.006)
    # the answer is spread over many cells: zeroing all of them must hurt, more than a few do
    curve = got["clamp_curve"]
    assert curve == recorded["clamp_curve"] and curve["32"] < 0.5 and curve["32"] <= curve["3"]
