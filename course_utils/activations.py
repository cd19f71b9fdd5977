r"""Activation functions and their derivatives (chapter 01).

Every activation is a pair ``(f, df)`` of NumPy functions of the pre-activation
``z`` (any shape): ``a = f(z)`` and ``da/dz = df(z)``. Look one up by name with
:func:`get`; :data:`NAMES` lists the names known. The parametrised ones take their
parameter as a keyword with torch.nn.functional's default:
``leaky_relu(z, negative_slope=0.01)``, ``elu(z, alpha=1.0)``,
``softplus(z, beta=1.0, threshold=20.0)``.

Both functions keep the input's floating dtype (float32 in, float32 out), so a
float32 forward pass stays float32; integer input is computed in float64. None of them
overflows, whatever the size of ``z``.

Maxout (Goodfellow et al., ICML 2013) has weights of its own, so it is not in :func:`get`:
:func:`maxout_forward` / :func:`maxout_backward` follow the ``(out, cache)`` /
``grads`` contract of a layer.

At a kink (z = 0) the derivative is the one torch's autograd uses: 0 for ReLU,
``negative_slope`` for Leaky ReLU, ``alpha`` for ELU.
"""

from __future__ import annotations

import math
import numbers
from typing import Callable

import numpy as np
from scipy.special import erf as _erf

from course_utils.references import reference_answer

ArrayFn = Callable[[np.ndarray], np.ndarray]

__all__ = ["NAMES", "get", "tanh", "tanh_grad", "relu", "relu_grad", "sigmoid", "sigmoid_grad",
           "leaky_relu", "leaky_relu_grad", "elu", "elu_grad", "gelu", "gelu_grad",
           "silu", "silu_grad", "softplus", "softplus_grad",
           "maxout", "maxout_forward", "maxout_backward"]


def _float(z) -> np.ndarray:
    z = np.asarray(z)
    return z if np.issubdtype(z.dtype, np.floating) else z.astype(np.float64)


def _check_param(name: str, value, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) \
            or (positive and value <= 0):
        allowed = "a positive finite number" if positive else "a finite number"
        raise ValueError(f"{name} must be {allowed}; got {value!r}")
    return float(value)


def tanh(z: np.ndarray) -> np.ndarray:
    r"""Hyperbolic tangent, :math:`\tanh(z) = (e^z - e^{-z}) / (e^z + e^{-z})`, range (-1, 1)."""
    return np.tanh(z)


def tanh_grad(z: np.ndarray) -> np.ndarray:
    r"""Derivative of tanh: :math:`\tanh'(z) = 1 - \tanh^2(z)`, at most 1 (at z = 0)."""
    a = np.tanh(z)
    return 1 - a * a


def relu(z: np.ndarray) -> np.ndarray:
    r"""Rectified linear unit, :math:`\max(0, z)` (Nair & Hinton, ICML 2010)."""
    return np.maximum(_float(z), 0)


def relu_grad(z: np.ndarray) -> np.ndarray:
    r"""Derivative of ReLU: 1 where z > 0, else 0 (the subgradient 0 is used at z = 0)."""
    z = _float(z)
    return (z > 0).astype(z.dtype)


def sigmoid(z: np.ndarray) -> np.ndarray:
    r"""Logistic sigmoid, :math:`\sigma(z) = 1 / (1 + e^{-z})`, range (0, 1).

    Computed as :math:`(1 + \tanh(z/2)) / 2`, which never overflows.
    """
    z = np.asarray(z)
    half = z.dtype.type(0.5) if np.issubdtype(z.dtype, np.floating) else 0.5
    return half * (1 + np.tanh(half * z))


def sigmoid_grad(z: np.ndarray) -> np.ndarray:
    r"""Derivative of the sigmoid: :math:`\sigma'(z) = \sigma(z)(1 - \sigma(z))`, at most 0.25."""
    s = sigmoid(z)
    return s * (1 - s)


