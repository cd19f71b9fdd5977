r"""Batch Normalisation in NumPy: forward, backward, and the layer step of the network.

For a batch ``x`` of shape (N, D), per feature j (Ioffe & Szegedy, ICML 2015):

.. math::

    \mu_j = \frac{1}{N}\sum_i x_{ij}, \qquad
    \sigma_j^2 = \frac{1}{N}\sum_i (x_{ij} - \mu_j)^2, \qquad
    \hat x_{ij} = \frac{x_{ij} - \mu_j}{\sqrt{\sigma_j^2 + \epsilon}}, \qquad
    y_{ij} = \gamma_j \hat x_{ij} + \beta_j .

Training mode normalises with the batch's own :math:`\mu, \sigma^2` (the *biased* variance)
and updates running averages; evaluation mode normalises with the running averages instead.

Momentum convention (the same as ``torch.nn.BatchNorm1d``): after each training batch

.. math::

    \text{running\_mean} \leftarrow (1 - m)\,\text{running\_mean} + m\,\mu, \qquad
    \text{running\_var} \leftarrow (1 - m)\,\text{running\_var} + m\,\tfrac{N}{N-1}\sigma^2,

with ``momentum`` :math:`m = 0.1` by default: the running variance takes the *unbiased*
batch variance, while the normalisation uses the biased one. The CS231n assignments write
``running = momentum * running + (1 - momentum) * batch`` with ``momentum = 0.9`` and the
biased variance: their 0.9 is torch's (and our) 0.1.

The compact backward (derived in the notebook), with :math:`g = \partial L/\partial y`:

.. math::

    \frac{\partial L}{\partial \beta_j} = \sum_i g_{ij}, \qquad
    \frac{\partial L}{\partial \gamma_j} = \sum_i g_{ij}\hat x_{ij}, \qquad
    \frac{\partial L}{\partial x_{ij}} = \frac{\gamma_j}{N\sqrt{\sigma_j^2 + \epsilon}}
    \Big(N g_{ij} - \sum_k g_{kj} - \hat x_{ij} \sum_k g_{kj}\hat x_{kj}\Big).

Convolutions (:func:`batchnorm2d_forward`, ``torch.nn.BatchNorm2d``): one feature per
*channel*, its statistics over the batch and all spatial positions. Inference
(:func:`fold_batchnorm`): in evaluation mode BN is an affine map per feature and folds into
the weights and bias of the layer before it.

Also here: :class:`BatchNormStep`, the same layer as a :class:`course_utils.network.LayerStep`
(so the lecture's NumPy network runs with Batch Norm). The chapter's experiments on the digits
and its explorer are in :mod:`course_utils.chapters.ch04_batchnorm`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils import network
from course_utils.references import reference_answer
from course_utils.validation import check_array, check_bool, check_real, check_sequence

__all__ = [
    "EPS",
    "MOMENTUM",
    "MAX_BATCH_ELEMENTS",
    "check_batch",
    "BatchNormCache",
    "batchnorm_forward",
    "batchnorm_backward",
    "BatchNormStep",
    "batchnorm2d_forward",
    "batchnorm2d_backward",
    "fold_batchnorm",
]

#: torch.nn.BatchNorm1d's defaults.
EPS = 1e-5
MOMENTUM = 0.1
#: Largest batch (N * D values) the functions accept: 64 MiB of float64 per array, and the
#: forward keeps about five such arrays (x - mean, its square, x_hat, the output, the cache).
MAX_BATCH_ELEMENTS = 8 * 2**20


def check_batch(x, name: str = "x") -> np.ndarray:
    """``x`` as a finite (N, D) float array with N, D >= 1 and at most
    :data:`MAX_BATCH_ELEMENTS` values; float32 stays float32 (the explorer's fast path),
    anything else becomes float64."""
    x = check_array(name, x, ndim=2, dtype=None, limit=MAX_BATCH_ELEMENTS)
    if x.dtype not in (np.float32, np.float64):
        x = check_array(name, x, dtype=np.float64, limit=MAX_BATCH_ELEMENTS)
    return x


def _check_vector(name, value, d, dtype=np.float64) -> np.ndarray:
    return check_array(name, value, shape=(d,), dtype=dtype)


@dataclass(frozen=True)
class BatchNormCache:
    """What :func:`batchnorm_forward` computed, for :func:`batchnorm_backward` and the reader.

    Attributes
    ----------
    x_hat : ndarray, (N, D)
        The normalised input.
    inv_std : ndarray, (D,)
        :math:`1/\\sqrt{\\sigma^2 + \\epsilon}` of the statistics used (batch or running).
    gamma : ndarray, (D,)
    train : bool
        Whether the batch statistics were used (then x depends on the whole batch).
    batch_mean, batch_var : ndarray, (D,) or None
        The batch's mean and biased variance (training mode only).
    running_mean, running_var : ndarray, (D,) or None
        The running statistics *after* this call (updated in training mode, new arrays).
    """

    x_hat: np.ndarray
    inv_std: np.ndarray
    gamma: np.ndarray
    train: bool
    batch_mean: np.ndarray | None
    batch_var: np.ndarray | None
    running_mean: np.ndarray | None
    running_var: np.ndarray | None


@reference_answer("bn_forward")
def batchnorm_forward(
    x,
    gamma,
    beta,
    running_mean=None,
    running_var=None,
    momentum: float | None = MOMENTUM,
    eps: float = EPS,
    train: bool = True,
):
    r"""Batch Norm of a (N, D) batch: :math:`y = \gamma \hat x + \beta` (module docstring).

    Parameters
    ----------
    x : ndarray, shape (N, D)
        Computed in float64, or in float32 if ``x`` is float32.
    gamma, beta : ndarray, shape (D,)
        Scale and shift.
    running_mean, running_var : ndarray, shape (D,), optional
        Running statistics; required in evaluation mode. In training mode they are updated
        (into new arrays, in the cache) when given.
    momentum : float in [0, 1] or None
        torch's convention: weight of the new batch (``None``: cumulative average is not
        supported here; pass a number).
    eps : float > 0
        Added to the variance inside the square root.
    train : bool
        ``True``: normalise with the batch's statistics (needs N >= 2);
        ``False``: with the running ones.

    Returns
    -------
    out : ndarray, shape (N, D)
    cache : BatchNormCache
    """
    train = check_bool("train", train)
    x = check_batch(x)
    n, d = x.shape
    gamma = _check_vector("gamma", gamma, d, x.dtype)
    beta = _check_vector("beta", beta, d, x.dtype)
    eps = check_real("eps", eps, 0.0, low_open=True)
    if momentum is None:
        raise ValueError(
            "momentum must be a number in [0, 1]; got None (torch's cumulative "
            "average is not implemented here)"
        )
    momentum = check_real("momentum", momentum, 0.0, 1.0)
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must be given together")
    if running_mean is not None:
        running_mean = _check_vector("running_mean", running_mean, d, x.dtype)
        running_var = _check_vector("running_var", running_var, d, x.dtype)
    if train:
        if n < 2:
            raise ValueError(
                f"x must hold at least 2 examples in training mode (a batch of "
                f"one has variance 0); got N = {n}"
            )
        mean = x.mean(axis=0)
        centred = x - mean
        var = (centred**2).mean(axis=0)  # biased: the normalisation's variance
        inv_std = 1.0 / np.sqrt(var + eps)
        x_hat = centred * inv_std
        if running_mean is not None:
            running_mean = (1 - momentum) * running_mean + momentum * mean
            running_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)
        cache = BatchNormCache(x_hat, inv_std, gamma, True, mean, var, running_mean, running_var)
    else:
        if running_mean is None:
            raise ValueError("evaluation mode (train=False) needs running_mean and running_var")
        inv_std = 1.0 / np.sqrt(running_var + eps)
        x_hat = (x - running_mean) * inv_std
        cache = BatchNormCache(x_hat, inv_std, gamma, False, None, None, running_mean, running_var)
    return gamma * x_hat + beta, cache


@reference_answer("bn_backward")
def batchnorm_backward(dout, cache: BatchNormCache):
    r"""Gradients of Batch Norm: the compact formula of the module docstring.

    Parameters
    ----------
    dout : ndarray, shape (N, D)
        :math:`\partial L/\partial y`.
    cache : BatchNormCache
        From the :func:`batchnorm_forward` call that made ``y``.

    Returns
    -------
    dx : ndarray, (N, D)
    dgamma, dbeta : ndarray, (D,)

    In evaluation mode the statistics are constants, so
    :math:`\partial L/\partial x = \gamma\, g / \sqrt{\text{running\_var} + \epsilon}`.
    """
    if not isinstance(cache, BatchNormCache):
        raise ValueError(
            f"cache must be the BatchNormCache from batchnorm_forward; got {type(cache).__name__}"
        )
    dout = check_array("dout", dout, shape=cache.x_hat.shape)
    x_hat = cache.x_hat
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    if not cache.train:
        return dout * (cache.gamma * cache.inv_std), dgamma, dbeta
    n = dout.shape[0]
    dx = (cache.gamma * cache.inv_std / n) * (n * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


def _per_layer(name: str, vectors) -> list | None:
    """``None``, or one 1-D float64 array per layer (a Batch Norm step's gammas or betas)."""
    if vectors is None:
        return None
    return [
        check_array(f"{name}[{i}]", v, ndim=1) for i, v in enumerate(check_sequence(name, vectors))
    ]


class BatchNormStep(network.LayerStep):
    r"""Batch Norm on every layer's :math:`z_l` of :func:`course_utils.network.forward`.

    ``where = "z"``: the network computes :math:`a_l = f(\mathrm{BN}(a_{l-1} W_l))`, Batch
    Norm before the activation as in Ioffe & Szegedy (2015).

    Parameters
    ----------
    gammas, betas : sequence of (D_l,) arrays, optional
        One per layer; default 1 and 0 (created on the first forward).
    train : bool
        Batch statistics (True) or running statistics (False).
    momentum, eps : float
        As :func:`batchnorm_forward`.

    Attributes
    ----------
    running_means, running_vars : dict layer -> (D_l,) array
        Updated by every training-mode forward (start: 0 and 1, as torch).
    grads : dict layer -> (dgamma, dbeta)
        Filled by the network's backward.
    """

    where = "z"

    def __init__(
        self,
        gammas=None,
        betas=None,
        train: bool = True,
        momentum: float = MOMENTUM,
        eps: float = EPS,
    ):
        self.gammas, self.betas = _per_layer("gammas", gammas), _per_layer("betas", betas)
        self.train = check_bool("train", train)
        self.momentum = check_real("momentum", momentum, 0.0, 1.0)
        self.eps = check_real("eps", eps, 0.0, low_open=True)
        self.running_means: dict = {}
        self.running_vars: dict = {}
        self.grads: dict = {}

    def _params(self, layer, d):
        gamma = self.gammas[layer] if self.gammas is not None else np.ones(d)
        beta = self.betas[layer] if self.betas is not None else np.zeros(d)
        return gamma, beta

    @reference_answer("bn_forward")
    def forward(self, h, layer):
        gamma, beta = self._params(layer, h.shape[1])
        mean = self.running_means.get(layer, np.zeros(h.shape[1]))
        var = self.running_vars.get(layer, np.ones(h.shape[1]))
        out, cache = batchnorm_forward(
            h, gamma, beta, mean, var, self.momentum, self.eps, self.train
        )
        self.running_means[layer], self.running_vars[layer] = cache.running_mean, cache.running_var
        return out, cache

    @reference_answer("bn_backward")
    def backward(self, grad, cache, layer):
        dx, dgamma, dbeta = batchnorm_backward(grad, cache)
        self.grads[layer] = (dgamma, dbeta)
        return dx


# ---------------------------------------------------------------------- convolutions
def _channels_last(x) -> np.ndarray:
    """(N, C, H, W) -> (N * H * W, C): every position of every image is one row."""
    return x.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])


