r"""Chapter 04: Batch Normalisation in NumPy, forward and backward, and its experiments.

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

Also here: :class:`BatchNormStep`, the same layer as a :class:`course_utils.network.LayerStep`
(so the lecture's NumPy network runs with Batch Norm), and the chapter's experiments on the
digits (:func:`init_comparison`, :func:`eps_effect`, :func:`batch_size_effect`, ...).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from course_utils import network
from course_utils.references import reference_answer
from course_utils.validation import check_int as _check_int
from course_utils.validation import check_real as _check_real
from course_utils.tables import format_table

__all__ = ["EPS", "MOMENTUM", "MAX_ELEMENTS", "BatchNormCache", "batchnorm_forward",
           "batchnorm_backward", "BatchNormStep", "relu_variance_share", "critical_std",
           "EpsEffect", "eps_effect", "BatchSizeEffect", "batch_size_effect",
           "pair_normalised", "bad_init_mlp", "InitComparison", "init_comparison",
           "recalibrated", "Invariances", "invariances", "TrainVsEval", "train_vs_eval",
           "RunningStatsLag", "running_stats_lag", "ExplorerRun", "explorer_run", "explorer_activations", "EXPLORER_WIDTH", "EXPLORER_DEPTH",
           "EXPLORER_MAX_BATCH"]

#: torch.nn.BatchNorm1d's defaults.
EPS = 1e-5
MOMENTUM = 0.1
#: Largest batch (N * D values) the functions accept: 64 MiB of float64 per array.
MAX_ELEMENTS = 8 * 2**20


def _check_batch(x, name="x") -> np.ndarray:
    shape = np.shape(x)
    if len(shape) != 2:
        raise ValueError(f"{name} must be a 2-D array (N, D); got shape {shape}")
    if shape[0] * shape[1] > MAX_ELEMENTS:
        raise ValueError(f"{name} has {shape[0] * shape[1]:,} values; at most {MAX_ELEMENTS:,} "
                         "are allowed (memory of a 2 GB kernel)")
    x = np.asarray(x)
    if x.dtype not in (np.float32, np.float64):  # float32 stays (the explorer's fast path)
        x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contains NaN or inf")
    return x


def _check_vector(name, value, d, dtype=np.float64) -> np.ndarray:
    v = np.asarray(value, dtype=dtype)
    if v.shape != (d,):
        raise ValueError(f"{name} must have shape ({d},), one value per feature; got {v.shape}")
    return v


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
def batchnorm_forward(x, gamma, beta, running_mean=None, running_var=None,
                      momentum: float | None = MOMENTUM, eps: float = EPS,
                      train: bool = True):
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
    if not isinstance(train, bool):
        raise ValueError(f"train must be True or False; got {train!r}")
    x = _check_batch(x)
    n, d = x.shape
    gamma = _check_vector("gamma", gamma, d, x.dtype)
    beta = _check_vector("beta", beta, d, x.dtype)
    eps = _check_real("eps", eps, 0.0, low_open=True)
    if momentum is None:
        raise ValueError("momentum must be a number in [0, 1]; got None (torch's cumulative "
                         "average is not implemented here)")
    momentum = _check_real("momentum", momentum, 0.0, 1.0)
    if (running_mean is None) != (running_var is None):
        raise ValueError("running_mean and running_var must be given together")
    if running_mean is not None:
        running_mean = _check_vector("running_mean", running_mean, d, x.dtype)
        running_var = _check_vector("running_var", running_var, d, x.dtype)
    if train:
        if n < 2:
            raise ValueError(f"x must hold at least 2 examples in training mode (a batch of "
                             f"one has variance 0); got N = {n}")
        mean = x.mean(axis=0)
        centred = x - mean
        var = (centred**2).mean(axis=0)  # biased: the normalisation's variance
        inv_std = 1.0 / np.sqrt(var + eps)
        x_hat = centred * inv_std
        if running_mean is not None:
            running_mean = (1 - momentum) * running_mean + momentum * mean
            running_var = (1 - momentum) * running_var + momentum * var * n / (n - 1)
        cache = BatchNormCache(x_hat, inv_std, gamma, True, mean, var, running_mean,
                               running_var)
    else:
        if running_mean is None:
            raise ValueError("evaluation mode (train=False) needs running_mean and running_var")
        inv_std = 1.0 / np.sqrt(running_var + eps)
        x_hat = (x - running_mean) * inv_std
        cache = BatchNormCache(x_hat, inv_std, gamma, False, None, None, running_mean,
                               running_var)
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
        raise ValueError(f"cache must be the BatchNormCache from batchnorm_forward; got "
                         f"{type(cache).__name__}")
    dout = np.asarray(dout, dtype=np.float64)
    if dout.shape != cache.x_hat.shape:
        raise ValueError(f"dout must have the forward output's shape {cache.x_hat.shape}; "
                         f"got {dout.shape}")
    x_hat = cache.x_hat
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    if not cache.train:
        return dout * (cache.gamma * cache.inv_std), dgamma, dbeta
    n = dout.shape[0]
    dx = (cache.gamma * cache.inv_std / n) * (n * dout - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


class BatchNormStep(network.LayerStep):
    r"""Batch Norm on every layer's :math:`z_l` of :func:`course_utils.network.forward`.

    ``where = "z"``: the network computes :math:`a_l = f(\mathrm{BN}(a_{l-1} W_l))`, Batch
    Norm before the activation as in Ioffe & Szegedy (2015) and the lecture.

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

    def __init__(self, gammas=None, betas=None, train: bool = True,
                 momentum: float = MOMENTUM, eps: float = EPS):
        if not isinstance(train, bool):
            raise ValueError(f"train must be True or False; got {train!r}")
        self.gammas = None if gammas is None else [np.asarray(g, dtype=np.float64) for g in gammas]
        self.betas = None if betas is None else [np.asarray(b, dtype=np.float64) for b in betas]
        self.train = train
        self.momentum = _check_real("momentum", momentum, 0.0, 1.0)
        self.eps = _check_real("eps", eps, 0.0, low_open=True)
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
        out, cache = batchnorm_forward(h, gamma, beta, mean, var, self.momentum, self.eps,
                                       self.train)
        self.running_means[layer], self.running_vars[layer] = cache.running_mean, cache.running_var
        return out, cache

    @reference_answer("bn_backward")
    def backward(self, grad, cache, layer):
        dx, dgamma, dbeta = batchnorm_backward(grad, cache)
        self.grads[layer] = (dgamma, dbeta)
        return dx


