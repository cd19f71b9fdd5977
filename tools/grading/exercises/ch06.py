"""Chapter 06: linear warm-up then cosine, graded against ``course_utils.schedules`` here."""

from __future__ import annotations

import numpy as np

from course_utils import schedules
from tools.grading.spec import Call, Exercise, close, describe, returned


def _warmup_cosine_calls():
    rng = np.random.default_rng(6)
    calls = []
    # random settings (as the hidden tests): runs that end inside the warm-up, past t_max, ...
    for _ in range(12):
        steps, warmup = int(rng.integers(1, 400)), int(rng.integers(1, 120))
        t_max, f = int(rng.integers(1, 400)), float(rng.uniform(0.01, 1.0))
        base = float(10 ** rng.uniform(-4, 0.5))
        eta_min = float(rng.uniform(0, 0.5) * base)
        calls.append(
            Call(
                "warmup_cosine",
                (base, steps, warmup, t_max),
                {"start_factor": f, "eta_min": eta_min},
            )
        )
    # the defaults (start_factor 1/3, eta_min 0), a one-step warm-up, no steps at all
    calls.append(Call("warmup_cosine", (0.3, 20, 4, 16)))
    calls.append(Call("warmup_cosine", (0.1, 30, 1, 29), {"start_factor": 0.5}))
    calls.append(Call("warmup_cosine", (0.1, 0, 5, 10)))
    # a warm-up of start_factor 1 (none in effect) and eta_min = base_lr (a constant rate)
    calls.append(Call("warmup_cosine", (0.02, 50, 10, 40), {"start_factor": 1.0}))
    calls.append(Call("warmup_cosine", (0.5, 40, 8, 20), {"start_factor": 0.2, "eta_min": 0.5}))
    return calls


def _judge_warmup_cosine(calls, outcomes):
    failures = []
    for call, outcome in returned(calls, outcomes, failures):
        got = outcome.value
        want = schedules.warmup_cosine(*call.args, **call.kwargs)
        if not isinstance(got, np.ndarray) or got.dtype != np.float64:
            failures.append(
                f"{describe(call)} must return a float64 NumPy array; got "
                f"{type(got).__name__}"
                + (f" of {got.dtype}" if isinstance(got, np.ndarray) else "")
            )
            continue
        why = close(got, want, rtol=0.0, atol=1e-12, what="lr")
        if why:
            failures.append(f"{describe(call)}: {why}")
    return failures


EXERCISES = [
    Exercise(
        "warmup_cosine_tests",
        hides=("warmup_cosine",),
        calls=_warmup_cosine_calls,
        judge=_judge_warmup_cosine,
    ),
]
