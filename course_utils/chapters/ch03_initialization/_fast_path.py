"""What keeps chapter 03's forward passes cheap: one BLAS thread, and the last records kept.

:func:`.runs.forward_pass` multiplies 16 rows by 4096 x 4096 matrices: memory-bound work,
which it runs on one BLAS thread (:func:`one_blas_thread`). And the notebook asks for the
same few lecture-size networks in many cells (a figure, its statistics, the gradient
tables, the summary table): each is run once and a repeated call gets a copy. Nothing is written to disk; a fresh kernel starts empty.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Hashable

from course_utils import network
from course_utils.threads import one_blas_thread

__all__ = ["one_blas_thread", "MAX_RECORD_CACHE_BYTES", "cached_forward", "peek", "clear"]

#: Bytes of records kept (about 4.5 MiB each at the lecture's 6 x 16 x 4096 size): room for
#: the notebook's eight lecture-size networks; the least recently used go first.
MAX_RECORD_CACHE_BYTES = 48 * 2**20
_records: OrderedDict = OrderedDict()
_kept_bytes = 0  # sum of _nbytes over _records
_lock = threading.Lock()


def _nbytes(record: network.Forward) -> int:
    return sum(a.nbytes for a in record.pre_activations + record.activations)


def _copy(record: network.Forward) -> network.Forward:
    """Fresh per-layer arrays (the caller may change them); ``inputs[0]`` stays the shared
    read-only batch and ``inputs[l]`` is ``activations[l - 1]``, as in a new run."""
    activations = [a.copy() for a in record.activations]
    return network.Forward(
        inputs=[record.inputs[0], *activations[:-1]],
        pre_activations=[z.copy() for z in record.pre_activations],
        activations=activations,
        step_caches=list(record.step_caches),
    )


def cached_forward(key: Hashable, run: Callable[[], network.Forward]) -> network.Forward:
    """A copy of the record stored under ``key``, made by ``run()`` if there is none.

    ``run`` must return a record without a step (``step_caches`` all None) whose
    ``inputs[l]`` is ``activations[l - 1]``, as :func:`course_utils.network.forward` does.
    """
    with _lock:
        record = _records.get(key)
        if record is not None:
            _records.move_to_end(key)
    if record is None:
        record = run()
        _keep(key, record)
    return _copy(record)


def peek(key: Hashable) -> network.Forward | None:
    """The record stored under ``key`` itself (never to be changed), or None."""
    with _lock:
        return _records.get(key)


def _keep(key, record) -> None:
    global _kept_bytes
    size = _nbytes(record)
    if size > MAX_RECORD_CACHE_BYTES:
        return
    with _lock:
        if key in _records:  # another thread ran it too
            return
        _records[key] = record
        _kept_bytes += size
        while _kept_bytes > MAX_RECORD_CACHE_BYTES:
            _kept_bytes -= _nbytes(_records.popitem(last=False)[1])


def clear() -> None:
    """Forget every record (tests use it to time or check a first run)."""
    global _kept_bytes
    with _lock:
        _records.clear()
        _kept_bytes = 0
