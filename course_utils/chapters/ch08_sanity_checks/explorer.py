"""Chapter 08's explorer: the step h of a numerical derivative, truncation against round-off.

:func:`step_tradeoff` is its computation (the measured error of
:func:`~course_utils.chapters.ch08_sanity_checks.runs.difference_errors` and its two models).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from course_utils import activations
from course_utils.chapters.ch08_sanity_checks.runs import difference_errors
from course_utils.gradcheck import METHODS
from course_utils.validation import check_choice, check_int, check_real
from course_utils.widgets.base import Explorer, LogSlider, check_start, make_controls, new_figure

__all__ = [
    "EPSILON",
    "StepTradeoff",
    "step_tradeoff",
    "StepView",
    "SanityExplorer",
    "sanity_explorer",
    "START",
]


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


COLOURS = {"centred": "C0", "forward": "C1"}


class StepView:
    """One log-log axes with fixed limits: the measured error over the grid of h, the two
    error models (truncation, round-off), and the chosen h as a marker and a vertical line.

    Every artist that moves is animated (blitted over a cached background).
    """

    def __init__(self, figure: Figure, animated: bool = True):
        if not isinstance(figure, Figure):
            raise ValueError(f"figure must be a matplotlib Figure; got {figure!r:.60}")
        self.figure = figure
        ax = figure.add_axes((0.1, 0.16, 0.86, 0.74))
        ax.set(
            xscale="log",
            yscale="log",
            xlim=(1e-12, 1e-1),
            ylim=(1e-16, 10),
            xlabel="step h",
            ylabel="|difference quotient - tanh'(0.5)|",
        )
        ax.set_title("Error of the numerical derivative of tanh at 0.5", fontsize=10)
        self.ax = ax
        (self.errors,) = ax.plot([], [], "-", lw=1.5, label="measured", animated=animated)
        (self.truncation,) = ax.plot(
            [], [], "--", lw=1, color="0.4", label="truncation model", animated=animated
        )
        (self.roundoff,) = ax.plot(
            [], [], ":", lw=1.2, color="0.2", label="round-off model ε|f|/h", animated=animated
        )
        self.cursor = ax.axvline(1e-5, color="C3", lw=0.8, animated=animated)
        (self.marker,) = ax.plot([], [], "o", color="C3", ms=6, animated=animated)
        ax.axhline(1e-7, color="k", lw=0.6, alpha=0.5)
        ax.text(2e-12, 1.6e-7, "1e-7", fontsize=8, alpha=0.7)
        ax.legend(loc="upper right", fontsize=8)
        self.artists = [self.errors, self.truncation, self.roundoff, self.cursor, self.marker]

    def update(self, result: StepTradeoff) -> list:
        floor = 1e-16  # an exact quotient has error 0: draw it at the bottom of the axes
        self.errors.set_data(result.steps, np.maximum(result.errors, floor))
        self.errors.set_color(COLOURS[result.method])
        self.truncation.set_data(result.steps, np.maximum(result.truncation, floor))
        self.roundoff.set_data(result.steps, result.roundoff)
        self.cursor.set_xdata([result.h, result.h])
        self.marker.set_data([result.h], [max(result.error, floor)])
        return self.artists


#: The controls' starting values; each control is declared once, in :func:`_controls`.
START = dict(h=1e-5, method="centred", dtype="float64")


def _controls() -> dict:
    """The explorer's controls, named as :func:`step_tradeoff`'s arguments."""
    return make_controls(
        h=LogSlider(  # a ready control for its readout, 1.0e-05
            min=-12,
            max=-1,
            step=0.1,
            value=1e-12,
            description="h",
            readout_format=".1e",
            style={"description_width": "initial"},
        ),
        method=METHODS,
        dtype=tuple(EPSILON),
    )


class SanityExplorer(Explorer):
    """Drag the step h, switch centred/forward and float64/float32: the error curve, its two
    models and the chosen point redraw in place.

    ``result`` is :func:`step_tradeoff` for the controls' values (keyword arguments ``h``,
    ``method``, ``dtype``; defaults 1e-5, centred, float64).
    """

    def __init__(self, figsize=(7.5, 3.6), dpi=96, **start):
        controls = _controls()
        check_start(controls, start)  # before the figure (~1 s to build): a mistake costs none
        self.view = StepView(new_figure(figsize, dpi), animated=True)
        super().__init__(controls, self.view.figure, **{**START, **start})

    def compute(self, h, method, dtype):
        return step_tradeoff(h, method, dtype)

    def render(self, result, h, method, dtype) -> list:
        return self.view.update(result)

    def background_key(self, h, method, dtype):
        return "fixed"  # fixed limits, labels and legend: only the curves move

    def describe(self, result, h, method, dtype) -> str:
        return (
            f"h = {result.h:.1e}: quotient {result.quotient:.10f}, exact "
            f"{result.exact:.10f}, error {result.error:.1e}; best h on the grid "
            f"{result.best_h:.0e} (error {result.best_error:.0e})"
        )

    def warning(self, result) -> str:
        if result.error > 1e-7:
            return (
                f"error {result.error:.1e} > 1e-7: with this h and precision a correct "
                "gradient would fail a 1e-7 check"
            )
        return ""


def sanity_explorer(**start) -> SanityExplorer:
    """Build chapter 08's explorer; keyword arguments set the controls' starting values.

    Accepted: ``h`` (1e-12 to 0.1), ``method`` (``"centred"``, ``"forward"``), ``dtype``
    (``"float64"``, ``"float32"``), and ``figsize``, ``dpi``. See :class:`SanityExplorer`.
    """
    return SanityExplorer(**start)
