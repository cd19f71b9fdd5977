"""Learning-rate schedules (chapter 06): the learning rate of every step, as a NumPy array.

Each function returns ``lr`` of shape ``(steps,)``, float64, where ``lr[t]`` is the learning
rate used by optimisation step ``t + 1`` (``t = 0, 1, ..., steps - 1``). This is exactly the
sequence a ``torch.optim.lr_scheduler`` scheduler produces when ``scheduler.step()`` is called
after every optimisation step (as :func:`course_utils.training.train` does with
``scheduler=``); give the array to ``train(..., lr_schedule=lr)``.

=========================  =====================================================  ==========================
function                   lr[t]                                                  torch equivalent
=========================  =====================================================  ==========================
:func:`constant`           ``base_lr``                                            (none)
:func:`step_decay`         ``base_lr * gamma ** (t // step_size)``                ``StepLR``
:func:`multistep`          ``base_lr * gamma ** #{m in milestones: m <= t}``      ``MultiStepLR``
:func:`exponential`        ``base_lr * gamma ** t``                               ``ExponentialLR``
:func:`cosine`             ``eta_min + (base_lr - eta_min)(1 + cos(pi t/T))/2``   ``CosineAnnealingLR``
:func:`linear_warmup`      ``base_lr * (f + (1 - f) min(t, W)/W)``                ``LinearLR``
:func:`warmup_cosine`      warm-up for ``W`` steps, then :func:`cosine` from 0    ``SequentialLR`` of both
:func:`warmup_step`        warm-up for ``W`` steps, then :func:`step_decay`       ``SequentialLR`` of both
=========================  =====================================================  ==========================

All are *closed forms*. Torch computes ``ExponentialLR``, ``CosineAnnealingLR`` and ``LinearLR``
recursively (each new lr from the previous one, e.g. cosine's
``lr_t = eta_min + (lr_{t-1} - eta_min) (1 + cos(pi t/T)) / (1 + cos(pi (t-1)/T))``); the
two agree to rounding, which accumulates over the steps (:func:`torch_schedule` gives torch's
sequence; the tests find them within 1e-12, e.g. 1e-13 relative after 20 cosine periods).
Step and multi-step decay take ``gamma ** k`` as ``k`` multiplications, the way torch does:
they equal torch's ``StepLR`` and ``MultiStepLR`` bit for bit, on every CPU (IEEE products
are correctly rounded; NumPy's vectorised power is not, and differs by an ulp between CPUs).

The papers: step decay by x0.1 at fixed points as in ResNet (He, Zhang, Ren & Sun, CVPR 2016);
cosine annealing from SGDR (Loshchilov & Hutter, ICLR 2017); linear warm-up from "Accurate,
Large Minibatch SGD" (Goyal et al., 2017, arXiv:1706.02677).
"""

from __future__ import annotations

import math
import numbers
from typing import Sequence

import numpy as np

from course_utils.references import reference_answer
from course_utils.training import MAX_LR
from course_utils.validation import check_array, check_int, check_sequence

__all__ = [
    "MAX_SCHEDULE_STEPS",
    "SCHEDULES",
    "check_milestones",
    "constant",
    "step_decay",
    "multistep",
    "exponential",
    "cosine",
    "linear_warmup",
    "warmup_cosine",
    "warmup_step",
    "inverse_time",
    "inverse_sqrt",
    "cosine_restarts",
    "one_cycle",
    "cyclic",
    "lr_range",
    "explorer_schedule",
    "drop_steps",
    "torch_schedule",
]

#: At most this many steps per schedule (8 MB of float64; ~50x a chapter's longest run).
MAX_SCHEDULE_STEPS = 1_000_000

#: The schedules the explorer offers (``explorer_schedule``'s ``schedule`` argument).
SCHEDULES = ("constant", "step", "multistep", "exponential", "cosine")


