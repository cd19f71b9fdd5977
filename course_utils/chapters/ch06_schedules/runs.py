"""Chapter 06's seeded experiments: SGD's noise floor on a quadratic (why decay helps), the
step-decay runs on the digits and their table, and the helpers the run tables share
(:func:`median_range`, :func:`seed_span`, :func:`check_runs`). The warm-up runs and Adam's
first step are in :mod:`course_utils.chapters.ch06_schedules.runs_warmup`."""

from __future__ import annotations

import math

import numpy as np

from course_utils.chapters.ch06_schedules.seed_runs import check_seeds, train_seeds
from course_utils.data import check_digits
from course_utils.schedules import (
    MAX_SCHEDULE_STEPS,
    check_milestones,
    constant,
    multistep,
)
from course_utils.validation import MAX_DIGITS, check_array, check_int, check_real, make_rng

__all__ = [
    "MAX_WALKER_STEPS",
    "MAX_EXACT_STEPS",
    "MAX_TOY_SCALE",
    "stationary_loss",
    "settle_steps",
    "steps_within",
    "noisy_quadratic",
    "expected_loss",
    "inverse_time_limit",
    "median_range",
    "seed_span",
    "check_runs",
    "decay_runs",
    "decay_table",
]


# Why decay helps: SGD's noise floor on a quadratic
# ---------------------------------------------------------------------------------------------

#: At most this many steps x walkers for :func:`noisy_quadratic` (80 MB of float64 work).
MAX_WALKER_STEPS = 10_000_000
#: At most this many rates (schedules x steps) for :func:`expected_loss`, a scalar loop.
MAX_EXACT_STEPS = 300_000
#: Largest curvature, noise or start of the toy quadratic: squared, larger values overflow
#: float64 in the loss (and no lesson needs them).
MAX_TOY_SCALE = 1e6


def stationary_loss(lr, curvature: float = 1.0, noise: float = 1.0):
    """Expected loss SGD settles at on ``f(w) = h w^2 / 2`` with gradient noise of std ``noise``.

    With ``g = h w + xi``, ``E xi = 0``, ``Var xi = s^2``, the step ``w <- w - lr g`` has the
    stationary variance ``v = (1 - lr h)^2 v + lr^2 s^2``, so
    ``v = lr s^2 / (h (2 - lr h))`` and ``E f = h v / 2 = lr s^2 / (2 (2 - lr h))``, about
    ``lr s^2 / 4`` for small ``lr h``: proportional to the learning rate.

    Parameters
    ----------
    lr : float or ndarray
        In (0, 2 / curvature) (beyond it the iteration diverges).
    curvature, noise : float
        ``h`` > 0 and ``s`` >= 0.

    Returns
    -------
    float or ndarray (``lr``'s shape)
    """
    h = check_real("curvature", curvature, 0.0, MAX_TOY_SCALE, low_open=True)
    s = check_real("noise", noise, 0.0, MAX_TOY_SCALE)
    lr_arr = check_array("lr", lr, finite=False)
    if not np.all(np.isfinite(lr_arr)) or np.any(lr_arr <= 0) or np.any(lr_arr * h >= 2):
        raise ValueError(f"lr must be in (0, 2 / curvature) = (0, {2 / h:g}); got {lr!r}")
    out = lr_arr * s**2 / (2.0 * (2.0 - lr_arr * h))
    return float(out) if out.ndim == 0 else out


def settle_steps(
    eta_before: float,
    eta_after: float,
    curvature: float = 1.0,
    noise: float = 1.0,
    within: float = 0.1,
) -> int:
    """Steps until the expected loss is within ``within`` of the new floor after a rate change.

    Starting at the floor of ``eta_before`` (:func:`stationary_loss`), the variance recursion
    of SGD at ``eta_after`` gives the expected loss exactly:
    ``E f_k = F + (F_0 - F) a^k`` with ``a = (1 - eta_after h)^2``, ``F_0`` and ``F`` the old and
    new floors. Returns the first ``k`` with ``E f_k <= (1 + within) F``, i.e.
    ``ceil(log(within F / (F_0 - F)) / log(a))`` (0 if ``F_0 <= (1 + within) F``).
    """
    f0 = stationary_loss(eta_before, curvature, noise)
    floor = stationary_loss(eta_after, curvature, noise)
    within = check_real("within", within, 0.0, low_open=True)
    if f0 <= (1 + within) * floor:
        return 0
    a = (1.0 - eta_after * curvature) ** 2
    return int(math.ceil(math.log(within * floor / (f0 - floor)) / math.log(a)))


