"""A block with torch's global state changed, and put back afterwards.

``torch.set_num_threads``, ``torch.set_default_dtype`` and ``torch.manual_seed`` change the
whole process: a notebook cell that calls them changes every later cell (and, in a test run,
every later test). Chapter 07's cells that need one of them use :func:`torch_state` instead,
so that the notebook leaves torch as it found it.
"""

from __future__ import annotations

from contextlib import contextmanager

from course_utils.validation import check_choice, check_int

__all__ = ["torch_state"]

#: Default dtypes :func:`torch_state` may set (torch accepts only floating types).
DTYPES = ("float32", "float64")


@contextmanager
def torch_state(threads: int | None = None, seed: int | None = None, dtype: str | None = None):
    """Run the ``with`` block with torch's global settings changed; restore them after.

    On leaving (also by an exception) the number of intra-op threads, the default dtype and
    the CPU generator's state (``torch.random.get_rng_state``) are what they were on entry,
    whatever the block did with them.

    Parameters
    ----------
    threads : int, optional
        ``torch.set_num_threads(threads)`` for the block (1 to 256).
    seed : int, optional
        ``torch.manual_seed(seed)`` for the block: the global generator that
        ``torch.nn.functional.dropout`` and ``torch.rand`` without a ``generator`` draw from.
    dtype : {"float32", "float64"}, optional
        ``torch.set_default_dtype`` for the block.

    Yields
    ------
    None
    """
    import torch

    if threads is not None:
        threads = check_int("threads", threads, 1, 256)
    if seed is not None:
        seed = check_int("seed", seed, 0, 2**63 - 1)
    if dtype is not None:
        dtype = check_choice("dtype", dtype, DTYPES)
    before = (torch.get_num_threads(), torch.get_default_dtype(), torch.random.get_rng_state())
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        if dtype is not None:
            torch.set_default_dtype(getattr(torch, dtype))
        if seed is not None:
            torch.manual_seed(seed)
        yield
    finally:
        if torch.get_num_threads() != before[0]:
            torch.set_num_threads(before[0])
        torch.set_default_dtype(before[1])
        torch.random.set_rng_state(before[2])
