"""Chapter 06's exercise: linear warm-up then cosine decay.

The check computes the expected schedule with the course's reference (outside), runs the
student's function inside :func:`course_utils.references.hidden` (an answer that calls a
reference fails with :class:`~course_utils.references.ReferenceUnavailable`), and on a wrong
schedule compares it with what each usual mistake gives, to say which one it looks like.
"""

from __future__ import annotations

from typing import Callable

from course_utils.checking import call_answer
from course_utils.references import reference_answer

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

_HINTS = {
    "warm-up from 0": "The warm-up starts at start_factor * base_lr, not at 0: "
    "lr[t] = base_lr * (f + (1 - f) * t / warmup_steps), f = start_factor.",
    "no warm-up": "start_factor is ignored: the warm-up rises from start_factor * base_lr to "
    "base_lr, lr[t] = base_lr * (f + (1 - f) * t / warmup_steps).",
    "default start_factor": "start_factor is ignored (1/3 is only its default): use the "
    "argument, lr[0] = start_factor * base_lr.",
    "warm-up divides by W - 1": "Off by one in the warm-up: it reaches base_lr at t = "
    "warmup_steps (where the cosine starts), so divide t by "
    "warmup_steps, not warmup_steps - 1.",
    "warm-up divides by W + 1": "Off by one in the warm-up: divide t by warmup_steps, not "
    "warmup_steps + 1 (lr[warmup_steps] = base_lr).",
    "t from 1": "lr[t] is the rate of step t + 1: t counts from 0, so lr[0] = start_factor * "
    "base_lr (np.arange(steps), not np.arange(1, steps + 1)).",
    "cosine not shifted": "The cosine starts at t = 0 instead of after the warm-up: its clock "
    "starts at warmup_steps, cos(pi * (t - warmup_steps) / t_max).",
    "cosine shifted by W - 1": "Off by one in the cosine: it starts at t = warmup_steps, "
    "cos(pi * (t - warmup_steps) / t_max), so lr[warmup_steps] = "
    "base_lr.",
    "cosine shifted by W + 1": "Off by one in the cosine: cos(pi * (t - warmup_steps) / t_max), "
    "so lr[warmup_steps] = base_lr (not lr[warmup_steps + 1]).",
    "cosine over steps - W": "The cosine's length is t_max (an argument), not steps - "
    "warmup_steps; past t_max it climbs back, as torch's does.",
    "eta_min ignored": "eta_min is ignored: the cosine goes from base_lr down to eta_min, "
    "eta_min + (base_lr - eta_min) * (1 + cos(...)) / 2.",
    "eta_min added on top": "eta_min is added on top of the full cosine: scale the cosine by "
    "(base_lr - eta_min), eta_min + (base_lr - eta_min) * (1 + cos(...)) "
    "/ 2, so it starts at base_lr.",
    "cosine rising": "The cosine goes down from base_lr: (1 + cos(...)) / 2, not (1 - cos(...)) "
    "/ 2.",
}


@reference_answer("warmup_cosine")  # the variants' pieces would add up to the answer
def _variants(base_lr, steps, warmup_steps, t_max, start_factor=1 / 3, eta_min=0.0) -> dict:
    """What each usual wrong answer returns for this case (never the right answer)."""
    import numpy as np

    def pieces(
        f=start_factor,
        den=warmup_steps,
        t0=0,
        shift=warmup_steps,
        length=t_max,
        low=eta_min,
        top=base_lr - eta_min,
        sign=1.0,
    ):
        t = np.arange(t0, steps + t0, dtype=np.float64)
        warm = base_lr * (f + (1.0 - f) * t / den)
        cos = low + top * (1.0 + sign * np.cos(np.pi * (t - shift) / length)) / 2.0
        return np.where(t < warmup_steps, warm, cos)

    w = warmup_steps
    out = {
        "warm-up from 0": pieces(f=0.0),
        "no warm-up": pieces(f=1.0),
        "default start_factor": pieces(f=1 / 3),
    }
    if w > 1:
        out["warm-up divides by W - 1"] = pieces(den=w - 1)
    out["warm-up divides by W + 1"] = pieces(den=w + 1)
    out["t from 1"] = pieces(t0=1)
    out["cosine not shifted"] = pieces(shift=0)
    out["cosine shifted by W - 1"] = pieces(shift=w - 1)
    out["cosine shifted by W + 1"] = pieces(shift=w + 1)
    if steps > w:
        out["cosine over steps - W"] = pieces(length=steps - w)
    out["eta_min ignored"] = pieces(low=0.0, top=base_lr)
    out["eta_min added on top"] = pieces(top=base_lr)
    out["cosine rising"] = pieces(sign=-1.0)
    return out


