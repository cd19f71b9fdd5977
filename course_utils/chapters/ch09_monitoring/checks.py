"""Chapter 09's exercises: the update-to-weight ratio of an SGD step, and of every layer for one
step of SGD with momentum.

Each check computes the expected values first, with the course's references, then calls the
student's function inside :func:`course_utils.references.hidden`, so an answer that calls a
reference fails with :class:`~course_utils.references.ReferenceUnavailable`. A wrong value is
compared with what the usual mistakes give, and the message names the mistake it matches.
"""

from __future__ import annotations

import math
from typing import Callable

from course_utils.checking import call_answer

__all__ = [
    "UPDATE_RATIO_TOL",
    "update_ratio_check_cases",
    "update_ratio_mistakes",
    "check_update_ratio",
    "MOMENTUM_RATIOS_TOL",
    "momentum_ratios_check_cases",
    "momentum_ratios_mistakes",
    "check_momentum_update_ratios",
]


#: Chapter 09's first exercise: relative tolerance of the visible check.
UPDATE_RATIO_TOL = 1e-6
#: Chapter 09's second exercise: relative tolerance of the visible check, per layer.
MOMENTUM_RATIOS_TOL = 1e-6
#: A wrong answer "is" a known mistake if it agrees with it this closely (relative): the same
#: formula differs only by rounding (~1e-15), other formulas by far more.
_SAME = 1e-9


def _number(value):
    """``value`` as a finite or non-finite float, or ``None`` if it is not one number."""
    import numpy as np

    if isinstance(value, (bool, str, bytes)) or value is None:
        return None
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return float(array) if array.shape == () else None


def _short(value) -> str:
    """``value`` for a message: an array as its shape, anything else as a cut repr."""
    shape = getattr(value, "shape", None)
    if isinstance(shape, tuple) and shape != ():
        return f"an array of shape {shape}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _close(got: float, want: float, rel_tol: float) -> bool:
    return math.isfinite(got) and math.isclose(got, want, rel_tol=rel_tol, abs_tol=1e-300)


# ------------------------------------------------------------------ exercise 1: update_ratio
def update_ratio_check_cases():
    """The visible check's cases: ``(label, w, dw, lr)``, float64 arrays.

    Chosen so that each plausible slip gives a different number: lr is never 1 (a forgotten
    lr shows), ratios are not 1 (a squared norm shows), one step is large, ratio ~0.5 (dividing
    by the weights *after* the step shows), and matrices are not rank one (a spectral norm,
    ``np.linalg.norm(w, 2)``, shows).
    """
    import numpy as np

    rng = np.random.default_rng(9)
    w = rng.normal(0.0, 0.1, size=(64, 32))
    dw = rng.normal(0.0, 0.02, size=(64, 32))
    big_w = rng.normal(0.0, 1.0, size=(5, 4))
    return [
        ("a typical layer, lr=0.01", w, dw, 0.01),
        ("the same layer, lr=3e-4", w, dw, 3e-4),
        ("a large step, lr=0.5", big_w, rng.normal(0.0, 1.0, size=(5, 4)), 0.5),
        ("a bias vector, lr=0.1", rng.normal(0.0, 0.5, size=10), rng.normal(size=10), 0.1),
    ]


