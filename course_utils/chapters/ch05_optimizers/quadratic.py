"""Chapter 05: momentum on a quadratic, in closed form.

On :math:`f = \\tfrac12\\sum_i \\lambda_i x_i^2` (the Hessian's eigenbasis) every method below
acts on each coordinate alone, so a :math:`2\\times2` matrix per eigenvalue says everything:

- :func:`iteration_rate`: the per-step rate (spectral radius) of heavy ball or Nesterov for
  any (learning rate, momentum), vectorised over grids (Goh, "Why momentum really works",
  Distill 2017);
- :func:`nesterov_settings`: Nesterov's textbook and tuned settings and their rates
  (Nesterov 2004; Lessard, Recht & Packard, SIAM J. Optim. 2016);
- :func:`momentum_regimes`: the (step size, momentum) phase diagram of one eigenvalue;
- :func:`lower_bound`: the best any first-order method can do (Chebyshev polynomials;
  Nesterov 1983/2004), and :func:`worst_case_error`, what a method does on the worst
  eigenvalue of an interval;
- :func:`eigen_error`: a path's error in the Hessian's eigenbasis and each direction's share
  of :math:`f - f_\\min`;
- :func:`transient_peak`: the largest excursion of one coordinate (the :math:`t\\,r^t` hump at
  critical damping).
"""

from __future__ import annotations

import math

import numpy as np

from course_utils.validation import (
    MAX_ELEMENTS,
    MAX_ITEMS,
    check_array,
    check_bool,
    check_elements,
    check_int,
    check_real,
)

__all__ = [
    "iteration_rate",
    "nesterov_settings",
    "REGIMES",
    "momentum_regimes",
    "lower_bound",
    "worst_case_error",
    "steps_to_tolerance",
    "eigen_error",
    "transient_peak",
]


def _eigenvalues(eigenvalues) -> np.ndarray:
    lam = check_array("eigenvalues", eigenvalues, ndim=1, min_size=1, limit=MAX_ITEMS)
    if not np.all(lam > 0):
        raise ValueError(f"eigenvalues must be positive numbers; got {eigenvalues!r}")
    return lam


def _roots_modulus(a, c):
    """Largest |z| of z**2 - a z + c = 0, elementwise (a, c real arrays)."""
    s = np.sqrt((a * a - 4 * c).astype(np.complex128))
    return np.maximum(np.abs((a + s) / 2), np.abs((a - s) / 2))


def iteration_rate(eigenvalues, lr, momentum, nesterov: bool = False):
    """Per-step contraction rate of heavy ball (or Nesterov) on a quadratic.

    For one eigenvalue :math:`\\lambda` the error obeys a two-term recursion whose
    characteristic polynomial is

    - heavy ball: :math:`z^2 - (1 + \\mu - \\eta\\lambda)\\,z + \\mu`,
    - Nesterov (PyTorch's form, the look-ahead point):
      :math:`z^2 - (1+\\mu)(1-\\eta\\lambda)\\,z + \\mu(1-\\eta\\lambda)`;

    the rate is the largest root modulus, maximised over the eigenvalues (< 1: converges).

    Parameters
    ----------
    eigenvalues : array-like, shape (n,)
        Positive curvatures :math:`\\lambda_i`.
    lr, momentum : float or ndarray
        :math:`\\eta \\ge 0` and :math:`\\mu \\in [0, 1)`; broadcast together (a grid).
    nesterov : bool

    Returns
    -------
    float or ndarray, the broadcast shape of ``lr`` and ``momentum``
    """
    lam = _eigenvalues(eigenvalues)
    nesterov = check_bool("nesterov", nesterov)
    lr = check_array("lr", lr, ndim=None, limit=MAX_ELEMENTS)
    momentum = check_array("momentum", momentum, ndim=None, limit=MAX_ELEMENTS)
    if np.any((lr < 0) | (lr > MAX_LR)):
        raise ValueError(f"lr must be between 0 and {MAX_LR:g}")
    if np.any((momentum < 0) | (momentum >= 1)):
        raise ValueError("momentum must be in [0, 1)")
    shape = np.broadcast_shapes(lr.shape, momentum.shape)
    check_elements("the grid of lr, momentum and eigenvalues", (*shape, len(lam)))
    a_lam = lr[..., None] * lam  # eta * lambda, shape (..., n)
    mu = momentum[..., None]
    if nesterov:
        a, c = (1 + mu) * (1 - a_lam), mu * (1 - a_lam)
    else:
        a, c = 1 + mu - a_lam, mu + 0 * a_lam
    rate = _roots_modulus(a, c).max(axis=-1)
    return float(rate) if rate.ndim == 0 else rate


