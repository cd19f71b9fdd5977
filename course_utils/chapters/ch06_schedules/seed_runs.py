"""Chapter 06's training runs: several seeds side by side, in float64 (digits).

Why not :func:`course_utils.seed_runs.train_seeds` (chapters 08 and 09)? Both train one MLP
per seed as one batch of matrix products, in ``train``'s minibatch order, and share that order
(:func:`course_utils.stacked.minibatch_orders`). What differs is what each chapter measures.
This runner trains several learning-rate *schedules* from the same starts (every schedule's
networks stacked with the others', one batch of products for all), with ``torch.optim``'s
momentum SGD or Adam and weight decay, in float64 from NumPy-drawn weights, so that the schedules' small differences are not
lost to float32 rounding that differs between CPUs. The shared runner trains one constant
rate in float32 from ``build_mlp``'s torch-drawn weights, stops a seed whose loss diverges and
records every layer's update-to-weight ratio. Running chapter 06 through it would change the
numbers the notebook prints.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from course_utils.chapters.ch06_schedules.lean_optim import SeedOptimizer
from course_utils.schedules import MAX_SCHEDULE_STEPS
from course_utils.stacked import minibatch_orders
from course_utils.training import single_torch_thread as _one_thread
from course_utils.validation import (
    check_bool,
    check_int,
    check_real,
    check_seed,
    check_sequence,
)

__all__ = [
    "MAX_NETWORKS",
    "SEED_OPTIMIZERS",
    "SeedRuns",
    "check_seeds",
    "kaiming_weights",
    "train_seeds",
]


# ---------------------------------------------------------------------------------------------
# The chapter's training runs: several seeds side by side, in float64 (digits)
# ---------------------------------------------------------------------------------------------

#: At most this many networks (seeds x schedules) trained side by side by :func:`train_seeds`.
MAX_NETWORKS = 256
#: The optimisers :func:`train_seeds` offers (``torch.optim`` with ``training.make_optimizer``'s
#: defaults: SGD with momentum 0.9, Adam).
SEED_OPTIMIZERS = ("momentum", "adam")


def check_seeds(seeds) -> np.ndarray:
    """``seeds`` as an int64 array: distinct integers >= 0, one network each (``ValueError``)."""
    values = check_sequence("seeds", seeds, item=check_seed, max_len=MAX_NETWORKS)
    if any(isinstance(v, np.random.Generator) for v in values):
        raise ValueError("seeds must be integers (one network per seed), not Generators")
    if len(set(values)) != len(values):
        raise ValueError(f"seeds must be distinct integers >= 0, at least one; got {values}")
    return np.asarray(values, dtype=np.int64)


@dataclass(frozen=True)
class SeedRuns:
    """One schedule trained from several seeds: one row per seed.

    Attributes
    ----------
    seeds : ndarray, shape (n,), int64
    lr : ndarray, shape (steps,)
        The learning rate of every step.
    step_loss : ndarray, shape (n, steps)
        The minibatch loss of every step, before its update (``History.step_loss``).
    train_loss, train_acc, val_loss, val_acc : ndarray, shape (n, epochs + 1)
        Cross-entropy and accuracy on the whole training and validation sets (eval mode),
        before training and after every epoch.
    """

    seeds: np.ndarray
    lr: np.ndarray
    step_loss: np.ndarray
    train_loss: np.ndarray
    train_acc: np.ndarray
    val_loss: np.ndarray
    val_acc: np.ndarray


def kaiming_weights(seeds, sizes) -> list:
    """Kaiming-normal initial weights of one MLP per seed (He et al., ICCV 2015), from NumPy.

    Every layer's weights are drawn from ``N(0, 2 / fan_in)``, the output layer's too, and the
    biases are 0, as in ``training.build_mlp(init="kaiming")``. They are drawn by
    ``numpy.random.default_rng(seed)``, scalar code that gives the same numbers on every CPU
    (torch's ``normal_`` has a vectorised path per CPU and differs in the last bit: a start
    that a run which amplifies rounding turns into different results).

    Parameters
    ----------
    seeds : sequence of int
        ``n`` distinct seeds >= 0.
    sizes : sequence of int
        Layer widths from input to output, e.g. ``[64, 32, 32, 10]``.

    Returns
    -------
    list of (ndarray, ndarray)
        Per layer ``(weights, biases)``: shapes ``(n, fan_in, fan_out)`` and ``(n, fan_out)``,
        float64 (``x @ weights + biases``, so ``weights`` is ``nn.Linear.weight`` transposed).
    """
    seeds = check_seeds(seeds)
    sizes = check_sequence("sizes", sizes, min_len=0, max_len=100)
    sizes = [check_int("each layer size", k, 1, 8192) for k in sizes]
    if len(sizes) < 2:
        raise ValueError(f"sizes must hold at least the input and output sizes; got {sizes}")
    rngs = [np.random.default_rng(int(s)) for s in seeds]
    return [
        (
            np.stack([rng.standard_normal((a, b)) * math.sqrt(2.0 / a) for rng in rngs]),
            np.zeros((len(seeds), b)),
        )
        for a, b in zip(sizes[:-1], sizes[1:])
    ]


def train_seeds(
    data,
    lr_schedules: dict,
    optimizer: str = "momentum",
    seeds=range(10),
    depth: int = 2,
    width: int = 32,
    batch_size: int = 32,
    epochs: int = 8,
    weight_decay: float = 0.0,
    init=None,
    every_epoch: bool = True,
) -> dict:
    """Train one MLP per seed and schedule, all side by side in float64; one SeedRuns per schedule.

    Each network is ``training.build_mlp``'s (``depth`` hidden ReLU layers of ``width``, then
    the class scores) and is trained as ``training.train`` trains it: minibatch cross-entropy,
    a seed's minibatch order from ``torch.randperm`` with ``torch.Generator().manual_seed(seed)``
    (a new permutation every epoch, the last batch smaller), torch's SGD with momentum 0.9 or
    Adam (``optimizer``, with ``weight_decay``; done by :class:`SeedOptimizer`, which equals
    ``torch.optim``'s steps bit for bit without its import cost), the rate of step ``t`` set to
    ``lr_schedules[name][t]``. For one seed every schedule starts from the same weights and sees
    the same minibatches, so the runs differ by their rates alone.

    Two differences, both for the chapter's statistics over seeds: all networks are one batch
    of matrix products (``torch.baddbmm``, one thread), so ten seeds cost little more than one;
    and they compute in float64 from NumPy-drawn weights (:func:`kaiming_weights`), so the last-bit
    differences between CPUs start near 1e-16 instead of 1e-7 and stay far below the printed
    precision even in runs that amplify them (the tests measure it).

    Parameters
    ----------
    data : object with ``x_train (N, D), y_train (N,), x_val, y_val``
        E.g. :func:`course_utils.data.load_digits`.
    lr_schedules : dict of str -> array-like, shape (>= steps,)
        Name -> the learning rate of every step (``steps = epochs * ceil(N / batch_size)``).
    optimizer : str
        One of :data:`SEED_OPTIMIZERS`.
    seeds : sequence of int
        Distinct seeds >= 0; seeds x schedules at most :data:`MAX_NETWORKS`.
    depth, width, batch_size, epochs : int
    weight_decay : float
        >= 0, as torch's ``weight_decay`` (on every parameter, as ``training.train``).
    init : list of (weights, biases), optional
        Initial weights as :func:`kaiming_weights` returns them (default: that function's).
    every_epoch : bool
        Evaluate the full sets after every epoch (default); ``False``: before training and
        after the last epoch only (the :class:`SeedRuns` then have 2 evaluation columns).

    Returns
    -------
    dict of str -> SeedRuns
    """
    import torch
    import torch.nn.functional as F

    from course_utils import training

    x_train32, y_train, _, y_val = training.check_data(data)  # checks the data
    x_train = torch.as_tensor(np.asarray(data.x_train), dtype=torch.float64)
    x_val = torch.as_tensor(np.asarray(data.x_val), dtype=torch.float64)
    if optimizer not in SEED_OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {SEED_OPTIMIZERS}; got {optimizer!r}")
    seeds = check_seeds(seeds)
    depth = check_int("depth", depth, 0, 10)
    width = check_int("width", width, 1, 1024)
    batch_size = check_int("batch_size", batch_size, 1, MAX_SCHEDULE_STEPS)
    epochs = check_int("epochs", epochs, 1, 200)
    weight_decay = check_real("weight_decay", weight_decay, 0.0)
    every_epoch = check_bool("every_epoch", every_epoch)
    n_examples, n_features = x_train.shape
    classes = int(max(y_train.max(), y_val.max())) + 1
    steps = epochs * math.ceil(n_examples / batch_size)
    if not isinstance(lr_schedules, dict) or not lr_schedules:
        raise ValueError(
            f"lr_schedules must be a non-empty dict of name -> learning rates; got {lr_schedules!r}"
        )
    rates = {}
    for name, lr in lr_schedules.items():
        lr = np.asarray(lr, dtype=np.float64)
        if lr.ndim != 1 or len(lr) < steps:
            raise ValueError(
                f"lr_schedules[{name!r}] must give one rate per step, at least "
                f"{steps}; got shape {lr.shape}"
            )
        if not np.all(np.isfinite(lr[:steps])) or np.any(lr[:steps] < 0):
            raise ValueError(f"lr_schedules[{name!r}] must hold finite rates >= 0")
        rates[name] = lr[:steps]
    if len(seeds) * len(rates) > MAX_NETWORKS:
        raise ValueError(
            f"{len(seeds)} seeds x {len(rates)} schedules is more than {MAX_NETWORKS} networks"
        )
    sizes = [n_features] + [width] * depth + [classes]
    init = kaiming_weights(seeds, sizes) if init is None else init
    shapes = [((len(seeds), a, b), (len(seeds), b)) for a, b in zip(sizes[:-1], sizes[1:])]
    if len(init) != len(shapes) or any(
        np.shape(w) != ws or np.shape(b) != bs for (w, b), (ws, bs) in zip(init, shapes)
    ):
        raise ValueError(f"init must hold (weights, biases) of shapes {shapes}")

    names = list(rates)
    # All schedules x seeds are one stack of G * n networks (schedule-major), trained as one
    # batch of matrix products: each network's numbers are those of training it alone.
    g, n = len(names), len(seeds)
    params = [
        torch.tensor(np.concatenate([np.asarray(a, dtype=np.float64)] * g))
        .reshape(shape)
        .requires_grad_()
        for (w, b), (ws, bs) in zip(init, shapes)
        for a, shape in ((w, (g * n, *ws[1:])), (b, (g * n, 1, bs[1])))
    ]
    # torch.optim's SGD (momentum 0.9) or Adam, bit for bit, with one rate per network
    opt = SeedOptimizer(params, optimizer, lr=1.0, weight_decay=weight_decay)
    schedule = np.stack([rates[name] for name in names])  # (g, steps)
    record = {key: [] for key in ("step_loss", "train_loss", "train_acc", "val_loss", "val_acc")}

    def scores(ps, x):  # x (N, D) shared, or (n, B, D) per seed -> (n, N or B, classes)
        h = x
        for k in range(0, len(ps), 2):
            if h.dim() == 2:  # the shared full set: one GEMM for all seeds, (N, D) @ (D, n * b)
                n, a, b = ps[k].shape
                wide = h @ ps[k].permute(1, 0, 2).reshape(a, n * b)
                h = wide.reshape(len(h), n, b).permute(1, 0, 2) + ps[k + 1]
            else:
                h = torch.baddbmm(ps[k + 1], h, ps[k])
            if k + 2 < len(ps):
                h = torch.relu(h)
        return h

    def losses(s, y):  # s (n, B, C), y (n, B) -> per-seed mean cross-entropy (n,)
        return (
            F.cross_entropy(s.reshape(-1, classes), y.reshape(-1), reduction="none")
            .view(y.shape)
            .mean(1)
        )

    def evaluate():  # one GEMM per schedule: equal weights give bit-equal losses
        with torch.no_grad():
            for x, y, split in ((x_train, y_train, "train"), (x_val, y_val, "val")):
                labels = y.expand(n, -1)
                parts = [scores([p[i * n : (i + 1) * n] for p in params], x) for i in range(g)]
                record[f"{split}_loss"].append(np.concatenate([losses(s, labels) for s in parts]))
                record[f"{split}_acc"].append(
                    np.concatenate([(s.argmax(2) == labels).double().mean(1) for s in parts])
                )

    with _one_thread():
        evaluate()
        step = 0
        for epoch, order in enumerate(minibatch_orders(seeds.tolist(), n_examples, epochs)):
            order = order.repeat(g, 1)  # every schedule sees its seed's minibatches
            for start in range(0, n_examples, batch_size):
                index = order[:, start : start + batch_size]
                xb, yb = x_train[index], y_train[index]
                opt.param_groups[0]["lr"] = np.repeat(schedule[:, step], n)
                loss = losses(scores(params, xb), yb)
                record["step_loss"].append(loss.detach().numpy().copy())
                opt.zero_grad(set_to_none=True)
                loss.sum().backward()  # each network's gradient is its own loss's
                opt.step()
                step += 1
            if every_epoch or epoch == epochs - 1:
                evaluate()
    stacked = {key: np.stack(values, axis=1) for key, values in record.items()}  # (g * n, ...)
    return {
        name: SeedRuns(
            seeds=seeds,
            lr=rates[name],
            **{key: values[i * n : (i + 1) * n] for key, values in stacked.items()},
        )
        for i, name in enumerate(names)
    }
