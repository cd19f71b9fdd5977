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
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from course_utils.references import reference_answer

__all__ = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "OPTIMIZERS",
           "MAX_PARAMETERS", "adam_step", "nesterov_step", "lecture_momentum", "pytorch_momentum",
           "FAMILY_EDGES", "plot_family_graph", "decay_only", "weight_norm", "digits_race",
           "plot_loss_curves", "TorchAdapter", "step_sizes"]

#: At most this many numbers over all ``params`` (the state needs up to 3 copies more).
MAX_PARAMETERS = 16 * 2**20


def _real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
        raise ValueError(f"{name} must be a real number; got {value!r}")
    return value  # as given, so that messages print it as torch does


#: At most this many steps for the demonstrations below.
MAX_STEPS = 100_000


def _check_steps(steps) -> None:
    if isinstance(steps, bool) or not isinstance(steps, numbers.Integral) \
            or not 1 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be an integer between 1 and {MAX_STEPS}; got {steps!r}")


def _torch_check(ok: bool, message: str) -> None:
    """Raise ``ValueError(message)`` unless ``ok``: torch.optim's own checks and wording."""
    if not ok:
        raise ValueError(message)


def _flag(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False; got {value!r}")
    return bool(value)


def _check_params(params) -> list:
    if isinstance(params, np.ndarray):
        raise ValueError("params must be a list of NumPy arrays (e.g. [w, b]), not one array")
    params = list(params)
    if not params:
        raise ValueError("optimizer got an empty parameter list")
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
        grads = list(grads)
        if len(grads) != len(self.params):
            raise ValueError(f"grads must hold one array per parameter ({len(self.params)}); "
                             f"got {len(grads)}")
        for i, (p, g, state) in enumerate(zip(self.params, grads, self.state)):
            g = np.array(g, dtype=p.dtype)  # a copy: the updates may change it in place
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
        nesterov, maximize = _flag("nesterov", nesterov), _flag("maximize", maximize)
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
        self.maximize = _flag("maximize", maximize)
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
        self.centered, self.maximize = _flag("centered", centered), _flag("maximize", maximize)

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
        self.maximize = _flag("maximize", maximize)

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
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise ValueError(f"betas must be a pair (beta1, beta2); got {betas!r}") from None
        beta1, beta2 = _real("betas[0]", beta1), _real("betas[1]", beta2)
        _torch_check(0.0 <= lr, f"Invalid learning rate: {lr}")
        _torch_check(0.0 <= eps, f"Invalid epsilon value: {eps}")
        _torch_check(0.0 <= beta1 < 1.0, f"Invalid beta parameter at index 0: {beta1}")
        _torch_check(0.0 <= beta2 < 1.0, f"Invalid beta parameter at index 1: {beta2}")
        _torch_check(0.0 <= weight_decay, f"Invalid weight_decay value: {weight_decay}")
        super().__init__(params, lr)
        self.betas, self.eps, self.weight_decay = (beta1, beta2), eps, weight_decay
        self.amsgrad, self.maximize = _flag("amsgrad", amsgrad), _flag("maximize", maximize)
        self.decoupled_weight_decay = _flag("decoupled_weight_decay", decoupled_weight_decay)

    @reference_answer("adam_step")
    def _update(self, p, g, state):
        beta1, beta2 = self.betas
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
        m, v, t = state["exp_avg"], state["exp_avg_sq"], state["step"]
        m += (1 - beta1) * (g - m)  # m = beta1 m + (1 - beta1) g, as torch's lerp
        v *= beta2
        v += (1 - beta2) * g * g
        bias_correction1 = 1 - beta1**t
        bias_correction2 = 1 - beta2**t
        if self.amsgrad:
            np.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
            v = state["max_exp_avg_sq"]
        denom = np.sqrt(v) / math.sqrt(bias_correction2) + self.eps
        p -= (self.lr / bias_correction1) * m / denom


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
    if isinstance(t, bool) or not isinstance(t, numbers.Integral) or t < 1:
        raise ValueError(f"t must be an integer >= 1 (the first step is t = 1); got {t!r}")
    x, dx = np.asarray(x, dtype=np.float64), np.asarray(dx, dtype=np.float64)
    m, v = np.asarray(m, dtype=np.float64), np.asarray(v, dtype=np.float64)
    if not x.shape == dx.shape == m.shape == v.shape:
        raise ValueError(f"x, dx, m, v must have one shape; got {x.shape}, {dx.shape}, "
                         f"{m.shape}, {v.shape}")
    m = beta1 * m + (1 - beta1) * dx
    v = beta2 * v + (1 - beta2) * dx**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    return x - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


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
    if not callable(grad):
        raise ValueError(f"grad must be a function x -> gradient; got {type(grad).__name__}")
    x, v = np.asarray(x, dtype=np.float64), np.asarray(v, dtype=np.float64)
    if x.shape != v.shape:
        raise ValueError(f"x and v must have one shape; got {x.shape} and {v.shape}")
    if not _real("lr", lr) >= 0:
        raise ValueError(f"lr must be >= 0; got {lr!r}")
    if not 0 <= _real("momentum", momentum) < 1:
        raise ValueError(f"momentum must be in [0, 1); got {momentum!r}")
    g = np.asarray(grad(x + momentum * v), dtype=np.float64)
    if g.shape != x.shape:
        raise ValueError(f"grad returned shape {g.shape}; x has {x.shape}")
    v_next = momentum * v - lr * g
    return x + v_next, v_next


def _momentum_args(grad, x0, lr, momentum, steps):
    if not callable(grad):
        raise ValueError(f"grad must be a function x -> gradient; got {type(grad).__name__}")
    _check_steps(steps)
    lr = np.broadcast_to(np.asarray(lr, dtype=np.float64), (steps,))
    if not np.all(np.isfinite(lr)) or np.any(lr < 0):
        raise ValueError("lr must be finite and >= 0 (a number or one value per step)")
    if not 0 <= _real("momentum", momentum) < 1:
        raise ValueError(f"momentum must be in [0, 1); got {momentum!r}")
    return np.array(x0, dtype=np.float64), lr


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
    return np.array(path)


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
    return np.array(path)


#: The lecture's family graph: (parent, child) edges.
FAMILY_EDGES = (("SGD", "Momentum"), ("SGD", "AdaGrad"), ("AdaGrad", "RMSProp"),
                ("AdaGrad", "AdaDelta"), ("Momentum", "Adam"), ("RMSProp", "Adam"),
                ("Adam", "AdamW"))

_FAMILY_POSITIONS = {"SGD": (0, 0), "Momentum": (1, 0.8), "AdaGrad": (1, -0.8),
                     "RMSProp": (2, -0.3), "AdaDelta": (2, -1.3), "Adam": (3, 0.25),
                     "AdamW": (4, 0.25)}
_FAMILY_NOTES = {"SGD": "θ -= η g", "Momentum": "velocity\n(Polyak 1964)",
                 "AdaGrad": "Σ g², per coordinate\n(Duchi+ 2011)",
                 "RMSProp": "running mean of g²\n(Tieleman & Hinton 2012)",
                 "AdaDelta": "units: RMS[Δθ]/RMS[g]\n(Zeiler 2012)",
                 "Adam": "m and v, bias-corrected\n(Kingma & Ba 2015)",
                 "AdamW": "decoupled decay\n(Loshchilov & Hutter 2019)"}


def plot_family_graph(ax):
    """Draw the lecture's optimiser family graph on ``ax`` (matplotlib only, no graphviz).

    Returns
    -------
    list of matplotlib artists (the boxes, then the arrows).
    """
    boxes, arrows = [], []
    for name, (x, y) in _FAMILY_POSITIONS.items():
        boxes.append(ax.text(x, y, name, ha="center", va="center", fontsize=11,
                             bbox=dict(boxstyle="round,pad=0.4", fc="#e8f0fe", ec="#3367d6")))
        boxes.append(ax.text(x, y - 0.3, _FAMILY_NOTES[name], ha="center", va="top",
                             fontsize=7.5, color="#444"))
    for parent, child in FAMILY_EDGES:
        (x0, y0), (x1, y1) = _FAMILY_POSITIONS[parent], _FAMILY_POSITIONS[child]
        arrows.append(ax.annotate("", xy=(x1 - 0.3, y1), xytext=(x0 + 0.3, y0),
                                  arrowprops=dict(arrowstyle="->", color="#555", lw=1.3)))
    ax.set_xlim(-0.5, 4.6)
    ax.set_ylim(-2.1, 1.3)
    ax.set_axis_off()
    return boxes + arrows


# ---------------------------------------------------------------- weight decay: L2 vs decoupled
def decay_only(theta0: float = 1.0, lr: float = 0.01, weight_decay: float = 0.1,
               steps: int = 100) -> dict:
    """A parameter whose loss gradient is 0, under Adam + L2 and under AdamW.

    Adam + L2 feeds :math:`g = \\lambda\\theta` through Adam's normalisation, so
    :math:`\\hat m/\\sqrt{\\hat v} \\approx \\operatorname{sign}(\\theta)` and :math:`\\theta` falls
    by about :math:`\\eta` per step *whatever* :math:`\\lambda` is; AdamW multiplies it by
    :math:`1-\\eta\\lambda` per step (Loshchilov & Hutter, ICLR 2019). Runs :class:`Adam`
    and :class:`AdamW` of this module.

    Returns
    -------
    dict of ``"Adam + L2"`` and ``"AdamW"`` -> ndarray, shape (steps + 1,)
        :math:`\\theta_0, \\theta_1, \\dots`.
    """
    _check_steps(steps)
    out = {}
    for label, cls in (("Adam + L2", Adam), ("AdamW", AdamW)):
        theta = np.array([float(theta0)])
        opt = cls([theta], lr=lr, weight_decay=weight_decay)
        path = [theta[0]]
        for _ in range(steps):
            opt.step([np.zeros(1)])
            path.append(theta[0])
        out[label] = np.array(path)
    return out


def weight_norm(model) -> float:
    """Euclidean norm of all ``weight`` tensors of a torch model (biases excluded)."""
    import torch

    with torch.no_grad():
        return float(torch.sqrt(sum((p.double() ** 2).sum() for name, p in model.named_parameters()
                                    if name.endswith("weight"))))


class TorchAdapter:
    """One of this module's NumPy optimisers, driving the parameters of a torch model.

    The optimiser updates NumPy *views* of the tensors (``p.detach().numpy()`` shares their
    memory), so :func:`course_utils.training.train` can use it through its callable form:
    ``train(model, data, optimizer=lambda params: TorchAdapter(Adam, params, lr=1e-3))``.
    It offers what the loop uses: ``param_groups[0]["lr"]`` (read before every step, so
    ``lr_schedule`` works), ``zero_grad`` and ``step``. A parameter without a gradient gets
    a zero gradient (torch.optim would skip it; in an MLP every parameter has one).
    """

    def __init__(self, optimizer_class, params, **kwargs):
        if isinstance(optimizer_class, str):
            if optimizer_class not in OPTIMIZERS:
                raise ValueError(f"optimizer_class must be one of {', '.join(OPTIMIZERS)}; "
                                 f"got {optimizer_class!r}")
            optimizer_class = OPTIMIZERS[optimizer_class]
        self.tensors = list(params)
        self.optimizer = optimizer_class([p.detach().numpy() for p in self.tensors], **kwargs)
        self.param_groups = [{"lr": self.optimizer.lr, "params": self.tensors}]

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.tensors:
            p.grad = None

    def step(self) -> None:
        self.optimizer.lr = self.param_groups[0]["lr"]
        self.optimizer.step([np.zeros(p.shape, dtype=np.float32) if p.grad is None
                             else p.grad.numpy() for p in self.tensors])


def digits_race(data, contenders: dict, depth: int = 1, width: int = 64, epochs: int = 4,
                batch_size: int = 64, seed: int = 0) -> dict:
    """Train the same MLP (same init, same minibatches) with each of this module's optimisers.

    Uses :func:`course_utils.training.build_mlp` and :func:`~course_utils.training.train`
    with a :class:`TorchAdapter` (the NumPy optimisers of this module, not torch.optim).

    Parameters
    ----------
    data : e.g. :func:`course_utils.data.load_digits`
    contenders : dict of label -> (class name in :data:`OPTIMIZERS`, kwargs with ``lr``)
        E.g. ``{"Adam + L2": ("Adam", dict(lr=0.003, weight_decay=0.01))}``.
    depth, width, epochs, batch_size, seed
        As :func:`~course_utils.training.build_mlp` and :func:`~course_utils.training.train`.

    Returns
    -------
    dict of label -> (History, weight norm after training)
    """
    from course_utils.training import build_mlp, single_torch_thread, train

    out = {}
    with single_torch_thread():
        for label, (name, kwargs) in contenders.items():
            kwargs = dict(kwargs)
            if name not in OPTIMIZERS:
                raise ValueError(f"contender {label!r}: optimizer must be one of "
                                 f"{', '.join(OPTIMIZERS)}; got {name!r}")
            if "lr" not in kwargs:
                raise ValueError(f"contender {label!r} needs an lr in its kwargs")
            model = build_mlp(data.x_train.shape[1], int(data.y_train.max()) + 1, depth=depth,
                              width=width, seed=seed)
            history = train(model, data,
                            optimizer=lambda params: TorchAdapter(name, params, **kwargs),
                            epochs=epochs, batch_size=batch_size, seed=seed, progress=False)
            out[label] = (history, weight_norm(model))
    return out


def plot_loss_curves(axes, results: dict, smooth: int = 5):
    """Minibatch loss (moving average over ``smooth`` steps) per optimiser on ``axes[0]``,
    validation accuracy per epoch on ``axes[1]``; ``results`` as :func:`digits_race`.
    Returns the lines."""
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


def step_sizes(optimizer: str, steps: int = 1000, gradient: float = 1.0, **kwargs) -> np.ndarray:
    """How far one parameter moves at each step under a constant gradient.

    Shows the learning-rate schedule an adaptive method builds in: Adagrad's steps shrink
    like :math:`\\eta/\\sqrt{t}`; RMSprop's settle at :math:`\\eta` (after a first step of
    :math:`\\eta/\\sqrt{1-\\alpha}`, 10 times larger at :math:`\\alpha = 0.99`); Adam's are
    :math:`\\eta` from the first step on (its bias correction).

    Parameters
    ----------
    optimizer : str
        A class name of :data:`OPTIMIZERS`.
    steps : int
    gradient : float
        The constant gradient.
    **kwargs
        Hyperparameters (``lr`` ...).

    Returns
    -------
    ndarray, shape (steps,)
        :math:`|\\theta_t - \\theta_{t-1}|` for t = 1..steps.
    """
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {', '.join(OPTIMIZERS)}; got {optimizer!r}")
    _check_steps(steps)
    theta = np.zeros(1)
    opt = OPTIMIZERS[optimizer]([theta], **kwargs)
    g = np.array([float(gradient)])
    path = np.empty(steps + 1)
    path[0] = 0.0
    for t in range(1, steps + 1):
        opt.step([g])
        path[t] = theta[0]
    return np.abs(np.diff(path))