def nesterov_settings(eigenvalues) -> dict:
    """Nesterov's momentum on a quadratic with curvatures in :math:`[m, L]`, two settings.

    - textbook (Nesterov, *Introductory Lectures on Convex Optimization*, 2004):
      :math:`\\eta = 1/L`, :math:`\\mu = (\\sqrt\\kappa-1)/(\\sqrt\\kappa+1)`, rate
      :math:`1 - 1/\\sqrt\\kappa` (at :math:`\\lambda = m` the two roots coincide);
    - tuned for quadratics (Lessard, Recht & Packard, SIAM J. Optim. 2016):
      :math:`\\eta = 4/(3L+m)`,
      :math:`\\mu = (\\sqrt{3\\kappa+1}-2)/(\\sqrt{3\\kappa+1}+2)`, rate
      :math:`1 - 2/\\sqrt{3\\kappa+1}`.

    Returns
    -------
    dict with ``textbook_lr``, ``textbook_momentum``, ``textbook_rate``, ``tuned_lr``,
    ``tuned_momentum``, ``tuned_rate``.
    """
    lam = _eigenvalues(eigenvalues)
    m, L = float(lam.min()), float(lam.max())
    kappa = L / m
    root, root3 = math.sqrt(kappa), math.sqrt(3 * kappa + 1)
    return dict(
        textbook_lr=1 / L,
        textbook_momentum=(root - 1) / (root + 1),
        textbook_rate=1 - 1 / root,
        tuned_lr=4 / (3 * L + m),
        tuned_momentum=(root3 - 2) / (root3 + 2),
        tuned_rate=1 - 2 / root3,
    )


#: Largest learning rate (or step) accepted: far beyond any stable setting, small enough that
#: the recursions' coefficients stay finite.
MAX_LR = 1e6

#: The phase diagram's regimes, by code.
REGIMES = ("diverges", "monotone", "oscillates", "flips sign")


def momentum_regimes(step, momentum):
    """Goh's phase diagram: what heavy ball does to one eigen-direction.

    With :math:`a = \\eta\\lambda` the roots of :math:`z^2 - (1+\\mu-a)z + \\mu` are

    - complex (:math:`(1-\\sqrt\\mu)^2 < a < (1+\\sqrt\\mu)^2`): the error spirals
      ("oscillates") at rate :math:`\\sqrt\\mu`, whatever :math:`a` is;
    - real, largest one positive (:math:`a \\le (1-\\sqrt\\mu)^2`): "monotone" decay;
    - real, largest one negative (:math:`a \\ge (1+\\sqrt\\mu)^2`): the sign "flips" every
      step;
    - any root modulus :math:`\\ge 1` (:math:`a \\ge 2 + 2\\mu`, or :math:`a \\le 0`):
      "diverges" (or stalls).

    Parameters
    ----------
    step, momentum : float or ndarray
        :math:`a = \\eta\\lambda \\ge 0` and :math:`\\mu \\in [0, 1)`, broadcast together.

    Returns
    -------
    (codes, rates) : ndarray of int and of float, the broadcast shape
        ``codes`` index :data:`REGIMES`; ``rates`` the largest root modulus.
    """
    step = check_array("step", step, ndim=None, limit=MAX_ELEMENTS)
    momentum = check_array("momentum", momentum, ndim=None, limit=MAX_ELEMENTS)
    if np.any((step < 0) | (step > MAX_LR)):
        raise ValueError(f"step must be between 0 and {MAX_LR:g}")
    if np.any((momentum < 0) | (momentum >= 1)):
        raise ValueError("momentum must be in [0, 1)")
    check_elements("the grid of step and momentum", np.broadcast_shapes(step.shape, momentum.shape))
    a, mu = np.broadcast_arrays(step, momentum)
    b = 1 + mu - a
    disc = b * b - 4 * mu
    rates = _roots_modulus(b, mu)
    codes = np.where(disc < 0, 2, np.where(b >= 0, 1, 3))
    codes = np.where(rates >= 1 - 1e-12, 0, codes)
    return codes.astype(int), rates


