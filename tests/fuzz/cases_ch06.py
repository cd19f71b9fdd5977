"""Valid example calls of chapter 06's public callables, varied one argument at a time by
tests/test_fuzz.py."""

import numpy as np
import torch
from matplotlib.figure import Figure

from course_utils import schedules as S
from course_utils import schedules_beyond as B
from course_utils.chapters.ch06_schedules import (
    checks,
    explorer,
    figures,
    lean_optim,
    parity,
    runs,
    runs_rates,
    runs_warmup,
    seed_runs,
)
from course_utils.data import load_digits

MODULES = [
    "course_utils.schedules",
    "course_utils.schedules_beyond",
    "course_utils.chapters.ch06_schedules.parity",
    "course_utils.chapters.ch06_schedules.runs",
    "course_utils.chapters.ch06_schedules.runs_rates",
    "course_utils.chapters.ch06_schedules.runs_warmup",
    "course_utils.chapters.ch06_schedules.seed_runs",
    "course_utils.chapters.ch06_schedules.lean_optim",
    "course_utils.chapters.ch06_schedules.figures",
    "course_utils.chapters.ch06_schedules.explorer",
    "course_utils.chapters.ch06_schedules.checks",
]

_DIGITS = load_digits()
_DECAY = runs.decay_runs(
    lr=0.1,
    epochs=2,
    milestones=(1,),
    gamma=0.1,
    batch_size=256,
    weight_decay=1e-3,
    width=8,
    seeds=[0, 1],
    data=_DIGITS,
)
_RM = runs_rates.robbins_monro(lr=0.1, steps=200, gamma=0.95, decay_steps=10)
_RANGE = runs_rates.range_test(
    start_lr=1e-3, end_lr=1.0, epochs=1, batch_size=128, smooth=2, seeds=[0], data=_DIGITS
)
_SCALING = runs_rates.scaling_runs(
    lr=0.1, high_lr=0.5, k=4, batch_size=128, epochs=2, warmup_epochs=1, seeds=[0], data=_DIGITS
)
_WARM = runs_warmup.warmup_runs(
    lr=0.2,
    epochs=2,
    warmup_epochs=1,
    start_factor=0.01,
    batch_size=256,
    depth=1,
    width=8,
    seeds=[0, 1],
    data=_DIGITS,
)


def _warmup_cosine(base_lr, steps, warmup_steps, t_max, start_factor=1 / 3, eta_min=0.0):
    t = np.arange(steps, dtype=np.float64)
    warm = base_lr * (start_factor + (1.0 - start_factor) * t / warmup_steps)
    cos = eta_min + (base_lr - eta_min) * (1.0 + np.cos(np.pi * (t - warmup_steps) / t_max)) / 2
    return np.where(t < warmup_steps, warm, cos)


