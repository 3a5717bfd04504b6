"""The tutorial notebook runs headless, cell by cell, in fast mode (LSTM_VIZ_FAST=1): a cell that
errors fails the test (nbclient raises CellExecutionError naming it), so the notebook cannot rot."""

from __future__ import annotations

import re

import pytest

pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

from notebook_util import executed_notebook, explorer_outputs, printed  # noqa: E402


def test_tutorial_runs_in_fast_mode():
    nb = executed_notebook()
    text = printed(nb)
    assert "fast mode - 30 training steps per model" in text
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o["output_type"] == "error"]
    assert not errors
    # the story's checkpoints each printed their numbers
    assert re.search(r"LSTM \d+\.\d{3} ppm, persistence 0\.517 ppm", text), text
    assert re.search(r"GRU \d+\.\d{3} ppm, persistence 0\.517 ppm", text), text
    assert "head on the clamped trace == model output: True" in text
    # each comparison with its paired block-bootstrap interval and n (issue 15)
    verdict = r"(beats|is worse than|does not measurably beat) persistence: RMSE difference"
    ci = r"[+-]\d\.\d{3} ppm \(95% CI [+-]\d\.\d{3} to [+-]\d\.\d{3}, n = 520"
    assert len(re.findall(rf"{verdict} {ci}; moving-block bootstrap", text)) == 2, text
    assert re.search(rf"every forget gate closed: {ci}, paired\)", text)
    assert re.search(r"every forget gate closed \d+\.\d{3} ppm", text)
    assert re.search(r"every update gate at 0 \d+\.\d{3} ppm", text)
    # three explorers (LSTM, LSTM with a forget gate closed, GRU), each a self-contained iframe
    outputs = explorer_outputs(nb)
    assert len(outputs) == 3
    wrapper = '<div class="lstm-viz"><iframe class="lstm-viz-explorer"'
    assert all(o.startswith(wrapper) for o in outputs)
    # and nothing else: no warning or stray text around the explorers
    stderr = [o for c in nb.cells for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert not stderr, stderr
