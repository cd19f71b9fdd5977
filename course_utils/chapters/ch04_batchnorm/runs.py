r"""Chapter 04's experiments: what Batch Norm does to a network, on the digits, in numbers.

The layer itself (forward, backward, :class:`~course_utils.batchnorm.BatchNormStep`) is the
lesson in :mod:`course_utils.batchnorm`. Here: its invariances (:func:`invariances`), train vs
eval mode (:func:`train_vs_eval`), eps and tiny weights (:func:`critical_std`,
:func:`eps_effect`), the batch size (:func:`batch_size_effect`, :func:`pair_normalised`), and
training the chapter's MLP with and without it (:func:`init_comparison`,
:func:`running_stats_lag`).
"""

from __future__ import annotations

import copy
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
from course_utils.tables import format_table
from course_utils.training import OPTIMIZERS
from course_utils.validation import (
    MAX_SEED,
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_real,
    check_sequence,
    check_work,
)

__all__ = [
    "Invariances",
    "invariances",
    "TrainVsEval",
    "train_vs_eval",
    "relu_variance_share",
    "critical_std",
    "EpsEffect",
    "eps_effect",
    "BatchSizeEffect",
    "batch_size_effect",
    "pair_normalised",
    "MAX_MLP_DEPTH",
    "MAX_MLP_WIDTH",
    "MAX_TRAIN_EPOCHS",
    "bad_init_mlp",
    "recalibrated",
    "InitComparison",
    "init_comparison",
    "RunningStatsLag",
    "running_stats_lag",
]

#: Training images of the digits (1797 images, a quarter kept for validation).
N_DIGITS_TRAIN = 1347
#: The chapter's MLP on the digits: up to 20 layers of 1024 units is 80 MiB of float32
#: weights and a few seconds per epoch on 2 cores; the lesson uses 4 x 64.
MAX_MLP_DEPTH = 20
MAX_MLP_WIDTH = 1024
#: Epochs of one training run here: the chapter trains 2 to 5; 50 epochs of the largest MLP
#: above would already take minutes.
MAX_TRAIN_EPOCHS = 50
#: Std values of :func:`init_comparison` and :func:`running_stats_lag`: each is a training run.
MAX_STDS = 8


def _check_seed(name: str, seed) -> int:
    # An int: it seeds the digits split and torch as well as numpy.
    return check_int(name, seed, 0, MAX_SEED)


def _check_stds(stds) -> tuple:
    return tuple(
        check_sequence(
            "stds", stds, lambda n, s: check_real(n, s, 0.0, 1e3, low_open=True), max_len=MAX_STDS
        )
    )


# ---------------------------------------------------------------------- why it helps
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
    seed = _check_seed("seed", seed)
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
    seed = _check_seed("seed", seed)
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
    seed = _check_seed("seed", seed)
    check_work("eps_effect", n * width * (64 + depth * width))
    rng = np.random.default_rng(seed)
    x = _digits_batch(n, seed)
    sizes = [x.shape[1]] + [width] * depth
    weights = [std * rng.standard_normal((i, o)) for i, o in zip(sizes[:-1], sizes[1:])]
    step = BatchNormStep(eps=eps)
    record = network.forward(x, weights, "relu", step=step)
    var_z = np.array([c.batch_var.mean() for c in record.step_caches])
    bn_std = np.array([z.std(axis=0).mean() for z in record.pre_activations])
    predicted = np.array(
        [np.sqrt(c.batch_var / (c.batch_var + eps)).mean() for c in record.step_caches]
    )
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
        return format_table(
            {
                "std of batch mean": self.mean_spread,
                "std of batch var": self.var_spread,
                "mean |train - eval|": self.train_eval_gap,
            },
            index=list(self.batch_sizes),
            index_name="batch size",
        )


