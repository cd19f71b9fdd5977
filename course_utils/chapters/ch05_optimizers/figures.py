"""Chapter 05's figures: the optimiser family graph, the digits race's curves, and the
explorer's view.

:class:`TrajectoryView` builds its axes once and updates the path and the loss curve in place
from a :class:`~course_utils.chapters.ch05_optimizers.surfaces.Trajectory`.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from course_utils.chapters.ch05_optimizers import quadratic, surfaces
from course_utils.plots import check_axes
from course_utils.validation import check_array, check_int, check_real, check_sequence

__all__ = [
    "FAMILY_EDGES",
    "LOSS_RANGE",
    "STEPS_MAX",
    "plot_family_graph",
    "plot_loss_curves",
    "plot_race",
    "plot_phase_diagram",
    "plot_eigen_errors",
    "TrajectoryView",
]


#: The lecture's family graph: (parent, child) edges.
FAMILY_EDGES = (
    ("SGD", "Momentum"),
    ("SGD", "AdaGrad"),
    ("AdaGrad", "RMSProp"),
    ("AdaGrad", "AdaDelta"),
    ("Momentum", "Adam"),
    ("RMSProp", "Adam"),
    ("Adam", "AdamW"),
)
#: The loss panel's fixed y range, f - f_min (log scale).
LOSS_RANGE = (1e-10, 1e4)
#: The loss panel's x limit (and the explorer's steps control's maximum).
STEPS_MAX = 1000

_FAMILY_POSITIONS = {
    "SGD": (0, 0),
    "Momentum": (1, 0.8),
    "AdaGrad": (1, -0.8),
    "RMSProp": (2, -0.3),
    "AdaDelta": (2, -1.3),
    "Adam": (3, 0.25),
    "AdamW": (4, 0.25),
}
_FAMILY_NOTES = {
    "SGD": "θ -= η g",
    "Momentum": "velocity\n(Polyak 1964)",
    "AdaGrad": "Σ g², per coordinate\n(Duchi+ 2011)",
    "RMSProp": "running mean of g²\n(Tieleman & Hinton 2012)",
    "AdaDelta": "units: RMS[Δθ]/RMS[g]\n(Zeiler 2012)",
    "Adam": "m and v, bias-corrected\n(Kingma & Ba 2015)",
    "AdamW": "decoupled decay\n(Loshchilov & Hutter 2019)",
}


def plot_family_graph(ax):
    """Draw the lecture's optimiser family graph on ``ax`` (matplotlib only, no graphviz).

    Returns
    -------
    list of matplotlib artists (the boxes, then the arrows).
    """
    check_axes("ax", ax)
    boxes, arrows = [], []
    for name, (x, y) in _FAMILY_POSITIONS.items():
        boxes.append(
            ax.text(
                x,
                y,
                name,
                ha="center",
                va="center",
                fontsize=11,
                bbox=dict(boxstyle="round,pad=0.4", fc="#e8f0fe", ec="#3367d6"),
            )
        )
        boxes.append(
            ax.text(
                x, y - 0.3, _FAMILY_NOTES[name], ha="center", va="top", fontsize=7.5, color="#444"
            )
        )
    for parent, child in FAMILY_EDGES:
        (x0, y0), (x1, y1) = _FAMILY_POSITIONS[parent], _FAMILY_POSITIONS[child]
        arrows.append(
            ax.annotate(
                "",
                xy=(x1 - 0.3, y1),
                xytext=(x0 + 0.3, y0),
                arrowprops=dict(arrowstyle="->", color="#555", lw=1.3),
            )
        )
    ax.set_xlim(-0.5, 4.6)
    ax.set_ylim(-2.1, 1.3)
    ax.set_axis_off()
    return boxes + arrows


def plot_loss_curves(axes, results: dict, smooth: int = 5):
    """Minibatch loss (moving average over ``smooth`` steps) per optimiser on ``axes[0]``,
    validation accuracy per epoch on ``axes[1]``; ``results`` as :func:`digits_race`.
    Returns the lines."""
    axes = check_sequence("axes", axes, item=check_axes, min_len=2, max_len=2)
    smooth = check_int("smooth", smooth, 1, 1000)
    if not isinstance(results, dict) or not results:
        raise ValueError(
            f"results must be a non-empty dict as digits_race returns; got {type(results).__name__}"
        )
    for label, value in results.items():
        if not (isinstance(value, tuple) and len(value) == 2 and hasattr(value[0], "step_loss")):
            raise ValueError(
                f"results[{label!r}] must be (History, weight norm) as digits_race returns"
            )
    lines = []
    for label, (history, _) in results.items():
        loss = np.asarray(history.step_loss)
        k = min(smooth, len(loss))
        avg = np.convolve(loss, np.ones(k) / k, mode="valid")
        lines += axes[0].plot(np.arange(k, len(loss) + 1), avg, label=label, lw=1.3)
        lines += axes[1].plot(history.eval_step, history.val_acc, marker="o", ms=3, label=label)
    axes[0].set(xlabel="step", ylabel="minibatch loss", yscale="log")
    axes[1].set(xlabel="step", ylabel="validation accuracy")
    axes[1].legend(fontsize=7, loc="lower right")
    return lines


def plot_race(axes, results: dict):
    """The race on the surfaces: one panel per surface, every path inside the frame.

    Each panel is :func:`~course_utils.chapters.ch05_optimizers.surfaces.plot_surface` with
    its limits widened (never narrowed) to hold every point of every path, then the paths,
    the widest at the bottom (plain GD's zig-zag stays visible over the heavy ball's wider
    swings).

    Parameters
    ----------
    axes : sequence of Axes, one per surface
    results : dict of surface name -> dict of label -> Trajectory
        As :func:`~course_utils.chapters.ch05_optimizers.runs.race` returns, per surface.

    Returns
    -------
    list of the path lines
    """
    if not isinstance(results, dict) or not results:
        raise ValueError(
            f"results must be a non-empty dict of surface -> trajectories; "
            f"got {type(results).__name__}"
        )
    axes = check_sequence("axes", axes, item=check_axes, min_len=len(results), max_len=len(results))
    lines = []
    for ax, (name, trajectories) in zip(axes, results.items()):
        if name not in surfaces.SURFACES:
            raise ValueError(
                f"results' keys must be surface names ({', '.join(surfaces.SURFACES)}); "
                f"got {name!r}"
            )
        surface = surfaces.SURFACES[name]
        if not isinstance(trajectories, dict) or not trajectories:
            raise ValueError(f"results[{name!r}] must be a non-empty dict of label -> Trajectory")
        points = np.concatenate(
            [getattr(tr, "points", np.empty((0, 2))) for tr in trajectories.values()]
        )
        limits = {}
        for axis, key in ((0, "xlim"), (1, "ylim")):
            lo, hi = getattr(surface, key)
            if len(points):
                span = hi - lo
                lo = min(lo, float(points[:, axis].min()) - 0.04 * span)
                hi = max(hi, float(points[:, axis].max()) + 0.04 * span)
            limits[key] = (lo, hi)
        surfaces.plot_surface(ax, dataclasses.replace(surface, **limits))
        lines += surfaces.plot_trajectories(ax, trajectories, wide_below=True)
        ax.set_xlabel("x", labelpad=1)
        ax.set_ylabel("y", labelpad=1)
        ax.tick_params(labelsize=8)
    return lines


#: The phase diagram's colours, one per :data:`~.quadratic.REGIMES` entry.
REGIME_COLOURS = ("#f4cccc", "#cfe2f3", "#d9ead3", "#fff2cc")


def plot_phase_diagram(ax, points: dict | None = None, n: int = 200):
    """Goh's phase diagram of heavy ball on one eigen-direction (Distill, 2017).

    x: :math:`\\eta\\lambda` from 0 to 4; y: momentum :math:`\\mu` from 0 to 1. Colour: the
    regime of :func:`~course_utils.chapters.ch05_optimizers.quadratic.momentum_regimes`
    (diverges, monotone, oscillates, flips sign); lines: the contour of the rate
    :math:`\\sqrt\\mu`-boundaries :math:`\\eta\\lambda = (1\\pm\\sqrt\\mu)^2` and the stability
    limit :math:`\\eta\\lambda = 2 + 2\\mu`.

    Parameters
    ----------
    ax : Axes
    points : dict of label -> (array of eta*lambda values, momentum), optional
        Marked with one marker style per label (e.g. the quadratic's two eigenvalues at a
        setting).
    n : int
        Grid size per axis.

    Returns
    -------
    The image.
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    check_axes("ax", ax)
    n = check_int("n", n, 10, 2000)
    points = {} if points is None else points
    if not isinstance(points, dict) or len(points) > 4:
        raise ValueError(
            f"points must be a dict of at most 4 label -> (eta*lambda values, momentum); "
            f"got {type(points).__name__}"
        )
    for label, value in points.items():
        if not (isinstance(value, tuple) and len(value) == 2):
            raise ValueError(f"points[{label!r}] must be (eta*lambda values, momentum)")
        check_array(f"points[{label!r}][0]", value[0], ndim=(0, 1), limit=1000)
        check_real(f"points[{label!r}][1]", value[1], 0, 1, high_open=True)
    a = np.linspace(0, 4, n)
    mu = np.linspace(0, 0.999, n)
    codes, _ = quadratic.momentum_regimes(a[None, :], mu[:, None])
    image = ax.imshow(
        codes,
        origin="lower",
        extent=(0, 4, 0, 1),
        aspect="auto",
        cmap=ListedColormap(REGIME_COLOURS),
        vmin=-0.5,
        vmax=len(REGIME_COLOURS) - 0.5,
        interpolation="nearest",
    )
    root = np.sqrt(mu)
    ax.plot((1 - root) ** 2, mu, color="#555", lw=0.8)
    ax.plot(np.minimum((1 + root) ** 2, 4), mu, color="#555", lw=0.8)
    ax.plot(np.minimum(2 + 2 * mu, 4), mu, color="#990000", lw=1.0)
    for (label, (steps, m)), marker in zip(points.items(), ("o", "s", "^", "D")):
        steps = np.atleast_1d(np.asarray(steps, dtype=float))
        ax.plot(
            steps,
            np.full_like(steps, m),
            marker,
            ms=6,
            mec="k",
            mfc="white",
            label=label,
            ls="none",
            clip_on=False,
            zorder=4,
        )
    ax.legend(
        handles=[Patch(color=c, label=r) for c, r in zip(REGIME_COLOURS, quadratic.REGIMES)]
        + ax.get_legend_handles_labels()[0],
        fontsize=7,
        loc="lower right",
        framealpha=0.9,
    )
    ax.set_xlim(0, 4)
    ax.set_ylim(0, 1)
    ax.set_xlabel("step size × curvature, ηλ")
    ax.set_ylabel("momentum μ")
    ax.set_title("heavy ball on one eigen-direction", fontsize=10)
    return image


