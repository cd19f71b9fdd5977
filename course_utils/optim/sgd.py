"""Gradient descent with momentum: the base class, SGD (heavy ball, Nesterov), and the two
momentum conventions, as the lecture derives them (see :mod:`course_utils.optim`)."""

from __future__ import annotations

import numpy as np

from course_utils.optim._checks import (
    _check_params,
    _momentum_args,
    _nonnegative,
    _real,
)
from course_utils.references import reference_answer
from course_utils.validation import (
    check_array,
    check_bool,
    check_callable,
    check_finite_result,
    check_real,
    check_sequence,
)

__all__ = ["Optimizer", "SGD", "lecture_momentum", "pytorch_momentum", "nesterov_step"]


class Optimizer:
    """Base class: ``params`` (list of arrays, updated in place) and ``step(grads)``.

    Attributes
    ----------
    params : list of ndarray
        The arrays given, updated in place by :meth:`step`.
    state : list of dict
        Per-parameter state (``"step"``, momentum buffers, running averages), as torch's
        ``optimizer.state[p]``.
    lr : float
        The learning rate (may be changed between steps).
    """

    def __init__(self, params, lr: float):
        self.params = _check_params(params)
        self.lr = lr
        self.state = [{} for _ in self.params]

    def step(self, grads) -> None:
        """One update of every parameter from its gradient (same shapes as ``params``)."""
        grads = check_sequence("grads", grads, min_len=0, max_len=len(self.params) + 1)
        if len(grads) != len(self.params):
            raise ValueError(
                f"grads must hold one array per parameter ({len(self.params)}); got {len(grads)}"
            )
        for i, (p, g, state) in enumerate(zip(self.params, grads, self.state)):
            g = np.array(
                check_array(f"grads[{i}]", g, dtype=p.dtype, finite=False, min_size=0),
                dtype=p.dtype,
            )  # a copy: the updates may change it in place
            if g.shape != p.shape:
                raise ValueError(f"grads[{i}] has shape {g.shape}; params[{i}] has {p.shape}")
            state["step"] = state.get("step", 0) + 1
            self._update(p, g, state)

    def _update(self, p, g, state) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.defaults.items())})"

    @property
    def defaults(self) -> dict:
        return {k: v for k, v in vars(self).items() if k not in ("params", "state")}


