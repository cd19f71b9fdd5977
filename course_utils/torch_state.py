"""A block with torch's global state changed, and put back afterwards.

``torch.manual_seed``, ``torch.set_num_threads``, ``torch.set_default_dtype`` and
``torch.set_grad_enabled`` change the whole process: a notebook cell that calls one of them, or
builds a layer from torch's global random generator, changes what every later cell computes
(and, in a test run, every later test). :func:`torch_state` saves all four, sets what the block
asks for, and restores everything on the way out, error or not. Chapters 07 and 08 use it so
that their notebooks leave torch as they found it.
"""

from __future__ import annotations

from contextlib import contextmanager

from course_utils.validation import MAX_SEED, check_choice, check_int

__all__ = ["torch_state", "global_torch_state", "seed_cpu", "DTYPES"]

#: Default dtypes :func:`torch_state` may set (torch accepts only floating types).
DTYPES = ("float32", "float64")


def seed_cpu(seed: int):
    """``torch.manual_seed(seed)`` for the CPU generator only (all the course uses).

    ``torch.manual_seed`` also queues the seed for CUDA, XPU and MTIA, formatting a stack
    trace for each (about 4 ms a call where they are absent): the ten seeds of a stacked run
    paid for it ten times. The CPU generator's state is the same either way.
    """
    import torch

    return torch.default_generator.manual_seed(check_int("seed", seed, 0, 2**64 - 1))


def global_torch_state() -> tuple:
    """``(rng_state_bytes, num_threads, default_dtype, grad_enabled)``: what :func:`torch_state`
    restores, in a form that compares with ``==`` (for tests)."""
    import torch

    return (
        bytes(torch.random.get_rng_state().numpy()),
        torch.get_num_threads(),
        torch.get_default_dtype(),
        torch.is_grad_enabled(),
    )


def torch_state(threads: int | None = None, seed: int | None = None, dtype: str | None = None):
    """Run the ``with`` block with torch's global settings changed; restore them after.

    On leaving (also by an exception) the CPU generator's state (what ``torch.nn.Linear(...)``,
    ``torch.randn`` and ``torch.nn.functional.dropout`` draw from), the number of intra-op
    threads, the default dtype and the grad mode are what they were on entry, whatever the
    block did with them.

    Parameters
    ----------
    threads : int, optional
        ``torch.set_num_threads(threads)`` for the block (1 to 256).
    seed : int, optional
        ``torch.manual_seed(seed)`` at the start of the block.
    dtype : {"float32", "float64"}, optional
        ``torch.set_default_dtype`` for the block.

    Returns
    -------
    context manager

    Examples
    --------
    >>> with torch_state(seed=0):
    ...     layer = torch.nn.Linear(5, 3)   # the same weights every run; the global
    ...                                     # generator is as it was afterwards
    """
    if threads is not None:
        threads = check_int("threads", threads, 1, 256)
    if seed is not None:
        seed = check_int("seed", seed, 0, MAX_SEED)
    if dtype is not None:
        dtype = check_choice("dtype", dtype, DTYPES)
    return _saved(threads, seed, dtype)  # arguments checked now, not at the ``with``


@contextmanager
def _saved(threads, seed, dtype):
    import torch

    before = (
        torch.random.get_rng_state(),
        torch.get_num_threads(),
        torch.get_default_dtype(),
        torch.is_grad_enabled(),
    )
    try:
        if threads is not None:
            torch.set_num_threads(threads)
        if dtype is not None:
            torch.set_default_dtype(getattr(torch, dtype))
        if seed is not None:
            seed_cpu(seed)
        yield
    finally:
        rng, n_threads, default_dtype, grad = before
        torch.random.set_rng_state(rng)
        if torch.get_num_threads() != n_threads:
            torch.set_num_threads(n_threads)
        torch.set_default_dtype(default_dtype)
        torch.set_grad_enabled(grad)
