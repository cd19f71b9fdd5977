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
- :func:`check_gradient`: both, as a :class:`GradCheck`, over every entry or a sample of
  them (CS231n's "check only a few dimensions").

Whole models are checked with these in :mod:`course_utils.gradcheck_models`
(:func:`check_network`, :func:`check_module`, :func:`softmax_cross_entropy`); their names are
importable from here too.

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
from dataclasses import dataclass
from typing import Callable

import numpy as np

from course_utils.gradcheck_models import (  # re-exported: chapter 08 calls them gradcheck.*
    check_module,
    check_network,
    softmax_cross_entropy,
)
from course_utils.references import reference_answer
from course_utils.validation import check_array, check_choice, check_real

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


def _check_point(f, x: np.ndarray, h, entries: int) -> float:
    """Refuse what cannot be differenced at ``entries`` entries of ``x``; ``h`` as a float."""
    if not callable(f):
        raise ValueError(f"f must be a function of x returning a number; got {f!r}")
    h = check_real("h", h, 0.0, low_open=True)
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise ValueError(
            "x must be a float64 NumPy array (float32 round-off swamps the "
            f"differences); got {type(x).__name__} "
            f"{getattr(x, 'dtype', '')}".rstrip()
        )
    if not x.flags.writeable:
        raise ValueError("x must be writable: it is perturbed in place and restored")
    if entries > MAX_ENTRIES:
        raise ValueError(
            f"x has {entries:,} entries to check; at most {MAX_ENTRIES:,} are allowed "
            "(check a smaller model or fewer examples)"
        )
    return h


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
    h = _check_point(f, x, h, getattr(x, "size", 0))
    method = check_choice("method", method, METHODS)
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
    tiny = check_real("tiny", tiny, 0.0, low_open=True)
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


def check_gradient(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    analytic,
    h: float = 1e-5,
    tol: float = 1e-7,
    name: str = "x",
    entries=None,
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
    entries : sequence of int, optional
        Flat indices (into ``x.ravel()``) of the only entries to check, CS231n's "check only
        a few dimensions": a large layer costs two evaluations of ``f`` per entry otherwise.
        ``None`` checks every entry.

    Returns
    -------
    GradCheck
        With ``entries``, the errors are those of the checked entries and ``worst_index`` is
        an index of ``x``.
    """
    tol = check_real("tol", tol, 0.0, low_open=True)
    if entries is None:
        return _compare(name, analytic, numerical_gradient(f, x, h), tol)
    flat = check_array("entries", entries, ndim=1, min_size=0, limit=MAX_ENTRIES)
    h = _check_point(f, x, h, flat.size)
    a = check_array("analytic", analytic, finite=False, min_size=0)
    if a.shape != x.shape:
        raise ValueError(
            f"the analytic gradient of {name} has shape {a.shape}; x has shape {x.shape}"
        )
    if np.any(flat != np.floor(flat)) or np.any(flat < 0) or np.any(flat >= x.size):
        raise ValueError(f"entries must be flat indices of x, integers in 0..{x.size - 1}")
    flat = flat.astype(np.int64)
    result = _compare(name, a.reshape(-1)[flat], _centred_at(f, x, h, flat), tol)
    if flat.size == 0:
        return result
    worst = tuple(int(i) for i in np.unravel_index(int(flat[result.worst_index[0]]), x.shape))
    return dataclasses.replace(result, worst_index=worst)
