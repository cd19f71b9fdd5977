"""Chapter 03: the Xavier and Kaiming stds (graded against ``course_utils.init.init_std``) and a
weight std found by experiment (graded by running the network here, in the grader)."""

from __future__ import annotations

import math

from course_utils import init
from course_utils.chapters.ch03_initialization.checks import STD_SEARCH_REL_TOL, last_layer_std
from tools.grading.spec import Call, Exercise, describe, isclose, raised, returned

#: Relative tolerance of the stds (the hidden tests use 1e-9).
STD_TOL = 1e-9


def _init_std_calls():
    xavier = [
        ((4096, 4096), {}),
        ((300, 100), {}),
        ((1, 1), {}),
        ((512, 2048), {"gain": 5 / 3}),
        ((784, 10), {"gain": 1 / math.sqrt(3)}),
        ((7, 3), {"gain": 2.5}),
    ]
    kaiming = [
        ((4096,), {}),
        ((50,), {}),
        ((3,), {}),
        ((50,), {"gain": 1.0}),
        ((1000,), {"gain": 5 / 3}),
        ((27,), {"gain": 0.75}),
    ]
    return [Call("xavier_std", args, kwargs) for args, kwargs in xavier] + [
        Call("kaiming_std", args, kwargs) for args, kwargs in kaiming
    ]


def _judge_init_std(calls, outcomes):
    failures = []
    for call, outcome in returned(calls, outcomes, failures):
        if call.function == "xavier_std":
            want = init.init_std("xavier", *call.args, gain=call.kwargs.get("gain", 1.0))
        else:
            want = init.init_std(
                "kaiming", call.args[0], 1, gain=call.kwargs.get("gain", math.sqrt(2.0))
            )
        got = outcome.value
        if isinstance(got, (bool, str)) or not isclose(got, want, rel_tol=STD_TOL):
            failures.append(
                f"{describe(call)} = {got!r}, expected {want!r} (relative tolerance {STD_TOL:g})"
            )
    return failures


#: (target, activation, depth, width) that must be reached, and targets that must raise.
REACHABLE = (
    (0.3, "tanh", 3, 256),
    (0.9, "tanh", 6, 512),
    (0.65, "tanh", 4, 64),
    (2.0, "relu", 6, 512),
    (0.05, "relu", 2, 128),
    (1.0, "relu", 5, 64),
)
UNREACHABLE = ((1.5, "tanh"), (1.0, "tanh"), (-0.5, "tanh"), (0.0, "relu"), (-2.0, "relu"))


def _std_search_calls():
    calls = [
        Call("std_for_last_layer", (target, activation), {"depth": depth, "width": width})
        for target, activation, depth, width in REACHABLE
    ]
    calls += [
        Call("std_for_last_layer", (target, activation)) for target, activation in UNREACHABLE
    ]
    return calls


def _judge_std_search(calls, outcomes):
    failures = []
    for call, outcome in zip(calls, outcomes):
        target, activation = call.args
        if "depth" not in call.kwargs:  # an unreachable target
            if outcome.ok:
                failures.append(
                    f"{describe(call)} returned {outcome.value!r}: no std reaches "
                    "this target, it must raise ValueError"
                )
            elif outcome.error[0] != "ValueError":
                failures.append(f"{describe(call)} {raised(outcome)}; expected ValueError")
            continue
        if not outcome.ok:
            failures.append(f"{describe(call)} {raised(outcome)}")
            continue
        sigma = outcome.value
        try:
            sigma = float(sigma) if not isinstance(sigma, (bool, str)) else None
        except (TypeError, ValueError, OverflowError):
            sigma = None
        if sigma is None or not (math.isfinite(sigma) and sigma > 0):
            failures.append(
                f"{describe(call)} returned {outcome.value!r}: expected a positive number"
            )
            continue
        got = last_layer_std(sigma, activation, call.kwargs["depth"], call.kwargs["width"])
        if not math.isclose(got, target, rel_tol=STD_SEARCH_REL_TOL):
            failures.append(
                f"{describe(call)} = {sigma:.4g} gives a last-layer std of "
                f"{got:.4g}, not {target:g} (relative tolerance "
                f"{STD_SEARCH_REL_TOL:g})"
            )
    return failures


EXERCISES = [
    Exercise("init_std_tests", hides=("init_std",), calls=_init_std_calls, judge=_judge_init_std),
    Exercise(
        "std_search_tests", hides=("std_search",), calls=_std_search_calls, judge=_judge_std_search
    ),
]