def batch_size_effect(
    x,
    batch_sizes: Sequence[int] = (2, 4, 16, 64, 256),
    n_batches: int = 200,
    eps: float = EPS,
    seed: int = 0,
) -> BatchSizeEffect:
    r"""Draw ``n_batches`` random batches of each size from ``x`` (N, D) and measure how far the
    batch statistics stray from the data's, relative to its std (or variance) per feature,
    averaged over features; and how far a train-mode output is from the eval-mode output
    that uses the full data's statistics (the ideal running averages).

    The batch mean's spread shrinks like :math:`1/\sqrt{N}`.
    """
    x = check_batch(x)
    n_batches = check_int("n_batches", n_batches, 1, 10_000)
    sizes = tuple(
        check_sequence(
            "batch_sizes",
            batch_sizes,
            lambda name, b: check_int(name, b, 2, max(2, len(x))),
            max_len=64,
        )
    )
    if len(x) < 2:
        raise ValueError(f"x must hold at least 2 examples; got {len(x)}")
    eps = check_real("eps", eps, 0.0, low_open=True)
    seed = _check_seed("seed", seed)
    check_work("batch_size_effect", 4.0 * n_batches * sum(sizes) * x.shape[1])
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
    x = check_batch(x)
    if x.shape[0] != 2:
        raise ValueError(f"x must hold exactly 2 examples; got {x.shape[0]}")
    out, _ = batchnorm_forward(x, np.ones(x.shape[1]), np.zeros(x.shape[1]), eps=eps)
    return out


# ---------------------------------------------------------------------- training on the digits
def bad_init_mlp(
    std: float,
    batchnorm: bool,
    depth: int = 4,
    width: int = 64,
    bad_output: bool = False,
    seed: int = 0,
):
    """The chapter's MLP for the digits (ReLU) with hidden weights drawn from N(0, std^2).

    Built by :func:`course_utils.training.build_mlp` (``init="normal"``). Unless
    ``bad_output``, the output layer then gets torch's default init back: Batch Norm
    normalises the hidden layers only, and an output layer of std 0.001 would make the
    class scores (and every gradient sent down) tiny with or without BN.
    """
    import torch

    from course_utils.training import build_mlp

    bad_output = check_bool("bad_output", bad_output)
    depth = check_int("depth", depth, 1, MAX_MLP_DEPTH)
    width = check_int("width", width, 1, MAX_MLP_WIDTH)
    seed = _check_seed("seed", seed)
    model = build_mlp(
        64,
        10,
        depth=depth,
        width=width,
        activation="relu",
        init="normal",
        std=std,
        batchnorm=batchnorm,
        seed=seed,
    )
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

    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    x = check_array("x", x, ndim=2)
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

        return format_table(
            {
                "no BN": cells(self.plain, self.plain_status),
                "with BN": cells(self.batchnorm, self.batchnorm_status),
            },
            index=[f"{s:g}" for s in self.stds],
            index_name="init std",
        )


