"""The interpretable-cells task: generator, signals, encoding, the shipped char LSTM, training."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lstm_viz import probes
from lstm_viz.models import load_shipped, shipped_metrics, shipped_models
from lstm_viz.tasks import chars
from lstm_viz.train import fit

HAND = 'a "b (c)" (d (e))'


def test_generator_is_deterministic_per_seed():
    a, b, c = chars.generate_text(800, 3), chars.generate_text(800, 3), chars.generate_text(800, 4)
    assert a == b and a != c
    assert len(a) == 800 and chars.heldout_text() == chars.heldout_text()
    x = chars.make_batch(np.random.default_rng(5), 4, 50)
    y = chars.make_batch(np.random.default_rng(5), 4, 50)
    assert x.shape == (4, 51) and torch.equal(x, y)
    with pytest.raises(ValueError, match="n_chars"):
        chars.generate_text(0)


def test_generated_text_has_quotes_nested_brackets_and_every_character():
    text = chars.generate_text(20_000, 1)
    assert set(text) == set(chars.VOCAB)  # every embedding row gets trained
    quotes, depth = chars.inside_quotes(text), chars.bracket_depth(text)
    assert 0.3 < quotes.mean() < 0.7  # both sides of the quote signal are common
    assert depth.max() == chars.MAX_DEPTH and (depth >= 2).mean() > 0.02
    # brackets nest inside quotes, never across them: every quote mark is at depth 0
    assert (depth[np.array([c == '"' for c in text])] == 0).all()


def test_signals_on_a_hand_written_string():
    # a _ " b _ ( c ) " _ ( d _ ( e ) )
    assert chars.inside_quotes(HAND).tolist() == [0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0]
    assert chars.bracket_depth(HAND).tolist() == [0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 2, 2, 1, 0]
    assert chars.bracket_depth("a) (b").tolist() == [0, 0, 0, 1, 1]  # unbalanced: never below 0
    assert chars.inside_quotes('"').tolist() == [1]


def test_encode_text_and_labels():
    ids = chars.encode_text(HAND)
    assert ids.dtype == np.int64 and "".join(chars.VOCAB[i] for i in ids) == HAND
    model = chars.build_model("lstm")
    assert model.tokens_to_ids(list(HAND)) == ids.tolist()
    assert chars.step_labels("a b") == ["a", "\u2423", "b"]
    assert model.config.output_labels[0] == "\u2423"


@pytest.mark.parametrize(
    "bad, named", [("Hello", "'H'"), ("go 2 town", "'2'"), ("a\nb", "'\\\\n'")]
)
def test_encode_text_names_characters_it_has_never_seen(bad, named):
    with pytest.raises(ValueError, match=f"{named}.*lowercase"):
        chars.encode_text(bad)


def test_encode_text_rejects_empty_text():
    with pytest.raises(ValueError, match="empty"):
        chars.encode_text("")


def test_examples_have_quotes_brackets_and_visible_spaces():
    ex = chars.examples()
    assert len(ex) >= 3
    for e in ex:
        text = "".join(" " if c == "\u2423" else c for c in e.labels)
        assert len(e.x) == len(e.labels) and e.x.tolist() == chars.encode_text(text).tolist()
        assert " " not in e.labels and e.description
    joined = "".join("".join(e.labels) for e in ex)
    assert '"' in joined and chars.bracket_depth(joined).max() >= 2


def test_shipped_model_meets_and_matches_its_recorded_metrics():
    assert "chars_lstm" in shipped_models()
    model, recorded = load_shipped("chars_lstm"), shipped_metrics("chars_lstm")
    assert model.config.vocab == chars.VOCAB and model.config.task == "chars"
    measured = {**chars.evaluate(model), **probes.chars_units(model)}  # as train.py records
    assert abs(recorded["quote_r"]) >= 0.8 and abs(recorded["bracket_r"]) >= 0.8
    for key in ("quote", "bracket"):
        assert measured[f"{key}_state"] == recorded[f"{key}_state"]
        assert measured[f"{key}_unit"] == recorded[f"{key}_unit"]
        assert measured[f"{key}_r"] == pytest.approx(recorded[f"{key}_r"], abs=1e-3)
    assert measured["bpc"] == pytest.approx(recorded["bpc"], abs=1e-3)
    assert recorded["bpc"] < 1.6 and recorded["train_seconds"] <= 600 and "seed" in recorded


def test_recorded_quote_unit_follows_quotes_in_hand_written_text():
    model, recorded = load_shipped("chars_lstm"), shipped_metrics("chars_lstm")
    text = '"i think (maybe (just maybe)) you know," ben said. she found a box (of wax).'
    tr, _ = model.trace(chars.encode_text(text))
    unit = tr.gate(recorded["quote_state"])[:, recorded["quote_unit"]]  # (T,)
    r = np.corrcoef(unit, chars.inside_quotes(text))[0, 1]
    assert np.sign(r) == np.sign(recorded["quote_r"]) and abs(r) > 0.7
    found = probes.best_units(model, "the dog (and (a cat)) went home.")
    assert set(found) == {"bracket"}  # no quote in the text: no quote r to report


def test_short_training_lowers_the_loss():
    torch.manual_seed(0)
    cfg = chars.CharsConfig(hidden_size=16, seq_len=60, batch_size=8)
    model = chars.build_model("lstm", cfg)
    rng = np.random.default_rng(0)
    held = chars.make_batch(np.random.default_rng(99), 8, 60)
    with torch.no_grad():
        before = float(chars._loss(model, held))
    fit(model, lambda _s: chars.make_batch(rng, 8, 60), chars._loss, steps=60, lr=1e-2)
    with torch.no_grad():
        after = float(chars._loss(model, held))
    assert after < before - 0.5