def steps_within(loss, start: int, level: float) -> int:
    """How many steps after ``start`` the loss first falls below ``level``.

    ``loss[t]`` is the loss after step ``t + 1`` (:func:`noisy_quadratic`); the result is the
    first ``k >= 1`` with ``loss[start + k - 1] < level``, or -1 if it never does.
    """
    loss = check_array("loss", loss, ndim=1, finite=False)
    level = check_real("level", level)
    start = check_int("start", start, 0, max(len(loss) - 1, 0))
    below = np.flatnonzero(loss[start:] < level)
    return int(below[0]) + 1 if below.size else -1


def noisy_quadratic(
    lr,
    curvature: float = 1.0,
    noise: float = 1.0,
    w0: float = 3.0,
    walkers: int = 2000,
    seed: int = 0,
) -> np.ndarray:
    """Mean loss of SGD on ``f(w) = h w^2 / 2`` with noisy gradients, step by step.

    ``walkers`` independent runs start at ``w0`` and take ``w <- w - lr[t] (h w + xi_t)``,
    ``xi_t ~ N(0, noise^2)``; the result is their mean ``h w^2 / 2`` after each step, an
    estimate of the expected loss (:func:`stationary_loss` is its limit for a constant lr).

    Parameters
    ----------
    lr : array-like, shape (steps,)
        A schedule (e.g. from :func:`step_decay`), each value in [0, 2 / curvature).
    curvature, noise, w0 : float
    walkers : int
        1 to 100,000; steps x walkers at most :data:`MAX_WALKER_STEPS`.
    seed : int

    Returns
    -------
    ndarray, shape (steps,), float64
    """
    h = check_real("curvature", curvature, 0.0, MAX_TOY_SCALE, low_open=True)
    s = check_real("noise", noise, 0.0, MAX_TOY_SCALE)
    w0 = check_real("w0", w0, -MAX_TOY_SCALE, MAX_TOY_SCALE)
    walkers = check_int("walkers", walkers, 1, 100_000)
    rng = make_rng(seed)
    lr = check_array("lr", lr, ndim=1, finite=False, limit=MAX_WALKER_STEPS)
    if not np.all(np.isfinite(lr)) or np.any(lr < 0) or np.any(lr * h >= 2):
        raise ValueError(f"lr values must be in [0, 2 / curvature) = [0, {2 / h:g})")
    if len(lr) * walkers > MAX_WALKER_STEPS:
        raise ValueError(
            f"steps x walkers = {len(lr) * walkers:,} is more than "
            f"{MAX_WALKER_STEPS:,}; use fewer walkers or steps"
        )
    w = np.full(walkers, w0)
    losses = np.empty(len(lr))
    for t, eta in enumerate(lr):
        w -= eta * (h * w + s * rng.standard_normal(walkers))
        losses[t] = 0.5 * h * np.mean(w * w)
    return losses


def expected_loss(lr, curvature: float = 1.0, noise: float = 1.0, w0: float = 3.0) -> np.ndarray:
    """The exact expected loss of SGD on the noisy quadratic, step by step (no sampling).

    For ``w_{t+1} = (1 - lr_t h) w_t - lr_t xi_t`` the mean and the variance obey
    ``m_{t+1} = (1 - lr_t h) m_t`` and ``v_{t+1} = (1 - lr_t h)^2 v_t + lr_t^2 s^2`` from
    ``m_0 = w0``, ``v_0 = 0``; the expected loss is ``E f_t = h (m_t^2 + v_t) / 2``: the
    *bias* part ``h m_t^2 / 2`` (how far the mean still is from the minimum) and the *noise*
    part ``h v_t / 2``. :func:`noisy_quadratic` samples the same process; this is its limit for
    infinitely many walkers, the same numbers on every CPU. The model is Schaul, Zhang & LeCun's
    (ICML 2013) and Zhang et al.'s (NeurIPS 2019) noisy quadratic, in one dimension.

    Parameters
    ----------
    lr : array-like, shape (steps,) or (k, steps)
        One schedule, or ``k`` of them; each value in ``[0, 2 / curvature)``; at most
        :data:`MAX_EXACT_STEPS` values in all.
    curvature, noise, w0 : float
        ``h`` > 0, ``s`` >= 0, the start.

    Returns
    -------
    ndarray, ``lr``'s shape, float64
        ``E f`` after each step.
    """
    h = check_real("curvature", curvature, 0.0, MAX_TOY_SCALE, low_open=True)
    s = check_real("noise", noise, 0.0, MAX_TOY_SCALE)
    w0 = check_real("w0", w0, -MAX_TOY_SCALE, MAX_TOY_SCALE)
    lr = check_array("lr", lr, ndim=(1, 2), finite=False, limit=MAX_EXACT_STEPS)
    if not np.all(np.isfinite(lr)) or np.any(lr < 0) or np.any(lr * h >= 2):
        raise ValueError(f"lr values must be in [0, 2 / curvature) = [0, {2 / h:g})")
    rates = np.atleast_2d(lr)
    out = np.empty_like(rates)
    for row, schedule in zip(out, rates.tolist()):  # scalar floats: ~50x faster than numpy here
        m, v, values = w0, 0.0, []
        for eta in schedule:
            a = 1.0 - eta * h
            m, v = a * m, a * a * v + (eta * s) ** 2
            values.append(0.5 * h * (m * m + v))
        row[:] = values
    return out.reshape(lr.shape)


