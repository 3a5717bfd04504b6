"""The one check every model description passes before anything is built or drawn.

A shipped model, an lstm_viz checkpoint, a plain state_dict (and a Keras import) all end in the
same few numbers: core sizes, head and vocabulary, and the task data in `config.extra` that the
views read. Each is checked here for type and range against `lstm_viz.limits`, and a value out of
range is a ValueError naming the field, the value and the limit, at load time: views read these
fields as validated and never clip them later.

- `check_core_sizes(...)`: a recurrent core's sizes (from a config or from state_dict shapes);
- `check_config(config)`: a whole `ModelConfig`, including every `extra` field a view reads;
- `check_model(model)`: either of the above for a built module.
"""

from __future__ import annotations

import functools
import math
import re

from lstm_viz.limits import (
    MAX_CONFIG_DEPTH,
    MAX_CONFIG_ITEMS,
    MAX_EMBED,
    MAX_HIDDEN,
    MAX_HORIZON,
    MAX_INPUT_SIZE,
    MAX_LABEL_CHARS,
    MAX_LAYERS,
    MAX_OUTPUTS,
    MAX_SEASON,
    MAX_SERIES,
    MAX_SERIES_ABS,
    MAX_STEPS,
    MAX_VOCAB,
    is_real,
    listing,
)
from lstm_viz.series_files import MIN_LENGTH, SYNTHETIC, VARIANTS, load_series

FIX = "re-save the model with lstm_viz.models.save_checkpoint"
FORECAST_NEEDS = ("variant", "scaling", "season", "horizon", "test_start")  # forecast views read
SYNTHETIC_KEYS = {"length", "period", "trend", "noise", "amplitude", "seed"}