def plot_eigen_errors(ax, paths: dict):
    """:math:`|c_{t,i}|`, the error along each Hessian eigenvector, per step (log scale).

    Parameters
    ----------
    ax : Axes
    paths : dict of label -> dict as
        :func:`~course_utils.chapters.ch05_optimizers.quadratic.eigen_error` returns
        (one line per eigen-direction: solid for the flattest, dashed for the steepest).

    Returns
    -------
    list of lines
    """
    check_axes("ax", ax)
    if not isinstance(paths, dict) or not 1 <= len(paths) <= len(surfaces.COLOURS):
        raise ValueError(
            f"paths must be a dict of label -> eigen_error result with 1 to "
            f"{len(surfaces.COLOURS)} entries; got {type(paths).__name__}"
        )
    lines = []
    for (label, e), colour in zip(paths.items(), surfaces.COLOURS):
        if not (isinstance(e, dict) and "components" in e and "eigenvalues" in e):
            raise ValueError(f"paths[{label!r}] must be what quadratic.eigen_error returns")
        c = np.abs(e["components"])
        steps = np.arange(len(c))
        for i, style in ((0, "-"), (c.shape[1] - 1, "--")):
            lines += ax.plot(
                steps,
                np.maximum(c[:, i], 1e-12),
                style,
                color=colour,
                lw=1.3,
                label=f"{label}, λ = {e['eigenvalues'][i]:g}",
            )
    ax.set_yscale("log")
    ax.yaxis.set_minor_locator(NullLocator())  # minor log ticks cost more to draw than they show
    ax.set_ylim(1e-4, 20)
    ax.set_xlim(0, max(len(e["components"]) for e in paths.values()) - 1)
    ax.set_xlabel("step t")
    ax.set_ylabel("|error along eigenvector|")
    ax.set_title("the error in the Hessian's eigenbasis", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    return lines


class TrajectoryView:
    """Contours of a surface with one trajectory (left), ``f - f_min`` per step (right).

    Each surface gets its own left axes, built on first use and then only shown or hidden,
    and the loss axes has fixed limits (steps 1 to 1000 on a log scale): a move changes
    only the animated artists (path, end point, loss curve), and a surface seen before is
    a cached background (see ``Explorer.background_key``).
    """

    def __init__(self, figure: Figure):
        if not isinstance(figure, Figure):
            raise ValueError(f"figure must be a matplotlib Figure; got {type(figure).__name__}")
        self._surfaces = surfaces
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
            self._surfaces.plot_surface(ax, surface)
            ax.plot(*self._surfaces.SURFACES[surface].start, "s", color="k", markersize=5)
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
        gap = trajectory.values[1:] - self._surfaces.SURFACES[self.surface].f_min
        self.loss.set_data(np.arange(1, len(gap) + 1), np.clip(gap, *LOSS_RANGE))
        return self.artists
