"""Chapter 04's exercises: Batch Norm's forward pass in training mode, and its backward pass.

Both checks compute the expected values first (with :mod:`course_utils.batchnorm`), then run
the student's function inside ``references.hidden(...)``, so an answer that calls the course's
reference fails with ``ReferenceUnavailable``. A wrong value is compared with the usual wrong
answers (:func:`bn_forward_mistake`, :func:`bn_backward_mistake`) to say which one it looks
like. The forward check is here; the backward check is in
:mod:`~course_utils.chapters.ch04_batchnorm.checks_backward`, imported back here; how both call
and read an answer, in :mod:`~course_utils.chapters.ch04_batchnorm.checks_answers`.
"""

from __future__ import annotations

from typing import Callable

from course_utils.chapters.ch04_batchnorm import checks_backward
from course_utils.chapters.ch04_batchnorm.checks_answers import (
    as_float_array,
    eps_arguments,
    matches,
)
from course_utils.chapters.ch04_batchnorm.checks_backward import *  # noqa: F403 - one import of both checks
from course_utils.checking import call_answer

__all__ = [
    "BN_FORWARD_TOL",
    "bn_forward_cases",
    "bn_forward_mistake",
    "check_bn_forward",
    *checks_backward.__all__,
]

#: Absolute and relative tolerance of :func:`check_bn_forward` (float64 arithmetic).
BN_FORWARD_TOL = 1e-8


# ----------------------------------------------------------------------------- forward pass
def bn_forward_cases():
    """The batches :func:`check_bn_forward` tries: (name, x, gamma, beta, eps).

    ``eps=None``: the answer is called without ``eps``, so its default (1e-5) is used.
    """
    import numpy as np

    rng = np.random.default_rng(4)
    x1 = 3.0 + 2.0 * rng.standard_normal((4, 3))
    x2 = rng.standard_normal((16, 5)) * np.array([0.01, 0.1, 1.0, 10.0, 100.0])
    x3 = rng.standard_normal((2, 6))
    x4 = 0.2 * rng.standard_normal((8, 4))
    x5 = rng.standard_normal((5, 3))
    x5[:, 1] = 2.5  # a feature that is constant over the batch
    return [
        ("4 x 3, gamma 1, beta 0, eps by default", x1, np.ones(3), np.zeros(3), None),
        (
            "16 x 5, features of very different scales",
            x2,
            rng.uniform(0.5, 2.0, 5),
            rng.normal(0.0, 1.0, 5),
            1e-5,
        ),
        ("a batch of 2", x3, np.full(6, 2.0), np.full(6, -1.0), 1e-5),
        (
            "8 x 4, large eps = 0.1",
            x4,
            np.array([1.0, 2.0, 0.5, 3.0]),
            np.array([0.0, 1.0, -1.0, 0.5]),
            0.1,
        ),
        (
            "5 x 3, feature 1 constant over the batch",
            x5,
            np.array([1.5, 2.0, 0.5]),
            np.array([0.3, -0.7, 1.0]),
            1e-5,
        ),
    ]


def bn_forward_mistake(x, gamma, beta, eps, got) -> str:
    """The likely mistake behind a wrong ``got = bn_forward_train(x, gamma, beta, eps)``.

    Each usual wrong answer is computed here and compared with ``got`` (float64, the input's
    shape); the first that matches names the mistake. A generic hint if none does.
    """
    import numpy as np

    x = np.asarray(x, dtype=np.float64)
    mean, var = x.mean(axis=0), x.var(axis=0)
    centred = x - mean
    x_hat = centred / np.sqrt(var + eps)
    with np.errstate(all="ignore"):
        rows = (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True) + eps)
        candidates = [
            (
                gamma * centred / np.sqrt(x.var(axis=0, ddof=1) + eps) + beta,
                "You divided by the unbiased variance (N - 1, ddof=1). Batch Norm normalises with "
                "the biased one: np.var(x, axis=0), which divides by N.",
            ),
            (
                gamma * rows + beta,
                "You normalised each example (row) over its features, axis=1: that is Layer Norm. "
                "Batch Norm normalises each feature (column) over the batch: axis=0.",
            ),
            (
                gamma * centred / (np.sqrt(var) + eps) + beta,
                "eps goes inside the square root: sqrt(var + eps), not sqrt(var) + eps.",
            ),
            (
                gamma * centred / np.sqrt(var) + beta,
                "eps is missing: divide by sqrt(var + eps). It keeps a constant feature finite, "
                "and matters whenever var is not much larger than eps.",
            ),
            (
                gamma * centred / (var + eps) + beta,
                "You divided by the variance; divide by the standard deviation, sqrt(var + eps).",
            ),
            (
                gamma * centred + beta,
                "The features are centred but not scaled: divide by sqrt(var + eps) too.",
            ),
            (
                gamma * x / np.sqrt(var + eps) + beta,
                "The batch mean is not subtracted: x_hat = (x - mean) / sqrt(var + eps).",
            ),
            (
                beta * x_hat + gamma,
                "gamma and beta are swapped: gamma scales, beta shifts (gamma * x_hat + beta).",
            ),
            (
                gamma * (x_hat + beta),
                "The shift comes after the scale: gamma * x_hat + beta, not gamma * (x_hat + beta).",
            ),
            (x_hat, "gamma and beta are not applied: return gamma * x_hat + beta."),
            (x_hat + beta, "gamma is not applied: return gamma * x_hat + beta."),
            (gamma * x_hat, "beta is not added: return gamma * x_hat + beta."),
        ]
    for candidate, hint in candidates:
        if matches(got, candidate, BN_FORWARD_TOL):
            return hint
    return (
        "Normalise each feature (column, axis=0) with the batch's mean and biased variance "
        "(np.var, ddof=0), eps inside the square root, then scale by gamma and shift by beta."
    )


