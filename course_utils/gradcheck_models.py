r"""Gradient checks of whole models, with :mod:`course_utils.gradcheck` (chapter 08).

- :func:`softmax_cross_entropy`: the loss of a softmax classifier and its gradient, the
  scalar on top of the network that the checks differentiate.
- :func:`check_network`: the course's NumPy network (:mod:`course_utils.network`) under a
  softmax cross-entropy loss, every weight matrix and the input.
- :func:`check_module`: any torch module, every parameter and the input, in float64; a
  large tensor can be checked at a random sample of its entries.

Each result is a list of :class:`course_utils.gradcheck.GradCheck`, one per weight and one
for the input, made by :func:`course_utils.gradcheck.check_gradient`. That module re-exports
the three functions (``gradcheck.check_network``), so it is imported inside them here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from course_utils.models import single_torch_thread
from course_utils.validation import MAX_SEED, check_array, check_int, check_real

if TYPE_CHECKING:
    from course_utils.gradcheck import GradCheck

__all__ = ["softmax_cross_entropy", "check_network", "check_module"]


def softmax_cross_entropy(scores: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    r"""Mean softmax cross-entropy of class scores and its gradient.

    .. math::

        p_{ic} = \frac{e^{s_{ic}}}{\sum_k e^{s_{ik}}}, \qquad
        L = -\frac{1}{N}\sum_i \ln p_{i y_i}, \qquad
        \frac{\partial L}{\partial s_{ic}} = \frac{p_{ic} - [c = y_i]}{N}.

    Parameters
    ----------
    scores : ndarray, shape (N, C)
    y : ndarray of int, shape (N,), values in 0..C-1

    Returns
    -------
    loss : float
    dscores : ndarray, shape (N, C), float64
    """
    s = check_array("scores", scores, ndim=2)
    y = np.asarray(y)
    if s.ndim != 2 or s.shape[0] == 0 or s.shape[1] < 2:
        raise ValueError(f"scores must be (N, C) with N >= 1 and C >= 2; got shape {s.shape}")
    if y.shape != (s.shape[0],) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(
            f"y must be integer labels of shape ({s.shape[0]},); got {y.dtype} {y.shape}"
        )
    if y.min() < 0 or y.max() >= s.shape[1]:
        raise ValueError(f"y must hold labels 0..{s.shape[1] - 1}; got {y.min()}..{y.max()}")
    shifted = s - s.max(axis=1, keepdims=True)  # exp never overflows
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = s.shape[0]
    loss = -float(log_p[np.arange(n), y].mean())
    dscores = np.exp(log_p)
    dscores[np.arange(n), y] -= 1.0
    return loss, dscores / n


def check_network(
    x: np.ndarray,
    weights: Sequence[np.ndarray],
    y: np.ndarray,
    activation="tanh",
    h: float = 1e-5,
    tol: float = 1e-7,
) -> list[GradCheck]:
    r"""Gradient check of the course's NumPy network under a softmax cross-entropy loss.

    The loss is :math:`L = \mathrm{CE}(a_L, y)` with :math:`a_L` the output of
    :func:`course_utils.network.forward` (the lecture's network: :math:`z_l = a_{l-1} W_l`,
    :math:`a_l = f(z_l)`, every layer activated). The analytic gradients come from
    :func:`course_utils.network.backward` with upstream :math:`\partial L/\partial a_L` of
    :func:`softmax_cross_entropy`.

    Parameters
    ----------
    x : ndarray, shape (N, D_0), float64
    weights : sequence of L float64 arrays, W_l of shape (D_{l-1}, D_l)
        Perturbed in place during the check and restored.
    y : ndarray of int, shape (N,)
        Labels in 0..D_L - 1.
    activation : str or (f, df)
        As for :func:`course_utils.network.forward`; a pair ``(f, df)`` lets a wrong
        derivative be planted and caught.
    h, tol
        As for :func:`check_gradient`.

    Returns
    -------
    list of GradCheck
        ``"W1"`` ... ``"WL"``, then ``"x"``.
    """
    from course_utils import network
    from course_utils.gradcheck import MAX_ENTRIES, check_gradient

    tol = check_real("tol", tol, 0.0, low_open=True)
    arrays = [x, *weights]
    for k, a in enumerate(arrays):
        if not isinstance(a, np.ndarray) or a.dtype != np.float64:
            what = "x" if k == 0 else f"weights[{k - 1}]"
            raise ValueError(
                f"{what} must be a float64 NumPy array; got "
                f"{type(a).__name__} {getattr(a, 'dtype', '')}".rstrip()
            )
    total = sum(a.size for a in arrays)
    if total > MAX_ENTRIES:
        raise ValueError(
            f"x and the weights have {total:,} entries; at most {MAX_ENTRIES:,} "
            "are allowed (check a smaller network or fewer examples)"
        )

    def loss() -> float:
        return softmax_cross_entropy(network.forward(x, weights, activation).output, y)[0]

    record = network.forward(x, weights, activation)
    _, upstream = softmax_cross_entropy(record.output, y)
    grads = network.backward(record, weights, upstream, activation)
    checks = [
        check_gradient(lambda _: loss(), W, grads.weight(l), h, tol, name=f"W{l}")
        for l, W in enumerate(weights, start=1)
    ]
    checks.append(check_gradient(lambda _: loss(), x, grads.input, h, tol, name="x"))
    return checks


def check_module(
    module,
    x,
    loss: Callable | None = None,
    h: float = 1e-5,
    tol: float = 1e-7,
    seed: int = 0,
    max_entries: int | None = None,
) -> list[GradCheck]:
    r"""Gradient check of a torch module in float64: autograd against centred differences.

    The module is copied and converted to float64 (the original is not touched) and put in
    eval mode (no dropout; Batch Norm uses its running statistics).

    Parameters
    ----------
    module : torch.nn.Module
    x : array-like or tensor, shape (N, ...)
        The input batch.
    loss : callable, optional
        ``loss(output) -> scalar tensor``. Default :math:`L = \sum G \odot \text{output}` with
        one fixed :math:`G \sim N(0, 1)` (seeded), so every output entry matters.
    h, tol
        As for :func:`check_gradient`.
    seed : int
        Fixes ``G`` and the sampled entries.
    max_entries : int or None
        Check at most this many entries of each tensor, drawn at random (CS231n's "check
        only a few dimensions"): a large first layer, CIFAR-10's 3,072 inputs, costs two
        forward passes per entry otherwise. ``None`` checks every entry.

    Returns
    -------
    list of GradCheck
        One per parameter (by its name in ``module.named_parameters()``), then ``"x"``.
    """
    import copy

    import torch

    from course_utils.gradcheck import MAX_ENTRIES, check_gradient

    tol = check_real("tol", tol, 0.0, low_open=True)
    h = check_real("h", h, 0.0, low_open=True)
    if not isinstance(module, torch.nn.Module):
        raise ValueError(f"module must be a torch.nn.Module; got {type(module).__name__}")
    seed = check_int("seed", seed, 0, MAX_SEED)
    if loss is not None and not callable(loss):
        raise ValueError(f"loss must be a function of the module's output; got {loss!r}")
    if max_entries is not None:
        try:
            max_entries = check_int("max_entries", max_entries, 1)
        except ValueError:
            raise ValueError(
                f"max_entries must be None or an integer >= 1; got {max_entries!r}"
            ) from None
    cap = (lambda n: n) if max_entries is None else (lambda n: min(n, max_entries))
    total = sum(cap(p.numel()) for p in module.parameters()) + cap(int(np.prod(np.shape(x))))
    if total > MAX_ENTRIES:
        raise ValueError(
            f"the module and x have {total:,} entries; at most {MAX_ENTRIES:,} "
            "are allowed (check a smaller module or fewer examples)"
        )
    model = copy.deepcopy(module).double().eval()
    params = list(model.named_parameters())
    x_np = np.array(check_array("x", x), dtype=np.float64)  # a copy, float64
    x_t = torch.from_numpy(x_np)  # shares memory: perturbing x_np perturbs x_t
    weights_g = None
    if loss is None:
        with torch.no_grad():
            try:
                out_shape = model(x_t).shape
            except RuntimeError as error:
                raise ValueError(
                    f"x: the module cannot run on x of shape {x_np.shape}: {error}"
                ) from None
        weights_g = torch.randn(
            out_shape, dtype=torch.float64, generator=torch.Generator().manual_seed(seed)
        )

    def objective(inp: torch.Tensor) -> torch.Tensor:
        out = model(inp)
        return (out * weights_g).sum() if loss is None else loss(out)

    x_grad = x_t.clone().requires_grad_(True)
    model.zero_grad(set_to_none=True)
    try:
        objective(x_grad).backward()
    except RuntimeError as error:  # a shape the module does not take, say
        raise ValueError(
            f"x: the module (and loss) cannot run on x of shape {x_np.shape}: {error}"
        ) from None
    analytic = {
        name: (p.grad.numpy().copy() if p.grad is not None else np.zeros(p.shape))
        for name, p in params
    }
    analytic_x = x_grad.grad.numpy().copy()

    def value(_: np.ndarray) -> float:
        with torch.no_grad():
            return float(objective(x_t))

    def sample(size: int) -> np.ndarray | None:
        """Sorted flat indices of at most ``max_entries`` entries, or ``None`` for all."""
        if max_entries is None or size <= max_entries:
            return None
        return np.sort(rng.choice(size, size=max_entries, replace=False))

    checks = []
    rng = np.random.default_rng(seed)
    with torch.no_grad(), single_torch_thread():
        for name, p in params:
            view = p.data.numpy()  # float64 CPU: shares memory with the parameter
            checks.append(
                check_gradient(value, view, analytic[name], h, tol, name, sample(view.size))
            )
        checks.append(check_gradient(value, x_np, analytic_x, h, tol, "x", sample(x_np.size)))
    return checks
