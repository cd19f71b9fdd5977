"""Chapter 05: the optimisers of the lecture's family graph, from scratch in NumPy.

Each class has ``torch.optim``'s name, keyword names, defaults and validation messages
(``ValueError("Invalid learning rate: -1")``), keeps its state per parameter, and updates a
list of NumPy arrays in place with ``opt.step(grads)``. The unit tests run 100 steps of each
against ``torch.optim`` (float64) and require the same trajectory to 1e-6 relative.

The update rules, for a parameter :math:`\\theta`, its gradient :math:`g_t` at step
:math:`t = 1, 2, \\dots` and the learning rate :math:`\\eta` (weight decay :math:`\\lambda`,
when not decoupled, first replaces :math:`g_t` by :math:`g_t + \\lambda\\theta_{t-1}`):

===========  =====================================================================
SGD          :math:`b_t = \\mu b_{t-1} + (1-\\tau) g_t` (:math:`b_1 = g_1`),
             :math:`\\theta_t = \\theta_{t-1} - \\eta\\,b_t` (Nesterov:
             :math:`- \\eta (g_t + \\mu b_t)`). Polyak 1964; Nesterov 1983;
             Sutskever et al. 2013.
Adagrad      :math:`s_t = s_{t-1} + g_t^2`,
             :math:`\\theta_t = \\theta_{t-1} - \\eta_t\\,g_t / (\\sqrt{s_t} + \\epsilon)`,
             :math:`\\eta_t = \\eta / (1 + (t-1)\\,\\text{lr\\_decay})`. Duchi, Hazan &
             Singer, JMLR 2011.
RMSprop      :math:`v_t = \\alpha v_{t-1} + (1-\\alpha) g_t^2`,
             :math:`\\theta_t = \\theta_{t-1} - \\eta\\,g_t / (\\sqrt{v_t} + \\epsilon)`.
             Tieleman & Hinton, Coursera lecture 6.5, 2012.
Adadelta     :math:`v_t = \\rho v_{t-1} + (1-\\rho) g_t^2`,
             :math:`\\Delta_t = \\sqrt{u_{t-1} + \\epsilon} / \\sqrt{v_t + \\epsilon}\\; g_t`,
             :math:`u_t = \\rho u_{t-1} + (1-\\rho)\\Delta_t^2`,
             :math:`\\theta_t = \\theta_{t-1} - \\eta\\Delta_t`. Zeiler, arXiv:1212.5701, 2012.
Adam         :math:`m_t = \\beta_1 m_{t-1} + (1-\\beta_1) g_t`,
             :math:`v_t = \\beta_2 v_{t-1} + (1-\\beta_2) g_t^2`,
             :math:`\\theta_t = \\theta_{t-1} - \\eta\\,\\hat m_t / (\\sqrt{\\hat v_t} + \\epsilon)`
             with :math:`\\hat m_t = m_t / (1-\\beta_1^t)`,
             :math:`\\hat v_t = v_t / (1-\\beta_2^t)`. Kingma & Ba, ICLR 2015.
AdamW        Adam without the L2 term in :math:`g_t`; instead
             :math:`\\theta \\leftarrow (1 - \\eta\\lambda)\\theta` before the Adam step.
             Loshchilov & Hutter, ICLR 2019.
===========  =====================================================================

Implemented options: ``momentum``, ``dampening``, ``nesterov``, ``weight_decay`` and
``maximize`` (SGD); ``lr_decay``, ``initial_accumulator_value`` (Adagrad); ``alpha``,
``momentum``, ``centered`` (RMSprop); ``rho`` (Adadelta); ``betas``, ``amsgrad``,
``decoupled_weight_decay`` (Adam). Left out, because they choose *how* torch computes, not
*what*: ``foreach``, ``fused``, ``capturable``, ``differentiable``; also tensor-valued
``lr``/``betas`` and parameter groups (one learning rate for all ``params`` here; set
``opt.lr`` to change it, as a scheduler would).

Beside the classes, the steps as functions: :func:`adam_step` (Adam as the paper writes it,
pure: the chapter's exercise), :func:`adam_update` (the same step in torch's form, in place:
:class:`Adam` calls it), :func:`nesterov_step` (the lecture's velocity form), and the two
momentum conventions, :func:`lecture_momentum` and :func:`pytorch_momentum`.
"""

