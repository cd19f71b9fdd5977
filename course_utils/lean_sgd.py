"""SGD with ``torch.optim.SGD``'s arithmetic, without the cost of importing ``torch.optim``.

- :class:`LeanSGD`: plain or momentum SGD, the same steps as ``torch.optim.SGD`` bit for bit;
- :func:`lean_optimizer`: what :func:`course_utils.training.train` takes as ``optimizer``,
  a :class:`LeanSGD` builder for ``"sgd"`` and ``"momentum"``, the name for any other.

The first ``torch.optim`` optimiser a process builds imports ``torch._dynamo`` (about 2 s of a
notebook's run); chapters 08 and 09 train their single runs with this class instead.
"""

from __future__ import annotations

from course_utils.references import reference_answer
from course_utils.validation import check_real

__all__ = ["LeanSGD", "lean_optimizer"]


class LeanSGD:
    r"""SGD, plain or with momentum, with ``torch.optim.SGD``'s arithmetic, without torch.optim.

    The first ``torch.optim`` optimiser a process builds imports ``torch._dynamo`` (about 2 s
    of a notebook's run). This class does the same operations in the same order as
    ``torch.optim.SGD``'s single-tensor CPU path (L2 weight decay too; no dampening or Nesterov), so
    its steps equal torch's bit for bit (a unit test checks it):

    .. math:: g \leftarrow g + \lambda w, \qquad v \leftarrow \mu v + g \ (v = g \text{ at the first step}), \qquad
              w \leftarrow w - \eta v

    It offers what :func:`course_utils.training.train` uses: ``param_groups`` (``"lr"`` may
    be changed between steps), ``zero_grad`` and ``step``.

    Parameters
    ----------
    params : iterable of torch.Tensor
    lr : float
        > 0.
    momentum : float
        In [0, 1); 0 is plain SGD.
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, weight_decay: float = 0.0):
        lr = check_real("lr", lr, 0.0, low_open=True)
        momentum = check_real("momentum", momentum, 0.0, 1.0, high_open=True)
        weight_decay = check_real("weight_decay", weight_decay, 0.0)
        params = list(params)
        if not params:
            raise ValueError("params is empty: nothing to optimise")
        self.param_groups = [
            {"params": params, "lr": lr, "momentum": momentum, "weight_decay": weight_decay}
        ]
        self.state: dict = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.param_groups[0]["params"]:
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                p.grad.zero_()

    @reference_answer("momentum_update_ratios")
    def step(self) -> None:
        import torch

        group = self.param_groups[0]
        with torch.no_grad():
            for p in group["params"]:
                if p.grad is None:
                    continue
                d_p = p.grad
                if group["weight_decay"] != 0:
                    d_p = d_p.add(p, alpha=group["weight_decay"])
                if group["momentum"] != 0:
                    buf = self.state.get(p)
                    if buf is None:
                        buf = self.state[p] = d_p.detach().clone()
                    else:
                        buf.mul_(group["momentum"]).add_(d_p, alpha=1)
                    d_p = buf
                p.add_(d_p, alpha=-group["lr"])


def lean_optimizer(name: str, lr: float, weight_decay: float = 0.0):
    """For :func:`course_utils.training.train`'s ``optimizer``: a builder of :class:`LeanSGD`
    at ``lr`` (and ``weight_decay``) for ``"sgd"`` and ``"momentum"`` (momentum 0.9, as
    :func:`~course_utils.training.make_optimizer`), the name itself for any other optimiser
    (``train`` then builds it, with ``lr``; pass ``weight_decay`` to ``train`` then)."""
    lr = check_real("lr", lr, 0.0, low_open=True)
    weight_decay = check_real("weight_decay", weight_decay, 0.0)
    if name in ("sgd", "momentum"):
        momentum = 0.9 if name == "momentum" else 0.0
        return lambda params: LeanSGD(params, lr, momentum=momentum, weight_decay=weight_decay)
    return name