# ---------------------------------------------------------------------- why it helps
@dataclass(frozen=True)
class Invariances:
    """What :func:`invariances` measured (max absolute differences, ratios)."""

    scales: tuple
    output_change: np.ndarray  #: max |BN(a cW) - BN(a W)| per scale c
    grad_ratio: np.ndarray  #: RMS of dL/d(cW) / RMS of dL/dW per scale c (theory: 1/c)
    bias_change: float  #: max |BN(aW + b) - BN(aW)|
    identity_error: float  #: max |BN(z) - z| with gamma = sqrt(var + eps), beta = mean


def invariances(scales: Sequence[float] = (0.001, 0.1, 10.0, 1000.0), eps: float = EPS,
                n: int = 64, seed: int = 0) -> Invariances:
    r"""Batch Norm's invariances on one layer :math:`z = a W` of the digits (64 -> 32 units).

    - Scale: :math:`\mathrm{BN}(a\,cW) = \mathrm{BN}(aW)` for any :math:`c > 0` (the mean
      and the std both scale by c), exactly when :math:`\epsilon = 0` and approximately
      while :math:`c^2\operatorname{Var}(z) \gg \epsilon`; and the weight gradient scales by
      :math:`1/c` (a loss :math:`L = \sum G \odot \mathrm{BN}(z)` with a fixed G).
    - Bias: :math:`\mathrm{BN}(aW + b) = \mathrm{BN}(aW)`: the batch mean removes any b.
    - Identity: :math:`\gamma = \sqrt{\sigma^2 + \epsilon}`, :math:`\beta = \mu` undo the
      normalisation, so BN can represent "do nothing".
    """
    eps = _check_real("eps", eps, 0.0, low_open=True)
    scales = tuple(_check_real("scale", c, 0.0, 1e6, low_open=True) for c in scales)
    n = _check_int("n", n, 2, 1347)
    rng = np.random.default_rng(seed)
    a = _digits_batch(n, seed)
    w = rng.normal(0.0, 0.1, (a.shape[1], 32))
    g = rng.standard_normal((n, 32))
    ones, zeros = np.ones(32), np.zeros(32)

    def run(weights):
        out, cache = batchnorm_forward(a @ weights, ones, zeros, eps=eps)
        dz, _, _ = batchnorm_backward(g, cache)
        return out, a.T @ dz

    ref, grad = run(w)
    changes, ratios = [], []
    for c in scales:
        out, grad_c = run(c * w)
        changes.append(np.max(np.abs(out - ref)))
        ratios.append(np.sqrt(np.mean(grad_c**2)) / np.sqrt(np.mean(grad**2)))
    b = rng.normal(0.0, 5.0, 32)
    shifted, _ = batchnorm_forward(a @ w + b, ones, zeros, eps=eps)
    z = a @ w
    mu, var = z.mean(0), z.var(0)
    undone, _ = batchnorm_forward(z, np.sqrt(var + eps), mu, eps=eps)
    return Invariances(scales, np.array(changes), np.array(ratios),
                       float(np.max(np.abs(shifted - ref))), float(np.max(np.abs(undone - z))))


