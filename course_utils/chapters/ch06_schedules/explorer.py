"""Chapter 06's explorer: a learning-rate schedule, drawn step by step on a log axis.

:func:`course_utils.schedules.explorer_schedule` is its compute, :class:`.figures.ScheduleView`
its view.
"""

from __future__ import annotations

import numpy as np

from course_utils import schedules
from course_utils.chapters.ch06_schedules.figures import (
    LR_LIMITS,
    MAX_EXPLORER_STEPS,
    ScheduleView,
)
from course_utils.validation import check_int, check_real
from course_utils.widgets.base import Explorer, check_start, log_range, make_controls, new_figure

__all__ = ["ScheduleExplorer", "schedule_explorer", "START"]

#: The controls' starting values; each control is declared once, in :func:`_controls`.
START = dict(schedule="step", base_lr=0.1, warmup_steps=0, decay_steps=300, gamma=0.1)


def _controls(steps: int) -> dict:
    """The explorer's controls, named as ``explorer_schedule``'s arguments."""
    return make_controls(
        schedule=schedules.SCHEDULES,
        base_lr=log_range(1e-4, 10.0, 0.1),
        warmup_steps=(0, steps // 2, 10),
        decay_steps=(10, steps, 10),
        gamma=(0.01, 1.0, 0.01),
    )


class ScheduleExplorer(Explorer):
    """The lr schedule of :func:`course_utils.schedules.explorer_schedule`, redrawn per move.

    ``result`` is the schedule, a float64 array of shape ``(steps,)``; ``steps`` (10 to
    :data:`MAX_EXPLORER_STEPS`) and ``start_factor`` (the warm-up's first rate, as a fraction
    of ``base_lr``) are fixed at construction; the other keyword arguments are the controls'
    starting values (``schedule``, ``base_lr``, ``warmup_steps``, ``decay_steps``, ``gamma``).
    """

    def __init__(self, steps=1000, start_factor=0.1, figsize=(8.0, 3.0), dpi=96, **start):
        self.steps = check_int("steps", steps, 10, MAX_EXPLORER_STEPS)
        self.start_factor = check_real("start_factor", start_factor, 0, 1, low_open=True)
        controls = _controls(self.steps)
        check_start(controls, start)  # before the figure: a mistake costs no drawing
        self.view = ScheduleView(new_figure(figsize, dpi), self.steps, animated=True)
        super().__init__(
            controls, self.view.figure, **{**START, "decay_steps": min(300, self.steps), **start}
        )

    #: Controls each schedule ignores (see schedules.explorer_schedule): greyed out.
    UNUSED = {"constant": ("decay_steps", "gamma"), "cosine": ("gamma",)}
    may_ignore = ("decay_steps", "gamma")

    def ignored_controls(self, schedule, **values) -> set:
        return set(self.UNUSED.get(schedule, ()))

    def compute(self, **values):
        return schedules.explorer_schedule(
            steps=self.steps, start_factor=self.start_factor, **values
        )

    def render(self, result, warmup_steps, **values) -> list:
        return self.view.update(result, warmup_steps)

    def background_key(self, **values):
        return "fixed"  # fixed limits and labels: only the curve and the marker move

    def describe(self, result, **values) -> str:
        drops = schedules.drop_steps(result)
        if len(drops) == 0:
            where = "never decreases"
        elif len(drops) <= 12:
            where = "drops at steps: " + ", ".join(map(str, drops))
        else:
            where = f"decreases at {len(drops)} steps, from step {drops[0]}"
        return (
            f"start {result[0]:.3g}   peak {result.max():.3g}   final {result[-1]:.3g}   "
            f"mean {result.mean():.3g}   {where}"
        )

    def warning(self, result) -> str:
        low = result < LR_LIMITS[0]
        if low.sum() > len(result) // 100:  # not cosine's few steps around its zero
            return (
                f"from step {int(np.argmax(low))} the rate is below {LR_LIMITS[0]:g}: "
                "drawn on the bottom edge"
            )
        return ""


def schedule_explorer(**start) -> ScheduleExplorer:
    """Build chapter 06's explorer; keyword arguments set the controls' starting values.

    Accepted: ``schedule`` (one of :data:`course_utils.schedules.SCHEDULES`), ``base_lr``
    (1e-4 to 10, log slider), ``warmup_steps`` (0 to steps/2), ``decay_steps`` (10 to steps),
    ``gamma`` (0.01 to 1) (controls) and ``steps``, ``start_factor``, ``figsize``, ``dpi``.
    See :class:`ScheduleExplorer`.
    """
    return ScheduleExplorer(**start)
