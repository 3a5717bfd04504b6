"""Corpus search: the batched corpus trace against single traces, `match` against a brute-force
scan, `propose_units` on a hand-made state matrix, the held-out corpora, and bad arguments."""

import numpy as np
import pytest
import torch

import lstm_viz
from lstm_viz.corpus import CorpusTrace
from lstm_viz.matching import Proposal
from lstm_viz.tasks import chars, cue
from lstm_viz.tasks.corpora import CUE_GAPS, corpus_for

# ---- the batched trace equals single traces -----------------------------------------------


def module(kind, **kw):
    torch.manual_seed(1)
    cls = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU, "rnn": torch.nn.RNN}[kind]
    return cls(input_size=3, hidden_size=5, **kw).eval()


def ragged(n=11, seed=0, features=3):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(int(t), features)).astype(np.float32) for t in rng.integers(1, 30, n)]


MODULES = {
    "lstm 2 layers": lambda: module("lstm", num_layers=2),
    "lstm time-first": lambda: module("lstm", batch_first=False),
    "gru 2 layers": lambda: module("gru", num_layers=2, batch_first=True),
    "rnn relu": lambda: module("rnn", nonlinearity="relu"),
    "lstm bidirectional": lambda: module("lstm", bidirectional=True, batch_first=True),
    "lstm proj_size": lambda: module("lstm", proj_size=2),
}


@pytest.mark.parametrize("name", MODULES)
def test_batched_trace_equals_single_traces(name):
    net = MODULES[name]()
    seqs = ragged()
    # batch_size 4: several batches, each padded to its longest sequence
    ct = lstm_viz.corpus_trace(net, seqs, batch_size=4, dtype=np.float32)
    assert ct.num_sequences == len(seqs) and ct.steps == sum(len(s) for s in seqs)
    assert set(ct.names) == ({"hidden", "cell"} if isinstance(net, torch.nn.LSTM) else {"hidden"})
    layers, dirs = net.num_layers, 2 if net.bidirectional else 1
    for i, s in enumerate(seqs):
        tr = lstm_viz.trace(net, s)
        for state in ct.names:
            for layer in range(layers):
                for d in range(dirs):
                    np.testing.assert_allclose(
                        ct.sequence(i, state, layer, d), tr.gate(state, layer, d), atol=2e-6
                    )


def test_float64_module_float64_storage_is_exact():
    net = module("gru", num_layers=2).double()
    seqs = ragged(seed=6)
    ct = lstm_viz.corpus_trace(net, seqs, batch_size=5, dtype=np.float64)
    for i, s in enumerate(seqs):
        for layer in range(2):
            np.testing.assert_allclose(
                ct.sequence(i, layer=layer),
                lstm_viz.trace(net, s).gate("hidden", layer),
                atol=1e-12,
            )


def test_float16_storage_is_the_float32_trace_rounded():
    net = module("lstm", num_layers=2)
    seqs = ragged(seed=3)
    f16 = lstm_viz.corpus_trace(net, seqs, batch_size=3)
    f32 = lstm_viz.corpus_trace(net, seqs, batch_size=3, dtype=np.float32)
    assert f16.states["cell"].dtype == np.float16
    for name in f16.names:
        np.testing.assert_allclose(
            f16.states[name].astype(np.float32), f32.states[name], rtol=1e-3, atol=1e-4
        )
        assert f16.states[name].nbytes * 2 == f32.states[name].nbytes