def inverse_time_limit(a: float, t, curvature: float = 1.0, noise: float = 1.0):
    """The expected loss that 1/t decay ``lr_t ~ a / t`` reaches at step ``t``, for large ``t``.

    With ``lr_t = a / t`` the variance recursion ``v_{t+1} ~ (1 - 2 a h / t) v_t + a^2 s^2 / t^2``
    has the solution ``v_t ~ c / t``: ``-c = -2 a h c + a^2 s^2``, so
    ``c = a^2 s^2 / (2 a h - 1)`` and ``E f_t ~ h a^2 s^2 / (2 (2 a h - 1) t)``, valid for
    ``a h > 1/2`` (a smaller ``a`` decays only like ``t^{-2 a h}``, slower than ``1/t``).

    Parameters
    ----------
    a : float
        ``> 1 / (2 curvature)``: for :func:`course_utils.schedules_beyond.inverse_time`,
        ``a = base_lr * decay_steps``.
    t : float or ndarray
        Steps, > 0.
    curvature, noise : float

    Returns
    -------
    float or ndarray (``t``'s shape)
    """
    h = check_real("curvature", curvature, 0.0, MAX_TOY_SCALE, low_open=True)
    s = check_real("noise", noise, 0.0, MAX_TOY_SCALE)
    a = check_real("a", a, 0.5 / h, MAX_TOY_SCALE, low_open=True)
    t_arr = check_array("t", t)
    if np.any(t_arr <= 0):
        raise ValueError(f"t must be > 0; got {t!r}")
    out = h * a * a * s * s / (2.0 * (2.0 * a * h - 1.0) * t_arr)
    return float(out) if out.ndim == 0 else out


def median_range(values, digits: int = 2, percent: bool = False) -> str:
    """``"median [min, max]"`` of ``values`` (shape ``(n,)``), each with ``digits`` decimals.

    With ``percent=True`` the values are shares shown as percentages with ``digits - 2``
    decimals (0.953 -> ``"95%"`` for ``digits=2``).
    """
    values = check_array("values", values, ndim=1)
    digits = check_int("digits", digits, 0, MAX_DIGITS)
    fmt = (lambda v: f"{v:.{max(digits - 2, 0)}%}") if percent else (lambda v: f"{v:.{digits}f}")
    return f"{fmt(np.median(values))} [{fmt(values.min())}, {fmt(values.max())}]"


def decay_runs(
    lr: float = 0.1,
    epochs: int = 8,
    milestones=(4, 6),
    gamma: float = 0.1,
    batch_size: int = 32,
    weight_decay: float = 1e-3,
    width: int = 32,
    seeds=range(10),
    data=None,
) -> dict:
    """The ResNet recipe on digits, from several seeds: SGD + momentum at a constant lr, and with step decay.

    Per seed, both runs train the same MLP (2 hidden ReLU layers of ``width``, same init and
    minibatch order) with ``weight_decay``; the second multiplies the lr by ``gamma`` at the
    start of the epoch after each of ``milestones`` (ResNet: x0.1 after 50% and 75% of the
    iterations on CIFAR-10, He et al., CVPR 2016). See :func:`train_seeds`.

    Returns
    -------
    dict
        ``"constant"``, ``"decay"``: :class:`SeedRuns`; ``"steps_per_epoch"``;
        ``"milestones"`` (epochs); ``"after_decay"``: per milestone ``m`` a dict with
        ``"epoch"`` (``m + 1``) and the full training-set loss of every seed at that epoch,
        ``"constant"``, ``"decay"`` and their ``"ratio"`` (decay / constant, shape ``(n,)``):
        the decay against its baseline at the same epoch, one epoch after the decay.
    """
    check_seeds(seeds)  # checked before the data is loaded
    data = check_digits(data)
    epochs = check_int("epochs", epochs, 1, 200)
    marks = [int(m) for m in check_milestones(milestones)]
    if marks and marks[-1] >= epochs:
        raise ValueError(f"milestones must be epochs before the last ({epochs}); got {marks}")
    steps_per_epoch = math.ceil(
        len(data.x_train) / check_int("batch_size", batch_size, 1, MAX_SCHEDULE_STEPS)
    )
    steps = epochs * steps_per_epoch
    schedules = {
        "constant": constant(lr, steps),
        "decay": multistep(lr, steps, [m * steps_per_epoch for m in marks], gamma),
    }
    runs = train_seeds(
        data,
        schedules,
        "momentum",
        seeds=seeds,
        depth=2,
        width=width,
        batch_size=batch_size,
        epochs=epochs,
        weight_decay=weight_decay,
    )
    const, dec = runs["constant"].train_loss, runs["decay"].train_loss  # column e: after epoch e
    runs["after_decay"] = [
        {
            "epoch": m + 1,
            "constant": const[:, m + 1],
            "decay": dec[:, m + 1],
            "ratio": dec[:, m + 1] / const[:, m + 1],
        }
        for m in marks
    ]
    runs["steps_per_epoch"] = steps_per_epoch
    runs["milestones"] = marks
    return runs


