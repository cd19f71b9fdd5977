"""Chapter 08: the centred-difference numerical gradient, graded here against exact gradients
and ``course_utils.gradcheck.numerical_gradient``.

The student's ``f`` arguments are :class:`Expr` lambdas of the argument ``v`` only; ``x`` must
come back equal (perturbed in place and restored, or never touched): ``may_modify`` is empty,
so the generic in-place check fails an ``x`` left perturbed, even by one rounding.
"""

from __future__ import annotations

import numpy as np

from course_utils import gradcheck
from course_utils.chapters.ch08_sanity_checks.checks import numerical_gradient_mistake
from tools.grading.spec import Call, Exercise, Expr, describe, raised

#: Whole-gradient relative error allowed against an exact gradient (h = 1e-5), and against
#: the reference centred difference at the same step: the visible check's tolerances.
EXACT_TOL = 1e-8
MATCH_TOL = 1e-9


def _data():
    rng = np.random.default_rng(2024)
    return {
        "A": rng.standard_normal((3, 2)),
        "x": rng.standard_normal((4, 3)),
        "B": rng.standard_normal((2, 3, 2)),
        "x3": rng.standard_normal((2, 3, 2)),
        "c": rng.standard_normal(6),
    }


#: (f as an Expr, x, h or None for the default, the exact gradient or None)
def _cases():
    d = _data()
    tanh_loss = "lambda v: float(np.sum(np.tanh(v @ A)))"
    quartic = "lambda v: float(np.sum(np.cos(v) * B) + np.sum(v ** 4) / 4)"
    return [
        # a 2-D x at the default step, against the exact gradient
        (
            Expr(tanh_loss, {"A": d["A"]}),
            d["x"],
            None,
            (1 - np.tanh(d["x"] @ d["A"]) ** 2) @ d["A"].T,
        ),
        # x**3 at h = 0.1: the centred difference is exactly 3x² + h² (a forward one is not)
        (
            Expr("lambda v: float(np.sum(v ** 3))"),
            np.array([1.0, -2.0, 0.1, 1 / 3]),
            0.1,
            3 * np.array([1.0, -2.0, 0.1, 1 / 3]) ** 2 + 0.01,
        ),
        # a bilinear function at h = 0.5: the centred difference is exact
        (Expr("lambda v: float(v[0] * v[1])"), np.array([2.0, 5.0]), 0.5, np.array([5.0, 2.0])),
        # a 3-D x at h = 1e-3, against the reference at the same step
        (Expr(quartic, {"B": d["B"]}), d["x3"], 1e-3, None),
        # one entry, default step
        (Expr("lambda v: float(np.exp(v[0]))"), np.array([0.7]), None, np.array([np.exp(0.7)])),
        # a linear function of a 1-D x: every entry matters (not only the first)
        (Expr("lambda v: float(v @ c)", {"c": d["c"]}), np.linspace(-1, 1, 6), 1e-4, d["c"]),
    ]


def _calls():
    calls = []
    for f, x, h, _ in _cases():
        calls.append(Call("numerical_gradient", (f, x), {} if h is None else {"h": h}))
    return calls


def _judge(calls, outcomes):
    failures = []
    for (f, x, h, exact), call, outcome in zip(_cases(), calls, outcomes):
        if not outcome.ok:
            failures.append(f"{describe(call)} {raised(outcome)}")
            continue
        got = outcome.value
        step = 1e-5 if h is None else h
        function = f.build()
        if exact is None:
            want, tol, against = (
                gradcheck.numerical_gradient(function, x.copy(), h=step),
                MATCH_TOL,
                f"the centred difference with h={step:g}",
            )
        else:
            want, tol, against = exact, (EXACT_TOL if h is None else 1e-10), "the exact value"
        if not (isinstance(got, np.ndarray) and got.dtype == np.float64):
            failures.append(
                f"{describe(call)}: returned {type(got).__name__}"
                + (f" of dtype {got.dtype}" if isinstance(got, np.ndarray) else "")
                + ", expected a float64 NumPy array of x's shape"
            )
            continue
        if got.shape != x.shape:
            failures.append(
                f"{describe(call)}: returned shape {got.shape}, expected x's shape {x.shape}"
            )
            continue
        error = gradcheck.norm_error(want, got)
        if not error < tol:
            hint = numerical_gradient_mistake(got, function, x, step) or (
                "use the centred difference (f(x + h e_i) - f(x - h e_i)) / (2h) for every "
                "entry, with the h passed in"
            )
            failures.append(
                f"{describe(call)}: relative error vs {against} {error:.2e}, above {tol:g}. {hint}"
            )
    return failures


EXERCISES = [
    Exercise("numerical_gradient_tests", hides=("numerical_gradient",), calls=_calls, judge=_judge),
]