def test_token_model_corpus_matches_model_trace_and_labels():
    torch.manual_seed(0)
    model = chars.build_model(cfg=chars.CharsConfig(hidden_size=6, embed_size=4)).eval()
    texts = ['"hi," anna said.', "the (old) dog.", "a", 'so "we go."']
    ids = [chars.encode_text(t) for t in texts]
    ct = lstm_viz.corpus_trace(model, ids, batch_size=2, dtype=np.float32)
    for i, x in enumerate(ids):
        tr, _ = model.trace(x)
        np.testing.assert_allclose(ct.sequence(i, "cell"), tr.gate("cell"), atol=2e-6)
        np.testing.assert_allclose(ct.sequence(i), tr.gate("hidden"), atol=2e-6)
        assert "".join(ct.labels(i)) == texts[i]  # default labels: the vocabulary's characters
    np.testing.assert_array_equal(ct.inputs, np.concatenate(ids))


@pytest.mark.parametrize(
    "core",
    [
        lambda: torch.nn.LSTM(3, 4, num_layers=2, batch_first=True),  # ids -> layer 0 looked up
        lambda: torch.nn.GRU(3, 5, batch_first=True),  # ids -> table rows -> the fused kernel
        lambda: torch.nn.LSTM(3, 4, bidirectional=True, batch_first=True),  # the full trace
    ],
)
def test_token_models_read_from_ids_equal_their_traces(core):
    """Token models are traced from ids (their inputs looked up per token): every core shape."""
    from lstm_viz.loaded import LoadedModel

    torch.manual_seed(3)
    model = LoadedModel([core()], embedding=torch.nn.Embedding(12, 3))
    rng = np.random.default_rng(8)
    ids = [rng.integers(0, 12, int(t)) for t in rng.integers(1, 25, 9)]
    ct = lstm_viz.corpus_trace(model, ids, batch_size=4, dtype=np.float32)
    for i, x in enumerate(ids):
        tr = model.trace(x)[0]
        for name in ct.names:
            for layer in range(ct.states[name].shape[0]):
                for d in range(ct.states[name].shape[1]):
                    np.testing.assert_allclose(
                        ct.sequence(i, name, layer, d), tr.gate(name, layer, d), atol=2e-6
                    )


def test_loaded_model_of_two_groups_is_traced_at_its_top_group():
    from lstm_viz.loaded import LoadedModel

    torch.manual_seed(2)
    groups = [torch.nn.LSTM(3, 4, batch_first=True), torch.nn.GRU(4, 5, batch_first=True)]
    model = LoadedModel(groups, embedding=torch.nn.Embedding(10, 3))
    rng = np.random.default_rng(7)
    ids = [rng.integers(0, 10, int(t)) for t in rng.integers(1, 20, 7)]
    ct = lstm_viz.corpus_trace(model, ids, batch_size=3, dtype=np.float32)
    assert ct.kind == "gru" and ct.labels(0) == [str(i) for i in ids[0]]
    for i, x in enumerate(ids):
        np.testing.assert_allclose(ct.sequence(i), model.trace(x)[0].gate("hidden"), atol=2e-6)


def test_threads_are_restored():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        lstm_viz.corpus_trace(module("lstm"), ragged(3), threads=1)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_flat_index_and_locate_are_inverse():
    ct = lstm_viz.corpus_trace(module("gru"), ragged(5, seed=2), batch_size=2)
    flat = np.arange(ct.steps)
    seq, step = ct.locate(flat)
    np.testing.assert_array_equal(ct.flat_index(seq, step), flat)
    assert ct.locate(int(ct.offsets[3])) == (3, 0)
    assert ct.flat_index(4, int(ct.lengths[4]) - 1) == ct.steps - 1
    with pytest.raises(ValueError, match="step out of range"):
        ct.flat_index(0, int(ct.lengths[0]))


# ---- match against a brute-force scan -------------------------------------------------------