def _int(name: str, value, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    if value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"between {low} and {high}"
        raise ValueError(f"{name} must be an integer {allowed}; got {value}")
    if value > MAX_SCHEDULE_STEPS:  # a length in steps: beyond any schedule's length
        raise ValueError(f"{name} must be at most {MAX_SCHEDULE_STEPS}; got {value}")
    return int(value)


def _real(
    name: str, value, low: float, high: float | None = None, low_open: bool = True, what: str = ""
) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    if (value <= low if low_open else value < low) or (high is not None and value > high):
        interval = f"{'(' if low_open else '['}{low:g}, {'' if high is None else f'{high:g}]'}"
        if high is None:
            interval += "inf)"
        raise ValueError(f"{name} must be in {interval}{what}; got {value!r}")
    return float(value)


def _steps(steps) -> int:
    return _int("steps", steps, 0, MAX_SCHEDULE_STEPS)


def _base_lr(base_lr) -> float:
    return _real("base_lr", base_lr, 0.0, MAX_LR)


def _gamma(gamma) -> float:
    return _real("gamma", gamma, 0.0, 1.0, what=" (the factor applied at each decay)")


def _decayed(base_lr: float, gamma: float, k: np.ndarray) -> np.ndarray:
    """``base_lr * gamma ** k`` for integers ``k >= 0`` (any shape), float64.

    The power is taken as ``k`` successive multiplications, ``((base_lr * gamma) * gamma)...``,
    exactly as torch's ``StepLR`` and ``MultiStepLR`` update the rate at each decay. Each IEEE
    product is correctly rounded, so the result is the same bit for bit on every CPU, and
    equal to torch's. (NumPy's vectorised ``gamma ** k`` is not: its SIMD power differs by an
    ulp between CPUs, e.g. ``0.1 ** 2`` is 0.01 on AVX-512 and 0.010000000000000002 here.)
    """
    k = np.asarray(k, dtype=np.int64)
    factors = np.full(int(k.max(initial=0)) + 1, gamma, dtype=np.float64)
    factors[0] = base_lr
    return np.multiply.accumulate(factors)[k]  # levels[j] = base_lr * gamma * ... (j times)


def constant(base_lr: float, steps: int) -> np.ndarray:
    """The same learning rate at every step: ``lr[t] = base_lr``, shape ``(steps,)``."""
    return np.full(_steps(steps), _base_lr(base_lr), dtype=np.float64)


def step_decay(base_lr: float, steps: int, step_size: int, gamma: float = 0.1) -> np.ndarray:
    """Step decay: multiply the rate by ``gamma`` every ``step_size`` steps.

    ``lr[t] = base_lr * gamma ** floor(t / step_size)``, as ``torch.optim.lr_scheduler.StepLR``
    stepped once per step.

    Parameters
    ----------
    base_lr : float
        Rate of the first ``step_size`` steps, > 0.
    steps : int
        Length of the schedule, 0 to :data:`MAX_SCHEDULE_STEPS`.
    step_size : int
        Steps between two decays, >= 1.
    gamma : float
        Factor per decay, in (0, 1] (0.1 in ResNet, He et al., CVPR 2016).

    Returns
    -------
    ndarray, shape (steps,), float64
    """
    base_lr, steps, gamma = _base_lr(base_lr), _steps(steps), _gamma(gamma)
    step_size = _int("step_size", step_size, 1)
    return _decayed(base_lr, gamma, np.arange(steps) // step_size)


def check_milestones(milestones) -> np.ndarray:
    """``milestones`` (a sequence of at most ``MAX_ITEMS`` steps, each 1 to
    :data:`MAX_SCHEDULE_STEPS`, strictly increasing, maybe empty) as :func:`multistep` takes
    them: an int64 array of shape ``(len(milestones),)``."""
    values = check_sequence(
        "milestones",
        milestones,
        item=lambda name, m: check_int(name, m, 1, MAX_SCHEDULE_STEPS),
        min_len=0,
    )
    if any(b <= a for a, b in zip(values[:-1], values[1:])):
        raise ValueError(f"milestones must be strictly increasing; got {values}")
    return np.asarray(values, dtype=np.int64)


def multistep(
    base_lr: float, steps: int, milestones: Sequence[int], gamma: float = 0.1
) -> np.ndarray:
    """Multi-step decay: multiply the rate by ``gamma`` at each milestone step.

    ``lr[t] = base_lr * gamma ** k(t)``, ``k(t)`` = number of milestones ``m <= t``; as
    ``torch.optim.lr_scheduler.MultiStepLR``. ResNet on CIFAR-10 (He et al., CVPR 2016):
    ``base_lr = 0.1``, milestones 32k and 48k iterations, 64k in all, ``gamma = 0.1``.

    Parameters
    ----------
    base_lr : float
        > 0.
    steps : int
        Length of the schedule, 0 to :data:`MAX_SCHEDULE_STEPS`.
    milestones : sequence of int
        Strictly increasing steps >= 1 (they may lie beyond ``steps``).
    gamma : float
        In (0, 1].

    Returns
    -------
    ndarray, shape (steps,), float64
    """
    base_lr, steps, gamma = _base_lr(base_lr), _steps(steps), _gamma(gamma)
    marks = check_milestones(milestones)
    count = np.searchsorted(marks, np.arange(steps), side="right")
    return _decayed(base_lr, gamma, count)


def exponential(base_lr: float, steps: int, gamma: float) -> np.ndarray:
    """Exponential decay: ``lr[t] = base_lr * gamma ** t`` (``ExponentialLR``), ``gamma`` in (0, 1].

    Returns
    -------
    ndarray, shape (steps,), float64
    """
    base_lr, steps, gamma = _base_lr(base_lr), _steps(steps), _gamma(gamma)
    return base_lr * gamma ** np.arange(steps, dtype=np.float64)


def cosine(base_lr: float, steps: int, t_max: int, eta_min: float = 0.0) -> np.ndarray:
    """Cosine annealing (Loshchilov & Hutter, SGDR, ICLR 2017), without restarts.

    ``lr[t] = eta_min + (base_lr - eta_min) * (1 + cos(pi * t / t_max)) / 2``: from
    ``base_lr`` at ``t = 0`` down to ``eta_min`` at ``t = t_max``. Past ``t_max`` the formula
    (and torch's ``CosineAnnealingLR``) climbs back up; usually ``t_max = steps - 1`` or ``steps``.

    Parameters
    ----------
    base_lr : float
        > 0.
    steps : int
        0 to :data:`MAX_SCHEDULE_STEPS`.
    t_max : int
        Steps of the half cosine, >= 1.
    eta_min : float
        Final rate, in [0, base_lr].

    Returns
    -------
    ndarray, shape (steps,), float64
    """
    base_lr, steps = _base_lr(base_lr), _steps(steps)
    t_max = _int("t_max", t_max, 1)
    eta_min = _real("eta_min", eta_min, 0.0, base_lr, low_open=False, what=" (0 to base_lr)")
    t = np.arange(steps, dtype=np.float64)
    return eta_min + (base_lr - eta_min) * (1.0 + np.cos(np.pi * t / t_max)) / 2.0


def _start_factor(start_factor) -> float:
    return _real(
        "start_factor",
        start_factor,
        0.0,
        1.0,
        what=" (the warm-up starts at start_factor * base_lr)",
    )


def linear_warmup(
    base_lr: float, steps: int, warmup_steps: int, start_factor: float = 1 / 3
) -> np.ndarray:
    """Linear warm-up (Goyal et al., 2017): ``start_factor * base_lr`` up to ``base_lr``.

    ``lr[t] = base_lr * (f + (1 - f) * min(t, W) / W)`` with ``f = start_factor``,
    ``W = warmup_steps``; constant ``base_lr`` from step ``W`` on (``LinearLR`` with
    ``end_factor=1``, ``total_iters=W``).

    Parameters
    ----------
    base_lr : float
        > 0.
    steps : int
        0 to :data:`MAX_SCHEDULE_STEPS`.
    warmup_steps : int
        >= 1.
    start_factor : float
        In (0, 1]; torch's default is 1/3.

    Returns
    -------
    ndarray, shape (steps,), float64
    """
    base_lr, steps = _base_lr(base_lr), _steps(steps)
    warmup_steps = _int("warmup_steps", warmup_steps, 1)
    f = _start_factor(start_factor)
    t = np.minimum(np.arange(steps), warmup_steps).astype(np.float64)
    return base_lr * (f + (1.0 - f) * t / warmup_steps)


@reference_answer("warmup_cosine")  # with a cosine after, the exercise
def _then(base_lr, steps, warmup_steps, start_factor, after) -> np.ndarray:
    """``warmup_steps`` of linear warm-up, then ``after(steps - warmup_steps)`` from its step 0."""
    steps = _steps(steps)
    warmup_steps = _int("warmup_steps", warmup_steps, 1)
    warm = linear_warmup(base_lr, min(steps, warmup_steps), warmup_steps, start_factor)
    return np.concatenate([warm, after(max(steps - warmup_steps, 0))])


@reference_answer("warmup_cosine")
def warmup_cosine(
    base_lr: float,
    steps: int,
    warmup_steps: int,
    t_max: int,
    start_factor: float = 1 / 3,
    eta_min: float = 0.0,
) -> np.ndarray:
    """Linear warm-up for ``warmup_steps`` steps, then cosine annealing over ``t_max`` steps.

    ``lr[t] = base_lr * (f + (1 - f) t / W)`` for ``t < W``, then
    ``eta_min + (base_lr - eta_min)(1 + cos(pi (t - W) / t_max)) / 2``: torch's
    ``SequentialLR([LinearLR(opt, f, 1.0, total_iters=W), CosineAnnealingLR(opt, t_max,
    eta_min)], milestones=[W])``. The usual choice ``t_max = steps - W`` ends at ``eta_min``.

    Parameters
    ----------
    base_lr : float
        Peak rate, reached at step ``W``; > 0.
    steps : int
        0 to :data:`MAX_SCHEDULE_STEPS`.
    warmup_steps : int
        ``W`` >= 1.
    t_max : int
        Length of the cosine phase, >= 1.
    start_factor : float
        ``f`` in (0, 1].
    eta_min : float
        In [0, base_lr].

    Returns
    -------
    ndarray, shape (steps,), float64
    """
    _base_lr(base_lr), _start_factor(start_factor)
    _int("t_max", t_max, 1)
    return _then(
        base_lr, steps, warmup_steps, start_factor, lambda n: cosine(base_lr, n, t_max, eta_min)
    )


def warmup_step(
    base_lr: float,
    steps: int,
    warmup_steps: int,
    step_size: int,
    gamma: float = 0.1,
    start_factor: float = 1 / 3,
) -> np.ndarray:
    """Linear warm-up for ``warmup_steps`` steps, then :func:`step_decay` counted from there.

    ``SequentialLR([LinearLR(opt, f, 1.0, total_iters=W), StepLR(opt, step_size, gamma)],
    milestones=[W])`` (Goyal et al., 2017: 5 epochs of warm-up, then ResNet's x0.1 steps).

    Returns
    -------
    ndarray, shape (steps,), float64
    """
    _base_lr(base_lr), _start_factor(start_factor), _gamma(gamma)
    _int("step_size", step_size, 1)
    return _then(
        base_lr,
        steps,
        warmup_steps,
        start_factor,
        lambda n: step_decay(base_lr, n, step_size, gamma),
    )


def inverse_time(base_lr: float, steps: int, decay_steps: int) -> np.ndarray:
    """1/t decay: ``lr[t] = base_lr / (1 + t / decay_steps)``, shape ``(steps,)``.

    The schedule of stochastic approximation (Robbins & Monro, Annals of Mathematical
    Statistics, 1951): ``sum_t lr[t]`` diverges (SGD can travel any distance) while
    ``sum_t lr[t]^2`` converges (the injected noise stays finite), so SGD converges to the
    minimum instead of bouncing at a noise floor. ``decay_steps`` (``tau``) is the step at which
    the rate has halved. Torch has no class for it: ``LambdaLR(opt, lambda t: 1 / (1 + t / tau))``.

    Parameters
    ----------
    base_lr : float
        > 0.
    steps : int
        0 to :data:`MAX_SCHEDULE_STEPS`.
    decay_steps : int
        ``tau`` >= 1.

    Returns
    -------
    ndarray, shape (steps,), float64
    """
    base_lr, steps = _base_lr(base_lr), _steps(steps)
    tau = _int("decay_steps", decay_steps, 1)
    return base_lr / (1.0 + np.arange(steps, dtype=np.float64) / tau)


def inverse_sqrt(base_lr: float, steps: int, warmup_steps: int) -> np.ndarray:
    """The Transformer's schedule (Vaswani et al., NeurIPS 2017): linear warm-up, then ``1/sqrt(n)``.

    With ``n = t + 1`` the step number and ``W = warmup_steps``,
    ``lr[t] = base_lr * min(n / W, sqrt(W / n))``: a linear rise to the peak ``base_lr`` at
    ``n = W``, then a decay proportional to ``n^{-1/2}``. The paper writes it
    ``d_model^{-1/2} min(n^{-1/2}, n W^{-3/2})``, i.e. ``base_lr = (d_model W)^{-1/2}``
    (7.0e-4 for ``d_model = 512``, ``W = 4000``). Torch: ``LambdaLR`` with the same factor.

    Parameters
    ----------
    base_lr : float
        The peak rate, > 0.
    steps : int
        0 to :data:`MAX_SCHEDULE_STEPS`.
    warmup_steps : int
        ``W`` >= 1.

    Returns
    -------
    ndarray, shape (steps,), float64
    """
    base_lr, steps = _base_lr(base_lr), _steps(steps)
    w = _int("warmup_steps", warmup_steps, 1)
    n = np.arange(1, steps + 1, dtype=np.float64)
    return base_lr * np.minimum(n / w, np.sqrt(w / n))


def cosine_restarts(
    base_lr: float, steps: int, t_0: int, t_mult: int = 1, eta_min: float = 0.0
) -> np.ndarray:
    """SGDR (Loshchilov & Hutter, ICLR 2017): cosine annealing with warm restarts.

    The rate follows :func:`cosine` over a period of ``T_i`` steps, then jumps back to
    ``base_lr``; the first period is ``T_0 = t_0`` and each next one ``t_mult`` times longer.
    With ``T_cur`` the steps since the last restart,
    ``lr[t] = eta_min + (base_lr - eta_min) (1 + cos(pi T_cur / T_i)) / 2``, as
    ``torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(T_0, T_mult, eta_min)``.

    Parameters
    ----------
    base_lr : float
        > 0.
    steps : int
        0 to :data:`MAX_SCHEDULE_STEPS`.
    t_0 : int
        First period, >= 1.
    t_mult : int
        1 to 10.
    eta_min : float
        In [0, base_lr].

    Returns
    -------
    ndarray, shape (steps,), float64
    """
    base_lr, steps = _base_lr(base_lr), _steps(steps)
    t_0 = _int("t_0", t_0, 1)
    t_mult = _int("t_mult", t_mult, 1, 10)
    eta_min = _real("eta_min", eta_min, 0.0, base_lr, low_open=False, what=" (0 to base_lr)")
    starts, periods, start, period = [], [], 0, t_0
    while start < steps:  # at most log(steps) periods for t_mult > 1
        starts.append(start)
        periods.append(period)
        start, period = start + period, period * t_mult
    t = np.arange(steps)
    i = np.searchsorted(np.asarray(starts, dtype=np.int64), t, side="right") - 1
    t_cur = (t - np.asarray(starts, dtype=np.int64)[i]).astype(np.float64) if steps else t * 1.0
    t_i = np.asarray(periods, dtype=np.float64)[i] if steps else t * 1.0
    return eta_min + (base_lr - eta_min) * (1.0 + np.cos(np.pi * t_cur / t_i)) / 2.0


def one_cycle(
    base_lr: float,
    steps: int,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
) -> np.ndarray:
    """The one-cycle policy (Smith & Topin, 2019): up to ``base_lr``, then down far below the start.

    ``base_lr`` is the peak (torch's ``max_lr``). The rate rises from ``base_lr / div_factor``
    to ``base_lr`` over the first ``pct_start`` of the steps, then falls to
    ``base_lr / (div_factor * final_div_factor)`` at the last step, both along half cosines:
    ``torch.optim.lr_scheduler.OneCycleLR(max_lr=base_lr, total_steps=steps, pct_start,
    anneal_strategy="cos", div_factor, final_div_factor, cycle_momentum=False)``. The phase
    boundary is at ``n_1 = pct_start * steps - 1`` (torch's), and for step ``t``
    ``lr = end + (start - end)(1 + cos(pi p)) / 2`` with ``p`` the fraction of its phase done.

    Parameters
    ----------
    base_lr : float
        The peak rate, > 0.
    steps : int
        At least 2 (torch's ``total_steps``), at most :data:`MAX_SCHEDULE_STEPS`.
    pct_start : float
        In (0, 1), with ``pct_start * steps >= 2`` and ``<= steps - 1`` (two non-empty phases).
    div_factor, final_div_factor : float
        >= 1.

    Returns
    -------
    ndarray, shape (steps,), float64
    """
    base_lr = _base_lr(base_lr)
    steps = _int("steps", steps, 2, MAX_SCHEDULE_STEPS)
    pct_start = _real("pct_start", pct_start, 0.0, 1.0)
    div_factor = _real("div_factor", div_factor, 1.0, 1e12, low_open=False)
    final_div_factor = _real("final_div_factor", final_div_factor, 1.0, 1e12, low_open=False)
    n_1 = float(pct_start * steps) - 1
    if not 1 <= n_1 < steps - 1:
        raise ValueError(
            f"pct_start * steps must be between 2 and steps - 1 (two non-empty phases); got "
            f"pct_start = {pct_start!r}, steps = {steps}"
        )
    initial = base_lr / div_factor
    final = initial / final_div_factor
    t = np.arange(steps, dtype=np.float64)

    def anneal(start, end, pct):
        return end + (start - end) / 2.0 * (np.cos(np.pi * pct) + 1)

    up = anneal(initial, base_lr, t / n_1)
    down = anneal(base_lr, final, (t - n_1) / (steps - 1 - n_1))
    return np.where(t <= n_1, up, down)


def cyclic(base_lr: float, steps: int, max_lr: float, step_size_up: int) -> np.ndarray:
    """Triangular cyclical learning rates (Smith, WACV 2017): up and down between two bounds.

    The rate climbs linearly from ``base_lr`` to ``max_lr`` over ``step_size_up`` steps, falls
    back over as many, and repeats: with ``c = 2 * step_size_up`` and ``x = |2 (t / c mod 1) - 1|``
    (1 at the cycle's ends, 0 at its middle), ``lr[t] = base_lr + (max_lr - base_lr)(1 - x)``;
    ``torch.optim.lr_scheduler.CyclicLR(base_lr, max_lr, step_size_up, mode="triangular",
    cycle_momentum=False)``. Smith picks the two bounds with an LR range test (:func:`lr_range`).

    Parameters
    ----------
    base_lr : float
        The lower bound, > 0.
    steps : int
        0 to :data:`MAX_SCHEDULE_STEPS`.
    max_lr : float
        The upper bound, at least ``base_lr``.
    step_size_up : int
        Half a cycle, >= 1.

    Returns
    -------
    ndarray, shape (steps,), float64
    """
    base_lr, steps = _base_lr(base_lr), _steps(steps)
    max_lr = _real("max_lr", max_lr, base_lr, MAX_LR, low_open=False, what=" (base_lr to MAX_LR)")
    up = _int("step_size_up", step_size_up, 1)
    t = np.arange(steps, dtype=np.float64)
    total = 2.0 * up
    cycle = np.floor(1 + t / total)
    x = 1.0 + t / total - cycle  # torch's: the fraction of the current cycle done
    scale = np.where(x <= 0.5, x / 0.5, (x - 1) / (0.5 - 1))
    return base_lr + (max_lr - base_lr) * scale


def lr_range(start_lr: float, end_lr: float, steps: int) -> np.ndarray:
    """The rates of an LR range test (Smith, WACV 2017): geometric from ``start_lr`` to ``end_lr``.

    ``lr[t] = start_lr * (end_lr / start_lr) ** (t / (steps - 1))``: one short run whose rate
    grows by the same factor every step; the loss against the rate shows where training starts
    to learn, where it learns fastest and where it diverges.

    Parameters
    ----------
    start_lr, end_lr : float
        ``0 < start_lr < end_lr <= MAX_LR``.
    steps : int
        2 to :data:`MAX_SCHEDULE_STEPS`.

    Returns
    -------
    ndarray, shape (steps,), float64
    """
    start_lr = _real("start_lr", start_lr, 0.0, MAX_LR)
    end_lr = _real("end_lr", end_lr, start_lr, MAX_LR, what=" (above start_lr)")
    steps = _int("steps", steps, 2, MAX_SCHEDULE_STEPS)
    return start_lr * (end_lr / start_lr) ** (np.arange(steps, dtype=np.float64) / (steps - 1))


@reference_answer("warmup_cosine")  # "cosine" with a warm-up is the exercise
def explorer_schedule(
    schedule: str,
    base_lr: float,
    steps: int,
    warmup_steps: int = 0,
    decay_steps: int = 300,
    gamma: float = 0.1,
    start_factor: float = 0.1,
) -> np.ndarray:
    """One of :data:`SCHEDULES`, with an optional linear warm-up in front (the explorer's view).

    ``decay_steps`` and ``gamma`` mean, per schedule (counted after the warm-up):
    ``"step"``: x``gamma`` every ``decay_steps``; ``"multistep"``: x``gamma`` at
    ``decay_steps`` and ``1.5 * decay_steps`` (ResNet's 32k and 48k); ``"exponential"``: a
    smooth x``gamma`` per ``decay_steps`` (``gamma ** (1 / decay_steps)`` per step);
    ``"cosine"``: ``t_max = decay_steps`` (``gamma`` unused); ``"constant"``: both unused.

    Returns
    -------
    ndarray, shape (steps,), float64
    """
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}; got {schedule!r}")
    _base_lr(base_lr), _gamma(gamma), _steps(steps), _start_factor(start_factor)
    decay_steps = _int("decay_steps", decay_steps, 1)
    warmup_steps = _int("warmup_steps", warmup_steps, 0)

    def after(n):
        if schedule == "step":
            return step_decay(base_lr, n, decay_steps, gamma)
        if schedule == "multistep":
            return multistep(
                base_lr, n, [decay_steps, (3 * decay_steps) // 2] if decay_steps > 1 else [1], gamma
            )
        if schedule == "exponential":
            return exponential(base_lr, n, gamma ** (1.0 / decay_steps))
        if schedule == "cosine":
            return cosine(base_lr, n, decay_steps)
        return constant(base_lr, n)

    if warmup_steps == 0:
        return after(steps)
    return _then(base_lr, steps, warmup_steps, start_factor, after)


def drop_steps(lr) -> np.ndarray:
    """The steps ``t`` (0-based) where ``lr[t] < lr[t - 1]`` by more than rounding.

    Parameters
    ----------
    lr : array-like, shape (steps,)

    Returns
    -------
    ndarray of int
    """
    lr = check_array("lr", lr, ndim=1, min_size=0, limit=MAX_SCHEDULE_STEPS)
    return np.flatnonzero(lr[1:] < lr[:-1] * (1 - 1e-9)) + 1


def _rate_holder(lr: float):
    """A ``torch.optim.Optimizer`` that only holds a learning rate, for the schedulers.

    A scheduler reads and writes ``param_groups[i]["lr"]`` and wraps ``step``; it needs
    nothing else of an optimiser. Building a real one (``torch.optim.SGD``) the first time in a
    process imports ``torch._dynamo``, about 1.7 s; this one skips ``Optimizer.__init__``.
    """
    import torch

    class RateHolder(torch.optim.Optimizer):
        def __init__(self, lr):  # no super().__init__: no parameters, no hooks to set up
            self.defaults = {"lr": lr}
            self.param_groups = [{"params": [], "lr": lr}]
            self.state = {}

        def step(self, closure=None):
            return None

    return RateHolder(lr)


@reference_answer("warmup_cosine")  # its "warmup_cosine" is the exercise (to 1e-12)
def torch_schedule(name: str, base_lr: float, steps: int, **kwargs) -> np.ndarray:
    """The same schedule from ``torch.optim.lr_scheduler``: the oracle for the tests.

    Builds the scheduler ``name`` on an optimiser that holds only the rate ``base_lr``
    (``"step"``: StepLR(step_size, gamma); ``"multistep"``: MultiStepLR(milestones, gamma);
    ``"exponential"``: ExponentialLR(gamma); ``"cosine"``: CosineAnnealingLR(t_max,
    eta_min); ``"linear_warmup"``: LinearLR(start_factor, 1.0, warmup_steps);
    ``"warmup_cosine"`` / ``"warmup_step"``: SequentialLR of LinearLR and the second one,
    milestone ``warmup_steps``), reads ``group["lr"]`` before each of ``steps`` calls of
    ``scheduler.step()`` and returns them (float64, shape ``(steps,)``).
    """
    from torch.optim import lr_scheduler as S

    steps = _steps(steps)
    opt = _rate_holder(float(base_lr))
    kw = dict(kwargs)
    f = kw.pop("start_factor", 1 / 3)
    if name == "step":
        sched = S.StepLR(opt, kw.pop("step_size"), kw.pop("gamma", 0.1))
    elif name == "multistep":
        sched = S.MultiStepLR(opt, list(kw.pop("milestones")), kw.pop("gamma", 0.1))
    elif name == "exponential":
        sched = S.ExponentialLR(opt, kw.pop("gamma"))
    elif name == "cosine":
        sched = S.CosineAnnealingLR(opt, kw.pop("t_max"), kw.pop("eta_min", 0.0))
    elif name == "linear_warmup":
        sched = S.LinearLR(opt, f, 1.0, total_iters=kw.pop("warmup_steps"))
    elif name in ("warmup_cosine", "warmup_step"):
        w = kw.pop("warmup_steps")
        warm = S.LinearLR(opt, f, 1.0, total_iters=w)
        if name == "warmup_cosine":
            rest = S.CosineAnnealingLR(opt, kw.pop("t_max"), kw.pop("eta_min", 0.0))
        else:
            rest = S.StepLR(opt, kw.pop("step_size"), kw.pop("gamma", 0.1))
        sched = S.SequentialLR(opt, [warm, rest], milestones=[w])
    elif name == "inverse_time":
        tau = kw.pop("decay_steps")
        sched = S.LambdaLR(opt, lambda t: 1.0 / (1.0 + t / tau))
    elif name == "inverse_sqrt":
        w = kw.pop("warmup_steps")
        sched = S.LambdaLR(opt, lambda t: min((t + 1) / w, math.sqrt(w / (t + 1))))
    elif name == "cosine_restarts":
        sched = S.CosineAnnealingWarmRestarts(
            opt, kw.pop("t_0"), kw.pop("t_mult", 1), kw.pop("eta_min", 0.0)
        )
    elif name == "one_cycle":
        sched = S.OneCycleLR(
            opt,
            max_lr=float(base_lr),
            total_steps=steps,
            pct_start=kw.pop("pct_start", 0.3),
            div_factor=kw.pop("div_factor", 25.0),
            final_div_factor=kw.pop("final_div_factor", 1e4),
            cycle_momentum=False,
        )
    elif name == "cyclic":
        sched = S.CyclicLR(
            opt,
            base_lr=float(base_lr),
            max_lr=kw.pop("max_lr"),
            step_size_up=kw.pop("step_size_up"),
            mode="triangular",
            cycle_momentum=False,
        )
    else:
        raise ValueError(
            f"name must be step, multistep, exponential, cosine, linear_warmup, "
            f"warmup_cosine, warmup_step, inverse_time, inverse_sqrt, cosine_restarts, "
            f"one_cycle or cyclic; got {name!r}"
        )
    if kw:
        raise ValueError(f"unused arguments for {name}: {sorted(kw)}")
    lrs = np.empty(steps, dtype=np.float64)
    opt.step()  # once, so torch does not warn that the scheduler stepped first (a no-op)
    for t in range(steps):
        lrs[t] = opt.param_groups[0]["lr"]
        sched.step()
    return lrs


# ---------------------------------------------------------------------------------------------
