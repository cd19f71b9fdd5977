"""Chapter 10: a log-uniform sampler, judged here on its draws (type, use of the generator,
range, shares per decade, distance to the log-uniform CDF) and on its ``ValueError`` s.

The draws are not compared with ``course_utils.tuning.log_uniform`` 's one by one: other
correct answers (base 10, ``low * (high / low) ** rng.random(size)``) draw other numbers from
the same distribution.
"""

from __future__ import annotations

import math

import numpy as np

from course_utils.chapters.ch10_tuning.checks import log_uniform_range_mistake
from tools.grading.spec import Call, Exercise, Rng, describe, raised

DRAWS = 50_000
#: Largest Kolmogorov-Smirnov distance allowed: a correct sampler stays below 0.0087 with
#: probability 99.9% at 50,000 draws (the seeds are fixed, so a correct answer passes or
#: fails the same way every time; the reference passes with a wide margin).
KS_TOL = 0.015
#: exp(ln(low)) can round one ulp outside [low, high]
SLACK = 1e-12

_BAD_RANGES = [(0.0, 1.0), (-2.0, 1.0), (3.0, 3.0), (5.0, 1.0)]


def _calls():
    calls = [
        Call("sample_log_uniform", (1e-4, 10.0, DRAWS, Rng(3)), label=f"1e-4, 10.0, {DRAWS}, rng"),
        Call("sample_log_uniform", (2.0, 50.0, DRAWS, Rng(4)), label=f"2.0, 50.0, {DRAWS}, rng"),
        Call("sample_log_uniform", (0.5, 8.0, 10, Rng(11))),
        Call("sample_log_uniform", (0.5, 8.0, 10, Rng(11))),
        Call("sample_log_uniform", (0.5, 8.0, 10, Rng(12))),
        Call("sample_log_uniform", (1e-3, 1.0, 0, Rng(0))),
    ]
    calls += [Call("sample_log_uniform", (low, high, 4, Rng(0))) for low, high in _BAD_RANGES]
    return calls


def _ks(x, low, high) -> float:
    t = np.sort(x)
    cdf = np.log(t / low) / math.log(high / low)
    n = len(t)
    return float(max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n)))


def _draws(call, outcome, size):
    """The outcome as a float64 array of ``size`` finite draws, or the reason it is not."""
    if not outcome.ok:
        return None, f"{describe(call)} {raised(outcome)}"
    value = outcome.value
    if not isinstance(value, np.ndarray):
        return None, (
            f"{describe(call)} must return a NumPy float64 array; got {type(value).__name__}"
        )
    if value.dtype != np.float64 or value.shape != (size,):
        return None, (
            f"{describe(call)} must return a float64 array of shape ({size},); got "
            f"dtype {value.dtype}, shape {value.shape}"
        )
    if not np.all(np.isfinite(value)):
        return None, f"{describe(call)} returned NaN or infinite draws"
    return value, None


def _judge(calls, outcomes):
    failures = []
    pairs = list(zip(calls, outcomes))
    draws = {}
    for i, (call, outcome) in enumerate(pairs[:6]):
        x, why = _draws(call, outcome, call.args[2])
        if why:
            failures.append(why)
        draws[i] = x
    for i in (0, 1):
        x = draws[i]
        if x is None:
            continue
        call = calls[i]
        low, high = call.args[:2]
        lo, hi = float(x.min()), float(x.max())
        top = float(np.mean(x >= high / 10))
        if lo >= low * (1 - SLACK) and hi <= high * (1 + SLACK) and top > 0.8:
            failures.append(
                f"{describe(call)}: {top:.0%} of the draws are in the top decade "
                f"[{high / 10:g}, {high:g}]: uniform draws crowd it; draw the "
                "logarithm uniformly, then undo it"
            )
            continue
        if lo < low * (1 - SLACK) or hi > high * (1 + SLACK) or lo > low * 1.02 or hi < high / 1.02:
            failures.append(
                f"{describe(call)}: the draws span [{lo:.4g}, {hi:.4g}], not "
                f"[{low:g}, {high:g}]. {log_uniform_range_mistake(low, high, lo, hi)}"
            )
            continue
        if i == 0:
            shares = np.histogram(np.log10(x), bins=np.arange(-4, 2))[0] / len(x)
            if np.abs(shares - 0.2).max() > 0.015:
                text = ", ".join(f"{s:.1%}" for s in shares)
                failures.append(
                    f"{describe(call)}: shares per decade {text}, expected 20% "
                    "each (within 1.5 points): draw the logarithm uniformly"
                )
                continue
        ks = _ks(x, low, high)
        if ks > KS_TOL:
            failures.append(
                f"{describe(call)}: the draws' CDF is {ks:.3f} away from the "
                f"log-uniform CDF (at most {KS_TOL:g}): P(x <= t) must be "
                "ln(t/low) / ln(high/low)"
            )
    a, b, c = draws[2], draws[3], draws[4]
    if a is not None and b is not None and c is not None:
        if not np.array_equal(a, b):
            failures.append(
                "two generators with the same seed gave different draws: draw "
                "with the rng you are given"
            )
        elif np.array_equal(a, c):
            failures.append(
                "generators with different seeds gave the same draws: draw with "
                "the rng you are given"
            )
        elif a.min() < 0.5 * (1 - SLACK) or a.max() > 8.0 * (1 + SLACK):
            failures.append(f"{describe(calls[2])}: draws outside [0.5, 8]")
    for call, outcome in pairs[6:]:
        if outcome.ok:
            failures.append(
                f"{describe(call)} must raise ValueError (a log scale needs "
                "0 < low < high); it returned"
            )
        elif outcome.error[0] != "ValueError":
            failures.append(f"{describe(call)} {raised(outcome)}; expected ValueError")
    return failures


EXERCISES = [
    Exercise("log_uniform_tests", hides=("log_uniform",), calls=_calls, judge=_judge),
]
