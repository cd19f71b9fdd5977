"""What every visible check shares: one case compared, one line printed.

Each check prints one line per case with the value found, the value expected and the
tolerance, and raises ``AssertionError`` naming the first wrong case, so an nbgrader test
cell that calls it fails when the answer is wrong.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

__all__ = ["check_cases", "call_answer"]


def check_cases(
    name: str,
    func: Callable,
    cases: Sequence[tuple[tuple, dict]],
    expected: Callable,
    rel_tol: float = 1e-6,
) -> None:
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
    from course_utils.validation import check_callable, check_real, check_sequence

    check_callable("func", func)
    check_callable("expected", expected)
    rel_tol = check_real("rel_tol", rel_tol, 0.0, 1.0)
    for i, case in enumerate(check_sequence("cases", cases)):
        if not (
            isinstance(case, (tuple, list))
            and len(case) == 2
            and isinstance(case[0], (tuple, list))
            and isinstance(case[1], dict)
        ):
            raise ValueError(f"cases[{i}] must be (args tuple, kwargs dict); got {case!r}")
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


def call_answer(exercise: str, label: str, function: Callable, *args, **kwargs):
    """``function(*args, **kwargs)`` (the student's answer) with the references of ``exercise``
    hidden (:mod:`course_utils.references`): an answer that calls one of them fails the check
    with an ``AssertionError`` naming it; anything else it raises propagates."""
    from course_utils import references

    try:
        with references.hidden(exercise):
            return function(*args, **kwargs)
    except references.ReferenceUnavailable as error:
        print(f"WRONG {label}: called the course's reference answer")
        raise AssertionError(f"{label}: ReferenceUnavailable: {error}") from None
