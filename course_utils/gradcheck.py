r"""Gradient checking: compare an analytic gradient with a numerical one (chapter 08).

The numerical gradient of a scalar function :math:`f` at :math:`x` takes two evaluations per
entry, with the *centred* difference

.. math::

    \frac{\partial f}{\partial x_i} \approx \frac{f(x + h e_i) - f(x - h e_i)}{2h},

whose truncation error is :math:`O(h^2)` (the :math:`f''` terms of the two Taylor expansions
cancel), against :math:`O(h)` for the one-sided (forward) difference
:math:`(f(x + h e_i) - f(x)) / h`. The two are compared entry by entry with the relative error

.. math::

    \mathrm{rel}(a, n) = \frac{|a - n|}{\max(|a|, |n|, \text{tiny})},

whose largest value over all entries is reported (CS231n, "Neural Networks Part 3: Learning and
Evaluation", gradient checks), beside the relative error of the whole gradient,
:math:`\lVert a - n\rVert / \max(\lVert a\rVert, \lVert n\rVert)`, which decides pass or
fail: the numerical gradient carries an absolute round-off error of about
:math:`\epsilon |f| / h` (5e-11 for a loss of 2.3 in float64 at h = 1e-5), so entries below
about 1e-3 cannot agree to 1e-7 entry by entry even when the gradient is right. In float64 a
correct gradient of a smooth function gives a whole-gradient error near :math:`10^{-9}`; a bug
gives :math:`10^{-2}` to 1. Kinks (ReLU at 0) are legitimate exceptions: a difference that
straddles one is not a derivative.

- :func:`numerical_gradient`: centred (or forward) differences of any ``f(x) -> float``.
- :func:`relative_error`: the largest entry-wise relative error.
- :func:`check_gradient`: both, as a :class:`GradCheck`.
- :func:`check_network`: the course's NumPy network (:mod:`course_utils.network`) under a
  softmax cross-entropy loss, every weight matrix and the input.
- :func:`check_module`: any torch module, every parameter and the input, in float64.
- :func:`softmax_cross_entropy`: the loss of a softmax classifier and its gradient.

The error of a difference quotient as a function of ``h`` (round-off against truncation) is
measured in :mod:`course_utils.chapters.ch08_sanity_checks.runs` and shown by that chapter's
explorer.

:func:`numerical_gradient` (and its sampled form ``_centred_at``) is chapter 08's exercise:
both are marked with :func:`course_utils.references.reference_answer`, so they raise while a
student's answer runs inside ``references.hidden("numerical_gradient")`` and work as usual
everywhere else (the checks below call them outside).
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from course_utils.references import reference_answer
from course_utils.training import single_torch_thread
from course_utils.validation import check_array

__all__ = [
    "MAX_ENTRIES",
    "METHODS",
    "numerical_gradient",
    "relative_error",
    "GradCheck",
    "norm_error",
    "check_gradient",
    "softmax_cross_entropy",
    "check_network",
    "check_module",
]

#: At most this many entries per numerical gradient (two evaluations of ``f`` each): a
#: gradient check is meant for a small model or a few examples, not a full network.
MAX_ENTRIES = 100_000
#: Difference quotients known to :func:`numerical_gradient`.
METHODS = ("centred", "forward")


def _check_h(h) -> float:
    if isinstance(h, bool) or not isinstance(h, numbers.Real) or not math.isfinite(h) or h <= 0:
        raise ValueError(f"h must be a positive finite number; got {h!r}")
    return float(h)


def _check_tol(tol) -> float:
    if (
        isinstance(tol, bool)
        or not isinstance(tol, numbers.Real)
        or not math.isfinite(tol)
        or tol <= 0
    ):
        raise ValueError(f"tol must be a positive finite number; got {tol!r}")
    return float(tol)


@reference_answer("numerical_gradient")
def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-5, method: str = "centred"
) -> np.ndarray:
    r"""The gradient of a scalar function by finite differences, one entry at a time.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``, a scalar function of the array ``x``.
    x : ndarray of float64, any shape
        The point. It is perturbed **in place**, one entry at a time, and every entry is
        restored exactly before the function returns, so ``f`` may also read ``x`` through a
        view (a torch parameter sharing its memory, say).
    h : float
        The step, > 0. About 1e-5 in float64 balances round-off against truncation for the
        centred difference (see :func:`difference_errors`).
    method : {"centred", "forward"}
        ``"centred"``: :math:`(f(x + h e_i) - f(x - h e_i)) / 2h`, error :math:`O(h^2)`;
        ``"forward"``: :math:`(f(x + h e_i) - f(x)) / h`, error :math:`O(h)`.

    Returns
    -------
    ndarray, shape of ``x``, float64
    """
    if not callable(f):
        raise ValueError(f"f must be a function of x returning a number; got {f!r}")
    h = _check_h(h)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}; got {method!r}")
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise ValueError(
            "x must be a float64 NumPy array (float32 round-off swamps the "
            f"differences); got {type(x).__name__} "
            f"{getattr(x, 'dtype', '')}".rstrip()
        )
    if not x.flags.writeable:
        raise ValueError("x must be writable: it is perturbed in place and restored")
    if x.size > MAX_ENTRIES:
        raise ValueError(
            f"x has {x.size:,} entries; at most {MAX_ENTRIES:,} are allowed "
            "(check a smaller model or fewer examples)"
        )
    grad = np.zeros(x.shape, dtype=np.float64)
    base = float(f(x)) if method == "forward" else None
    it = np.nditer(x, flags=["multi_index"], op_flags=[["readwrite"]])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + h
        plus = float(f(x))
        if method == "centred":
            x[i] = old - h
            minus = float(f(x))
            grad[i] = (plus - minus) / (2 * h)
        else:
            grad[i] = (plus - base) / h
        x[i] = old
    return grad


@reference_answer("numerical_gradient")
def _centred_at(f: Callable, x: np.ndarray, h: float, flat: np.ndarray) -> np.ndarray:
    """Centred differences of ``f`` at the entries ``flat`` (flat indices) of ``x`` only."""
    if not x.flags.c_contiguous:
        raise ValueError("x must be C-contiguous to be checked entry by entry in place")
    view = x.reshape(-1)  # a view: f sees the perturbation
    values = np.empty(len(flat))
    for k, i in enumerate(flat):
        old = view[i]
        view[i] = old + h
        plus = float(f(x))
        view[i] = old - h
        minus = float(f(x))
        view[i] = old
        values[k] = (plus - minus) / (2 * h)
    return values


def _sample(size: int, max_entries: int | None, rng) -> np.ndarray | None:
    """Sorted flat indices of at most ``max_entries`` entries, or ``None`` for all."""
    if max_entries is None or size <= max_entries:
        return None
    return np.sort(rng.choice(size, size=max_entries, replace=False))


def relative_error(analytic, numeric, tiny: float = 1e-12) -> float:
    r"""The largest entry-wise relative error :math:`|a - n| / \max(|a|, |n|, \text{tiny})`.

    Parameters
    ----------
    analytic, numeric : array-like, same shape
    tiny : float
        Floor of the denominator, > 0: two entries that are both exactly 0 agree (error 0).

    Returns
    -------
    float
        0 for identical arrays, at most 2 (opposite signs); about 1e-10 for a correct
        float64 gradient of a smooth function.
    """
    a = check_array("analytic", analytic, min_size=0)
    n = check_array("numeric", numeric, min_size=0)
    if a.shape != n.shape:
        raise ValueError(
            f"analytic and numeric must have the same shape; got {a.shape} and {n.shape}"
        )
    if isinstance(tiny, bool) or not isinstance(tiny, numbers.Real) or not tiny > 0:
        raise ValueError(f"tiny must be a positive number; got {tiny!r}")
    if a.size == 0:
        return 0.0
    return float(np.max(_entrywise(a, n, tiny)))


def _entrywise(a: np.ndarray, n: np.ndarray, tiny: float) -> np.ndarray:
    return np.abs(a - n) / np.maximum(np.maximum(np.abs(a), np.abs(n)), tiny)


@dataclass(frozen=True)
class GradCheck:
    r"""One gradient check: an analytic gradient ``a`` against a numerical one ``n``.

    Attributes
    ----------
    name : str
        What was checked (``"W1"``, ``"0.weight"``, ``"x"``, ...).
    relative_error : float
        The largest entry-wise relative error (CS231n's measure), see :func:`relative_error`.
        Entries far smaller than the others can exceed ``tol`` for a *correct* gradient: the
        numerical gradient carries an absolute round-off error of about
        :math:`\epsilon |f| / h` (5e-11 for a loss of 2.3 at h = 1e-5 in float64).
    norm_error : float
        The relative error of the whole gradient,
        :math:`\lVert a - n\rVert_2 / \max(\lVert a\rVert_2, \lVert n\rVert_2)`
        (0 when both are 0): what decides :attr:`passed`.
    max_abs_error : float
        :math:`\max_i |a_i - n_i|`.
    worst_index : tuple of int
        Where the entry-wise relative error is largest.
    analytic, numeric : float
        The two values there.
    tol : float
        The check passes when ``norm_error < tol``.
    """

    name: str
    relative_error: float
    norm_error: float
    max_abs_error: float
    worst_index: tuple
    analytic: float
    numeric: float
    tol: float

    @property
    def passed(self) -> bool:
        return self.norm_error < self.tol

    def __str__(self) -> str:
        verdict = "ok" if self.passed else "FAILED"
        return (
            f"{self.name}: relative error {self.norm_error:.1e} ({verdict}, tol "
            f"{self.tol:g}); worst entry {self.worst_index}: analytic {self.analytic:.6g}, "
            f"numeric {self.numeric:.6g}"
        )


def norm_error(analytic, numeric) -> float:
    r"""The relative error of a whole gradient,
    :math:`\lVert a - n\rVert_2 / \max(\lVert a\rVert_2, \lVert n\rVert_2)` (0 if both are 0)."""
    a = check_array("analytic", analytic, min_size=0)
    n = check_array("numeric", numeric, min_size=0)
    if a.shape != n.shape:
        raise ValueError(
            f"analytic and numeric must have the same shape; got {a.shape} and {n.shape}"
        )
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(n)))
    return 0.0 if scale == 0 else float(np.linalg.norm(a - n)) / scale


def _compare(name: str, analytic, numeric, tol: float, tiny: float = 1e-12) -> GradCheck:
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(
            f"the analytic gradient of {name} has shape {a.shape}; the parameter "
            f"has shape {n.shape}"
        )
    if a.size == 0:
        return GradCheck(name, 0.0, 0.0, 0.0, (), 0.0, 0.0, tol)
    errors = _entrywise(a, n, tiny)
    worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(errors)), errors.shape))
    return GradCheck(
        name,
        float(errors[worst]),
        norm_error(a, n),
        float(np.max(np.abs(a - n))),
        worst,
        float(a[worst]),
        float(n[worst]),
        tol,
    )


def _compare_at(
    name: str, analytic, f: Callable, x: np.ndarray, h: float, tol: float, flat: np.ndarray | None
) -> GradCheck:
    """Compare all entries (``flat`` None) or the sampled ones; worst index in ``x``'s shape."""
    if flat is None:
        return _compare(name, analytic, numerical_gradient(f, x, h), tol)
    a = np.asarray(analytic, dtype=np.float64)
    result = _compare(name, a.reshape(-1)[flat], _centred_at(f, x, h, flat), tol)
    worst = tuple(int(i) for i in np.unravel_index(int(flat[result.worst_index[0]]), a.shape))
    return dataclasses.replace(result, worst_index=worst)


def check_gradient(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    analytic,
    h: float = 1e-5,
    tol: float = 1e-7,
    name: str = "x",
) -> GradCheck:
    """Compare ``analytic`` with the centred numerical gradient of ``f`` at ``x``.

    Parameters
    ----------
    f, x, h
        As for :func:`numerical_gradient` (``x`` is perturbed in place and restored).
    analytic : array-like, shape of ``x``
        The gradient under test.
    tol : float
        Pass when the whole gradient's relative error (:func:`norm_error`) is below it
        (1e-7 in float64).
    name : str
        A label for the report.

    Returns
    -------
    GradCheck
    """
    tol = _check_tol(tol)
    return _compare(name, analytic, numerical_gradient(f, x, h), tol)


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

    tol = _check_tol(tol)
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
        _compare(f"W{l}", grads.weight(l), numerical_gradient(lambda _: loss(), W, h), tol)
        for l, W in enumerate(weights, start=1)
    ]
    checks.append(_compare("x", grads.input, numerical_gradient(lambda _: loss(), x, h), tol))
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

    tol = _check_tol(tol)
    h = _check_h(h)
    if not isinstance(module, torch.nn.Module):
        raise ValueError(f"module must be a torch.nn.Module; got {type(module).__name__}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; got {seed!r}")
    if loss is not None and not callable(loss):
        raise ValueError(f"loss must be a function of the module's output; got {loss!r}")
    if max_entries is not None and (
        isinstance(max_entries, bool)
        or not isinstance(max_entries, numbers.Integral)
        or max_entries < 1
    ):
        raise ValueError(f"max_entries must be None or an integer >= 1; got {max_entries!r}")
    cap = (lambda n: n) if max_entries is None else (lambda n: min(n, int(max_entries)))
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
            out_shape, dtype=torch.float64, generator=torch.Generator().manual_seed(int(seed))
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

    checks = []
    rng = np.random.default_rng(int(seed))
    with torch.no_grad(), single_torch_thread():
        for name, p in params:
            view = p.data.numpy()  # float64 CPU: shares memory with the parameter
            checks.append(
                _compare_at(
                    name, analytic[name], value, view, h, tol, _sample(view.size, max_entries, rng)
                )
            )
        checks.append(
            _compare_at("x", analytic_x, value, x_np, h, tol, _sample(x_np.size, max_entries, rng))
        )
    return checks
