"""Chapter 08's exercise: the centred-difference numerical gradient."""

from __future__ import annotations

from typing import Callable

__all__ = ["NUMERICAL_GRADIENT_TOL", "NUMERICAL_GRADIENT_MATCH_TOL", "numerical_gradient_cases", "check_numerical_gradient"]

#: Chapter 08's exercise: the whole-gradient relative error allowed against the exact
#: gradient (h = 1e-5) and against the reference centred difference (same h).
NUMERICAL_GRADIENT_TOL = 1e-8
NUMERICAL_GRADIENT_MATCH_TOL = 1e-9


def numerical_gradient_cases():
    """The visible check's functions: ``(label, f, x, exact_gradient)``, float64 arrays.

    A smooth element-wise function on a 1-D array, and the mean softmax cross-entropy of a
    small linear classifier as a function of its (4, 3) weight matrix.
    """
    import numpy as np

    from course_utils.gradcheck import softmax_cross_entropy

    x1 = np.array([-1.5, -0.3, 0.2, 0.9, 2.0])

    def f1(x):
        return float(np.sum(np.sin(x) * x ** 2))

    grad1 = np.cos(x1) * x1 ** 2 + 2 * x1 * np.sin(x1)
    rng = np.random.default_rng(8)
    inputs = rng.standard_normal((6, 4))
    labels = np.array([0, 1, 2, 0, 1, 2])
    w = rng.standard_normal((4, 3)) * 0.5

    def f2(W):
        return softmax_cross_entropy(inputs @ W, labels)[0]

    grad2 = inputs.T @ softmax_cross_entropy(inputs @ w, labels)[1]
    return [("sum(sin(x) * x**2), x of shape (5,)", f1, x1, grad1),
            ("softmax cross-entropy of X @ W, W of shape (4, 3)", f2, w, grad2)]


def check_numerical_gradient(numerical_gradient: Callable) -> None:
    """Chapter 08's exercise: ``numerical_gradient(f, x, h=1e-5)`` by centred differences.

    Checked: the result is a float64 array of ``x``'s shape; ``x`` is left as it was; the
    whole-gradient relative error against the exact gradient is below
    :data:`NUMERICAL_GRADIENT_TOL` (a one-sided difference gives about 1e-6); and with
    ``h=1e-3`` the result matches :func:`course_utils.gradcheck.numerical_gradient` at the same
    step within :data:`NUMERICAL_GRADIENT_MATCH_TOL` (a step other than the one given, or a
    division by h instead of 2h, does not).
    """
    import numpy as np

    from course_utils import gradcheck

    if not callable(numerical_gradient):
        raise TypeError("numerical_gradient must be a function; "
                        f"got {type(numerical_gradient).__name__}")

    def run(label, f, x, h):
        original = x.copy()
        call = f"numerical_gradient({label}{'' if h is None else f', h={h:g}'})"
        got = numerical_gradient(f, x) if h is None else numerical_gradient(f, x, h=h)
        problem = None
        if not np.array_equal(x, original):
            problem = "changed x: restore every entry after perturbing it"
        elif not isinstance(got, np.ndarray):
            problem = f"returned a {type(got).__name__}, expected a NumPy array"
        elif got.shape != x.shape:
            problem = f"returned shape {got.shape}, expected x's shape {x.shape}"
        elif got.dtype != np.float64:
            problem = f"returned dtype {got.dtype}, expected float64"
        if problem:
            print(f"WRONG {call}: {problem}")
            raise AssertionError(f"{call} {problem}.")
        return call, got

    def verdict(call, error, tol, against, hint):
        ok = error < tol
        line = (f"{call}: relative error vs {against} < {tol:g}" if ok else
                f"{call}: relative error vs {against} = {error:.2e}, above {tol:g}")
        print(f"{'ok ' if ok else 'WRONG'} {line}")
        if not ok:
            raise AssertionError(f"{line}. {hint}")

    for label, f, x, exact in numerical_gradient_cases():
        call, got = run(label, f, x, None)
        verdict(call, gradcheck.norm_error(exact, got), NUMERICAL_GRADIENT_TOL,
                "the exact gradient",
                "Use the centred difference (f(x + h e_i) - f(x - h e_i)) / (2h): a one-sided "
                "(f(x + h e_i) - f(x)) / h has an error proportional to h, and dividing by h "
                "instead of 2h doubles the result.")
    for label, f, x, _ in numerical_gradient_cases():
        call, got = run(label, f, x, 1e-3)
        reference = gradcheck.numerical_gradient(f, x.copy(), h=1e-3)
        verdict(call, gradcheck.norm_error(reference, got), NUMERICAL_GRADIENT_MATCH_TOL,
                "the centred difference with h=1e-3",
                "Is the step h the one passed in (not a fixed 1e-5), moved by +h and -h, and "
                "divided by 2h?")
    print(f"All visible checks passed (relative error below {NUMERICAL_GRADIENT_TOL:g} vs the "
          f"exact gradient, {NUMERICAL_GRADIENT_MATCH_TOL:g} vs the reference at h=1e-3).")


