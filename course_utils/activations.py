r"""Activation functions and their derivatives (chapter 01).

Every activation is a pair ``(f, df)`` of NumPy functions of the pre-activation
``z`` (any shape): ``a = f(z)`` and ``da/dz = df(z)``. Look one up by name with
:func:`get`; :data:`NAMES` lists the names known. The parametrised ones take their
parameter as a keyword with torch.nn.functional's default:
``leaky_relu(z, negative_slope=0.01)``, ``elu(z, alpha=1.0)``,
``softplus(z, beta=1.0, threshold=20.0)``.

Both functions keep the input's floating dtype (float32 in, float32 out), so a
float32 forward pass stays float32; integer input is computed in float64. None of them
overflows, whatever the size of ``z``. They refuse what is not an array of real numbers, or
one over :data:`~course_utils.validation.MAX_ELEMENTS` entries. Called by name
(``activations.relu(z)``) they refuse NaN and inf in ``z`` too; the pairs :func:`get` hands
out compute them through, element by element, as numpy and torch do, because every
chapter's forward pass (:func:`course_utils.network.forward`) calls those, and chapter 03's
exploding network has to show its inf and NaN in its statistics. One switch does it: the
pairs run with :data:`_IN_FORWARD_PASS` set, which :func:`_float`, the check every function
starts with, reads.

Maxout (Goodfellow et al., ICML 2013) has weights of its own, so it is not in :func:`get`:
:func:`maxout_forward` / :func:`maxout_backward` follow the ``(out, cache)`` /
``grads`` contract of a layer.

At a kink (z = 0) the derivative is the one torch's autograd uses: 0 for ReLU,
``negative_slope`` for Leaky ReLU, ``alpha`` for ELU.
"""

from __future__ import annotations

import contextvars
import functools
import math
from typing import Callable

import numpy as np

from course_utils.references import reference_answer
from course_utils.validation import check_array, check_elements, check_real, check_work

ArrayFn = Callable[[np.ndarray], np.ndarray]

__all__ = [
    "NAMES",
    "get",
    "tanh",
    "tanh_grad",
    "relu",
    "relu_grad",
    "sigmoid",
    "sigmoid_grad",
    "leaky_relu",
    "leaky_relu_grad",
    "elu",
    "elu_grad",
    "gelu",
    "gelu_grad",
    "silu",
    "silu_grad",
    "softplus",
    "softplus_grad",
    "SELU_ALPHA",
    "SELU_SCALE",
    "selu",
    "selu_grad",
    "maxout",
    "maxout_forward",
    "maxout_backward",
]


#: True while a pair from :func:`get` runs: NaN and inf in ``z`` are then computed through.
_IN_FORWARD_PASS = contextvars.ContextVar("in_forward_pass", default=False)


def _float(z, name: str = "z") -> np.ndarray:
    """``z`` as an array of floats: float32 stays float32, integers and bools become float64.

    NaN and inf are refused, except inside the forward pass (:data:`_IN_FORWARD_PASS`).
    """
    z = check_array(name, z, dtype=None, finite=False, min_size=0)
    if z.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be an array of real numbers; got dtype {z.dtype}")
    if not _IN_FORWARD_PASS.get() and not np.isfinite(z).all():
        raise ValueError(
            f"{name} must hold finite numbers; it has NaN or inf (the pair get(name) gives "
            "computes them through)"
        )
    return z if z.dtype.kind == "f" else z.astype(np.float64)


def _check_param(name: str, value, positive: bool = False) -> float:
    return check_real(name, value, low=0 if positive else None, low_open=positive)


def tanh(z: np.ndarray) -> np.ndarray:
    r"""Hyperbolic tangent, :math:`\tanh(z) = (e^z - e^{-z}) / (e^z + e^{-z})`, range (-1, 1)."""
    return np.tanh(_float(z))


def tanh_grad(z: np.ndarray) -> np.ndarray:
    r"""Derivative of tanh: :math:`\tanh'(z) = 1 - \tanh^2(z)`, at most 1 (at z = 0)."""
    a = np.tanh(_float(z))
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
    return _logistic(_float(z))


def _logistic(z: np.ndarray) -> np.ndarray:
    """The sigmoid of a float array already checked (SiLU's and softplus's derivative use it)."""
    half = z.dtype.type(0.5)
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
    return np.where(z > 0, z, alpha * _expm1_nonpositive(np.minimum(z, 0)))


def elu_grad(z: np.ndarray, alpha: float = 1.0) -> np.ndarray:
    r"""Derivative of ELU: 1 for :math:`z > 0`, else :math:`\alpha e^z`."""
    alpha = _check_param("alpha", alpha)
    z = _float(z)
    return np.where(z > 0, z.dtype.type(1), alpha * _exp_nonpositive(np.minimum(z, 0)))


def _expm1_nonpositive(z: np.ndarray) -> np.ndarray:
    """``np.expm1(z)`` for ``z <= 0``: below -40 it is exactly -1 in float32 and float64, so it
    is not computed there (expm1 is slow far out, and a diverged run lives there)."""
    out = np.full_like(z, -1)
    return np.expm1(z, out=out, where=~(z < -40))  # NaN computed through


