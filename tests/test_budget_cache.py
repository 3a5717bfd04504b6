"""The app's budgeted cache (lstm_viz/ui/budget_cache.py): the byte budget holds however many
entries come, the least recently used go first, a hit is the very object computed (read-only),
keys ignore "_" arguments and tell arrays apart by content, and sessions' threads share it
safely. Also `common.session_gone`, which long loops use to stop when their tab has closed."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from lstm_viz import limits
from lstm_viz.trace import trace
from lstm_viz.ui import budget_cache, common, loaders
from lstm_viz.ui.budget_cache import Store, cached, nbytes


def _array(i: int, n: int = 1000) -> np.ndarray:
    return np.full(n, i, dtype=np.uint8)  # n bytes of buffer


def test_budget_holds_past_many_small_entries_oldest_go_first():
    store = Store(budget=10_000)
    calls = []

    @cached(max_entries=10_000, store=store)
    def make(i: int) -> np.ndarray:
        calls.append(i)
        return _array(i)

    sizes = []
    for i in range(60):  # each entry weighs its 1,000-byte buffer: the budget fits 10
        make(i)
        sizes.append(store.total)
        assert store.total <= store.budget
    assert nbytes(_array(0)) == 1000
    assert max(sizes) == store.budget  # the budget was reached, never passed
    kept = len(store)
    assert kept == 10
    make(59), make(60 - kept)  # the newest kept entries are still there: no new calls
    assert calls == list(range(60))
    make(0)  # long evicted: computed again
    assert calls[-1] == 0 and store.total <= store.budget


def test_least_recently_used_is_evicted_not_least_recently_made():
    store = Store(budget=3 * nbytes(_array(0)) + 10)
    calls = []

    @cached(max_entries=100, store=store)
    def make(i: int) -> np.ndarray:
        calls.append(i)
        return _array(i)

    make(1), make(2), make(3)
    make(1)  # 1 is now the most recently used
    make(4)  # evicts 2, the least recently used
    calls.clear()
    make(1), make(3), make(4)
    assert calls == []
    make(2)
    assert calls == [2]


def test_a_hit_is_the_same_object_read_only_and_equal_to_a_fresh_result():
    store = Store(budget=10**6)

    @cached(max_entries=4, store=store)
    def f(x: np.ndarray, scale: float, _ignored) -> tuple[np.ndarray, dict]:
        return x * scale, {"sum": np.array([x.sum() * scale])}

    x = np.arange(10.0)
    first = f(x, 2.0, object())
    again = f(x.copy(), 2.0, object())  # same content, other "_" argument: the same entry
    assert again is first
    np.testing.assert_array_equal(first[0], x * 2.0)
    assert first[1]["sum"][0] == 90.0
    with pytest.raises(ValueError, match="read-only"):
        first[0][0] = 5.0  # a shared result: no caller may change it for the others
    other = f(x + 1e-12, 2.0, None)  # different bytes: a different entry
    assert other is not first
    assert f(x, 3.0, None)[0][1] == 3.0


def test_a_result_heavier_than_the_budget_is_returned_but_not_kept():
    store = Store(budget=500)
    calls = []

    @cached(max_entries=4, store=store)
    def big(i: int) -> np.ndarray:
        calls.append(i)
        return _array(i, 2000)

    assert big(1).nbytes == 2000
    big(1)
    assert calls == [1, 1] and len(store) == 0 and store.total == 0


def test_each_function_keeps_its_entry_count_and_clears_alone():
    store = Store(budget=10**7)

    @cached(max_entries=3, store=store)
    def a(i: int) -> np.ndarray:
        return _array(i, 10)

    @cached(max_entries=2, store=store)
    def b(i: int) -> np.ndarray:
        return _array(i, 10)

    for i in range(10):
        a(i), b(i)
    assert len(store) == 5
    a.clear()
    assert len(store) == 2
    assert store.total == sum(e.size for e in store._entries.values())


def test_threads_share_the_store_within_budget_and_compute_a_key_once():
    store = Store(budget=20_000)
    calls: list[int] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    @cached(max_entries=1000, store=store)
    def make(i: int) -> np.ndarray:
        with lock:
            calls.append(i)
        return _array(i)

    @cached(max_entries=10, store=store)
    def slow(i: int) -> np.ndarray:
        with lock:
            calls.append(-1)
        return _array(i, 10)

    errors = []

    def worker(seed: int) -> None:
        try:
            start.wait()
            slow(7)  # all eight ask at once: computed once, the others wait for it
            asked.wait()  # only then fill the cache (a late thread must not find it evicted)
            rng = np.random.default_rng(seed)
            for i in rng.integers(0, 200, 300):
                assert make(int(i))[0] == i % 256
                assert store.total <= store.budget
        except Exception as err:  # noqa: BLE001  (reported below, from the main thread)
            errors.append(err)

    asked = threading.Barrier(8)
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert calls.count(-1) == 1
    assert store.total <= store.budget
    assert store.total == sum(e.size for e in store._entries.values())


def test_nbytes_weighs_a_trace_by_its_arrays_and_a_module_by_its_tensors():
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 16, num_layers=2)
    tr = trace(lstm, torch.randn(50, 3))
    arrays = sum(a.nbytes for a in tr.states.values()) + tr.output.nbytes
    assert (
        arrays
        <= nbytes(tr)
        <= arrays
        + tr.inputs.nbytes
        + sum(a.nbytes for a in tr.final_state)
        + sum(a.nbytes for a in tr.initial_state)
        + 50_000
    )
    # 2 layers x 4 * 16 x (3 or 16 + 16 + 2) float32 weights and biases
    params = 4 * sum(p.numel() for p in lstm.parameters())
    assert params == 4 * (64 * 3 + 64 * 16 + 128 + 64 * 16 + 64 * 16 + 128)
    assert params <= nbytes(lstm) <= params + 1000


def test_the_app_trace_cache_returns_the_cached_trace_under_the_stated_budget():
    assert budget_cache.STORE.budget == limits.CACHE_BYTES == 1024 * 2**20
    model = loaders.load_model(loaders.DEMO)
    x = np.sin(np.arange(40, dtype=np.float32) / 3).reshape(40, 1)
    labels = tuple(str(t) for t in range(40))
    tr, preds = loaders.run_trace("test:budget", model, x, labels)
    again, preds2 = loaders.run_trace("test:budget", model, x.copy(), labels)
    assert again is tr and preds2 is preds
    fresh, fresh_preds = model.trace(x, labels=list(labels))
    np.testing.assert_array_equal(tr.gate("cell"), fresh.gate("cell"))
    np.testing.assert_array_equal(preds, fresh_preds)
    assert budget_cache.STORE.total <= limits.CACHE_BYTES
    loaders.run_trace.clear()


def test_session_gone_reads_the_runtime_and_is_false_outside_a_server(monkeypatch):
    import streamlit.runtime as rt
    import streamlit.runtime.scriptrunner as sr

    assert common.session_gone() is False  # no script run here: nothing to stop
    active = {"abc"}
    fake = SimpleNamespace(is_active_session=lambda sid: sid in active)
    monkeypatch.setattr(sr, "get_script_run_ctx", lambda **_: SimpleNamespace(session_id="abc"))
    monkeypatch.setattr(rt.Runtime, "exists", classmethod(lambda cls: True))
    monkeypatch.setattr(rt.Runtime, "instance", classmethod(lambda cls: fake))
    assert common.session_gone() is False
    active.clear()  # the tab closed: the session manager dropped it
    assert common.session_gone() is True
