"""Chapter 06's figures: the explorer's view of a learning-rate schedule.

:class:`ScheduleView` builds its axes once with fixed limits and updates the curve and the
warm-up marker in place from a schedule of
:func:`course_utils.schedules.explorer_schedule`.
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from course_utils.validation import check_bool, check_int

__all__ = ["ScheduleView", "LR_LIMITS", "MAX_EXPLORER_STEPS"]

#: The fixed y range of the lr axis (log): the base_lr slider's range, with room below for
#: decayed rates. Rates below the bottom (cosine's final 0) are drawn on the bottom edge.
LR_LIMITS = (1e-6, 20.0)
#: The longest schedule the explorer draws: one line of 100,000 points still redraws in
#: tens of milliseconds (the lessons use 1,000).
MAX_EXPLORER_STEPS = 100_000


class ScheduleView:
    """One axes: the lr of every step (log scale, fixed limits) and the end of the warm-up.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
    steps : int
        Length of the x axis.
    animated : bool
        Make the changing artists animated (the explorer blits them).
    """

    def __init__(self, figure: Figure, steps: int, animated: bool = False):
        if not isinstance(figure, Figure):
            raise ValueError(f"figure must be a matplotlib Figure; got {type(figure).__name__}")
        steps = check_int("steps", steps, 10, MAX_EXPLORER_STEPS)
        animated = check_bool("animated", animated)
        self.figure = figure
        self.steps = steps
        ax = self.axes = figure.add_axes((0.09, 0.17, 0.88, 0.72))
        ax.set_yscale("log")
        ax.set_xlim(0, steps)
        ax.set_ylim(*LR_LIMITS)
        ax.set_xlabel("step")
        ax.set_ylabel("learning rate")
        ax.grid(True, which="major", alpha=0.3)
        self.t = np.arange(steps)
        (self.curve,) = ax.plot(self.t, np.full(steps, 1e-3), color="C0", lw=2, animated=animated)
        self.warmup_line = ax.axvline(0, color="C3", ls="--", lw=1, animated=animated)

    def update(self, lr: np.ndarray, warmup_steps: int) -> list:
        """Show the schedule ``lr`` (shape ``(steps,)``); return the changed artists."""
        self.curve.set_ydata(np.clip(lr, LR_LIMITS[0], None))
        self.warmup_line.set_xdata([warmup_steps, warmup_steps])
        self.warmup_line.set_visible(warmup_steps > 0)
        return [self.curve, self.warmup_line]
