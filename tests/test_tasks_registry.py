"""The task registry: every shipped model belongs to a registered task (by its checkpoint's own
config, not its file name), every task's examples encode and trace through its shipped models, an
unknown name is refused with a hint, and the tasks import nothing downstream of the models."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import torch

import lstm_viz.tasks as tasks_pkg
from lstm_viz import inputs, train
from lstm_viz.models import ModelConfig, SequenceModel, load_shipped, shipped_models
from lstm_viz.tasks import REGISTRY, get_task, series, shipped_task, task_for


def test_every_shipped_model_maps_to_its_registered_task():
    declared = [m.name for t in REGISTRY.values() for m in t.models]
    assert sorted(declared) == shipped_models()  # no weights file unlisted, no record without one
    for name in shipped_models():
        task, record = shipped_task(name)
        model = load_shipped(name)
        config = model.config
        assert (config.task, config.core) == (task.name, record.core), name
        assert config.extra.get("variant") == record.variant, name
        assert task_for(model) is task and get_task(config.task) is task


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_examples_encode_and_trace_through_the_shipped_models(name):
    task = REGISTRY[name]
    for record in task.models:
        model = load_shipped(record.name)
        examples = task.examples(record.variant)
        assert examples, record.name
        for ex in examples:
            # the example is what the app's own input path makes of the same text or numbers
            if task.reads in ("words", "characters"):
                join = " " if task.reads == "words" else ""
                typed = inputs.text_input(model, join.join(model.config.vocab[i] for i in ex.x))
            elif task.model_input is not None:  # forecast: raw series -> the model's scaling
                typed = inputs.numbers_input(model, series.variant_series(record.variant).values)
            else:
                typed = inputs.numbers_input(model, ex.x)
            np.testing.assert_array_equal(typed.x, ex.x)
            if task.reads == "characters":
                assert typed.labels == ex.labels
            elif task.reads == "words":  # typed examples show words as typed: "The", "reportedly"
                tokens = [model.config.vocab[i] for i in ex.x]
                assert typed.labels == tokens
                assert all(
                    a.lower() == b.lower() or t == "<unk>"
                    for a, b, t in zip(ex.labels, typed.labels, tokens, strict=True)
                )
            tr, preds = model.trace(ex.x, labels=ex.labels)
            assert tr.steps == len(ex.labels) == len(ex.x)
            with torch.no_grad():
                direct = model(torch.as_tensor(ex.x))[0].numpy()  # (T, output_size)
            np.testing.assert_allclose(preds, direct, atol=1e-5)


def test_unknown_names_are_refused_with_a_hint(capsys):
    with pytest.raises(ValueError, match="no task 'nope'; choose one of cue, chars, adding"):
        get_task("nope")
    with pytest.raises(ValueError, match="choose one of co2, sunspots, synthetic"):
        get_task("forecast").examples("mars")
    with pytest.raises(ValueError, match="one data set; drop the variant"):
        get_task("cue").train(steps=0, variant="co2")
    with pytest.raises(ValueError, match="no shipped model 'cue_lstm2' in the task registry"):
        shipped_task("cue_lstm2")
    with pytest.raises(SystemExit):
        train.main(["nope", "--dry-run"])
    assert "choose one of cue, chars, adding, forecast" in capsys.readouterr().err
    # an uploaded checkpoint may name any task, and a bare core has none: no task, no error
    assert task_for(SequenceModel(ModelConfig(task="mystery"))) is None
    assert task_for(torch.nn.LSTM(1, 2)) is None


def test_train_passes_the_trace_metrics_as_a_callback():
    seen = []
    _, own = get_task("adding").train(steps=1, metrics=lambda m: seen.append(m) or {"probe": 7})
    assert own["probe"] == 7 and isinstance(seen[0], SequenceModel) and len(seen) == 1
    _, bare = get_task("chars").train(steps=1)
    _, full = train.train_task("chars", steps=1)
    assert "quote_unit" not in bare and {"bpc", "quote_unit", "bracket_r"} <= set(full)


def test_tasks_import_nothing_downstream_of_the_models():
    # lstm_viz.limits, scaling, series_files and stats import nothing of lstm_viz (the models
    # import them or could): upstream of the models, so allowed
    upstream = ("lstm_viz.limits", "lstm_viz.scaling", "lstm_viz.series_files", "lstm_viz.stats")
    allowed = ("lstm_viz.models", "lstm_viz.tasks", *upstream)
    for path in Path(tasks_pkg.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0, path.name  # absolute imports only: checkable here
                modules = [node.module]  # `from lstm_viz import trace` counts as lstm_viz
            elif isinstance(node, ast.Import):
                modules = [a.name for a in node.names]
            else:
                continue
            for module in modules:
                if module.split(".")[0] == "lstm_viz":
                    assert module.startswith(allowed), (path.name, module)
