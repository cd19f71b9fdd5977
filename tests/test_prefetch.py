"""course_utils.widgets.prefetch: results kept by key and computed ahead of time."""

import threading

import pytest

from course_utils.chapters.ch03_initialization.explorer import init_explorer
from course_utils.widgets.prefetch import ResultCache


class Counting:
    """A compute function that records its calls; with ``gate``, a call for x >= 2 waits
    until the gate opens (so a test controls what runs when, without sleeping)."""

    def __init__(self, gate: threading.Event | None = None):
        self.calls, self.threads, self.gate = [], set(), gate
        self.started = threading.Event()

    def __call__(self, x):
        if x < 0:
            raise ValueError(f"x must be >= 0; got {x}")
        self.calls.append(x)
        self.threads.add(threading.current_thread().name)
        self.started.set()
        if self.gate is not None and x >= 2:
            assert self.gate.wait(10), "the test never opened the gate"
        return [x * 10]


def test_results_are_kept_by_key_and_each_get_is_a_new_object():
    compute = Counting()
    cache = ResultCache(compute)
    first, second = cache.get(1, {"x": 1}), cache.get(1, {"x": 1})
    assert first == second == [10] and first is not second
    assert compute.calls == [1]


def test_neighbours_are_computed_in_the_background_once_idle():
    compute = Counting()
    cache = ResultCache(compute, delay=0.05)
    cache.get(1, {"x": 1})
    cache.prefetch([(2, {"x": 2}), (0, {"x": 0})])
    assert cache.join()
    assert 2 in cache and 0 in cache
    assert any(name.startswith("explorer-prefetch") for name in compute.threads)
    assert cache.get(2, {"x": 2}) == [20]
    assert compute.calls.count(2) == 1  # the move itself computed nothing


def test_a_new_move_cancels_what_has_not_started():
    gate = threading.Event()
    compute = Counting(gate)
    cache = ResultCache(compute, delay=0.0)
    cache.prefetch([(k, {"x": k}) for k in range(2, 8)])
    assert compute.started.wait(10)  # the first one runs (and waits at the gate)
    assert cache.get(1, {"x": 1}) == [10]
    gate.set()
    assert cache.join()
    assert len(compute.calls) <= 3  # the running one (and at most one more) finished; no more


def test_back_to_back_moves_start_no_prefetch():
    compute = Counting()
    cache = ResultCache(compute, delay=0.2)
    for x in range(5):
        cache.get(x, {"x": x})
        cache.prefetch([(x + 100, {"x": x + 100})])
    cache.get(9, {"x": 9})  # within the delay: the last prefetch is cancelled too
    assert cache.join()
    assert compute.calls == [0, 1, 2, 3, 4, 9]


def test_value_errors_are_kept_and_raised_again():
    compute = Counting()
    cache = ResultCache(compute, delay=0.0)
    cache.prefetch([(-1, {"x": -1})])
    assert cache.join() and -1 in cache
    with pytest.raises(ValueError, match="x must be >= 0; got -1"):
        cache.get(-1, {"x": -1})


def test_a_preparation_runs_in_the_background_then_computes_the_first_result():
    gate = threading.Event()
    compute = Counting()
    cache = ResultCache(compute)
    future = cache.prepare(lambda: gate.wait(10), key=1, values={"x": 1})
    assert not future.done() and 1 not in cache  # prepare returned before the work ran
    cache.get(5, {"x": 5})  # a move cancels pending prefetches, never a preparation
    gate.set()
    assert cache.join() and future.done() and future.exception() is None
    assert 1 in cache and cache.get(1, {"x": 1}) == [10]
    assert compute.calls.count(1) == 1  # computed once, by the preparation
    assert any(name.startswith("explorer-prefetch") for name in compute.threads)


def test_a_failed_preparation_keeps_its_error_in_the_future():
    cache = ResultCache(Counting())

    def broken():
        raise RuntimeError("no memory")

    future = cache.prepare(broken)
    assert cache.join()
    assert isinstance(future.exception(), RuntimeError)


def test_init_explorer_prefetches_one_keyboard_step_of_every_control():
    explorer = init_explorer(width=256, depth=4)
    steps = explorer.neighbours(**explorer.values)
    changed = [tuple(k for k in s if s[k] != explorer.values[k]) for s in steps]
    assert changed[:2] == [("std",), ("std",)]
    assert [s["std"] for s in steps[:2]] == pytest.approx([10**-1.99, 10**-2.01])
    assert [s["depth"] for s in steps[2:4]] == [5, 3]
    assert [s["width"] for s in steps[4:6]] == [1024, 64]
    assert {s["scheme"] for s in steps[6:8]} == {"xavier", "kaiming"}
    assert {s["activation"] for s in steps[8:10]} == {"sigmoid", "relu"}
    assert [s["depth"] for s in steps[10:]] == [10, 1]  # the slider's ends, least likely
    # equal keys give identical results: Xavier ignores the std slider
    xavier = dict(explorer.values, scheme="xavier")
    assert explorer.cache_key(**xavier) == explorer.cache_key(**dict(xavier, std=0.5))
    assert explorer.cache_key(**explorer.values) != explorer.cache_key(**xavier)


def test_explorer_results_are_read_only_and_new_objects():
    explorer = init_explorer(width=256, depth=4)
    explorer.wait_ready()
    first = explorer.result
    explorer.controls["std"].value = 0.02
    explorer.controls["std"].value = 0.01  # back: the kept result
    assert explorer.result is not first
    assert all(a is b for a, b in zip(explorer.result, first))  # shared, so read-only
    with pytest.raises(ValueError, match="read-only"):
        explorer.result[0][0, 0] = 1.0
