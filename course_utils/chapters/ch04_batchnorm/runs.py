r"""Chapter 04's experiments: what Batch Norm does to a network, on the digits, in numbers.

The layer itself (forward, backward, :class:`~course_utils.batchnorm.BatchNormStep`) is the
lesson in :mod:`course_utils.batchnorm`. Here: its invariances (:func:`invariances`), train vs
eval mode (:func:`train_vs_eval`), eps and tiny weights (:func:`critical_std`,
:func:`eps_effect`), the share of active ReLU units (:func:`active_share`); the network the
explorer computes (:func:`explorer_run`). The batch size (:func:`pair_normalised`,
:func:`batch_size_effect`, :func:`batch_noise`) is in
:mod:`~course_utils.chapters.ch04_batchnorm.runs_batch_size`.
Training the chapter's MLP with and without it is in
:mod:`~course_utils.chapters.ch04_batchnorm.runs_training`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

import numpy as np

from course_utils import network
from course_utils.batchnorm import (
    EPS,
    MOMENTUM,
    BatchNormStep,
    batchnorm_backward,
    batchnorm_forward,
    check_batch,
)
from course_utils.data import N_DIGITS_TRAIN
from course_utils.threads import one_thread
from course_utils.validation import (
    MAX_SEED,
    check_bool,
    check_choice,
    check_int,
    check_real,
    check_sequence,
    check_work,
)
from course_utils.weight_cache import ScaledMatrix

__all__ = [
    "Invariances",
    "invariances",
    "TrainVsEval",
    "train_vs_eval",
    "relu_variance_share",
    "critical_std",
    "EpsEffect",
    "eps_effect",
    "active_share",
    "EXPLORER_ACTIVATIONS",
    "EXPLORER_WIDTH",
    "EXPLORER_DEPTH",
    "EXPLORER_MAX_BATCH",
    "ExplorerRun",
    "explorer_run",
]


@dataclass(frozen=True)
class Invariances:
    """What :func:`invariances` measured (max absolute differences, ratios)."""

    scales: tuple
    output_change: np.ndarray  #: max |BN(a cW) - BN(a W)| per scale c
    grad_ratio: np.ndarray  #: RMS of dL/d(cW) / RMS of dL/dW per scale c (theory: 1/c)
    bias_change: float  #: max |BN(aW + b) - BN(aW)|
    identity_error: float  #: max |BN(z) - z| with gamma = sqrt(var + eps), beta = mean


def invariances(
    scales: Sequence[float] = (0.001, 0.1, 10.0, 1000.0),
    eps: float = EPS,
    n: int = 64,
    seed: int = 0,
) -> Invariances:
    r"""Batch Norm's invariances on one layer :math:`z = a W` of the digits (64 -> 32 units).

    - Scale: :math:`\mathrm{BN}(a\,cW) = \mathrm{BN}(aW)` for any :math:`c > 0` (the mean
      and the std both scale by c), exactly when :math:`\epsilon = 0` and approximately
      while :math:`c^2\operatorname{Var}(z) \gg \epsilon`; and the weight gradient scales by
      :math:`1/c` (a loss :math:`L = \sum G \odot \mathrm{BN}(z)` with a fixed G).
    - Bias: :math:`\mathrm{BN}(aW + b) = \mathrm{BN}(aW)`: the batch mean removes any b.
    - Identity: :math:`\gamma = \sqrt{\sigma^2 + \epsilon}`, :math:`\beta = \mu` undo the
      normalisation, so BN can represent "do nothing".
    """
    eps = check_real("eps", eps, 0.0, low_open=True)
    scales = tuple(
        check_sequence(
            "scales", scales, lambda name, c: check_real(name, c, 0.0, 1e6, low_open=True)
        )
    )
    n = check_int("n", n, 2, N_DIGITS_TRAIN)
    seed = check_int("seed", seed, 0, MAX_SEED)
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
    return Invariances(
        scales,
        np.array(changes),
        np.array(ratios),
        float(np.max(np.abs(shifted - ref))),
        float(np.max(np.abs(undone - z))),
    )


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


def train_vs_eval(
    batch_size: int = 8,
    steps: int = 100,
    features: int = 4,
    momentum: float = MOMENTUM,
    eps: float = EPS,
    seed: int = 0,
) -> TrainVsEval:
    r"""Train-mode vs eval-mode Batch Norm on the same batch.

    Features :math:`z = xW` of the training digits (a fixed random W, 64 -> ``features``),
    ``steps`` training-mode calls on random batches of 64 to build the running statistics,
    then one batch of ``batch_size`` digits through both modes; and the same batch with its
    other examples replaced.
    """
    batch_size = check_int("batch_size", batch_size, 2, 256)
    steps = check_int("steps", steps, 1, 10_000)
    features = check_int("features", features, 1, 64)
    momentum = check_real("momentum", momentum, 0.0, 1.0)
    eps = check_real("eps", eps, 0.0, low_open=True)
    seed = check_int("seed", seed, 0, MAX_SEED)
    rng = np.random.default_rng(seed)
    x = _digits_batch(N_DIGITS_TRAIN, seed)
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
    return TrainVsEval(
        train_out,
        eval_out,
        mean,
        var,
        float(np.max(np.abs(train_other[0] - train_out[0]))),
        float(np.max(np.abs(eval_other[0] - eval_out[0]))),
    )


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
    width = check_int("width", width, 1)
    eps = check_real("eps", eps, 0.0, low_open=True)
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


def eps_effect(
    std: float, depth: int = 4, width: int = 64, n: int = 256, eps: float = EPS, seed: int = 0
) -> EpsEffect:
    r"""Batch Norm at init with weights :math:`N(0, \sigma^2)` on ``n`` training digits.

    Runs the lecture's NumPy network (ReLU, ``depth`` layers of ``width``, BN before each
    activation in training mode) and reports per layer the batch variance of :math:`z_l`
    and the std of BN's output, which is :math:`\sqrt{v/(v + \epsilon)}`, not 1, once the
    variance :math:`v` is not much larger than eps.
    """
    std = check_real("std", std, 0.0, 1e3, low_open=True)
    depth = check_int("depth", depth, 1, 20)
    width = check_int("width", width, 1, 4096)
    n = check_int("n", n, 2, N_DIGITS_TRAIN)
    eps = check_real("eps", eps, 0.0, low_open=True)
    seed = check_int("seed", seed, 0, MAX_SEED)
    check_work("eps_effect", n * width * (64 + depth * width))
    rng = np.random.default_rng(seed)
    x = _digits_batch(n, seed)
    sizes = [x.shape[1]] + [width] * depth
    weights = [std * rng.standard_normal((i, o)) for i, o in zip(sizes[:-1], sizes[1:])]
    step = BatchNormStep(eps=eps)
    with one_thread():  # small matrices: two BLAS threads only wait (7x the CPU)
        record = network.forward(x, weights, "relu", step=step)
    var_z = np.array([c.batch_var.mean() for c in record.step_caches])
    bn_std = np.array([z.std(axis=0).mean() for z in record.pre_activations])
    predicted = np.array(
        [np.sqrt(c.batch_var / (c.batch_var + eps)).mean() for c in record.step_caches]
    )
    return EpsEffect(std, var_z, bn_std, predicted)


# ---------------------------------------------------------------------- active share
def active_share(activations) -> np.ndarray:
    r"""Per unit, the share of the batch on which a ReLU unit is active (output > 0).

    After Batch Norm a unit's pre-activation has mean 0 over the batch, which makes it
    positive on *half* of the batch only if its batch median is 0 too: a skewed
    distribution (most pixels of the digits are 0) moves the share away from 1/2.

    Parameters
    ----------
    activations : sequence of arrays (N, width)
        One per layer, ReLU outputs (as :func:`course_utils.models.hidden_activations`).

    Returns
    -------
    ndarray, shape (layers, width)
    """
    activations = check_sequence("activations", activations, max_len=64)
    shares = []
    for i, a in enumerate(activations):
        a = check_batch(a, name=f"activations[{i}]")
        shares.append((a > 0).mean(axis=0))
    if len({s.shape for s in shares}) != 1:
        raise ValueError("activations must all have the same width")
    return np.array(shares)


# ---------------------------------------------------------------- the explorer's network
#: Activations the explorer offers (a constructor argument of the explorer, not a control).
EXPLORER_ACTIVATIONS = ("tanh", "relu")
#: The explorer's network: 6 layers of 256 units, batches up to 256 (a few ms per move).
EXPLORER_WIDTH = 256
EXPLORER_DEPTH = 6
EXPLORER_MAX_BATCH = 256
#: Largest network :func:`explorer_run` accepts (a direct call): 12 x 1024^2 float32 weights
#: are 48 MiB and a forward pass of 256 rows stays under a second.
EXPLORER_MAX_DEPTH = 12
EXPLORER_MAX_WIDTH = 1024


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


def explorer_run(
    std: float,
    batchnorm: bool,
    batch_size: int,
    activation: str = "tanh",
    depth: int = EXPLORER_DEPTH,
    width: int = EXPLORER_WIDTH,
    eps: float = EPS,
    seed: int = 0,
) -> ExplorerRun:
    r"""A ``depth`` x ``width`` network with weights :math:`N(0, \sigma^2)`, with or without BN.

    The first ``batch_size`` of a fixed set of :math:`N(0, 1)` inputs go through
    :func:`course_utils.network.forward`, with :class:`BatchNormStep` (training mode,
    gamma 1, beta 0) before each activation when ``batchnorm``. The weights are fixed
    unit-variance draws times ``std``, so only the scale changes between calls.
    """
    std = check_real("std", std, 0.0, 1e3, low_open=True)
    batchnorm = check_bool("batchnorm", batchnorm)
    batch_size = check_int("batch_size", batch_size, 2, EXPLORER_MAX_BATCH)
    check_choice("activation", activation, EXPLORER_ACTIVATIONS)
    depth = check_int("depth", depth, 1, EXPLORER_MAX_DEPTH)
    width = check_int("width", width, 2, EXPLORER_MAX_WIDTH)
    eps = check_real("eps", eps, 0.0, low_open=True)
    x, unit = _explorer_arrays(check_int("seed", seed, 0, MAX_SEED), width, depth)
    weights = [ScaledMatrix(w, std) for w in unit]  # (a @ U) * std: no scaled copy of U
    step = BatchNormStep(eps=eps) if batchnorm else None
    # One BLAS thread: fastest for these small matrices on a busy 2-core machine, and the
    # same summation order (hence the same float32 result) in the explorer and a direct call.
    with one_thread(), np.errstate(over="ignore", invalid="ignore"):
        record = network.forward(x[:batch_size], weights, activation, step=step)
        if batchnorm:
            var_z = np.array([c.batch_var.mean(dtype=np.float64) for c in record.step_caches])
        else:
            var_z = np.array(
                [z.var(axis=0, dtype=np.float64).mean() for z in record.pre_activations]
            )
    return ExplorerRun(record.activations, var_z)
