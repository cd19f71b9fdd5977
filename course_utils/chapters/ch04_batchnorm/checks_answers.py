"""How chapter 04's two checks (:mod:`~course_utils.chapters.ch04_batchnorm.checks` and
:mod:`~course_utils.chapters.ch04_batchnorm.checks_backward`) call and read a student's answer:
:func:`eps_arguments` says whether a case calls it with ``eps`` or with its default,
:func:`as_float_array` turns a returned value into numbers (or ``None``), :func:`matches`
compares it with one usual wrong answer.
"""

from __future__ import annotations

import numpy as np

from course_utils.batchnorm import EPS
from course_utils.validation import check_array, check_real

__all__ = ["eps_arguments", "as_float_array", "matches"]


def eps_arguments(eps) -> tuple[dict, float]:
    """A case's ``eps`` as (the answer's keyword arguments, the eps of the expected values):
    ``None`` calls the answer without ``eps``, so that its default is checked against
    :data:`course_utils.batchnorm.EPS`; a number > 0 is passed on."""
    if eps is None:
        return {}, EPS
    eps = check_real("eps", eps, low=0, low_open=True)
    return {"eps": eps}, eps


def as_float_array(value) -> np.ndarray | None:
    """``value``, returned by a student's answer (untrusted), as a float64 array of any shape;
    ``None`` if it is not numbers (a string, a dict, ``None``, ragged lists...) or has more
    than :data:`~course_utils.validation.MAX_ELEMENTS` entries. NaN and inf pass through: the
    check reports them."""
    try:
        return check_array("value", value, finite=False, min_size=0)
    except ValueError:
        return None


def matches(got, candidate, tol: float) -> bool:
    """Whether ``got`` equals ``candidate`` within ``tol`` (absolute and relative): the same
    shape, a finite ``candidate`` (a wrong answer that overflows names no mistake) and every
    entry close. Both are arrays of numbers (``got`` may hold NaN: it then matches nothing).
    """
    got = check_array("got", got, finite=False, min_size=0)
    candidate = check_array("candidate", candidate, finite=False, min_size=0)
    tol = check_real("tol", tol, low=0, low_open=True)
    return (
        got.shape == candidate.shape
        and bool(np.all(np.isfinite(candidate)))
        and bool(np.allclose(got, candidate, rtol=tol, atol=tol))
    )
