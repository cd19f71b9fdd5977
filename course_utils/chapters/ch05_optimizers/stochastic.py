"""Chapter 05: the optimisers with noisy gradients.

- :func:`momentum_noise_floor`: heavy ball's stationary :math:`\\mathbb{E}[f - f_\\min]` on a
  quadratic when each gradient carries independent noise (closed form), and
  :func:`noisy_runs`, the same measured over many seeds at once;
- :func:`noisy_race`: the surface race with noisy gradients, many seeds at once;
- :func:`sparse_features`: AdaGrad against SGD on a regression where one feature is rare
  (Duchi, Hazan & Singer, JMLR 2011: rare features keep large steps).

Every run here drives this course's :mod:`course_utils.optim` classes on arrays of shape
(seeds, n): the rules act per coordinate, so each row is an independent run.
"""

from __future__ import annotations

import numpy as np

from course_utils import optim
from course_utils.chapters.ch05_optimizers.surfaces import (
    MAX_SURFACE_STEPS,
    QUADRATIC_EIGENVALUES,
    SURFACES,
    Surface,
)
from course_utils.validation import (
    MAX_ELEMENTS,
    MAX_ITEMS,
    check_array,
    check_choice,
    check_elements,
    check_finite_result,
    check_int,
    check_real,
    check_seed,
    make_rng,
)

__all__ = [
    "momentum_noise_floor",
    "noisy_runs",
    "noise_floor_run",
    "median_quartiles",
    "batch_grad",
    "noisy_race",
    "sparse_features",
]


#: Largest learning rate and noise accepted (beyond any stable or meaningful setting; keeps
#: squares finite).
MAX_STEP = 1e6
MAX_NOISE = 1e6


def _eigenvalues(eigenvalues) -> np.ndarray:
    lam = check_array("eigenvalues", eigenvalues, ndim=1, min_size=1, limit=MAX_ITEMS)
    if not np.all(lam > 0):
        raise ValueError(f"eigenvalues must be positive numbers; got {eigenvalues!r}")
    return lam


def momentum_noise_floor(eigenvalues, lr: float, momentum: float, noise: float) -> float:
    """Stationary :math:`\\mathbb{E}[f - f_\\min]` of heavy ball with noisy gradients.

    On :math:`f = \\tfrac12\\sum_i\\lambda_i x_i^2` with gradients
    :math:`\\lambda_i x_i + \\sigma\\xi_i` (:math:`\\xi_i \\sim N(0, 1)` independent), the
    recursion :math:`x_{t+1} = (1+\\mu-\\eta\\lambda)x_t - \\mu x_{t-1} - \\eta\\sigma\\xi_t`
    settles at the variance (solve the stationary second moments of the 2-by-2 recursion)

    .. math:: \\operatorname{Var}[x_i] = \\frac{\\eta\\sigma^2(1+\\mu)}
              {\\lambda_i(1-\\mu)\\,(2(1+\\mu) - \\eta\\lambda_i)},

    so :math:`\\mathbb{E}[f_i] = \\tfrac12\\lambda_i\\operatorname{Var}[x_i] \\approx
    \\frac{\\sigma^2}{4}\\,\\frac{\\eta}{1-\\mu}` for small :math:`\\eta\\lambda_i`: the floor
    grows with the *effective* step :math:`\\eta/(1-\\mu)`, as plain SGD's grows with
    :math:`\\eta`.

    Parameters
    ----------
    eigenvalues : array-like, shape (n,)
    lr, momentum, noise : float
        :math:`\\eta > 0`, :math:`\\mu \\in [0, 1)`, :math:`\\sigma \\ge 0`; the iteration must
        be stable (:math:`\\eta\\lambda_i < 2(1+\\mu)`).

    Returns
    -------
    float
        :math:`\\sum_i \\mathbb{E}[f_i]`.
    """
    lam = _eigenvalues(eigenvalues)
    lr = check_real("lr", lr, 0, MAX_STEP, low_open=True)
    momentum = check_real("momentum", momentum, 0, 1, high_open=True)
    noise = check_real("noise", noise, 0, MAX_NOISE)
    if np.any(lr * lam >= 2 * (1 + momentum)):
        raise ValueError(
            f"lr * eigenvalue must be < 2 (1 + momentum) = {2 * (1 + momentum):g} "
            "(beyond it the iteration diverges and there is no floor)"
        )
    var = lr * noise**2 * (1 + momentum) / (lam * (1 - momentum) * (2 * (1 + momentum) - lr * lam))
    return float(np.sum(0.5 * lam * var))


