"""Uploaded model files -> modules: an lstm_viz checkpoint or a plain nn.LSTM / GRU / RNN
state_dict, read with torch.load(weights_only=True) only.

Everything is checked before memory is spent: the archive's unpacked size, each tensor's real
bytes (a stride-0 view could claim any shape), the hidden size and layer count; every refusal is
a ValueError that says what to upload instead.
"""

from __future__ import annotations

import io
import re
import warnings
import zipfile

import torch
from torch import nn

from lstm_viz.limits import (
    MAX_LAYERS,
    MAX_WEIGHT_BYTES,
    check_upload_size,
    listing,
    mb,
)
from lstm_viz.models import SequenceModel, checkpoint_model
from lstm_viz.validate import check_core_sizes

_GATES = {"lstm": 4, "gru": 3, "rnn": 1}  # rows of weight_ih per hidden unit, per core kind
_ARTICLE = {"lstm": "an", "gru": "a", "rnn": "an"}


def load_model_file(data: bytes, kind: str = "auto") -> SequenceModel | nn.Module:
    """An uploaded lstm_viz checkpoint or plain nn.LSTM / GRU / RNN state_dict, as a module.

    Loaded with torch.load(weights_only=True): a file can hold tensors, never code to run.
    """
    blob = read_torch_blob(data)
    if isinstance(blob, dict):
        _check_tensor_bytes(blob.get("state_dict", blob))
    if isinstance(blob, dict) and "config_json" in blob:
        return checkpoint_model(blob)  # the same checks as lstm_viz.load_checkpoint
    if isinstance(blob, nn.Module) or not isinstance(blob, dict):
        raise ValueError("the file holds no state_dict; save one with torch.save(m.state_dict())")
    return core_from_state_dict(blob, kind)


def read_torch_blob(data: bytes) -> object:
    """What torch.save wrote, read with weights_only=True after the size checks (tensors, plain
    containers and numbers only: never code)."""
    check_upload_size(len(data), "model file", "save only the recurrent layer's state_dict")
    _check_archive(data)
    try:
        with warnings.catch_warnings():  # torch's notes on odd pickle protocols: not for users
            warnings.simplefilter("ignore")
            blob = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many kinds for a bad file; the user needs one message
        raise ValueError(
            f"could not read this file as PyTorch weights ({type(err).__name__}); upload a "
            "state_dict saved with torch.save(lstm.state_dict(), path) or an lstm_viz checkpoint"
        ) from None
    return blob


def _check_archive(data: bytes) -> None:
    """Refuse a zip (torch.save's format) whose members unpack to more than the limit: torch
    would allocate and inflate each one before we see a single shape."""
    if not data.startswith(b"PK"):
        return  # not a zip: torch.load reports it (or reads PyTorch's legacy format)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            unpacked = sum(i.file_size for i in z.infolist())
    except (zipfile.BadZipFile, ValueError, EOFError):
        raise ValueError(
            "the model file is a damaged archive (cut short?); upload the whole .pt file"
        ) from None
    if unpacked > MAX_WEIGHT_BYTES:
        raise ValueError(
            f"the model file unpacks to {mb(unpacked)}; the limit is "
            f"{MAX_WEIGHT_BYTES // 2**20} MB: save only the recurrent layer's state_dict"
        )


def _check_tensor_bytes(state: object) -> None:
    """Tensors must be dense CPU floats that own their bytes (a stride-0 view can claim any
    shape from one stored number), and all of them together must fit the limit."""
    if not isinstance(state, dict):
        return
    total = 0
    for name, t in state.items():
        if not isinstance(t, torch.Tensor):
            continue  # reported by the callers, which know what the values should be
        if t.layout != torch.strided or t.device.type != "cpu" or not t.is_floating_point():
            kind = str(t.dtype if t.layout == torch.strided else t.layout).removeprefix("torch.")
            raise ValueError(
                f"tensor {name} holds {kind} values; the app reads float weights only: "
                "save them with torch.save(lstm.float().state_dict(), path)"
            )
        if t.numel() * t.element_size() > t.untyped_storage().nbytes():
            raise ValueError(f"tensor {name} claims more values than the file stores; re-save it")
        total += t.numel() * t.element_size()
    if total > MAX_WEIGHT_BYTES:
        raise ValueError(
            f"the weights take {mb(total)}; the limit is {MAX_WEIGHT_BYTES // 2**20} MB: "
            "save only the recurrent layer's state_dict"
        )


