"""Chapter 06: the lesson's schedules next to ``torch.optim.lr_scheduler``'s, step by step.

:func:`torch_schedule` builds the torch scheduler of one schedule of
:mod:`course_utils.schedules` or :mod:`course_utils.schedules_beyond` (``StepLR``,
``CosineAnnealingLR``, ``SequentialLR`` of a warm-up and a decay, ``OneCycleLR``, ...) on an
optimiser that holds only the rate, steps it once per step and returns the rates it set: the
oracle of the tests and of the notebook's parity table (the closed forms agree with it within
1e-12; step and multi-step decay bit for bit). Torch is imported on the first call only, and
no ``torch.optim`` optimiser is built (the first one imports ``torch._dynamo``, about 1.7 s).
"""

from __future__ import annotations

import math

import numpy as np

from course_utils.references import reference_answer
from course_utils.schedules import check_steps

__all__ = ["torch_schedule"]


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

    steps = check_steps(steps)
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
