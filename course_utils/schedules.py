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
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from course_utils.references import reference_answer
from course_utils.training import single_torch_thread as _one_thread

__all__ = ["MAX_STEPS", "SCHEDULES", "constant", "step_decay", "multistep", "exponential",
           "cosine", "linear_warmup", "warmup_cosine", "warmup_step", "explorer_schedule",
           "drop_steps", "torch_schedule", "stationary_loss", "settle_steps", "steps_within",
           "noisy_quadratic", "SeedRuns",
           "kaiming_weights", "train_seeds", "median_range", "decay_runs", "warmup_runs",
           "decay_table", "warmup_table",
           "first_adam_step", "MAX_NETWORKS", "SEED_OPTIMIZERS"]

#: At most this many steps per schedule (8 MB of float64; ~50x a chapter's longest run).
MAX_STEPS = 1_000_000

#: The schedules the explorer offers (``explorer_schedule``'s ``schedule`` argument).
SCHEDULES = ("constant", "step", "multistep", "exponential", "cosine")


def _int(name: str, value, low: int, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    if value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"between {low} and {high}"
        raise ValueError(f"{name} must be an integer {allowed}; got {value}")
    return int(value)


def _real(name: str, value, low: float, high: float | None = None, low_open: bool = True,
          what: str = "") -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    if (value <= low if low_open else value < low) or (high is not None and value > high):
        interval = f"{'(' if low_open else '['}{low:g}, {'' if high is None else f'{high:g}]'}"
        if high is None:
            interval += "inf)"
        raise ValueError(f"{name} must be in {interval}{what}; got {value!r}")
    return float(value)


def _steps(steps) -> int:
    return _int("steps", steps, 0, MAX_STEPS)


def _base_lr(base_lr) -> float:
    return _real("base_lr", base_lr, 0.0)


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
        Length of the schedule, 0 to :data:`MAX_STEPS`.
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


def _milestones(milestones) -> np.ndarray:
    try:
        values = list(milestones)
    except TypeError:
        raise ValueError(f"milestones must be a sequence of increasing integers; got "
                         f"{milestones!r}") from None
    for m in values:
        _int("each milestone", m, 1)
    if any(b <= a for a, b in zip(values[:-1], values[1:])):
        raise ValueError(f"milestones must be strictly increasing; got {values}")
    return np.asarray(values, dtype=np.int64)


def multistep(base_lr: float, steps: int, milestones: Sequence[int],
              gamma: float = 0.1) -> np.ndarray:
    """Multi-step decay: multiply the rate by ``gamma`` at each milestone step.

    ``lr[t] = base_lr * gamma ** k(t)``, ``k(t)`` = number of milestones ``m <= t``; as
    ``torch.optim.lr_scheduler.MultiStepLR``. ResNet on CIFAR-10 (He et al., CVPR 2016):
    ``base_lr = 0.1``, milestones 32k and 48k iterations, 64k in all, ``gamma = 0.1``.

    Parameters
    ----------
    base_lr : float
        > 0.
    steps : int
        Length of the schedule, 0 to :data:`MAX_STEPS`.
    milestones : sequence of int
        Strictly increasing steps >= 1 (they may lie beyond ``steps``).
    gamma : float
        In (0, 1].

    Returns
    -------
    ndarray, shape (steps,), float64
    """
    base_lr, steps, gamma = _base_lr(base_lr), _steps(steps), _gamma(gamma)
    marks = _milestones(milestones)
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
        0 to :data:`MAX_STEPS`.
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
    return _real("start_factor", start_factor, 0.0, 1.0,
                 what=" (the warm-up starts at start_factor * base_lr)")


def linear_warmup(base_lr: float, steps: int, warmup_steps: int,
                  start_factor: float = 1 / 3) -> np.ndarray:
    """Linear warm-up (Goyal et al., 2017): ``start_factor * base_lr`` up to ``base_lr``.

    ``lr[t] = base_lr * (f + (1 - f) * min(t, W) / W)`` with ``f = start_factor``,
    ``W = warmup_steps``; constant ``base_lr`` from step ``W`` on (``LinearLR`` with
    ``end_factor=1``, ``total_iters=W``).

    Parameters
    ----------
    base_lr : float
        > 0.
    steps : int
        0 to :data:`MAX_STEPS`.
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
def warmup_cosine(base_lr: float, steps: int, warmup_steps: int, t_max: int,
                  start_factor: float = 1 / 3, eta_min: float = 0.0) -> np.ndarray:
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
        0 to :data:`MAX_STEPS`.
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
    return _then(base_lr, steps, warmup_steps, start_factor,
                 lambda n: cosine(base_lr, n, t_max, eta_min))


def warmup_step(base_lr: float, steps: int, warmup_steps: int, step_size: int,
                gamma: float = 0.1, start_factor: float = 1 / 3) -> np.ndarray:
    """Linear warm-up for ``warmup_steps`` steps, then :func:`step_decay` counted from there.

    ``SequentialLR([LinearLR(opt, f, 1.0, total_iters=W), StepLR(opt, step_size, gamma)],
    milestones=[W])`` (Goyal et al., 2017: 5 epochs of warm-up, then ResNet's x0.1 steps).

    Returns
    -------
    ndarray, shape (steps,), float64
    """
    _base_lr(base_lr), _start_factor(start_factor), _gamma(gamma)
    _int("step_size", step_size, 1)
    return _then(base_lr, steps, warmup_steps, start_factor,
                 lambda n: step_decay(base_lr, n, step_size, gamma))


@reference_answer("warmup_cosine")  # "cosine" with a warm-up is the exercise
def explorer_schedule(schedule: str, base_lr: float, steps: int, warmup_steps: int = 0,
                      decay_steps: int = 300, gamma: float = 0.1,
                      start_factor: float = 0.1) -> np.ndarray:
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
            return multistep(base_lr, n, [decay_steps, (3 * decay_steps) // 2] if decay_steps > 1
                             else [1], gamma)
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
    lr = np.asarray(lr, dtype=np.float64)
    if lr.ndim != 1:
        raise ValueError(f"lr must be one-dimensional; got shape {lr.shape}")
    return np.flatnonzero(lr[1:] < lr[:-1] * (1 - 1e-9)) + 1


@reference_answer("warmup_cosine")  # its "warmup_cosine" is the exercise (to 1e-12)
def torch_schedule(name: str, base_lr: float, steps: int, **kwargs) -> np.ndarray:
    """The same schedule from ``torch.optim.lr_scheduler``: the oracle for the tests.

    Builds SGD on one parameter with ``lr=base_lr`` and the scheduler ``name``
    (``"step"``: StepLR(step_size, gamma); ``"multistep"``: MultiStepLR(milestones, gamma);
    ``"exponential"``: ExponentialLR(gamma); ``"cosine"``: CosineAnnealingLR(t_max,
    eta_min); ``"linear_warmup"``: LinearLR(start_factor, 1.0, warmup_steps);
    ``"warmup_cosine"`` / ``"warmup_step"``: SequentialLR of LinearLR and the second one,
    milestone ``warmup_steps``), reads ``group["lr"]`` before each of ``steps`` calls of
    ``scheduler.step()`` and returns them (float64, shape ``(steps,)``).
    """
    import torch
    from torch.optim import lr_scheduler as S

    steps = _steps(steps)
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=float(base_lr))
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
    else:
        raise ValueError(f"name must be step, multistep, exponential, cosine, linear_warmup, "
                         f"warmup_cosine or warmup_step; got {name!r}")
    if kw:
        raise ValueError(f"unused arguments for {name}: {sorted(kw)}")
    lrs = np.empty(steps, dtype=np.float64)
    opt.step()  # once, so torch does not warn that the scheduler stepped first (no gradient: no-op)
    for t in range(steps):
        lrs[t] = opt.param_groups[0]["lr"]
        sched.step()
    return lrs


# ---------------------------------------------------------------------------------------------
# Why decay helps: SGD's noise floor on a quadratic
# ---------------------------------------------------------------------------------------------

#: At most this many steps x walkers for :func:`noisy_quadratic` (80 MB of float64 work).
MAX_WALKER_STEPS = 10_000_000


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
    h = _real("curvature", curvature, 0.0)
    s = _real("noise", noise, 0.0, low_open=False)
    lr_arr = np.asarray(lr, dtype=np.float64)
    if not np.all(np.isfinite(lr_arr)) or np.any(lr_arr <= 0) or np.any(lr_arr * h >= 2):
        raise ValueError(f"lr must be in (0, 2 / curvature) = (0, {2 / h:g}); got {lr!r}")
    out = lr_arr * s**2 / (2.0 * (2.0 - lr_arr * h))
    return float(out) if out.ndim == 0 else out


def settle_steps(eta_before: float, eta_after: float, curvature: float = 1.0,
                 noise: float = 1.0, within: float = 0.1) -> int:
    """Steps until the expected loss is within ``within`` of the new floor after a rate change.

    Starting at the floor of ``eta_before`` (:func:`stationary_loss`), the variance recursion
    of SGD at ``eta_after`` gives the expected loss exactly:
    ``E f_k = F + (F_0 - F) a^k`` with ``a = (1 - eta_after h)^2``, ``F_0`` and ``F`` the old and
    new floors. Returns the first ``k`` with ``E f_k <= (1 + within) F``, i.e.
    ``ceil(log(within F / (F_0 - F)) / log(a))`` (0 if ``F_0 <= (1 + within) F``).
    """
    f0 = stationary_loss(eta_before, curvature, noise)
    floor = stationary_loss(eta_after, curvature, noise)
    within = _real("within", within, 0.0)
    if f0 <= (1 + within) * floor:
        return 0
    a = (1.0 - eta_after * curvature) ** 2
    return int(math.ceil(math.log(within * floor / (f0 - floor)) / math.log(a)))


def steps_within(loss, start: int, level: float) -> int:
    """How many steps after ``start`` the loss first falls below ``level``.

    ``loss[t]`` is the loss after step ``t + 1`` (:func:`noisy_quadratic`); the result is the
    first ``k >= 1`` with ``loss[start + k - 1] < level``, or -1 if it never does.
    """
    loss = np.asarray(loss, dtype=np.float64)
    start = _int("start", start, 0, max(len(loss) - 1, 0))
    below = np.flatnonzero(loss[start:] < level)
    return int(below[0]) + 1 if below.size else -1


def noisy_quadratic(lr, curvature: float = 1.0, noise: float = 1.0, w0: float = 3.0,
                    walkers: int = 2000, seed: int = 0) -> np.ndarray:
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
    h = _real("curvature", curvature, 0.0)
    s = _real("noise", noise, 0.0, low_open=False)
    w0 = _real("w0", w0, -math.inf, low_open=True)
    walkers = _int("walkers", walkers, 1, 100_000)
    seed = _int("seed", seed, 0)
    lr = np.asarray(lr, dtype=np.float64)
    if lr.ndim != 1:
        raise ValueError(f"lr must be a 1-D schedule; got shape {lr.shape}")
    if not np.all(np.isfinite(lr)) or np.any(lr < 0) or np.any(lr * h >= 2):
        raise ValueError(f"lr values must be in [0, 2 / curvature) = [0, {2 / h:g})")
    if len(lr) * walkers > MAX_WALKER_STEPS:
        raise ValueError(f"steps x walkers = {len(lr) * walkers:,} is more than "
                         f"{MAX_WALKER_STEPS:,}; use fewer walkers or steps")
    rng = np.random.default_rng(seed)
    w = np.full(walkers, w0)
    losses = np.empty(len(lr))
    for t, eta in enumerate(lr):
        w -= eta * (h * w + s * rng.standard_normal(walkers))
        losses[t] = 0.5 * h * np.mean(w * w)
    return losses


# ---------------------------------------------------------------------------------------------
# The chapter's training runs: several seeds side by side, in float64 (digits)
# ---------------------------------------------------------------------------------------------

#: At most this many networks (seeds x schedules) trained side by side by :func:`train_seeds`.
MAX_NETWORKS = 256
#: The optimisers :func:`train_seeds` offers (``torch.optim`` with ``training.make_optimizer``'s
#: defaults: SGD with momentum 0.9, Adam).
SEED_OPTIMIZERS = ("momentum", "adam")


def _digits():
    from course_utils.data import load_digits
    return load_digits()


def _seeds(seeds) -> np.ndarray:
    try:
        values = [_int("each seed", s, 0) for s in seeds]
    except TypeError:
        raise ValueError(f"seeds must be a sequence of integers >= 0; got {seeds!r}") from None
    if not values or len(set(values)) != len(values):
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
    seeds = _seeds(seeds)
    sizes = [_int("each layer size", k, 1, 8192) for k in sizes]
    if len(sizes) < 2:
        raise ValueError(f"sizes must hold at least the input and output sizes; got {sizes}")
    rngs = [np.random.default_rng(int(s)) for s in seeds]
    return [(np.stack([rng.standard_normal((a, b)) * math.sqrt(2.0 / a) for rng in rngs]),
             np.zeros((len(seeds), b))) for a, b in zip(sizes[:-1], sizes[1:])]


def train_seeds(data, lr_schedules: dict, optimizer: str = "momentum", seeds=range(10),
                depth: int = 2, width: int = 32, batch_size: int = 32, epochs: int = 8,
                weight_decay: float = 0.0, init=None, every_epoch: bool = True) -> dict:
    """Train one MLP per seed and schedule, all side by side in float64; one SeedRuns per schedule.

    Each network is ``training.build_mlp``'s (``depth`` hidden ReLU layers of ``width``, then
    the class scores) and is trained as ``training.train`` trains it: minibatch cross-entropy,
    a seed's minibatch order from ``torch.randperm`` with ``torch.Generator().manual_seed(seed)``
    (a new permutation every epoch, the last batch smaller), torch's SGD with momentum 0.9 or
    Adam (``optimizer``, with ``weight_decay``), the rate of step ``t`` set to
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

    x_train32, y_train, _, y_val = training._tensors(data)  # checks the data
    x_train = torch.as_tensor(np.asarray(data.x_train), dtype=torch.float64)
    x_val = torch.as_tensor(np.asarray(data.x_val), dtype=torch.float64)
    if optimizer not in SEED_OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {SEED_OPTIMIZERS}; got {optimizer!r}")
    seeds = _seeds(seeds)
    depth = _int("depth", depth, 0, 10)
    width = _int("width", width, 1, 1024)
    batch_size = _int("batch_size", batch_size, 1)
    epochs = _int("epochs", epochs, 1, 200)
    weight_decay = _real("weight_decay", weight_decay, 0.0, low_open=False)
    if not isinstance(every_epoch, bool):
        raise ValueError(f"every_epoch must be True or False; got {every_epoch!r}")
    n_examples, n_features = x_train.shape
    classes = int(max(y_train.max(), y_val.max())) + 1
    steps = epochs * math.ceil(n_examples / batch_size)
    if not isinstance(lr_schedules, dict) or not lr_schedules:
        raise ValueError(f"lr_schedules must be a non-empty dict of name -> learning rates; "
                         f"got {lr_schedules!r}")
    rates = {}
    for name, lr in lr_schedules.items():
        lr = np.asarray(lr, dtype=np.float64)
        if lr.ndim != 1 or len(lr) < steps:
            raise ValueError(f"lr_schedules[{name!r}] must give one rate per step, at least "
                             f"{steps}; got shape {lr.shape}")
        if not np.all(np.isfinite(lr[:steps])) or np.any(lr[:steps] < 0):
            raise ValueError(f"lr_schedules[{name!r}] must hold finite rates >= 0")
        rates[name] = lr[:steps]
    if len(seeds) * len(rates) > MAX_NETWORKS:
        raise ValueError(f"{len(seeds)} seeds x {len(rates)} schedules is more than "
                         f"{MAX_NETWORKS} networks")
    sizes = [n_features] + [width] * depth + [classes]
    init = kaiming_weights(seeds, sizes) if init is None else init
    shapes = [((len(seeds), a, b), (len(seeds), b)) for a, b in zip(sizes[:-1], sizes[1:])]
    if len(init) != len(shapes) or any(np.shape(w) != ws or np.shape(b) != bs
                                       for (w, b), (ws, bs) in zip(init, shapes)):
        raise ValueError(f"init must hold (weights, biases) of shapes {shapes}")

    names = list(rates)
    # A schedule that repeats the first one for its first k steps is that run until step k:
    # it branches off there (a copy of the weights and of the optimiser's state), which gives
    # the same numbers as training it from the start, for less work.
    trunk = names[0]
    branch_at = {name: int(np.argmax(rates[name] != rates[trunk]))
                 if np.any(rates[name] != rates[trunk]) else steps for name in names[1:]}
    params = {trunk: [torch.tensor(np.asarray(a, dtype=np.float64)).reshape(shape).requires_grad_()
                      for (w, b), (ws, bs) in zip(init, shapes)
                      for a, shape in ((w, ws), (b, (bs[0], 1, bs[1])))]}
    if optimizer == "momentum":
        opt = torch.optim.SGD(params[trunk], lr=1.0, momentum=0.9, weight_decay=weight_decay,
                              foreach=True)
    else:
        opt = torch.optim.Adam(params[trunk], lr=1.0, weight_decay=weight_decay, foreach=True)
    groups = {trunk: opt.param_groups[0]}
    record = {name: {key: [] for key in ("step_loss", "train_loss", "train_acc", "val_loss",
                                         "val_acc")} for name in names}

    def branch(name):
        params[name] = [p.detach().clone().requires_grad_() for p in params[trunk]]
        opt.add_param_group({"params": params[name]})
        groups[name] = opt.param_groups[-1]
        for old, new in zip(params[trunk], params[name]):
            opt.state[new] = {k: v.clone() if torch.is_tensor(v) else v
                              for k, v in opt.state[old].items()}
        record[name] = {key: list(values) for key, values in record[trunk].items()}

    def scores(ps, x):  # x (N, D) shared, or (n, B, D) per seed -> (n, N or B, classes)
        h = x
        for k in range(0, len(ps), 2):
            h = torch.matmul(h, ps[k]) + ps[k + 1] if h.dim() == 2 else torch.baddbmm(
                ps[k + 1], h, ps[k])
            if k + 2 < len(ps):
                h = torch.relu(h)
        return h

    def losses(s, y):  # s (n, B, C), y (n, B) -> per-seed mean cross-entropy (n,)
        return F.cross_entropy(s.reshape(-1, classes), y.reshape(-1),
                               reduction="none").view(y.shape).mean(1)

    def evaluate():
        with torch.no_grad():
            for name in params:
                for x, y, split in ((x_train, y_train, "train"), (x_val, y_val, "val")):
                    s = scores(params[name], x)
                    labels = y.expand(len(seeds), -1)
                    record[name][f"{split}_loss"].append(losses(s, labels).numpy())
                    record[name][f"{split}_acc"].append(
                        (s.argmax(2) == labels).double().mean(1).numpy())

    shuffles = [torch.Generator().manual_seed(int(s)) for s in seeds]
    with _one_thread():
        evaluate()
        step = 0
        for epoch in range(epochs):
            order = torch.stack([torch.randperm(n_examples, generator=g) for g in shuffles])
            for start in range(0, n_examples, batch_size):
                for name in names[1:]:
                    if name not in params and branch_at[name] == step:
                        branch(name)
                index = order[:, start:start + batch_size]
                xb, yb = x_train[index], y_train[index]
                total = 0.0
                for name in params:
                    groups[name]["lr"] = float(rates[name][step])
                    loss = losses(scores(params[name], xb), yb)
                    record[name]["step_loss"].append(loss.detach().numpy().copy())
                    total = total + loss.sum()  # each network's gradient is its own loss's
                opt.zero_grad(set_to_none=True)
                total.backward()
                opt.step()
                step += 1
            if every_epoch or epoch == epochs - 1:
                evaluate()
    for name in names:
        if name not in params:  # the same rates as the first schedule throughout
            record[name] = {key: list(values) for key, values in record[trunk].items()}
    return {name: SeedRuns(seeds=seeds, lr=rates[name],
                           **{key: np.stack(values, axis=1) for key, values in rec.items()})
            for name, rec in record.items()}


def median_range(values, digits: int = 2, percent: bool = False) -> str:
    """``"median [min, max]"`` of ``values`` (shape ``(n,)``), each with ``digits`` decimals.

    With ``percent=True`` the values are shares shown as percentages with ``digits - 2``
    decimals (0.953 -> ``"95%"`` for ``digits=2``).
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 1 or values.size == 0:
        raise ValueError(f"values must be a non-empty 1-D array; got shape {values.shape}")
    fmt = (lambda v: f"{v:.{max(digits - 2, 0)}%}") if percent else (lambda v: f"{v:.{digits}f}")
    return f"{fmt(np.median(values))} [{fmt(values.min())}, {fmt(values.max())}]"


def decay_runs(lr: float = 0.1, epochs: int = 8, milestones=(4, 6), gamma: float = 0.1,
               batch_size: int = 32, weight_decay: float = 1e-3, width: int = 32,
               seeds=range(10), data=None) -> dict:
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
    data = _digits() if data is None else data
    epochs = _int("epochs", epochs, 1, 200)
    marks = [int(m) for m in _milestones(milestones)]
    if marks and marks[-1] >= epochs:
        raise ValueError(f"milestones must be epochs before the last ({epochs}); got {marks}")
    steps_per_epoch = math.ceil(len(data.x_train) / _int("batch_size", batch_size, 1))
    steps = epochs * steps_per_epoch
    schedules = {"constant": constant(lr, steps),
                 "decay": multistep(lr, steps, [m * steps_per_epoch for m in marks], gamma)}
    runs = train_seeds(data, schedules, "momentum", seeds=seeds, depth=2, width=width,
                       batch_size=batch_size, epochs=epochs, weight_decay=weight_decay)
    const, dec = runs["constant"].train_loss, runs["decay"].train_loss  # column e: after epoch e
    runs["after_decay"] = [{"epoch": m + 1, "constant": const[:, m + 1],
                            "decay": dec[:, m + 1], "ratio": dec[:, m + 1] / const[:, m + 1]}
                           for m in marks]
    runs["steps_per_epoch"] = steps_per_epoch
    runs["milestones"] = marks
    return runs


def warmup_runs(lr: float = 0.2, epochs: int = 5, warmup_epochs: int = 2,
                start_factor: float = 0.01, batch_size: int = 64, depth: int = 2,
                width: int = 32, seeds=range(10), data=None) -> dict:
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
    data = _digits() if data is None else data
    epochs = _int("epochs", epochs, 2, 200)
    warmup_epochs = _int("warmup_epochs", warmup_epochs, 1, epochs - 1)
    steps_per_epoch = math.ceil(len(data.x_train) / _int("batch_size", batch_size, 1))
    steps, warm = epochs * steps_per_epoch, warmup_epochs * steps_per_epoch
    schedules = {"no warm-up": cosine(lr, steps, steps),
                 "warm-up": warmup_cosine(lr, steps, warm, steps - warm, start_factor)}
    runs = train_seeds(data, schedules, "adam", seeds=seeds, depth=depth, width=width,
                       batch_size=batch_size, epochs=epochs, every_epoch=False)
    runs["summary"] = {name: {"largest": r.step_loss.max(axis=1),
                              "at_step": r.step_loss.argmax(axis=1) + 1,
                              "initial": r.step_loss[:, 0],
                              "after_warmup": r.step_loss[:, warm:].max(axis=1),
                              "back_above_at": np.array(
                                  [warm + 1 + int(np.argmax(row[warm:] > row[0]))
                                   if np.any(row[warm:] > row[0]) else -1
                                   for row in r.step_loss]),
                              "final_val_acc": r.val_acc[:, -1]}
                       for name, r in runs.items()}
    runs["steps_per_epoch"] = steps_per_epoch
    runs["warmup_steps"] = warm
    return runs


def _seed_span(seeds) -> str:
    seeds = list(seeds)
    contiguous = seeds == list(range(seeds[0], seeds[0] + len(seeds)))
    return (f"{len(seeds)} seeds ({seeds[0]}-{seeds[-1]})" if contiguous and len(seeds) > 1
            else f"{len(seeds)} seed{'s' if len(seeds) > 1 else ''} ({', '.join(map(str, seeds))})")


def decay_table(runs: dict) -> str:
    """The printed summary of :func:`decay_runs`: both runs epoch by epoch from the first decay.

    Per epoch (from the first milestone to the end) the median [min, max] over the seeds of the
    full training-set loss of each run, of their ratio (decay / constant, the decay against its
    baseline at the same epoch) and how many seeds have the decayed run lower; then the final
    validation accuracy of both.
    """
    from course_utils.tables import format_table

    const, dec = runs["constant"], runs["decay"]
    n, marks = len(const.seeds), runs["milestones"]
    last = const.train_loss.shape[1] - 1
    shown = list(range(marks[0], last + 1)) if marks else [last]
    ratio = dec.train_loss / const.train_loss
    names = {m: f"{m} (decay {i})" for i, m in enumerate(marks, start=1)}
    names.setdefault(last, f"{last} (end)")
    table = format_table(
        {"constant lr": [median_range(const.train_loss[:, e], 3) for e in shown],
         "step decay": [median_range(dec.train_loss[:, e], 3) for e in shown],
         "decay / constant": [median_range(ratio[:, e], 2) for e in shown],
         "decay lower": [f"{int((ratio[:, e] < 1).sum())} of {n}" for e in shown]},
        index=[names.get(e, str(e)) for e in shown], index_name="loss after epoch")
    va_c, va_d = const.val_acc[:, -1], dec.val_acc[:, -1]
    higher, ties = int((va_d > va_c).sum()), int((va_d == va_c).sum())
    return (f"{_seed_span(const.seeds)}, median [min, max] over the seeds\n{table}\n"
            f"final validation accuracy: constant lr {median_range(va_c, 3, True)}, "
            f"step decay {median_range(va_d, 3, True)}; step decay higher in {higher} of {n} "
            f"seeds" + (f" ({ties} tied)" if ties else ""))


def warmup_table(runs: dict) -> str:
    """The printed summary of :func:`warmup_runs`, median [min, max] over the seeds.

    Per run: the largest minibatch loss and the steps where it happened (min-max), the final
    validation accuracy; then the loss of step 1, how many seeds climb back above it after the
    warm-up ends, and in how many the warm-up ends with the higher accuracy.
    """
    from course_utils.tables import format_table

    summary, names = runs["summary"], ["no warm-up", "warm-up"]
    n = len(runs["warm-up"].seeds)
    table = format_table(
        {"largest minibatch loss": [median_range(summary[k]["largest"], 1) for k in names],
         "at steps": [f"{summary[k]['at_step'].min()}-{summary[k]['at_step'].max()}"
                      for k in names],
         "final val accuracy": [median_range(summary[k]["final_val_acc"], 2, True)
                                for k in names]},
        index=names, index_name="Adam")
    warm = summary["warm-up"]
    back = warm["back_above_at"][warm["back_above_at"] > 0]
    better = summary["warm-up"]["final_val_acc"] > summary["no warm-up"]["final_val_acc"]
    return (f"{_seed_span(runs['warm-up'].seeds)}, median [min, max] over the seeds\n{table}\n"
            f"loss of step 1 (both runs): {median_range(warm['initial'], 2)}\n"
            f"with warm-up (steps 1-{runs['warmup_steps']}), the loss climbs back above its step-1 "
            f"value after the warm-up in {len(back)} of {n} seeds"
            + (f" (at step{'s' if len(back) > 1 else ''} {', '.join(map(str, sorted(back)))})"
               if len(back) else "")
            + "\n"
            f"warm-up ends with the higher validation accuracy in {int(better.sum())} of {n} seeds")


def first_adam_step(lr: float = 0.2, depth: int = 2, width: int = 32, batch_size: int = 64,
                    seed: int = 0, data=None) -> list:
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

    data = _digits() if data is None else data
    lr = _base_lr(lr)
    batch_size = _int("batch_size", batch_size, 1, len(data.x_train))
    model = training.build_mlp(data.x_train.shape[1], 10, depth=depth, width=width, seed=seed)
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    sizes = [data.x_train.shape[1]] + [width] * depth + [10]
    with torch.no_grad():
        for m, (w, b) in zip(linears, kaiming_weights([seed], sizes)):
            m.weight.copy_(torch.as_tensor(w[0].T))
            m.bias.copy_(torch.as_tensor(b[0]))
    before = [m.weight.detach().clone() for m in linears]
    opt = training.make_optimizer("adam", model.parameters(), lr)
    x = torch.as_tensor(data.x_train[:batch_size], dtype=torch.float32)
    y = torch.as_tensor(data.y_train[:batch_size], dtype=torch.int64)
    with _one_thread():
        F.cross_entropy(model(x), y).backward()
        opt.step()
    rows = []
    for i, (m, w0) in enumerate(zip(linears, before), start=1):
        change = (m.weight.detach() - w0).abs()
        rows.append({"layer": i, "weights": int(w0.numel()),
                     "rms": float(w0.pow(2).mean().sqrt()),
                     "moved_by_lr": float((change - lr).abs().le(0.01 * lr).double().mean()),
                     "unchanged": float(change.eq(0).double().mean()),
                     "max_change": float(change.max())})
    return rows