# ---------------------------------------------------------------------- train vs eval mode
@dataclass(frozen=True)
class TrainVsEval:
    """What :func:`train_vs_eval` measured on one batch of digits features."""

    train_out: np.ndarray  #: (N, D) BN in training mode (batch statistics)
    eval_out: np.ndarray  #: (N, D) BN in evaluation mode (running statistics)
    running_mean: np.ndarray
    running_var: np.ndarray
    train_change: float  #: max change of example 0's train-mode output when the others change
    eval_change: float  #: the same in eval mode (0: eval mode treats examples one by one)


def train_vs_eval(batch_size: int = 8, steps: int = 100, features: int = 4,
                  momentum: float = MOMENTUM, eps: float = EPS, seed: int = 0) -> TrainVsEval:
    r"""Train-mode vs eval-mode Batch Norm on the same batch.

    Features :math:`z = xW` of the training digits (a fixed random W, 64 -> ``features``),
    ``steps`` training-mode calls on random batches of 64 to build the running statistics,
    then one batch of ``batch_size`` digits through both modes; and the same batch with its
    other examples replaced.
    """
    batch_size = _check_int("batch_size", batch_size, 2, 256)
    steps = _check_int("steps", steps, 1, 10_000)
    features = _check_int("features", features, 1, 64)
    rng = np.random.default_rng(seed)
    x = _digits_batch(1347, seed)
    z = x @ rng.normal(0.0, 0.5, (64, features))
    gamma, beta = np.ones(features), np.zeros(features)
    mean, var = np.zeros(features), np.ones(features)
    for _ in range(steps):
        idx = rng.choice(len(z), 64, replace=False)
        _, cache = batchnorm_forward(z[idx], gamma, beta, mean, var, momentum, eps)
        mean, var = cache.running_mean, cache.running_var
    idx = rng.choice(len(z), 2 * batch_size - 1, replace=False)
    batch, other = z[idx[:batch_size]], np.vstack([z[idx[:1]], z[idx[batch_size:]]])
    train_out, _ = batchnorm_forward(batch, gamma, beta, eps=eps)
    eval_out, _ = batchnorm_forward(batch, gamma, beta, mean, var, eps=eps, train=False)
    train_other, _ = batchnorm_forward(other, gamma, beta, eps=eps)
    eval_other, _ = batchnorm_forward(other, gamma, beta, mean, var, eps=eps, train=False)
    return TrainVsEval(train_out, eval_out, mean, var,
                       float(np.max(np.abs(train_other[0] - train_out[0]))),
                       float(np.max(np.abs(eval_other[0] - eval_out[0]))))


