"""Chapter 09's exercise: the update-to-weight ratio."""

from __future__ import annotations

import math
from typing import Callable

__all__ = ["UPDATE_RATIO_TOL", "update_ratio_check_cases", "check_update_ratio"]


#: Chapter 09's exercise: relative tolerance of the visible check.
UPDATE_RATIO_TOL = 1e-6


def update_ratio_check_cases():
    """The visible check's cases: ``(label, w, dw, lr)``, float64 arrays.

    Chosen so that each plausible slip gives a different number: lr is never 1 (a forgotten
    lr shows), ratios are not 1 (a squared norm shows), one step is large, ratio ~0.4 (dividing
    by the weights *after* the step shows), and matrices are not rank one (a spectral norm,
    ``np.linalg.norm(w, 2)``, shows).
    """
    import numpy as np

    rng = np.random.default_rng(9)
    w = rng.normal(0.0, 0.1, size=(64, 32))
    dw = rng.normal(0.0, 0.02, size=(64, 32))
    big_w = rng.normal(0.0, 1.0, size=(5, 4))
    return [("a typical layer, lr=0.01", w, dw, 0.01),
            ("the same layer, lr=3e-4", w, dw, 3e-4),
            ("a large step, lr=0.5", big_w, rng.normal(0.0, 1.0, size=(5, 4)), 0.5),
            ("a bias vector, lr=0.1", rng.normal(0.0, 0.5, size=10), rng.normal(size=10), 0.1)]


def check_update_ratio(update_ratio: Callable) -> None:
    """Chapter 09's exercise: ``update_ratio(w, dw, lr) -> float``, the size of the SGD step
    ``-lr * dw`` relative to the weights ``w`` *before* it, in Frobenius norms.

    Compared with :func:`course_utils.monitoring.sgd_update_ratio` on
    :func:`update_ratio_check_cases` within :data:`UPDATE_RATIO_TOL` (relative); the input
    arrays must not be changed.
    """
    import numpy as np

    from course_utils.monitoring import sgd_update_ratio

    if not callable(update_ratio):
        raise TypeError(f"update_ratio must be a function; got {type(update_ratio).__name__}")
    for label, w, dw, lr in update_ratio_check_cases():
        call = f"update_ratio(w {w.shape}, dw, lr={lr:g})"
        want = sgd_update_ratio(w, dw, lr)
        w_in, dw_in = w.copy(), dw.copy()
        got = update_ratio(w_in, dw_in, lr)
        problem = None
        if not (np.array_equal(w_in, w) and np.array_equal(dw_in, dw)):
            problem = ("changed w or dw in place: measure the step, do not take it "
                       "(w is the weights before the step)")
        else:
            try:
                got = float(got)
            except (TypeError, ValueError):
                problem = f"returned {got!r}: expected a number"
            else:
                if not math.isclose(got, want, rel_tol=UPDATE_RATIO_TOL):
                    problem = f"= {got:.6g}, expected {want:.6g}"
        if problem:
            print(f"WRONG {call} ({label}) {problem}")
            raise AssertionError(
                f"{call} ({label}) {problem} (relative tolerance {UPDATE_RATIO_TOL:g}). Is the "
                "step lr * dw (lr included)? Plain norms, not squared? Divided by the norm of "
                "w before the step?")
        print(f"ok  {call} ({label}) = {got:.6g}")
    print(f"All visible checks passed (relative tolerance {UPDATE_RATIO_TOL:g}).")


