"""The gate's formula in the app (AppTest): for the diagram's unit at this step, the terms the
panel states add up to the value the heatmap shows, for an LSTM, a GRU and a plain RNN."""

from __future__ import annotations

import re

import numpy as np
import pytest
from conftest import chart, run

from lstm_viz.ui import loaders

SQUASH = {"sigmoid": lambda v: 1 / (1 + np.exp(-v)), "tanh": np.tanh}


@pytest.mark.parametrize(
    ("model", "gate"), [("cue_lstm", "forget"), ("cue_gru", "update"), ("cue_rnn_tanh", "hidden")]
)
def test_the_terms_add_up_to_the_value_on_the_heatmap(app, model, gate):
    if model not in loaders.model_names():
        pytest.skip(f"{model} weights not shipped")
    at = app(model=model, step="6", unit="3")
    at.toggle(key="lv_why").set_value(True)
    run(at)
    said = next(c.value for c in at.caption if "what it remembers" in c.value)
    squash, pre, value, reads, remembers, bias = re.search(
        r"(\w+)\(([-+.\d]+)\) = ([-.\d]+): what it reads ([-+.\d]+), what it remembers "
        r"\(W·h\(t-1\)\) ([-+.\d]+), biases ([-+]?\d+\.\d+)",
        said,
    ).groups()
    assert abs(float(reads) + float(remembers) + float(bias) - float(pre)) <= 2e-3
    assert abs(SQUASH[squash](float(pre)) - float(value)) <= 1e-3
    spec = chart(at, "lv_heatmaps")
    names = [a["text"].strip("<b>/") for a in spec["layout"]["annotations"]][: len(spec["data"])]
    from conftest import array

    z = array(spec["data"][names.index(gate)]["z"])  # (units, steps), rows in unit order
    assert abs(z[3, 6] - float(value)) <= 1e-3
    assert f"{gate} on the heatmap is {float(value):.3f}" in said
