"""Run a notebook cell's torch code without leaving global state behind (chapter 08).

``torch.manual_seed``, ``torch.set_num_threads``, ``torch.set_default_dtype`` and
``torch.set_grad_enabled`` change the whole process: a cell that calls one of them, or builds a
layer from torch's global random generator, changes what every later cell computes (and
whether a later cell repeats when run alone). :func:`torch_state` saves all four, optionally
seeds the generator for the block, and restores everything on the way out, error or not.
"""

from __future__ import annotations

from course_utils.validation import MAX_SEED, check_int

__all__ = ["torch_state", "global_torch_state"]


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


class _SavedTorchState:
    """The context manager :func:`torch_state` returns (arguments already checked)."""

    def __init__(self, seed):
        self.seed = seed
        self._saved = None

    def __enter__(self):
        import torch

        self._saved = (
            torch.random.get_rng_state(),
            torch.get_num_threads(),
            torch.get_default_dtype(),
            torch.is_grad_enabled(),
        )
        if self.seed is not None:
            torch.manual_seed(self.seed)
        return self

    def __exit__(self, *exc) -> bool:
        import torch

        rng, threads, dtype, grad = self._saved
        torch.random.set_rng_state(rng)
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        torch.set_default_dtype(dtype)
        torch.set_grad_enabled(grad)
        return False  # errors propagate


def torch_state(seed: int | None = None) -> _SavedTorchState:
    """Save torch's global state, seed it for the block (if ``seed`` is given), restore it after.

    Saved and restored, error or not: the CPU random generator's state (what
    ``torch.nn.Linear(...)`` and ``torch.randn`` draw from), the number of intra-op threads,
    the default dtype and the grad mode.

    Parameters
    ----------
    seed : int, optional
        ``torch.manual_seed(seed)`` at the start of the block (0 to 2**32 - 1).

    Returns
    -------
    context manager

    Examples
    --------
    >>> with torch_state(seed=0):
    ...     layer = torch.nn.Linear(5, 3)   # the same weights every run; the global
    ...                                     # generator is as it was afterwards
    """
    if seed is not None:
        seed = check_int("seed", seed, 0, MAX_SEED)
    return _SavedTorchState(seed)
