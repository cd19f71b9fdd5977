"""Chapter 08's step-size explorer, its computation: truncation against round-off for tanh.

:func:`step_tradeoff` measures the error of the difference quotient of tanh over a grid of
steps ``h`` (with :func:`~course_utils.chapters.ch08_sanity_checks.runs.difference_errors`)
next to its two models, truncation and round-off, and returns a :class:`StepTradeoff`;
:data:`EPSILON` holds the machine epsilon of the two precisions it knows. The explorer
(:mod:`~course_utils.chapters.ch08_sanity_checks.explorer`) calls it on each move of its
controls and draws the result with
:class:`~course_utils.chapters.ch08_sanity_checks.figures.StepView`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from course_utils import activations
from course_utils.chapters.ch08_sanity_checks.runs import difference_errors
from course_utils.gradcheck import METHODS
from course_utils.validation import check_choice, check_int, check_real

__all__ = ["EPSILON", "StepTradeoff", "step_tradeoff"]

#: Machine epsilon of the two precisions :func:`step_tradeoff` knows.
EPSILON = {"float64": float(np.finfo(np.float64).eps), "float32": float(np.finfo(np.float32).eps)}


@dataclass(frozen=True)
class StepTradeoff:
    r"""The error of a difference quotient of tanh at ``x0`` over a grid of steps.

    Attributes
    ----------
    steps : ndarray, shape (K,)
        The grid of h, log-spaced from 1e-12 to 1e-1.
    errors : ndarray, shape (K,)
        Measured :math:`|\text{quotient} - \tanh'(x_0)|` (:func:`difference_errors`).
    truncation : ndarray, shape (K,)
        The model of the truncation error: :math:`\frac{h^2}{6}|f^{(3)}|` (centred) or
        :math:`\frac{h}{2}|f^{(2)}|` (forward).
    roundoff : ndarray, shape (K,)
        The model of the round-off error, :math:`\epsilon |f| / h`.
    h, quotient, exact, error : float
        The chosen step, the difference quotient there (in ``dtype``), :math:`\tanh'(x_0)`
        and the error.
    best_h, best_error : float
        The grid step with the smallest measured error, and that error.
    method, dtype : str
    """

    steps: np.ndarray
    errors: np.ndarray
    truncation: np.ndarray
    roundoff: np.ndarray
    h: float
    quotient: float
    exact: float
    error: float
    best_h: float
    best_error: float
    method: str
    dtype: str


def step_tradeoff(
    h: float = 1e-5,
    method: str = "centred",
    dtype: str = "float64",
    x0: float = 0.5,
    num: int = 111,
) -> StepTradeoff:
    r"""Truncation against round-off for the difference quotient of :math:`f = \tanh`.

    Parameters
    ----------
    h : float
        The step to report, between 1e-12 and 0.1.
    method : {"centred", "forward"}
    dtype : {"float64", "float32"}
    x0 : float
        The point, |x0| <= 3.
    num : int
        Grid points between 1e-12 and 1e-1 (2 to 1,000).

    Returns
    -------
    StepTradeoff
    """
    h = check_real("h", h, 1e-12, 0.1)
    method = check_choice("method", method, METHODS)
    dtype = check_choice("dtype", dtype, tuple(EPSILON))
    x0 = check_real("x0", x0, -3.0, 3.0)
    num = check_int("num", num, 2, 1000)
    steps = np.logspace(-12, -1, int(num))
    errors = difference_errors(np.tanh, activations.tanh_grad, float(x0), steps, method, dtype)
    t = math.tanh(x0)
    second = -2 * t * (1 - t * t)  # tanh''
    third = (1 - t * t) * (6 * t * t - 2)  # tanh'''
    truncation = steps**2 * abs(third) / 6 if method == "centred" else steps * abs(second) / 2
    roundoff = EPSILON[dtype] * abs(t) / steps
    exact = float(activations.tanh_grad(np.float64(x0)))
    kind = np.dtype(dtype).type
    x, step = kind(x0), kind(h)
    if method == "centred":
        quotient = float((np.tanh(x + step) - np.tanh(x - step)) / (kind(2) * step))
    else:
        quotient = float((np.tanh(x + step) - np.tanh(x)) / step)
    best = int(np.argmin(errors))
    return StepTradeoff(
        steps,
        errors,
        truncation,
        roundoff,
        h,
        quotient,
        exact,
        abs(quotient - exact),
        float(steps[best]),
        float(errors[best]),
        method,
        dtype,
    )