class SGD(Optimizer):
    """Stochastic gradient descent with optional (heavy-ball or Nesterov) momentum.

    Parameters
    ----------
    params : list of ndarray
        Updated in place.
    lr : float
        Learning rate :math:`\\eta` (torch's default 1e-3).
    momentum : float
        :math:`\\mu` in :math:`b_t = \\mu b_{t-1} + (1-\\tau) g_t`; 0 is plain SGD.
    dampening : float
        :math:`\\tau` (not applied at the first step, where :math:`b_1 = g_1`).
    weight_decay : float
        L2 penalty :math:`\\lambda`: :math:`g_t \\leftarrow g_t + \\lambda\\theta_{t-1}`.
    nesterov : bool
        Step along :math:`g_t + \\mu b_t` (Sutskever et al., ICML 2013's form of Nesterov 1983).
    maximize : bool
        Ascend instead of descend.

    Notes
    -----
    Heavy-ball momentum: Polyak, USSR Comput. Math. Math. Phys., 1964. CS231n (lecture 7 and
    its assignment's ``sgd_momentum``; the seed's notes give no formula) writes
    :math:`v \\leftarrow \\rho v - \\eta g;\\ \\theta \\leftarrow \\theta + v`; with a
    constant :math:`\\eta` it is the same sequence (:math:`v = -\\eta b`), see
    :func:`lecture_momentum`.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0,
        dampening=0,
        weight_decay=0,
        nesterov=False,
        *,
        maximize=False,
    ):
        dampening = _real("dampening", dampening)
        lr, momentum, weight_decay = _nonnegative(
            lr=lr, momentum=momentum, weight_decay=weight_decay
        )
        nesterov, maximize = check_bool("nesterov", nesterov), check_bool("maximize", maximize)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, lr)
        self.momentum, self.dampening, self.weight_decay = momentum, dampening, weight_decay
        self.nesterov, self.maximize = nesterov, maximize

    @reference_answer("nesterov_step", "momentum_update_ratios")  # its step answers both
    def _update(self, p, g, state):
        if self.maximize:
            g = -g
        if self.weight_decay != 0:
            g += self.weight_decay * p
        if self.momentum != 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = g.copy()
            else:
                b = state["momentum_buffer"]
                b *= self.momentum
                b += (1 - self.dampening) * g
            b = state["momentum_buffer"]
            g = g + self.momentum * b if self.nesterov else b
        p -= self.lr * g


# ---------------------------------------------------------------- momentum: two conventions
def lecture_momentum(grad, x0, lr, momentum, steps):
    """Momentum in the velocity form CS231n's lecture uses: :math:`v \\leftarrow \\rho v -
    \\eta g`, :math:`x \\leftarrow x + v`, from :math:`v = 0` (the seed's notes give no
    formula; the name says where the form comes from).

    Parameters
    ----------
    grad : callable, x (D,) -> gradient (D,)
    x0 : array-like, shape (D,)
    lr : float or array of shape (steps,)
        :math:`\\eta`, constant or one value per step (a schedule).
    momentum : float
        :math:`\\rho` in [0, 1).
    steps : int

    Returns
    -------
    ndarray, shape (steps + 1, D)
        :math:`x_0, x_1, \\dots`.
    """
    x, lr = _momentum_args(grad, x0, lr, momentum, steps)
    v = np.zeros_like(x)
    path = [x.copy()]
    for k in range(steps):
        v = momentum * v - lr[k] * grad(x)
        x = x + v
        path.append(x.copy())
    path = np.array(path)
    check_finite_result("the path", path, "it diverged: use a smaller lr")
    return path


def pytorch_momentum(grad, x0, lr, momentum, steps):
    """PyTorch's momentum (``SGD(momentum=mu)``): :math:`b \\leftarrow \\mu b + g`,
    :math:`x \\leftarrow x - \\eta b`, run through :class:`SGD` itself.

    Same arguments and return as :func:`lecture_momentum`. With a constant :math:`\\eta` the
    two give the same points (:math:`v = -\\eta b`); when :math:`\\eta` changes, PyTorch's
    form rescales the accumulated velocity at once, the velocity form keeps the old step sizes in
    :math:`v`.
    """
    x, lr = _momentum_args(grad, x0, lr, momentum, steps)
    opt = SGD([x], lr=float(lr[0]), momentum=momentum)
    path = [x.copy()]
    for k in range(steps):
        opt.lr = float(lr[k])
        opt.step([grad(x)])
        path.append(x.copy())
    path = np.array(path)
    check_finite_result("the path", path, "it diverged: use a smaller lr")
    return path


@reference_answer("nesterov_step")
def nesterov_step(grad, x, v, lr, momentum):
    """One step of Nesterov momentum in the velocity form (the chapter's exercise; pure).

    The gradient is taken at the look-ahead point, where the velocity is about to carry the
    parameters (Sutskever, Martens, Dahl & Hinton, ICML 2013's form of Nesterov 1983).

    Parameters
    ----------
    grad : callable, array (D...) -> gradient (D...)
        :math:`\\nabla f`.
    x, v : ndarray, same shape
        :math:`\\theta_{t-1}` and the velocity :math:`v_{t-1}` (zeros before the first step).
    lr : float
        :math:`\\eta` >= 0.
    momentum : float
        :math:`\\rho` in [0, 1).

    Returns
    -------
    (x_next, v_next) : tuple of ndarray
        New arrays; the inputs are not changed.

    Formula
    -------
    :math:`v_t = \\rho\\,v_{t-1} - \\eta\\,\\nabla f(\\theta_{t-1} + \\rho\\,v_{t-1})`,
    :math:`\\theta_t = \\theta_{t-1} + v_t`. With :math:`\\phi = \\theta + \\rho v` and
    :math:`b = -v/\\eta` it is ``SGD(nesterov=True)``'s step on :math:`\\phi` (constant
    :math:`\\eta`).
    """
    check_callable("grad", grad)
    x = check_array("x", x)
    v = check_array("v", v, shape=x.shape)
    lr = check_real("lr", lr, 0)
    momentum = check_real("momentum", momentum, 0, 1, high_open=True)
    g = np.asarray(grad(x + momentum * v), dtype=np.float64)
    if g.shape != x.shape:
        raise ValueError(f"grad returned shape {g.shape}; x has {x.shape}")
    v_next = momentum * v - lr * g
    check_finite_result(
        "nesterov_step's result", v_next, "grad returned NaN or inf, or lr is too large"
    )
    return x + v_next, v_next