def noisy_runs(
    eigenvalues,
    start,
    lr: float,
    momentum: float,
    noise: float,
    steps: int,
    seeds: int = 100,
    seed=0,
) -> np.ndarray:
    """Mean :math:`f - f_\\min` per step of ``optim.SGD(lr, momentum)`` over ``seeds`` runs
    with noisy gradients :math:`\\lambda_i x_i + \\sigma\\xi_i` on the quadratic.

    Parameters
    ----------
    eigenvalues : array-like, shape (n,)
    start : array-like, shape (n,)
    lr, momentum, noise : float
    steps, seeds : int
    seed : int or Generator

    Returns
    -------
    ndarray, shape (steps + 1,)
    """
    lam = _eigenvalues(eigenvalues)
    start = check_array("start", start, shape=(len(lam),), limit=len(lam))
    lr = check_real("lr", lr, 0, MAX_STEP)
    momentum = check_real("momentum", momentum, 0, 1, high_open=True)
    noise = check_real("noise", noise, 0, MAX_NOISE)
    steps = check_int("steps", steps, 1, MAX_SURFACE_STEPS)
    seeds = check_int("seeds", seeds, 1, MAX_ITEMS)
    check_elements("the noise drawn (steps x seeds x n)", (steps, seeds, len(lam)))
    rng = make_rng(check_seed("seed", seed))
    x = np.tile(start, (seeds, 1))
    opt = optim.SGD([x], lr=lr, momentum=momentum)
    xi = rng.standard_normal((steps, seeds, len(lam)))
    out = np.empty(steps + 1)
    out[0] = 0.5 * float(lam @ start**2)
    with np.errstate(all="ignore"):
        for t in range(steps):
            opt.step([lam * x + noise * xi[t]])
            out[t + 1] = 0.5 * float(np.mean((x * x) @ lam))
    check_finite_result("the mean f", out, "the run diverged: lower lr")
    return out