def lower_bound(kappa: float, steps: int) -> np.ndarray:
    """The smallest worst-case error any first-order method can reach, per step.

    A method whose iterates stay in :math:`x_0 + \\operatorname{span}\\{\\nabla f(x_0), \\dots\\}`
    (GD, heavy ball, Nesterov, conjugate gradients) has, on a quadratic,
    :math:`x_t - x^* = p_t(H)(x_0 - x^*)` with :math:`p_t` a polynomial of degree :math:`t`
    and :math:`p_t(0) = 1`. Over all Hessians with spectrum in :math:`[m, L]` (and enough
    dimensions) the best worst case is the scaled Chebyshev polynomial's,

    .. math:: \\min_{p_t}\\max_{\\lambda\\in[m, L]}|p_t(\\lambda)| =
       \\frac{1}{T_t\\!\\left(\\frac{\\kappa+1}{\\kappa-1}\\right)}
       \\ge 2\\left(\\frac{\\sqrt\\kappa-1}{\\sqrt\\kappa+1}\\right)^t\\Big/\\left(1 +
       \\left(\\frac{\\sqrt\\kappa-1}{\\sqrt\\kappa+1}\\right)^{2t}\\right),

    so no first-order method beats the rate :math:`(\\sqrt\\kappa-1)/(\\sqrt\\kappa+1)` in
    the worst case (Nesterov, Soviet Math. Dokl. 1983; *Introductory Lectures*, 2004,
    Thm. 2.1.13): heavy ball's optimum reaches it.

    Parameters
    ----------
    kappa : float
        Condition number :math:`L/m > 1`.
    steps : int

    Returns
    -------
    ndarray, shape (steps + 1,)
        :math:`1/T_t((\\kappa+1)/(\\kappa-1))` for :math:`t = 0..\\text{steps}`.
    """
    kappa = check_real("kappa", kappa, 1, 1e12, low_open=True)
    steps = check_int("steps", steps, 1, MAX_ITEMS)
    q = (math.sqrt(kappa) - 1) / (math.sqrt(kappa) + 1)
    t = np.arange(steps + 1)
    # T_t(x) = cosh(t arccosh x) = (q**-t + q**t) / 2 for x = (kappa+1)/(kappa-1)
    return 2 * q**t / (1 + q ** (2 * t))


