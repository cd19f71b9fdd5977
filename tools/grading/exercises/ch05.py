"""Chapter 05: Adam's step, graded against ``course_utils.optim.adam_step`` here."""

from __future__ import annotations

import numpy as np

from course_utils import optim
from tools.grading.spec import Call, Exercise, close, describe, raised


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
    calls.append(Call("adam_step", (np.array([0.0]), np.array([1e-6]), np.zeros(1),
                                    np.zeros(1), 1)))
    # a late step, where the bias correction has almost vanished
    calls.append(Call("adam_step", (rng.standard_normal(5), rng.standard_normal(5),
                                    0.1 * rng.standard_normal(5), rng.uniform(0, 1, 5), 500),
                      {"lr": 0.003}))
    return calls


def _judge_adam(calls, outcomes):
    failures = []
    for call, outcome in zip(calls, outcomes):
        if not outcome.ok:
            failures.append(f"{describe(call)} {raised(outcome)}")
            continue
        got = outcome.value
        if not (isinstance(got, tuple) and len(got) == 3):
            failures.append(f"{describe(call)} must return (x_next, m, v); got "
                            f"{type(got).__name__}")
            continue
        want = optim.adam_step(*call.args, **call.kwargs)
        for name, g, w in zip(("x_next", "m", "v"), got, want):
            why = close(g, w, rtol=1e-8, atol=1e-12, what=name)
            if why:
                failures.append(f"{describe(call)}: {why}")
    return failures


EXERCISES = [
    Exercise("adam_step_tests", hides=("adam_step",), calls=_adam_calls, judge=_judge_adam),
]
