"""A process-wide cache of results with a memory budget, for traces, analyses and figures.

`st.cache_data` bounds a cache by entry count and age only: eight cached traces at the app's
limits are gigabytes, and they stay after the tabs close. Here every cached function shares one
store whose entries are weighed (`nbytes`: the arrays in a trace, a figure's data, a model's
tensors); past `limits.CACHE_BYTES` the least recently used entries go, and a result heavier
than the whole budget is returned but not kept. Each function also keeps its entry count.

Keys are made like st.cache_data's: every argument except those whose name starts with "_",
arrays by dtype, shape and a digest of their bytes. Unlike st.cache_data, a hit returns the very
object computed (no pickled copy per call, which would double a large trace): arrays in it are
made read-only, and callers must not mutate what they get. Safe from Streamlit's session
threads; the same key asked for by several sessions at once is computed once.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import inspect
import sys
import threading
import time
from collections import OrderedDict

import numpy as np

from lstm_viz import limits

_MISSING = object()


def nbytes(obj, _seen: set[int] | None = None) -> int:
    """Bytes held by `obj`: arrays and tensors by their buffers, containers, dataclasses (an
    LSTMTrace) and modules by what they hold; anything else by `sys.getsizeof`."""
    seen = set() if _seen is None else _seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes)
    import torch  # the app imports it anyway; here only to weigh tensors and modules

    if isinstance(obj, torch.Tensor):
        return obj.numel() * obj.element_size()
    if isinstance(obj, torch.nn.Module):
        tensors = [*obj.parameters(), *obj.buffers()]
        return sum(nbytes(t, seen) for t in tensors) + sys.getsizeof(obj)
    if isinstance(obj, dict):
        return sys.getsizeof(obj) + sum(nbytes(k, seen) + nbytes(v, seen) for k, v in obj.items())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return sys.getsizeof(obj) + sum(nbytes(v, seen) for v in obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        fields = dataclasses.fields(obj)
        return sys.getsizeof(obj) + sum(nbytes(getattr(obj, f.name), seen) for f in fields)
    return sys.getsizeof(obj)


def _freeze(obj) -> None:
    """Make the arrays of a shared result read-only, so no caller can change another's copy."""
    if isinstance(obj, np.ndarray):
        obj.flags.writeable = False
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _freeze(v)
    elif isinstance(obj, dict):
        for v in obj.values():
            _freeze(v)


def _hashable(value):
    """A key part for one argument: arrays and long bytes by digest, containers by their parts."""
    if isinstance(value, np.ndarray):
        digest = hashlib.blake2b(np.ascontiguousarray(value).tobytes(), digest_size=16)
        return ("ndarray", value.dtype.str, value.shape, digest.hexdigest())
    if isinstance(value, (bytes, bytearray)) and len(value) > 64:
        return ("bytes", len(value), hashlib.blake2b(value, digest_size=16).hexdigest())
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, *map(_hashable, value))
    if isinstance(value, dict):
        return ("dict", *sorted((k, _hashable(v)) for k, v in value.items()))
    hash(value)  # anything else must be hashable: a TypeError here is a programming error
    return value


@dataclasses.dataclass
class _Entry:
    value: object
    size: int
    func: str
    expires: float  # time.monotonic() after which the entry is stale (inf: never)


class Store:
    """Entries of every cached function, least recently used first, under one byte budget."""

    def __init__(self, budget: int):
        self.budget = budget
        self._entries: OrderedDict[tuple, _Entry] = OrderedDict()
        self._lock = threading.Lock()
        self._flights: dict[tuple, threading.Lock] = {}  # key -> lock held while computing it
        self.total = 0  # bytes of all entries

    def __len__(self) -> int:
        return len(self._entries)

    def _lookup(self, key: tuple):
        entry = self._entries.get(key)
        if entry is None:
            return _MISSING
        if entry.expires < time.monotonic():
            self._drop(key)
            return _MISSING
        self._entries.move_to_end(key)
        return entry.value

    def _drop(self, key: tuple) -> None:
        self.total -= self._entries.pop(key).size

    def _keep(self, key: tuple, value, func: str, max_entries: int, ttl: float | None) -> None:
        size = nbytes(value)
        if size > self.budget:  # it would evict everything and still not fit: don't keep it
            return
        with self._lock:
            if key in self._entries:
                self._drop(key)
            mine = [k for k, e in self._entries.items() if e.func == func]
            for k in mine[: max(0, len(mine) - max_entries + 1)]:  # this function's oldest
                self._drop(k)
            while self._entries and self.total + size > self.budget:  # everyone's oldest
                self._drop(next(iter(self._entries)))
            expires = time.monotonic() + ttl if ttl is not None else float("inf")
            self._entries[key] = _Entry(value, size, func, expires)
            self.total += size

    def get_or_compute(self, key: tuple, compute, func: str, max_entries: int, ttl=None):
        with self._lock:
            found = self._lookup(key)
            if found is not _MISSING:
                return found
            flight = self._flights.setdefault(key, threading.Lock())
        with flight:  # a second session asking for the same key waits for the first's result
            with self._lock:
                found = self._lookup(key)
            if found is not _MISSING:
                return found
            try:
                value = compute()
                _freeze(value)
                self._keep(key, value, func, max_entries, ttl)
            finally:
                with self._lock:
                    self._flights.pop(key, None)
        return value

    def clear(self, func: str | None = None) -> None:
        with self._lock:
            for k in [k for k, e in self._entries.items() if func in (None, e.func)]:
                self._drop(k)


STORE = Store(limits.CACHE_BYTES)


def cached(max_entries: int, ttl: float | None = None, store: Store | None = None):
    """Decorator: cache `fn`'s results in the budgeted store (`STORE` unless given), keyed by
    its arguments whose names do not start with "_"; `fn.clear()` drops its entries."""

    def wrap(fn):
        sig = inspect.signature(fn)
        name = f"{fn.__module__}.{fn.__qualname__}"

        @functools.wraps(fn)
        def run(*args, **kwargs):
            bound = sig.bind(*args, **kwargs)
            bound.apply_defaults()
            parts = [(k, _hashable(v)) for k, v in bound.arguments.items() if k[0] != "_"]
            where = STORE if store is None else store  # read at call time: tests may swap it
            key = (name, *parts)
            return where.get_or_compute(key, lambda: fn(*args, **kwargs), name, max_entries, ttl)

        run.clear = lambda: (STORE if store is None else store).clear(name)
        return run

    return wrap