def worst_case_error(
    interval, lr: float, momentum: float, steps: int, nesterov: bool = False, n: int = 400
) -> np.ndarray:
    """A method's error on the worst eigenvalue of ``interval``, from rest, per step.

    Runs the recursion of :func:`iteration_rate` for ``n`` eigenvalues spread
    geometrically over :math:`[m, L]` from :math:`x_0 = 1` (momentum 0 is plain GD) and
    returns :math:`\\max_\\lambda |x_t(\\lambda)|` (for Nesterov, of the look-ahead point that
    PyTorch stores).

    Parameters
    ----------
    interval : (float, float)
        :math:`0 < m < L`.
    lr, momentum : float
    steps : int
    nesterov : bool
    n : int
        Eigenvalues sampled (the ends included).

    Returns
    -------
    ndarray, shape (steps + 1,)
    """
    m, L = check_array("interval", interval, shape=(2,), limit=2)
    if not 0 < m < L:
        raise ValueError(f"interval must be (m, L) with 0 < m < L; got {interval!r}")
    lr = check_real("lr", lr, 0, MAX_LR)
    momentum = check_real("momentum", momentum, 0, 1, high_open=True)
    steps = check_int("steps", steps, 1, MAX_ITEMS)
    nesterov = check_bool("nesterov", nesterov)
    n = check_int("n", n, 2, MAX_ITEMS)
    lam = np.geomspace(m, L, n)
    rate = iteration_rate(lam, lr, momentum, nesterov)
    if rate > 1 + 1e-9:
        raise ValueError(f"this setting diverges on [{m:g}, {L:g}] (rate {rate:.3g}): lower lr")
    x, b = np.ones(n), np.zeros(n)
    out = np.empty(steps + 1)
    out[0] = 1.0
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            g = lam * x
            b = momentum * b + g
            x = x - lr * (g + momentum * b if nesterov else b)
            out[t] = np.abs(x).max()
    return out


def steps_to_tolerance(errors, tol: float) -> int | None:
    """First index ``t`` with ``errors[t] < tol`` (None if none), e.g. on
    :func:`worst_case_error` or :func:`lower_bound`."""
    errors = check_array("errors", errors, ndim=1, finite=False)
    tol = check_real("tol", tol, 0, low_open=True)
    hits = np.flatnonzero(errors < tol)
    return int(hits[0]) if len(hits) else None


def eigen_error(points, hessian, minimum=(0.0, 0.0)) -> dict:
    """A path's error :math:`x_t - x^*` in the eigenbasis of a Hessian.

    With :math:`H = Q\\Lambda Q^T`, the components :math:`c_{t,i} = q_i^T(x_t - x^*)` evolve
    independently on a quadratic (GD: :math:`c_{t,i} = (1-\\eta\\lambda_i)^t c_{0,i}`), and
    :math:`f - f_\\min = \\tfrac12\\sum_i \\lambda_i c_{t,i}^2`.

    Parameters
    ----------
    points : array-like, shape (k + 1, n)
        The path (e.g. ``Trajectory.points``).
    hessian : array-like, shape (n, n)
        Symmetric.
    minimum : array-like, shape (n,)

    Returns
    -------
    dict with ``eigenvalues`` (n,) ascending, ``components`` (k + 1, n) and ``f_share``
    (k + 1, n), each direction's share of :math:`f - f_\\min` (rows sum to 1; NaN where
    the error is 0).
    """
    points = check_array("points", points, ndim=2)
    n = points.shape[1]
    hessian = check_array("hessian", hessian, shape=(n, n), limit=MAX_ITEMS)
    if not np.allclose(hessian, hessian.T):
        raise ValueError("hessian must be symmetric")
    minimum = check_array("minimum", minimum, shape=(n,), limit=n)
    lam, q = np.linalg.eigh(hessian)
    components = (points - minimum) @ q
    energy = 0.5 * lam * components**2
    with np.errstate(all="ignore"):
        share = energy / energy.sum(axis=1, keepdims=True)
    return dict(eigenvalues=lam, components=components, f_share=share)


def transient_peak(points, axis: int = 1) -> tuple:
    """The step and size of the largest :math:`|x_{t,\\text{axis}}|` along a path.

    At critical damping heavy ball's error is :math:`(a + bt)\\,r^t`: the factor :math:`t`
    grows by :math:`(t+1)/t` per step and beats :math:`r` while :math:`t < r/(1-r)`, so
    the excursion first grows, then decays.

    Parameters
    ----------
    points : array-like, shape (k + 1, n)
    axis : int
        The coordinate.

    Returns
    -------
    (step, value) : (int, float)
    """
    points = check_array("points", points, ndim=2)
    axis = check_int("axis", axis, 0, points.shape[1] - 1)
    y = np.abs(points[:, axis])
    k = int(np.argmax(y))
    return k, float(y[k])