from __future__ import annotations

import math

import numpy as np

from course_utils.references import reference_answer
from course_utils.validation import (MAX_ELEMENTS, MAX_ITEMS, check_array, check_bool,
                                     check_callable, check_finite_result, check_int, check_real,
                                     check_sequence)

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "OPTIMIZERS",
           "adam_step", "adam_update", "nesterov_step", "lecture_momentum", "pytorch_momentum",
           "MAX_PARAMETERS", "MAX_TRAJECTORY_STEPS"]

#: At most this many numbers over all ``params`` (the state needs up to 3 copies more: 16 Mi
#: float64 numbers and their state are about 0.5 GB, what a 2 GB server can spare).
MAX_PARAMETERS = MAX_ELEMENTS
#: At most this many steps of :func:`lecture_momentum` / :func:`pytorch_momentum` (and the
#: chapter's step-size runs): 10**5 Python-level steps take about a second.
MAX_TRAJECTORY_STEPS = 100_000


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
            raise ValueError(f"grads must hold one array per parameter ({len(self.params)}); "
                             f"got {len(grads)}")
        for i, (p, g, state) in enumerate(zip(self.params, grads, self.state)):
            g = np.array(check_array(f"grads[{i}]", g, dtype=p.dtype, finite=False, min_size=0),
                         dtype=p.dtype)  # a copy: the updates may change it in place
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
    Heavy-ball momentum: Polyak, USSR Comput. Math. Math. Phys., 1964. The lecture (CS231n)
    writes :math:`v \\leftarrow \\rho v - \\eta g;\\ \\theta \\leftarrow \\theta + v`; with a
    constant :math:`\\eta` it is the same sequence (:math:`v = -\\eta b`), see
    :func:`lecture_momentum`.
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False):
        lr, momentum = _real("lr", lr), _real("momentum", momentum)
        dampening, weight_decay = _real("dampening", dampening), _real("weight_decay", weight_decay)
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
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
    """The lecture's (CS231n's) momentum: :math:`v \\leftarrow \\rho v - \\eta g`,
    :math:`x \\leftarrow x + v`, from :math:`v = 0`.

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
    form rescales the accumulated velocity at once, the lecture's keeps the old step sizes in
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
    """One step of Nesterov momentum in the lecture's velocity form (the chapter's exercise; pure).

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
    check_finite_result("nesterov_step's result", v_next, "grad returned NaN or inf, or lr is too large")
    return x + v_next, v_next


