"""Chapter 06's experiments on choosing and scaling the rate: the Robbins-Monro conditions on
the noisy quadratic, the LR range test and the linear scaling rule on the digits."""

from __future__ import annotations

import math

import numpy as np

from course_utils.chapters.ch06_schedules.runs import (
    MAX_EXACT_STEPS,
    expected_loss,
    inverse_time_limit,
    median_range,
)
from course_utils.chapters.ch06_schedules.seed_runs import check_seeds, train_seeds
from course_utils.data import check_digits
from course_utils.schedules import MAX_SCHEDULE_STEPS, constant, exponential, linear_warmup
from course_utils.schedules_beyond import inverse_time, lr_range
from course_utils.training import MAX_LR
from course_utils.validation import check_int, check_real

__all__ = [
    "robbins_monro",
    "robbins_monro_table",
    "range_test",
    "range_table",
    "scaling_runs",
    "scaling_table",
]


def robbins_monro(
    lr: float = 0.1, steps: int = 10_000, gamma: float = 0.95, decay_steps: int = 100
) -> dict:
    """Three schedules on the noisy quadratic (``h = s = 1``, ``w0 = 3``), exact expectations.

    Robbins & Monro (Annals of Mathematical Statistics, 1951): SGD's iterate converges to the
    minimum when ``sum_t lr_t = inf`` (it can travel any distance) and ``sum_t lr_t^2 < inf``
    (the noise it injects, ``lr_t^2 s^2`` per step, adds up to a finite amount). The three:

    - ``"constant"`` ``lr``: the first holds, the second fails: the loss stops at the noise
      floor ``lr s^2 / (2 (2 - lr h))``;
    - ``"exponential"`` ``lr gamma^t``: the second holds, the first fails
      (``sum = lr / (1 - gamma)``): the mean stops short, at ``w0 prod (1 - lr_t h)``;
    - ``"1/t"`` ``lr / (1 + t / decay_steps)``: both hold; the loss goes to 0 like
      :func:`~course_utils.chapters.ch06_schedules.runs.inverse_time_limit` (``a = lr *
      decay_steps``).

    Parameters
    ----------
    lr : float
        The rate at step 0 of all three, in (0, 1].
    steps : int
        10 to ``MAX_EXACT_STEPS // 3``.
    gamma : float
        The exponential decay's factor per step, in (0, 1].
    decay_steps : int
        1/t's ``tau`` (the rate halves at step ``tau``), >= 1.

    Returns
    -------
    dict
        ``"lr"`` (name -> rates, shape ``(steps,)``), ``"loss"`` (name -> expected loss after
        each step, :func:`expected_loss`), ``"sum"`` and ``"sum_sq"`` (name -> the sums of
        ``lr_t`` and ``lr_t^2`` over the steps), ``"bias"`` (name -> the bias part
        ``h m_T^2 / 2`` at the end), ``"limit"`` (the 1/t asymptote at every step),
        ``"floor"`` (the constant rate's noise floor).
    """
    lr = check_real("lr", lr, 0.0, 1.0, low_open=True)
    steps = check_int("steps", steps, 10, MAX_EXACT_STEPS // 3)
    rates = {
        "constant": constant(lr, steps),
        "exponential": exponential(lr, steps, gamma),
        "1/t": inverse_time(lr, steps, decay_steps),
    }
    loss = dict(zip(rates, expected_loss(np.stack(list(rates.values())))))
    a = lr * decay_steps
    return {
        "lr": rates,
        "loss": loss,
        "sum": {k: float(v.sum()) for k, v in rates.items()},
        "sum_sq": {k: float((v * v).sum()) for k, v in rates.items()},
        "bias": {k: 0.5 * (3.0 * float(np.prod(1.0 - v))) ** 2 for k, v in rates.items()},
        "limit": inverse_time_limit(a, np.arange(1, steps + 1)) if a > 0.5 else None,
        "floor": lr / (2.0 * (2.0 - lr)),
    }


def robbins_monro_table(result: dict, at=(100, 1000, 10_000)) -> str:
    """The printed summary of :func:`robbins_monro`: the sums and the loss at a few steps."""
    from course_utils.tables import format_table

    if not isinstance(result, dict) or not all(k in result for k in ("loss", "sum", "sum_sq")):
        raise ValueError("result must be the dict robbins_monro returns")
    names = list(result["loss"])
    steps = len(result["loss"][names[0]])
    at = [check_int("each step of at", t, 1, steps) for t in at]
    columns = {
        "Σ lr_t": [f"{result['sum'][k]:.3g}" for k in names],
        "Σ lr_t²": [f"{result['sum_sq'][k]:.3g}" for k in names],
    }
    for t in at:
        columns[f"E f at step {t:,}"] = [f"{result['loss'][k][t - 1]:.2e}" for k in names]
    rows = names[:]
    if result.get("limit") is not None:
        rows.append("1/t theory")
        columns["Σ lr_t"].append("")
        columns["Σ lr_t²"].append("")
        for t in at:
            columns[f"E f at step {t:,}"].append(f"{result['limit'][t - 1]:.2e}")
    return format_table(columns, index=rows, index_name="schedule")


def range_test(
    start_lr: float = 1e-4,
    end_lr: float = 10.0,
    epochs: int = 2,
    batch_size: int = 32,
    smooth: int = 5,
    seeds=range(10),
    data=None,
) -> dict:
    """The LR range test (Smith, WACV 2017) on the digits: one short run, the rate growing geometrically.

    Per seed, section 3's MLP (2 ReLU layers of 32, momentum 0.9, batch ``batch_size``) trains
    for ``epochs`` with ``lr = lr_range(start_lr, end_lr, steps)``; the minibatch losses are
    smoothed by a moving average of ``smooth`` steps. Read off per seed: the rate where the
    smoothed loss first falls below 90% of its start (``"starts"``: training begins to learn),
    the rate of its minimum (``"lowest"``) and the first rate after the minimum where it is
    above 4 times the minimum or not finite (``"diverges"``; ``end_lr`` if never).

    Parameters
    ----------
    start_lr, end_lr : float
        ``0 < start_lr < end_lr``: the rates of the first and the last step.
    epochs : int
        1 to 20; ``steps = epochs * ceil(N / batch_size)``.
    batch_size : int
    smooth : int
        Steps of the moving average, 1 to ``steps // 4``.
    seeds : sequence of int
        Distinct seeds >= 0, one network each.
    data : optional
        The digits (``course_utils.data.load_digits()`` by default).

    Returns
    -------
    dict
        ``"lr"`` (shape ``(steps,)``), ``"smoothed_lr"`` (the rate at the end of each smoothing
        window, shape ``(steps - smooth + 1,)``), ``"smoothed"`` (shape ``(n, steps - smooth +
        1)``, NaN where the loss overflowed), ``"starts"``, ``"lowest"``, ``"diverges"``
        (shape ``(n,)``), ``"seeds"``.
    """
    seeds = check_seeds(seeds)
    data = check_digits(data)
    epochs = check_int("epochs", epochs, 1, 20)
    batch_size = check_int("batch_size", batch_size, 1, MAX_SCHEDULE_STEPS)
    steps = epochs * math.ceil(len(data.x_train) / batch_size)
    smooth = check_int("smooth", smooth, 1, max(steps // 4, 1))
    lr = lr_range(start_lr, end_lr, steps)
    with np.errstate(all="ignore"):  # the end of the test overflows on purpose
        run = train_seeds(
            data,
            {"range": lr},
            "momentum",
            seeds=seeds,
            depth=2,
            width=32,
            batch_size=batch_size,
            epochs=epochs,
            every_epoch=False,
        )["range"]
        kernel = np.ones(smooth) / smooth
        smoothed = np.array([np.convolve(row, kernel, mode="valid") for row in run.step_loss])
    smoothed[~np.isfinite(smoothed)] = np.nan
    at = lr[smooth - 1 :]
    finite = np.where(np.isfinite(smoothed), smoothed, np.inf)
    best = finite.argmin(axis=1)
    starts, diverges = [], []
    for row, b in zip(finite, best):
        starts.append(
            at[int(np.argmax(row < 0.9 * row[0]))] if np.any(row < 0.9 * row[0]) else at[-1]
        )
        above = np.flatnonzero(row[b:] > 4 * row[b])
        diverges.append(at[b + above[0]] if above.size else at[-1])
    return {
        "lr": lr,
        "smoothed_lr": at,
        "smoothed": smoothed,
        "starts": np.array(starts),
        "lowest": at[best],
        "diverges": np.array(diverges),
        "seeds": seeds,
    }


def range_table(result: dict) -> str:
    """The printed summary of :func:`range_test`: the three rates, median [min, max] over seeds."""
    if not isinstance(result, dict) or not all(
        k in result for k in ("starts", "lowest", "diverges", "seeds")
    ):
        raise ValueError("result must be the dict range_test returns")

    def span(values):
        return f"{np.median(values):.2g} [{values.min():.2g}, {values.max():.2g}]"

    n = len(result["seeds"])
    return (
        f"LR range test, {n} seeds, lr from {result['lr'][0]:g} to {result['lr'][-1]:g} over "
        f"{len(result['lr'])} steps; median [min, max] over the seeds:\n"
        f"  starts to learn (smoothed loss < 90% of its start) at lr {span(result['starts'])}\n"
        f"  lowest smoothed loss at lr                          {span(result['lowest'])}\n"
        f"  diverges (4x its lowest) at lr                      {span(result['diverges'])}"
    )


def scaling_runs(
    lr: float = 0.1,
    high_lr: float = 0.5,
    k: int = 8,
    batch_size: int = 32,
    epochs: int = 4,
    warmup_epochs: int = 2,
    seeds=range(10),
    data=None,
) -> dict:
    """The linear scaling rule (Goyal et al., 2017) on the digits, with and without warm-up.

    Softmax regression on the digits (``train_seeds`` with ``depth=0``), SGD with momentum 0.9,
    ``epochs`` epochs, the same seeds. Small batch ``batch_size`` at ``lr`` and at ``high_lr``
    (the baselines); batch ``k * batch_size`` at ``lr`` (``"unscaled"``), at ``k * lr``
    (``"scaled"``), at ``k * high_lr`` (``"scaled, high"``) and at ``k * high_lr`` after a
    linear warm-up from ``high_lr`` over ``warmup_epochs`` (``"scaled, high, warm-up"``).
    Each large-batch run is compared with its small-batch baseline at the same epoch: the rule
    says ``k`` small steps of ``lr`` ~ one large step of ``k lr``.

    Parameters
    ----------
    lr, high_lr : float
        The small batch's moderate and high rates, > 0 (``k`` times either at most ``MAX_LR``).
    k : int
        The batch multiplier, 2 to 64.
    batch_size : int
        The small batch, 1 to 1024.
    epochs : int
        2 to 50.
    warmup_epochs : int
        1 to ``epochs - 1``.
    seeds : sequence of int
    data : optional
        The digits (default ``load_digits()``).

    Returns
    -------
    dict
        ``"small"`` (the baselines, ``{"low": SeedRuns, "high": SeedRuns}``), ``"large"``
        (name -> SeedRuns), ``"baseline"`` (large-batch name -> "low" or "high"),
        ``"ratio"`` (name -> training loss / its baseline's at every epoch, shape
        ``(n, epochs + 1)``), ``"jump"`` (for the two warm-up runs: the largest minibatch loss
        of the 3 steps after the warm-up divided by the loss of its last step, shape ``(n,)``), ``"steps_per_epoch"`` (small, large), ``"k"``, ``"lr"``,
        ``"high_lr"``.
    """
    check_seeds(seeds)
    data = check_digits(data)
    lr = check_real("lr", lr, 0.0, MAX_LR, low_open=True)
    high_lr = check_real("high_lr", high_lr, 0.0, MAX_LR, low_open=True)
    k = check_int("k", k, 2, 64)
    if k * max(lr, high_lr) > MAX_LR:
        raise ValueError(f"k * lr and k * high_lr must be at most {MAX_LR:g}")
    batch_size = check_int("batch_size", batch_size, 1, 1024)
    epochs = check_int("epochs", epochs, 2, 50)
    warmup_epochs = check_int("warmup_epochs", warmup_epochs, 1, epochs - 1)
    n = len(data.x_train)
    small_steps, large_steps = math.ceil(n / batch_size), math.ceil(n / (k * batch_size))
    common = dict(seeds=seeds, depth=0, epochs=epochs)
    small = train_seeds(
        data,
        {
            "low": constant(lr, epochs * small_steps),
            "high": constant(high_lr, epochs * small_steps),
        },
        "momentum",
        batch_size=batch_size,
        **common,
    )
    total = epochs * large_steps
    large = train_seeds(
        data,
        {
            "unscaled": constant(lr, total),
            "scaled": constant(k * lr, total),
            "scaled, high": constant(k * high_lr, total),
            "scaled, high, warm-up": linear_warmup(
                k * high_lr, total, warmup_epochs * large_steps, start_factor=1 / k
            ),
            # ResNet-110's kind (He et al., 2016): a low constant rate, then the jump to the peak
            "scaled, high, constant warm-up": np.where(
                np.arange(total) < warmup_epochs * large_steps, high_lr, k * high_lr
            ),
        },
        "momentum",
        batch_size=k * batch_size,
        **common,
    )
    baseline = {"unscaled": "low", "scaled": "low", "scaled, high": "high"}
    baseline["scaled, high, warm-up"] = baseline["scaled, high, constant warm-up"] = "high"
    ratio = {name: run.train_loss / small[baseline[name]].train_loss for name, run in large.items()}
    warm = warmup_epochs * large_steps
    jump = {  # the loss of the 3 steps after the warm-up against that of its last step
        name: large[name].step_loss[:, warm : warm + 3].max(axis=1)
        / large[name].step_loss[:, warm - 1]
        for name in ("scaled, high, warm-up", "scaled, high, constant warm-up")
    }
    return {
        "small": small,
        "large": large,
        "jump": jump,
        "baseline": baseline,
        "ratio": ratio,
        "steps_per_epoch": (small_steps, large_steps),
        "k": k,
        "lr": lr,
        "high_lr": high_lr,
        "warmup_epochs": warmup_epochs,
        "batch_size": batch_size,
    }


def scaling_table(result: dict) -> str:
    """The printed summary of :func:`scaling_runs`: loss ratios to the baseline, per epoch.

    Per large-batch run: its rate, its baseline, the median [min, max] over the seeds of its
    training loss divided by the baseline's at epochs 1, 2 and the last, and in how many seeds
    the training loss after epoch 1 is above the loss at the start.
    """
    from course_utils.tables import format_table

    if not isinstance(result, dict) or not all(
        k in result for k in ("small", "large", "ratio", "batch_size", "k")
    ):
        raise ValueError("result must be the dict scaling_runs returns")
    k, lr, high, b = result["k"], result["lr"], result["high_lr"], result["batch_size"]
    names = list(result["large"])
    rates = {
        "unscaled": f"{lr:g}",
        "scaled": f"{k * lr:g}",
        "scaled, high": f"{k * high:g}",
        "scaled, high, warm-up": f"{high:g} -> {k * high:g}",
        "scaled, high, constant warm-up": f"{high:g}, then {k * high:g}",
    }
    epochs = result["ratio"][names[0]].shape[1] - 1
    shown = sorted({1, 2, epochs} & set(range(1, epochs + 1)))
    columns = {
        "lr": [rates.get(name, "") for name in names],
        f"baseline (batch {b})": [
            f"lr {lr:g}" if result["baseline"][name] == "low" else f"lr {high:g}" for name in names
        ],
    }
    for e in shown:
        columns[f"loss ratio, epoch {e}"] = [
            median_range(result["ratio"][name][:, e], 2) for name in names
        ]
    columns["loss up in epoch 1"] = [
        f"{int((r.train_loss[:, 1] > r.train_loss[:, 0]).sum())} of {len(r.seeds)}"
        for r in result["large"].values()
    ]
    n = len(result["small"]["low"].seeds)
    small_steps, large_steps = result["steps_per_epoch"]
    jumps = "; ".join(
        f"{name.split(', ')[-1]} {int((j > 1.5).sum())} of {len(j)}"
        for name, j in result["jump"].items()
    )
    return (
        f"{n} seeds, softmax regression, momentum 0.9, batch {b} ({small_steps} steps per epoch) "
        f"vs {k * b} ({large_steps}); loss ratio: training loss / the baseline's at the same "
        f"epoch, median [min, max] over the seeds\n"
        + format_table(columns, index=names, index_name=f"batch {k * b}")
        + f"\nloss above 1.5x its last warm-up value within 3 steps of the warm-up's end: {jumps}"
    )
