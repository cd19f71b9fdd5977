"""Argument checks shared by the chapter modules: one wording for every ``ValueError``.

Each returns the value as a plain Python number or raises ``ValueError`` naming the argument,
what is allowed and the value given (``"lr must be > 0; got -1"``).
"""

from __future__ import annotations

import math
import numbers

__all__ = ["check_int", "check_real"]


def check_int(name: str, value, low: int, high: int | None = None) -> int:
    """``value`` as an ``int`` in ``[low, high]`` (no upper limit when ``high`` is None)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    if value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"between {low} and {high}"
        raise ValueError(f"{name} must be {allowed}; got {value}")
    return int(value)


def check_real(name: str, value, low: float | None = None, high: float | None = None,
               low_open: bool = False, high_open: bool = False) -> float:
    """``value`` as a finite ``float`` within the bounds (open where ``*_open``)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    bad_low = low is not None and (value <= low if low_open else value < low)
    bad_high = high is not None and (value >= high if high_open else value > high)
    if bad_low or bad_high:
        lo = "" if low is None else f"{'>' if low_open else '>='} {low:g}"
        hi = "" if high is None else f"{'<' if high_open else '<='} {high:g}"
        raise ValueError(f"{name} must be {' and '.join(p for p in (lo, hi) if p)}; "
                         f"got {value!r}")
    return float(value)
