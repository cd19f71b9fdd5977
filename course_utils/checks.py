"""Visible checks for the notebooks' exercises: feedback a student can act on.

Each check prints one line per case with the value found, the value expected and the
tolerance, and raises ``AssertionError`` naming the first wrong case, so an nbgrader test
cell that calls it fails when the answer is wrong.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

from course_utils import init as _init

__all__ = ["check_cases", "check_init_std_functions"]


def check_cases(name: str, func: Callable, cases: Sequence[tuple[tuple, dict]],
                expected: Callable, rel_tol: float = 1e-6) -> None:
    """Compare ``func(*args, **kwargs)`` with ``expected(*args, **kwargs)`` for each case.

    Parameters
    ----------
    name : str
        Name of the student's function, for the messages.
    func, expected : callable
    cases : sequence of (args, kwargs)
    rel_tol : float
        Relative tolerance (``math.isclose``).
    """
    if not callable(func):
        raise TypeError(f"{name} must be a function; got {type(func).__name__}")
    for args, kwargs in cases:
        call = ", ".join([*(repr(a) for a in args), *(f"{k}={v:g}" for k, v in kwargs.items())])
        want = expected(*args, **kwargs)
        got = func(*args, **kwargs)
        try:
            ok = math.isclose(float(got), want, rel_tol=rel_tol)
        except (TypeError, ValueError):
            raise AssertionError(f"{name}({call}) returned {got!r}: expected a number") from None
        mark = "ok " if ok else "WRONG"
        print(f"{mark} {name}({call}) = {float(got):.6g}   expected {want:.6g}")
        if not ok:
            raise AssertionError(
                f"{name}({call}) = {float(got):.6g}, expected {want:.6g} "
                f"(relative tolerance {rel_tol:g}). Check the formula in the text above."
            )


def check_init_std_functions(xavier_std: Callable, kaiming_std: Callable) -> None:
    """Chapter 03's exercise: the Xavier and Kaiming standard deviations."""
    square, wide = ((4096, 4096), {}), ((512, 2048), {})
    check_cases("xavier_std", xavier_std, [square, wide],
                lambda i, o: _init.init_std("xavier", i, o))
    check_cases("kaiming_std", kaiming_std, [((4096,), {}), ((512,), {})],
                lambda i: _init.init_std("kaiming", i, 1))
    print("All visible checks passed (relative tolerance 1e-06).")
