"""Chapter 02's exercise: ZCA whitening."""

from __future__ import annotations

from typing import Callable

__all__ = ["ZCA_COV_TOL", "ZCA_MATCH_TOL", "zca_check_data", "check_zca_whiten"]

#: Chapter 02's exercise: identity covariance within this (ddof=0, eps=1e-10, float64).
ZCA_COV_TOL = 1e-6
ZCA_MATCH_TOL = 1e-8


def zca_check_data(n: int = 300, d: int = 4, seed: int = 0):
    """Well-conditioned correlated data with a non-zero mean, (n, d) float64."""
    import numpy as np

    rng = np.random.default_rng(seed)
    mixing = rng.standard_normal((d, d)) + 2 * np.eye(d)
    return rng.standard_normal((n, d)) @ mixing + np.arange(1, d + 1) * 3.0


def check_zca_whiten(zca_whiten: Callable) -> None:
    """Chapter 02's exercise: ``zca_whiten(X, eps) -> (X_white, W)`` with
    ``X_white = (X - mean) @ W``.

    Checked, in this order: shapes (N, D) and (D, D) and dtype float64; the mean removed
    (``X_white`` has mean 0); identity covariance (ddof=0, eps tiny) within
    :data:`ZCA_COV_TOL`; ``W`` symmetric (ZCA, not PCA); and, with a large eps, the same
    result as the reference :class:`course_utils.preprocessing.Whitener` (eps used).
    """
    import numpy as np

    from course_utils.preprocessing import Whitener

    if not callable(zca_whiten):
        raise TypeError(f"zca_whiten must be a function; got {type(zca_whiten).__name__}")

    def run(X, eps):
        out = zca_whiten(X.copy(), eps=eps)
        if not (isinstance(out, tuple) and len(out) == 2):
            raise AssertionError(f"zca_whiten must return (X_white, W); got {type(out).__name__}")
        return np.asarray(out[0]), np.asarray(out[1])

    def verdict(ok, what, value, tol, hint):
        # Tiny round-off values differ between machines: print them only when wrong.
        line = f"{what} < {tol:g}" if ok else f"{what} = {value:.2e}, above {tol:g}"
        print(f"{'ok ' if ok else 'WRONG'} {line}")
        if not ok:
            raise AssertionError(f"{line}. {hint}")

    X = zca_check_data()
    n, d = X.shape
    white, W = run(X, 1e-10)
    shapes = f"X_white {white.shape} {white.dtype}, W {W.shape} {W.dtype}"
    ok = white.shape == (n, d) and W.shape == (d, d) and white.dtype == W.dtype == np.float64
    print(f"{'ok ' if ok else 'WRONG'} {shapes}")
    if not ok:
        raise AssertionError(f"{shapes}: expected X_white {(n, d)} and W {(d, d)}, float64. "
                             "X_white has one row per example; W is D x D.")
    mean = float(np.abs(white.mean(axis=0)).max())
    verdict(mean < ZCA_COV_TOL, "max |mean of X_white|", mean, ZCA_COV_TOL,
            "Subtract the mean of X before applying W.")
    centred = white - white.mean(axis=0)
    deviation = float(np.abs(centred.T @ centred / n - np.eye(d)).max())
    verdict(deviation < ZCA_COV_TOL, "eps=1e-10: max |cov(X_white) - I| (covariance / N)",
            deviation, ZCA_COV_TOL,
            "The covariance divides by N (ddof=0), and W = U (Λ + eps)^(-1/2) Uᵀ.")
    asymmetry = float(np.abs(W - W.T).max())
    verdict(asymmetry < ZCA_MATCH_TOL, "max |W - Wᵀ|", asymmetry, ZCA_MATCH_TOL,
            "ZCA's W is symmetric: rotate back with U after scaling (PCA whitening stops at "
            "(Λ + eps)^(-1/2) Uᵀ).")
    white, W = run(X, 1.0)
    reference = Whitener("zca", 1.0).fit(X)
    error = float(np.abs(W - reference.matrix_).max())
    verdict(error < ZCA_MATCH_TOL, "eps=1: max |W - W_reference|", error, ZCA_MATCH_TOL,
            "Is eps added to every eigenvalue before the square root?")
    print(f"All visible checks passed (covariance within {ZCA_COV_TOL:g} of I, W symmetric, "
          "eps used).")


