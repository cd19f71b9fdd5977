"""Chapter 06's warm-up (the notebook's section 4): why Adam needs it and what it does.

:func:`first_adam_step` measures how far Adam's first step moves each weight of a fresh MLP
(``lr`` in size for every weight with a non-zero gradient) and :func:`step_over_rms` puts that
step against each layer's RMS weight; :func:`warmup_runs` trains Adam at a high rate from
several seeds with and without linear warm-up (both then annealed by a cosine) and
:func:`warmup_table` prints their summary. The other runs (the noise floor, step decay) are in
:mod:`course_utils.chapters.ch06_schedules.runs`.
"""

from __future__ import annotations

import math

import numpy as np

from course_utils.chapters.ch06_schedules.lean_optim import SeedOptimizer
from course_utils.chapters.ch06_schedules.runs import check_runs, median_range, seed_span
from course_utils.chapters.ch06_schedules.seed_runs import (
    check_seeds,
    kaiming_weights,
    train_seeds,
)
from course_utils.data import check_digits
from course_utils.schedules import MAX_SCHEDULE_STEPS, cosine, warmup_cosine
from course_utils.training import MAX_LR
from course_utils.training import single_torch_thread as _one_thread
from course_utils.validation import check_array, check_int, check_real

__all__ = [
    "first_adam_step",
    "step_over_rms",
    "warmup_runs",
    "warmup_table",
]


def first_adam_step(
    lr: float = 0.2, depth: int = 2, width: int = 32, batch_size: int = 64, seed: int = 0, data=None
) -> list:
    """How far Adam's first step moves each weight of a fresh MLP, per layer.

    The MLP is :func:`train_seeds`'s network for ``seed`` (``training.build_mlp`` holding the
    weights of :func:`kaiming_weights`), the batch the first ``batch_size`` training examples.

    At step 1 Adam's bias-corrected moments are ``m = g`` and ``v = g^2``, so the update
    ``lr * m / (sqrt(v) + eps) = lr * g / (|g| + eps)`` is ``lr`` in size for every weight
    whose gradient is not (near) zero, however small that gradient is (Kingma & Ba, ICLR 2015).

    Returns
    -------
    list of dict, one per ``Linear`` layer
        ``"layer"``, ``"weights"`` (count), ``"rms"`` (the weights' root mean square before the
        step), ``"moved_by_lr"`` (share of weights whose change is within 1% of ``lr``),
        ``"max_change"``.
    """
    import torch
    import torch.nn.functional as F

    from course_utils import training

    data = check_digits(data)
    lr = check_real("lr", lr, 0.0, MAX_LR, low_open=True)
    batch_size = check_int("batch_size", batch_size, 1, len(data.x_train))
    model = training.build_mlp(data.x_train.shape[1], 10, depth=depth, width=width, seed=seed)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    sizes = [data.x_train.shape[1]] + [width] * depth + [10]
    with torch.no_grad():
        for m, (w, b) in zip(linears, kaiming_weights([seed], sizes)):
            m.weight.copy_(torch.as_tensor(w[0].T))
            m.bias.copy_(torch.as_tensor(b[0]))
    before = [m.weight.detach().clone() for m in linears]
    opt = SeedOptimizer(model.parameters(), "adam", lr)  # torch.optim.Adam's step, bit for bit
    x = torch.as_tensor(data.x_train[:batch_size], dtype=torch.float32)
    y = torch.as_tensor(data.y_train[:batch_size], dtype=torch.int64)
    with _one_thread():
        F.cross_entropy(model(x), y).backward()
        opt.step()
    rows = []
    for i, (m, w0) in enumerate(zip(linears, before), start=1):
        change = (m.weight.detach() - w0).abs()
        rows.append(
            {
                "layer": i,
                "weights": int(w0.numel()),
                "rms": float(w0.pow(2).mean().sqrt()),
                "moved_by_lr": float((change - lr).abs().le(0.01 * lr).double().mean()),
                "unchanged": float(change.eq(0).double().mean()),
                "max_change": float(change.max()),
            }
        )
    return rows


def step_over_rms(rows, lr: float) -> np.ndarray:
    """Adam's first step (``lr`` in size) as a share of each layer's RMS weight.

    Parameters
    ----------
    rows : list of dict
        :func:`first_adam_step`'s rows (their ``"rms"``, the layer's root-mean-square weight
        before the step; it does not depend on the rate).
    lr : float
        The rate, > 0: Adam's first step moves each weight with a non-zero gradient by ``lr``.

    Returns
    -------
    ndarray, shape (layers,)
        ``lr / rms`` per layer, e.g. 0.0056 for ``lr = 0.001`` and an RMS weight of 0.177.
    """
    lr = check_real("lr", lr, 0.0, MAX_LR, low_open=True)
    if (
        not isinstance(rows, list)
        or not rows
        or not all(isinstance(r, dict) and "rms" in r for r in rows)
    ):
        raise ValueError("rows must be the list of dicts first_adam_step returns")
    return lr / check_array("rms", [r["rms"] for r in rows], ndim=1)