def update_ratio_mistakes(w, dw, lr) -> dict:
    """What the usual wrong answers give on ``(w, dw, lr)``: ``{hint: value}``."""
    import numpy as np

    from course_utils.monitoring import sgd_update_ratio

    sgd_update_ratio(w, dw, lr)  # the reference's checks of the arguments (ValueError)
    w, dw = np.asarray(w, dtype=np.float64), np.asarray(dw, dtype=np.float64)

    def norm(a):
        return float(np.linalg.norm(np.ravel(a)))

    def spectral(a):
        return float(np.linalg.norm(a, 2)) if a.ndim == 2 else norm(a)

    step, right = lr * dw, norm(lr * dw) / norm(w)
    with np.errstate(all="ignore"):
        candidates = {
            "the learning rate is missing: the step is lr * dw, not dw": norm(dw) / norm(w),
            "lr is applied twice (lr**2): the step is lr * dw": norm(lr * step) / norm(w),
            "the norms are squared: take the square root of the sums of squares (np.linalg.norm)": right
            ** 2,
            "the ratio is upside down: ||lr * dw|| / ||w||, the step over the weights": norm(w)
            / norm(step),
            "you divided by the weights after the step (w - lr * dw): w is the weights before "
            "it": norm(step) / norm(w - step),
            "you divided by w + lr * dw: the denominator is the weights before the step, w": norm(
                step
            )
            / norm(w + step),
            "that is the spectral norm (np.linalg.norm(w, 2) of a matrix): use the Frobenius "
            "norm, every entry (np.linalg.norm(w) or of w.ravel())": spectral(step) / spectral(w),
            "that is a ratio of mean absolute values: use Frobenius norms, sqrt(sum(a**2))": float(
                np.mean(np.abs(step)) / np.mean(np.abs(w))
            ),
            "that is the mean of the element-wise ratios |lr * dw| / |w|: divide the two "
            "norms, one number per layer": float(np.mean(np.abs(step) / np.abs(w))),
        }
    return {hint: value for hint, value in candidates.items() if math.isfinite(value)}


def _diagnose(got: float, mistakes: dict, want: float, tol: float) -> str:
    for hint, value in mistakes.items():
        if _close(got, value, _SAME):
            return hint
    if not math.isfinite(got):
        return "the result is NaN or infinite: is a norm 0, or a division by an empty sum?"
    if want != 0 and got != 0:
        return (
            f"it is {got / want:.3g} times the expected value; the formula is "
            "||lr * dw|| / ||w||, Frobenius norms, w before the step"
        )
    return "the formula is ||lr * dw|| / ||w||, Frobenius norms, w before the step"


def check_update_ratio(update_ratio: Callable) -> None:
    """Chapter 09's exercise: ``update_ratio(w, dw, lr) -> float``, the size of the SGD step
    ``-lr * dw`` relative to the weights ``w`` *before* it, in Frobenius norms.

    Compared with :func:`course_utils.monitoring.sgd_update_ratio` (computed first; the
    student's function runs inside ``references.hidden("update_ratio")``) on
    :func:`update_ratio_check_cases` within :data:`UPDATE_RATIO_TOL` (relative); the input
    arrays must not be changed. A wrong value is matched against
    :func:`update_ratio_mistakes` to say which slip it is.
    """
    import numpy as np

    from course_utils.monitoring import sgd_update_ratio

    if not callable(update_ratio):
        raise TypeError(f"update_ratio must be a function; got {type(update_ratio).__name__}")
    for label, w, dw, lr in update_ratio_check_cases():
        call = f"update_ratio(w {w.shape}, dw, lr={lr:g})"
        want = sgd_update_ratio(w, dw, lr)
        mistakes = update_ratio_mistakes(w, dw, lr)
        w_in, dw_in = w.copy(), dw.copy()
        got = call_answer("update_ratio", call, update_ratio, w_in, dw_in, lr)
        problem = None
        if not (np.array_equal(w_in, w) and np.array_equal(dw_in, dw)):
            problem = (
                "changed w or dw in place: measure the step, do not take it "
                "(w is the weights before the step; compute lr * dw as a new array)"
            )
        else:
            value = _number(got)
            if value is None:
                problem = f"returned {_short(got)}: expected one number (a float)"
            elif not _close(value, want, UPDATE_RATIO_TOL):
                problem = (
                    f"= {value:.6g}, expected {want:.6g}: "
                    f"{_diagnose(value, mistakes, want, UPDATE_RATIO_TOL)}"
                )
        if problem:
            print(f"WRONG {call} ({label}) {problem}")
            raise AssertionError(
                f"{call} ({label}) {problem} (relative tolerance {UPDATE_RATIO_TOL:g})"
            )
        print(f"ok  {call} ({label}) = {value:.6g}")
    print(f"All visible checks passed (relative tolerance {UPDATE_RATIO_TOL:g}).")


