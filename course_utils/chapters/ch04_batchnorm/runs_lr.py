r"""Chapter 04: Batch Norm and the learning rate, on S networks trained side by side.

Batch Norm makes a weight matrix :math:`W` that feeds it *scale-invariant*: the loss does not
change when a unit's column :math:`w_j` is multiplied by :math:`c > 0`. Two consequences, both
measured here on the chapter's MLP for the digits:

- The gradient is orthogonal to the weights, :math:`\langle w_j, \partial L/\partial w_j\rangle
  = 0` (differentiate :math:`L(c\,w_j)` at :math:`c = 1`), so a plain SGD step can only
  *grow* the norm: :math:`\|w_j - \eta g_j\|^2 = \|w_j\|^2 + \eta^2\|g_j\|^2`. And a step
  changes the direction :math:`w_j/\|w_j\|` by about :math:`\eta\|g_j\|/\|w_j\|`, with
  :math:`\|g_j\| \propto 1/\|w_j\|`: the *effective learning rate* is
  :math:`\eta/\|w_j\|^2`. A learning rate that is too large grows the weights, which lowers
  the effective rate until it is small enough: the reason Batch Norm allows much higher
  learning rates (Ioffe & Szegedy, ICML 2015, section 3.3).
- Weight decay (:math:`g \leftarrow g + \lambda w`) no longer restricts the function (the
  output ignores the scale of :math:`w_j`); it shrinks :math:`\|w_j\|` and so *raises* the
  effective learning rate, until growth and decay balance (van Laarhoven, arXiv:1706.05350,
  2017; Zhang, Wang, Xu & Grosse, ICLR 2019).

:func:`train_stack` trains S copies of the MLP at once (one ``torch.bmm`` per layer for all
S), each with its own learning rate, weight decay and seed: all of a table's runs cost
about as much as one or two runs of :func:`course_utils.training.train`. A unit test checks
one of them step by step against an ``nn.Sequential`` trained by ``torch.optim.SGD``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from course_utils.batchnorm import EPS
from course_utils.data import N_DIGITS_TRAIN
from course_utils.tables import format_table
from course_utils.validation import (
    MAX_SEED,
    check_bool,
    check_int,
    check_real,
    check_sequence,
    check_work,
)

__all__ = [
    "MAX_STACK",
    "KAIMING_STD",
    "StackRuns",
    "train_stack",
    "stack_to_torch",
    "LrComparison",
    "lr_comparison",
]

#: Networks trained side by side in one :func:`train_stack` call.
MAX_STACK = 64
#: Kaiming's std for the chapter's hidden layers of 64 ReLU units, sqrt(2/64).
KAIMING_STD = math.sqrt(2.0 / 64)


@dataclass(frozen=True)
class StackRuns:
    """What :func:`train_stack` recorded; S networks, T steps, L hidden layers."""

    batchnorm: bool
    lrs: np.ndarray  #: (S,)
    weight_decays: np.ndarray  #: (S,)
    seeds: tuple  #: (S,)
    steps: int  #: T, the steps every network was trained for (unless it diverged)
    diverged_at: np.ndarray  #: (S,) the step whose loss was not finite, 0 if none
    val_acc: np.ndarray  #: (S,) final validation accuracy, NaN if diverged
    col_sq: np.ndarray  #: (T + 1, S, L) mean over units of the squared column norm |w_j|^2
    max_cos: np.ndarray  #: (S,) max over units and steps 1, 8, 16, ... of |cos(w_j, g_j)|
    initial: list  #: the initial parameters, as :func:`stack_to_torch` takes them

    @property
    def diverged(self) -> np.ndarray:
        return self.diverged_at > 0

    @property
    def effective_lr(self) -> np.ndarray:
        """(T + 1, S, L): eta / mean |w_j|^2, the step size of the directions w_j / |w_j|."""
        return self.lrs[None, :, None] / self.col_sq


def _init(seeds, depth, width, std, batchnorm):
    """Initial parameters, (S, ...) float32 tensors: hidden weights N(0, std^2), biases 0
    (no BN) or gamma 1, beta 0 (BN); the output layer as torch's ``nn.Linear`` default,
    U(-1/sqrt(width), 1/sqrt(width)) for weights and bias. Seed s draws its own."""
    import torch

    sizes = [64] + [width] * depth
    per_seed = []
    for seed in seeds:
        gen = torch.Generator().manual_seed(int(seed))
        params = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            params.append(std * torch.randn(fan_in, fan_out, generator=gen))
            if batchnorm:
                params += [torch.ones(fan_out), torch.zeros(fan_out)]
            else:
                params.append(torch.zeros(fan_out))
        bound = 1.0 / math.sqrt(width)
        params.append((torch.rand(width, 10, generator=gen) * 2 - 1) * bound)
        params.append((torch.rand(10, generator=gen) * 2 - 1) * bound)
        per_seed.append(params)
    return [torch.stack(group) for group in zip(*per_seed)]


def _forward(params, x, depth, batchnorm, stats=None, eps=EPS):
    """Scores (S, B, 10) of the stacked MLP on x (S, B, 64). Batch Norm uses the batch's
    statistics, or ``stats`` [(mean, var) per layer] if given; returns (scores, batch stats)."""
    import torch

    h, k, seen = x, 0, []
    for layer in range(depth):
        z = torch.bmm(h, params[k])
        if batchnorm:
            gamma, beta = params[k + 1], params[k + 2]
            if stats is None:
                mean = z.mean(1, keepdim=True)
                centred = z - mean
                var = (centred * centred).mean(1, keepdim=True)  # biased, as BN normalises
            else:
                mean, var = stats[layer]
                centred = z - mean
            seen.append((mean, var))
            z = centred * torch.rsqrt(var + eps) * gamma[:, None] + beta[:, None]
            k += 3
        else:
            z = z + params[k + 1][:, None]
            k += 2
        h = torch.relu(z)
    return torch.bmm(h, params[k]) + params[k + 1][:, None], seen


def train_stack(
    lrs: Sequence[float],
    weight_decays: Sequence[float],
    seeds: Sequence[int],
    batchnorm: bool,
    std: float = KAIMING_STD,
    depth: int = 4,
    width: int = 64,
    epochs: int = 3,
    batch_size: int = 128,
    data=None,
) -> StackRuns:
    r"""Train S = len(lrs) copies of the chapter's ReLU MLP side by side by plain SGD.

    Network s starts from seed ``seeds[s]`` (hidden weights :math:`N(0, \mathrm{std}^2)`) and
    takes the steps :math:`p \leftarrow p - \eta_s (\partial L_s/\partial p + \lambda_s p)` on
    all its parameters (``torch.optim.SGD``'s ``weight_decay``), with :math:`L_s` the mean
    cross-entropy of its minibatch; the minibatches of seed s are those
    :func:`course_utils.training.train` visits for that seed. With ``batchnorm``, a Batch
    Norm (batch statistics, :math:`\epsilon = 10^{-5}`) sits before every ReLU and the hidden
    layers have no bias. A network whose loss is not finite stops (``diverged_at``).

    The validation accuracy at the end uses, for Batch Norm, the statistics of the whole
    training set (as :func:`~course_utils.chapters.ch04_batchnorm.runs_training.recalibrated`
    does), so no lag of running averages enters the comparison.

    Parameters
    ----------
    lrs, weight_decays : sequences of float, length S (1 to :data:`MAX_STACK`)
    seeds : sequence of int, length S
    batchnorm : bool
    std : float
        Hidden weights' initial std (Kaiming's sqrt(2/64) = 0.177 by default).
    depth, width, epochs, batch_size : int

    Returns
    -------
    StackRuns
    """
    import torch
    import torch.nn.functional as F

    from course_utils.data import load_digits
    from course_utils.stacked import minibatch_orders
    from course_utils.training import check_data, torch_threads

    lrs = check_sequence(
        "lrs", lrs, lambda n, v: check_real(n, v, 0.0, 1e3, low_open=True), max_len=MAX_STACK
    )
    s_count = len(lrs)
    weight_decays = check_sequence(
        "weight_decays",
        weight_decays,
        lambda n, v: check_real(n, v, 0.0, 10.0),
        min_len=s_count,
        max_len=s_count,
    )
    seeds = tuple(
        check_sequence(
            "seeds",
            seeds,
            lambda n, v: check_int(n, v, 0, MAX_SEED),
            min_len=s_count,
            max_len=s_count,
        )
    )
    batchnorm = check_bool("batchnorm", batchnorm)
    std = check_real("std", std, 0.0, 1e3, low_open=True)
    depth = check_int("depth", depth, 1, 8)
    width = check_int("width", width, 2, 256)
    epochs = check_int("epochs", epochs, 1, 50)
    batch_size = check_int("batch_size", batch_size, 2, N_DIGITS_TRAIN)
    check_work(
        "train_stack", 6.0 * s_count * epochs * N_DIGITS_TRAIN * width * (64 + depth * width)
    )  # the digits' size: data with more examples is refused below
    data = load_digits(seed=0) if data is None else data
    x_train, y_train, x_val, y_val = check_data(data)
    if x_train.shape[1] != 64 or not batch_size <= len(x_train) <= N_DIGITS_TRAIN:
        raise ValueError(
            f"data must hold 64 features per example and batch_size={batch_size} to "
            f"{N_DIGITS_TRAIN} training examples; got x_train of shape {tuple(x_train.shape)}"
        )
    if len(y_train) and (int(y_train.min()) < 0 or int(y_train.max()) > 9):
        raise ValueError("data's labels must be the classes 0 to 9")
    n = len(x_train)
    lr = torch.tensor(lrs, dtype=torch.float32)
    wd = torch.tensor(weight_decays, dtype=torch.float32)
    params = _init(seeds, depth, width, std, batchnorm)
    initial = [p.clone() for p in params]
    for p in params:
        p.requires_grad_(True)
    hidden = [0] + [(3 if batchnorm else 2) * (i + 1) for i in range(depth - 1)]
    diverged_at = np.zeros(s_count, dtype=int)
    alive = torch.ones(s_count, dtype=torch.bool)
    col_sq, max_cos, step = [], np.zeros(s_count), 0

    def record():
        with torch.no_grad():
            col_sq.append(
                torch.stack([(params[k] ** 2).sum(1).mean(1) for k in hidden], 1).numpy().copy()
            )

    def shaped(v, p):
        return v.view(-1, *([1] * (p.ndim - 1)))

    record()
    with torch_threads(1):
        for order in minibatch_orders(seeds, n, epochs):
            for start in range(0, n, batch_size):
                index = order[:, start : start + batch_size]
                if batchnorm and index.shape[1] == 1:
                    continue
                step += 1
                scores, _ = _forward(params, x_train[index], depth, batchnorm)
                losses = (
                    F.cross_entropy(
                        scores.reshape(-1, 10), y_train[index].reshape(-1), reduction="none"
                    )
                    .view(s_count, -1)
                    .mean(1)
                )
                bad = alive & ~torch.isfinite(losses.detach())
                if bad.any():
                    diverged_at[bad.numpy()] = step
                    alive &= ~bad
                for p in params:
                    p.grad = None
                torch.where(alive, losses, torch.zeros_like(losses)).sum().backward()
                with torch.no_grad():
                    if batchnorm and (step == 1 or step % 8 == 0):
                        # the gradient is orthogonal to every unit's column (float64: tiny
                        # gradients of dead units would underflow in float32 norms)
                        for k in hidden:
                            w, g = params[k].double(), params[k].grad.double()
                            norms = w.norm(dim=1) * g.norm(dim=1)
                            live = alive[:, None] & (norms > 0)
                            cos = (w * g).sum(1).abs() / torch.where(live, norms, 1.0)
                            cos = torch.where(live, cos, 0.0).amax(1).numpy()
                            max_cos = np.maximum(max_cos, cos)
                    step_lr = torch.where(alive, lr, torch.zeros_like(lr))
                    for p in params:
                        g = torch.nan_to_num(p.grad) + shaped(wd, p) * p
                        p -= shaped(step_lr, p) * g
                        p[~alive] = 0.0
                record()
        with torch.no_grad():
            stats = None
            if batchnorm:
                full = x_train.expand(s_count, -1, -1)
                _, stats = _forward(params, full, depth, True)
            scores, _ = _forward(params, x_val.expand(s_count, -1, -1), depth, batchnorm, stats)
            acc = (scores.argmax(2) == y_val).double().mean(1).numpy()
    acc = np.where(diverged_at > 0, np.nan, acc)
    return StackRuns(
        batchnorm,
        np.array(lrs, dtype=float),
        np.array(weight_decays, dtype=float),
        seeds,
        step,
        diverged_at,
        acc,
        np.array(col_sq),
        max_cos,
        initial,
    )


def stack_to_torch(runs: StackRuns, s: int):
    """Network ``s`` of a :class:`StackRuns` *at its initialisation*, as an ``nn.Sequential``
    (``Linear`` [+ ``BatchNorm1d``] + ``ReLU`` blocks, then ``Linear``): for checking
    :func:`train_stack` against ``torch.optim.SGD``."""
    import torch
    from torch import nn

    if not isinstance(runs, StackRuns):
        raise ValueError(f"runs must be a StackRuns from train_stack; got {type(runs).__name__}")
    s = check_int("s", s, 0, len(runs.lrs) - 1)
    p = [t[s] for t in runs.initial]
    layers, k = [], 0
    while k < len(p) - 2:
        w = p[k]
        linear = nn.Linear(w.shape[0], w.shape[1], bias=not runs.batchnorm)
        with torch.no_grad():
            linear.weight.copy_(w.T)
            if runs.batchnorm:
                norm = nn.BatchNorm1d(w.shape[1])
                norm.weight.copy_(p[k + 1])
                norm.bias.copy_(p[k + 2])
                layers += [linear, norm, nn.ReLU()]
                k += 3
            else:
                linear.bias.copy_(p[k + 1])
                layers += [linear, nn.ReLU()]
                k += 2
    out = nn.Linear(p[k].shape[0], p[k].shape[1])
    with torch.no_grad():
        out.weight.copy_(p[k].T)
        out.bias.copy_(p[k + 1])
    return nn.Sequential(*layers, out)


#: A run "trains" when it ends at this validation accuracy or above, and "fails" when it
#: diverges or ends below FAIL_ACC (chance is 0.1). Counts against these wide bands hold on
#: any CPU; the decimals of a run at a high learning rate do not (it is chaotic).
TRAIN_ACC = 0.9
FAIL_ACC = 0.3


def _count(acc, diverged, trained: bool) -> str:
    hit = (acc >= TRAIN_ACC) if trained else (diverged | (acc < FAIL_ACC))
    return f"{int(np.sum(hit & ~diverged if trained else hit))} of {len(acc)}"


@dataclass(frozen=True)
class LrComparison:
    """:func:`lr_comparison`'s runs: every lr x seed without and with BN (no weight decay),
    and with BN at ``decay_lr`` for every weight decay."""

    lrs: tuple
    seeds: tuple
    decays: tuple
    decay_lr: float
    plain: StackRuns  #: len(lrs) * len(seeds) networks, lr-major
    bn: StackRuns  #: the same, then len(decays) * len(seeds) with weight decay

    def _grid(self, values, runs: int) -> np.ndarray:
        return np.asarray(values)[: runs * len(self.seeds)].reshape(runs, len(self.seeds))

    def accuracies(self, batchnorm: bool) -> np.ndarray:
        """(lrs, seeds) final validation accuracy (NaN: diverged), no weight decay."""
        runs = self.bn if batchnorm else self.plain
        return self._grid(runs.val_acc, len(self.lrs))

    def weight_growth(self, step: int = 3) -> np.ndarray:
        """(lrs, seeds) with BN: mean over layers of RMS |w_j| after ``step`` steps / at the
        start (a few steps: before a high learning rate's chaos sets in)."""
        ratio = np.sqrt(self.bn.col_sq[step] / self.bn.col_sq[0]).mean(axis=1)
        return self._grid(ratio, len(self.lrs))

    def median_accuracy(self, lr: float, batchnorm: bool) -> float:
        """Median final validation accuracy over the seeds at ``lr`` (NaN if one diverged)."""
        return float(np.median(self.accuracies(batchnorm)[self.lrs.index(lr)]))

    def table(self) -> str:
        """Per lr, without and with BN: how many seeds train (final accuracy >= 0.9) and how
        many fail (diverge or end below 0.3); and with BN, the median growth of the hidden
        weights' norm in the first 3 steps."""
        cols = {}
        for bn, name in ((False, "no BN"), (True, "with BN")):
            runs = self.bn if bn else self.plain
            div = self._grid(runs.diverged, len(self.lrs))
            acc = np.nan_to_num(self.accuracies(bn), nan=0.0)
            cols[f"{name}: train"] = [_count(a, d, True) for a, d in zip(acc, div)]
            cols[f"{name}: fail"] = [_count(a, d, False) for a, d in zip(acc, div)]
        cols["with BN: |w| growth, 3 steps"] = [f"{np.median(g):.1f}" for g in self.weight_growth()]
        return format_table(cols, index=[f"{lr:g}" for lr in self.lrs], index_name="lr")

    def decay_settings(self) -> list:
        """[(lr, weight decay, network indices of the seeds)] of the curves: the largest lr
        without decay, then ``decay_lr`` without and with each decay."""
        n = len(self.seeds)
        block = {lr: list(range(i * n, (i + 1) * n)) for i, lr in enumerate(self.lrs)}
        base = len(self.lrs) * n
        out = [
            (max(self.lrs), 0.0, block[max(self.lrs)]),
            (self.decay_lr, 0.0, block[self.decay_lr]),
        ]
        for k, wd in enumerate(self.decays):
            out.append((self.decay_lr, wd, list(range(base + k * n, base + (k + 1) * n))))
        return out

    def effective_lr_curves(self) -> list:
        """[(lr, weight decay, (T + 1,) median over seeds of eta / mean_j |w_j|^2, mean over
        layers)] for :meth:`decay_settings`."""
        eff = self.bn.effective_lr.mean(axis=2)  # (T + 1, S)
        return [(lr, wd, np.median(eff[:, idx], axis=1)) for lr, wd, idx in self.decay_settings()]

    def decay_table(self) -> str:
        """The runs of :meth:`decay_settings` at ``decay_lr``: effective lr at the start and
        the end (median over seeds) and the median final accuracy."""
        rows = {"effective lr, start": [], "effective lr, end": [], "val acc": []}
        index = []
        for (lr, wd, idx), (_, _, curve) in zip(self.decay_settings(), self.effective_lr_curves()):
            if lr != self.decay_lr:
                continue  # the largest lr without decay: a chaotic run, in the figure only
            index.append(f"lr {lr:g}, wd {wd:g}")
            rows["effective lr, start"].append(f"{curve[0]:.2f}")
            rows["effective lr, end"].append(f"{curve[-1]:.2f}")
            rows["val acc"].append(f"{np.median(self.bn.val_acc[idx]):.2f}")
        return format_table(rows, index=index, index_name="with BN")


def lr_comparison(
    lrs: Sequence[float] = (0.1, 0.3, 1.0, 3.0, 10.0),
    seeds: Sequence[int] = (0, 1, 2, 3),
    decays: Sequence[float] = (0.01, 0.03),
    decay_lr: float = 1.0,
    epochs: int = 3,
    batch_size: int = 128,
    data=None,
) -> LrComparison:
    """The chapter's MLP from Kaiming's init, trained by plain SGD at every lr of ``lrs``
    for every seed, without and with Batch Norm (two :func:`train_stack` calls); the BN stack
    also trains at ``decay_lr`` with every weight decay of ``decays``. 3 epochs of batches of
    128 (33 steps) by default."""
    lrs = tuple(
        check_sequence(
            "lrs", lrs, lambda n, v: check_real(n, v, 0.0, 1e3, low_open=True), max_len=8
        )
    )
    seeds = tuple(
        check_sequence("seeds", seeds, lambda n, v: check_int(n, v, 0, MAX_SEED), max_len=8)
    )
    decays = tuple(
        check_sequence(
            "decays",
            decays,
            lambda n, v: check_real(n, v, 0.0, 10.0, low_open=True),
            min_len=0,
            max_len=4,
        )
    )
    decay_lr = check_real("decay_lr", decay_lr, 0.0, 1e3, low_open=True)
    if decay_lr not in lrs:
        raise ValueError(f"decay_lr must be one of lrs {lrs}; got {decay_lr:g}")
    grid_lrs = [lr for lr in lrs for _ in seeds]
    grid_seeds = [s for _ in lrs for s in seeds]
    plain = train_stack(
        grid_lrs,
        [0.0] * len(grid_lrs),
        grid_seeds,
        False,
        epochs=epochs,
        batch_size=batch_size,
        data=data,
    )
    bn = train_stack(
        grid_lrs + [decay_lr] * len(decays) * len(seeds),
        [0.0] * len(grid_lrs) + [wd for wd in decays for _ in seeds],
        grid_seeds + [s for _ in decays for s in seeds],
        True,
        epochs=epochs,
        batch_size=batch_size,
        data=data,
    )
    return LrComparison(lrs, seeds, decays, decay_lr, plain, bn)