def batchnorm2d_forward(
    x,
    gamma,
    beta,
    running_mean=None,
    running_var=None,
    momentum: float | None = MOMENTUM,
    eps: float = EPS,
    train: bool = True,
):
    r"""Batch Norm of convolutional feature maps, ``torch.nn.BatchNorm2d``.

    For ``x`` of shape (N, C, H, W) the features are the C *channels*: channel c is
    normalised with the mean and biased variance of all its :math:`N \cdot H \cdot W`
    values (every image, every position), and has one :math:`\gamma_c, \beta_c`:

    .. math:: \mu_c = \frac{1}{NHW}\sum_{n,h,w} x_{nchw}, \qquad
              y_{nchw} = \gamma_c \frac{x_{nchw} - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}}
              + \beta_c .

    Sharing the statistics over positions keeps the layer a convolution: the same feature
    at two positions is normalised the same way (Ioffe & Szegedy, ICML 2015, section 3.2).
    It is :func:`batchnorm_forward` on the (N*H*W, C) matrix of ``x``'s positions; the
    running variance's unbiased factor uses N*H*W, as torch does.

    Parameters
    ----------
    x : ndarray, shape (N, C, H, W)
    gamma, beta : ndarray, shape (C,)
    running_mean, running_var, momentum, eps, train
        As :func:`batchnorm_forward`, per channel.

    Returns
    -------
    out : ndarray, shape (N, C, H, W)
    cache : BatchNormCache
        Of the (N*H*W, C) matrix; :func:`batchnorm2d_backward` takes it.
    """
    x = check_array("x", x, ndim=4, dtype=None, limit=MAX_BATCH_ELEMENTS)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    n, c, h, w = x.shape
    out, cache = batchnorm_forward(
        _channels_last(x), gamma, beta, running_mean, running_var, momentum, eps, train
    )
    return out.reshape(n, h, w, c).transpose(0, 3, 1, 2), cache


