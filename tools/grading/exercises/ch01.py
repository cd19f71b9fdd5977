"""Chapter 01: Leaky ReLU and its derivative, graded against ``course_utils.activations`` here."""

from __future__ import annotations

import numpy as np

from course_utils import activations
from tools.grading.spec import Call, Exercise, describe, returned

#: Absolute tolerance, as the notebook's hidden tests.
TOL = 1e-12
SLOPES = (None, 0.01, 0.1, 0.3)


def _leaky_calls():
    rng = np.random.default_rng(2013)
    arrays = []
    for shape in [(7,), (4, 5), (2, 3, 4)]:
        z = rng.normal(scale=10, size=shape)
        z.flat[0] = 0.0  # the kink: f(0) = 0, f'(0) = negative_slope
        z.flat[-1] = -1e-9  # just below it
        arrays.append(z)
    arrays.append(np.array([-50.0, -3.0, -0.5, 0.0, 1e-9, 0.25, 2.0, 40.0]))
    calls = []
    for z in arrays:
        for slope in SLOPES:
            kwargs = {} if slope is None else {"negative_slope": slope}
            for name in ("leaky_relu", "leaky_relu_grad"):
                calls.append(Call(name, (z,), kwargs))
    return calls


def _judge_leaky(calls, outcomes):
    failures = []
    for call, outcome in returned(calls, outcomes, failures):
        got = outcome.value
        reference = getattr(activations, call.function)
        want = reference(np.asarray(call.args[0], dtype=np.float64), **call.kwargs)
        if not isinstance(got, np.ndarray):
            failures.append(f"{describe(call)} returned a {type(got).__name__}, not an array")
        elif got.shape != want.shape:
            failures.append(f"{describe(call)} returned shape {got.shape}, expected {want.shape}")
        elif got.dtype != np.float64:
            failures.append(f"{describe(call)} returned dtype {got.dtype}, expected float64")
        elif not np.allclose(got, want, rtol=0, atol=TOL):
            bad = np.flatnonzero(~np.isclose(got, want, rtol=0, atol=TOL))[0]
            z = call.args[0].ravel()[bad]
            failures.append(
                f"{describe(call)}: at z = {z:g} gives {got.ravel()[bad]!r}, "
                f"expected {want.ravel()[bad]!r}"
            )
    return failures


EXERCISES = [
    Exercise("leaky_relu_tests", hides=("leaky_relu",), calls=_leaky_calls, judge=_judge_leaky),
]