def check_warmup_cosine(warmup_cosine: Callable) -> None:
    """Chapter 06's exercise: linear warm-up followed by cosine annealing, as an array.

    Each case must return a float64 NumPy array of shape ``(steps,)`` equal to
    :func:`course_utils.schedules.warmup_cosine` (itself equal to torch's
    ``SequentialLR([LinearLR, CosineAnnealingLR])``) within :data:`WARMUP_COSINE_TOL`
    (absolute). The student's function runs with the references hidden; a wrong schedule is
    compared with each usual mistake (off-by-one warm-up, cosine not restarted after the
    warm-up, ``eta_min`` or ``start_factor`` ignored, ...) and the message names the one it
    matches, else the first wrong step and the phase it is in.
    """
    import numpy as np

    from course_utils import schedules as _schedules

    if not callable(warmup_cosine):
        raise TypeError(f"warmup_cosine must be a function; got {type(warmup_cosine).__name__}")
    for case in WARMUP_COSINE_CASES:
        call = "warmup_cosine(" + ", ".join(f"{k}={v:g}" for k, v in case.items()) + ")"
        want = _schedules.warmup_cosine(**case)
        got = call_answer("warmup_cosine", call, warmup_cosine, **case)
        problem = hint = None
        if not isinstance(got, np.ndarray):
            problem = f"returned a {type(got).__name__}, expected a NumPy array"
            hint = "Return np.ndarray of float64 (e.g. from np.arange and np.where)."
        elif got.shape != want.shape:
            problem = f"returned shape {got.shape}, expected ({case['steps']},)"
            hint = "One learning rate per step, steps in all, even when steps < warmup_steps."
        elif got.dtype != np.float64:
            problem = f"returned dtype {got.dtype}, expected float64"
            hint = "Compute in float64 (np.arange(steps, dtype=np.float64))."
        else:
            with np.errstate(all="ignore"):
                bad = ~np.isclose(got, want, rtol=0, atol=WARMUP_COSINE_TOL)
            if bad.any():
                t = int(np.flatnonzero(bad)[0])
                w = case["warmup_steps"]
                problem = f"lr[{t}] = {float(got[t])!r}, expected {float(want[t])!r}"
                phase = (
                    f"Step {t} is in the warm-up (t < warmup_steps = {w})."
                    if t < w
                    else f"Step {t} is in the cosine phase (t >= warmup_steps = {w})."
                )
                with np.errstate(all="ignore"):
                    matched = [
                        name
                        for name, lr in _variants(**case).items()
                        if np.allclose(got, lr, rtol=0, atol=WARMUP_COSINE_TOL, equal_nan=True)
                    ]
                f_got = float(got[0]) / case["base_lr"] if case["steps"] else 0.0
                if matched:
                    hint = f"{phase} {_HINTS[matched[0]]}"
                elif (
                    "start_factor" not in case
                    and 0 < f_got <= 1
                    and np.allclose(
                        got,
                        _schedules.warmup_cosine(**case, start_factor=f_got),
                        rtol=0,
                        atol=WARMUP_COSINE_TOL,
                    )
                ):
                    hint = (
                        f"{phase} This case leaves start_factor at its default, and your "
                        f"default looks like {f_got:.4g}: it is 1/3, as torch's LinearLR."
                    )
                elif t < w:
                    hint = (
                        f"{phase} lr[t] = base_lr * (f + (1 - f) * t / warmup_steps), "
                        "f = start_factor, so lr[0] = start_factor * base_lr."
                    )
                else:
                    hint = (
                        f"{phase} It counts from the end of the warm-up, lr[t] = eta_min + "
                        "(base_lr - eta_min) * (1 + cos(pi * (t - warmup_steps) / t_max)) "
                        "/ 2, so lr[warmup_steps] = base_lr."
                    )
        if problem:
            print(f"WRONG {call}: {problem}")
            raise AssertionError(f"{call} {problem}." + (f" {hint}" if hint else ""))
        print(f"ok  {call}: lr[0] = {want[0]:.4g}, max {want.max():.4g}, lr[-1] = {want[-1]:.4g}")
    print(f"All visible checks passed (absolute tolerance {WARMUP_COSINE_TOL:g}).")
