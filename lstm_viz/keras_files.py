"""Reading Keras model files with `json` and `h5py` only: never Keras's own loader, never code.

- `.keras` (Keras 3): a zip holding `config.json` (the architecture) and `model.weights.h5`
  (each layer's variables under `layers/<snake_case class name>[_n]/.../vars/<i>`);
- `.h5` (Keras 2, and Keras 3's legacy format): the architecture as JSON in the root attribute
  `model_config`, weights under `model_weights/<layer name>` listed by its `weight_names`.

Both become a `KerasFile`: the layers in order (a chain: one input, each layer reading the one
before) with their weights as float numpy arrays in Keras's own variable order. Everything a
hostile file could do is refused before memory is spent: member names that climb out of the
zip, links to other files, claimed shapes beyond the size limit, non-float data.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from dataclasses import dataclass

import numpy as np

from lstm_viz.limits import MAX_WEIGHT_BYTES, mb

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
MAX_CONFIG_BYTES = 2 * 2**20  # an architecture's JSON; real ones are a few KB per layer
_FIX = "save the whole model with model.save('model.keras')"


@dataclass
class KerasFile:
    format: str  # ".keras" or ".h5"
    keras_version: str  # as recorded in the file ("" if it says nothing)
    layers: list[dict]  # {"class_name", "config", "name"} in order, InputLayer left out
    weights: list[list[np.ndarray]]  # per layer, in Keras's variable order (float)


def is_keras_file(data: bytes) -> bool:
    """An HDF5 file, or a zip holding config.json (torch.save's zips hold data.pkl instead)."""
    if data.startswith(HDF5_MAGIC):
        return True
    if not data.startswith(b"PK"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return "config.json" in z.namelist()
    except (zipfile.BadZipFile, ValueError, EOFError):
        return False


def read_keras(data: bytes) -> KerasFile:
    """The layers and weights of a .keras or .h5 file; every failure is one ValueError."""
    try:
        return _read_h5(data) if data.startswith(HDF5_MAGIC) else _read_zip(data)
    except ValueError:
        raise
    except Exception as err:  # h5py and zipfile raise many kinds for a damaged file
        raise ValueError(
            f"could not read this Keras file ({type(err).__name__}: damaged or cut short?); "
            "upload the whole file"
        ) from None


def _read_zip(data: bytes) -> KerasFile:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            infos = z.infolist()
            for info in infos:
                name = info.filename
                if name.startswith(("/", "\\")) or ".." in re.split(r"[/\\]", name) or ":" in name:
                    raise ValueError(
                        f"the .keras archive holds a member named {name[:80]!r}, which points "
                        f"outside the archive; this is not a file Keras wrote: {_FIX}"
                    )
            claimed = sum(i.file_size for i in infos)
            if claimed > MAX_WEIGHT_BYTES:
                raise ValueError(
                    f"the .keras archive unpacks to {mb(claimed)}; the limit is "
                    f"{MAX_WEIGHT_BYTES // 2**20} MB: save a smaller model"
                )
            names = {i.filename for i in infos}
            if "model.weights.h5" not in names:
                raise ValueError(f"the .keras archive has no model.weights.h5 (no weights); {_FIX}")
            if z.getinfo("config.json").file_size > MAX_CONFIG_BYTES:
                raise ValueError("the .keras archive's config.json is too large to be a model's")
            config = _parse_json(z.read("config.json"), "config.json")
            weights_h5 = z.read("model.weights.h5")
            meta = z.read("metadata.json") if "metadata.json" in names else b"{}"
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile, NotImplementedError) as err:
        raise ValueError(
            f"the .keras file is a damaged archive ({type(err).__name__}); upload the whole file"
        ) from None
    meta = _parse_json(meta, "metadata.json") if meta.strip() else {}
    version = str(meta.get("keras_version", "")) if isinstance(meta, dict) else ""
    model_class, layers = _layer_list(config)
    # Keras 3 names each layer's weight group after its class (lstm, lstm_1, ...), counting every
    # layer of the model in order; a Sequential's own InputLayer is not one of its layers
    counts: dict[str, int] = {}
    paths = []
    for layer in layers:
        if model_class == "Sequential" and layer["class_name"] == "InputLayer":
            paths.append(None)
            continue
        base = _snake(layer["class_name"])
        n = counts.get(base, 0)
        counts[base] = n + 1
        paths.append(f"layers/{base}" + (f"_{n}" if n else ""))
    with _open_h5(weights_h5) as f:
        budget = [MAX_WEIGHT_BYTES]
        weights = []
        for layer, path in zip(layers, paths, strict=True):
            if layer["class_name"] == "InputLayer":
                continue
            # a missing group reads as no weights: the converter knows how many each layer needs
            group = _get(f, path, layer["name"]) if path and _has(f, path) else None
            weights.append(_vars_under(group, budget) if group is not None else [])
    kept = [la for la in layers if la["class_name"] != "InputLayer"]
    return KerasFile(".keras", version, kept, weights)


def _vars_under(group, budget) -> list[np.ndarray]:
    """A layer's variables: its own `vars/0..n`, then its sublayers' (forward before backward)."""
    import h5py

    out = []
    order = {"forward_layer": 0, "backward_layer": 1}
    for key in sorted(group.keys(), key=lambda k: (k != "vars", order.get(k, 2), k)):
        link = group.get(key, getlink=True)
        if not isinstance(link, h5py.HardLink):
            raise ValueError(f"the weights file links {key!r} to another file; {_FIX}")
        if key == "vars":
            ids = sorted(group[key].keys(), key=lambda s: int(s) if s.isdigit() else 1 << 30)
            out += [_array(group[key], i, budget) for i in ids]
        elif isinstance(group[key], h5py.Group):
            out += _vars_under(group[key], budget)
    return out


def _read_h5(data: bytes) -> KerasFile:
    with _open_h5(data) as f:
        raw = f.attrs.get("model_config")
        if raw is None:
            hint = (
                "it holds weights only"
                if ("layer_names" in f.attrs or _has(f, "layers"))
                else ("it is not a Keras model file")
            )
            raise ValueError(f"this HDF5 file has no model_config ({hint}); {_FIX}")
        if isinstance(raw, np.ndarray):
            raw = raw.tobytes()
        if len(raw) > MAX_CONFIG_BYTES:
            raise ValueError("the file's model_config is too large to be a model's")
        config = _parse_json(raw, "model_config")
        version = f.attrs.get("keras_version", b"")
        version = version.decode() if isinstance(version, bytes) else str(version)
        _, layers = _layer_list(config)
        if not _has(f, "model_weights"):
            raise ValueError(f"the .h5 file has no model_weights group (no weights); {_FIX}")
        root = _get(f, "model_weights", "the model")
        budget = [MAX_WEIGHT_BYTES]
        kept, weights = [], []
        for layer in layers:
            if layer["class_name"] == "InputLayer":
                continue
            kept.append(layer)
            if not _has(root, layer["name"]):
                weights.append([])  # layers without weights (Dropout) may be absent
                continue
            group = _get(root, layer["name"], layer["name"])
            names = group.attrs.get("weight_names", [])
            names = [n.decode() if isinstance(n, bytes) else str(n) for n in names]
            weights.append([_array(group, n, budget) for n in names])
    return KerasFile(".h5", version, kept, weights)


def _parse_json(raw: bytes | str, what: str):
    try:
        return json.loads(raw)
    except (ValueError, RecursionError, UnicodeDecodeError):  # JSONDecodeError is a ValueError
        raise ValueError(f"the file's {what} is not valid JSON (damaged?); {_FIX}") from None


def _layer_list(config) -> tuple[str, list[dict]]:
    """(model class, layers in order) of a Sequential or a Functional model that is a chain."""
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"the model config is not a Keras model description; {_FIX}")
    model_class = config["class_name"]
    body = config.get("config")
    layers = body if isinstance(body, list) else (body or {}).get("layers")  # Keras 2.0-2.2
    if model_class not in ("Sequential", "Functional", "Model") or not isinstance(layers, list):
        raise ValueError(
            f"the file holds a {model_class[:40]!r} model; lstm_viz reads Sequential models and "
            "Functional models that are one chain of layers"
        )
    out = []
    for k, layer in enumerate(layers):
        if not isinstance(layer, dict) or not isinstance(layer.get("class_name"), str):
            raise ValueError(f"layer {k} of the model config is malformed; {_FIX}")
        cfg = layer.get("config")
        if not isinstance(cfg, dict):
            raise ValueError(f"layer {k} ({layer['class_name'][:40]}) has no config; {_FIX}")
        name = str(layer.get("name") or cfg.get("name") or f"layer_{k}")
        out.append({"class_name": layer["class_name"], "config": cfg, "name": name})
        if model_class != "Sequential" and k > 0:
            _check_chain(layer, out[k - 1]["name"], name)
    return model_class, out


