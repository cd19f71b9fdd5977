r"""Weight penalties (chapter 07): a term added to the loss that keeps the weights small.

- :func:`l2_penalty` :math:`\frac{\lambda}{2}\sum_l \lVert W_l\rVert_F^2` and its gradient
  :func:`l2_grad` :math:`\lambda W_l` (weight decay);
- :func:`l1_penalty` :math:`\lambda\sum_l\sum_{ij}|W_{l,ij}|` and its subgradient
  :func:`l1_grad` :math:`\lambda\,\mathrm{sign}(W_l)`;
- :func:`elastic_net_penalty` and :func:`elastic_net_grad`: both at once (Zou & Hastie,
  JRSS B 2005);
- :func:`max_norm`: not a penalty but a constraint, each unit's incoming weight vector
  projected back onto a ball of radius ``c`` (Srivastava et al., JMLR 2014);
- :func:`torch_penalty`: the same terms on a torch model, for
  :func:`course_utils.training.train`'s ``penalty=``.

``weights`` is one array or a sequence of them (biases are usually left out); a gradient
comes back in the same structure. The chapter's random regularisers (dropout and the
methods that follow its pattern) are :mod:`course_utils.regularization`, which also makes
these names importable.
"""

from __future__ import annotations

import numbers
from typing import Callable

import numpy as np

from course_utils.validation import (
    check_array,
    check_choice,
    check_finite_result,
    check_real,
    check_sequence,
)

__all__ = [
    "l2_penalty",
    "l2_grad",
    "l1_penalty",
    "l1_grad",
    "elastic_net_penalty",
    "elastic_net_grad",
    "max_norm",
    "torch_penalty",
]


def _weight_list(weights) -> tuple[list, bool]:
    """One weight array, or a list of them, as float64 arrays; ``True`` if it was one array."""
    if isinstance(weights, (np.ndarray, numbers.Real)):
        return [check_array("weights", weights)], True
    arrays = check_sequence("weights", weights, item=lambda n, w: check_array(n, w))
    return arrays, False


def _penalty(name: str, weights, lam, per_array: Callable) -> float:
    """:math:`\\lambda \\sum_l` ``per_array(W_l)``, refused if it overflows."""
    lam = check_real("lam", lam, 0.0)
    ws, _ = _weight_list(weights)
    value = lam * float(sum(per_array(w) for w in ws))
    check_finite_result(name, value, "lam or the weights are too large")
    return value


def _gradient(weights, lam, per_array: Callable):
    """:math:`\\lambda` ``per_array(W_l)`` for each array, in the structure of ``weights``."""
    lam = check_real("lam", lam, 0.0)
    ws, single = _weight_list(weights)
    grads = [lam * per_array(w) for w in ws]
    return grads[0] if single else grads


def l2_penalty(weights, lam: float) -> float:
    r"""L2 penalty :math:`R(W) = \frac{\lambda}{2} \sum_l \lVert W_l \rVert_F^2`.

    With this scaling the gradient is :math:`\lambda W`, so one SGD step with learning rate
    :math:`\eta` multiplies the weights by :math:`1 - \eta\lambda` before the data gradient:
    PyTorch's ``SGD(weight_decay=lam)``. (It is not AdamW's decoupled decay: Adam divides
    this gradient by its running RMS, Loshchilov & Hutter, ICLR 2019.)

    Parameters
    ----------
    weights : ndarray or sequence of ndarray
        One weight array or several (biases are usually left out).
    lam : float
        :math:`\lambda \ge 0`.

    Returns
    -------
    float
    """
    return _penalty("l2_penalty", weights, lam, lambda w: 0.5 * np.sum(w * w))


def l2_grad(weights, lam: float):
    r"""Gradient of :func:`l2_penalty`: :math:`\lambda W_l` per array (same structure as
    ``weights``: an array for an array, a list for a sequence)."""
    return _gradient(weights, lam, lambda w: w)


def l1_penalty(weights, lam: float) -> float:
    r"""L1 penalty :math:`R(W) = \lambda \sum_l \sum_{ij} |W_{l,ij}|`, ``weights`` and
    :math:`\lambda \ge 0` as for :func:`l2_penalty`."""
    return _penalty("l1_penalty", weights, lam, lambda w: np.sum(np.abs(w)))