def warmup_runs(
    lr: float = 0.2,
    epochs: int = 5,
    warmup_epochs: int = 2,
    start_factor: float = 0.01,
    batch_size: int = 64,
    depth: int = 2,
    width: int = 32,
    seeds=range(10),
    data=None,
) -> dict:
    """Adam at a high lr from several seeds, with and without linear warm-up, both then annealed by a cosine.

    ``"no warm-up"``: :func:`cosine` over all steps; ``"warm-up"``: :func:`warmup_cosine`
    with ``warmup_epochs`` of warm-up from ``start_factor * lr``, then a cosine over the rest.
    Per seed the same MLP (``depth`` ReLU layers of ``width``), init and minibatch order; see
    :func:`train_seeds`.

    Returns
    -------
    dict
        ``"no warm-up"``, ``"warm-up"``: :class:`SeedRuns`; ``"steps_per_epoch"``,
        ``"warmup_steps"``; ``"summary"``: per run name a dict of arrays over the seeds,
        ``"largest"`` (largest minibatch loss), ``"at_step"`` (its step, from 1),
        ``"initial"`` (the loss of step 1), ``"after_warmup"`` (largest loss from the step
        after the warm-up on), ``"back_above_at"`` (the first step after the warm-up whose loss
        is above the step-1 loss, -1 if none) and ``"final_val_acc"``.
    """
    check_seeds(seeds)  # checked before the data is loaded
    data = check_digits(data)
    epochs = check_int("epochs", epochs, 2, 200)
    warmup_epochs = check_int("warmup_epochs", warmup_epochs, 1, epochs - 1)
    steps_per_epoch = math.ceil(
        len(data.x_train) / check_int("batch_size", batch_size, 1, MAX_SCHEDULE_STEPS)
    )
    steps, warm = epochs * steps_per_epoch, warmup_epochs * steps_per_epoch
    schedules = {
        "no warm-up": cosine(lr, steps, steps),
        "warm-up": warmup_cosine(lr, steps, warm, steps - warm, start_factor),
    }
    runs = train_seeds(
        data,
        schedules,
        "adam",
        seeds=seeds,
        depth=depth,
        width=width,
        batch_size=batch_size,
        epochs=epochs,
        every_epoch=False,
    )
    runs["summary"] = {
        name: {
            "largest": r.step_loss.max(axis=1),
            "at_step": r.step_loss.argmax(axis=1) + 1,
            "initial": r.step_loss[:, 0],
            "after_warmup": r.step_loss[:, warm:].max(axis=1),
            "back_above_at": np.array(
                [
                    warm + 1 + int(np.argmax(row[warm:] > row[0]))
                    if np.any(row[warm:] > row[0])
                    else -1
                    for row in r.step_loss
                ]
            ),
            "final_val_acc": r.val_acc[:, -1],
        }
        for name, r in runs.items()
    }
    runs["steps_per_epoch"] = steps_per_epoch
    runs["warmup_steps"] = warm
    return runs


def warmup_table(runs: dict) -> str:
    """The printed summary of :func:`warmup_runs`, median [min, max] over the seeds.

    Per run: the largest minibatch loss and the steps where it happened (min-max), the final
    validation accuracy; then the loss of step 1, how many seeds climb back above it after the
    warm-up ends, and in how many the warm-up ends with the higher accuracy.
    """
    from course_utils.tables import format_table

    check_runs(runs, ("no warm-up", "warm-up", "summary", "warmup_steps"), "warmup_runs")
    summary, names = runs["summary"], ["no warm-up", "warm-up"]
    n = len(runs["warm-up"].seeds)
    table = format_table(
        {
            "largest minibatch loss": [median_range(summary[k]["largest"], 1) for k in names],
            "at steps": [
                f"{summary[k]['at_step'].min()}-{summary[k]['at_step'].max()}" for k in names
            ],
            "final val accuracy": [
                median_range(summary[k]["final_val_acc"], 2, True) for k in names
            ],
        },
        index=names,
        index_name="Adam",
    )
    warm = summary["warm-up"]
    back = warm["back_above_at"][warm["back_above_at"] > 0]
    better = summary["warm-up"]["final_val_acc"] > summary["no warm-up"]["final_val_acc"]
    return (
        f"{seed_span(runs['warm-up'].seeds)}, median [min, max] over the seeds\n{table}\n"
        f"loss of step 1 (both runs): {median_range(warm['initial'], 2)}\n"
        f"with warm-up (steps 1-{runs['warmup_steps']}), the loss climbs back above its step-1 "
        f"value after the warm-up in {len(back)} of {n} seeds"
        + (
            f" (at step{'s' if len(back) > 1 else ''} {', '.join(map(str, sorted(back)))})"
            if len(back)
            else ""
        )
        + "\n"
        f"warm-up ends with the higher validation accuracy in {int(better.sum())} of {n} seeds"
    )
