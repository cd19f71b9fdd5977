"""Chapter 05: 2-D test surfaces and the optimiser race on them.

Three surfaces, each with its value and gradient (:data:`SURFACES`):

- ``"quadratic"``: :math:`f = \\tfrac12(\\lambda_1 x^2 + \\lambda_2 y^2)` with
  :math:`\\lambda_1 = 0.1`, :math:`\\lambda_2 = 10`, condition number
  :math:`\\kappa = \\lambda_2/\\lambda_1 = 100` (a long narrow valley);
- ``"saddle"``: :math:`f = \\tfrac12 x^2 - \\tfrac12 y^2 + \\tfrac14 y^4`, a saddle point at
  the origin between two minima at :math:`(0, \\pm 1)`;
- ``"rosenbrock"``: :math:`f = (1-x)^2 + 100(y-x^2)^2` (Rosenbrock, Comput. J. 1960), a
  curved valley with its minimum at (1, 1).

:func:`run` drives one optimiser of :mod:`course_utils.optim` over a surface from the
surface's start and returns the :class:`Trajectory`; a run whose point leaves the surface's
bound (or becomes NaN) stops and says ``"diverged at step k"`` (several optimisers from one
start: :func:`~course_utils.chapters.ch05_optimizers.runs.race`).
:func:`quadratic_optimum` gives the best plain-GD and heavy-ball settings on the quadratic
(Goh, "Why momentum really works", Distill 2017), :func:`contraction_rate` measures a rate
from a trajectory, :func:`escape_step` the step that leaves the saddle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from course_utils import optim
from course_utils.plots import check_axes
from course_utils.validation import (
    MAX_ITEMS,
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_real,
)

__all__ = [
    "Surface",
    "SURFACES",
    "Trajectory",
    "MAX_SURFACE_STEPS",
    "run",
    "EXPLORER_OPTIMIZERS",
    "optimizer_settings",
    "explore",
    "quadratic_optimum",
    "contraction_rate",
    "escape_step",
    "steps_to",
    "plot_surface",
    "plot_trajectories",
]

#: At most this many steps per run on a surface (20,000 Python-level optimiser steps take
#: about a second).
MAX_SURFACE_STEPS = 20_000

QUADRATIC_EIGENVALUES = (0.1, 10.0)


@dataclass(frozen=True)
class Surface:
    """A 2-D test function with its gradient, plot window and starting point.

    Attributes
    ----------
    name, title : str
    value : callable, (..., 2) -> (...)
    grad : callable, (2,) -> (2,)
    start : (float, float)
    minimum : (float, float)
        A minimiser (the saddle has two; this is the one at y = +1).
    f_min : float
    xlim, ylim : (float, float)
    lr : float
        A learning rate that works for plain GD here (a starting point for the explorer).
    bound : float
        A run whose point has ``max(|x|, |y|) > bound`` has diverged.
    """

    name: str
    title: str
    value: Callable
    grad: Callable
    start: tuple
    minimum: tuple
    f_min: float
    xlim: tuple
    ylim: tuple
    lr: float
    bound: float = 1e3


def _quadratic_value(p):
    p = np.asarray(p, dtype=np.float64)
    l1, l2 = QUADRATIC_EIGENVALUES
    return 0.5 * (l1 * p[..., 0] ** 2 + l2 * p[..., 1] ** 2)


def _quadratic_grad(p):
    l1, l2 = QUADRATIC_EIGENVALUES
    return np.array([l1 * p[0], l2 * p[1]])


def _saddle_value(p):
    p = np.asarray(p, dtype=np.float64)
    x, y = p[..., 0], p[..., 1]
    return 0.5 * x**2 - 0.5 * y**2 + 0.25 * y**4


def _saddle_grad(p):
    return np.array([p[0], -p[1] + p[1] ** 3])


def _rosenbrock_value(p):
    p = np.asarray(p, dtype=np.float64)
    x, y = p[..., 0], p[..., 1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _rosenbrock_grad(p):
    x, y = p
    return np.array([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])


SURFACES = {
    "quadratic": Surface(
        "quadratic",
        "quadratic, κ = 100",
        _quadratic_value,
        _quadratic_grad,
        start=(-9.0, 1.5),
        minimum=(0.0, 0.0),
        f_min=0.0,
        xlim=(-10.0, 10.0),
        ylim=(-3.0, 3.0),
        lr=0.15,
    ),
    "saddle": Surface(
        "saddle",
        "saddle at (0, 0)",
        _saddle_value,
        _saddle_grad,
        start=(2.0, 1e-3),
        minimum=(0.0, 1.0),
        f_min=-0.25,
        xlim=(-2.5, 2.5),
        ylim=(-2.0, 2.0),
        lr=0.1,
    ),
    "rosenbrock": Surface(
        "rosenbrock",
        "Rosenbrock",
        _rosenbrock_value,
        _rosenbrock_grad,
        start=(-1.2, 1.0),
        minimum=(1.0, 1.0),
        f_min=0.0,
        xlim=(-2.0, 2.0),
        ylim=(-1.0, 3.0),
        lr=1e-3,
    ),
}
_OWN_GRADS = (_quadratic_grad, _saddle_grad, _rosenbrock_grad)


def _surface(surface) -> Surface:
    if isinstance(surface, Surface):
        return surface
    if surface not in SURFACES:
        raise ValueError(f"surface must be one of {', '.join(SURFACES)}; got {surface!r}")
    return SURFACES[surface]


@dataclass
class Trajectory:
    """One optimiser's path over a surface.

    Attributes
    ----------
    points : ndarray, shape (k + 1, 2)
        The start, then the point after each step (up to the last finite point within the
        bound when the run diverged).
    values : ndarray, shape (k + 1,)
        f at each point.
    status : str
        ``"completed"`` or ``"diverged"``.
    diverged_at : int or None
        The step at which the point left the bound or became NaN.
    message : str
    """

    points: np.ndarray
    values: np.ndarray
    status: str = "completed"
    diverged_at: int | None = None
    message: str = ""
    settings: dict = field(default_factory=dict)

    @property
    def diverged(self) -> bool:
        return self.status == "diverged"


def _check_steps(steps) -> int:
    return check_int("steps", steps, 1, MAX_SURFACE_STEPS)


def _check_trajectory(trajectory) -> Trajectory:
    if not isinstance(trajectory, Trajectory):
        raise ValueError(
            f"trajectory must be a Trajectory (as run returns); got {type(trajectory).__name__}"
        )
    return trajectory


def _check_minimum(minimum) -> np.ndarray:
    return check_array("minimum", minimum, shape=(2,), limit=2)


def _trusted_step(opt):
    """``opt.step([g])`` unchecked, for :data:`_OWN_GRADS` (fresh float64 arrays, (2,))."""
    (state,) = opt.state
    (x,) = opt.params
    update = opt._update

    def step(g):
        state["step"] = state.get("step", 0) + 1
        update(x, g, state)

    return step


def run(surface, optimizer: str, lr: float, steps: int = 200, start=None, **kwargs) -> Trajectory:
    """Run ``optim.<optimizer>(lr=lr, **kwargs)`` for ``steps`` steps on ``surface``.

    Parameters
    ----------
    surface : str or Surface
        A key of :data:`SURFACES`.
    optimizer : str
        A class name of :mod:`course_utils.optim` (``"SGD"``, ``"Adam"``, ...).
    lr : float
    steps : int
        At most :data:`MAX_SURFACE_STEPS`.
    start : (float, float), optional
        Default: the surface's start.
    **kwargs
        The optimiser's other hyperparameters (validated by the optimiser, torch's messages).

    Returns
    -------
    Trajectory
        Diverged (``"diverged at step k"``) when the point leaves ``surface.bound`` or is NaN.
    """
    surface = _surface(surface)
    steps = _check_steps(steps)
    check_choice("optimizer", optimizer, tuple(optim.OPTIMIZERS))
    x = check_array("start", surface.start if start is None else start, shape=(2,), limit=2).copy()
    opt = optim.OPTIMIZERS[optimizer]([x], lr=lr, **kwargs)
    points = np.empty((steps + 1, 2))
    points[0] = x
    grad, bound = surface.grad, surface.bound
    status, diverged_at, message = "completed", None, ""
    k = steps
    step = _trusted_step(opt) if grad in _OWN_GRADS else lambda g: opt.step([g])
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            step(grad(x))
            if not (abs(x[0]) <= bound and abs(x[1]) <= bound):  # also catches NaN
                status, diverged_at, k = "diverged", t, t - 1
                message = (
                    f"diverged at step {t}: the point left |x|, |y| <= {bound:g} "
                    f"(learning rate too high?)"
                )
                break
            points[t] = x
    points = points[: k + 1]
    return Trajectory(
        points,
        surface.value(points),
        status,
        diverged_at,
        message,
        dict(surface=surface.name, optimizer=optimizer, lr=lr, **kwargs),
    )


#: The explorer's optimiser menu.
EXPLORER_OPTIMIZERS = ("SGD", "Nesterov", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW")


def optimizer_settings(optimizer: str, lr: float, momentum: float, beta2: float):
    """Map the explorer's controls to an ``optim`` class and its keyword arguments.

    ``momentum`` is SGD's and RMSprop's momentum and Adam's :math:`\\beta_1`; ``beta2`` is
    Adam's :math:`\\beta_2`, RMSprop's ``alpha`` and Adadelta's ``rho``. Adagrad uses neither.

    Returns
    -------
    (class name, kwargs)
    """
    if optimizer not in EXPLORER_OPTIMIZERS:
        raise ValueError(
            f"optimizer must be one of {', '.join(EXPLORER_OPTIMIZERS)}; got {optimizer!r}"
        )
    if optimizer in ("SGD", "Nesterov"):
        return "SGD", dict(lr=lr, momentum=momentum, nesterov=optimizer == "Nesterov")
    if optimizer == "Adagrad":
        return "Adagrad", dict(lr=lr)
    if optimizer == "RMSprop":
        return "RMSprop", dict(lr=lr, alpha=beta2, momentum=momentum)
    if optimizer == "Adadelta":
        return "Adadelta", dict(lr=lr, rho=beta2)
    return optimizer, dict(lr=lr, betas=(momentum, beta2))


def explore(
    surface: str = "quadratic",
    optimizer: str = "SGD",
    lr: float = 0.15,
    momentum: float = 0.0,
    beta2: float = 0.999,
    steps: int = 200,
) -> Trajectory:
    """The explorer's compute function: one trajectory for the controls' values."""
    name, kwargs = optimizer_settings(optimizer, lr, momentum, beta2)
    if optimizer == "Nesterov" and not momentum > 0:
        raise ValueError(
            "Nesterov needs momentum > 0 (PyTorch: 'Nesterov momentum requires "
            "a momentum and zero dampening')"
        )
    return run(surface, name, steps=steps, **kwargs)


def quadratic_optimum(eigenvalues=QUADRATIC_EIGENVALUES) -> dict:
    """Best constant settings on :math:`\\tfrac12\\sum_i\\lambda_i x_i^2` and their rates.

    Plain GD: :math:`x_i \\leftarrow (1 - \\eta\\lambda_i)x_i`; the slowest coordinate
    contracts by :math:`\\max_i|1-\\eta\\lambda_i|`, smallest at
    :math:`\\eta = 2/(\\lambda_1+\\lambda_n)`, where it is :math:`(\\kappa-1)/(\\kappa+1)`.
    Heavy ball (Polyak 1964): :math:`\\eta = 4/(\\sqrt{\\lambda_1}+\\sqrt{\\lambda_n})^2`,
    :math:`\\mu = ((\\sqrt\\kappa-1)/(\\sqrt\\kappa+1))^2`, rate
    :math:`\\sqrt\\mu = (\\sqrt\\kappa-1)/(\\sqrt\\kappa+1)`. (Goh, Distill 2017.)

    Returns
    -------
    dict with ``kappa``, ``gd_lr``, ``gd_rate``, ``momentum_lr``, ``momentum``,
    ``momentum_rate``.
    """
    lam = check_array("eigenvalues", eigenvalues, ndim=1, min_size=2, limit=MAX_ITEMS)
    if not np.all(lam > 0):
        raise ValueError(f"eigenvalues must be two or more positive numbers; got {eigenvalues!r}")
    lo, hi = float(lam.min()), float(lam.max())
    kappa = hi / lo
    root = math.sqrt(kappa)
    return dict(
        kappa=kappa,
        gd_lr=2 / (lo + hi),
        gd_rate=(kappa - 1) / (kappa + 1),
        momentum_lr=4 / (math.sqrt(lo) + math.sqrt(hi)) ** 2,
        momentum=((root - 1) / (root + 1)) ** 2,
        momentum_rate=(root - 1) / (root + 1),
    )


def contraction_rate(
    trajectory: Trajectory, minimum=(0.0, 0.0), first: int = 20, last: int | None = None
) -> float:
    """The per-step contraction rate :math:`r` of :math:`e_t = \\|x_t - x^*\\|`, measured.

    Fits :math:`\\log e_t = a + c \\log t + t \\log r` by least squares over steps
    ``first..last``: the :math:`\\log t` term absorbs the factor :math:`t` of
    :math:`e_t \\propto t\\,r^t` that appears at the heavy ball's optimum, where the two
    roots of its iteration coincide (critical damping). For plain GD, :math:`c \\approx 0`.

    Returns
    -------
    float
    """
    trajectory, minimum = _check_trajectory(trajectory), _check_minimum(minimum)
    e = np.linalg.norm(trajectory.points - minimum, axis=1)
    first = check_int("first", first, 1)
    last = len(e) - 1 if last is None else check_int("last", last, 1)
    if not 1 <= first < last - 2 or last >= len(e):
        raise ValueError(
            f"need 1 <= first < last - 2 and last < {len(e)} (steps run); "
            f"got first={first}, last={last}"
        )
    t = np.arange(first, last + 1, dtype=np.float64)
    err = e[first : last + 1]
    if np.any(err <= 0):
        raise ValueError("the error reached 0 exactly: choose an earlier window")
    A = np.column_stack([np.ones_like(t), np.log(t), t])
    coef, *_ = np.linalg.lstsq(A, np.log(err), rcond=None)
    return float(math.exp(coef[2]))


def steps_to(trajectory: Trajectory, tol: float, minimum=(0.0, 0.0)) -> int | None:
    """First step with :math:`\\|x_t - x^*\\| < \\text{tol}\\cdot\\|x_0 - x^*\\|`, or None."""
    trajectory, minimum = _check_trajectory(trajectory), _check_minimum(minimum)
    tol = check_real("tol", tol, 0, low_open=True)
    e = np.linalg.norm(trajectory.points - minimum, axis=1)
    hits = np.flatnonzero(e < tol * e[0])
    return int(hits[0]) if len(hits) else None


def escape_step(trajectory: Trajectory, threshold: float = 0.5) -> int | None:
    """First step at which the saddle's :math:`|y|` exceeds ``threshold`` (half way to the
    minima at :math:`y = \\pm 1`), or None."""
    trajectory = _check_trajectory(trajectory)
    threshold = check_real("threshold", threshold, 0)
    hits = np.flatnonzero(np.abs(trajectory.points[:, 1]) > threshold)
    return int(hits[0]) if len(hits) else None


def _grid(surface: Surface, n: int = 160):
    xs = np.linspace(*surface.xlim, n)
    ys = np.linspace(*surface.ylim, n)
    X, Y = np.meshgrid(xs, ys)
    return X, Y, surface.value(np.stack([X, Y], axis=-1))


def plot_surface(ax, surface, levels: int = 12, lines: bool = True):
    """The surface as an image of :math:`\\log_{10}(f - f_\\min)` on ``ax`` (fixed limits),
    with ``levels`` contour lines; returns the image.

    One image is cheap to draw (the explorer redraws it when the surface changes);
    ``lines=False`` leaves out the contour lines, the costly part.
    """
    check_axes("ax", ax)
    surface = _surface(surface)
    levels = check_int("levels", levels, 1, 100)  # contour levels: beyond 100 they merge
    lines = check_bool("lines", lines)
    X, Y, Z = _grid(surface)
    gap = Z - surface.f_min
    lo = max(float(gap[gap > 0].min()), 1e-3 * float(gap.max()))
    logs = np.log10(np.maximum(gap, lo))
    image = ax.imshow(
        logs,
        extent=(*surface.xlim, *surface.ylim),
        origin="lower",
        cmap="Blues_r",
        alpha=0.85,
        aspect="auto",
        interpolation="bilinear",
    )
    if lines:
        ax.contour(X, Y, logs, levels=levels, colors="white", linewidths=0.5, alpha=0.7)
    ax.plot(
        *surface.minimum, marker="*", color="gold", markersize=12, markeredgecolor="k", zorder=3
    )
    ax.set_xlim(*surface.xlim)
    ax.set_ylim(*surface.ylim)
    ax.set_title(surface.title, fontsize=10)
    return image


COLOURS = ("#d62728", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf")


def plot_trajectories(ax, trajectories: dict, wide_below: bool = False):
    """One line per trajectory (label -> Trajectory) on ``ax``; returns the lines.

    ``wide_below``: stack the paths by the area of their bounding box, the widest at the
    bottom, thinner and lighter, so a path with wide swings does not hide a narrow one.
    """
    check_axes("ax", ax)
    wide_below = check_bool("wide_below", wide_below)
    if not isinstance(trajectories, dict) or not 1 <= len(trajectories) <= len(COLOURS):
        raise ValueError(
            f"trajectories must be a dict of label -> Trajectory with 1 to "
            f"{len(COLOURS)} entries; got {type(trajectories).__name__}"
        )
    for tr in trajectories.values():
        _check_trajectory(tr)
    areas = [float(np.prod(np.ptp(tr.points, axis=0))) for tr in trajectories.values()]
    rank = np.argsort(np.argsort(areas)[::-1])  # 0 for the widest
    lines = []
    for i, ((label, tr), colour) in enumerate(zip(trajectories.items(), COLOURS)):
        text = label + (f" (diverged at step {tr.diverged_at})" if tr.diverged else "")
        dots = len(tr.points) <= 300  # markers on long paths cost more than they show
        under = wide_below and rank[i] == 0 and len(trajectories) > 1
        lines += ax.plot(
            tr.points[:, 0],
            tr.points[:, 1],
            "-",
            color=colour,
            lw=0.9 if under else 1.4,
            alpha=0.7 if under else 1.0,
            marker="." if dots else None,
            markersize=2.5,
            label=text,
            zorder=2 + 0.1 * rank[i] if wide_below else 2,
        )
    return lines
