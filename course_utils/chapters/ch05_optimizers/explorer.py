"""Chapter 05's explorer: one optimiser's trajectory on a 2-D surface, and its loss per step.

:func:`.surfaces.explore` is its compute, :class:`.figures.TrajectoryView` its view.
"""

from __future__ import annotations

from course_utils.chapters.ch05_optimizers import surfaces
from course_utils.chapters.ch05_optimizers.figures import STEPS_MAX, TrajectoryView
from course_utils.validation import check_real
from course_utils.widgets.base import (
    Explorer,
    FloatSlider,
    check_start,
    log_range,
    make_controls,
    new_figure,
)

__all__ = ["OptimizerExplorer", "optimizer_explorer", "START"]

#: The controls' starting values; each control is declared once, in :func:`_controls`.
START = dict(optimizer="SGD", lr=0.15, momentum=0.0, beta2=0.999, steps=200, surface="quadratic")


def _controls() -> dict:
    """The explorer's controls, named as ``surfaces.explore``'s arguments."""
    return make_controls(
        continuous=("lr", "momentum", "beta2"),
        optimizer=surfaces.EXPLORER_OPTIMIZERS,
        lr=log_range(1e-4, 10.0, 0.05),
        momentum=(0.0, 0.99, 0.01),
        beta2=FloatSlider(
            min=0.5,
            max=0.999,
            step=0.001,
            description="beta2",
            readout_format=".3f",
            style={"description_width": "initial"},
        ),
        steps=(10, STEPS_MAX, 10),
        surface=tuple(surfaces.SURFACES),
    )


class OptimizerExplorer(Explorer):
    """Pick a surface and an optimiser; drag the learning rate, momentum and beta2.

    ``result`` is the :class:`~course_utils.chapters.ch05_optimizers.surfaces.Trajectory` of
    :func:`~course_utils.chapters.ch05_optimizers.surfaces.explore` for the controls' values
    (keyword arguments: ``optimizer``, ``lr``, ``momentum``, ``beta2``, ``steps``, ``surface``;
    defaults SGD, 0.15, 0, 0.999, 200, quadratic). ``momentum`` is SGD's and RMSprop's
    momentum and Adam's beta1; ``beta2`` is Adam's beta2, RMSprop's alpha and Adadelta's rho
    (see :func:`~course_utils.chapters.ch05_optimizers.surfaces.optimizer_settings`). A
    learning rate that blows up shows ``"diverged at step k"`` as the message, with the path
    up to there.
    """

    def __init__(self, figsize=(8.5, 3.3), dpi=96, **start):
        controls = _controls()
        check_start(controls, start)  # before the figure is built: a mistake costs no drawing
        check_real("dpi", dpi, 20)  # this figure's text fails to render below about 20 dpi
        self.view = TrajectoryView(new_figure(figsize, dpi))
        super().__init__(controls, self.view.figure, **{**START, **start})

    #: Controls each optimiser ignores (see surfaces.optimizer_settings): greyed out.
    UNUSED = {
        "SGD": ("beta2",),
        "Nesterov": ("beta2",),
        "Adagrad": ("momentum", "beta2"),
        "Adadelta": ("momentum",),
    }
    may_ignore = ("momentum", "beta2")

    def ignored_controls(self, optimizer, **values) -> set:
        return set(self.UNUSED.get(optimizer, ()))

    def compute(self, **values):
        return surfaces.explore(**values)

    def render(self, result, surface, **values) -> list:
        if self.view.set_surface(surface):
            self.request_full_draw()
        return self.view.update(result)

    def background_key(self, surface, **values):
        return surface

    def warning(self, result) -> str:
        return result.message if result.diverged else ""

    def describe(self, result, surface, **values) -> str:
        x, y = result.points[-1]
        gap = result.values[-1] - surfaces.SURFACES[surface].f_min
        text = f"after {len(result.points) - 1} steps: (x, y) = ({x:.3g}, {y:.3g}), f − f_min = {gap:.3g}"
        if surface == "saddle":
            k = surfaces.escape_step(result)
            text += (
                "; still near the saddle"
                if k is None
                else f"; left the saddle (|y| > 0.5) at step {k}"
            )
        return text


def optimizer_explorer(**start) -> OptimizerExplorer:
    """Build chapter 05's explorer; keyword arguments set the controls' starting values.

    Accepted: ``optimizer``, ``lr``, ``momentum``, ``beta2``, ``steps``, ``surface``
    (controls) and ``figsize``, ``dpi``. See :class:`OptimizerExplorer`.
    """
    return OptimizerExplorer(**start)