class Adagrad(Optimizer):
    """Adagrad: a per-coordinate learning rate :math:`\\eta / \\sqrt{\\sum_t g_t^2}`.

    Parameters
    ----------
    params : list of ndarray
    lr : float
        :math:`\\eta` (default 1e-2).
    lr_decay : float
        :math:`\\eta_t = \\eta / (1 + (t-1)\\,\\text{lr\\_decay})`.
    weight_decay : float
        L2 penalty added to the gradient.
    initial_accumulator_value : float
        Starting value of the sum of squares :math:`s_0`.
    eps : float
        Added to :math:`\\sqrt{s_t}` (default 1e-10).
    maximize : bool

    Notes
    -----
    Duchi, Hazan & Singer, "Adaptive subgradient methods for online learning and stochastic
    optimization", JMLR 2011. :math:`s_t` only grows, so every step size decays like
    :math:`1/\\sqrt{t}` for a steady gradient: RMSprop's motivation.
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0,
                 initial_accumulator_value=0, eps=1e-10, *, maximize=False):
        lr, lr_decay = _real("lr", lr), _real("lr_decay", lr_decay)
        weight_decay, eps = _real("weight_decay", weight_decay), _real("eps", eps)
        initial = _real("initial_accumulator_value", initial_accumulator_value)
        _torch_check(0.0 <= lr, f"Invalid learning rate: {lr}")
        _torch_check(0.0 <= lr_decay, f"Invalid lr_decay value: {lr_decay}")
        _torch_check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        _torch_check(0.0 <= initial, f"Invalid initial_accumulator_value value: {initial}")
        _torch_check(0.0 <= eps, f"Invalid epsilon value: {eps}")
        super().__init__(params, lr)
        self.lr_decay, self.weight_decay = lr_decay, weight_decay
        self.initial_accumulator_value, self.eps = initial, eps
        self.maximize = check_bool("maximize", maximize)
        for p, state in zip(self.params, self.state):
            state["sum"] = np.full_like(p, initial)

    def _update(self, p, g, state):
        if self.maximize:
            g = -g
        if self.weight_decay != 0:
            g += self.weight_decay * p
        clr = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        state["sum"] += g * g
        p -= clr * g / (np.sqrt(state["sum"]) + self.eps)


class RMSprop(Optimizer):
    """RMSprop: divide by a running RMS of the gradient, so the step size does not decay.

    Parameters
    ----------
    params : list of ndarray
    lr : float
        :math:`\\eta` (default 1e-2).
    alpha : float
        Decay :math:`\\alpha` of :math:`v_t = \\alpha v_{t-1} + (1-\\alpha) g_t^2` (0.99).
    eps : float
        Added to :math:`\\sqrt{v_t}` (default 1e-8).
    weight_decay : float
    momentum : float
        :math:`b_t = \\mu b_{t-1} + g_t / (\\sqrt{v_t} + \\epsilon)`,
        :math:`\\theta_t = \\theta_{t-1} - \\eta b_t`.
    centered : bool
        Divide by the running *standard deviation*: :math:`\\sqrt{v_t - \\bar g_t^2}`, with
        :math:`\\bar g_t` the running mean of :math:`g` (Graves, arXiv 2013).
    maximize : bool

    Notes
    -----
    Tieleman & Hinton, Coursera "Neural Networks for Machine Learning", lecture 6.5, 2012
    (unpublished; cited as a lecture).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, *, maximize=False):
        lr, alpha, eps = _real("lr", lr), _real("alpha", alpha), _real("eps", eps)
        weight_decay, momentum = _real("weight_decay", weight_decay), _real("momentum", momentum)
        _torch_check(0.0 <= lr, f"Invalid learning rate: {lr}")
        _torch_check(0.0 <= eps, f"Invalid epsilon value: {eps}")
        _torch_check(0.0 <= momentum, f"Invalid momentum value: {momentum}")
        _torch_check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        _torch_check(0.0 <= alpha, f"Invalid alpha value: {alpha}")
        super().__init__(params, lr)
        self.alpha, self.eps, self.weight_decay, self.momentum = alpha, eps, weight_decay, momentum
        self.centered, self.maximize = check_bool("centered", centered), check_bool("maximize", maximize)

    def _update(self, p, g, state):
        if self.maximize:
            g = -g
        if self.weight_decay != 0:
            g += self.weight_decay * p
        if "square_avg" not in state:
            state["square_avg"] = np.zeros_like(p)
            if self.momentum > 0:
                state["momentum_buffer"] = np.zeros_like(p)
            if self.centered:
                state["grad_avg"] = np.zeros_like(p)
        v = state["square_avg"]
        v *= self.alpha
        v += (1 - self.alpha) * g * g
        if self.centered:
            mean = state["grad_avg"]
            mean += (1 - self.alpha) * (g - mean)  # torch's lerp
            avg = np.sqrt(v - mean * mean) + self.eps
        else:
            avg = np.sqrt(v) + self.eps
        if self.momentum > 0:
            b = state["momentum_buffer"]
            b *= self.momentum
            b += g / avg
            p -= self.lr * b
        else:
            p -= self.lr * g / avg