def _check_chain(layer: dict, previous: str, name: str) -> None:
    """A Functional layer must read exactly the layer before it, with no extra inputs."""
    nodes = layer.get("inbound_nodes")
    sources = []
    try:
        (node,) = nodes
        if isinstance(node, dict):  # Keras 3: {"args": [tensor], "kwargs": {...}}
            (arg,) = node["args"]
            sources = [arg["config"]["keras_history"][0]]
            extra = {k: v for k, v in node.get("kwargs", {}).items() if v is not None}
            extra.pop("training", None)
        else:  # Keras 2: [[name, node index, tensor index, kwargs]]
            ((src, _, _, kwargs),) = node
            sources, extra = [src], {k: v for k, v in (kwargs or {}).items() if v is not None}
    except (TypeError, ValueError, KeyError, IndexError):
        extra = {"inputs": "several"}
    if sources != [previous] or extra:
        raise ValueError(
            f"layer {name!r} does not simply read the layer before it ({previous!r}); lstm_viz "
            "reads models that are one chain of layers (no branches, no extra inputs)"
        )


def _snake(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name).lower()


class _open_h5:
    """h5py.File over bytes in memory; any failure to parse is one ValueError."""

    def __init__(self, data: bytes):
        import h5py

        try:
            self.f = h5py.File(io.BytesIO(data), "r")
        except Exception as err:  # h5py raises OSError, KeyError, ... for a damaged file
            raise ValueError(
                f"could not read the HDF5 weights ({type(err).__name__}: damaged or cut short?); "
                "upload the whole file"
            ) from None

    def __enter__(self):
        return self.f

    def __exit__(self, *exc):
        self.f.close()


