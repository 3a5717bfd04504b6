"""Crafted model files, trace files, CSV files and exports (issue 10): each is refused at load
with a ValueError that states the limit, or handled exactly; never a crash, never a silent
guess. Every crafted file is made here, in the test, from a small valid one.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import numpy as np
import pytest
import torch

import lstm_viz
from lstm_viz import export, inputs, validate
from lstm_viz.limits import (
    MAX_COLUMNS,
    MAX_EXPORT_ROWS,
    MAX_HIDDEN,
    MAX_HORIZON,
    MAX_LAYERS,
    MAX_OUTPUTS,
    MAX_SEASON,
    MAX_SERIES,
)
from lstm_viz.models import ModelConfig, SequenceModel, checkpoint_model, save_checkpoint
from lstm_viz.tasks.series import SYNTHETIC

FORECAST_EXTRA = {  # what train_model writes for the synthetic series (600 values)
    "variant": "synthetic",
    "scaling": {"difference": True, "mean": 0.02, "std": 0.34},
    "season": 24,
    "horizon": 24,
    "test_start": 480,
    "val_start": 408,
    "unit": "",
    "synthetic": dict(SYNTHETIC),
}


def _blob(config: ModelConfig) -> dict:
    """A checkpoint dict as save_checkpoint writes it, for a small model built from `config`."""
    torch.manual_seed(0)
    model = SequenceModel(config)
    state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    from dataclasses import asdict

    return {"config_json": json.dumps(asdict(config)), "state_dict": state}


def _forecast_blob() -> dict:
    config = ModelConfig(
        hidden_size=4, task="forecast", output_labels=["next change"], extra=FORECAST_EXTRA
    )
    return _blob(config)


def _edited(blob: dict, **fields) -> dict:
    """The checkpoint with config fields replaced (extra given as a dict of replacements)."""
    config = json.loads(blob["config_json"])
    extra = fields.pop("extra", None)
    config.update(fields)
    if extra is not None:
        config["extra"] = {**config["extra"], **extra}
    return {**blob, "config_json": json.dumps(config)}


def _saved(obj) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _refused_both_ways(blob: dict, pattern: str, tmp_path) -> None:
    """The same ValueError from lstm_viz.load_checkpoint (a path) and load_model_file (bytes)."""
    data = _saved(blob)
    (tmp_path / "m.pt").write_bytes(data)
    messages = []
    for load in (
        lambda: lstm_viz.load_checkpoint(tmp_path / "m.pt"),
        lambda: inputs.load_model_file(data),
    ):
        with pytest.raises(ValueError) as err:
            load()
        messages.append(str(err.value))
    assert messages[0] == messages[1]
    assert re.search(pattern, messages[0], re.I | re.S), messages[0]


# --- one validated model description ------------------------------------------------------------

CRAFTED_EXTRA = [
    ({"horizon": 10**9}, rf"horizon.* is 1000000000; the app takes 1\.\.{MAX_HORIZON}"),
    ({"horizon": 2.5}, r"horizon.* must be a whole number, got 2\.5"),
    ({"horizon": True}, r"horizon.* must be a whole number"),
    ({"season": -3}, rf"season.* is -3; the app takes 1\.\.{MAX_SEASON}"),
    ({"season": "52"}, r"season.* must be a whole number, got '52'"),
    ({"synthetic": {**SYNTHETIC, "length": 20_000_000}}, rf"length is 20000000.*{MAX_SERIES}"),
    ({"synthetic": [1, 2]}, r"extra\['synthetic'\] must be a dict"),
    ({"synthetic": {**SYNTHETIC, "noise": float("nan")}}, r"config\.extra holds nan"),
    ({"synthetic": {**SYNTHETIC, "noise": -1.0}}, r"synthetic noise is -1\.0; .* 0\.0\.\.1e6"),
    ({"scaling": [0.0, 1.0]}, r"extra\['scaling'\] must be \{difference, mean, std\}"),
    ({"scaling": {"difference": True, "mean": 0.0, "std": 0.0}}, r"scaling std is 0\.0"),
    ({"scaling": {"difference": 1, "mean": 0.0, "std": 1.0}}, r"true or false"),
    ({"variant": "../../etc/passwd"}, r"variant'\] is '\.\./\.\./etc/passwd'; the app knows"),
    ({"test_start": 600}, r"test_start.* is 600; the app takes 408\.\.599 \(the stored .*600"),
    ({"test_start": 10}, r"test_start.* is 10; the app takes 408\.\.599"),
    ({"val_start": -1}, r"val_start'\] is -1"),
    ({"cue_answer": ["She"]}, r"cue_answer'\] must map cue words"),
    ({"cue_answer": {"Mary": 3}}, r"cue answers holds non-strings"),
    ({"T": 10**7}, r"extra\['T'\].* is 10000000; the app takes 1\.\.5000"),
    ({"train_gaps": [50, 0]}, r"longest training gap is 0; the app takes 50\.\."),
    ({"unit": "x" * 500}, r"extra\['unit'\] holds 1 entries that are empty or longer than 64"),
    ({"deep": json.loads("[" * 20 + "]" * 20)}, r"nested deeper than 8 levels"),
]


@pytest.mark.parametrize(("extra", "pattern"), CRAFTED_EXTRA, ids=lambda v: str(v)[:30])
def test_crafted_extra_fields_are_refused_at_load(extra, pattern, tmp_path):
    _refused_both_ways(_edited(_forecast_blob(), extra=extra), pattern, tmp_path)


def test_a_forecast_model_without_its_fields_is_refused(tmp_path):
    blob = _forecast_blob()
    config = json.loads(blob["config_json"])
    del config["extra"]["scaling"], config["extra"]["horizon"]
    blob = {**blob, "config_json": json.dumps(config)}
    _refused_both_ways(blob, r"lacks scaling, horizon", tmp_path)


CRAFTED_CONFIG = [
    ({"hidden_size": 1400}, rf"hidden size is 1400; the app takes 1\.\.{MAX_HIDDEN} units"),
    ({"num_layers": 200}, rf"layer count is 200; the app takes 1\.\.{MAX_LAYERS} layers"),
    ({"output_size": 2_000_000}, rf"output size is 2000000; the app takes 1\.\.{MAX_OUTPUTS}"),
    ({"output_size": 0}, r"output size is 0; the app takes 1\.\."),
    ({"hidden_size": 0}, r"hidden size is 0"),
    ({"input_size": -1}, r"input size is -1"),
    ({"hidden_size": "64"}, r"hidden size must be a whole number, got '64'"),
    ({"output_labels": ["a", "b"]}, r"2 output labels for 1 outputs"),
    ({"task": "../x"}, r"task name '\.\./x'"),
    ({"extra": []}, r"config\.extra must be a dict"),
]


@pytest.mark.parametrize(("fields", "pattern"), CRAFTED_CONFIG, ids=lambda v: str(v)[:30])
def test_crafted_config_sizes_are_refused_before_anything_is_built(fields, pattern, tmp_path):
    blob = _forecast_blob()
    config = {**json.loads(blob["config_json"]), **fields}
    _refused_both_ways({**blob, "config_json": json.dumps(config)}, pattern, tmp_path)


def test_a_config_nested_past_json_recursion_is_a_value_error(tmp_path):
    blob = _forecast_blob()
    deep = blob["config_json"][:-1] + ', "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    _refused_both_ways({**blob, "config_json": deep}, r"nested too deeply", tmp_path)
    _refused_both_ways({**blob, "config_json": "[1, 2]"}, r"config is not valid", tmp_path)


def test_token_model_vocabularies_are_checked(tmp_path):
    blob = _blob(ModelConfig(vocab=["a", "b", "c"], hidden_size=3, output_size=3))
    _refused_both_ways(_edited(blob, vocab=["a", "b", "a"]), r"repeats 'a'", tmp_path)
    _refused_both_ways(_edited(blob, vocab=["a", "b", 3]), r"non-strings", tmp_path)
    big = _edited(blob, vocab=[f"w{i}" for i in range(50_000)], embed_size=1024)
    _refused_both_ways(big, r"describes 195\.\d MB of weights; the limit is 32 MB", tmp_path)


def test_non_string_keys_and_odd_tensors_in_state_dicts_are_value_errors(tmp_path):
    blob = _forecast_blob()
    keyed = {**blob, "state_dict": {**blob["state_dict"], 7: torch.zeros(1)}}
    _refused_both_ways(keyed, r"keys that are not names", tmp_path)
    torch.manual_seed(0)
    good = torch.nn.LSTM(3, 4).state_dict()
    cases = [
        ({**good, 3: torch.zeros(2)}, r"keys that are not names \('3'\)"),
        ({**good, "weight_ih_l0": torch.tensor(1.0)}, r"weight_ih_l0 is 0-D .*keeps it 2-D"),
        ({**good, "weight_hh_l0": torch.zeros(16)}, r"weight_hh_l0 is 1-D"),
        ({**good, "bias_ih_l0": torch.zeros(16, 1)}, r"bias_ih_l0 is 2-D .*keeps it 1-D"),
        ({"weight_ih_l0": torch.zeros(0, 3), "weight_hh_l0": torch.zeros(0, 0)}, r"size of 0"),
        ({**good, "weight_ih_l0": torch.zeros(16, 2000)}, r"input size is 2000; .*1\.\.1024"),
    ]
    for state, pattern in cases:
        with pytest.raises(ValueError, match=re.compile(pattern, re.S)):
            inputs.load_model_file(_saved(state))


def test_a_state_dict_nested_100000_deep_is_a_value_error():
    """A pickle built by hand (torch.save itself would hit the recursion limit): a list nested
    100,000 deep as a weight. torch.load's weights-only unpickler builds it without recursing;
    nothing after it may recurse either."""
    buf = io.BytesIO()
    torch.save({"a": 1}, buf)
    depth = 100_000
    pickled = b"\x80\x02}q\x00X\x0c\x00\x00\x00weight_ih_l0" + b"]" * depth + b"a" * (depth - 1)
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            body = pickled + b"s." if info.filename.endswith("data.pkl") else src.read(info)
            dst.writestr(info, body)
    with pytest.raises(ValueError, match=r"no weight_ih_l0 / weight_hh_l0"):
        inputs.load_model_file(out.getvalue())


def test_every_shipped_model_passes_the_validator_and_a_good_checkpoint_round_trips(tmp_path):
    for name in lstm_viz.shipped_models():
        validate.check_model(lstm_viz.load_shipped(name))
    blob = _forecast_blob()
    model = checkpoint_model(blob)
    assert model.config.extra == FORECAST_EXTRA
    save_checkpoint(model, tmp_path / "f.pt")
    back = inputs.load_model_file((tmp_path / "f.pt").read_bytes())
    for a, b in zip(back.state_dict().values(), model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    validate.check_model(torch.nn.GRU(3, 5, num_layers=2))
    with pytest.raises(ValueError, match="hidden size is 1025"):
        validate.check_model(torch.nn.RNN(1, MAX_HIDDEN + 1))


class _Whole(torch.nn.Module):
    def __init__(self, vocab: int, outputs: int):
        super().__init__()
        self.embedding = torch.nn.Embedding(vocab, 4)
        self.lstm = torch.nn.LSTM(4, 3, batch_first=True)
        self.fc = torch.nn.Linear(3, outputs)


def test_whole_models_pass_the_same_validator():
    """lstm_viz.load_model (whole state_dicts, Keras files) ends in validate.check_model too."""
    from lstm_viz.load import load_model

    torch.manual_seed(0)
    assert load_model(_saved(_Whole(10, 2).state_dict())).summary.output_size == 2
    cases = [
        (_Whole(60_000, 2), r"vocabulary size is 60000; the app takes 1\.\.50000 tokens"),
        (_Whole(10, 3000), rf"output size is 3000; the app takes 1\.\.{MAX_OUTPUTS} outputs"),
    ]
    for model, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            load_model(_saved(model.state_dict()))


# --- trace files --------------------------------------------------------------------------------


def _npz_with(members: dict[str, tuple[str, tuple, bytes]]) -> bytes:
    """A .npz whose members have the given (dtype, shape) headers and raw bytes after them."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, (descr, shape, body) in members.items():
            member = io.BytesIO()
            header = {"descr": descr, "fortran_order": False, "shape": shape}
            np.lib.format.write_array_header_1_0(member, header)
            z.writestr(name + ".npy", member.getvalue() + body)
    return out.getvalue()