class Adadelta(Optimizer):
    """Adadelta: RMSprop with the units fixed, step = RMS[past steps] / RMS[gradients] * g.

    Parameters
    ----------
    params : list of ndarray
    lr : float
        A factor on the step, :math:`\\eta` (default 1.0: Zeiler's method has none).
    rho : float
        Decay of both running averages (0.9).
    eps : float
        Inside both square roots (1e-6); it also sets the size of the first steps,
        :math:`\\sqrt{\\epsilon}/\\text{RMS}[g]\\,g`.
    weight_decay : float
    maximize : bool

    Notes
    -----
    Zeiler, "ADADELTA: an adaptive learning rate method", arXiv:1212.5701, 2012.
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, *, maximize=False):
        lr, rho, eps = _real("lr", lr), _real("rho", rho), _real("eps", eps)
        weight_decay = _real("weight_decay", weight_decay)
        _torch_check(0.0 <= lr, f"Invalid learning rate: {lr}")
        _torch_check(0.0 <= rho <= 1.0, f"Invalid rho value: {rho}")
        _torch_check(0.0 <= eps, f"Invalid epsilon value: {eps}")
        _torch_check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, lr)
        self.rho, self.eps, self.weight_decay = rho, eps, weight_decay
        self.maximize = check_bool("maximize", maximize)

    def _update(self, p, g, state):
        if self.maximize:
            g = -g
        if self.weight_decay != 0:
            g += self.weight_decay * p
        if "square_avg" not in state:
            state["square_avg"], state["acc_delta"] = np.zeros_like(p), np.zeros_like(p)
        v, u = state["square_avg"], state["acc_delta"]
        v *= self.rho
        v += (1 - self.rho) * g * g
        delta = np.sqrt(u + self.eps) / np.sqrt(v + self.eps) * g
        u *= self.rho
        u += (1 - self.rho) * delta * delta
        p -= self.lr * delta


@reference_answer("adam_step")
def adam_step(x, dx, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam update, written as the paper does (the chapter's exercise; pure).

    Parameters
    ----------
    x, dx : ndarray, same shape
        Parameter :math:`\\theta_{t-1}` and its gradient :math:`g_t`.
    m, v : ndarray, same shape
        :math:`m_{t-1}`, :math:`v_{t-1}` (zeros before the first step).
    t : int
        The step number, 1 for the first update.
    lr, beta1, beta2, eps : float

    Returns
    -------
    (x_next, m, v) : tuple of ndarray
        New arrays; the inputs are not changed.

    Formula
    -------
    :math:`m_t = \\beta_1 m_{t-1} + (1-\\beta_1) g_t`,
    :math:`v_t = \\beta_2 v_{t-1} + (1-\\beta_2) g_t^2`,
    :math:`\\hat m_t = m_t/(1-\\beta_1^t)`, :math:`\\hat v_t = v_t/(1-\\beta_2^t)`,
    :math:`\\theta_t = \\theta_{t-1} - \\eta\\,\\hat m_t/(\\sqrt{\\hat v_t} + \\epsilon)`
    (Kingma & Ba, ICLR 2015, Algorithm 1).
    """
    t = check_int("t", t, 1)
    lr, eps = check_real("lr", lr, 0), check_real("eps", eps, 0)
    beta1 = check_real("beta1", beta1, 0, 1, high_open=True)
    beta2 = check_real("beta2", beta2, 0, 1, high_open=True)
    x = check_array("x", x)
    dx, m, v = (check_array(name, a, shape=x.shape) for name, a in (("dx", dx), ("m", m), ("v", v)))
    if np.any(v < 0):
        raise ValueError("v must be >= 0 (a running mean of squared gradients)")
    m = beta1 * m + (1 - beta1) * dx
    v = beta2 * v + (1 - beta2) * dx**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    x_next = x - lr * m_hat / (np.sqrt(v_hat) + eps)
    check_finite_result("adam_step's result", x_next, "use a smaller gradient or a larger eps")
    return x_next, m, v


