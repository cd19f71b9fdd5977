"""Chapter 05: Nesterov's and Adam's steps, graded against `course_utils.optim` here."""

from __future__ import annotations

import numpy as np

from course_utils import optim
from tools.grading.spec import Call, Exercise, Expr, close, describe, not_a_tuple, returned


def _adam_calls():
    rng = np.random.default_rng(2015)
    calls = []
    # a chain of 6 steps on the same (4, 3) parameter, other betas and a large eps; each step
    # is graded on the reference's own state, so one wrong step costs one failure message
    x, m, v = rng.standard_normal((4, 3)), np.zeros((4, 3)), np.zeros((4, 3))
    for t in range(1, 7):
        g = rng.standard_normal((4, 3)) * 10.0 ** rng.integers(-4, 2)
        kwargs = {"lr": 0.01, "beta1": 0.85, "beta2": 0.98, "eps": 1e-3}
        calls.append(Call("adam_step", (x, g, m, v, t), kwargs))
        x, m, v = optim.adam_step(x, g, m, v, t, **kwargs)
    # the defaults, a tiny gradient: still a step of about lr
    calls.append(
        Call("adam_step", (np.array([0.0]), np.array([1e-6]), np.zeros(1), np.zeros(1), 1))
    )
    # a late step, where the bias correction has almost vanished
    calls.append(
        Call(
            "adam_step",
            (
                rng.standard_normal(5),
                rng.standard_normal(5),
                0.1 * rng.standard_normal(5),
                rng.uniform(0, 1, 5),
                500,
            ),
            {"lr": 0.003},
        )
    )
    return calls


def _judge_adam(calls, outcomes):
    failures = []
    for call, outcome in returned(calls, outcomes, failures):
        got = outcome.value
        if why := not_a_tuple(call, got, ("x_next", "m", "v")):
            failures.append(why)
            continue
        want = optim.adam_step(*call.args, **call.kwargs)
        for name, g, w in zip(("x_next", "m", "v"), got, want):
            why = close(g, w, rtol=1e-8, atol=1e-12, what=name)
            if why:
                failures.append(f"{describe(call)}: {why}")
    return failures


# --- Nesterov momentum (the lecture's velocity form) ---------------------------------------------

_QUADRATIC = "lambda z: lam * z"  # f = sum(lam * z**2) / 2, diagonal curvature
_COUPLED = "lambda z: A @ z"  # f = z·Az/2, a coupled (non-diagonal) quadratic
_CUBIC = "lambda z: z**3 - z"  # a non-linear gradient: no linear shortcut works


def _nesterov_calls():
    rng = np.random.default_rng(1983)
    calls = []
    lam = np.array([0.1, 10.0])
    # from rest: Nesterov and plain momentum agree here, so sign and lr mistakes show alone
    calls.append(
        Call(
            "nesterov_step",
            (Expr(_QUADRATIC, {"lam": lam}), np.array([3.0, 1.0]), np.zeros(2), 0.05, 0.9),
        )
    )
    # a chain of 6 steps on the ill-conditioned quadratic, each graded on the reference's state
    grad = Expr(_QUADRATIC, {"lam": lam})
    x, v = np.array([3.0, 1.0]), np.zeros(2)
    for _ in range(6):
        x, v = optim.nesterov_step(grad.build(), x, v, 0.05, 0.9)
        calls.append(Call("nesterov_step", (grad, x, v, 0.05, 0.9)))
    # a coupled quadratic, random states, other lr and momentum
    A = rng.standard_normal((3, 3))
    A = A @ A.T + np.eye(3)
    for lr, mu in ((0.05, 0.8), (0.01, 0.99)):
        calls.append(
            Call(
                "nesterov_step",
                (Expr(_COUPLED, {"A": A}), rng.standard_normal(3), rng.standard_normal(3), lr, mu),
            )
        )
    # a non-linear gradient on a 2-D parameter
    calls.append(
        Call(
            "nesterov_step",
            (
                Expr(_CUBIC),
                rng.standard_normal((2, 3)),
                0.3 * rng.standard_normal((2, 3)),
                0.2,
                0.6,
            ),
        )
    )
    # momentum 0: plain gradient descent; lr 0: the velocity only decays
    calls.append(
        Call(
            "nesterov_step",
            (Expr(_CUBIC), rng.standard_normal(4), rng.standard_normal(4), 0.1, 0.0),
        )
    )
    calls.append(
        Call(
            "nesterov_step",
            (Expr(_COUPLED, {"A": A}), rng.standard_normal(3), rng.standard_normal(3), 0.0, 0.9),
        )
    )
    return calls


def _judge_nesterov(calls, outcomes):
    failures = []
    for call, outcome in returned(calls, outcomes, failures):
        got = outcome.value
        if why := not_a_tuple(call, got, ("x_next", "v_next")):
            failures.append(why)
            continue
        grad, *rest = call.args
        want = optim.nesterov_step(grad.build(), *rest)
        for name, g, w in zip(("x_next", "v_next"), got, want):
            why = close(g, w, rtol=1e-9, atol=1e-12, what=name)
            if why:
                failures.append(f"{describe(call)}: {why}")
    return failures


EXERCISES = [
    Exercise(
        "nesterov_step_tests",
        hides=("nesterov_step",),
        calls=_nesterov_calls,
        judge=_judge_nesterov,
    ),
    Exercise("adam_step_tests", hides=("adam_step",), calls=_adam_calls, judge=_judge_adam),
]