def _small_trace():
    torch.manual_seed(0)
    return lstm_viz.trace(torch.nn.LSTM(2, 3), torch.randn(6, 2), labels=list("abcdef"))


def test_a_trace_file_is_sized_from_its_headers_before_anything_is_unpacked(tmp_path):
    # a 2 GB array declared in a few hundred bytes: refused from the header alone
    bomb = _npz_with({"state__hidden": ("<f4", (1, 1, 1, 100_000, 5_000), b"")})
    (tmp_path / "bomb.npz").write_bytes(bomb)
    assert len(bomb) < 1000
    with pytest.raises(ValueError, match=r"would unpack to 1907\.3 MB; the limit is 512\.0 MB"):
        lstm_viz.LSTMTrace.load(tmp_path / "bomb.npz")
    tr = _small_trace()
    tr.save(tmp_path / "t.npz")
    with pytest.raises(ValueError, match=r"the limit is 0\.0 MB"):
        lstm_viz.LSTMTrace.load(tmp_path / "t.npz", max_bytes=100)
    back = lstm_viz.LSTMTrace.load(tmp_path / "t.npz", max_bytes=10**6)
    np.testing.assert_array_equal(back.gate("cell"), tr.gate("cell"))


def test_malformed_trace_files_are_value_errors(tmp_path):
    tr = _small_trace()
    tr.save(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz") as f:
        arrays = {k: f[k] for k in f.files}
    meta = json.loads(str(arrays["meta"]))

    def saved(name, **changes):
        np.savez(tmp_path / name, **{**arrays, **changes})
        return tmp_path / name

    cases = [
        (saved("labels.npz", meta=np.array(json.dumps({**meta, "labels": ["a"]}))), "labels"),
        (saved("kind.npz", meta=np.array(json.dumps({**meta, "kind": "transformer"}))), "meta"),
        (saved("deep.npz", meta=np.array("[" * 100_000 + "]" * 100_000)), "nested too deeply"),
        (saved("shape.npz", state__cell=np.zeros((1, 1, 1, 5, 3), np.float32)), "disagree"),
        (saved("ints.npz", state__cell=np.zeros((1, 1, 1, 6, 3), np.int64)), "not float"),
        (saved("mask.npz", clamp__cell=np.zeros((1, 1, 2, 3), bool)), "clamp mask"),
    ]
    (tmp_path / "text.npz").write_bytes(b"not a zip")
    cases.append((tmp_path / "text.npz", "not a saved lstm_viz trace"))
    obj = _npz_with({"meta": ("|O", (), b"")})
    (tmp_path / "obj.npz").write_bytes(obj)
    cases.append((tmp_path / "obj.npz", "holds object values"))
    for path, pattern in cases:
        with pytest.raises(ValueError, match=pattern):
            lstm_viz.LSTMTrace.load(path)


# --- CSV files ----------------------------------------------------------------------------------


def test_a_row_wider_than_the_column_limit_is_refused_without_parsing_it():
    wide = b"value\n" + b",".join([b"1"] * 200_000) + b"\n"
    with pytest.raises(ValueError, match=rf"line 2 .* 200000 fields; .*at most {MAX_COLUMNS}"):
        inputs.read_csv(wide)
    quoted = b'a,b\n1,"' + b"," * 5000 + b'"\n2,x\n'  # separators inside quotes are text
    assert list(inputs.read_csv_table(quoted).columns) == ["a"]


def test_a_row_longer_than_its_header_is_refused_not_shifted_into_an_index():
    with pytest.raises(ValueError, match=r"row 2 .* 2 values but the header names 1 column"):
        inputs.read_csv(b"value\n0,1.5\n1,2.5\n")
    table = inputs.read_csv_table(b"a,b\n1,0.5,\n2,0.25,\n")  # trailing separators are harmless
    np.testing.assert_array_equal(table.columns["b"], [0.5, 0.25])


def test_columns_that_do_not_parse_are_named_with_the_reason():
    data = (
        b"step,price,sparse,flat,value\n"
        b'0,"1,200.5",,inf,0.5\n1,"2,300",,inf,0.1\n2,"3,100.25",7,-inf,0.9\n3,x,,inf,0.2\n'
    )
    table = inputs.read_csv_table(data)
    assert list(table.columns) == ["step", "value"]
    assert table.dropped == {
        "price": "4 of 4 values are not numbers (e.g. '1,200.5', '2,300', '3,100.25' … and 1 "
        "more): "
        "remove the thousands separators",
        "sparse": "3 of 4 values are empty or NaN",
        "flat": "4 of 4 values are infinite",
    }
    assert table.index_like == ["step"] and table.default_columns(1) == ["value"]
    notes = table.notes()
    assert len(notes) == 4 and "'step' only rises" in notes[-1]
    with pytest.raises(ValueError, match=r"no numeric column \('a': 2 of 2 values are not"):
        inputs.read_csv(b"a\nx\ny\n")


def test_an_index_only_file_still_offers_its_one_column():
    table = inputs.read_csv_table(b"t\n1\n2\n3\n")
    assert table.index_like == ["t"] and table.default_columns(1) == ["t"]
    assert table.notes() == []


# --- exports ------------------------------------------------------------------------------------

FORMULAS = ['=HYPERLINK("http://x","y")', "@SUM(1,2)", "+1+1", "-2+3", "\tx", "\rx", "=1"]
KEPT = ["-0.5", "+3", "1e-3", "a,b", 'say "hi"', "%s%d%%", "line\nbreak", ""]


def test_csv_export_neutralises_formulas_and_keeps_every_value_exactly():
    labels = FORMULAS + KEPT
    torch.manual_seed(0)
    tr = lstm_viz.trace(torch.nn.LSTM(1, 2), torch.randn(len(labels), 1), labels=labels)
    rows = list(csv.reader(io.StringIO(export.trace_csv(tr))))
    assert rows[0] == export.CSV_HEADER and len(rows) - 1 == export.csv_rows(tr) == 15 * 6 * 2
    for step, token, layer, direction, name, unit, value in rows[1:]:
        label = labels[int(step)]
        want = "'" + label if label in FORMULAS else label
        assert token == want
        assert float(value) == float(
            tr.gate(name, int(layer), int(direction))[int(step), int(unit)]
        )


def test_csv_export_over_the_cap_is_refused_before_any_work(tmp_path):
    tr = _small_trace()
    rows = export.csv_rows(tr)
    with pytest.raises(
        ValueError, match=rf"{rows} rows .*the limit is {rows - 1}: export it as .npz"
    ):
        export.trace_csv(tr, max_rows=rows - 1)
    with open(tmp_path / "t.csv", "w", newline="") as f:
        assert export.write_trace_csv(tr, f) == rows
    assert (tmp_path / "t.csv").read_text() == export.trace_csv(tr, max_rows=rows)
    assert MAX_EXPORT_ROWS == 1_000_000  # the README states it