def whole(value, what: str, lo: int, hi: int, why: str = "") -> int:
    """`value` as an int in lo..hi (an int, not a bool nor a float), else a ValueError."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be a whole number, got {_show(value)}; {FIX}")
    if not lo <= value <= hi:
        raise ValueError(f"{what} is {value}; the app takes {lo}..{hi}{why}")
    return value


def check_core_sizes(
    input_size, hidden_size, num_layers, proj_size=0, output_size=None, what: str = "the model"
) -> None:
    """Sizes of a recurrent core (and its head), each against its limit."""
    smaller = ": upload a smaller model"
    whole(input_size, f"{what}'s input size", 1, MAX_INPUT_SIZE, " features per step" + smaller)
    whole(hidden_size, f"{what}'s hidden size", 1, MAX_HIDDEN, " units" + smaller)
    whole(num_layers, f"{what}'s layer count", 1, MAX_LAYERS, " layers" + smaller)
    whole(proj_size, f"{what}'s projection size", 0, max(0, hidden_size - 1))
    if output_size is not None:
        whole(output_size, f"{what}'s output size", 1, MAX_OUTPUTS, " outputs" + smaller)


def check_model(model) -> None:
    """A built model: a SequenceModel (its config), a LoadedModel from `lstm_viz.load_model`
    (each recurrent group, the embedding, the head's width) or an nn.LSTM / GRU / RNN."""
    config = getattr(model, "config", None)
    if config is not None:
        check_config(config)
        return
    groups = getattr(model, "groups", None)
    if groups is None:
        _check_core(model, "the module")
        return
    for k, group in enumerate(groups):
        _check_core(group, f"recurrent group {k}")
    layers = sum(g.num_layers for g in groups)
    whole(layers, "the model's recurrent layer count", 1, MAX_LAYERS, " layers in all")
    embedding = getattr(model, "embedding", None)
    if embedding is not None:
        whole(embedding.num_embeddings, "the vocabulary size", 1, MAX_VOCAB, " tokens")
        whole(embedding.embedding_dim, "the embedding size", 1, MAX_EMBED)
    summary = getattr(model, "summary", None)
    outputs = getattr(summary, "output_size", None)
    if outputs is not None:
        whole(outputs, "the model's output size", 1, MAX_OUTPUTS, " outputs")


def _check_core(module, what: str) -> None:
    check_core_sizes(
        module.input_size,
        module.hidden_size,
        module.num_layers,
        getattr(module, "proj_size", 0),
        what=what,
    )


def check_config(config) -> None:
    """Every field of a ModelConfig, and every `extra` field the app reads, in range."""
    check_core_sizes(
        config.input_size, config.hidden_size, config.num_layers, 0, config.output_size
    )
    if config.vocab is not None:
        _labels(config.vocab, "the vocabulary", MAX_VOCAB, unique=True)
        whole(config.embed_size, "the embedding size", 1, MAX_EMBED)
        if not config.vocab:
            raise ValueError(f"the vocabulary is empty; {FIX}")
    if config.output_labels is not None:
        _labels(config.output_labels, "the output labels", MAX_OUTPUTS)
        if len(config.output_labels) != config.output_size:
            raise ValueError(
                f"the config names {len(config.output_labels)} output labels for "
                f"{config.output_size} outputs; give one label per output or none ({FIX})"
            )
    task = config.task
    if not isinstance(task, str) or not re.fullmatch(rf"[a-z_]{{0,{MAX_LABEL_CHARS}}}", task):
        raise ValueError(f"the task name {_show(task)} is not lowercase letters and _; {FIX}")
    extra = config.extra
    if not isinstance(extra, dict):
        raise ValueError(f"config.extra must be a dict, got {type(extra).__name__}; {FIX}")
    _json_like(extra)
    check_extra(extra, task)


def check_extra(extra: dict, task: str) -> None:
    """The task data views read (each checked whenever present; forecast needs its five)."""
    if task == "forecast":
        missing = [k for k in FORECAST_NEEDS if k not in extra]
        if missing:
            raise ValueError(
                f"this forecast model's config.extra lacks {', '.join(missing)}; {FIX} after "
                "training (lstm_viz.tasks.forecast.train_on_series writes them)"
            )
    if "T" in extra:
        whole(extra["T"], "extra['T'] (training length)", 1, MAX_STEPS, " steps")
    if "features" in extra:  # the adding task names its input columns
        _labels(extra["features"], "extra['features']", MAX_INPUT_SIZE)
    if "train_gaps" in extra:
        gaps = extra["train_gaps"]
        if not isinstance(gaps, list) or len(gaps) != 2:
            raise ValueError(f"extra['train_gaps'] must be [shortest, longest]; {FIX}")
        lo = whole(gaps[0], "the shortest training gap", 0, MAX_STEPS)
        whole(gaps[1], "the longest training gap", lo, MAX_STEPS)
    if "cue_answer" in extra:
        _cue_answer(extra["cue_answer"])
    if "unit" in extra:
        _labels([extra["unit"]], "extra['unit']", 1, allow_empty=True)
    if any(k in extra for k in (*FORECAST_NEEDS, "val_start", "synthetic")):
        _forecast_fields(extra)


def _forecast_fields(extra: dict) -> None:
    variant = extra.get("variant", "custom")
    if variant not in (*VARIANTS, "custom"):
        raise ValueError(
            f"extra['variant'] is {_show(variant)}; the app knows "
            f"{', '.join((*VARIANTS, 'custom'))}; {FIX}"
        )
    if "synthetic" in extra:
        _synthetic(extra["synthetic"])
    offset = 0
    if "scaling" in extra:
        offset = _scaling(extra["scaling"])
    season = extra.get("season", 1)
    whole(season, "extra['season'] (steps per season)", 1, MAX_SEASON, " steps")
    if "horizon" in extra:
        whole(extra["horizon"], "extra['horizon'] (forecast steps)", 1, MAX_HORIZON, " steps")
    n = _stored_length(variant, extra.get("synthetic"))
    last = (n if n is not None else MAX_SERIES) - 1
    val = extra.get("val_start")
    if val is not None:
        whole(val, "extra['val_start']", 0, last)
    if "test_start" in extra:
        # the tail needs a season of history (seasonal naive) and a step the model has read
        lo = max(season, offset + 1, val or 0)
        where = f" (the stored series has {n} values)" if n is not None else ""
        whole(extra["test_start"], "extra['test_start'] (first held-out step)", lo, last, where)


def _stored_length(variant: str, synthetic) -> int | None:
    """Values in the series stored with a variant (None for "custom": the user brings them)."""
    if variant == "synthetic":
        return int((synthetic or SYNTHETIC)["length"])
    return _shipped_length(variant) if variant in VARIANTS else None


@functools.cache
def _shipped_length(variant: str) -> int:
    return len(load_series(variant).values)  # the shipped CSVs never change


def _synthetic(params) -> None:
    if not isinstance(params, dict) or not set(params) <= SYNTHETIC_KEYS:
        raise ValueError(
            f"extra['synthetic'] must be a dict of {', '.join(sorted(SYNTHETIC_KEYS))}; {FIX}"
        )
    length = whole(params.get("length", 600), "the synthetic series length", MIN_LENGTH, MAX_SERIES)
    whole(params.get("period", 24), "the synthetic period", 2, min(MAX_SEASON, length // 4))
    whole(params.get("seed", 0), "the synthetic seed", 0, 2**32 - 1)
    for key, lo in (("trend", -1e6), ("noise", 0.0), ("amplitude", -1e6)):
        value = params.get(key, 0.0)
        if not is_real(value) or not lo <= value <= 1e6:
            raise ValueError(f"the synthetic {key} is {_show(value)}; give a number in {lo}..1e6")


def _scaling(scaling) -> int:
    """Check {difference, mean, std}; returns the model's offset (1 when it reads changes)."""
    if not isinstance(scaling, dict) or set(scaling) != {"difference", "mean", "std"}:
        raise ValueError(f"extra['scaling'] must be {{difference, mean, std}}; {FIX}")
    if not isinstance(scaling["difference"], bool):
        raise ValueError(f"extra['scaling']['difference'] must be true or false; {FIX}")
    mean, std = scaling["mean"], scaling["std"]
    if not is_real(mean) or abs(mean) > MAX_SERIES_ABS:
        raise ValueError(f"the scaling mean is {_show(mean)}; it must be a finite number; {FIX}")
    if not is_real(std) or not 0 < std <= MAX_SERIES_ABS:
        raise ValueError(f"the scaling std is {_show(std)}; it must be a number > 0; {FIX}")
    return int(scaling["difference"])


def _cue_answer(answers) -> None:
    if not isinstance(answers, dict) or len(answers) > MAX_VOCAB:
        raise ValueError(f"extra['cue_answer'] must map cue words to answers; {FIX}")
    _labels(list(answers), "the cue words", MAX_VOCAB)
    _labels(list(answers.values()), "the cue answers", MAX_VOCAB)


def _labels(items, what: str, most: int, unique: bool = False, allow_empty=False) -> None:
    """A list of at most `most` strings, each at most MAX_LABEL_CHARS long."""
    if not isinstance(items, list):
        raise ValueError(f"{what} must be a list of strings, got {type(items).__name__}; {FIX}")
    if len(items) > most:
        raise ValueError(f"{what} has {len(items)} entries; the app takes at most {most}")
    bad = [s for s in items if not isinstance(s, str)]
    if bad:
        raise ValueError(f"{what} holds non-strings ({listing(bad, 3)}); {FIX}")
    long = [s for s in items if len(s) > MAX_LABEL_CHARS or (not s and not allow_empty)]
    if long:
        raise ValueError(
            f"{what} holds {len(long)} entries that are empty or longer than "
            f"{MAX_LABEL_CHARS} characters ({listing(long, 3)}); shorten them"
        )
    if unique and len(set(items)) != len(items):
        seen, dup = set(), []
        for s in items:
            if s in seen:
                dup.append(s)
            seen.add(s)
        raise ValueError(f"{what} repeats {listing(dup, 5)}: a token must have one id; {FIX}")


def _json_like(value) -> None:
    """Only JSON values (dict with str keys, list, str, finite number, bool, None), nested at
    most MAX_CONFIG_DEPTH deep and MAX_CONFIG_ITEMS in all: walked without recursion."""
    stack, count = [(value, 1)], 0
    while stack:
        v, depth = stack.pop()
        count += 1
        if count > MAX_CONFIG_ITEMS:
            raise ValueError(f"config.extra holds over {MAX_CONFIG_ITEMS} values; {FIX}")
        if isinstance(v, dict):
            children = list(v.values())
            if not all(isinstance(k, str) for k in v):
                raise ValueError(f"config.extra has non-string keys; {FIX}")
        elif isinstance(v, list):
            children = v
        elif v is None or isinstance(v, (str, bool)) or is_real(v):
            continue
        elif isinstance(v, float) and not math.isfinite(v):
            raise ValueError(f"config.extra holds {v}; give finite numbers only ({FIX})")
        else:
            raise ValueError(f"config.extra holds a {type(v).__name__}; JSON values only ({FIX})")
        if depth >= MAX_CONFIG_DEPTH and children:
            raise ValueError(f"config.extra is nested deeper than {MAX_CONFIG_DEPTH} levels; {FIX}")
        stack.extend((c, depth + 1) for c in children)


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"