@reference_answer("adam_step")
def adam_update(p, g, m, v, t, lr, beta1, beta2, eps, v_max=None):
    """One Adam step in place, as ``torch.optim.Adam`` computes it (the step of :class:`Adam`).

    The same step as :func:`adam_step`, rearranged: m as torch's lerp, the bias corrections
    folded into the step size, lr / (1 - beta1**t), and into the denominator,
    sqrt(v) / sqrt(1 - beta2**t) + eps. ``p``, ``m``, ``v`` (and ``v_max``, AMSGrad's running
    maximum of v) are arrays of one shape, updated in place; ``g`` is the gradient of ``p``,
    ``t`` the step number (1 for the first).
    """
    m += (1 - beta1) * (g - m)  # m = beta1 m + (1 - beta1) g, as torch's lerp
    v *= beta2
    v += (1 - beta2) * g * g
    bias_correction1 = 1 - beta1**t
    bias_correction2 = 1 - beta2**t
    if v_max is not None:  # AMSGrad (Reddi, Kale & Kumar, ICLR 2018)
        np.maximum(v_max, v, out=v_max)
        v = v_max
    denom = np.sqrt(v) / math.sqrt(bias_correction2) + eps
    p -= (lr / bias_correction1) * m / denom


class Adam(Optimizer):
    """Adam: momentum on :math:`g` (:math:`m_t`) over an RMSprop scale (:math:`v_t`), both
    bias-corrected.

    Parameters
    ----------
    params : list of ndarray
    lr : float
        :math:`\\eta` (default 1e-3).
    betas : (float, float)
        :math:`(\\beta_1, \\beta_2)`, default (0.9, 0.999).
    eps : float
        Added to :math:`\\sqrt{\\hat v_t}` (default 1e-8).
    weight_decay : float
        L2 penalty *in the gradient* (so it is rescaled by :math:`1/\\sqrt{\\hat v_t}`), or,
        with ``decoupled_weight_decay=True``, AdamW's decay.
    amsgrad : bool
        Divide by the running maximum of :math:`v_t` (Reddi, Kale & Kumar, ICLR 2018).
    maximize : bool
    decoupled_weight_decay : bool

    Notes
    -----
    Kingma & Ba, "Adam: a method for stochastic optimization", ICLR 2015. The step is
    computed as torch does, :math:`\\eta/(1-\\beta_1^t) \\cdot m_t /
    (\\sqrt{v_t}/\\sqrt{1-\\beta_2^t} + \\epsilon)`, which equals
    :math:`\\eta\\,\\hat m_t / (\\sqrt{\\hat v_t} + \\epsilon)` (see :func:`adam_step`).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, maximize=False, decoupled_weight_decay=False):
        lr, eps, weight_decay = _real("lr", lr), _real("eps", eps), _real("weight_decay", weight_decay)
        beta1, beta2 = check_sequence("betas", betas, min_len=2, max_len=2)
        beta1, beta2 = _real("betas[0]", beta1), _real("betas[1]", beta2)
        _torch_check(0.0 <= lr, f"Invalid learning rate: {lr}")
        _torch_check(0.0 <= eps, f"Invalid epsilon value: {eps}")
        _torch_check(0.0 <= beta1 < 1.0, f"Invalid beta parameter at index 0: {beta1}")
        _torch_check(0.0 <= beta2 < 1.0, f"Invalid beta parameter at index 1: {beta2}")
        _torch_check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, lr)
        self.betas, self.eps, self.weight_decay = (beta1, beta2), eps, weight_decay
        self.amsgrad, self.maximize = check_bool("amsgrad", amsgrad), check_bool("maximize", maximize)
        self.decoupled_weight_decay = check_bool("decoupled_weight_decay", decoupled_weight_decay)

    @reference_answer("adam_step")
    def _update(self, p, g, state):
        if self.maximize:
            g = -g
        if self.weight_decay != 0:
            if self.decoupled_weight_decay:
                p *= 1 - self.lr * self.weight_decay
            else:
                g += self.weight_decay * p
        if "exp_avg" not in state:
            state["exp_avg"], state["exp_avg_sq"] = np.zeros_like(p), np.zeros_like(p)
            if self.amsgrad:
                state["max_exp_avg_sq"] = np.zeros_like(p)
        adam_update(p, g, state["exp_avg"], state["exp_avg_sq"], state["step"], self.lr,
                    *self.betas, self.eps, v_max=state.get("max_exp_avg_sq"))


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay, :math:`\\theta \\leftarrow (1-\\eta\\lambda)
    \\theta` before the Adam step (Loshchilov & Hutter, ICLR 2019). Default
    ``weight_decay=1e-2``; other parameters as :class:`Adam`."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize,
                         decoupled_weight_decay=True)


#: The classes by name, as ``torch.optim``.
OPTIMIZERS = {cls.__name__: cls for cls in (SGD, Adagrad, RMSprop, Adadelta, Adam, AdamW)}


# ---------------------------------------------------------------- argument checks (torch's wording)
def _real(name: str, value):
    """``value`` if it is a finite real number (returned as given, so that messages print it
    as torch does: ``Invalid learning rate: -1``)."""
    check_real(name, value)
    return value


def _torch_check(ok: bool, message: str) -> None:
    """Raise ``ValueError(message)`` unless ``ok``: torch.optim's own checks and wording."""
    if not ok:
        raise ValueError(message)


