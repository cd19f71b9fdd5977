r"""Chapter 04's training runs: the chapter's MLP on the digits, with and without Batch Norm.

:func:`bad_init_mlp` builds it from a chosen init std, :func:`recalibrated` recomputes its
Batch Norm running statistics, :func:`init_comparison` trains it from several stds without
and with BN, and :func:`running_stats_lag` measures how far eval mode's running statistics
lag behind the network they describe.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from course_utils.data import N_DIGITS_TRAIN
from course_utils.lean_sgd import lean_optimizer
from course_utils.tables import format_table
from course_utils.torch_state import seed_cpu
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
            seed_cpu(seed + 1)
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
    from course_utils.threads import one_thread

    return one_thread()


def _total_steps(n: int, batch_size: int, epochs: int, batchnorm: bool) -> int:
    """The steps :func:`course_utils.training.train` takes: one per batch, but it skips a
    last batch of one example when the model has Batch Norm."""
    per_epoch = math.ceil(n / batch_size) - (1 if batchnorm and n % batch_size == 1 else 0)
    return max(1, epochs * per_epoch)


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
    running statistics), as a practitioner would. SGD and momentum run on
    :class:`course_utils.lean_sgd.LeanSGD`, ``torch.optim.SGD``'s steps bit for bit without
    the ~2 s of importing ``torch._dynamo`` that the first ``torch.optim`` optimiser costs.
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
                    lean_optimizer(optimizer, lr),
                    lr=lr,
                    epochs=epochs,
                    batch_size=batch_size,
                    seed=seed,
                    # evaluated at the start and after the last step only: the same final
                    # accuracy as evaluating after every epoch, without the epochs between
                    eval_every=_total_steps(len(data.x_train), batch_size, epochs, bn),
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
    from course_utils.chapters.ch04_batchnorm.runs_lag import _train_bn_stack
    from course_utils.data import load_digits

    stds = _check_stds(stds)
    seeds = tuple(check_sequence("seeds", seeds, _check_seed, max_len=32))
    lr = check_real("lr", lr, 0.0, 10.0, low_open=True)
    epochs = check_int("epochs", epochs, 1, MAX_TRAIN_EPOCHS)
    batch_size = check_int("batch_size", batch_size, 2, N_DIGITS_TRAIN)
    data = load_digits(seed=0) if data is None else data
    runs = [(std, seed) for std in stds for seed in seeds]
    with _one_thread():  # torch's own threads: _train_bn_stack runs on one
        result = _train_bn_stack(
            [bad_init_mlp(std, True, seed=seed) for std, seed in runs],
            [seed for _, seed in runs],
            data,
            lr,
            epochs,
            batch_size,
        )
    for (std, seed), bad in zip(runs, result.diverged):
        if bad:
            raise ValueError(f"the run std={std:g}, seed={seed} diverged; choose a smaller lr")
    shape = (len(stds), len(seeds))
    ratio = np.concatenate(
        [r / t for r, t in zip(result.running_var, result.true_var)], axis=1
    )  # (runs, BN units)
    settings = dict(optimizer="sgd", lr=lr, epochs=epochs, batch_size=batch_size)
    return RunningStatsLag(
        stds,
        seeds,
        result.steps,
        result.val_acc.reshape(shape),
        result.recalibrated_acc.reshape(shape),
        np.median(ratio, axis=1).reshape(shape),
        settings,
    )


def _bn_layers(model) -> list:
    import torch

    return [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