def core_from_state_dict(state: dict, kind: str = "auto", nonlinearity: str = "tanh") -> nn.Module:
    """Build the nn.LSTM / GRU / RNN a state_dict belongs to (sizes read from its shapes); an
    RNN's nonlinearity is not in its weights, so the caller states it."""
    if not isinstance(state, dict):
        raise ValueError("expected a state_dict (a dict of tensors); save one with m.state_dict()")
    if not all(isinstance(k, str) for k in state):
        bad = [k for k in state if not isinstance(k, str)]
        raise ValueError(
            f"the state_dict has keys that are not names ({listing(bad, 3)}); save it with "
            "torch.save(lstm.state_dict(), path)"
        )
    state = {k.removeprefix("core.").removeprefix("lstm."): v for k, v in state.items()}
    if "weight_ih_l0" not in state or "weight_hh_l0" not in state:
        raise ValueError(
            f"this state_dict has no weight_ih_l0 / weight_hh_l0 (keys: {listing(state, 5)}); "
            "upload the state_dict of an nn.LSTM, nn.GRU or nn.RNN itself"
        )
    if not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError("the state_dict holds values that are not tensors; re-save it")
    _check_tensor_bytes(state)
    for name, t in state.items():  # shapes are read below: a 0-D or 3-D "weight" is refused
        want = 2 if name.startswith("weight_") else 1 if name.startswith("bias_") else t.dim()
        if t.dim() != want:
            raise ValueError(
                f"tensor {name} is {t.dim()}-D with shape {tuple(t.shape)}; an nn.LSTM / GRU / "
                f"RNN keeps it {want}-D: upload the module's own state_dict, unchanged"
            )
    w_ih, w_hh = state["weight_ih_l0"], state["weight_hh_l0"]
    proj = state["weight_hr_l0"].shape[0] if "weight_hr_l0" in state else 0
    hidden = state["weight_hr_l0"].shape[1] if proj else w_hh.shape[1]
    rows = w_ih.shape[0]
    if hidden == 0 or w_ih.shape[1] == 0:
        raise ValueError("the state_dict has a size of 0 (no units or no inputs); re-save it")
    guess = {v * hidden: k for k, v in _GATES.items()}.get(rows)
    if kind == "auto":
        if guess is None:
            raise ValueError(
                f"weight_ih_l0 has {rows} rows, not 4, 3 or 1 x hidden ({hidden}); "
                "this is not an LSTM, GRU or RNN state_dict"
            )
        kind = guess
    if kind not in _GATES:
        raise ValueError(f"unknown core {kind!r}; choose lstm, gru, rnn or auto")
    if rows != _GATES[kind] * hidden:
        seen = f" (it looks like {_ARTICLE[guess]} {guess.upper()})" if guess else ""
        raise ValueError(
            f"weight_ih_l0 has {rows} rows but {_ARTICLE[kind]} {kind.upper()} with hidden size "
            f"{hidden} needs {_GATES[kind] * hidden}{seen}; choose the right core"
        )
    found = {int(m.group(1)) for k in state if (m := re.fullmatch(r"weight_ih_l(\d+)", k))}
    layers = len(found)
    if found != set(range(layers)) or layers > MAX_LAYERS:
        raise ValueError(
            f"the state_dict has layers {sorted(found)[:8]}; the app takes layers 0, 1, ... "
            f"up to {MAX_LAYERS} in all: upload a whole nn.LSTM / GRU / RNN state_dict"
        )
    check_core_sizes(w_ih.shape[1], hidden, layers, proj, what="the state_dict")
    kw = dict(
        input_size=w_ih.shape[1],
        hidden_size=hidden,
        num_layers=layers,
        bias="bias_ih_l0" in state,
        bidirectional="weight_ih_l0_reverse" in state,
    )
    if kind == "lstm":
        module = nn.LSTM(proj_size=proj, **kw)
    elif kind == "gru":
        module = nn.GRU(**kw)
    else:
        module = nn.RNN(nonlinearity=nonlinearity, **kw)
    try:
        module.load_state_dict(state)
    except RuntimeError as err:
        first = str(err).splitlines()[1].strip() if "\n" in str(err) else str(err)
        first = first[:200].rstrip(".")
        raise ValueError(
            f"the state_dict does not fit {_ARTICLE[kind]} {kind.upper()}: {first}; "
            "upload the state_dict of one nn.LSTM / GRU / RNN, unchanged"
        ) from None
    if not all(torch.isfinite(p).all() for p in module.parameters()):
        raise ValueError("the weights hold NaN or inf; retrain or re-save the model")
    return module.float().eval()