def synthetic_corpus(seed, dtype=np.float32, units=7):
    """A CorpusTrace built by hand: random states and labels, no model involved."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 25, size=rng.integers(1, 9))
    n = int(lengths.sum())
    # sticky on/off patterns, so runs of several steps occur
    states = np.cumsum(rng.normal(scale=0.4, size=(n, units)), axis=0) % 2 - 1
    codes = rng.integers(0, 4, n).astype(np.int32)
    return CorpusTrace(
        kind="rnn",
        config={},
        states={"hidden": states.astype(dtype)[None, None]},
        offsets=np.concatenate([[0], np.cumsum(lengths)]),
        inputs=codes.astype(np.int64),
        label_codes=codes,
        label_names=np.array(["a", "b", "c", "d"]),
    )


def brute_force(ct, units, threshold, min_length=1, max_length=None):
    """Every maximal run where all `units` are on, scored by a plain Python scan."""
    found = []
    for i in range(ct.num_sequences):
        x = ct.sequence(i).astype(np.float64)  # exact: float16 / float32 widen losslessly
        t = 0
        while t < len(x):
            if not all(x[t, u] >= threshold for u in units):
                t += 1
                continue
            end = t
            while end + 1 < len(x) and all(x[end + 1, u] >= threshold for u in units):
                end += 1
            on = {
                u for u in range(x.shape[1]) if all(x[s, u] >= threshold for s in range(t, end + 1))
            }
            length = end - t + 1
            if length >= min_length and (max_length is None or length <= max_length):
                score = len(set(units) & on) / len(set(units) | on)
                found.append((i, t, end, score, len(on)))
            t = end + 1
    flat = lambda m: ct.offsets[m[0]] + m[1]  # noqa: E731
    found.sort(key=lambda m: (-m[3], -(m[2] - m[1]), flat(m)))
    return found


@pytest.mark.parametrize("seed", range(12))
@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_match_ranking_equals_brute_force(seed, dtype):
    ct = synthetic_corpus(seed, dtype)
    rng = np.random.default_rng(100 + seed)
    units = sorted(rng.choice(7, size=rng.integers(1, 4), replace=False).tolist())
    threshold = float(rng.choice([-0.5, 0.0, 0.1, 0.3]) + rng.normal(scale=1e-3))
    min_length = int(rng.integers(1, 3))
    res = lstm_viz.match(ct, units, threshold, top=1000, min_length=min_length)
    want = brute_force(ct, units, threshold, min_length=min_length)
    got = [(m.sequence, m.start, m.end, m.score, m.on_units) for m in res.matches]
    assert got == [(a, b, c, pytest.approx(d), e) for a, b, c, d, e in want]
    assert res.n_matches == len(want)
    assert res.sequences_with_match == len({m[0] for m in want})
    # meta tracks: labels that begin a span, and labels at every step of one
    start_counts, fill_counts = {}, {}
    for i, a, b, _, _ in want:
        labels = ct.labels(i)
        start_counts[labels[a]] = start_counts.get(labels[a], 0) + 1
        for s in range(a, b + 1):
            fill_counts[labels[s]] = fill_counts.get(labels[s], 0) + 1
    assert dict(res.starts) == start_counts and dict(res.fills) == fill_counts


def test_match_top_length_bounds_and_summary():
    ct = synthetic_corpus(5)
    full = lstm_viz.match(ct, [0], 0.0, top=1000)
    assert [m.sequence for m in lstm_viz.match(ct, [0], 0.0, top=3).matches] == [
        m.sequence for m in full.matches[:3]
    ]
    short = lstm_viz.match(ct, [0], 0.0, top=1000, max_length=2)
    assert short.matches and all(m.length <= 2 for m in short.matches)
    assert short.n_matches == sum(m.length <= 2 for m in full.matches)
    assert full.summary.startswith(f"found in {full.sequences_with_match} of {ct.num_sequences}")


def test_match_on_a_hand_made_corpus():
    # two sequences; unit 0 is on over steps 1-3 of the first (with unit 1: score 1/2) and
    # steps 0-1 of the second (alone: score 1)
    x = np.array([[0, 0], [1, 1], [1, 1], [1, 1], [0, 1], [1, 0], [1, 0], [0, 1]], dtype=np.float32)
    ct = CorpusTrace(
        "rnn",
        {},
        {"hidden": x[None, None]},
        np.array([0, 5, 8]),
        np.zeros(8, np.int64),
        np.array([0, 1, 1, 1, 0, 2, 1, 0], np.int32),
        np.array(["x", "y", "z"]),
    )
    res = lstm_viz.match(ct, [0], 0.5)
    assert [(m.sequence, m.start, m.end, m.score) for m in res.matches] == [
        (1, 0, 1, 1.0),
        (0, 1, 3, 0.5),
    ]
    assert res.starts == [("y", 1), ("z", 1)] and res.fills == [("y", 4), ("z", 1)]
    assert res.summary == "found in 2 of 2 sequences (2 spans)"


# ---- propose_units ------------------------------------------------------------------------


def test_propose_units_on_a_hand_made_state_matrix():
    # steps 2-4 selected; threshold 0.5
    x = np.array(
        [
            #  0    1    2    3    4
            [0.0, 0.9, 0.0, 0.0, 0.0],
            [0.0, 0.9, 0.9, 0.0, 0.0],
            [0.9, 0.9, 0.9, 0.9, 0.5],  # selection starts
            [0.9, 0.9, 0.9, 0.9, 0.6],
            [0.9, 0.9, 0.9, 0.4, 0.7],  # selection ends
            [0.0, 0.9, 0.0, 0.0, 0.0],
            [0.0, 0.0, 0.9, 0.0, 0.0],
        ]
    )
    # unit 0: on inside, off around -> yes; 1: on before and after -> no; 2: on at step 1 -> no
    # with before=1, yes with before=0; 3: off at step 4 -> no; 4: exactly 0.5 counts as on
    p = lstm_viz.propose_units(x, 2, 4, 0.5)
    assert p.units == [0, 4] and p.threshold == 0.5 and (p.start, p.end) == (2, 4)
    assert lstm_viz.propose_units(x, 2, 4, 0.5, before=0).units == [0, 2, 4]
    # after=2 reaches step 6, where unit 2 is on again
    assert lstm_viz.propose_units(x, 2, 4, 0.5, before=0, after=2).units == [0, 4]
    assert lstm_viz.propose_units(x, 0, 1, 0.5).units == []  # unit 1 stays on at step 2
    assert lstm_viz.propose_units(x, 0, 1, 0.5, after=0).units == [1]  # no step before 0
    assert lstm_viz.propose_units(x, 2, 4, 0.95).units == []


def test_propose_then_match_finds_the_selection_itself():
    net = module("lstm")
    seqs = ragged(6, seed=4)
    ct = lstm_viz.corpus_trace(net, seqs, dtype=np.float32)
    tr = lstm_viz.trace(net, seqs[2])
    found = None
    for start in range(len(seqs[2])):
        p = lstm_viz.propose_units(tr, start, start, 0.05)
        if p.units:
            found = p
            break
    assert found is not None
    from_corpus = lstm_viz.propose_units(ct, found.start, found.end, 0.05, sequence=2)
    assert from_corpus.units == found.units
    res = lstm_viz.match(ct, found, top=10_000)  # the Proposal carries its threshold
    assert any(m.sequence == 2 and m.start <= found.start <= m.end for m in res.matches)


# ---- the held-out corpora -----------------------------------------------------------------


def test_cue_corpus():
    c = corpus_for("cue_lstm")
    assert len(c.sequences) == 2000 and c.task == "cue"
    gaps = np.array(c.info["gap"])
    assert gaps.min() >= CUE_GAPS[0] and gaps.max() <= CUE_GAPS[1] and len(set(gaps)) > 150
    tokens = c.labels[0]
    assert tokens[c.info["cue"][0]] in cue.CUE_ANSWER
    np.testing.assert_array_equal(c.sequences[0], cue.encode(tokens))
    assert tokens[c.info["query"][0] + 1] == c.info["answer"][0]


def test_chars_corpus_is_100k_characters_cut_between_sentences():
    c = corpus_for("chars_lstm")
    text = "".join(c.info["text"])
    assert len(text) >= 100_000 and c.steps == len(text)
    assert text != chars.heldout_text()[:2000] and len(c.sequences) > 100
    cuts = np.cumsum([len(p) for p in c.info["text"]])[:-1]
    # every piece after the first starts right after ". ", with no quote or bracket open
    assert {text[k - 2 : k] for k in cuts} == {". "}
    assert chars.inside_quotes(text)[cuts - 1].max() == 0
    assert chars.bracket_depth(text)[cuts - 1].max() == 0


def test_adding_and_forecast_corpora():
    a = corpus_for("adding_lstm")
    assert len(a.sequences) == 2000 and a.sequences[0].shape == (50, 2)
    assert sum(lab.endswith("*") for lab in a.labels[0]) == 2
    f = corpus_for("forecast_sunspots_lstm")
    assert all(s.shape == (64, 1) for s in f.sequences) and len(f.sequences) > 10
    assert np.diff(f.info["start"]).tolist() == [11] * (len(f.sequences) - 1)


# ---- bad arguments ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call,hint",
    [
        (lambda net: lstm_viz.corpus_trace(net, []), "non-empty list"),
        (lambda net: lstm_viz.corpus_trace(net, [np.zeros((4, 2))]), r"\(T, 3\)"),
        (lambda net: lstm_viz.corpus_trace(net, [np.zeros((0, 3))]), "empty"),
        (lambda net: lstm_viz.corpus_trace(net, [np.full((2, 3), np.nan)]), "NaN"),
        (lambda net: lstm_viz.corpus_trace(net, ragged(), batch_size=0), "batch_size"),
        (lambda net: lstm_viz.corpus_trace(torch.nn.Linear(3, 3), ragged()), "load_model return"),
        (lambda net: lstm_viz.corpus_trace(net, ragged(), dtype=np.int8), "dtype"),
        (lambda net: lstm_viz.corpus_trace(net, ragged(), threads=0), "threads"),
    ],
)
def test_corpus_trace_bad_arguments(call, hint):
    with pytest.raises(ValueError, match=hint):
        call(module("lstm"))


def test_token_model_rejects_bad_sequences():
    model = chars.build_model(cfg=chars.CharsConfig(hidden_size=4, embed_size=2))
    with pytest.raises(ValueError, match="1-D integer token ids"):
        lstm_viz.corpus_trace(model, [np.zeros((3, 2))])
    with pytest.raises(ValueError, match="outside 0..33"):
        lstm_viz.corpus_trace(model, [np.array([0, 99])])


@pytest.mark.parametrize(
    "kw,hint",
    [
        (dict(units=[], threshold=0.3), "no units to match"),
        (dict(units=[9], threshold=0.3), "distinct indices in 0..6"),
        (dict(units=[1, 1], threshold=0.3), "distinct"),
        (dict(units=[0.5], threshold=0.3), "whole numbers"),
        (dict(units=[1], threshold=float("nan")), "finite"),
        (dict(units=[1], threshold="high"), "must be a number"),
        (dict(units=[1]), "give a threshold"),
        (dict(units=[1], threshold=0.3, name="cell"), "stores"),
        (dict(units=[1], threshold=0.3, layer=1), "layer 1 out of range"),
        (dict(units=[1], threshold=0.3, top=0), "top >= 1"),
        (dict(units=[1], threshold=0.3, meta=-1), "meta >= 0"),
        (dict(units=[1], threshold=0.3, max_length=0), "min_length <= max_length"),
        (dict(units=[1], threshold=0.3, min_length=3, max_length=2), "min_length"),
    ],
)
def test_match_bad_arguments(kw, hint):
    with pytest.raises(ValueError, match=hint):
        lstm_viz.match(synthetic_corpus(0), **kw)


def test_match_and_propose_bad_inputs():
    with pytest.raises(ValueError, match="corpus_trace"):
        lstm_viz.match(np.zeros((4, 3)), [0], 0.1)
    x = np.zeros((5, 3))
    with pytest.raises(ValueError, match="start <= end"):
        lstm_viz.propose_units(x, 3, 1, 0.5)
    with pytest.raises(ValueError, match="start <= end < 5"):
        lstm_viz.propose_units(x, 0, 5, 0.5)
    with pytest.raises(ValueError, match="sequence=i"):
        lstm_viz.propose_units(synthetic_corpus(0), 0, 0, 0.5)
    with pytest.raises(ValueError, match="steps, units"):
        lstm_viz.propose_units(np.zeros(5), 0, 0, 0.5)
    with pytest.raises(ValueError, match=">= 0"):
        lstm_viz.propose_units(x, 1, 2, 0.5, before=-1)
    with pytest.raises(ValueError, match="no corpus for task"):
        corpus_for(module("lstm"))
    assert isinstance(lstm_viz.propose_units(x, 0, 0, 0.5), Proposal)


def test_a_proposal_is_matched_on_the_state_it_was_made_on():
    net = module("lstm")
    ct = lstm_viz.corpus_trace(net, ragged(6, seed=5), dtype=np.float32)
    step = int(np.argmax(ct.sequence(0, "cell").max(1) >= 0.3))
    p = lstm_viz.propose_units(ct, step, step, 0.3, sequence=0, name="cell", before=0, after=0)
    assert p.name == "cell" and p.units
    by_proposal = lstm_viz.match(ct, p, top=1000)
    assert by_proposal.matches == lstm_viz.match(ct, p.units, 0.3, name="cell", top=1000).matches
    assert by_proposal.matches != lstm_viz.match(ct, p.units, 0.3, top=1000).matches  # hidden
    for m in by_proposal.matches:  # the spans are where the cells are on
        assert (ct.sequence(m.sequence, "cell")[m.start : m.end + 1, p.units] >= 0.3).all()
    with pytest.raises(ValueError, match="name='cell', not 'hidden'"):
        lstm_viz.match(ct, p, name="hidden")


def test_readme_corpus_example_runs_and_its_numbers_hold():
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    code = re.search(r"## Ask the whole corpus\n.*?```python\n(.*?)```", text, re.S).group(1)
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    res, corpus = scope["res"], scope["corpus"]
    assert res.summary == "found in 1,000 of 2,000 sequences (1,881 spans)"
    assert scope["p"].units == [2, 16, 31] and len(res.matches) == 20
    cue_at, query = np.array(corpus.info["cue"]), np.array(corpus.info["query"])
    said = [corpus.info["answer"][m.sequence] for m in res.matches]
    assert said.count("He") == 18 and said.count("She") == 2  # name sentences only
    for m in res.matches:  # every top match starts in a sentence's gap
        assert cue_at[m.sequence] < m.start <= query[m.sequence]


def test_readme_quote_finding_holds():
    from lstm_viz.corpus import shipped_corpus

    corpus, ct = shipped_corpus("chars_lstm")
    assert corpus.info["text"][0][63:99] == '"and for and (now all it a (so)) is.'
    p = lstm_viz.propose_units(ct, 63, 98, 0.0, sequence=0)
    assert p.units == [34]
    res = lstm_viz.match(ct, p, top=20)
    assert res.summary == "found in 179 of 180 sequences (916 spans)"
    inside = chars.inside_quotes("".join(corpus.info["text"]))
    for m in res.matches:
        lo = ct.offsets[m.sequence] + m.start
        assert inside[lo : lo + m.length].all()
    assert res.starts[0] == ('"', 882) and text_quotes(corpus) == 882


def text_quotes(corpus) -> int:
    return sum(t.count('"') for t in corpus.info["text"]) // 2
