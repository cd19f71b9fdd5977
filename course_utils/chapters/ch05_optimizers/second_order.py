"""Chapter 05: beyond first order, Newton's method and L-BFGS on the race's surfaces.

- :func:`newton_run`: :math:`x \\leftarrow x - H(x)^{-1}\\nabla f(x)` with the surface's exact
  Hessian (:func:`hessian`); one step solves a quadratic, and it is attracted to *any*
  stationary point, the saddle included (Dauphin et al., NeurIPS 2014).
- :func:`lbfgs_run`: L-BFGS (Liu & Nocedal, Math. Programming 1989), the two-loop recursion
  over the last ``history_size`` pairs :math:`(s, y)` of steps and gradient changes, step for
  step as ``torch.optim.LBFGS`` with its default ``line_search_fn=None`` (a fixed step
  ``lr``; the first step scaled by :math:`\\min(1, 1/\\lVert g\\rVert_1)`), one iteration
  per gradient evaluation. The unit tests compare its points with ``torch.optim.LBFGS``'s.
- :func:`steps_below`: the first step whose :math:`f - f_\\min` is below a tolerance.
"""

from __future__ import annotations

import numpy as np

from course_utils.chapters.ch05_optimizers.surfaces import (
    MAX_SURFACE_STEPS,
    QUADRATIC_EIGENVALUES,
    SURFACES,
    Surface,
    Trajectory,
)
from course_utils.validation import check_array, check_choice, check_int, check_real

__all__ = ["hessian", "newton_run", "lbfgs_run", "steps_below", "outcome"]


def _surface(surface) -> Surface:
    if isinstance(surface, Surface):
        return surface
    return SURFACES[check_choice("surface", surface, tuple(SURFACES))]


def hessian(surface, point) -> np.ndarray:
    """The exact Hessian of a surface of :data:`SURFACES` at ``point``, shape (2, 2).

    quadratic :math:`\\operatorname{diag}(\\lambda_1, \\lambda_2)`; saddle
    :math:`\\operatorname{diag}(1, 3y^2 - 1)`; Rosenbrock
    :math:`\\begin{pmatrix}2 - 400(y - 3x^2) & -400x\\\\ -400x & 200\\end{pmatrix}`.
    """
    name = _surface(surface).name
    x, y = check_array("point", point, shape=(2,), limit=2)
    if name == "quadratic":
        return np.diag(QUADRATIC_EIGENVALUES).astype(np.float64)
    if name == "saddle":
        return np.array([[1.0, 0.0], [0.0, 3 * y * y - 1.0]])
    return np.array([[2 - 400 * (y - 3 * x * x), -400 * x], [-400 * x, 200.0]])


def _trajectory(surface: Surface, points: list, method: str, **settings) -> Trajectory:
    points = np.array(points)
    return Trajectory(
        points,
        surface.value(points),
        settings=dict(surface=surface.name, optimizer=method, **settings),
    )


def newton_run(surface, steps: int = 20) -> Trajectory:
    """Pure Newton steps, :math:`x_{t} = x_{t-1} - H(x_{t-1})^{-1}\\nabla f(x_{t-1})`.

    Stops early at a stationary point (gradient exactly 0 or a singular Hessian). No line
    search and no Hessian modification: the method as taught, which finds stationary points,
    not minima.

    Parameters
    ----------
    surface : str
        A key of :data:`SURFACES`.
    steps : int

    Returns
    -------
    Trajectory
        ``points`` (k + 1, 2), ``values`` (k + 1,).
    """
    surface = _surface(surface)
    steps = check_int("steps", steps, 1, MAX_SURFACE_STEPS)
    x = np.array(surface.start, dtype=np.float64)
    points = [x.copy()]
    for _ in range(steps):
        g = surface.grad(x)
        H = hessian(surface, x)
        if not np.any(g) or abs(np.linalg.det(H)) < 1e-300:
            break
        x = x - np.linalg.solve(H, g)
        points.append(x.copy())
    return _trajectory(surface, points, "Newton")


