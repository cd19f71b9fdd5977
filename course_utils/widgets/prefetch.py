"""Results computed ahead of time: an explorer's likely next values, while the student looks.

An explorer's compute function is pure, so its result can be kept by a key and computed
before it is asked for. After each move the explorer names the values a next move would most
likely give (a slider's neighbouring steps, a dropdown's other options); once the kernel has
been idle for ``delay`` seconds, one background thread computes them, most likely first. A
key press that lands on one of them then costs no computation. A new move cancels what has not
started, so prefetching never delays a move by more than the one computation in flight;
back-to-back moves (a fast drag, a benchmark) start none at all.

The same worker also runs an explorer's *preparation* (:meth:`ResultCache.prepare`): the heavy
work its first result needs (random weights, an import), started when the explorer is built so
that building returns at once. A preparation is never cancelled by a move; a move that needs it
waits for it.

The compute function must be pure and thread-safe (NumPy releases the GIL, so the kernel stays
responsive while it runs).
"""

from __future__ import annotations

import concurrent.futures
import copy
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor

__all__ = ["ResultCache"]

_EXECUTOR: ThreadPoolExecutor | None = None
_EXECUTOR_LOCK = threading.Lock()


def _executor() -> ThreadPoolExecutor:
    # One background worker for every explorer of the kernel: prefetching never takes more
    # than one core from a student's moves.
    global _EXECUTOR
    with _EXECUTOR_LOCK:
        if _EXECUTOR is None:
            _EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="explorer-prefetch")
        return _EXECUTOR


class ResultCache:
    """Results of ``compute(**values)`` by key, the most recent ``max_items`` kept.

    Parameters
    ----------
    compute : callable
        Pure; raises ``ValueError`` for values it rejects (kept and raised again).
    max_items : int
    delay : float
        Seconds without a new :meth:`get` before :meth:`prefetch` starts computing.
    """

    def __init__(self, compute, max_items: int = 16, delay: float = 0.1):
        self.compute = compute
        self.max_items = max_items
        self.delay = delay
        self._futures: OrderedDict = OrderedDict()  # key -> Future
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None
        self._preparations: list = []  # Futures of prepare(), never cancelled

    def get(self, key, values: dict):
        """The result for ``values`` (whose key is ``key``): from the cache, from the
        background computation of it if one is running, or computed now.

        Returns a shallow copy, so every call returns a new object.
        """
        self._cancel_pending(keep=key)
        with self._lock:
            future = self._futures.get(key)
            if future is not None:
                self._futures.move_to_end(key)
        if future is None or future.cancelled():
            future = Future()
            try:
                future.set_result(self.compute(**values))
            except ValueError as error:
                future.set_exception(error)
            self._store(key, future)
        return copy.copy(future.result())  # raises the ValueError, if compute raised one

    def prefetch(self, items) -> None:
        """Compute ``(key, values)`` items, most likely first, once idle for ``delay`` s."""
        items = [(key, values) for key, values in items if key not in self._futures]
        if not items:
            return
        timer = threading.Timer(self.delay, self._submit, args=(items,))
        timer.daemon = True
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = timer
        timer.start()

    def prepare(self, work, key=None, values: dict | None = None) -> Future:
        """Run ``work()`` in the background now, then (with a ``key``) compute ``values``'s
        result into the cache; return the Future of both.

        For the heavy work an explorer's first result needs (weights, an import): building
        the explorer then returns at once. Moves never cancel it; :meth:`join` waits for it.
        An exception of ``work`` stays in the Future (the explorer shows it as a message).
        """

        def run():
            work()
            if key is not None:
                result = Future()
                try:
                    result.set_result(self.compute(**values))
                except ValueError as error:
                    result.set_exception(error)
                self._store(key, result)

        future = _executor().submit(run)
        with self._lock:
            self._preparations = [f for f in self._preparations if not f.done()] + [future]
        return future

    def join(self, timeout: float = 10.0) -> bool:
        """Wait until no preparation or prefetch is pending or running (at most ``timeout``
        s); True if idle.

        Tests and benchmarks use it instead of sleeping: a cancelled prefetch returns at
        once, a pending one is waited for, then everything it started.
        """
        end = time.monotonic() + timeout
        with self._lock:
            preparations = list(self._preparations)
        concurrent.futures.wait(preparations, timeout=max(0.0, end - time.monotonic()))
        with self._lock:
            timer = self._timer
        if timer is not None:
            timer.join(max(0.0, end - time.monotonic()))
        with self._lock:
            futures = list(self._futures.values())
        concurrent.futures.wait(futures, timeout=max(0.0, end - time.monotonic()))
        return all(future.done() for future in futures + preparations)

    def __contains__(self, key) -> bool:
        with self._lock:
            future = self._futures.get(key)
        return future is not None and future.done() and not future.cancelled()

    # ------------------------------------------------------------------ internals
    def _submit(self, items):
        for key, values in items:
            with self._lock:
                if key in self._futures:
                    continue
            self._store(key, _executor().submit(self._compute_quietly, values))

    def _compute_quietly(self, values):
        return self.compute(**values)  # a ValueError stays in the Future until asked for

    def _store(self, key, future):
        with self._lock:
            self._futures[key] = future
            self._futures.move_to_end(key)
            while len(self._futures) > self.max_items:
                oldest = next(iter(self._futures))
                if not self._futures[oldest].done():
                    break  # still running or queued: it is cancelled or finished soon
                self._futures.pop(oldest)

    def _cancel_pending(self, keep):
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            for key in [k for k, f in self._futures.items() if k != keep and f.cancel()]:
                self._futures.pop(key)