def _get(parent, path: str, layer: str):
    """parent[path], refusing links that leave the file (an external link opens another file)."""
    import h5py

    node = parent
    for part in path.split("/"):
        link = node.get(part, getlink=True)  # the link itself: nothing is opened through it
        if link is None:
            raise ValueError(f"the weights for layer {layer!r} are missing ({path}); {_FIX}")
        if not isinstance(link, h5py.HardLink):
            raise ValueError(f"the weights file links {path!r} to another file; {_FIX}")
        node = node[part]
    return node


def _has(parent, path: str) -> bool:
    """Whether parent has `path`, asking only for links (so no external file is opened)."""
    node = parent
    for part in path.split("/"):
        if node.get(part, getlink=True) is None:
            return False
        if part != path.split("/")[-1]:
            node = _get(node, part, path)
    return True


def _array(group, name: str, budget: list[int]) -> np.ndarray:
    """One float variable, read only after its claimed size fits what is left of the limit."""
    import h5py

    try:
        ds = _get(group, name, group.name)
    except ValueError:
        raise ValueError(f"the weights file has no variable {name!r} in {group.name}") from None
    if not isinstance(ds, h5py.Dataset):
        raise ValueError(f"{group.name}/{name} is not a weight array; {_FIX}")
    if ds.dtype.kind != "f" or ds.is_virtual or ds.external:
        raise ValueError(f"{group.name}/{name} holds {ds.dtype} data, not float weights; {_FIX}")
    if ds.shape is None:
        raise ValueError(f"{group.name}/{name} holds no values; {_FIX}")
    size = int(np.prod(ds.shape, dtype=np.float64)) * ds.dtype.itemsize
    if size > budget[0]:
        raise ValueError(
            f"{group.name}/{name} claims shape {ds.shape}: the weights would pass the limit of "
            f"{MAX_WEIGHT_BYTES // 2**20} MB; upload a smaller model"
        )
    budget[0] -= size
    try:
        return np.asarray(ds[()], dtype=np.float32)
    except Exception as err:  # a chunk that fails to decompress, a truncated dataset, ...
        raise ValueError(f"could not read {group.name}/{name} ({type(err).__name__})") from None
