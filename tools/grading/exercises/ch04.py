"""Chapter 04: Batch Norm's forward and backward passes in training mode, graded against
``course_utils.batchnorm.batchnorm_forward`` / ``batchnorm_backward`` here.

The feedback names the likely mistake with the visible checks' own diagnoses
(``bn_forward_mistake`` / ``bn_backward_mistake`` of
``course_utils.chapters.ch04_batchnorm.checks``), computed here from the returned arrays.
"""

from __future__ import annotations

import numpy as np

from course_utils import batchnorm
from course_utils.chapters.ch04_batchnorm.checks import bn_backward_mistake, bn_forward_mistake
from tools.grading.spec import Call, Exercise, close, describe, returned

TOL = 1e-8  # absolute and relative, as the hidden tests (float64 arithmetic)


def _batch(rng, n, d):
    """A batch whose features have scales from 0.01 to 10, and a mean away from 0."""
    return rng.normal(1.0, 4.0, (n, d)) * rng.uniform(0.01, 10.0, d)


# ----------------------------------------------------------------------------- forward pass
def _forward_calls():
    rng = np.random.default_rng(1230)
    calls = []
    for n, d, eps in [(3, 7, 1e-5), (32, 2, 1e-3), (2, 1, 1e-5), (50, 10, 0.5), (5, 4, 1e-5)]:
        x = _batch(rng, n, d)
        gamma, beta = rng.uniform(-3.0, 3.0, d), rng.normal(0.0, 2.0, d)
        calls.append(Call("bn_forward_train", (x, gamma, beta), {"eps": eps}))
    # the default eps (1e-5): a variance of about 9 shows it at the 1e-6 level
    calls.append(Call("bn_forward_train", (rng.normal(0.0, 3.0, (16, 3)), np.ones(3), np.zeros(3))))
    # constant features: their output is beta, not 0/0
    calls.append(
        Call(
            "bn_forward_train",
            (np.tile([1.0, 2.0, 3.0], (4, 1)), np.ones(3), np.full(3, 0.5)),
            label="4 x 3, every feature constant",
        )
    )
    return calls


def _judge_forward(calls, outcomes):
    failures = []
    for call, outcome in returned(calls, outcomes, failures):
        x, gamma, beta = call.args
        eps = call.kwargs.get("eps", batchnorm.EPS)
        want, _ = batchnorm.batchnorm_forward(x, gamma, beta, eps=eps)
        got = outcome.value
        if not isinstance(got, np.ndarray):
            failures.append(
                f"{describe(call)} must return one NumPy array; got {type(got).__name__}"
            )
            continue
        why = close(got, want, rtol=TOL, atol=TOL, what="the output")
        if why:
            hint = ""
            if got.shape == want.shape and got.dtype.kind in "fiu":
                hint = " " + bn_forward_mistake(x, gamma, beta, eps, got.astype(np.float64))
                if "eps" not in call.kwargs and hint.startswith(" Normalise each feature"):
                    hint += " Called without eps: is the default eps=1e-5?"
            failures.append(f"{describe(call)}: {why}.{hint}")
    return failures


# ----------------------------------------------------------------------------- backward pass
def _backward_calls():
    rng = np.random.default_rng(3210)
    calls = []
    for n, d, eps in [(3, 7, 1e-5), (32, 2, 1e-3), (2, 3, 1e-5), (50, 10, 0.5), (6, 4, 1e-5)]:
        x = _batch(rng, n, d)
        gamma, dout = rng.uniform(-3.0, 3.0, d), rng.normal(0.0, 2.0, (n, d))
        calls.append(Call("bn_backward_train", (dout, x, gamma), {"eps": eps}))
    # the default eps (1e-5)
    calls.append(
        Call(
            "bn_backward_train",
            (rng.normal(0.0, 1.0, (10, 4)), rng.normal(0.0, 3.0, (10, 4)), np.ones(4)),
        )
    )
    return calls


def _judge_backward(calls, outcomes):
    failures = []
    for call, outcome in returned(calls, outcomes, failures):
        dout, x, gamma = call.args
        eps = call.kwargs.get("eps", batchnorm.EPS)
        _, cache = batchnorm.batchnorm_forward(x, gamma, np.zeros_like(gamma), eps=eps)
        want = batchnorm.batchnorm_backward(dout, cache)
        got = outcome.value
        if not (isinstance(got, (tuple, list)) and len(got) == 3):
            failures.append(
                f"{describe(call)} must return (dx, dgamma, dbeta); got {type(got).__name__}"
            )
            continue
        # dbeta and dgamma first, as the visible check: dx's formula is built on them
        for index, part in ((2, "dbeta"), (1, "dgamma"), (0, "dx")):
            value = got[index]
            why = close(value, want[index], rtol=TOL, atol=TOL, what=part)
            if why:
                hint = ""
                if isinstance(value, (np.ndarray, np.generic)) and value.dtype.kind in "fiu":
                    hint = " " + bn_backward_mistake(
                        part, dout, x, gamma, eps, np.asarray(value, dtype=np.float64)
                    )
                    if "eps" not in call.kwargs and hint.startswith(
                        (" dbeta = sum", " dx_i = gamma")
                    ):
                        hint += " Called without eps: is the default eps=1e-5?"
                failures.append(f"{describe(call)}: {why}.{hint}")
                break
    return failures


EXERCISES = [
    Exercise("bn_forward_tests", hides=("bn_forward",), calls=_forward_calls, judge=_judge_forward),
    Exercise(
        "bn_backward_tests", hides=("bn_backward",), calls=_backward_calls, judge=_judge_backward
    ),
]
