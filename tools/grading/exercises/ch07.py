"""Chapter 07: inverted dropout (judged by its properties: any keep-mask drawn from ``rng``
with the right law passes) and dropout inside a two-layer network (its mask is prescribed,
``rng.random(h.shape) >= p``, so it is judged against ``regularization.dropout_net_loss``).
"""

from __future__ import annotations

import math

import numpy as np

from course_utils import regularization as R
from course_utils.chapters.ch07_regularization.checks import dropout_network_mistake
from tools.grading.spec import Call, Exercise, Rng, describe, raised, returned

# ------------------------------------------------------------------ inverted dropout
_X = np.random.default_rng(5).normal(size=(3, 40, 50))
_PS = (0.1, 0.3, 0.9)


def _dropout_calls():
    calls = []
    for p in _PS:
        calls += [
            Call("inverted_dropout", (_X, p, True, Rng(2))),
            Call(
                "inverted_dropout",
                (_X, p, True, Rng(2)),
                label=f"x, p={p:g}, train=True, default_rng(2) again",
            ),
            Call("inverted_dropout", (_X, p, True, Rng(3))),
            Call("inverted_dropout", (_X, p, False, Rng(2))),
        ]
    calls.append(Call("inverted_dropout", (_X, 0.0, True, Rng(1))))
    calls += [Call("inverted_dropout", (np.ones(1000), 0.5, True, Rng(s))) for s in range(200)]
    return calls


def _as_float_array(value, shape):
    if not (isinstance(value, np.ndarray) and value.dtype == np.float64):
        return None, f"returned {type(value).__name__}" + (
            f" of dtype {value.dtype}" if isinstance(value, np.ndarray) else ""
        ) + ", expected a float64 NumPy array"
    if value.shape != shape:
        return None, f"returned shape {value.shape}, expected x's shape {shape}"
    return value, None


def _judge_dropout(calls, outcomes):
    failures = []
    results = []
    for call, outcome in zip(calls, outcomes):
        if not outcome.ok:
            failures.append(f"{describe(call)} {raised(outcome)}")
            results.append(None)
            continue
        value, why = _as_float_array(outcome.value, call.args[0].shape)
        if why:
            failures.append(f"{describe(call)} {why}")
        results.append(value)
    if failures:
        return failures[:5]
    k = 0
    for p in _PS:
        (first, again, other, test), k = results[k : k + 4], k + 4
        call = calls[k - 4]
        kept = first != 0
        if not np.allclose(first[kept], _X[kept] / (1 - p), rtol=1e-12, atol=0):
            ratio = float(np.median(first[kept] / _X[kept]))
            failures.append(
                f"{describe(call)}: kept units are x * {ratio:.4g}, expected "
                f"x / (1 - p) = x * {1 / (1 - p):.4g}"
            )
        share, tol = float(kept.mean()), 10 * math.sqrt(p * (1 - p) / _X.size)
        if abs(share - (1 - p)) > tol:
            failures.append(
                f"{describe(call)}: kept {share:.3f} of the units, expected "
                f"1 - p = {1 - p:.3f} (p is the probability of DROPPING)"
            )
        if not np.array_equal(first, again):
            failures.append(
                f"{describe(call)}: another result for the same rng seed (draw the mask from rng)"
            )
        if np.array_equal(first, other):
            failures.append(f"{describe(call)}: the same result for another rng seed")
        if not np.array_equal(test, _X):
            failures.append(f"{describe(calls[k - 1])}: test mode must return x unchanged in value")
    if not np.array_equal(results[k], _X):
        failures.append(f"{describe(calls[k])}: with p = 0 nothing is dropped")
    mean = np.mean(results[k + 1 :], axis=0).mean()
    if abs(mean - 1.0) >= 0.01:
        failures.append(
            f"inverted_dropout(ones(1000), 0.5, True, 200 seeds): mean {mean:.4f}, "
            "expected 1 (the expectation of inverted dropout is x)"
        )
    return failures


# ------------------------------------------------------------------ dropout in a network
_PARAMS = ("W1", "b1", "W2", "b2")


def _network_problems():
    rng = np.random.default_rng(77)
    problems = []
    for n, d, hidden, c in ((7, 5, 9, 4), (1, 3, 4, 2), (12, 2, 16, 3)):
        problems.append(
            (
                rng.standard_normal((n, d)),
                rng.standard_normal((n, c)),
                rng.standard_normal((d, hidden)) / np.sqrt(d),
                0.2 * rng.standard_normal(hidden),
                rng.standard_normal((hidden, c)) / np.sqrt(hidden),
                0.2 * rng.standard_normal(c),
            )
        )
    return problems


def _network_calls():
    calls = []
    seed = 100
    for arrays in _network_problems():
        for p in (0.1, 0.4, 0.8):
            calls.append(Call("dropout_net_loss", (*arrays, p, True, Rng(seed))))
            calls.append(Call("dropout_net_loss", (*arrays, p, False, Rng(seed))))
            seed += 1
        calls.append(Call("dropout_net_loss", (*arrays, 0.0, True, Rng(seed))))
    return calls


def _unpack(value, shapes):
    """``(loss, {name: array})`` from the decoded (untrusted) value, or ``(None, why)``."""
    if not (isinstance(value, (tuple, list)) and len(value) == 2):
        return None, "must return (loss, grads)"
    loss, grads = value
    try:
        loss = float(loss)
    except (TypeError, ValueError):
        return None, f"the loss is a {type(loss).__name__}, not a number"
    if not math.isfinite(loss):
        return None, f"the loss is {loss}"
    if not isinstance(grads, dict) or set(grads) != set(_PARAMS):
        return None, 'grads must be a dict with the keys "W1", "b1", "W2", "b2"'
    arrays = {}
    for name in _PARAMS:
        try:
            array = np.asarray(grads[name], dtype=np.float64)
        except (TypeError, ValueError):
            return None, f'grads["{name}"] is not an array of numbers'
        if array.shape != shapes[name]:
            return None, f'grads["{name}"] has shape {array.shape}, expected {shapes[name]}'
        if not np.all(np.isfinite(array)):
            return None, f'grads["{name}"] has NaN or infinite entries'
        arrays[name] = array
    return (loss, arrays), None


def _judge_network(calls, outcomes):
    failures = []
    for call, outcome in returned(calls, outcomes, failures):
        *arrays, p, train, rng = call.args
        shapes = dict(zip(_PARAMS, (a.shape for a in arrays[2:])))
        got, why = _unpack(outcome.value, shapes)
        if why:
            failures.append(f"{describe(call)}: {why}")
            continue
        want_loss, want = R.dropout_net_loss(*arrays, p, train, np.random.default_rng(rng.seed))
        wrong = [] if np.isclose(got[0], want_loss, rtol=1e-8, atol=1e-14) else ["the loss"]
        wrong += [
            f"d{k}" for k in _PARAMS if not np.allclose(got[1][k], want[k], rtol=1e-8, atol=1e-12)
        ]
        if wrong:
            hint = dropout_network_mistake(got, *arrays, p, train, rng.seed)
            failures.append(
                f"{describe(call)}: {', '.join(wrong)} wrong (relative tolerance "
                f"1e-8)" + (f". {hint}" if hint else "")
            )
    return failures


EXERCISES = [
    Exercise("dropout_tests", hides=("dropout",), calls=_dropout_calls, judge=_judge_dropout),
    Exercise(
        "dropout_network_tests",
        hides=("dropout_network",),
        calls=_network_calls,
        judge=_judge_network,
    ),
]