# ---------------------------------------------------------------------- eps and tiny weights
def relu_variance_share() -> float:
    r""":math:`\operatorname{Var}(\mathrm{relu}(u))` for :math:`u \sim N(0, 1)`:
    :math:`\tfrac12 - \tfrac{1}{2\pi} = 0.3408`."""
    return 0.5 - 1.0 / (2.0 * math.pi)


def critical_std(width: int, eps: float = EPS) -> float:
    r"""Weight std below which Batch Norm's eps wins in a deep ReLU stack of ``width`` units.

    With BN output of std :math:`s` (gamma = 1), the next layer's batch variance is
    :math:`v = n\sigma^2 c\, s^2` (:math:`c` = :func:`relu_variance_share`) and its BN output
    has :math:`s'^2 = v/(v + \epsilon)`. The fixed point :math:`s^2 = 1 - \epsilon/(n\sigma^2 c)`
    exists only for :math:`n\sigma^2 c > \epsilon`, i.e. :math:`\sigma > \sqrt{\epsilon/(n c)}`;
    below it the activations shrink layer after layer, BN or not.
    """
    width = _check_int("width", width, 1)
    eps = _check_real("eps", eps, 0.0, low_open=True)
    return math.sqrt(eps / (width * relu_variance_share()))


@dataclass(frozen=True)
class EpsEffect:
    """Per-layer numbers of :func:`eps_effect`; arrays of shape (depth,)."""

    std: float
    var_z: np.ndarray  #: mean over units of the batch variance of z_l (before BN)
    bn_std: np.ndarray  #: mean over units of the std of BN's output
    predicted: np.ndarray  #: sqrt(var_z / (var_z + eps)), per unit, averaged


@lru_cache(maxsize=4)
def _digits_batch(n: int, seed: int) -> np.ndarray:
    from course_utils.data import load_digits

    return load_digits(seed=seed).x_train[:n].astype(np.float64)


def eps_effect(std: float, depth: int = 4, width: int = 64, n: int = 256, eps: float = EPS,
               seed: int = 0) -> EpsEffect:
    r"""Batch Norm at init with weights :math:`N(0, \sigma^2)` on ``n`` training digits.

    Runs the lecture's NumPy network (ReLU, ``depth`` layers of ``width``, BN before each
    activation in training mode) and reports per layer the batch variance of :math:`z_l`
    and the std of BN's output, which is :math:`\sqrt{v/(v + \epsilon)}`, not 1, once the
    variance :math:`v` is not much larger than eps.
    """
    std = _check_real("std", std, 0.0, 1e3, low_open=True)
    depth = _check_int("depth", depth, 1, 20)
    width = _check_int("width", width, 1, 4096)
    n = _check_int("n", n, 2, 1347)
    eps = _check_real("eps", eps, 0.0, low_open=True)
    rng = np.random.default_rng(seed)
    x = _digits_batch(n, seed)
    sizes = [x.shape[1]] + [width] * depth
    weights = [std * rng.standard_normal((i, o)) for i, o in zip(sizes[:-1], sizes[1:])]
    step = BatchNormStep(eps=eps)
    record = network.forward(x, weights, "relu", step=step)
    var_z = np.array([c.batch_var.mean() for c in record.step_caches])
    bn_std = np.array([z.std(axis=0).mean() for z in record.pre_activations])
    predicted = np.array([np.sqrt(c.batch_var / (c.batch_var + eps)).mean()
                          for c in record.step_caches])
    return EpsEffect(std, var_z, bn_std, predicted)


