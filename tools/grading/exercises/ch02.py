"""Chapter 02: ZCA whitening, graded against ``course_utils.preprocessing.Whitener`` here."""

from __future__ import annotations

import numpy as np

from course_utils.preprocessing import Whitener
from tools.grading.spec import Call, Exercise, close, describe, not_a_tuple, returned

#: The notebook's hidden tests' tolerances: W and X_white to 1e-8 (absolute), the whitened
#: covariance to 1e-6 of the identity for a tiny eps.
MATCH_TOL = 1e-8
COV_TOL = 1e-6


def _zca_data():
    rng = np.random.default_rng(1997)
    mixed = rng.standard_normal((200, 6)) @ (rng.standard_normal((6, 6)) + 3 * np.eye(6)) - 5.0
    small = (
        rng.standard_normal((40, 3)) @ np.array([[2.0, 0.5, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 0.2]])
        + 100.0
    )
    constant = rng.standard_normal((60, 4))
    constant[:, 2] = 7.0  # a feature with zero variance: eps keeps W finite
    return mixed, small, constant


def _zca_calls():
    mixed, small, constant = _zca_data()
    calls = [Call("zca_whiten", (mixed,), {"eps": eps}) for eps in (1e-10, 1e-3, 0.5, 3.0)]
    calls.append(Call("zca_whiten", (mixed,)))  # the default eps, 1e-5
    calls.append(Call("zca_whiten", (small,), {"eps": 1e-10}))
    calls.append(Call("zca_whiten", (constant,), {"eps": 0.1}))
    return calls


def _judge_zca(calls, outcomes):
    failures = []
    for call, outcome in returned(calls, outcomes, failures):
        got = outcome.value
        if why := not_a_tuple(call, got, ("X_white", "W")):
            failures.append(why)
            continue
        X = call.args[0]
        eps = call.kwargs.get("eps", 1e-5)
        reference = Whitener("zca", eps).fit(X)
        white, W = got
        dtypes = [getattr(v, "dtype", None) for v in got]
        if not all(isinstance(v, np.ndarray) for v in got) or dtypes != [np.float64] * 2:
            failures.append(
                f"{describe(call)}: X_white and W must be float64 arrays; got "
                f"{[type(v).__name__ for v in got]} of dtype {dtypes}"
            )
            continue
        for name, g, w in (("W", W, reference.matrix_), ("X_white", white, reference.transform(X))):
            why = close(g, w, rtol=0, atol=MATCH_TOL, what=name)
            if why:
                failures.append(f"{describe(call)}: {why}")
        if eps <= 1e-10 and white.shape == X.shape:
            centred = white - white.mean(axis=0)
            deviation = np.abs(centred.T @ centred / len(X) - np.eye(X.shape[1])).max()
            if not deviation < COV_TOL:
                failures.append(
                    f"{describe(call)}: cov(X_white) is {deviation:.2e} from I "
                    f"(tolerance {COV_TOL:g})"
                )
    return failures


EXERCISES = [
    Exercise("zca_tests", hides=("zca",), calls=_zca_calls, judge=_judge_zca),
]
