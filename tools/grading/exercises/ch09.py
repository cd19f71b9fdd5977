"""Chapter 09: the update-to-weight ratio of an SGD step (``update_ratio``) and of every layer
for one step of SGD with momentum (``momentum_update_ratios``), graded against
``course_utils.monitoring.sgd_update_ratio`` and ``momentum_update_ratios`` here."""

from __future__ import annotations

import numbers

import numpy as np

from course_utils import monitoring
from tools.grading.codec import Unsupported
from tools.grading.spec import Call, Exercise, close, describe, raised, returned


def _number(value):
    """The untrusted ``value`` as a float, or why it is not one number."""
    if isinstance(value, Unsupported):
        return None, f"is a {value.type_name}, not a number"
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "iuf":
        value = value[()]
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None, f"is {type(value).__name__} {str(value)[:40]!r}, not a number"
    return float(value), None


# ------------------------------------------------------------------ update_ratio
def _update_ratio_calls():
    rng = np.random.default_rng(2024)
    calls = []
    for shape, lr in [
        ((128, 64), 1e-3),
        ((3,), 0.2),
        ((7, 7), 2.5),
        ((10, 20), 1e-6),
        ((64, 32), 0.01),
        ((5, 4), 0.5),
    ]:
        w, dw = rng.normal(size=shape), rng.normal(size=shape)
        calls.append(Call("update_ratio", (w, dw, lr)))
    w = rng.normal(size=(6, 5))
    calls += [
        Call("update_ratio", (w, w, 0.5), label="w, dw=w, lr=0.5: a step of half of w"),
        Call("update_ratio", (10 * w, w, 0.5), label="10 w, dw=w, lr=0.5"),
        Call("update_ratio", (w, -w, 0.5), label="w, dw=-w, lr=0.5"),
    ]
    return calls


def _judge_update_ratio(calls, outcomes):
    failures = []
    for call, outcome in returned(calls, outcomes, failures):
        got, why = _number(outcome.value)
        if why is None:
            why = close(got, monitoring.sgd_update_ratio(*call.args), rtol=1e-9, atol=0.0)
        if why:
            failures.append(
                f"{describe(call)}: the result {why}"
                if why.startswith("is ")
                else f"{describe(call)}: {why}"
            )
    return failures


# ------------------------------------------------------------------ momentum_update_ratios
def _momentum_calls():
    rng = np.random.default_rng(2025)
    shapes = {"W1": (32, 16), "W2": (16, 16), "W3": (16, 4), "b1": (16,)}
    weights = {k: rng.normal(0.0, 0.3, size=s) for k, s in shapes.items()}
    velocities = {k: np.zeros(s) for k, s in shapes.items()}
    drift = {k: rng.normal(0.0, 0.05, size=s) for k, s in shapes.items()}
    calls = []
    # a run of steps whose gradients share a drift (the velocities build up), then a turn,
    # then plain SGD (momentum 0) and a heavy momentum; each call on the reference's state
    for step, (lr, mu) in enumerate([(0.02, 0.9)] * 5 + [(0.05, 0.5), (0.1, 0.0), (0.003, 0.99)]):
        sign = -3.0 if step == 5 else 1.0
        grads = {k: sign * drift[k] + rng.normal(0.0, 0.02, size=s) for k, s in shapes.items()}
        grads = dict(reversed(list(grads.items())))  # the names pair the layers, not the order
        calls.append(
            Call(
                "momentum_update_ratios",
                (weights, grads, velocities, lr, mu),
                label=f"step {step + 1} of a run, lr={lr:g}, momentum={mu:g}",
            )
        )
        velocities = {k: mu * velocities[k] + grads[k] for k in weights}
        weights = {k: weights[k] - lr * velocities[k] for k in weights}
    w, g = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    calls.append(
        Call(
            "momentum_update_ratios",
            ({"W": w}, {"W": g}, {"W": np.zeros((5, 4))}, 0.1),
            label="one layer, the default momentum",
        )
    )
    calls.append(
        Call(
            "momentum_update_ratios",
            ({"W": w}, {"W": g}, {"W": -g / 0.9}, 0.1, 0.9),
            label="a velocity that cancels the gradient",
        )
    )
    for label, bad in [
        ("grads names another layer", ({"W1": w}, {"W2": g}, {"W1": g})),
        ("velocities has an extra layer", ({"W1": w}, {"W1": g}, {"W1": g, "W2": g})),
        ("grads has another shape", ({"W1": w}, {"W1": g.T}, {"W1": g})),
        ("velocities has another shape", ({"W1": w}, {"W1": g}, {"W1": g[:, :1]})),
    ]:
        calls.append(Call("momentum_update_ratios", (*bad, 0.01, 0.9), label=label))
    return calls


def _expects_error(call) -> bool:
    weights, grads, velocities = call.args[:3]
    return not (
        set(weights) == set(grads) == set(velocities)
        and all(weights[k].shape == grads[k].shape == velocities[k].shape for k in weights)
    )


def _dicts_unchanged(call, outcome) -> list:
    """The generic check sees arrays only: the dicts' arrays are compared here."""
    for i, (before, after) in enumerate(zip(call.args[:3], outcome.args_after[:3])):
        if not (
            isinstance(after, dict)
            and set(after) == set(before)
            and all(
                isinstance(after[k], np.ndarray)
                and after[k].shape == before[k].shape
                and np.array_equal(after[k], before[k])
                for k in before
            )
        ):
            name = ("weights", "grads", "velocities")[i]
            return [f"{describe(call)} changed {name} in place; measure the step, do not take it"]
    return []


def _judge_momentum(calls, outcomes):
    failures = []
    for call, outcome in zip(calls, outcomes):
        failures += _dicts_unchanged(call, outcome)
        if _expects_error(call):
            if outcome.ok or outcome.error[0] != "ValueError":
                failures.append(
                    f"{describe(call)} must raise ValueError; it "
                    f"{raised(outcome) or 'returned a value'}"
                )
            continue
        if not outcome.ok:
            failures.append(f"{describe(call)} {raised(outcome)}")
            continue
        want = monitoring.momentum_update_ratios(*call.args)
        got = outcome.value
        if not isinstance(got, dict) or set(got) != set(want):
            keys = sorted(got)[:8] if isinstance(got, dict) else type(got).__name__
            failures.append(
                f"{describe(call)} must return {{layer name: ratio}} for the layers "
                f"{sorted(want)}; got {keys}"
            )
            continue
        for name in want:
            value, why = _number(got[name])
            if why is None:
                why = close(value, want[name], rtol=1e-9, atol=1e-15, what=f"the ratio of {name}")
            else:
                why = f"the ratio of {name} {why}"
            if why:
                failures.append(f"{describe(call)}: {why}")
    return failures


EXERCISES = [
    Exercise(
        "update_ratio_tests",
        hides=("update_ratio",),
        calls=_update_ratio_calls,
        judge=_judge_update_ratio,
    ),
    Exercise(
        "momentum_update_ratios_tests",
        hides=("momentum_update_ratios",),
        calls=_momentum_calls,
        judge=_judge_momentum,
    ),
]
