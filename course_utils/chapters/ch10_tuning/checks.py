"""Chapter 10's exercise: log-uniform sampling.

The check runs the student's sampler inside ``references.hidden("log_uniform")``, so an
answer that calls the course's sampler (``tuning.log_uniform``, ``tuning.Param.from_unit``)
fails with ``ReferenceUnavailable``.
"""

from __future__ import annotations

from typing import Callable

from course_utils.checking import call_answer

__all__ = [
    "LOG_UNIFORM_DRAWS",
    "LOG_UNIFORM_KS_TOL",
    "log_uniform_range_mistake",
    "check_log_uniform",
]


#: Chapter 10's exercise: draws per distribution test, and the largest distance allowed
#: between their CDF and the log-uniform CDF (Kolmogorov-Smirnov statistic; a correct
#: sampler stays below 0.0138 with probability 99.9% at 20,000 draws).
LOG_UNIFORM_DRAWS = 20_000
LOG_UNIFORM_KS_TOL = 0.02


def _pow10(x: float) -> float:
    """10 ** x, inf beyond float's range (a wrong range compared with a huge bound)."""
    return 10.0**x if x < 308 else float("inf")


def log_uniform_range_mistake(low: float, high: float, lo: float, hi: float) -> str:
    """The likely mistake behind draws from ``[low, high]`` that span ``[lo, hi]`` instead.

    Each usual wrong range is computed and compared with the span (within 2% on a log scale,
    or within 0.02 for a span that includes numbers <= 0); the first that matches names the
    mistake. A generic hint if none does.
    """
    import math

    from course_utils.validation import check_real

    low, high = check_real("low", low, 0.0, low_open=True), check_real("high", high, low)
    lo, hi = check_real("lo", lo), check_real("hi", hi)

    def near(a, b):
        if a > 0 and b > 0:
            return abs(math.log(a / b)) < 0.02
        return abs(a - b) < 0.02

    ln_a, ln_b, lg_a, lg_b = math.log(low), math.log(high), math.log10(low), math.log10(high)
    candidates = [
        (
            (ln_a, ln_b),
            "The draws are the logarithms: undo the logarithm, np.exp(...) of the uniform draws.",
        ),
        ((lg_a, lg_b), "The draws are the base-10 logarithms: undo them, 10 ** (...)."),
        (
            (math.exp(lg_a), math.exp(lg_b)),
            "The bounds are base-10 logarithms but np.exp "
            "undoes a natural one: use the same base twice "
            "(np.log and np.exp, or np.log10 and 10 ** ...).",
        ),
        (
            (_pow10(ln_a), _pow10(ln_b)),
            "The bounds are natural logarithms but 10 ** ... undoes "
            "a base-10 one: use the same base twice (np.log and "
            "np.exp, or np.log10 and 10 ** ...).",
        ),
        (
            (low, low * high),
            "The exponent is drawn from [0, ln(high)] and then multiplied by low: "
            "draw it from [ln(low), ln(high)] instead.",
        ),
        ((low, high / 10), "The top decade is missing: draw the exponent up to ln(high)."),
        ((low * 10, high), "The bottom decade is missing: draw the exponent from ln(low)."),
    ]
    for (a, b), hint in candidates:
        if near(lo, a) and near(hi, b):
            return hint
    return (
        "The draws must cover [low, high] and no more: take the logarithm of both bounds, "
        "draw uniformly between them, then undo the logarithm with the same base."
    )