@reference_answer("leaky_relu")
def leaky_relu(z: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    r"""Leaky ReLU, :math:`z` for :math:`z > 0`, else :math:`\alpha z` with
    :math:`\alpha` = ``negative_slope`` (Maas, Hannun & Ng, ICML 2013 workshop)."""
    slope = _check_param("negative_slope", negative_slope)
    z = _float(z)
    return np.where(z > 0, z, z * slope)


@reference_answer("leaky_relu")
def leaky_relu_grad(z: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    r"""Derivative of Leaky ReLU: 1 for :math:`z > 0`, else ``negative_slope``."""
    slope = _check_param("negative_slope", negative_slope)
    z = _float(z)
    return np.where(z > 0, z.dtype.type(1), z.dtype.type(slope))


def elu(z: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    r"""Exponential linear unit, :math:`z` for :math:`z > 0`, else
    :math:`\alpha(e^z - 1)` (Clevert, Unterthiner & Hochreiter, ICLR 2016)."""
    alpha = _check_param("alpha", alpha)
    z = _float(z)
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0)))


def elu_grad(z: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    r"""Derivative of ELU: 1 for :math:`z > 0`, else :math:`\alpha e^z`."""
    alpha = _check_param("alpha", alpha)
    z = _float(z)
    return np.where(z > 0, z.dtype.type(1), alpha * np.exp(np.minimum(z, 0)))


_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1 / math.sqrt(2 * math.pi)


def gelu(z: np.ndarray) -> np.ndarray:
    r"""Gaussian error linear unit, exact form :math:`z\,\Phi(z)` with
    :math:`\Phi(z) = \tfrac12(1 + \operatorname{erf}(z/\sqrt2))` (Hendrycks & Gimpel, 2016;
    torch's default ``approximate="none"``)."""
    z = _float(z)
    return z * (0.5 * (1 + _erf(z * _SQRT_HALF)))


def gelu_grad(z: np.ndarray) -> np.ndarray:
    r"""Derivative of GELU: :math:`\Phi(z) + z\,\varphi(z)`, :math:`\varphi` the normal density."""
    z = _float(z)
    zc = np.clip(z, -40, 40)  # beyond, z·φ(z) is 0 in float64; clipping keeps z² finite
    return 0.5 * (1 + _erf(z * _SQRT_HALF)) + zc * (_INV_SQRT_2PI * np.exp(-0.5 * zc * zc))


def silu(z: np.ndarray) -> np.ndarray:
    r"""SiLU / Swish, :math:`z\,\sigma(z)` (Elfwing, Uchibe & Doya, 2018; Ramachandran,
    Zoph & Le, 2017)."""
    z = _float(z)
    return z * sigmoid(z)


def silu_grad(z: np.ndarray) -> np.ndarray:
    r"""Derivative of SiLU: :math:`\sigma(z)\,(1 + z(1 - \sigma(z)))`."""
    z = _float(z)
    s = sigmoid(z)
    return s * (1 + z * (1 - s))


def softplus(z: np.ndarray, beta: float = 1.0, threshold: float = 20.0) -> np.ndarray:
    r"""Softplus, :math:`\tfrac1\beta\log(1 + e^{\beta z})`, a smooth ReLU (Dugas et al., 2001).

    As in torch, it returns :math:`z` itself where :math:`\beta z >` ``threshold``. Computed as
    :math:`\max(\beta z, 0) + \log(1 + e^{-|\beta z|})`, which never overflows.
    """
    beta = _check_param("beta", beta, positive=True)
    threshold = _check_param("threshold", threshold)
    z = _float(z)
    bz = beta * z
    soft = (np.maximum(bz, 0) + np.log1p(np.exp(-np.abs(bz)))) / beta
    return np.where(bz > threshold, z, soft)


def softplus_grad(z: np.ndarray, beta: float = 1.0, threshold: float = 20.0) -> np.ndarray:
    r"""Derivative of softplus: :math:`\sigma(\beta z)` (1 where :math:`\beta z >` ``threshold``)."""
    beta = _check_param("beta", beta, positive=True)
    threshold = _check_param("threshold", threshold)
    z = _float(z)
    bz = beta * z
    return np.where(bz > threshold, z.dtype.type(1), sigmoid(bz))


# ---------------------------------------------------------------------------- Maxout
def _check_maxout(x, W, b):
    x, W, b = _float(x), _float(W), _float(b)
    if x.ndim != 2 or W.ndim != 3 or b.ndim != 2:
        raise ValueError(f"maxout needs x (N, D_in), W (k, D_in, D_out), b (k, D_out); got "
                         f"shapes {x.shape}, {W.shape}, {b.shape}")
    k, d_in, d_out = W.shape
    if x.shape[1] != d_in or b.shape != (k, d_out) or k < 1:
        raise ValueError(f"maxout shapes do not fit: x {x.shape}, W {W.shape}, b {b.shape}; "
                         "need x (N, D_in), W (k, D_in, D_out), b (k, D_out), k >= 1")
    return x, W, b


def maxout_forward(x: np.ndarray, W: np.ndarray, b: np.ndarray):
    r"""Maxout unit (Goodfellow, Warde-Farley, Mirza, Courville & Bengio, ICML 2013).

    .. math:: \text{out}_{nj} = \max_{i=1..k} \big(x W_i + b_i\big)_{nj}

    the maximum of k linear pieces. ReLU is the case k = 2 with one piece fixed at 0,
    Leaky ReLU the case of two lines through the origin.

    Parameters
    ----------
    x : ndarray, shape (N, D_in)
    W : ndarray, shape (k, D_in, D_out)
    b : ndarray, shape (k, D_out)

    Returns
    -------
    out : ndarray, shape (N, D_out)
    cache : tuple
        What :func:`maxout_backward` needs.
    """
    x, W, b = _check_maxout(x, W, b)
    pieces = np.einsum("nd,kde->nke", x, W) + b[None]  # (N, k, D_out)
    winner = pieces.argmax(axis=1)  # (N, D_out): first piece on ties, as torch.max
    out = np.take_along_axis(pieces, winner[:, None, :], axis=1)[:, 0, :]
    return out, (x, W, winner)


def maxout_backward(dout: np.ndarray, cache):
    r"""Gradients of a maxout layer: only the winning piece of each output gets any.

    Parameters
    ----------
    dout : ndarray, shape (N, D_out)
        Upstream gradient :math:`\partial L/\partial \text{out}`.
    cache : tuple
        From :func:`maxout_forward`.

    Returns
    -------
    dx : ndarray, shape (N, D_in)
    dW : ndarray, shape (k, D_in, D_out)
    db : ndarray, shape (k, D_out)
    """
    x, W, winner = cache
    k = W.shape[0]
    dout = np.asarray(dout)
    if dout.shape != winner.shape:
        raise ValueError(f"dout must have the output's shape {winner.shape}; got {dout.shape}")
    dpieces = np.where(np.arange(k)[None, :, None] == winner[:, None, :], dout[:, None, :], 0.0)
    dx = np.einsum("nke,kde->nd", dpieces, W)
    dW = np.einsum("nd,nke->kde", x, dpieces)
    db = dpieces.sum(axis=0)
    return dx, dW, db


def maxout(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The output of :func:`maxout_forward` alone, shape (N, D_out)."""
    return maxout_forward(x, W, b)[0]


_REGISTRY: dict[str, tuple[ArrayFn, ArrayFn]] = {
    "tanh": (tanh, tanh_grad),
    "relu": (relu, relu_grad),
    "sigmoid": (sigmoid, sigmoid_grad),
    "leaky_relu": (leaky_relu, leaky_relu_grad),
    "elu": (elu, elu_grad),
    "gelu": (gelu, gelu_grad),
    "silu": (silu, silu_grad),
    "softplus": (softplus, softplus_grad),
}

#: Names accepted by :func:`get`, in display order (chapter 03's three first).
NAMES: tuple[str, ...] = tuple(_REGISTRY)


def get(name: str) -> tuple[ArrayFn, ArrayFn]:
    """Return ``(f, df)`` for the activation called ``name``.

    Parameters
    ----------
    name : str
        One of :data:`NAMES` (case-insensitive), e.g. ``"tanh"``. Parametrised activations
        come with torch.nn.functional's defaults (Leaky ReLU slope 0.01, ELU alpha 1).

    Returns
    -------
    f, df : callable
        ``f(z)`` is the activation, ``df(z)`` its derivative with respect to ``z``;
        both map an array of any shape to an array of the same shape.

    Raises
    ------
    ValueError
        If ``name`` is not a known activation.
    """
    key = name.lower() if isinstance(name, str) else name
    if key not in _REGISTRY:
        raise ValueError(f"activation must be one of {', '.join(NAMES)}; got {name!r}")
    return _REGISTRY[key]


# ---------------------------------------------------------------------------- the explorer's compute
#: Saturation threshold: a unit whose local gradient |f'(z)| is below it passes back less
#: than 1% of the gradient it receives.
SATURATION = 0.01
MAX_SAMPLES = 1_000_000
_NORMAL_CACHE: dict = {}


def _standard_normal(n: int, seed: int) -> np.ndarray:
    key = (n, seed)
    if key not in _NORMAL_CACHE:
        eps = np.random.default_rng(seed).standard_normal(n)
        eps.flags.writeable = False
        _NORMAL_CACHE.clear()  # one sample kept: the explorer's
        _NORMAL_CACHE[key] = eps
    return _NORMAL_CACHE[key]


class UnitResponse:
    r"""What an activation does to pre-activations :math:`z \sim N(\text{bias}, \text{scale}^2)`.

    Attributes
    ----------
    z, a, grad : ndarray, shape (n,)
        The sample, :math:`a = f(z)` and :math:`f'(z)` (read-only).
    saturated : float
        Share of units with :math:`|f'(z)| <` :data:`SATURATION`, dead units left out.
    dead : float
        Share of units on a side where the derivative is 0 by design (ReLU's
        :math:`z \le 0`); 0 for the other activations, which only saturate.
    mean, std : float
        Of the outputs ``a``.
    """

    __slots__ = ("activation", "scale", "bias", "z", "a", "grad", "saturated", "dead",
                 "mean", "std")

    def __init__(self, activation, scale, bias, z, a, grad):
        self.activation, self.scale, self.bias = activation, scale, bias
        for array in (z, a, grad):
            array.flags.writeable = False
        self.z, self.a, self.grad = z, a, grad
        small = np.abs(grad) < SATURATION
        dead = z <= 0 if activation == "relu" else np.zeros(0, dtype=bool)
        n = z.size
        self.dead = float(np.count_nonzero(dead)) / n
        self.saturated = float(np.count_nonzero(small)) / n - self.dead  # ReLU: z <= 0 has f' = 0
        self.mean, self.std = float(a.mean()), float(a.std())


def unit_response(activation: str = "tanh", scale: float = 1.0, bias: float = 0.0,
                  n: int = 20_000, seed: int = 0) -> UnitResponse:
    r"""Apply an activation to a fixed sample :math:`z = \text{bias} + \text{scale}\cdot\epsilon`,
    :math:`\epsilon \sim N(0, 1)`, and measure saturation and dead units.

    Parameters
    ----------
    activation : str
        One of :data:`NAMES`.
    scale : float
        Std of the pre-activations, in (0, 1e6].
    bias : float
        Their mean, |bias| <= 1e6.
    n : int
        Sample size, 1 to 1,000,000 (the sample is drawn once per (n, seed) and reused).
    seed : int

    Returns
    -------
    UnitResponse
    """
    f, df = get(activation)
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not math.isfinite(scale) \
            or not 0 < scale <= 1e6:
        raise ValueError(f"scale must be a number in (0, 1e6]; got {scale!r}")
    if isinstance(bias, bool) or not isinstance(bias, numbers.Real) or not math.isfinite(bias) \
            or abs(bias) > 1e6:
        raise ValueError(f"bias must be a number between -1e6 and 1e6; got {bias!r}")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 1 <= n <= MAX_SAMPLES:
        raise ValueError(f"n must be an integer between 1 and {MAX_SAMPLES}; got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; got {seed!r}")
    z = _standard_normal(int(n), int(seed)) * float(scale)
    z += float(bias)
    return UnitResponse(activation.lower(), float(scale), float(bias), z, f(z), df(z))
