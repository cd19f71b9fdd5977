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
two agree to rounding, which accumulates over the steps
(:func:`course_utils.chapters.ch06_schedules.parity.torch_schedule` gives torch's sequence;
the tests find them within 1e-12, e.g. 1e-13 relative after 20 cosine periods).
Step and multi-step decay take ``gamma ** k`` as ``k`` multiplications, the way torch does:
they equal torch's ``StepLR`` and ``MultiStepLR`` bit for bit, on every CPU (IEEE products
are correctly rounded; NumPy's vectorised power is not, and differs by an ulp between CPUs).

The papers: step decay by x0.1 at fixed points as in ResNet (He, Zhang, Ren & Sun, CVPR 2016);
cosine annealing from SGDR (Loshchilov & Hutter, ICLR 2017); linear warm-up from "Accurate,
Large Minibatch SGD" (Goyal et al., 2017, arXiv:1706.02677). The schedules beyond the lecture
(1/t, inverse square root, SGDR, one-cycle, cyclical, the LR range test) are in
:mod:`course_utils.schedules_beyond`.
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
    "check_count",
    "check_number",
    "check_steps",
    "check_base_lr",
    "check_milestones",
    "constant",
    "step_decay",
    "multistep",
    "exponential",
    "cosine",
    "linear_warmup",
    "warmup_cosine",
    "warmup_step",
    "explorer_schedule",
    "drop_steps",
]

#: At most this many steps per schedule (8 MB of float64; ~50x a chapter's longest run).
MAX_SCHEDULE_STEPS = 1_000_000

#: The schedules the explorer offers (``explorer_schedule``'s ``schedule`` argument).
SCHEDULES = ("constant", "step", "multistep", "exponential", "cosine")


def check_count(name: str, value, low: int, high: int | None = None) -> int:
    """``value`` as an ``int`` in ``[low, high]`` and at most :data:`MAX_SCHEDULE_STEPS`.

    The check of every length in steps and integer parameter of a schedule (``steps``,
    ``step_size``, ``t_max``, ``warmup_steps``, ...): no schedule's count can exceed its length.
    ``low`` is an integer; ``high`` an integer or None (no bound below the cap).
    """
    for bound in (low, high):
        if bound is not None and (
            isinstance(bound, bool) or not isinstance(bound, numbers.Integral)
        ):
            raise ValueError(f"the bounds of {name} must be integers; got {bound!r}")
    if low is None:
        raise ValueError(f"the lower bound of {name} must be an integer; got None")
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    if value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"between {low} and {high}"
        raise ValueError(f"{name} must be an integer {allowed}; got {value}")
    if value > MAX_SCHEDULE_STEPS:  # a length in steps: beyond any schedule's length
        raise ValueError(f"{name} must be at most {MAX_SCHEDULE_STEPS}; got {value}")
    return int(value)


def check_number(
    name: str, value, low: float, high: float | None = None, low_open: bool = True, what: str = ""
) -> float:
    """``value`` as a finite ``float`` in ``(low, high]`` (``[low, high]`` if not ``low_open``).

    The check of every real parameter of a schedule (rates, factors); ``high`` None: no upper
    bound. ``what`` (e.g. ``" (0 to base_lr)"``) follows the interval in the error message.
    """
    for bound in (low, high):
        if bound is not None and (
            isinstance(bound, bool) or not isinstance(bound, numbers.Real) or math.isnan(bound)
        ):
            raise ValueError(f"the bounds of {name} must be numbers; got {bound!r}")
    if low is None:
        raise ValueError(f"the lower bound of {name} must be a number; got None")
    if not isinstance(low_open, (bool, np.bool_)):
        raise ValueError(f"low_open must be True or False; got {low_open!r}")
    if not isinstance(what, str):
        raise ValueError(f"what must be a string; got {type(what).__name__}")
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    if (value <= low if low_open else value < low) or (high is not None and value > high):
        interval = f"{'(' if low_open else '['}{low:g}, {'' if high is None else f'{high:g}]'}"
        if high is None:
            interval += "inf)"
        raise ValueError(f"{name} must be in {interval}{what}; got {value!r}")
    return float(value)


def check_steps(steps) -> int:
    """``steps``, the length of a schedule, as an ``int`` from 0 to :data:`MAX_SCHEDULE_STEPS`."""
    return check_count("steps", steps, 0, MAX_SCHEDULE_STEPS)


def check_base_lr(base_lr) -> float:
    """``base_lr`` as a ``float`` in ``(0, MAX_LR]`` (``course_utils.training.MAX_LR``)."""
    return check_number("base_lr", base_lr, 0.0, MAX_LR)


def _gamma(gamma) -> float:
    return check_number("gamma", gamma, 0.0, 1.0, what=" (the factor applied at each decay)")


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
    return np.full(check_steps(steps), check_base_lr(base_lr), dtype=np.float64)


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
    base_lr, steps, gamma = check_base_lr(base_lr), check_steps(steps), _gamma(gamma)
    step_size = check_count("step_size", step_size, 1)
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
    base_lr, steps, gamma = check_base_lr(base_lr), check_steps(steps), _gamma(gamma)
    marks = check_milestones(milestones)
    count = np.searchsorted(marks, np.arange(steps), side="right")
    return _decayed(base_lr, gamma, count)


def exponential(base_lr: float, steps: int, gamma: float) -> np.ndarray:
    """Exponential decay: ``lr[t] = base_lr * gamma ** t`` (``ExponentialLR``), ``gamma`` in (0, 1].

    Returns
    -------
    ndarray, shape (steps,), float64
    """
    base_lr, steps, gamma = check_base_lr(base_lr), check_steps(steps), _gamma(gamma)
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
    base_lr, steps = check_base_lr(base_lr), check_steps(steps)
    t_max = check_count("t_max", t_max, 1)
    eta_min = check_number("eta_min", eta_min, 0.0, base_lr, low_open=False, what=" (0 to base_lr)")
    t = np.arange(steps, dtype=np.float64)
    return eta_min + (base_lr - eta_min) * (1.0 + np.cos(np.pi * t / t_max)) / 2.0


def _start_factor(start_factor) -> float:
    return check_number(
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
    base_lr, steps = check_base_lr(base_lr), check_steps(steps)
    warmup_steps = check_count("warmup_steps", warmup_steps, 1)
    f = _start_factor(start_factor)
    t = np.minimum(np.arange(steps), warmup_steps).astype(np.float64)
    return base_lr * (f + (1.0 - f) * t / warmup_steps)


@reference_answer("warmup_cosine")  # with a cosine after, the exercise
def _then(base_lr, steps, warmup_steps, start_factor, after) -> np.ndarray:
    """``warmup_steps`` of linear warm-up, then ``after(steps - warmup_steps)`` from its step 0."""
    steps = check_steps(steps)
    warmup_steps = check_count("warmup_steps", warmup_steps, 1)
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
    check_base_lr(base_lr), _start_factor(start_factor)
    check_count("t_max", t_max, 1)
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
    check_base_lr(base_lr), _start_factor(start_factor), _gamma(gamma)
    check_count("step_size", step_size, 1)
    return _then(
        base_lr,
        steps,
        warmup_steps,
        start_factor,
        lambda n: step_decay(base_lr, n, step_size, gamma),
    )


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
    check_base_lr(base_lr), _gamma(gamma), check_steps(steps), _start_factor(start_factor)
    decay_steps = check_count("decay_steps", decay_steps, 1)
    warmup_steps = check_count("warmup_steps", warmup_steps, 0)

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


# ---------------------------------------------------------------------------------------------