def lbfgs_run(surface, steps: int = 100, history_size: int = 10, lr: float = 1.0) -> Trajectory:
    """L-BFGS as ``torch.optim.LBFGS(lr=lr, history_size=history_size)`` computes it.

    Direction by the two-loop recursion: with the stored pairs
    :math:`s_i = x_{i+1} - x_i`, :math:`y_i = g_{i+1} - g_i`, :math:`\\rho_i = 1/y_i^Ts_i`
    (a pair is kept only if :math:`y^Ts > 10^{-10}`), and :math:`q = -g`,

    1. newest to oldest: :math:`\\alpha_i = \\rho_i s_i^Tq`, :math:`q \\leftarrow q - \\alpha_i y_i`;
    2. :math:`r = \\gamma q` with :math:`\\gamma = y^Ts/y^Ty` of the newest pair (an estimate of
       the inverse curvature);
    3. oldest to newest: :math:`\\beta_i = \\rho_i y_i^Tr`, :math:`r \\leftarrow r + (\\alpha_i -
       \\beta_i)s_i`;

    so :math:`d = r \\approx -H^{-1}g` without forming :math:`H`. The step is
    :math:`x \\leftarrow x + t\\,d` with :math:`t` = ``lr`` (the first one
    :math:`\\min(1, 1/\\lVert g\\rVert_1)\\cdot` ``lr``). The same points as ``steps`` calls of
    ``torch.optim.LBFGS(..., max_iter=1).step(closure)``; stops where those stop moving:
    gradient below :math:`10^{-7}` (max norm) or :math:`g^Td > -10^{-9}`.

    Parameters
    ----------
    surface : str
    steps : int
        Iterations (= gradient evaluations).
    history_size : int
        Pairs kept (torch's default 100; 10 is usual).
    lr : float

    Returns
    -------
    Trajectory
    """
    surface = _surface(surface)
    steps = check_int("steps", steps, 1, MAX_SURFACE_STEPS)
    history_size = check_int("history_size", history_size, 1, 1000)
    lr = check_real("lr", lr, 0, low_open=True)
    x = np.array(surface.start, dtype=np.float64)
    points = [x.copy()]
    g = surface.grad(x)
    if np.abs(g).max() <= 1e-7:
        return _trajectory(surface, points, "L-BFGS", history_size=history_size, lr=lr)
    dirs, stps, ro = [], [], []  # y_i, s_i, 1/y_i.s_i (torch's old_dirs, old_stps, ro)
    d = t = g_prev = None
    h_diag = 1.0
    for n in range(1, steps + 1):
        if n == 1:
            d = -g
        else:
            y, s = g - g_prev, d * t
            ys = float(y @ s)
            if ys > 1e-10:
                if len(dirs) == history_size:
                    dirs.pop(0), stps.pop(0), ro.pop(0)
                dirs.append(y), stps.append(s), ro.append(1.0 / ys)
                h_diag = ys / float(y @ y)
            q = -g
            al = [0.0] * len(dirs)
            for i in range(len(dirs) - 1, -1, -1):
                al[i] = float(stps[i] @ q) * ro[i]
                q = q - al[i] * dirs[i]
            r = q * h_diag
            for i in range(len(dirs)):
                be_i = float(dirs[i] @ r) * ro[i]
                r = r + (al[i] - be_i) * stps[i]
            d = r
        g_prev = g
        t = min(1.0, 1.0 / float(np.abs(g).sum())) * lr if n == 1 else lr
        if float(g @ d) > -1e-9:  # not a descent direction (torch's tolerance_change)
            break
        x = x + t * d
        points.append(x.copy())
        if not np.all(np.abs(x) <= surface.bound):
            break
        g = surface.grad(x)
        if np.abs(g).max() <= 1e-7:  # torch's tolerance_grad
            break
    return _trajectory(surface, points, "L-BFGS", history_size=history_size, lr=lr)


def steps_below(trajectory: Trajectory, tol: float, f_min: float | None = None) -> int | None:
    """First step whose :math:`f - f_\\min` is below ``tol`` (None if never)."""
    if not isinstance(trajectory, Trajectory):
        raise ValueError(
            f"trajectory must be a Trajectory (as run returns); got {type(trajectory).__name__}"
        )
    tol = check_real("tol", tol, 0, low_open=True)
    if f_min is None:
        f_min = SURFACES[trajectory.settings.get("surface", "quadratic")].f_min
    f_min = check_real("f_min", f_min)
    hits = np.flatnonzero(trajectory.values - f_min < tol)
    return int(hits[0]) if len(hits) else None


def outcome(trajectory: Trajectory, tol: float = 1e-8) -> str:
    """The step at which :math:`f - f_\\min < ` ``tol`` as a string, or where the run ended
    instead (``"not in 100: ends at (0.00, 0.00)"``)."""
    k = steps_below(trajectory, tol)
    if k is not None:
        return str(k)
    x, y = trajectory.points[-1]
    return f"not in {len(trajectory.points) - 1}: ends at ({x:.2f}, {y:.2f})"
