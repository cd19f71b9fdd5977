"""One thread for small matrix products, safely shared by the notebook and the explorers.

The course runs many small products (16 to 256 rows) whose BLAS threads only wait on a busy
2-core machine, so it runs them on one thread. On some CPUs (OpenBLAS's Haswell kernels) the
thread count also changes the last bits of a product, so a result is only reproducible when
every run of it uses the same count.

Two things make a plain ``threadpool_limits(1)`` unsafe once explorers compute in a
background thread (:mod:`course_utils.widgets.prefetch`) while the notebook computes in the
main one:

* OpenBLAS's limit is process-wide: the first ``with`` block to end restores two threads
  while the other thread is still inside its own block;
* threadpoolctl (3.6 and later) lets only one "controlling" thread change OpenBLAS and
  silently ignores the others, so a block in the main thread may not limit anything.

:func:`one_thread` is the one place that changes the limit: set by the first thread in,
restored by the last one out, under a lock, each change made as the controlling thread. The
OpenMP limit (torch's libgomp, when ``openmp``) is per thread and is set per block. One
controller, looked up again only when torch, scipy or scikit-learn has been imported since:
``threadpool_limits`` looks the libraries up on every call (~3.5 ms).
"""

from __future__ import annotations

import contextlib
import sys
import threading

from course_utils.validation import check_bool

__all__ = ["one_thread", "one_blas_thread"]

_controller = None
_blas_users = 0  # threads inside one_thread(); the BLAS limit is process-wide
_blas_limiter = None
_lock = threading.Lock()


#: Packages that bring their own BLAS or OpenMP library: once one of them is imported, the
#: controller is looked up again, so that its library is limited too (torch's libgomp,
#: scipy's and scikit-learn's bundled OpenBLAS and OpenMP).
_BRING_LIBRARIES = ("torch", "scipy", "sklearn")
_controller_for = None  # which of them were imported when the controller was made


def _threadpools():
    global _controller, _controller_for
    imported = tuple(name in sys.modules for name in _BRING_LIBRARIES)
    if _controller is None or imported != _controller_for:
        from threadpoolctl import ThreadpoolController

        _controller, _controller_for = ThreadpoolController(), imported
    return _controller


def _take_openblas_control():
    """Let the next OpenBLAS limit set by any thread take effect (threadpoolctl >= 3.6)."""
    import threadpoolctl

    clear = getattr(threadpoolctl.OpenBLASController, "clear_controlling_thread", None)
    if clear is not None:
        clear(force=True)


def one_thread(openmp: bool = True):
    """A context in which BLAS (and, with ``openmp``, this thread's OpenMP) uses one thread.

    Reentrant and safe from several threads at once: the BLAS limit holds from the first
    thread's entry to the last thread's exit.
    """
    return _one_thread(check_bool("openmp", openmp))


@contextlib.contextmanager
def _one_thread(openmp: bool):
    global _blas_users, _blas_limiter
    with _lock:
        if _blas_users == 0:
            controller = _threadpools()
            _take_openblas_control()
            _blas_limiter = controller.limit(limits=1, user_api="blas")
            _take_openblas_control()
        _blas_users += 1
    try:
        if openmp:
            with _threadpools().limit(limits=1, user_api="openmp"):
                yield
        else:
            yield
    finally:
        with _lock:
            _blas_users -= 1
            if _blas_users == 0:
                _take_openblas_control()
                _blas_limiter.restore_original_limits()
                _blas_limiter = None
                _take_openblas_control()


def one_blas_thread():
    """:func:`one_thread` for BLAS only (OpenMP, torch's threads, left as they are)."""
    return one_thread(openmp=False)
