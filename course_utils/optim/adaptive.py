"""Per-parameter learning rates: Adagrad, RMSprop, Adadelta, Adam and AdamW, and Adam's step as
functions (see :mod:`course_utils.optim`)."""

from __future__ import annotations

import math

import numpy as np

from course_utils.optim._checks import (
    _nonnegative,
    _real,
    _torch_check,
)
from course_utils.optim.sgd import Optimizer
from course_utils.references import reference_answer
from course_utils.validation import (
    check_array,
    check_bool,
    check_finite_result,
    check_int,
    check_real,
    check_sequence,
)

__all__ = ["Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "adam_step", "adam_update"]


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

    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0,
        weight_decay=0,
        initial_accumulator_value=0,
        eps=1e-10,
        *,
        maximize=False,
    ):
        lr, lr_decay, weight_decay, initial, eps = _nonnegative(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
        )
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

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0,
        momentum=0,
        centered=False,
        *,
        maximize=False,
    ):
        lr, eps, momentum, weight_decay, alpha = _nonnegative(
            lr=lr, eps=eps, momentum=momentum, weight_decay=weight_decay, alpha=alpha
        )
        super().__init__(params, lr)
        self.alpha, self.eps, self.weight_decay, self.momentum = alpha, eps, weight_decay, momentum
        self.centered, self.maximize = (
            check_bool("centered", centered),
            check_bool("maximize", maximize),
        )

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
        rho = _real("rho", rho)
        _torch_check(0.0 <= rho <= 1.0, f"Invalid rho value: {rho}")
        lr, eps, weight_decay = _nonnegative(lr=lr, eps=eps, weight_decay=weight_decay)
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

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        *,
        maximize=False,
        decoupled_weight_decay=False,
    ):
        lr, eps = _nonnegative(lr=lr, eps=eps)
        beta1, beta2 = check_sequence("betas", betas, min_len=2, max_len=2)
        beta1, beta2 = _real("betas[0]", beta1), _real("betas[1]", beta2)
        _torch_check(0.0 <= beta1 < 1.0, f"Invalid beta parameter at index 0: {beta1}")
        _torch_check(0.0 <= beta2 < 1.0, f"Invalid beta parameter at index 1: {beta2}")
        (weight_decay,) = _nonnegative(weight_decay=weight_decay)
        super().__init__(params, lr)
        self.betas, self.eps, self.weight_decay = (beta1, beta2), eps, weight_decay
        self.amsgrad, self.maximize = (
            check_bool("amsgrad", amsgrad),
            check_bool("maximize", maximize),
        )
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
        adam_update(
            p,
            g,
            state["exp_avg"],
            state["exp_avg_sq"],
            state["step"],
            self.lr,
            *self.betas,
            self.eps,
            v_max=state.get("max_exp_avg_sq"),
        )


class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay, :math:`\\theta \\leftarrow (1-\\eta\\lambda)
    \\theta` before the Adam step, as ``torch.optim.AdamW``. Default ``weight_decay=1e-2``;
    other parameters as :class:`Adam`.

    Loshchilov & Hutter (ICLR 2019, Algorithm 2) write the step as
    :math:`\\theta_t = \\theta_{t-1} - \\eta_t(\\alpha\\,\\hat m_t/(\\sqrt{\\hat v_t}+\\epsilon)
    + \\lambda\\theta_{t-1})`: the decay is :math:`\\eta_t\\lambda`, the schedule multiplier
    :math:`\\eta_t` times :math:`\\lambda`, not the learning rate :math:`\\alpha` times
    :math:`\\lambda`. PyTorch multiplies by the learning rate (schedule included), so its
    ``weight_decay`` is the paper's :math:`\\lambda` divided by :math:`\\alpha`.
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
    ):
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            amsgrad,
            maximize=maximize,
            decoupled_weight_decay=True,
        )


#: The classes by name, as ``torch.optim``.