def noise_floor_run(
    eigenvalues,
    start,
    lr: float,
    momentum: float,
    noise: float,
    steps: int = 600,
    seeds: int = 100,
    seed=0,
) -> dict:
    """Heavy ball with noisy gradients on the quadratic: the floor, predicted and measured.

    Runs :func:`noisy_runs` and compares with :func:`momentum_noise_floor`.

    Returns
    -------
    dict with ``effective_step`` :math:`\\eta/(1-\\mu)`, ``floor`` (theory),
    ``measured`` (mean :math:`f - f_\\min` over the second half of the steps and the seeds)
    and ``settled`` (the first step whose mean is below twice the floor, or None).
    """
    floor = momentum_noise_floor(eigenvalues, lr, momentum, noise)
    curve = noisy_runs(eigenvalues, start, lr, momentum, noise, steps, seeds, seed)
    below = np.flatnonzero(curve < 2 * floor)
    return dict(
        effective_step=lr / (1 - momentum),
        floor=floor,
        measured=float(curve[steps // 2 :].mean()),
        settled=int(below[0]) if len(below) else None,
    )


def median_quartiles(values) -> str:
    """``"median [first quartile, third quartile]"`` of ``values`` (2 significant digits;
    ``"diverged"`` counts as inf)."""
    values = check_array("values", values, ndim=1, finite=False)
    q1, med, q3 = np.percentile(values, [25, 50, 75])
    return f"{med:.1e} [{q1:.0e}, {q3:.0e}]"


def _quadratic(p):
    l1, l2 = QUADRATIC_EIGENVALUES
    return np.stack([l1 * p[..., 0], l2 * p[..., 1]], axis=-1)


def _saddle(p):
    y = p[..., 1]
    return np.stack([p[..., 0], -y + y**3], axis=-1)


def _rosenbrock(p):
    x, y = p[..., 0], p[..., 1]
    return np.stack([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)], axis=-1)


_BATCH_GRADS = {"quadratic": _quadratic, "saddle": _saddle, "rosenbrock": _rosenbrock}


def batch_grad(surface, points) -> np.ndarray:
    """The gradient of a surface of :data:`SURFACES` at many points, shape (..., 2)."""
    name = surface.name if isinstance(surface, Surface) else surface
    check_choice("surface", name, tuple(_BATCH_GRADS))
    points = check_array("points", points)
    if points.shape[-1:] != (2,):
        raise ValueError(f"points must have shape (..., 2); got {points.shape}")
    return _BATCH_GRADS[name](points)


def noisy_race(
    surface, contenders: dict, steps: int, noise: float, seeds: int = 20, seed=0
) -> dict:
    """The race with noisy gradients: each contender run from the surface's start on
    ``seeds`` independent noise sequences at once.

    Gradient :math:`\\nabla f(x) + \\sigma\\xi`, :math:`\\xi \\sim N(0, I_2)`; all
    contenders see the same noise sequence per seed. A run that leaves the surface's bound
    counts as diverged (its value: inf).

    Parameters
    ----------
    surface : str
    contenders : dict of label -> (optimizer name, kwargs with ``lr``)
    steps, seeds : int
    noise : float
        :math:`\\sigma \\ge 0`.
    seed : int or Generator

    Returns
    -------
    dict of label -> ndarray, shape (seeds,)
        :math:`f - f_\\min` at the end of each run.
    """
    from course_utils.chapters.ch05_optimizers.runs import race

    race(surface, contenders, 1)  # validates surface and contenders (one step, cheap)
    s = SURFACES[surface] if not isinstance(surface, Surface) else surface
    steps = check_int("steps", steps, 1, MAX_SURFACE_STEPS)
    seeds = check_int("seeds", seeds, 1, MAX_ITEMS)
    noise = check_real("noise", noise, 0, MAX_NOISE)
    check_elements("the noise drawn (steps x seeds x 2)", (steps, seeds, 2), MAX_ELEMENTS)
    xi = make_rng(check_seed("seed", seed)).standard_normal((steps, seeds, 2))
    out = {}
    with np.errstate(all="ignore"):
        for label, (name, kwargs) in contenders.items():
            x = np.tile(np.asarray(s.start, dtype=np.float64), (seeds, 1))
            opt = optim.OPTIMIZERS[name]([x], **kwargs)
            alive = np.ones(seeds, dtype=bool)
            for t in range(steps):
                opt.step([np.where(alive[:, None], _BATCH_GRADS[s.name](x) + noise * xi[t], 0.0)])
                alive &= np.all(np.abs(x) <= s.bound, axis=1)
            gap = s.value(x) - s.f_min
            out[label] = np.where(alive, gap, np.inf)
    return out


def sparse_features(
    optimizer: str,
    lr: float,
    frequencies=(1.0, 0.05),
    steps: int = 400,
    seeds: int = 50,
    noise: float = 0.1,
    seed=0,
) -> dict:
    """Online linear regression where feature :math:`j` is present in a share
    ``frequencies[j]`` of the examples, with SGD or AdaGrad (one example per step).

    Each example: :math:`x_j = z_j b_j` with :math:`z_j \\sim N(0, 1)`,
    :math:`b_j \\sim \\text{Bernoulli}(p_j)`; target :math:`y = w^{*T}x + \\text{noise}` with
    :math:`w^* = \\mathbf 1`; loss :math:`\\tfrac12(w^Tx - y)^2`, from :math:`w = 0`. A rare
    feature's gradient is 0 in most steps, so AdaGrad's :math:`s_j = \\sum g_j^2` stays small
    and its step :math:`\\eta/\\sqrt{s_j}` large: per coordinate, AdaGrad is gradient descent
    preconditioned by :math:`\\operatorname{diag}(\\sqrt{s_t})^{-1}`.

    Parameters
    ----------
    optimizer : ``"SGD"`` or ``"Adagrad"``
    lr : float
    frequencies : array-like, shape (n,)
        Each in (0, 1].
    steps, seeds : int
    noise : float
    seed : int or Generator

    Returns
    -------
    dict with ``error`` (n,), the mean over seeds of :math:`|w_j - w^*_j|` at the end, and
    ``step_size`` (n,), the mean per-coordinate learning rate at the end (SGD: ``lr``;
    AdaGrad: :math:`\\eta/(\\sqrt{s_j}+\\epsilon)`).
    """
    check_choice("optimizer", optimizer, ("SGD", "Adagrad"))
    lr = check_real("lr", lr, 0, low_open=True)
    p = check_array("frequencies", frequencies, ndim=1, limit=MAX_ITEMS)
    if not np.all((p > 0) & (p <= 1)):
        raise ValueError(f"frequencies must each be in (0, 1]; got {frequencies!r}")
    steps = check_int("steps", steps, 1, MAX_SURFACE_STEPS)
    seeds = check_int("seeds", seeds, 1, MAX_ITEMS)
    noise = check_real("noise", noise, 0, MAX_NOISE)
    n = len(p)
    check_elements("the examples drawn (steps x seeds x n)", (steps, seeds, n))
    rng = make_rng(check_seed("seed", seed))
    X = rng.standard_normal((steps, seeds, n)) * (rng.random((steps, seeds, n)) < p)
    eps = noise * rng.standard_normal((steps, seeds))
    w = np.zeros((seeds, n))
    opt = optim.OPTIMIZERS[optimizer]([w], lr=lr)
    with np.errstate(all="ignore"):
        for t in range(steps):
            r = np.sum((w - 1.0) * X[t], axis=1) - eps[t]
            opt.step([r[:, None] * X[t]])
    if optimizer == "Adagrad":
        step_size = lr / (np.sqrt(opt.state[0]["sum"]) + opt.eps)
    else:
        step_size = np.full((seeds, n), lr)
    return dict(error=np.mean(np.abs(w - 1.0), axis=0), step_size=np.mean(step_size, axis=0))
