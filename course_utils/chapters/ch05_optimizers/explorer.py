"""Chapter 05's explorer: one optimiser's trajectory on a 2-D surface, and its loss per step."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from course_utils.chapters.ch05_optimizers import surfaces
from course_utils.validation import check_real
from course_utils.widgets.base import (
    Explorer,
    FloatSlider,
    check_start,
    log_range,
    make_controls,
    new_figure,
)

__all__ = ["OptimizerExplorer", "optimizer_explorer", "LOSS_RANGE", "START"]

#: The loss panel's fixed y range, f - f_min (log scale).
LOSS_RANGE = (1e-10, 1e4)
#: The steps control's maximum (and the loss panel's x limit).
STEPS_MAX = 1000


class TrajectoryView:
    """Contours of a surface with one trajectory (left), ``f - f_min`` per step (right).

    Each surface gets its own left axes, built on first use and then only shown or hidden,
    and the loss axes has fixed limits (steps 1 to 1000 on a log scale): a move changes
    only the animated artists (path, end point, loss curve), and a surface seen before is
    a cached background (see ``Explorer.background_key``).
    """

    def __init__(self, figure: Figure):
        self.figure = figure
        self.paths: dict = {}  # surface -> (axes, path line, end marker)
        self.ax_loss = figure.add_axes((0.63, 0.14, 0.34, 0.76))
        self.ax_loss.set_xscale("log")
        self.ax_loss.set_yscale("log")
        self.ax_loss.set_xlim(1, STEPS_MAX)
        self.ax_loss.set_ylim(*LOSS_RANGE)
        self.ax_loss.set_xlabel("step", labelpad=1)
        self.ax_loss.set_title("f − f_min after each step", fontsize=10)
        self.ax_loss.tick_params(labelsize=8)
        self.ax_loss.grid(alpha=0.3)
        (self.loss,) = self.ax_loss.plot([], [], "-", color="#d62728", lw=1.4, animated=True)
        self.surface = None

    def set_surface(self, surface: str) -> bool:
        """Show the left axes of ``surface`` (built on first use); True if it changed."""
        if surface == self.surface:
            return False
        if surface not in self.paths:
            ax = self.figure.add_axes((0.07, 0.14, 0.46, 0.76))
            surfaces.plot_surface(ax, surface)
            ax.plot(*surfaces.SURFACES[surface].start, "s", color="k", markersize=5)
            ax.set_xlabel("x", labelpad=1)
            ax.set_ylabel("y", labelpad=1)
            ax.tick_params(labelsize=8)
            (path,) = ax.plot(
                [], [], "-", color="#d62728", lw=1.4, marker=".", markersize=3, animated=True
            )
            (end,) = ax.plot(
                [], [], "o", color="#d62728", markersize=6, markeredgecolor="k", animated=True
            )
            self.paths[surface] = (ax, path, end)
        for name, (ax, _, _) in self.paths.items():
            ax.set_visible(name == surface)
        self.surface = surface
        return True

    @property
    def artists(self) -> list:
        _, path, end = self.paths[self.surface]
        return [path, end, self.loss]

    def update(self, trajectory) -> list:
        self.set_surface(trajectory.settings["surface"])
        _, path, end = self.paths[self.surface]
        points = trajectory.points
        path.set_data(points[:, 0], points[:, 1])
        end.set_data(points[-1:, 0], points[-1:, 1])
        end.set_color("#7f7f7f" if trajectory.diverged else "#d62728")
        gap = trajectory.values[1:] - surfaces.SURFACES[self.surface].f_min
        self.loss.set_data(np.arange(1, len(gap) + 1), np.clip(gap, *LOSS_RANGE))
        return self.artists


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