# ------------------------------------------------------------------ exercise 2: momentum
def momentum_ratios_check_cases():
    """The visible check's cases: ``(label, weights, grads, velocities, lr, momentum)``.

    Three layers of different scales. The first step (zero velocities) equals plain SGD; the
    second has velocities that point along the gradients (a steady descent, where the step is
    several times ``lr * g``); the third has a layer whose velocity points against its
    gradient (a turn) and momentum 0.5, so that every usual slip (the old velocity, the plain
    SGD step, an averaged velocity, the lecture's sign convention, the weights after the step,
    one ratio for all layers) gives another number.
    """
    import numpy as np

    rng = np.random.default_rng(99)
    shapes = {"W1": (16, 8), "W2": (8, 8), "W3": (8, 3)}
    scales = {"W1": 0.35, "W2": 0.5, "W3": 0.8}
    weights = {k: rng.normal(0.0, scales[k], size=s) for k, s in shapes.items()}
    grads = {k: rng.normal(0.0, 0.05 * scales[k], size=s) for k, s in shapes.items()}
    zeros = {k: np.zeros(s) for k, s in shapes.items()}
    steady = {k: 6.0 * grads[k] + rng.normal(0.0, 0.01, size=s) for k, s in shapes.items()}
    turning = {
        "W1": 3.0 * grads["W1"] + rng.normal(0.0, 0.01, size=shapes["W1"]),
        "W2": -4.0 * grads["W2"] + rng.normal(0.0, 0.01, size=shapes["W2"]),
        "W3": rng.normal(0.0, 0.3, size=shapes["W3"]),
    }
    return [
        ("first step (zero velocities), lr=0.01, momentum=0.9", weights, grads, zeros, 0.01, 0.9),
        ("a steady descent (v along g), lr=0.01, momentum=0.9", weights, grads, steady, 0.01, 0.9),
        (
            "a turn (W2's velocity against its gradient), lr=0.05, momentum=0.5",
            weights,
            grads,
            turning,
            0.05,
            0.5,
        ),
    ]