def l1_grad(weights, lam: float):
    r"""(Sub)gradient of :func:`l1_penalty`: :math:`\lambda\,\mathrm{sign}(W)`, 0 at
    :math:`W = 0` (the subgradient torch's autograd picks for ``abs``).

    Its size does not shrink with the weight, unlike L2's :math:`\lambda W`: a weight whose
    data gradient is smaller than :math:`\lambda` in size is pushed all the way to 0.
    """
    return _gradient(weights, lam, np.sign)


def elastic_net_penalty(weights, l1: float, l2: float) -> float:
    r"""Elastic net :math:`R(W) = \lambda_1 \sum |W| + \frac{\lambda_2}{2} \sum W^2`
    (Zou & Hastie, JRSS B 2005): L1's exact zeros with L2's smooth shrinkage, which keeps
    correlated weights together where L1 alone picks one of them.

    Parameters
    ----------
    weights : ndarray or sequence of ndarray
    l1, l2 : float
        :math:`\lambda_1, \lambda_2 \ge 0`.

    Returns
    -------
    float
    """
    l1, l2 = check_real("l1", l1, 0.0), check_real("l2", l2, 0.0)
    value = l1_penalty(weights, l1) + l2_penalty(weights, l2)
    check_finite_result("elastic_net_penalty", value, "l1, l2 or the weights are too large")
    return value


def elastic_net_grad(weights, l1: float, l2: float):
    r"""(Sub)gradient of :func:`elastic_net_penalty`:
    :math:`\lambda_1\,\mathrm{sign}(W) + \lambda_2 W` (same structure as ``weights``)."""
    l1, l2 = check_real("l1", l1, 0.0), check_real("l2", l2, 0.0)
    g1, g2 = l1_grad(weights, l1), l2_grad(weights, l2)
    if isinstance(g1, list):
        return [a + b for a, b in zip(g1, g2)]
    return g1 + g2


def max_norm(W, c: float, axis: int = 0):
    r"""Max-norm constraint: each unit's incoming weight vector scaled back to norm ``c``.

    :math:`w_j \leftarrow w_j \cdot \min(1, c / \lVert w_j \rVert_2)`, applied after every
    update (a projection onto the ball :math:`\lVert w_j\rVert_2 \le c`). Srivastava et
    al. (JMLR 2014, sec. 5.1) combine it with dropout and use typical values of ``c`` from 3
    to 4: it bounds the weights however large the learning rate, so large rates stay safe.

    Parameters
    ----------
    W : ndarray, shape (D_in, D_out)
        With ``axis=0`` (the course's NumPy layout) column ``j`` holds unit ``j``'s incoming
        weights; use ``axis=1`` for torch's (D_out, D_in) layout.
    c : float
        The radius, > 0.
    axis : {0, 1}
        The axis that runs over a unit's inputs.

    Returns
    -------
    ndarray of W's shape
        A new array; vectors already inside the ball are unchanged.
    """
    W = check_array("W", W, ndim=2)
    c = check_real("c", c, 0.0, low_open=True)
    axis = check_choice("axis", axis, (0, 1))
    norms = np.linalg.norm(W, axis=axis, keepdims=True)
    with np.errstate(divide="ignore"):
        scale = np.where(norms > c, c / np.where(norms > 0, norms, 1.0), 1.0)
    return W * scale


def torch_penalty(kind: str, lam: float) -> Callable:
    """``penalty(model) -> scalar tensor`` for :func:`course_utils.training.train`.

    ``kind="l2"``: :math:`\\frac{\\lambda}{2}\\sum \\lVert W\\rVert^2`; ``kind="l1"``:
    :math:`\\lambda\\sum |W|`; over the weights of every ``torch.nn.Linear`` (biases are
    not penalised), the same values as :func:`l2_penalty` / :func:`l1_penalty`.
    """
    kind = check_choice("kind", kind, ("l1", "l2"))
    lam = check_real("lam", lam, 0.0)

    def penalty(model):
        from torch import nn

        weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
        if kind == "l1":
            return lam * sum(w.abs().sum() for w in weights)
        return 0.5 * lam * sum((w * w).sum() for w in weights)

    penalty.__name__ = f"{kind}_penalty(lam={lam:g})"
    return penalty
