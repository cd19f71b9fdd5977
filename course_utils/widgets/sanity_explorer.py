"""Chapter 08's explorer: the step h of a numerical derivative, truncation against round-off."""

from __future__ import annotations

import ipywidgets
import numpy as np
from matplotlib.figure import Figure

from course_utils import gradcheck
from course_utils.plots import check_figure_size
from course_utils.widgets.base import Explorer, LogSlider

__all__ = ["StepView", "SanityExplorer", "sanity_explorer"]

COLOURS = {"centred": "C0", "forward": "C1"}


class StepView:
    """One log-log axes with fixed limits: the measured error over the grid of h, the two
    error models (truncation, round-off), and the chosen h as a marker and a vertical line.

    Every artist that moves is animated (blitted over a cached background).
    """

    def __init__(self, figure: Figure, animated: bool = True):
        self.figure = figure
        ax = figure.add_axes((0.1, 0.16, 0.86, 0.74))
        ax.set(xscale="log", yscale="log", xlim=(1e-12, 1e-1), ylim=(1e-16, 10),
               xlabel="step h", ylabel="|difference quotient - tanh'(0.5)|")
        ax.set_title("Error of the numerical derivative of tanh at 0.5", fontsize=10)
        self.ax = ax
        (self.errors,) = ax.plot([], [], "-", lw=1.5, label="measured", animated=animated)
        (self.truncation,) = ax.plot([], [], "--", lw=1, color="0.4",
                                     label="truncation model", animated=animated)
        (self.roundoff,) = ax.plot([], [], ":", lw=1.2, color="0.2",
                                   label="round-off model ε|f|/h", animated=animated)
        self.cursor = ax.axvline(1e-5, color="C3", lw=0.8, animated=animated)
        (self.marker,) = ax.plot([], [], "o", color="C3", ms=6, animated=animated)
        ax.axhline(1e-7, color="k", lw=0.6, alpha=0.5)
        ax.text(2e-12, 1.6e-7, "1e-7", fontsize=8, alpha=0.7)
        ax.legend(loc="upper right", fontsize=8)
        self.artists = [self.errors, self.truncation, self.roundoff, self.cursor, self.marker]

    def update(self, result: gradcheck.StepTradeoff) -> list:
        floor = 1e-16  # an exact quotient has error 0: draw it at the bottom of the axes
        self.errors.set_data(result.steps, np.maximum(result.errors, floor))
        self.errors.set_color(COLOURS[result.method])
        self.truncation.set_data(result.steps, np.maximum(result.truncation, floor))
        self.roundoff.set_data(result.steps, result.roundoff)
        self.cursor.set_xdata([result.h, result.h])
        self.marker.set_data([result.h], [max(result.error, floor)])
        return self.artists


class SanityExplorer(Explorer):
    """Drag the step h, switch centred/forward and float64/float32: the error curve, its two
    models and the chosen point redraw in place.

    ``result`` is :func:`course_utils.gradcheck.step_tradeoff` for the controls' values.
    """

    def __init__(self, h=1e-5, method="centred", dtype="float64", figsize=(7.5, 3.6), dpi=96):
        check_figure_size(figsize, dpi)
        self.view = StepView(Figure(figsize=figsize, dpi=dpi), animated=True)
        style = {"description_width": "60px"}
        controls = {
            "h": LogSlider(min=-12, max=-1, step=0.1, value=1e-5, description="h",
                           style=style, readout_format=".1e"),
            "method": ipywidgets.Dropdown(options=gradcheck.METHODS, description="method",
                                          style=style),
            "dtype": ipywidgets.Dropdown(options=("float64", "float32"), description="dtype",
                                         style=style),
        }
        super().__init__(controls, self.view.figure, h=h, method=method, dtype=dtype)

    def compute(self, h, method, dtype):
        return gradcheck.step_tradeoff(h, method, dtype)

    def render(self, result, h, method, dtype) -> list:
        return self.view.update(result)

    def background_key(self, h, method, dtype):
        return "fixed"  # fixed limits, labels and legend: only the curves move

    def describe(self, result, h, method, dtype) -> str:
        return (f"h = {result.h:.1e}: quotient {result.quotient:.10f}, exact "
                f"{result.exact:.10f}, error {result.error:.1e}; best h on the grid "
                f"{result.best_h:.0e} (error {result.best_error:.0e})")

    def warning(self, result) -> str:
        if result.error > 1e-7:
            return (f"error {result.error:.1e} > 1e-7: with this h and precision a correct "
                    "gradient would fail a 1e-7 check")
        return ""


def sanity_explorer(**start) -> SanityExplorer:
    """Build chapter 08's explorer; keyword arguments set the controls' starting values.

    Accepted: ``h`` (1e-12 to 0.1), ``method`` (``"centred"``, ``"forward"``), ``dtype``
    (``"float64"``, ``"float32"``), and ``figsize``, ``dpi``. See :class:`SanityExplorer`.
    """
    return SanityExplorer(**start)