def check_bn_forward(bn_forward_train: Callable) -> None:
    """Chapter 04's exercise: Batch Norm's forward pass in training mode.

    ``bn_forward_train(x, gamma, beta, eps=1e-5)`` must return
    ``gamma * (x - mean) / sqrt(var + eps) + beta`` with the batch's per-feature mean and
    *biased* variance (over axis 0), as a new (N, D) float64 array, leaving its inputs
    unchanged. Compared with :func:`course_utils.batchnorm.batchnorm_forward` within
    :data:`BN_FORWARD_TOL` (absolute and relative), on the batches of
    :func:`bn_forward_cases`; the answer runs inside ``references.hidden("bn_forward")``.
    """
    import numpy as np

    from course_utils.batchnorm import batchnorm_forward

    if not callable(bn_forward_train):
        raise TypeError(
            f"bn_forward_train must be a function; got {type(bn_forward_train).__name__}"
        )
    for name, x, gamma, beta, eps in bn_forward_cases():
        kwargs, eps = eps_arguments(eps)
        want, _ = batchnorm_forward(x, gamma, beta, eps=eps)
        given = (x.copy(), gamma.copy(), beta.copy())
        got = call_answer(
            "bn_forward", f"bn_forward_train on '{name}'", bn_forward_train, *given, **kwargs
        )
        problem = hint = None
        array = as_float_array(got) if isinstance(got, np.ndarray) else None
        if not all(np.array_equal(a, b) for a, b in zip(given, (x, gamma, beta))):
            problem = "changed an input array (x, gamma or beta) in place"
            hint = (
                "Return a new array: x -= mean or x /= ... writes into the caller's batch; "
                "x - mean makes a new one."
            )
        elif isinstance(got, tuple):
            problem = f"returned a tuple of {len(got)} values, expected one NumPy array"
            hint = "Return only the output array (no cache: this exercise has no backward pass)."
        elif array is None:
            problem = f"returned a value of type {type(got).__name__}, expected a NumPy array"
            hint = "Work on whole arrays with NumPy (x.mean(axis=0), x.var(axis=0), broadcasting)."
        elif array.shape != x.shape:
            problem = f"returned shape {array.shape}, expected the input's shape {x.shape}"
            hint = (
                "Keep x's shape (N, D): the mean and variance have shape (D,) and broadcast "
                "over the rows; no ravel or reduction of the output."
            )
        elif not np.all(np.isfinite(array)):
            problem = "returned NaN or infinite values"
            hint = (
                "A feature that is constant over the batch has variance 0: with eps inside "
                "the square root, sqrt(0 + eps), its output is beta, not 0/0."
            )
        elif not np.allclose(array, want, rtol=BN_FORWARD_TOL, atol=BN_FORWARD_TOL):
            i, j = np.unravel_index(np.argmax(np.abs(array - want)), x.shape)
            problem = (
                f"gives {float(array[i, j]):.8g} at row {int(i)}, column {int(j)}; "
                f"expected {float(want[i, j]):.8g}"
            )
            hint = bn_forward_mistake(x, gamma, beta, eps, array)
            if not kwargs and hint.startswith("Normalise each feature"):
                hint += " Called without eps: is the default eps=1e-5?"
        if problem:
            print(f"WRONG {name}: {problem}")
            raise AssertionError(f"bn_forward_train on '{name}' {problem}. {hint}")
        print(f"ok  {name}")
    print(f"All visible checks passed (tolerance {BN_FORWARD_TOL:g}, absolute and relative).")
