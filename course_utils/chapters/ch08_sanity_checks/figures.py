"""Chapter 08's figures: the explorer's view of the step h (truncation against round-off).

:class:`StepView` builds its axes once with fixed limits and updates its curves in place
from a :class:`~course_utils.chapters.ch08_sanity_checks.runs_step_tradeoff.StepTradeoff`;
:func:`decade_ticks` gives a notebook figure's log axis plain decade labels.
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullLocator

from course_utils.chapters.ch08_sanity_checks.runs_step_tradeoff import StepTradeoff

__all__ = ["StepView", "decade_ticks"]

#: Colour of the measured error per method.
COLOURS = {"centred": "C0", "forward": "C1"}


def decade_ticks(ax: Axes, axis: str = "both") -> None:
    """Label a log axis's decades in plain text (``1e-05``, ``0.01``) and drop its minor ticks.

    matplotlib's default log labels are mathtext (:math:`10^{-5}`) plus unlabelled minor ticks
    at 2..9 times each decade; laying those out is about a third of drawing a small figure.
    For figures read by orders of magnitude, the decades alone say it.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    axis : {"x", "y", "both"}
    """
    if not isinstance(ax, Axes):
        raise ValueError(f"ax must be a matplotlib Axes; got {ax!r:.60}")
    if axis not in ("x", "y", "both"):
        raise ValueError(f"axis must be 'x', 'y' or 'both'; got {axis!r}")
    label = FuncFormatter(lambda value, _: f"{value:g}")
    for name in ("x", "y") if axis == "both" else (axis,):
        target = ax.xaxis if name == "x" else ax.yaxis
        target.set_major_formatter(label)
        target.set_minor_locator(NullLocator())


class StepView:
    """One log-log axes with fixed limits: the measured error over the grid of h, the two
    error models (truncation, round-off), and the chosen h as a marker and a vertical line.

    Every artist that moves is animated (blitted over a cached background).
    """

    def __init__(self, figure: Figure, animated: bool = True):
        if not isinstance(figure, Figure):
            raise ValueError(f"figure must be a matplotlib Figure; got {figure!r:.60}")
        self.figure = figure
        ax = figure.add_axes((0.115, 0.16, 0.85, 0.74))
        ax.set(
            xscale="log",
            yscale="log",
            xlim=(1e-12, 1e-1),
            ylim=(1e-16, 10),
            xlabel="step h",
            ylabel="|difference quotient - tanh'(0.5)|",
        )
        ax.set_title("Error of the numerical derivative of tanh at 0.5", fontsize=10)
        decade_ticks(ax)  # plain decade labels: no mathtext parser to build (~0.3 s)
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