def _exp_nonpositive(z: np.ndarray) -> np.ndarray:
    """``np.exp(z)`` for ``z <= 0``: below -746 it underflows to exactly 0 (float32 and
    float64), so it is not computed there (the underflow path is several times slower)."""
    out = np.zeros_like(z)
    return np.exp(z, out=out, where=~(z < -746))


_SQRT_HALF = math.sqrt(0.5)


def _erf(x):
    """scipy.special.erf, imported on first use: importing scipy.special costs about 0.2 s,
    which every notebook that imports course_utils.network would otherwise pay."""
    from scipy.special import erf

    return erf(x)


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
    return z * _logistic(z)


def silu_grad(z: np.ndarray) -> np.ndarray:
    r"""Derivative of SiLU: :math:`\sigma(z)\,(1 + z(1 - \sigma(z)))`."""
    z = _float(z)
    s = _logistic(z)
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
    return np.where(bz > threshold, z.dtype.type(1), _logistic(bz))


#: SELU's constants (Klambauer, Unterthiner, Mayr & Hochreiter, NeurIPS 2017), the
#: values torch uses: the pair for which N(0, 1) inputs give outputs of mean 0 and variance 1.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(z: np.ndarray) -> np.ndarray:
    r"""Scaled ELU, :math:`\lambda z` for :math:`z > 0`, else :math:`\lambda\alpha(e^z - 1)`,
    with :data:`SELU_SCALE` :math:`\lambda \approx 1.0507` and :data:`SELU_ALPHA`
    :math:`\alpha \approx 1.6733` (Klambauer et al., NeurIPS 2017; ``torch.nn.functional.selu``).

    Not in :func:`get`: SELU self-normalises only with its own initialisation (weights of
    variance :math:`1/n_\text{in}`), which chapter 01 shows in
    :mod:`course_utils.chapters.ch01_activations.runs_depth`.
    """
    z = _float(z)
    return SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * np.expm1(np.minimum(z, 0)))


def selu_grad(z: np.ndarray) -> np.ndarray:
    r"""Derivative of SELU: :math:`\lambda` for :math:`z > 0`, else :math:`\lambda\alpha e^z`
    (at z = 0, :math:`\lambda\alpha`, as torch's autograd)."""
    z = _float(z)
    return SELU_SCALE * np.where(z > 0, z.dtype.type(1), SELU_ALPHA * np.exp(np.minimum(z, 0)))


# ---------------------------------------------------------------------------- Maxout
def _check_maxout(x, W, b):
    x, W, b = (
        check_array(name, value, ndim=ndim)
        for name, value, ndim in (("x", x, 2), ("W", W, 3), ("b", b, 2))
    )
    k, d_in, d_out = W.shape
    if x.shape[1] != d_in or b.shape != (k, d_out):
        raise ValueError(
            f"maxout shapes do not fit: x {x.shape}, W {W.shape}, b {b.shape}; "
            "need x (N, D_in), W (k, D_in, D_out), b (k, D_out)"
        )
    check_work("maxout", x.shape[0] * k * d_in * d_out, advice="use fewer rows or pieces")
    check_elements("maxout's pieces (N, k, D_out)", (x.shape[0], k, d_out))
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
    if not (
        isinstance(cache, tuple)
        and len(cache) == 3
        and all(isinstance(part, np.ndarray) for part in cache)
    ):
        raise ValueError("cache must be the cache returned by maxout_forward")
    x, W, winner = cache
    k = W.shape[0]
    dout = check_array("dout", dout, shape=winner.shape)
    dpieces = np.where(np.arange(k)[None, :, None] == winner[:, None, :], dout[:, None, :], 0.0)
    dx = np.einsum("nke,kde->nd", dpieces, W)
    dW = np.einsum("nd,nke->kde", x, dpieces)
    db = dpieces.sum(axis=0)
    return dx, dW, db


def maxout(x: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The output of :func:`maxout_forward` alone, shape (N, D_out)."""
    return maxout_forward(x, W, b)[0]


def _in_forward_pass(f: ArrayFn) -> ArrayFn:
    """``f`` as the forward pass calls it: the same, computing NaN and inf in ``z`` through."""

    @functools.wraps(f)
    def forward_pass(*args, **kwargs):
        token = _IN_FORWARD_PASS.set(True)
        try:
            return f(*args, **kwargs)
        finally:
            _IN_FORWARD_PASS.reset(token)

    return forward_pass


_REGISTRY: dict[str, tuple[ArrayFn, ArrayFn]] = {
    name: (_in_forward_pass(f), _in_forward_pass(df))
    for name, f, df in (
        ("tanh", tanh, tanh_grad),
        ("relu", relu, relu_grad),
        ("sigmoid", sigmoid, sigmoid_grad),
        ("leaky_relu", leaky_relu, leaky_relu_grad),
        ("elu", elu, elu_grad),
        ("gelu", gelu, gelu_grad),
        ("silu", silu, silu_grad),
        ("softplus", softplus, softplus_grad),
    )
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
    key = name.lower() if isinstance(name, str) else None
    if key not in _REGISTRY:
        raise ValueError(f"activation must be one of {', '.join(NAMES)}; got {name!r}")
    return _REGISTRY[key]