def check_log_uniform(sample_log_uniform: Callable) -> None:
    """Chapter 10's exercise: ``sample_log_uniform(low, high, size, rng)``.

    Checked, in this order: a float64 array of shape ``(size,)``; the generator ``rng`` is
    the only randomness (same seed, same draws; another seed, other draws); every draw in
    ``[low, high]`` and both ends reached (20,000 draws come within 2% of each); the
    distribution is log-uniform (each decade of [1e-5, 1e-1] gets a quarter of the draws,
    and the Kolmogorov-Smirnov distance to the log-uniform CDF is below
    :data:`LOG_UNIFORM_KS_TOL` on [1e-5, 1e-1] and on [2, 50]); ``ValueError`` unless
    ``0 < low < high``.
    """
    import numpy as np

    if not callable(sample_log_uniform):
        raise TypeError(
            f"sample_log_uniform must be a function; got {type(sample_log_uniform).__name__}"
        )

    def wrong(what, hint):
        print(f"WRONG {what}")
        raise AssertionError(f"{what}. {hint}")

    def sample(low, high, size, rng):
        """The student's sampler, with the course's own unavailable while it runs."""
        return call_answer(
            "log_uniform",
            f"sample_log_uniform({low:g}, {high:g}, {size}, rng)",
            sample_log_uniform,
            low,
            high,
            size,
            rng,
        )

    out = sample(1e-3, 1.0, 5, np.random.default_rng(0))
    if not isinstance(out, np.ndarray) or out.shape != (5,) or out.dtype != np.float64:
        got = (
            f"{type(out).__name__} of shape {getattr(out, 'shape', '?')}, dtype "
            f"{getattr(out, 'dtype', '?')}"
        )
        if isinstance(out, (list, tuple)):
            hint = (
                "Return the NumPy array itself (np.exp of rng.uniform(..., size)), not a "
                "Python list."
            )
        elif isinstance(out, np.ndarray) and out.shape == (5,):
            hint = (
                f"The dtype is {out.dtype}: keep NumPy's float64 (no astype(np.float32) or "
                "rounding to integers)."
            )
        elif isinstance(out, np.ndarray):
            hint = (
                "Pass size to rng.uniform(low_exponent, high_exponent, size): one draw per "
                "requested value, shape (size,)."
            )
        else:
            hint = "Return a NumPy float64 array of shape (size,)."
        wrong(f"sample_log_uniform(1e-3, 1.0, 5, rng) returned a {got}", hint)
    print("ok  sample_log_uniform(1e-3, 1.0, 5, rng) is a float64 array of shape (5,)")
    empty = sample(1e-3, 1.0, 0, np.random.default_rng(0))
    if np.shape(empty) != (0,):
        wrong(
            f"sample_log_uniform(1e-3, 1.0, 0, rng) returned shape {np.shape(empty)}",
            "size = 0 asks for an empty array, shape (0,).",
        )
    print("ok  size 0 gives an empty array")
    again = sample(1e-3, 1.0, 5, np.random.default_rng(0))
    other = sample(1e-3, 1.0, 5, np.random.default_rng(1))
    if len(out) and np.all(out == out[0]):
        wrong(
            f"sample_log_uniform(1e-3, 1.0, 5, rng) gave the same value {out[0]:g} five times",
            "The uniform draw's range is empty: draw the exponent from ln(low) to "
            "ln(high), then undo the logarithm.",
        )
    if not np.array_equal(out, again):
        wrong(
            "two generators with the same seed gave different draws",
            "The draws come from somewhere else than rng (np.random.uniform, the global "
            "state?): draw with the rng you are given, rng.uniform(...).",
        )
    if np.array_equal(out, other):
        wrong(
            "generators with different seeds gave the same draws",
            "The function ignores rng (a new np.random.default_rng(...) inside?): draw with "
            "the rng you are given, rng.uniform(...).",
        )
    print("ok  the same rng seed gives the same draws, another seed other draws")
    for low, high in ((1e-5, 1e-1), (2.0, 50.0)):
        x = np.asarray(
            sample(low, high, LOG_UNIFORM_DRAWS, np.random.default_rng(2)), dtype=np.float64
        )
        if x.shape != (LOG_UNIFORM_DRAWS,) or not np.all(np.isfinite(x)):
            wrong(
                f"sample_log_uniform({low:g}, {high:g}, {LOG_UNIFORM_DRAWS}, rng) returned "
                f"shape {x.shape} or non-finite values",
                "Return size finite draws.",
            )
        if low == 1e-5 and np.all((x >= low) & (x <= high)) and np.mean(x >= 1e-2) > 0.8:
            wrong(
                f"{np.mean(x >= 1e-2):.0%} of {LOG_UNIFORM_DRAWS} draws from [1e-5, 1e-1] "
                "are in the top decade [1e-2, 1e-1]",
                "These are uniform draws, which crowd "
                "the top decade: draw the *logarithm* uniformly, then undo it.",
            )
        # exp(ln(low)) can round one ulp below low: a relative slack of 1e-12 for rounding
        if (
            x.min() < low * (1 - 1e-12)
            or x.max() > high * (1 + 1e-12)
            or x.min() > low * 1.02
            or x.max() < high / 1.02
        ):
            wrong(
                f"{LOG_UNIFORM_DRAWS} draws from [{low:g}, {high:g}] span "
                f"[{x.min():.4g}, {x.max():.4g}]",
                log_uniform_range_mistake(low, high, float(x.min()), float(x.max())),
            )
        print(
            f"ok  {LOG_UNIFORM_DRAWS} draws from [{low:g}, {high:g}] span "
            f"[{x.min():.4g}, {x.max():.4g}]"
        )
        if low == 1e-5:
            shares = np.histogram(np.log10(x), bins=[-5, -4, -3, -2, -1])[0] / len(x)
            text = ", ".join(f"{s:.1%}" for s in shares)
            if np.abs(shares - 0.25).max() > 0.02:
                wrong(
                    f"shares of the draws per decade of [1e-5, 1e-1]: {text} (expected 25% "
                    "each, within 2 points)",
                    "Every decade must get the same share: draw "
                    "the logarithm *uniformly* (rng.uniform between the two log bounds), and "
                    "apply nothing else to it before undoing the logarithm.",
                )
            print(f"ok  shares per decade of [1e-5, 1e-1]: {text} (25% each, within 2 points)")
        t = np.sort(x)
        cdf = np.log(t / low) / np.log(high / low)
        n = len(t)
        ks = float(max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n)))
        if ks > LOG_UNIFORM_KS_TOL:
            wrong(
                f"on [{low:g}, {high:g}] the largest gap between the draws' CDF and the "
                f"log-uniform CDF is {ks:.3f}, above {LOG_UNIFORM_KS_TOL:g}",
                "P(x <= t) must be ln(t/low) / ln(high/low).",
            )
        print(
            f"ok  on [{low:g}, {high:g}] the draws follow the log-uniform CDF (KS distance "
            f"below {LOG_UNIFORM_KS_TOL:g})"
        )
    for low, high in ((0.0, 1.0), (-1.0, 1.0), (1.0, 0.1), (0.5, 0.5)):
        try:
            with np.errstate(all="ignore"):
                sample(low, high, 3, np.random.default_rng(0))
        except ValueError:
            continue
        except AssertionError:  # the reference was called: already reported
            raise
        except Exception as error:  # e.g. numpy's OverflowError for log(0) = -inf
            wrong(
                f"sample_log_uniform({low:g}, {high:g}, 3, rng) raised "
                f"{type(error).__name__}, not ValueError",
                "Check 0 < low < high yourself and raise ValueError otherwise.",
            )
        wrong(
            f"sample_log_uniform({low:g}, {high:g}, 3, rng) did not raise ValueError",
            "A log scale needs 0 < low < high: raise ValueError otherwise.",
        )
    print("ok  ValueError unless 0 < low < high")
    print(
        f"All visible checks passed ({LOG_UNIFORM_DRAWS} draws, KS tolerance "
        f"{LOG_UNIFORM_KS_TOL:g})."
    )