# ---------------------------------------------------------------------- batch size
@dataclass(frozen=True)
class BatchSizeEffect:
    """How batch statistics scatter with the batch size (:func:`batch_size_effect`)."""

    batch_sizes: tuple
    mean_spread: np.ndarray  #: std over batches of a feature's batch mean / its data std
    var_spread: np.ndarray  #: std over batches of the batch variance / the data variance
    train_eval_gap: np.ndarray  #: mean |BN_train(x) - BN_eval(x)| of the same examples

    def table(self) -> str:
        return format_table({"std of batch mean": self.mean_spread,
                             "std of batch var": self.var_spread,
                             "mean |train - eval|": self.train_eval_gap},
                            index=list(self.batch_sizes), index_name="batch size")


def batch_size_effect(x, batch_sizes: Sequence[int] = (2, 4, 16, 64, 256),
                      n_batches: int = 200, eps: float = EPS, seed: int = 0) -> BatchSizeEffect:
    r"""Draw ``n_batches`` random batches of each size from ``x`` (N, D) and measure how far the
    batch statistics stray from the data's, relative to its std (or variance) per feature,
    averaged over features; and how far a train-mode output is from the eval-mode output
    that uses the full data's statistics (the ideal running averages).

    The batch mean's spread shrinks like :math:`1/\sqrt{N}`.
    """
    x = _check_batch(x)
    n_batches = _check_int("n_batches", n_batches, 1, 10_000)
    sizes = tuple(_check_int("batch size", b, 2, len(x)) for b in batch_sizes)
    keep = x.std(axis=0) > 0
    x = x[:, keep]
    mu, var = x.mean(axis=0), x.var(axis=0)
    rng = np.random.default_rng(seed)
    ones, zeros = np.ones(x.shape[1]), np.zeros(x.shape[1])
    mean_spread, var_spread, gap = [], [], []
    for b in sizes:
        means, vars_, gaps = [], [], []
        for _ in range(n_batches):
            batch = x[rng.choice(len(x), size=b, replace=False)]
            out, cache = batchnorm_forward(batch, ones, zeros, eps=eps)
            ideal, _ = batchnorm_forward(batch, ones, zeros, mu, var, eps=eps, train=False)
            means.append(cache.batch_mean)
            vars_.append(cache.batch_var)
            gaps.append(np.abs(out - ideal).mean())
        mean_spread.append((np.std(means, axis=0) / np.sqrt(var)).mean())
        var_spread.append((np.std(vars_, axis=0) / var).mean())
        gap.append(np.mean(gaps))
    return BatchSizeEffect(sizes, np.array(mean_spread), np.array(var_spread), np.array(gap))


def pair_normalised(x, eps: float = EPS) -> np.ndarray:
    r"""Batch Norm (gamma 1, beta 0) of a batch of exactly two examples, (2, D).

    With :math:`x_1, x_2` the mean is halfway and :math:`\sigma^2 = (x_1 - x_2)^2/4`, so
    :math:`\hat x = \pm\frac{|x_1 - x_2|/2}{\sqrt{(x_1 - x_2)^2/4 + \epsilon}} \approx \pm 1`:
    every feature is -1 for one example and +1 for the other, whatever the data.
    """
    x = _check_batch(x)
    if x.shape[0] != 2:
        raise ValueError(f"x must hold exactly 2 examples; got {x.shape[0]}")
    out, _ = batchnorm_forward(x, np.ones(x.shape[1]), np.zeros(x.shape[1]), eps=eps)
    return out


# ---------------------------------------------------------------------- training on the digits
def bad_init_mlp(std: float, batchnorm: bool, depth: int = 4, width: int = 64,
                 bad_output: bool = False, seed: int = 0):
    """The chapter's MLP for the digits (ReLU) with hidden weights drawn from N(0, std^2).

    Built by :func:`course_utils.training.build_mlp` (``init="normal"``). Unless
    ``bad_output``, the output layer then gets torch's default init back: Batch Norm
    normalises the hidden layers only, and an output layer of std 0.001 would make the
    class scores (and every gradient sent down) tiny with or without BN.
    """
    import torch

    from course_utils.training import build_mlp

    if not isinstance(bad_output, bool):
        raise ValueError(f"bad_output must be True or False; got {bad_output!r}")
    model = build_mlp(64, 10, depth=depth, width=width, activation="relu", init="normal",
                      std=std, batchnorm=batchnorm, seed=seed)
    if not bad_output:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed + 1)
            model[-1].reset_parameters()
    return model