def batchnorm2d_backward(dout, cache: BatchNormCache):
    """Gradients of :func:`batchnorm2d_forward`: :func:`batchnorm_backward` on the
    (N*H*W, C) matrix of positions.

    Parameters
    ----------
    dout : ndarray, shape (N, C, H, W)
    cache : BatchNormCache
        From :func:`batchnorm2d_forward`.

    Returns
    -------
    dx : ndarray, (N, C, H, W)
    dgamma, dbeta : ndarray, (C,)
    """
    dout = check_array("dout", dout, ndim=4, limit=MAX_BATCH_ELEMENTS)
    n, c, h, w = dout.shape
    dx, dgamma, dbeta = batchnorm_backward(_channels_last(dout), cache)
    return dx.reshape(n, h, w, c).transpose(0, 3, 1, 2), dgamma, dbeta


# ---------------------------------------------------------------------- inference
def fold_batchnorm(weight, bias, gamma, beta, running_mean, running_var, eps: float = EPS):
    r"""Fold an evaluation-mode Batch Norm into the layer before it: one layer, same output.

    In evaluation mode BN is a fixed affine map per feature c,
    :math:`y_c = s_c (z_c - m_c) + \beta_c` with :math:`s_c = \gamma_c/\sqrt{v_c + \epsilon}`
    (running mean :math:`m` and variance :math:`v`). If :math:`z_c = \langle w_c, x\rangle +
    b_c` (a linear layer, or a convolution with :math:`w_c` the filter of output channel c),
    then :math:`y_c = \langle s_c w_c, x\rangle + s_c (b_c - m_c) + \beta_c`:

    .. math:: w'_c = s_c\, w_c, \qquad b'_c = s_c (b_c - m_c) + \beta_c .

    Deployed networks do this once after training (``torch.nn.utils.fusion.fuse_conv_bn_eval``,
    ``fuse_linear_bn_eval``): no BN left at inference. Training mode cannot be folded: its
    statistics change with every batch.

    Parameters
    ----------
    weight : ndarray, shape (C, ...)
        torch's layout, output feature first: ``nn.Linear`` (C, D_in), ``nn.Conv2d``
        (C, C_in, kH, kW).
    bias : ndarray, shape (C,), or None
        ``None`` for a layer without bias (as before a BN): taken as 0.
    gamma, beta, running_mean, running_var : ndarray, shape (C,)
    eps : float > 0

    Returns
    -------
    weight, bias : ndarrays of shapes (C, ...) and (C,)
        New arrays.
    """
    weight = check_array("weight", weight, dtype=None, limit=MAX_BATCH_ELEMENTS)
    if weight.ndim < 2:
        raise ValueError(
            f"weight must have at least 2 dimensions, output feature first; got shape {weight.shape}"
        )
    if weight.dtype not in (np.float32, np.float64):
        weight = weight.astype(np.float64)
    c = weight.shape[0]
    bias = (
        np.zeros(c, weight.dtype) if bias is None else _check_vector("bias", bias, c, weight.dtype)
    )
    gamma = _check_vector("gamma", gamma, c, weight.dtype)
    beta = _check_vector("beta", beta, c, weight.dtype)
    mean = _check_vector("running_mean", running_mean, c, weight.dtype)
    var = _check_vector("running_var", running_var, c, weight.dtype)
    if np.any(var < 0):
        raise ValueError("running_var must be >= 0")
    eps = check_real("eps", eps, 0.0, low_open=True)
    scale = gamma / np.sqrt(var + eps)
    return weight * scale.reshape((c,) + (1,) * (weight.ndim - 1)), scale * (bias - mean) + beta
