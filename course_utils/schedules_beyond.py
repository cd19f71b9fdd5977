"""Learning-rate schedules beyond the lecture (chapter 06): 1/t, SGDR, one-cycle, cyclical.

The schedules the chapter shows after the lecture's (:mod:`course_utils.schedules`), with the
same contract: each returns ``lr`` of shape ``(steps,)``, float64, ``lr[t]`` the rate of
optimisation step ``t + 1``, the sequence of the torch scheduler named in its docstring stepped
once per step (:func:`course_utils.chapters.ch06_schedules.parity.torch_schedule` gives
torch's). Here: :func:`inverse_time` (Robbins & Monro's 1/t decay), :func:`inverse_sqrt` (the
Transformer's warm-up then ``1/sqrt(n)``), :func:`cosine_restarts` (SGDR's warm restarts),
:func:`one_cycle` (Smith & Topin's one-cycle policy), :func:`cyclic` (Smith's triangular
cyclical rates) and :func:`lr_range` (the rates of an LR range test). Their arguments are
checked with :mod:`course_utils.schedules`' checks; lengths are at most its
``MAX_SCHEDULE_STEPS``.
"""

from __future__ import annotations

import numpy as np

from course_utils.schedules import (
    MAX_SCHEDULE_STEPS,
    check_base_lr,
    check_count,
    check_number,
    check_steps,
)
from course_utils.training import MAX_LR

__all__ = [
    "inverse_time",
    "inverse_sqrt",
    "cosine_restarts",
    "one_cycle",
    "cyclic",
    "lr_range",
]


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
    base_lr, steps = check_base_lr(base_lr), check_steps(steps)
    tau = check_count("decay_steps", decay_steps, 1)
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
    base_lr, steps = check_base_lr(base_lr), check_steps(steps)
    w = check_count("warmup_steps", warmup_steps, 1)
    n = np.arange(1, steps + 1, dtype=np.float64)
    return base_lr * np.minimum(n / w, np.sqrt(w / n))


def cosine_restarts(
    base_lr: float, steps: int, t_0: int, t_mult: int = 1, eta_min: float = 0.0
) -> np.ndarray:
    """SGDR (Loshchilov & Hutter, ICLR 2017): cosine annealing with warm restarts.

    The rate follows :func:`~course_utils.schedules.cosine` over a period of ``T_i`` steps, then jumps back to
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
    base_lr, steps = check_base_lr(base_lr), check_steps(steps)
    t_0 = check_count("t_0", t_0, 1)
    t_mult = check_count("t_mult", t_mult, 1, 10)
    eta_min = check_number("eta_min", eta_min, 0.0, base_lr, low_open=False, what=" (0 to base_lr)")
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
    base_lr = check_base_lr(base_lr)
    steps = check_count("steps", steps, 2, MAX_SCHEDULE_STEPS)
    pct_start = check_number("pct_start", pct_start, 0.0, 1.0)
    div_factor = check_number("div_factor", div_factor, 1.0, 1e12, low_open=False)
    final_div_factor = check_number("final_div_factor", final_div_factor, 1.0, 1e12, low_open=False)
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
    base_lr, steps = check_base_lr(base_lr), check_steps(steps)
    max_lr = check_number(
        "max_lr", max_lr, base_lr, MAX_LR, low_open=False, what=" (base_lr to MAX_LR)"
    )
    up = check_count("step_size_up", step_size_up, 1)
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
    start_lr = check_number("start_lr", start_lr, 0.0, MAX_LR)
    end_lr = check_number("end_lr", end_lr, start_lr, MAX_LR, what=" (above start_lr)")
    steps = check_count("steps", steps, 2, MAX_SCHEDULE_STEPS)
    return start_lr * (end_lr / start_lr) ** (np.arange(steps, dtype=np.float64) / (steps - 1))