def recalibrated(model, x):
    """A copy of ``model`` whose Batch Norm running statistics are recomputed on ``x``.

    Every BN layer's running mean and variance become the exact averages over ``x``
    (torch's ``momentum=None``, cumulative), in one pass in training mode, without
    touching the weights; as ``torch.optim.swa_utils.update_bn`` does after SWA.
    """
    import torch

    model = copy.deepcopy(model)
    layers = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not layers:
        raise ValueError("model has no Batch Norm layer to recalibrate")
    for m in layers:
        m.reset_running_stats()
        m.momentum = None
    model.train()
    with torch.no_grad():
        model(torch.as_tensor(np.asarray(x), dtype=torch.float32))
    model.eval()
    return model


@dataclass(frozen=True)
class InitComparison:
    """Final validation accuracy per init std, without and with Batch Norm."""

    stds: tuple
    plain: tuple  #: validation accuracy (NaN if diverged) without BN
    batchnorm: tuple  #: with BN
    plain_status: tuple
    batchnorm_status: tuple
    settings: dict

    def table(self) -> str:
        def cells(accs, statuses):
            return ["diverged" if s == "diverged" else f"{a:.3f}" for a, s in zip(accs, statuses)]

        return format_table({"no BN": cells(self.plain, self.plain_status),
                             "with BN": cells(self.batchnorm, self.batchnorm_status)},
                            index=[f"{s:g}" for s in self.stds], index_name="init std")