def momentum_ratios_mistakes(weights, grads, velocities, lr, momentum) -> dict:
    """What the usual wrong answers give: ``{hint: {layer: ratio}}``."""
    import numpy as np

    from course_utils.monitoring import momentum_update_ratios

    momentum_update_ratios(weights, grads, velocities, lr, momentum)  # checks (ValueError)
    weights, grads, velocities = (
        {k: np.asarray(v, dtype=np.float64) for k, v in d.items()}
        for d in (weights, grads, velocities)
    )

    def norm(a):
        return float(np.linalg.norm(np.ravel(a)))

    mu = momentum
    new_v = {k: mu * velocities[k] + grads[k] for k in weights}
    lecture = {k: mu * velocities[k] - lr * grads[k] for k in weights}
    total_step = math.sqrt(sum(norm(lr * new_v[k]) ** 2 for k in weights))
    total_w = math.sqrt(sum(norm(weights[k]) ** 2 for k in weights))
    per_layer = {
        "that is the plain SGD step lr * g: with momentum the step is lr * v_new, the velocity "
        "after its update v_new = momentum * v + g (several times lr * g in a steady descent)": lambda k: (
            norm(lr * grads[k]) / norm(weights[k])
        ),
        "that is the velocity before the step (lr * v): update it first, v_new = "
        "momentum * v + g, and measure lr * v_new": lambda k: (
            norm(lr * velocities[k]) / norm(weights[k])
        ),
        "the learning rate is missing: the step is lr * v_new, not v_new": lambda k: (
            norm(new_v[k]) / norm(weights[k])
        ),
        "that velocity is an average, momentum * v + (1 - momentum) * g: PyTorch's buffer adds "
        "the whole gradient, v_new = momentum * v + g": lambda k: (
            norm(lr * (mu * velocities[k] + (1 - mu) * grads[k])) / norm(weights[k])
        ),
        "that is the lecture's convention, v = momentum * v - lr * g: here the velocities are "
        "PyTorch's buffers, v_new = momentum * v + g, and the step is lr * v_new": lambda k: (
            norm(lecture[k]) / norm(weights[k])
        ),
        "the gradient has the wrong sign in the velocity: v_new = momentum * v + g": lambda k: (
            norm(lr * (mu * velocities[k] - grads[k])) / norm(weights[k])
        ),
        "that is Nesterov's step, lr * (g + momentum * v_new): plain (heavy-ball) momentum "
        "steps by lr * v_new": lambda k: norm(lr * (grads[k] + mu * new_v[k])) / norm(weights[k]),
        "you divided by the weights after the step (w - lr * v_new): w is the weights before it": lambda k: (
            norm(lr * new_v[k]) / norm(weights[k] - lr * new_v[k])
        ),
        "the norms are squared: take the square root of the sums of squares (np.linalg.norm)": lambda k: (
            (norm(lr * new_v[k]) / norm(weights[k])) ** 2
        ),
        "that is one ratio for the whole network (all layers' norms together): compute one "
        "ratio per layer, each with its own weights": lambda k: total_step / total_w,
    }
    out = {}
    with np.errstate(all="ignore"):
        for hint, ratio in per_layer.items():
            values = {k: ratio(k) for k in weights}
            if all(math.isfinite(v) for v in values.values()):
                out[hint] = values
    return out


def _momentum_call(weights, lr, momentum) -> str:
    return (
        f"momentum_update_ratios(<{len(weights)} layers {', '.join(weights)}>, grads, "
        f"velocities, lr={lr:g}, momentum={momentum:g})"
    )


def _copy_dict(d):
    return {k: v.copy() for k, v in d.items()}


def _unchanged(before: dict, after: dict) -> bool:
    import numpy as np

    return (
        isinstance(after, dict)
        and set(after) == set(before)
        and all(
            isinstance(after[k], np.ndarray)
            and after[k].shape == before[k].shape
            and np.array_equal(after[k], before[k])
            for k in before
        )
    )


def _judge_ratios(got, want: dict, mistakes: dict, tol: float):
    """``None`` if ``got`` (the student's dict) matches ``want``, else what is wrong."""
    if not isinstance(got, dict):
        return (
            f"returned a {type(got).__name__}: expected a dict {{layer name: ratio}} with "
            f"the keys {sorted(want)}"
        )
    if set(got) != set(want):
        return (
            f"returned the keys {sorted(map(str, got))[:8]}: expected one ratio per layer, "
            f"keyed by the same names as weights, {sorted(want)}"
        )
    values = {k: _number(got[k]) for k in want}
    bad = [k for k, v in values.items() if v is None]
    if bad:
        return f"the ratio of {bad[0]} is {_short(got[bad[0]])}: expected one number per layer"
    wrong = [k for k in want if not _close(values[k], want[k], tol)]
    if not wrong:
        return None
    shown = ", ".join(f"{k} = {values[k]:.6g} (expected {want[k]:.6g})" for k in wrong)
    for hint, candidate in mistakes.items():
        if all(_close(values[k], candidate[k], _SAME) for k in want):
            return f"{shown}: {hint}"
    if any(not math.isfinite(values[k]) for k in wrong):
        return f"{shown}: a ratio is NaN or infinite"
    return (
        f"{shown}: the step of SGD with momentum is lr * v_new, v_new = momentum * v + g; "
        "the ratio is ||lr * v_new|| / ||w||, Frobenius norms, per layer, w before the step"
    )


