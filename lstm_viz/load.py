"""`load_model`: a model as its author saved it -> an nn.Module whose every gate can be traced.

Reads a PyTorch state_dict (a bare nn.LSTM / GRU / RNN, or a whole model holding one), an
lstm_viz checkpoint, or a Keras `.keras` / `.h5` file, and never executes anything from the
file (PyTorch: torch.load(weights_only=True); Keras: json + h5py only). What the file cannot say
is asked for (`ChoiceNeeded`, a ValueError naming the keyword), never guessed.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from lstm_viz import keras_convert, keras_files, model_files, validate, whole_models
from lstm_viz.limits import check_upload_size
from lstm_viz.loaded import LoadedModel, Summary
from lstm_viz.models import SequenceModel

_CORES = {"lstm": "LSTM", "gru": "GRU", "rnn_tanh": "RNN (tanh)", "rnn_relu": "RNN (relu)"}


def load_model(
    source: str | os.PathLike | bytes,
    nonlinearity: str | None = None,
    core: str | None = None,
    head: str | None = None,
    embedding: str | None = None,
) -> LoadedModel | SequenceModel:
    """The model in `source` (a path or the file's bytes), in eval mode.

    Calling it on (batch, T, features) values (or (batch, T) token ids) gives per-step outputs;
    `.core` is the recurrent module `lstm_viz.trace` takes; `.trace(x)` returns (trace, per-step
    predictions); `.summary` says what was loaded, recognised and left out.

    nonlinearity: 'tanh' or 'relu' for a bare nn.RNN state_dict (its weights cannot tell).
    core: which recurrent core, by prefix (e.g. 'encoder.lstm'), when a state_dict holds several.
    head, embedding: which module, by prefix, when several fit; 'none' for no head / embedding.
    Raises ChoiceNeeded (a ValueError with .keyword and .choices) when one of these is needed.
    """
    data = _read(source)
    check_upload_size(len(data), "model file", "save a smaller model")
    if nonlinearity is not None and nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    if keras_files.is_keras_file(data):
        layers = keras_files.read_keras(data)
        try:
            model = keras_convert.convert(layers)
        except (TypeError, KeyError, AttributeError, IndexError) as err:  # odd types in JSON
            raise ValueError(
                f"the Keras file's config is malformed ({type(err).__name__}); save the whole "
                "model with model.save('model.keras')"
            ) from None
    else:
        blob = model_files.read_torch_blob(data)
        if isinstance(blob, dict) and "config_json" in blob:
            model = _checkpoint(data)  # it records its core: no nonlinearity question
        elif isinstance(blob, dict):
            state, where = _state_dict_of(blob)
            try:
                model = whole_models.from_state_dict(state, nonlinearity, core, head, embedding)
            except (TypeError, KeyError, AttributeError, IndexError, RuntimeError) as err:
                # a crafted state_dict (odd ranks, types) must end in one clear message
                raise ValueError(
                    f"the file's weights do not form a recurrent model ({type(err).__name__}: "
                    f"{str(err)[:120]}); save model.state_dict() of an nn.LSTM / GRU / RNN or a "
                    "model that holds one"
                ) from None
            if where:
                model.summary.recognised.insert(0, f"the model's weights under {where!r}")
        else:
            raise ValueError(
                "the file holds no state_dict; save one with torch.save(model.state_dict(), path)"
            )
    _validate(model)
    return model


def _state_dict_of(blob: dict) -> tuple[dict, str | None]:
    """The state_dict itself, or the one inside a training checkpoint such as
    {'epoch': 9, 'model_state_dict': {...}, 'optimizer_state_dict': {...}}."""
    if all(isinstance(v, torch.Tensor) for v in blob.values()):
        return blob, None
    inner = [
        k
        for k, v in blob.items()
        if isinstance(v, dict)
        and v
        and all(isinstance(t, torch.Tensor) for t in v.values())
        and whole_models.find_cores(v)
    ]
    if len(inner) != 1:
        keys = ", ".join(map(str, list(blob)[:6]))
        raise ValueError(
            f"the file holds a dict ({keys}) that is not one model's state_dict; save "
            "torch.save(model.state_dict(), path)"
        )
    return blob[inner[0]], inner[0]


def _read(source) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source)
    if not isinstance(source, (str, os.PathLike)):
        raise ValueError(f"load_model takes a path or bytes, got {type(source).__name__}")
    path = Path(source)
    if not path.is_file():
        raise ValueError(f"no file at {str(path)[:200]}; check the path")
    # the limit is checked before reading: a path to a huge file costs nothing
    check_upload_size(path.stat().st_size, "model file", "save a smaller model")
    return path.read_bytes()


def _checkpoint(data: bytes) -> SequenceModel:
    """An lstm_viz checkpoint, with a `.summary` like every other loaded model."""
    model = model_files.load_model_file(data)
    assert isinstance(model, SequenceModel)
    cfg, c = model.config, model.core
    vocab = len(cfg.vocab) if cfg.vocab else None
    model.summary = Summary(
        kind="lstm_viz checkpoint" + (f" (task {cfg.task})" if cfg.task else ""),
        core=_CORES[cfg.core],
        input_size=cfg.input_size if vocab is None else cfg.embed_size,
        vocab_size=vocab,
        layers=c.num_layers,
        hidden=[c.hidden_size] * c.num_layers,
        bidirectional=False,
        proj_size=0,
        head=f"Linear({model.head.in_features}, {model.head.out_features})",
        output_size=model.head.out_features,
        parameters=sum(p.numel() for p in model.parameters()),
        recognised=["the whole model, as lstm_viz saved it (encoder, core, head)"],
    )
    return model


def _validate(model: nn.Module) -> None:
    """Last checks on the built model, whatever the file was: the shared model validator
    (sizes, vocabulary, head, a checkpoint's `extra` fields), then finite weights."""
    validate.check_model(model)
    for name, p in model.named_parameters():
        if not torch.isfinite(p).all():
            raise ValueError(f"the weights hold NaN or inf ({name}); retrain or re-save the model")
    model.eval()