CASES = [
    # the lesson
    (S.check_count, dict(name="t_0", value=10, low=1, high=100)),
    (
        S.check_number,
        dict(name="eta_min", value=0.01, low=0.0, high=0.1, low_open=False, what=" (0 to base_lr)"),
    ),
    (S.check_steps, dict(steps=100)),
    (S.check_base_lr, dict(base_lr=0.1)),
    (S.check_milestones, dict(milestones=[50, 75])),
    (S.constant, dict(base_lr=0.1, steps=100)),
    (S.step_decay, dict(base_lr=0.1, steps=100, step_size=30, gamma=0.1)),
    (S.multistep, dict(base_lr=0.1, steps=100, milestones=[50, 75], gamma=0.1)),
    (S.exponential, dict(base_lr=0.1, steps=100, gamma=0.99)),
    (S.cosine, dict(base_lr=0.1, steps=100, t_max=100, eta_min=0.0)),
    (S.linear_warmup, dict(base_lr=0.1, steps=100, warmup_steps=10, start_factor=0.1)),
    (
        S.warmup_cosine,
        dict(base_lr=0.1, steps=100, warmup_steps=10, t_max=90, start_factor=0.1, eta_min=0.0),
    ),
    (
        S.warmup_step,
        dict(base_lr=0.1, steps=100, warmup_steps=10, step_size=30, gamma=0.1, start_factor=0.1),
    ),
    (
        S.explorer_schedule,
        dict(
            schedule="step",
            base_lr=0.1,
            steps=100,
            warmup_steps=10,
            decay_steps=30,
            gamma=0.1,
            start_factor=0.1,
        ),
    ),
    (S.drop_steps, dict(lr=S.step_decay(0.1, 100, 30))),
    # beyond the lecture
    (B.inverse_time, dict(base_lr=0.1, steps=100, decay_steps=10)),
    (B.inverse_sqrt, dict(base_lr=0.1, steps=100, warmup_steps=10)),
    (B.cosine_restarts, dict(base_lr=0.1, steps=100, t_0=10, t_mult=2, eta_min=0.0)),
    (
        B.one_cycle,
        dict(base_lr=0.1, steps=100, pct_start=0.3, div_factor=25.0, final_div_factor=1e4),
    ),
    (B.cyclic, dict(base_lr=0.01, steps=100, max_lr=0.1, step_size_up=10)),
    (B.lr_range, dict(start_lr=1e-4, end_lr=10.0, steps=100)),
    # parity
    (parity.torch_schedule, dict(name="cosine", base_lr=0.1, steps=50, t_max=50)),
    # runs
    (runs.stationary_loss, dict(lr=0.1, curvature=1.0, noise=1.0)),
    (runs.settle_steps, dict(eta_before=1.0, eta_after=0.1, curvature=1.0, noise=1.0, within=0.1)),
    (runs.steps_within, dict(loss=np.linspace(1.0, 0.01, 100), start=10, level=0.5)),
    (
        runs.noisy_quadratic,
        dict(lr=S.step_decay(1.0, 100, 30), curvature=1.0, noise=1.0, w0=3.0, walkers=100, seed=0),
    ),
    (runs.expected_loss, dict(lr=S.step_decay(1.0, 100, 30), curvature=1.0, noise=1.0, w0=3.0)),
    (runs.inverse_time_limit, dict(a=10.0, t=100.0, curvature=1.0, noise=1.0)),
    (runs.median_range, dict(values=np.array([0.1, 0.2, 0.3]), digits=2, percent=False)),
    (
        runs.decay_runs,
        dict(
            lr=0.1,
            epochs=2,
            milestones=(1,),
            gamma=0.1,
            batch_size=256,
            weight_decay=1e-3,
            width=8,
            seeds=[0, 1],
            data=_DIGITS,
        ),
    ),
    (
        runs_warmup.warmup_runs,
        dict(
            lr=0.2,
            epochs=2,
            warmup_epochs=1,
            start_factor=0.01,
            batch_size=256,
            depth=1,
            width=8,
            seeds=[0, 1],
            data=_DIGITS,
        ),
    ),
    (runs.decay_table, dict(runs=_DECAY)),
    (runs.seed_span, dict(seeds=[0, 1, 2])),
    (runs.check_runs, dict(runs=_DECAY, keys=("constant", "decay"), maker="decay_runs")),
    (runs_warmup.warmup_table, dict(runs=_WARM)),
    (
        runs_warmup.first_adam_step,
        dict(lr=0.2, depth=1, width=8, batch_size=64, seed=0, data=_DIGITS),
    ),
    (runs_warmup.step_over_rms, dict(rows=[{"rms": 0.2}, {"rms": 0.25}], lr=0.001)),
    # runs_rates
    (runs_rates.robbins_monro, dict(lr=0.1, steps=200, gamma=0.95, decay_steps=10)),
    (runs_rates.robbins_monro_table, dict(result=_RM, at=(10, 100))),
    (
        runs_rates.range_test,
        dict(
            start_lr=1e-3,
            end_lr=1.0,
            epochs=1,
            batch_size=128,
            smooth=2,
            seeds=[0],
            data=_DIGITS,
        ),
    ),
    (runs_rates.range_table, dict(result=_RANGE)),
    (
        runs_rates.scaling_runs,
        dict(
            lr=0.1,
            high_lr=0.5,
            k=4,
            batch_size=128,
            epochs=2,
            warmup_epochs=1,
            seeds=[0],
            data=_DIGITS,
        ),
    ),
    (runs_rates.scaling_table, dict(result=_SCALING)),
    # seed runs
    (seed_runs.check_seeds, dict(seeds=[0, 1])),
    (seed_runs.kaiming_weights, dict(seeds=[0, 1], sizes=[4, 3, 2])),
    (
        seed_runs.train_seeds,
        dict(
            data=_DIGITS,
            lr_schedules={"c": S.constant(0.1, 6)},
            optimizer="momentum",
            seeds=[0],
            depth=1,
            width=8,
            batch_size=256,
            epochs=1,
            weight_decay=0.0,
            init=None,
            every_epoch=True,
        ),
    ),
    # lean optimiser
    (
        lean_optim.SeedOptimizer,
        dict(params=[torch.zeros(3, requires_grad=True)], kind="adam", lr=0.1, weight_decay=0.0),
    ),
    # figures
    (figures.ScheduleView, dict(figure=Figure(), steps=100, animated=False)),
    # explorer
    (
        explorer.ScheduleExplorer,
        dict(
            schedule="step",
            base_lr=0.1,
            warmup_steps=0,
            decay_steps=30,
            gamma=0.1,
            steps=100,
            start_factor=0.1,
            figsize=(8.0, 3.0),
            dpi=72,
        ),
    ),
    (explorer.schedule_explorer, dict(schedule="cosine", base_lr=0.1)),
    # checks
    (checks.check_warmup_cosine, dict(warmup_cosine=_warmup_cosine)),
]
EXEMPT = {}