def _one_thread():
    """Train with one BLAS thread: the matrices are small (see course_utils.dead_relu)."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1)


def init_comparison(
    stds: Sequence[float] = (0.001, 0.01, 0.1, 1.0),
    depth: int = 4,
    width: int = 64,
    optimizer: str = "momentum",
    lr: float = 0.04,
    epochs: int = 5,
    batch_size: int = 128,
    bad_output: bool = False,
    seed: int = 0,
    data=None,
) -> InitComparison:
    """Train :func:`bad_init_mlp` from each std, without and with BN; final val accuracy.

    One loop for all: :func:`course_utils.training.train` (SGD with momentum 0.9 by
    default, lr 0.04, 5 epochs, batches of 128: 55 steps), evaluated in eval mode (BN's
    running statistics), as a practitioner would.
    """
    from course_utils.data import load_digits
    from course_utils.training import train

    stds = _check_stds(stds)
    depth = check_int("depth", depth, 1, MAX_MLP_DEPTH)
    width = check_int("width", width, 1, MAX_MLP_WIDTH)
    epochs = check_int("epochs", epochs, 1, MAX_TRAIN_EPOCHS)
    seed = _check_seed("seed", seed)
    check_choice("optimizer", optimizer, OPTIMIZERS)
    check_work(
        "init_comparison",
        2 * len(stds) * epochs * 3 * N_DIGITS_TRAIN * (64 * width + depth * width * width),
    )
    data = load_digits(seed=seed) if data is None else data
    results = {}
    with _one_thread():  # torch's own threads: train() runs on one
        for bn in (False, True):
            accs, statuses = [], []
            for std in stds:
                model = bad_init_mlp(std, bn, depth, width, bad_output, seed)
                h = train(
                    model,
                    data,
                    optimizer,
                    lr=lr,
                    epochs=epochs,
                    batch_size=batch_size,
                    seed=seed,
                    progress=False,
                )
                statuses.append(h.status)
                accs.append(float("nan") if h.diverged else h.final()["val_acc"])
            results[bn] = (tuple(accs), tuple(statuses))
    settings = dict(
        depth=depth,
        width=width,
        optimizer=optimizer,
        lr=lr,
        epochs=epochs,
        batch_size=batch_size,
        bad_output=bad_output,
        seed=seed,
    )
    return InitComparison(
        stds, results[False][0], results[True][0], results[False][1], results[True][1], settings
    )


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

        return format_table(
            {
                "running stats: acc < 0.5": count(self.val_acc < 0.5),
                "recalibration gains > 0.5": count(self.gain > 0.5),
                "|gain| < 0.1": count(np.abs(self.gain) < 0.1),
                "running var / true var": [f"{np.median(v):.1f}" for v in self.var_ratio],
            },
            index=[f"{s:g}" for s in self.stds],
            index_name="init std",
        )


def running_stats_lag(
    stds: Sequence[float] = (0.01, 0.18),
    seeds: Sequence[int] = range(8),
    lr: float = 0.1,
    epochs: int = 2,
    batch_size: int = 128,
    data=None,
) -> RunningStatsLag:
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

    stds = _check_stds(stds)
    seeds = tuple(check_sequence("seeds", seeds, _check_seed, max_len=32))
    lr = check_real("lr", lr, 0.0, 10.0, low_open=True)
    epochs = check_int("epochs", epochs, 1, MAX_TRAIN_EPOCHS)
    batch_size = check_int("batch_size", batch_size, 2, N_DIGITS_TRAIN)
    data = load_digits(seed=0) if data is None else data
    steps = epochs * math.ceil(len(data.x_train) / batch_size)
    acc, recal, ratio = (np.empty((len(stds), len(seeds))) for _ in range(3))
    with _one_thread():  # torch's own threads: train() runs on one
        for i, std in enumerate(stds):
            for j, seed in enumerate(seeds):
                model = bad_init_mlp(std, True, seed=seed)
                h = train(
                    model,
                    data,
                    "sgd",
                    lr=lr,
                    epochs=epochs,
                    batch_size=batch_size,
                    seed=seed,
                    eval_every=steps,
                    progress=False,
                )
                if h.diverged:
                    raise ValueError(
                        f"the run std={std:g}, seed={seed} diverged "
                        f"({h.message}); choose a smaller lr"
                    )
                fresh = recalibrated(model, data.x_train)
                acc[i, j] = h.final()["val_acc"]
                recal[i, j] = evaluate(fresh, data.x_val, data.y_val)[1]
                pairs = [
                    (a.running_var, b.running_var)
                    for a, b in zip(_bn_layers(model), _bn_layers(fresh))
                ]
                ratio[i, j] = float(torch.median(torch.cat([a / b for a, b in pairs])))
    settings = dict(optimizer="sgd", lr=lr, epochs=epochs, batch_size=batch_size)
    return RunningStatsLag(stds, seeds, steps, acc, recal, ratio, settings)


def _bn_layers(model) -> list:
    import torch

    return [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