def _one_thread():
    """Train with one BLAS thread: the matrices are small (see course_utils.dead_relu)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def init_comparison(stds: Sequence[float] = (0.001, 0.01, 0.1, 1.0), depth: int = 4,
                    width: int = 64, optimizer: str = "momentum", lr: float = 0.04,
                    epochs: int = 5, batch_size: int = 128, bad_output: bool = False,
                    seed: int = 0, data=None) -> InitComparison:
    """Train :func:`bad_init_mlp` from each std, without and with BN; final val accuracy.

    One loop for all: :func:`course_utils.training.train` (SGD with momentum 0.9 by
    default, lr 0.04, 5 epochs, batches of 128: 55 steps), evaluated in eval mode (BN's
    running statistics), as a practitioner would.
    """
    from course_utils.data import load_digits
    from course_utils.training import train

    stds = tuple(_check_real("std", s, 0.0, 1e3, low_open=True) for s in stds)
    if len(stds) == 0 or len(stds) > 8:
        raise ValueError(f"stds must hold 1 to 8 values; got {len(stds)}")
    data = load_digits(seed=seed) if data is None else data
    results = {}
    with _one_thread():  # torch's own threads: train() runs on one
        for bn in (False, True):
            accs, statuses = [], []
            for std in stds:
                model = bad_init_mlp(std, bn, depth, width, bad_output, seed)
                h = train(model, data, optimizer, lr=lr, epochs=epochs,
                          batch_size=batch_size, seed=seed, progress=False)
                statuses.append(h.status)
                accs.append(float("nan") if h.diverged else h.final()["val_acc"])
            results[bn] = (tuple(accs), tuple(statuses))
    settings = dict(depth=depth, width=width, optimizer=optimizer, lr=lr, epochs=epochs,
                    batch_size=batch_size, bad_output=bad_output, seed=seed)
    return InitComparison(stds, results[False][0], results[True][0], results[False][1],
                          results[True][1], settings)


@dataclass(frozen=True)
class RunningStatsLag:
    """What :func:`running_stats_lag` measured: one column per seed, one row per init std.

    Every run is evaluated after the same number of steps, once with the running statistics
    training left behind and once with statistics recomputed on the training data.
    """

    stds: tuple
    seeds: tuple
    steps: int  #: training steps before the evaluation (the same for every run)
    val_acc: np.ndarray  #: (stds, seeds) eval mode with the running statistics
    recalibrated_acc: np.ndarray  #: (stds, seeds) eval mode with recomputed statistics
    var_ratio: np.ndarray  #: (stds, seeds) median over BN units of running var / true var
    settings: dict

    @property
    def gain(self) -> np.ndarray:
        """Recalibrated minus running-statistics accuracy, (stds, seeds)."""
        return self.recalibrated_acc - self.val_acc

    def table(self) -> str:
        """Per init std: in how many seeds eval mode with the running statistics is below
        0.5, recalibration gains more than 0.5, or changes the accuracy by less than 0.1;
        and the median running var / true var. Counts with wide margins: a digit more or
        fewer right in one run does not change them."""
        n = len(self.seeds)

        def count(mask):
            return [f"{int(m.sum())} of {n}" for m in mask]

        return format_table({"running stats: acc < 0.5": count(self.val_acc < 0.5),
                             "recalibration gains > 0.5": count(self.gain > 0.5),
                             "|gain| < 0.1": count(np.abs(self.gain) < 0.1),
                             "running var / true var": [f"{np.median(v):.1f}"
                                                        for v in self.var_ratio]},
                            index=[f"{s:g}" for s in self.stds], index_name="init std")


def running_stats_lag(stds: Sequence[float] = (0.01, 0.18), seeds: Sequence[int] = range(8),
                      lr: float = 0.1, epochs: int = 2, batch_size: int = 128,
                      data=None) -> RunningStatsLag:
    r"""Train :func:`bad_init_mlp` with BN (plain SGD) from each std and seed; after the last
    step, validation accuracy in eval mode with the running statistics and recalibrated.

    The running variance starts at 1 and keeps a share :math:`(1 - m)^t` of it after t
    steps (0.9^22 = 0.10), plus an average of the last ~1/m = 10 batch variances. For a
    network started from tiny weights the true variance of z is far below 1 (and was smaller
    still a few steps ago), so the running statistics describe a network that no longer
    exists, and evaluation normalises with the wrong scale. ``var_ratio`` measures it: the
    median over every BN unit of running variance / variance over the training data.
    Defaults: batches of 128, lr 0.1, 2 epochs (22 steps), where the runs are stable (a
    longer run at this learning rate becomes chaotic: its decimals depend on the CPU).
    """
    import torch

    from course_utils.data import load_digits
    from course_utils.training import evaluate, train

    stds = tuple(_check_real("std", s, 0.0, 1e3, low_open=True) for s in stds)
    seeds = tuple(_check_int("seed", s, 0) for s in seeds)
    if not 1 <= len(stds) <= 8 or not 1 <= len(seeds) <= 32:
        raise ValueError(f"stds must hold 1 to 8 values and seeds 1 to 32; got {len(stds)} "
                         f"and {len(seeds)}")
    lr = _check_real("lr", lr, 0.0, 10.0, low_open=True)
    epochs = _check_int("epochs", epochs, 1, 50)
    batch_size = _check_int("batch_size", batch_size, 2, 1347)
    data = load_digits(seed=0) if data is None else data
    steps = epochs * math.ceil(len(data.x_train) / batch_size)
    acc, recal, ratio = (np.empty((len(stds), len(seeds))) for _ in range(3))
    with _one_thread():  # torch's own threads: train() runs on one
        for i, std in enumerate(stds):
            for j, seed in enumerate(seeds):
                model = bad_init_mlp(std, True, seed=seed)
                h = train(model, data, "sgd", lr=lr, epochs=epochs, batch_size=batch_size,
                          seed=seed, eval_every=steps, progress=False)
                if h.diverged:
                    raise ValueError(f"the run std={std:g}, seed={seed} diverged "
                                     f"({h.message}); choose a smaller lr")
                fresh = recalibrated(model, data.x_train)
                acc[i, j] = h.final()["val_acc"]
                recal[i, j] = evaluate(fresh, data.x_val, data.y_val)[1]
                pairs = [(a.running_var, b.running_var) for a, b in
                         zip(_bn_layers(model), _bn_layers(fresh))]
                ratio[i, j] = float(torch.median(torch.cat([a / b for a, b in pairs])))
    settings = dict(optimizer="sgd", lr=lr, epochs=epochs, batch_size=batch_size)
    return RunningStatsLag(stds, seeds, steps, acc, recal, ratio, settings)


def _bn_layers(model) -> list:
    import torch

    return [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]


# ---------------------------------------------------------------------- the explorer's network
EXPLORER_WIDTH = 256
EXPLORER_DEPTH = 6
EXPLORER_MAX_BATCH = 256


@lru_cache(maxsize=1)
def _threads():
    """A ThreadpoolController, inspected once (a new threadpool_limits costs ~3.5 ms)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