def seed_span(seeds) -> str:
    """How the tables name the seeds they summarise: ``"10 seeds (0-9)"`` for consecutive
    seeds, else each one, ``"3 seeds (0, 4, 7)"`` or ``"1 seed (3)"``.

    ``seeds``: distinct integers >= 0, at least one (:func:`check_seeds`), e.g.
    :class:`SeedRuns`' ``seeds``.
    """
    seeds = check_seeds(seeds).tolist()
    contiguous = seeds == list(range(seeds[0], seeds[0] + len(seeds)))
    return (
        f"{len(seeds)} seeds ({seeds[0]}-{seeds[-1]})"
        if contiguous and len(seeds) > 1
        else f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''} ({', '.join(map(str, seeds))})"
    )


def decay_table(runs: dict) -> str:
    """The printed summary of :func:`decay_runs`: both runs epoch by epoch from the first decay.

    Per epoch (from the first milestone to the end) the median [min, max] over the seeds of the
    full training-set loss of each run, of their ratio (decay / constant, the decay against its
    baseline at the same epoch) and how many seeds have the decayed run lower; then the final
    validation accuracy of both.
    """
    from course_utils.tables import format_table

    check_runs(runs, ("constant", "decay", "milestones", "after_decay"), "decay_runs")

    const, dec = runs["constant"], runs["decay"]
    n, marks = len(const.seeds), runs["milestones"]
    last = const.train_loss.shape[1] - 1
    shown = list(range(marks[0], last + 1)) if marks else [last]
    ratio = dec.train_loss / const.train_loss
    names = {m: f"{m} (decay {i})" for i, m in enumerate(marks, start=1)}
    names.setdefault(last, f"{last} (end)")
    table = format_table(
        {
            "constant lr": [median_range(const.train_loss[:, e], 3) for e in shown],
            "step decay": [median_range(dec.train_loss[:, e], 3) for e in shown],
            "decay / constant": [median_range(ratio[:, e], 2) for e in shown],
            "decay lower": [f"{int((ratio[:, e] < 1).sum())} of {n}" for e in shown],
        },
        index=[names.get(e, str(e)) for e in shown],
        index_name="loss after epoch",
    )
    va_c, va_d = const.val_acc[:, -1], dec.val_acc[:, -1]
    higher, ties = int((va_d > va_c).sum()), int((va_d == va_c).sum())
    return (
        f"{seed_span(const.seeds)}, median [min, max] over the seeds\n{table}\n"
        f"final validation accuracy: constant lr {median_range(va_c, 3, True)}, "
        f"step decay {median_range(va_d, 3, True)}; step decay higher in {higher} of {n} "
        f"seeds" + (f" ({ties} tied)" if ties else "")
    )


def check_runs(runs, keys, maker: str) -> None:
    """Refuse ``runs`` (``ValueError``) unless it is a dict holding every one of ``keys``.

    The tables' check of their input: ``keys`` (a non-empty tuple of str) are entries the
    dict ``maker`` (the name of the function that returns it, e.g. ``"decay_runs"``) returns.
    """
    if (
        not isinstance(keys, tuple)
        or not 1 <= len(keys) <= 100
        or not all(isinstance(k, str) for k in keys)
    ):
        raise ValueError(f"keys must be a tuple of 1 to 100 strings; got {type(keys).__name__}")
    if not isinstance(maker, str) or not maker.isidentifier():
        raise ValueError(f"maker must be a function's name; got {maker!r:.80}")
    if not isinstance(runs, dict) or not all(k in runs for k in keys):
        raise ValueError(
            f"runs must be the dict {maker} returns (with {', '.join(map(repr, keys))})"
        )
