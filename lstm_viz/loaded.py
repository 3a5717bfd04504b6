"""`LoadedModel`: a model someone saved (a PyTorch state_dict or a Keras file), rebuilt from plain
torch modules, with a `Summary` of what was recognised and what was left out.

embedding (optional nn.Embedding) -> stack of recurrent groups (nn.LSTM / GRU / RNN, batch_first)
-> head (optional nn.Linear, or Linear + activation layers from a Keras file), applied per step.

A group is one torch module; consecutive Keras layers that one multi-layer torch module computes
exactly become one group. `.core` is the top group (the one the head reads): `lstm_viz.trace`
takes it as is. `trace(x, group=k)` traces a lower group and runs the groups above it (and the
head) on its traced output, so a clamp's effect reaches the prediction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn


class ChoiceNeeded(ValueError):
    """The file cannot say something the model needs (e.g. tanh or ReLU): the caller must choose.

    `keyword` is the argument of `lstm_viz.load_model` to pass, `choices` its possible values, so
    an app can offer them and call again.
    """

    def __init__(self, message: str, keyword: str, choices: list[str]):
        super().__init__(message)
        self.keyword = keyword
        self.choices = list(choices)


@dataclass
class Summary:
    """What was loaded, in words a user can check against what they saved."""

    kind: str  # e.g. "PyTorch state_dict", "Keras 3 .keras file", "lstm_viz checkpoint"
    core: str  # "LSTM", "GRU", "RNN (relu)", ...; "LSTM + GRU" for a mixed stack
    input_size: int  # features per step the core reads (the embedding width for token models)
    vocab_size: int | None  # token ids 0..vocab_size-1 when an embedding comes first, else None
    layers: int  # recurrent layers in all
    hidden: list[int]  # hidden size of each recurrent layer, bottom-up
    bidirectional: bool
    proj_size: int  # LSTM projection (0: none)
    head: str  # what turns the top hidden state into predictions ("none" if nothing)
    output_size: int | None  # width of the per-step predictions (None without a head)
    parameters: int
    returns: str = "every step"  # or "last step" (Keras return_sequences=False at the top)
    recognised: list[str] = field(default_factory=list)  # parts of the file that were used
    left_out: list[str] = field(default_factory=list)  # parts of the file that were not
    notes: list[str] = field(default_factory=list)  # assumptions the numbers rest on
    groups: list[str] = field(default_factory=list)  # the torch modules, bottom-up (see trace)

    def input_format(self) -> str:
        """How to type an input for this model, e.g. '10 numbers per step, one step per line'."""
        if self.vocab_size:
            return f"token ids 0..{self.vocab_size - 1}, one per step"
        n = self.input_size
        return f"{n} number{'s' if n > 1 else ''} per step, one step per line"

    def lines(self) -> list[str]:
        sizes = ", ".join(str(h) for h in self.hidden)
        out = [
            f"{self.kind}: {self.core}, {self.layers} layer(s) of hidden size {sizes}"
            + (", bidirectional" if self.bidirectional and len(self.groups) < 2 else "")
            + (f", projection {self.proj_size}" if self.proj_size else ""),
            f"input: {self.input_format()}",
            f"head: {self.head}"
            + (f" -> {self.output_size} output(s) per step" if self.output_size else ""),
            f"parameters: {self.parameters:,}",
        ]
        out += self.groups if len(self.groups) > 1 else []
        out += [f"recognised: {s}" for s in self.recognised]
        out += [f"left out: {s}" for s in self.left_out]
        out += [f"note: {s}" for s in self.notes]
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


class LoadedModel(nn.Module):
    """embedding? -> recurrent groups -> head?, with a prediction at every step."""

    def __init__(self, groups, embedding=None, head=None, summary: Summary | None = None):
        super().__init__()
        assert groups and all(g.batch_first for g in groups)
        self.embedding = embedding
        self.groups = nn.ModuleList(groups)
        self.head = head
        self.summary = summary
        self.eval()

    @property
    def core(self) -> nn.Module:
        """The top recurrent group (nn.LSTM / GRU / RNN): what `lstm_viz.trace` takes."""
        return self.groups[-1]

    @property
    def is_token_model(self) -> bool:
        return self.embedding is not None

    @property
    def input_size(self) -> int:
        return self.groups[0].input_size

    def encode(self, x) -> torch.Tensor:
        """Bottom group input (B, T, F) from ids (B, T) / (T,) or values (B, T, F) / (T, F)."""
        if self.embedding is not None:
            try:
                x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x)
            except (TypeError, ValueError):  # ragged lists, strings
                raise ValueError(
                    "pass token ids as whole numbers shaped (T,) or (batch, T)"
                ) from None
            if x.is_floating_point() and not torch.equal(x, x.round()):
                raise ValueError("this model reads token ids (whole numbers), not values")
            x = x.long()
            x = x[None] if x.dim() == 1 else x
            if x.dim() != 2 or x.shape[1] == 0:
                raise ValueError(f"pass token ids shaped (T,) or (batch, T), got {tuple(x.shape)}")
            n = self.embedding.num_embeddings
            if x.numel() and not 0 <= int(x.min()) <= int(x.max()) < n:
                raise ValueError(f"token ids must be in 0..{n - 1} (the model's vocabulary)")
            return self.embedding(x)
        try:
            x = torch.as_tensor(np.asarray(x) if not torch.is_tensor(x) else x).float()
        except (TypeError, ValueError):
            raise ValueError("the input must be numbers: (T, features) values") from None
        x = x[:, None] if x.dim() == 1 else x  # one univariate series (T,)
        x = x[None] if x.dim() == 2 else x
        if x.dim() != 3 or x.shape[-1] != self.input_size:
            raise ValueError(
                f"the model reads {self.input_size} number(s) per step, got shape "
                f"{tuple(x.shape)}; pass values shaped (T, {self.input_size})"
            )
        if x.shape[1] == 0 or not torch.isfinite(x).all():
            raise ValueError("the input needs at least one step and no NaN or inf values")
        return x

    def _above(self, h: torch.Tensor, start: int) -> torch.Tensor:
        for g in self.groups[start:]:
            h = g(h)[0]
        return h

    def _predict(self, top: torch.Tensor) -> torch.Tensor:
        return top if self.head is None else self.head(top)

    def forward(self, x) -> torch.Tensor:
        """Per-step outputs (B, T, output_size); without a head, the top hidden state."""
        return self._predict(self._above(self.encode(x), 0))

    @torch.no_grad()
    def final_output(self, x) -> torch.Tensor:
        """(B, output_size): what the saved model returns when it returns only the last step.

        For a bidirectional top that is the forward pass at the last step beside the backward
        pass at step 0 (where it has read the whole sequence), as Keras's Bidirectional does.
        """
        top = self._above(self.encode(x), 0)  # (B, T, D*H)
        if self.core.bidirectional:
            h = top.shape[-1] // 2
            top = torch.cat([top[:, -1, :h], top[:, 0, h:]], dim=-1)
        else:
            top = top[:, -1]
        return self._predict(top)

    @torch.no_grad()
    def trace(self, x, interventions=None, labels=None, group: int = -1):
        """Trace one sequence; returns (LSTMTrace of `groups[group]`, per-step outputs (T, out)
        or None without a head), like `SequenceModel.trace`.

        Groups below the traced one run as plain torch modules; groups above it and the head
        run on the traced (possibly clamped) output, so the predictions show a clamp's effect.
        """
        from lstm_viz.trace import trace as trace_core

        n = len(self.groups)
        if not isinstance(group, int) or not -n <= group < n:
            raise ValueError(f"group {group!r} out of range; this model has groups 0..{n - 1}")
        group %= n
        h = self.encode(x)  # (1, T, F): one sequence, traced unbatched like SequenceModel
        if h.shape[0] != 1:
            raise ValueError("trace takes one sequence: pass (T, features) values or (T,) ids")
        for g in self.groups[:group]:
            h = g(h)[0]
        tr = trace_core(self.groups[group], h[0], interventions=interventions, labels=labels)
        if self.head is None and group == n - 1:
            return tr, None
        top = self._above(torch.as_tensor(tr.output, dtype=torch.float32)[None], group + 1)
        preds = None if self.head is None else self._predict(top)[0].numpy()
        return tr, preds

    def readout(self, preds) -> np.ndarray:
        """The head's outputs as they are (float64): a file does not say whether they are class
        scores or values, so nothing is assumed (no softmax, no unscaling)."""
        return np.asarray(preds, dtype=np.float64)

    def describe_groups(self) -> list[str]:
        """One line per group, e.g. 'group 0: LSTM, 2 layers of 8, bidirectional'."""
        out = []
        for k, g in enumerate(self.groups):
            kind = type(g).__name__
            if kind == "RNN":
                kind = f"RNN ({g.nonlinearity})"
            bi = ", bidirectional" if g.bidirectional else ""
            out.append(f"group {k}: {kind}, {g.num_layers} layer(s) of {g.hidden_size}{bi}")
        return out


def count_parameters(*modules) -> int:
    return sum(p.numel() for m in modules if m is not None for p in m.parameters())


def summarize(model: LoadedModel, kind: str, recognised, left_out, notes, returns="every step"):
    """The `Summary` of a built model (sizes read from its modules, never from the file)."""
    groups = list(model.groups)
    kinds = []
    for g in groups:
        k = type(g).__name__ + (f" ({g.nonlinearity})" if isinstance(g, nn.RNN) else "")
        if k not in kinds:
            kinds.append(k)
    head = model.head
    if head is None:
        head_text, out = "none (the outputs are the top layer's hidden state)", None
    else:
        linears = [m for m in head.modules() if isinstance(m, nn.Linear)]
        out = linears[-1].out_features
        head_text = " -> ".join(
            type(m).__name__
            if not isinstance(m, nn.Linear)
            else f"Linear({m.in_features}, {m.out_features})"
            for m in (head if isinstance(head, nn.Sequential) else [head])
        )
    return Summary(
        kind=kind,
        core=" + ".join(kinds),
        input_size=model.input_size,
        vocab_size=model.embedding.num_embeddings if model.embedding is not None else None,
        layers=sum(g.num_layers for g in groups),
        hidden=[g.hidden_size for g in groups for _ in range(g.num_layers)],
        bidirectional=any(g.bidirectional for g in groups),
        proj_size=max(getattr(g, "proj_size", 0) for g in groups),
        head=head_text,
        output_size=out,
        parameters=count_parameters(model.embedding, model.groups, model.head),
        returns=returns,
        recognised=list(recognised),
        left_out=list(left_out),
        notes=list(notes),
        groups=model.describe_groups(),
    )