@lru_cache(maxsize=2)
def _explorer_arrays(seed: int, width: int, depth: int):
    rng = np.random.default_rng(seed)
    # float32, as the lecture's network in chapter 03: half the time of float64 per move
    x = rng.standard_normal((EXPLORER_MAX_BATCH, width), dtype=np.float32)
    unit = [rng.standard_normal((width, width), dtype=np.float32) for _ in range(depth)]
    for a in (x, *unit):
        a.flags.writeable = False
    return x, unit


@dataclass(frozen=True)
class ExplorerRun:
    """What :func:`explorer_run` computed: per-layer activations and batch variances of z."""

    activations: list  #: depth arrays (batch_size, width): a_l
    var_z: np.ndarray  #: (depth,) mean over units of the batch variance of z_l (before BN)


def explorer_run(std: float, batchnorm: bool, batch_size: int, activation: str = "tanh",
                 depth: int = EXPLORER_DEPTH, width: int = EXPLORER_WIDTH, eps: float = EPS,
                 seed: int = 0) -> ExplorerRun:
    r"""A ``depth`` x ``width`` network with weights :math:`N(0, \sigma^2)`, with or without BN.

    The first ``batch_size`` of a fixed set of :math:`N(0, 1)` inputs go through
    :func:`course_utils.network.forward`, with :class:`BatchNormStep` (training mode,
    gamma 1, beta 0) before each activation when ``batchnorm``. The weights are fixed
    unit-variance draws times ``std``, so only the scale changes between calls.
    """
    std = _check_real("std", std, 0.0, 1e3, low_open=True)
    if not isinstance(batchnorm, bool):
        raise ValueError(f"batchnorm must be True or False; got {batchnorm!r}")
    batch_size = _check_int("batch_size", batch_size, 2, EXPLORER_MAX_BATCH)
    depth = _check_int("depth", depth, 1, 12)
    width = _check_int("width", width, 2, 1024)
    x, unit = _explorer_arrays(_check_int("seed", seed, 0), width, depth)
    from course_utils.weight_cache import ScaledMatrix

    weights = [ScaledMatrix(w, std) for w in unit]  # (a @ U) * std: no scaled copy of U
    step = BatchNormStep(eps=eps) if batchnorm else None
    # One BLAS thread: fastest for these small matrices on a busy 2-core machine, and the
    # same summation order (hence the same float32 result) in the explorer and a direct call.
    with _threads().limit(limits=1), np.errstate(over="ignore", invalid="ignore"):
        record = network.forward(x[:batch_size], weights, activation, step=step)
        if batchnorm:
            var_z = np.array([c.batch_var.mean(dtype=np.float64) for c in record.step_caches])
        else:
            var_z = np.array([z.var(axis=0, dtype=np.float64).mean()
                              for z in record.pre_activations])
    return ExplorerRun(record.activations, var_z)


def explorer_activations(std: float, batchnorm: bool, batch_size: int, **kwargs) -> list:
    """The activations of :func:`explorer_run` (same arguments)."""
    return explorer_run(std, batchnorm, batch_size, **kwargs).activations