def _check_params(params) -> list:
    if isinstance(params, np.ndarray):
        raise ValueError("params must be a list of NumPy arrays (e.g. [w, b]), not one array")
    if isinstance(params, (list, tuple)) and not params:
        raise ValueError("optimizer got an empty parameter list")
    params = check_sequence("params", params if isinstance(params, (list, tuple)) else
                            _bounded_list("params", params))
    total = 0
    for i, p in enumerate(params):
        if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
            raise ValueError(f"params[{i}] must be a floating-point NumPy array (updated in "
                             f"place); got {type(p).__name__}"
                             f"{'' if not isinstance(p, np.ndarray) else ' of ' + str(p.dtype)}")
        if not p.flags.writeable:
            raise ValueError(f"params[{i}] is read-only; the optimiser updates it in place")
        total += p.size
    if total > MAX_PARAMETERS:
        raise ValueError(f"params hold {total:,} numbers; at most {MAX_PARAMETERS:,} are allowed")
    return params


def _bounded_list(name: str, items) -> list:
    """The items of an iterable (a generator of parameters, say), refused past MAX_ITEMS."""
    try:
        iterator = iter(items)
    except TypeError:
        raise ValueError(f"{name} must be a list of arrays; got {type(items).__name__}") from None
    out = []
    for item in iterator:
        out.append(item)
        if len(out) > MAX_ITEMS:
            raise ValueError(f"{name} must have at most {MAX_ITEMS} items")
    return out


def _momentum_args(grad, x0, lr, momentum, steps):
    check_callable("grad", grad)
    steps = check_int("steps", steps, 1, MAX_TRAJECTORY_STEPS)
    if np.ndim(lr) == 0:
        lr = check_real("lr", lr, 0)
    lr = check_array("lr", np.broadcast_to(np.asarray(lr, dtype=np.float64), (steps,))
                     if np.ndim(lr) == 0 else lr, ndim=1, shape=(steps,))
    if np.any(lr < 0):
        raise ValueError("lr must be >= 0 (a number or one value per step)")
    check_real("momentum", momentum, 0, 1, high_open=True)
    return check_array("x0", x0, ndim=1).copy(), lr
