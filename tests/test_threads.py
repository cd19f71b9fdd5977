"""course_utils.threads: one BLAS thread, shared safely by the main thread and an explorer's
background worker (the CI failure of stop 28: a chapter-04 result computed in the main thread
while chapter 03's prefetch held the OpenBLAS limit differed in the last bits under AVX2)."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_info

from course_utils.threads import one_blas_thread, one_thread


def _blas_threads() -> list:
    return [d["num_threads"] for d in threadpool_info() if d["user_api"] == "blas"]


def _openmp_threads() -> list:
    return [d["num_threads"] for d in threadpool_info() if d["user_api"] == "openmp"]


def test_one_thread_limits_blas_and_restores_it():
    before = _blas_threads()
    with one_thread():
        assert set(_blas_threads()) == {1}
        with one_blas_thread():  # reentrant
            assert set(_blas_threads()) == {1}
        assert set(_blas_threads()) == {1}
    assert _blas_threads() == before


def test_openmp_is_limited_only_when_asked():
    before = _openmp_threads()
    with one_blas_thread():
        assert _openmp_threads() == before
    with one_thread():
        assert set(_openmp_threads()) <= {1}
    assert _openmp_threads() == before


@pytest.mark.parametrize("main_leaves_first", [True, False])
def test_the_limit_holds_while_any_thread_is_inside(main_leaves_first):
    """A background thread inside one_thread() while the main thread enters and leaves its
    own: BLAS stays at one thread until the last one leaves, whichever it is, and is
    restored then (threadpool_limits alone restores at the first exit, or ignores the
    second thread's limit altogether)."""
    before = _blas_threads()
    entered, leave = threading.Event(), threading.Event()
    seen = []

    def background():
        with one_thread():
            entered.set()
            leave.wait(10)
            seen.append(set(_blas_threads()))

    worker = threading.Thread(target=background)
    worker.start()
    assert entered.wait(10)
    with one_thread():
        assert set(_blas_threads()) == {1}
        if not main_leaves_first:
            leave.set()
            worker.join(10)
            assert set(_blas_threads()) == {1}  # the background's exit did not restore
    if main_leaves_first:
        assert set(_blas_threads()) == {1}  # the main thread's exit did not restore
        leave.set()
        worker.join(10)
    assert seen == [{1}]
    assert _blas_threads() == before


def test_same_bits_in_both_threads():
    """A product computed inside one_thread() in a background thread equals the main
    thread's, bit for bit (same thread count, same kernel)."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((64, 256), dtype=np.float32)
    b = rng.standard_normal((256, 256), dtype=np.float32)
    out = []

    def background():
        with one_thread():
            out.append(a @ b)

    worker = threading.Thread(target=background)
    worker.start()
    worker.join(10)
    with one_thread():
        np.testing.assert_array_equal(out[0], a @ b)


def test_bad_argument():
    with pytest.raises(ValueError, match="openmp must be True or False"):
        one_thread(openmp="yes")


def test_a_library_imported_later_is_limited_too():
    """The controller is looked up again once torch (its own OpenMP) is imported, so a block
    entered after the import limits torch's OpenMP as threadpool_limits(1) did."""
    import torch  # noqa: F401 - brings libgomp

    with one_thread():
        assert set(_openmp_threads()) == {1}