def check_momentum_update_ratios(momentum_update_ratios: Callable) -> None:
    """Chapter 09's second exercise: ``momentum_update_ratios(weights, grads, velocities, lr,
    momentum=0.9) -> {layer: ratio}``, the update-to-weight ratio of every layer for one step
    of SGD with momentum in PyTorch's convention (``v_new = momentum * v + g``,
    ``w_new = w - lr * v_new``).

    Compared with :func:`course_utils.monitoring.momentum_update_ratios` (computed first; the
    student's function runs inside ``references.hidden("momentum_update_ratios")``) on
    :func:`momentum_ratios_check_cases` within :data:`MOMENTUM_RATIOS_TOL` (relative, per
    layer); the input dicts and arrays must not be changed; layer names or shapes that differ
    between the dicts must raise ``ValueError``. A wrong answer is matched against
    :func:`momentum_ratios_mistakes` to say which slip it is.
    """
    from course_utils.monitoring import momentum_update_ratios as reference

    if not callable(momentum_update_ratios):
        raise TypeError(
            "momentum_update_ratios must be a function; got "
            f"{type(momentum_update_ratios).__name__}"
        )
    for label, weights, grads, velocities, lr, momentum in momentum_ratios_check_cases():
        call = _momentum_call(weights, lr, momentum)
        want = reference(weights, grads, velocities, lr, momentum)
        mistakes = momentum_ratios_mistakes(weights, grads, velocities, lr, momentum)
        inputs = [_copy_dict(d) for d in (weights, grads, velocities)]
        got = call_answer(
            "momentum_update_ratios", call, momentum_update_ratios, *inputs, lr, momentum
        )
        changed = [
            name
            for name, before, after in zip(
                ("weights", "grads", "velocities"), (weights, grads, velocities), inputs
            )
            if not _unchanged(before, after)
        ]
        if changed:
            problem = (
                f"changed {changed[0]} in place: measure the step, do not take it "
                "(v_new = momentum * v + g makes a new array; v *= momentum or "
                "w -= ... change the caller's arrays)"
            )
        else:
            problem = _judge_ratios(got, want, mistakes, MOMENTUM_RATIOS_TOL)
        if problem:
            print(f"WRONG {call} ({label}): {problem}")
            raise AssertionError(
                f"{call} ({label}): {problem} (relative tolerance {MOMENTUM_RATIOS_TOL:g})"
            )
        print(f"ok  {label}: " + ", ".join(f"{k} {v:.4g}" for k, v in want.items()))

    weights, grads, velocities = momentum_ratios_check_cases()[0][1:4]
    narrow = {**grads, "W2": grads["W2"][:, :1]}  # (8, 1): NumPy would broadcast it silently
    for what, g, v in (
        (
            "grads names other layers",
            {"W1": grads["W1"], "W9": grads["W2"], "W3": grads["W3"]},
            velocities,
        ),
        ("velocities lacks a layer", grads, {"W1": velocities["W1"], "W2": velocities["W2"]}),
        ("grads['W2'] has shape (8, 1), weights['W2'] (8, 8)", narrow, velocities),
    ):
        call = f"momentum_update_ratios(...) where {what}"
        try:
            call_answer(
                "momentum_update_ratios",
                call,
                momentum_update_ratios,
                _copy_dict(weights),
                _copy_dict(g),
                _copy_dict(v),
                0.01,
                0.9,
            )
        except ValueError:
            print(f"ok  {call}: ValueError")
            continue
        except Exception as error:  # noqa: BLE001 - any other outcome is the wrong error
            problem = f"raised {type(error).__name__}: {error}"
        else:
            problem = "returned without an error"
        problem += (
            "; it must raise ValueError naming the layers or shapes (check that the "
            "three dicts have the same keys, and each layer one shape, before "
            "computing anything)"
        )
        print(f"WRONG {call}: {problem}")
        raise AssertionError(f"{call}: {problem}")
    print(f"All visible checks passed (relative tolerance {MOMENTUM_RATIOS_TOL:g}).")
