"""The sequence model every task uses, its checkpoints, and the registry of shipped weights.

A model is encoder -> recurrent core -> head:
- encoder: `nn.Linear` for numeric series, `nn.Embedding` for tokens (when `vocab` is set);
- core: a plain `torch.nn.LSTM`, `nn.GRU` or `nn.RNN` (batch_first), so `lstm_viz.trace` works on
  it unchanged and a state_dict of the core moves to any other PyTorch code;
- head: `nn.Linear` applied at every step; `readout` turns its outputs into class
  probabilities, or values in the data's units through the model's `Scaling`.

Checkpoints are a dict of tensors and plain JSON-able values loaded with
`torch.load(..., weights_only=True)`: loading never executes code from the file.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from lstm_viz.limits import MAX_WEIGHT_BYTES, listing, mb
from lstm_viz.scaling import Scaling
from lstm_viz.validate import check_config

WEIGHTS_DIR = Path(__file__).parent / "weights"
CORES = ("lstm", "gru", "rnn_tanh", "rnn_relu")


@dataclass
class ModelConfig:
    core: str = "lstm"  # one of CORES
    input_size: int = 1  # numeric features per step (unused when vocab is set)
    vocab: list[str] | None = None  # token strings; set -> embedding encoder, ids are indices
    embed_size: int = 16  # embedding width (token models only)
    hidden_size: int = 64  # units of the recurrent core
    num_layers: int = 1  # stacked recurrent layers
    output_size: int = 1  # head width: 1 for regression, n classes for classification
    output_labels: list[str] | None = None  # names of the head's outputs (classes), if any
    task: str = ""  # which task trained it (e.g. "adding", "cue", "chars", "forecast")
    extra: dict = field(default_factory=dict)  # task data the app needs (scaling, gap, ...)

    def __post_init__(self):
        if self.core not in CORES:
            raise ValueError(f"unknown core {self.core!r}; choose one of {', '.join(CORES)}")


def _embedding(n: int, dim: int) -> nn.Embedding:
    """nn.Embedding(n, dim), but on the meta device (shape checks) without initialising it:
    torch routes normal_ on meta through its Python reference kernels, whose first call imports
    torch._dynamo (1.0-1.6 s here, the larger part of the app's first page)."""
    if torch.empty(0).is_meta:
        return nn.Embedding(n, dim, _weight=torch.empty(n, dim))
    return nn.Embedding(n, dim)


class SequenceModel(nn.Module):
    """encoder -> core -> head, with a prediction at every step."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        if config.vocab:
            self.encoder = _embedding(len(config.vocab), config.embed_size)
            core_in = config.embed_size
        else:
            self.encoder = nn.Linear(config.input_size, config.input_size)
            core_in = config.input_size
        kw = dict(hidden_size=config.hidden_size, num_layers=config.num_layers, batch_first=True)
        if config.core == "lstm":
            self.core = nn.LSTM(core_in, **kw)
        elif config.core == "gru":
            self.core = nn.GRU(core_in, **kw)
        else:
            self.core = nn.RNN(core_in, nonlinearity=config.core.split("_")[1], **kw)
        self.head = nn.Linear(config.hidden_size, config.output_size)

    @property
    def is_token_model(self) -> bool:
        return bool(self.config.vocab)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Core input (B, T, core_in) from ids (B, T) / (T,) or values (B, T, F) / (T, F)."""
        x = _cpu_tensor(x)
        if self.is_token_model:
            if (
                x.is_complex()
                or x.dtype == torch.bool
                or (x.is_floating_point() and not torch.equal(x, x.round()))
            ):
                raise ValueError(
                    f"token ids must be whole numbers, got {x.dtype}; encode text with the "
                    "model's own tokens (tokens_to_ids)"
                )
            x = x.to(torch.long)
            if x.dim() == 1:
                x = x[None]
            if x.numel() and not 0 <= int(x.min()) <= int(x.max()) < len(self.config.vocab):
                raise ValueError(
                    f"token ids must be in 0..{len(self.config.vocab) - 1} (the vocabulary); "
                    "encode text with the model's own tokens (tokens_to_ids)"
                )
        else:
            if x.is_complex() or x.dtype == torch.bool:
                raise ValueError(f"the model reads real numbers, got {x.dtype}; pass floats")
            x = x.to(torch.float32)
            if x.dim() == 1:  # a single univariate series (T,)
                x = x[:, None]
            if x.dim() == 2:
                x = x[None]
            if x.dim() != 3 or x.shape[-1] != self.config.input_size:
                raise ValueError(
                    f"the model reads {self.config.input_size} feature(s) per step, got shape "
                    f"{tuple(x.shape)}; pass values shaped (T, {self.config.input_size})"
                )
        return self.encoder(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Per-step outputs (B, T, output_size); a 1-sequence input still gets B = 1."""
        out, _ = self.core(self.encode(x))
        return self.head(out)

    @torch.no_grad()
    def trace(self, x, interventions=None, labels=None):
        """Trace the core on one sequence; returns (LSTMTrace, per-step outputs (T, output_size)).

        The outputs come from the traced hidden states, so a clamp changes them exactly as it
        would change the network's own prediction.
        """
        from lstm_viz.trace import trace as trace_core

        was_training = self.training
        self.eval()
        try:
            enc = self.encode(x)[0]  # (T, core_in): one unbatched sequence
            tr = trace_core(self.core, enc, interventions=interventions, labels=labels)
            top = torch.as_tensor(tr.output, dtype=self.head.weight.dtype)
            preds = self.head(top).numpy()
        finally:
            self.train(was_training)
        return tr, preds

    def readout(self, preds) -> np.ndarray:
        """What the head's outputs (..., output_size) mean, as float64 of the same shape: class
        probabilities (a softmax over the last axis) when the head scores several classes;
        values in the data's original units for a forecast model (its `Scaling`); else the
        outputs as they are (e.g. the adding problem's sum)."""
        # a copy: cached predictions are read-only arrays shared between sessions
        out = torch.tensor(np.asarray(preds), dtype=torch.float64)
        if out.dim() == 0 or out.shape[-1] != self.config.output_size:
            raise ValueError(
                f"readout takes the model's outputs (..., {self.config.output_size}), got shape "
                f"{tuple(out.shape)}; pass what model(x) or model.trace(x)[1] returns"
            )
        if self.config.output_size > 1:
            return torch.softmax(out, dim=-1).numpy()
        scaling = Scaling.of(self.config.extra)
        return out.numpy() if scaling is None else scaling.to_original(out.numpy())

    def tokens_to_ids(self, tokens: list[str]) -> list[int]:
        """Ids for tokens; unknown tokens raise a ValueError that names them."""
        if not self.is_token_model:
            raise ValueError("this model reads numbers, not tokens; pass a numeric array")
        index = {t: i for i, t in enumerate(self.config.vocab)}
        unknown = sorted({t for t in tokens if t not in index})
        if unknown:
            raise ValueError(
                f"the model has never seen {listing(unknown)}; use only its vocabulary "
                f"({len(self.config.vocab)} tokens, e.g. {listing(self.config.vocab, 8)})"
            )
        return [index[t] for t in tokens]


def save_checkpoint(model: SequenceModel, path: str | Path, metrics: dict | None = None) -> None:
    """Write weights and config (tensors and JSON text only) to `path`, metrics JSON beside it."""
    path = Path(path)
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    torch.save({"config_json": json.dumps(asdict(model.config)), "state_dict": state}, path)
    if metrics is not None:
        path.with_suffix(".json").write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")


def load_checkpoint(path: str | Path) -> SequenceModel:
    """Load a checkpoint written by `save_checkpoint`; never executes code from the file.

    Every size and `extra` field is checked (lstm_viz.validate) before anything is built."""
    try:
        with warnings.catch_warnings():  # torch's notes on odd pickle protocols: not for users
            warnings.simplefilter("ignore")
            blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # torch raises many kinds for a bad file; the user needs one message
        raise ValueError(
            f"could not read {Path(path).name} as an lstm_viz checkpoint ({type(err).__name__}); "
            "save one with lstm_viz.models.save_checkpoint or upload a plain nn.LSTM state_dict"
        ) from None
    return checkpoint_model(blob)


def checkpoint_model(blob) -> SequenceModel:
    """The model of a loaded checkpoint dict {config_json, state_dict}, after every check."""
    if not isinstance(blob, dict) or "config_json" not in blob or "state_dict" not in blob:
        raise ValueError(
            "this file is not an lstm_viz checkpoint (no config_json/state_dict); "
            "save one with lstm_viz.models.save_checkpoint"
        )
    if not isinstance(blob["config_json"], str):
        raise ValueError("the checkpoint's config_json is not text; re-save the model")
    try:
        fields = json.loads(blob["config_json"])
        if not isinstance(fields, dict):
            raise TypeError(f"a JSON {type(fields).__name__}, not an object")
        config = ModelConfig(**fields)
    except RecursionError:  # json recurses once per nesting level: "[[[[...]]]]" overflows it
        raise ValueError(
            "the checkpoint's config is nested too deeply; re-save the model"
        ) from None
    except (TypeError, ValueError) as err:  # JSONDecodeError is a ValueError
        raise _bad_config(err) from None
    check_config(config)
    state = blob["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError("the checkpoint's state_dict is not a dict of tensors; re-save the model")
    if not all(isinstance(k, str) for k in state):
        raise ValueError("the checkpoint's state_dict has keys that are not names; re-save it")
    # shapes first, on the meta device: a config that claims a huge model allocates nothing
    try:
        with torch.device("meta"):
            expected = {k: v for k, v in SequenceModel(config).state_dict().items()}
    except (TypeError, ValueError, RuntimeError) as err:
        raise _bad_config(err) from None
    claimed = sum(v.numel() * 4 for v in expected.values())  # float32, as SequenceModel builds
    if claimed > MAX_WEIGHT_BYTES:
        raise ValueError(
            f"the checkpoint's config describes {mb(claimed)} of weights; the limit is "
            f"{MAX_WEIGHT_BYTES // 2**20} MB: train a smaller model"
        )
    expected = {k: tuple(v.shape) for k, v in expected.items()}
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    if missing or extra:
        raise ValueError(
            f"checkpoint does not match its config: missing {missing[:5]}, unexpected {extra[:5]}; "
            "re-save the model with save_checkpoint"
        )
    for name, tensor in state.items():
        if tuple(tensor.shape) != expected[name]:
            raise ValueError(
                f"checkpoint tensor {name} has shape {tuple(tensor.shape)} but the config needs "
                f"{expected[name]}; the config and weights come from different models"
            )
        if not _plain_float(tensor):
            raise ValueError(
                f"checkpoint tensor {name} is not a plain float tensor ({tensor.dtype}, "
                f"{tensor.layout}); re-save it with save_checkpoint"
            )
        if not torch.isfinite(tensor).all():
            raise ValueError(f"checkpoint tensor {name} holds NaN or inf; retrain or re-save it")
    model = SequenceModel(config)  # real memory now: no larger than the tensors in the file
    model.load_state_dict(state)
    model.eval()
    return model


def _cpu_tensor(x) -> torch.Tensor:
    """x as a dense CPU tensor, or a ValueError that says what to pass instead."""
    try:
        t = x if torch.is_tensor(x) else torch.as_tensor(np.asarray(x))
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"the input must be a numeric array or tensor ({err})") from None
    if t.device.type != "cpu" or t.layout != torch.strided:
        raise ValueError(
            f"the input is a {t.device.type} {t.layout} tensor; pass a dense CPU one (x.cpu())"
        )
    return t.detach()


def _bad_config(err: Exception) -> ValueError:
    return ValueError(f"the checkpoint's config is not valid ({err}); re-save the model")


def _plain_float(t: torch.Tensor) -> bool:
    """A dense CPU float tensor that owns at least its own bytes: a stride-0 view could claim
    a (1e9, 1e9) shape backed by a single stored number, and copying it would allocate it all."""
    return (
        t.layout == torch.strided
        and t.device.type == "cpu"
        and t.is_floating_point()
        and t.numel() * t.element_size() <= t.untyped_storage().nbytes()
    )


def shipped_models() -> list[str]:
    """Names of the pretrained models in the package, e.g. 'adding_lstm'."""
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.pt"))


def load_shipped(name: str) -> SequenceModel:
    """A shipped pretrained model by name (see `shipped_models()`)."""
    path = WEIGHTS_DIR / f"{name}.pt"
    if not path.exists():
        raise ValueError(f"no shipped model {name!r}; choose one of {shipped_models()}")
    return load_checkpoint(path)


def shipped_metrics(name: str) -> dict:
    """The metrics JSON recorded when a shipped model was saved ({} if none)."""
    path = WEIGHTS_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def set_seed(seed: int) -> np.random.Generator:
    """Seed torch and return a numpy Generator, so a task's data and init are reproducible."""
    torch.manual_seed(seed)
    return np.random.default_rng(seed)
