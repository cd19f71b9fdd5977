"""Momentum SGD and Adam with ``torch.optim``'s arithmetic, without building a torch optimiser.

The first ``torch.optim`` optimiser a process builds imports ``torch._dynamo`` (about 1.7 s of
the notebook's run on a quiet 2-core machine). :class:`SeedOptimizer` does the operations of
``torch.optim.SGD(momentum=0.9, foreach=True)`` and ``torch.optim.Adam(foreach=True)`` on CPU,
in the same order, so its steps equal torch's bit for bit (``tests/chapters/ch06_schedules``
checks it, with weight decay, a rate changed every step and a parameter group added mid-run).
It offers what :func:`~course_utils.chapters.ch06_schedules.seed_runs.train_seeds` uses:
``param_groups`` (``"lr"`` may change between steps), ``add_param_group``, ``state`` (per
parameter, torch's keys) and ``zero_grad``/``step``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from itertools import islice

from course_utils.training import MAX_LR
from course_utils.validation import MAX_ITEMS, check_real, check_sequence

__all__ = ["LEAN_OPTIMIZERS", "SeedOptimizer"]

#: The optimisers :class:`SeedOptimizer` implements.
LEAN_OPTIMIZERS = ("momentum", "adam")


class SeedOptimizer:
    r"""SGD with momentum 0.9 or Adam, step for step as ``torch.optim``'s CPU ``foreach`` path.

    With ``g = grad + weight_decay * w`` (L2 added to the gradient, torch's ``weight_decay``):

    - ``"momentum"``: :math:`v \leftarrow 0.9 v + g` (:math:`v = g` at the first step),
      :math:`w \leftarrow w - \eta v` (``torch.optim.SGD(momentum=0.9)``);
    - ``"adam"`` (Kingma & Ba, ICLR 2015; :math:`\beta_1, \beta_2, \epsilon = 0.9, 0.999,
      10^{-8}`): :math:`m \leftarrow m + (1 - \beta_1)(g - m)`,
      :math:`v \leftarrow \beta_2 v + (1 - \beta_2) g^2`,
      :math:`w \leftarrow w - \frac{\eta}{1 - \beta_1^t}\,
      \frac{m}{\sqrt{v} / \sqrt{1 - \beta_2^t} + \epsilon}` (``torch.optim.Adam``).

    Parameters
    ----------
    params : iterable of torch.Tensor
        The first parameter group (rate ``lr``).
    kind : str
        One of :data:`LEAN_OPTIMIZERS`.
    lr : float
        >= 0; each group's ``"lr"`` may be changed between steps, to a float or to a 1-D
        float64 array with one rate per network (``n`` networks stacked along every
        parameter's first axis, as :func:`train_seeds` stacks them): the steps are those of
        ``n`` separate torch optimisers, bit for bit.
    weight_decay : float
        >= 0.
    """

    def __init__(self, params, kind: str = "momentum", lr: float = 1.0, weight_decay: float = 0.0):
        if kind not in LEAN_OPTIMIZERS:
            raise ValueError(f"kind must be one of {LEAN_OPTIMIZERS}; got {kind!r}")
        self.kind = kind
        self.weight_decay = check_real("weight_decay", weight_decay, 0.0)
        self.param_groups: list = []
        self.state: dict = defaultdict(dict)  # as torch's: a new parameter has no state yet
        self.add_param_group({"params": params, "lr": check_real("lr", lr, 0.0, MAX_LR)})

    def add_param_group(self, group: dict) -> None:
        """Add ``{"params": [...], "lr": ...}`` (``lr`` defaults to the first group's)."""
        import torch

        if not isinstance(group, dict) or "params" not in group:
            raise ValueError(f"group must be a dict with 'params'; got {type(group).__name__}")
        params = group["params"]
        if isinstance(params, torch.Tensor):
            params = [params]
        elif isinstance(params, Iterator):  # e.g. model.parameters(): read at most one too many
            params = list(islice(params, MAX_ITEMS + 1))
        if isinstance(params, list | tuple) and not params:
            raise ValueError("params is empty: nothing to optimise")

        def tensor(name, p):
            if not isinstance(p, torch.Tensor):
                raise TypeError(f"{name} must be a torch tensor; got {type(p).__name__}")
            return p

        params = check_sequence("params", params, item=tensor)
        lr = group.get("lr", self.param_groups[0]["lr"] if self.param_groups else 1.0)
        self.param_groups.append({"params": params, "lr": lr})

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.zero_()

    def step(self) -> None:
        import torch

        with torch.no_grad():
            for group in self.param_groups:
                params = [p for p in group["params"] if p.grad is not None]
                if not params:
                    continue
                grads = [p.grad for p in params]
                if self.weight_decay != 0:
                    grads = torch._foreach_add(grads, params, alpha=self.weight_decay)
                if self.kind == "momentum":
                    self._momentum(params, grads, group["lr"])
                else:
                    self._adam(params, grads, group["lr"])

    def _momentum(self, params, grads, lr) -> None:
        import numpy as np
        import torch

        bufs = []
        for p, g in zip(params, grads):
            state = self.state[p]
            if state.get("momentum_buffer") is None:
                state["momentum_buffer"] = g.detach().clone()
            else:
                state["momentum_buffer"].mul_(0.9).add_(g, alpha=1)
            bufs.append(state["momentum_buffer"])
        if np.ndim(lr) == 0:
            torch._foreach_add_(params, bufs, alpha=-lr)
            return
        # one rate per network: w + (-lr_i) v_i, the same fused multiply-add as add(alpha=-lr)
        neg = torch.from_numpy(-np.asarray(lr, dtype=np.float64))
        for p, buf in zip(params, bufs):
            p.addcmul_(buf, neg.view(-1, *[1] * (p.dim() - 1)))

    def _adam(self, params, grads, lr) -> None:
        import numpy as np
        import torch

        beta1, beta2, eps = 0.9, 0.999, 1e-8
        for p in params:
            if "step" not in self.state[p]:
                self.state[p] = {
                    "step": torch.tensor(0.0),
                    "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                    "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
                }
        states = [self.state[p] for p in params]
        steps = [s["step"] for s in states]
        exp_avgs = [s["exp_avg"] for s in states]
        exp_avg_sqs = [s["exp_avg_sq"] for s in states]
        torch._foreach_add_(steps, torch.tensor(1.0), alpha=1.0)
        torch._foreach_lerp_(exp_avgs, grads, 1 - beta1)
        torch._foreach_mul_(exp_avg_sqs, beta2)
        torch._foreach_addcmul_(exp_avg_sqs, grads, grads, 1 - beta2)
        bias_correction1 = [1 - beta1 ** s.item() for s in steps]
        bias_correction2 = [1 - beta2 ** s.item() for s in steps]
        bias_correction2_sqrt = [bc**0.5 for bc in bias_correction2]
        denom = torch._foreach_sqrt(exp_avg_sqs)
        torch._foreach_div_(denom, bias_correction2_sqrt)
        torch._foreach_add_(denom, eps)
        if np.ndim(lr) == 0:
            step_size = [(lr / bc) * -1 for bc in bias_correction1]
            torch._foreach_addcdiv_(params, exp_avgs, denom, step_size)
            return
        # one rate per network: addcdiv with a scalar on each run of networks sharing a rate
        rates = np.asarray(lr, dtype=np.float64)
        edges = [0, *(np.flatnonzero(rates[1:] != rates[:-1]) + 1).tolist(), len(rates)]
        for p, m, d, bc in zip(params, exp_avgs, denom, bias_correction1):
            for a, b in zip(edges[:-1], edges[1:]):
                p[a:b].addcdiv_(m[a:b], d[a:b], value=(float(rates[a]) / bc) * -1)
