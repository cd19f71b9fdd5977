"""Chapter 10's exercise: log-uniform sampling."""

from __future__ import annotations

from typing import Callable

__all__ = ["LOG_UNIFORM_DRAWS", "LOG_UNIFORM_KS_TOL", "check_log_uniform"]


#: Chapter 10's exercise: draws per distribution test, and the largest distance allowed
#: between their CDF and the log-uniform CDF (Kolmogorov-Smirnov statistic; a correct
#: sampler stays below 0.0138 with probability 99.9% at 20,000 draws).
LOG_UNIFORM_DRAWS = 20_000
LOG_UNIFORM_KS_TOL = 0.02


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
        raise TypeError(f"sample_log_uniform must be a function; got "
                        f"{type(sample_log_uniform).__name__}")

    def wrong(what, hint):
        print(f"WRONG {what}")
        raise AssertionError(f"{what}. {hint}")

    out = sample_log_uniform(1e-3, 1.0, 5, np.random.default_rng(0))
    if not isinstance(out, np.ndarray) or out.shape != (5,) or out.dtype != np.float64:
        got = (f"{type(out).__name__} of shape {getattr(out, 'shape', '?')}, dtype "
               f"{getattr(out, 'dtype', '?')}")
        wrong(f"sample_log_uniform(1e-3, 1.0, 5, rng) returned a {got}",
              "Return a NumPy float64 array of shape (size,).")
    print("ok  sample_log_uniform(1e-3, 1.0, 5, rng) is a float64 array of shape (5,)")
    empty = sample_log_uniform(1e-3, 1.0, 0, np.random.default_rng(0))
    if np.shape(empty) != (0,):
        wrong(f"sample_log_uniform(1e-3, 1.0, 0, rng) returned shape {np.shape(empty)}",
              "size = 0 asks for an empty array, shape (0,).")
    print("ok  size 0 gives an empty array")
    again = sample_log_uniform(1e-3, 1.0, 5, np.random.default_rng(0))
    other = sample_log_uniform(1e-3, 1.0, 5, np.random.default_rng(1))
    if not np.array_equal(out, again) or np.array_equal(out, other):
        wrong("the draws do not follow rng (same seed: different draws, or another seed: the "
              "same draws)", "Draw with the rng you are given (rng.uniform(...)), not "
              "np.random.* or a new default_rng().")
    print("ok  the same rng seed gives the same draws, another seed other draws")
    for low, high in ((1e-5, 1e-1), (2.0, 50.0)):
        x = np.asarray(sample_log_uniform(low, high, LOG_UNIFORM_DRAWS,
                                          np.random.default_rng(2)), dtype=np.float64)
        if x.shape != (LOG_UNIFORM_DRAWS,) or not np.all(np.isfinite(x)):
            wrong(f"sample_log_uniform({low:g}, {high:g}, {LOG_UNIFORM_DRAWS}, rng) returned "
                  f"shape {x.shape} or non-finite values", "Return size finite draws.")
        if x.min() < low or x.max() > high or x.min() > low * 1.02 or x.max() < high / 1.02:
            wrong(f"{LOG_UNIFORM_DRAWS} draws from [{low:g}, {high:g}] span "
                  f"[{x.min():.4g}, {x.max():.4g}]", "The draws must cover [low, high] and no "
                  "more: take the logarithm of both bounds, draw uniformly between them, then "
                  "undo the logarithm with the same base.")
        print(f"ok  {LOG_UNIFORM_DRAWS} draws from [{low:g}, {high:g}] span "
              f"[{x.min():.4g}, {x.max():.4g}]")
        if low == 1e-5:
            shares = np.histogram(np.log10(x), bins=[-5, -4, -3, -2, -1])[0] / len(x)
            text = ", ".join(f"{s:.1%}" for s in shares)
            if np.abs(shares - 0.25).max() > 0.02:
                wrong(f"shares of the draws per decade of [1e-5, 1e-1]: {text} (expected 25% "
                      "each, within 2 points)", "Uniform draws crowd the top decade: draw the "
                      "*logarithm* uniformly.")
            print(f"ok  shares per decade of [1e-5, 1e-1]: {text} (25% each, within 2 points)")
        t = np.sort(x)
        cdf = np.log(t / low) / np.log(high / low)
        n = len(t)
        ks = float(max(np.max(np.arange(1, n + 1) / n - cdf), np.max(cdf - np.arange(n) / n)))
        if ks > LOG_UNIFORM_KS_TOL:
            wrong(f"on [{low:g}, {high:g}] the largest gap between the draws' CDF and the "
                  f"log-uniform CDF is {ks:.3f}, above {LOG_UNIFORM_KS_TOL:g}",
                  "P(x <= t) must be ln(t/low) / ln(high/low).")
        print(f"ok  on [{low:g}, {high:g}] the draws follow the log-uniform CDF (KS distance "
              f"below {LOG_UNIFORM_KS_TOL:g})")
    for low, high in ((0.0, 1.0), (-1.0, 1.0), (1.0, 0.1), (0.5, 0.5)):
        try:
            with np.errstate(all="ignore"):
                sample_log_uniform(low, high, 3, np.random.default_rng(0))
        except ValueError:
            continue
        except Exception as error:  # e.g. numpy's OverflowError for log(0) = -inf
            wrong(f"sample_log_uniform({low:g}, {high:g}, 3, rng) raised "
                  f"{type(error).__name__}, not ValueError",
                  "Check 0 < low < high yourself and raise ValueError otherwise.")
        wrong(f"sample_log_uniform({low:g}, {high:g}, 3, rng) did not raise ValueError",
              "A log scale needs 0 < low < high: raise ValueError otherwise.")
    print("ok  ValueError unless 0 < low < high")
    print(f"All visible checks passed ({LOG_UNIFORM_DRAWS} draws, KS tolerance "
          f"{LOG_UNIFORM_KS_TOL:g}).")


