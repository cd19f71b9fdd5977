"""Chapter 06's exercise: linear warm-up then cosine decay."""

from __future__ import annotations

from typing import Callable

__all__ = ["WARMUP_COSINE_CASES", "WARMUP_COSINE_TOL", "check_warmup_cosine"]

#: Chapter 06's exercise: the settings the visible check tries (defaults, a short warm-up,
#: eta_min with a run past t_max, a run that ends inside the warm-up) and its tolerance.
WARMUP_COSINE_CASES = (
    dict(base_lr=0.1, steps=100, warmup_steps=10, t_max=90),
    dict(base_lr=1.0, steps=50, warmup_steps=5, t_max=45, start_factor=0.1),
    dict(base_lr=0.5, steps=60, warmup_steps=20, t_max=30, start_factor=0.25, eta_min=0.05),
    dict(base_lr=0.3, steps=8, warmup_steps=12, t_max=10),
)
WARMUP_COSINE_TOL = 1e-12


def check_warmup_cosine(warmup_cosine: Callable) -> None:
    """Chapter 06's exercise: linear warm-up followed by cosine annealing, as an array.

    Each case must return a float64 NumPy array of shape ``(steps,)`` equal to
    :func:`course_utils.schedules.warmup_cosine` (itself equal to torch's
    ``SequentialLR([LinearLR, CosineAnnealingLR])``) within :data:`WARMUP_COSINE_TOL`
    (absolute); the message names the first wrong step and the phase it is in.
    """
    import numpy as np

    from course_utils import schedules as _schedules

    if not callable(warmup_cosine):
        raise TypeError(f"warmup_cosine must be a function; got {type(warmup_cosine).__name__}")
    for case in WARMUP_COSINE_CASES:
        call = "warmup_cosine(" + ", ".join(f"{k}={v:g}" for k, v in case.items()) + ")"
        want = _schedules.warmup_cosine(**case)
        got = warmup_cosine(**case)
        problem = hint = None
        if not isinstance(got, np.ndarray):
            problem = f"returned a {type(got).__name__}, expected a NumPy array"
        elif got.shape != want.shape:
            problem = f"returned shape {got.shape}, expected ({case['steps']},)"
            hint = "One learning rate per step, steps in all, even when steps < warmup_steps."
        elif got.dtype != np.float64:
            problem = f"returned dtype {got.dtype}, expected float64"
        elif not np.allclose(got, want, rtol=0, atol=WARMUP_COSINE_TOL):
            t = int(np.flatnonzero(~np.isclose(got, want, rtol=0, atol=WARMUP_COSINE_TOL))[0])
            w = case["warmup_steps"]
            problem = f"lr[{t}] = {got[t]!r}, expected {want[t]!r}"
            hint = (f"Step {t} is in the warm-up (t < warmup_steps = {w}): "
                    "lr[t] = base_lr * (f + (1 - f) * t / warmup_steps), f = start_factor, "
                    "so lr[0] = start_factor * base_lr." if t < w else
                    f"Step {t} is in the cosine phase (t >= warmup_steps = {w}): it counts "
                    "from the end of the warm-up, lr[t] = eta_min + (base_lr - eta_min) * "
                    "(1 + cos(pi * (t - warmup_steps) / t_max)) / 2, so lr[warmup_steps] = "
                    "base_lr.")
        if problem:
            print(f"WRONG {call}: {problem}")
            raise AssertionError(f"{call} {problem}." + (f" {hint}" if hint else ""))
        print(f"ok  {call}: lr[0] = {want[0]:.4g}, max {want.max():.4g}, "
              f"lr[-1] = {want[-1]:.4g}")
    print(f"All visible checks passed (absolute tolerance {WARMUP_COSINE_TOL:g}).")


