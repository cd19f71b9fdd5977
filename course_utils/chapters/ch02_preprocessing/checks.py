"""Chapter 02's visible check: the ZCA whitening exercise."""

from __future__ import annotations

from typing import Callable

from course_utils.checking import call_answer

__all__ = [
    "ZCA_COV_TOL",
    "ZCA_MATCH_TOL",
    "ZCA_CHECK_EPS",
    "zca_check_data",
    "zca_mistake",
    "check_zca_whiten",
]

#: Chapter 02's exercise: identity covariance within this (ddof=0, eps=1e-10, float64).
ZCA_COV_TOL = 1e-6
ZCA_MATCH_TOL = 1e-8
#: The eps at which the visible check compares W with the reference: not 1, where eps,
#: eps**2 and sqrt(eps) coincide and a wrong power of eps would pass.
ZCA_CHECK_EPS = 2.0


def zca_check_data(n: int = 300, d: int = 4, seed: int = 0):
    """Well-conditioned correlated data with a non-zero mean, (n, d) float64."""
    import numpy as np

    from course_utils.preprocessing import MAX_FEATURES
    from course_utils.validation import check_elements, check_int, make_rng

    n, d = check_int("n", n, 2), check_int("d", d, 1, MAX_FEATURES)
    check_elements("the data (n, d)", (n, d))
    rng = make_rng(seed)
    mixing = rng.standard_normal((d, d)) + 2 * np.eye(d)
    return rng.standard_normal((n, d)) @ mixing + np.arange(1, d + 1) * 3.0


def zca_mistake(X, eps: float, W) -> str | None:
    """The usual mistake whose whitening matrix equals ``W`` for data ``X`` (N, D), or None.

    Each wrong recipe is computed here with NumPy (not with the course's reference) and
    compared with ``W`` within :data:`ZCA_MATCH_TOL` (relative to W's size).
    """
    import numpy as np

    from course_utils.validation import check_real

    eps = check_real("eps", eps, low=0, high=1e12, low_open=True)
    X = np.asarray(X, dtype=np.float64)
    W = np.asarray(W, dtype=np.float64)
    n, d = X.shape
    if W.shape != (d, d) or not np.all(np.isfinite(W)):
        return None
    centred = X - X.mean(axis=0)
    lam, U = np.linalg.eigh(centred.T @ centred / n)
    lam = np.clip(lam, 0.0, None)

    def sym(diagonal):
        return (U * diagonal) @ U.T

    candidates = [
        (
            sym(1 / np.sqrt(lam * n / (n - 1) + eps)),
            "Your W whitens the covariance divided by N - 1 (np.cov's default): the exercise "
            "divides by N, Σ = X_cᵀ X_c / N.",
        ),
        (
            sym(1 / np.sqrt(lam + 1e-5)),
            "eps looks fixed at 1e-5 (or sqrt(eps) is added, the same at eps = 1e-10): add "
            "the eps argument itself to every eigenvalue.",
        ),
        (
            sym(1 / np.sqrt(lam + 1e-10)),
            "eps looks ignored: add the eps argument to every eigenvalue before the square root.",
        ),
        (
            sym(1 / np.sqrt(np.maximum(lam, 1e-300))),
            "eps looks ignored: add the eps argument to every eigenvalue before the square root.",
        ),
        (
            sym(1 / np.sqrt(lam + eps**2)),
            "eps is squared: add eps itself to every eigenvalue, (Λ + eps)^(-1/2).",
        ),
        (
            sym(1 / np.sqrt(lam + np.sqrt(eps))),
            "sqrt(eps) is added: add eps itself to every eigenvalue, (Λ + eps)^(-1/2).",
        ),
        (
            sym(1 / np.sqrt(lam + 1e-10) + eps),
            "eps is added after the inverse square root: W = U (Λ + eps)^(-1/2) Uᵀ.",
        ),
        (
            sym(1 / (np.sqrt(lam) + eps)),
            "eps is added after the square root: it belongs inside, (Λ + eps)^(-1/2).",
        ),
        (
            sym(1 / (lam + eps)),
            "W = U (Λ + eps)^(-1) Uᵀ is the inverse covariance: whitening "
            "takes the inverse SQUARE ROOT.",
        ),
        (sym(np.sqrt(lam + eps)), "W = U (Λ + eps)^(+1/2) Uᵀ: the power is -1/2, not +1/2."),
        (
            U.T @ np.diag(1 / np.sqrt(lam + eps)) @ U,
            "np.linalg.eigh returns the eigenvectors as COLUMNS of U: W = U D Uᵀ, not Uᵀ D U.",
        ),
        (
            np.diag(1 / np.sqrt(np.diag(centred.T @ centred / n) + eps)),
            "W is diagonal: that only rescales each feature (standardisation). Whitening also "
            "removes the correlations, through the eigenvectors U.",
        ),
    ]
    scale = max(1.0, float(np.abs(W).max()))
    for candidate, hint in candidates:
        if np.allclose(W, candidate, rtol=0, atol=ZCA_MATCH_TOL * scale):
            return hint
    return None


def check_zca_whiten(zca_whiten: Callable) -> None:
    """Chapter 02's exercise: ``zca_whiten(X, eps) -> (X_white, W)`` with
    ``X_white = (X - mean) @ W``.

    Checked, in this order: a tuple of two float64 arrays of shapes (N, D) and (D, D); ``X``
    left unchanged; the mean removed (``X_white`` has mean 0); ``X_white`` equal to
    ``(X - mean) @ W``; identity covariance (ddof=0, eps tiny) within :data:`ZCA_COV_TOL`;
    ``W`` symmetric (ZCA, not PCA); and, with eps = :data:`ZCA_CHECK_EPS` (large, and not 1,
    where eps, eps² and √eps agree), the same ``W`` as the reference
    :class:`course_utils.preprocessing.Whitener` within :data:`ZCA_MATCH_TOL`.
    The reference is computed first; the answer runs inside ``references.hidden("zca")``, so
    fitting ``Whitener("zca")`` inside it fails with ``ReferenceUnavailable``. A wrong ``W``
    is compared with the usual mistakes (:func:`zca_mistake`) to say which one it looks like.
    """
    import numpy as np

    from course_utils.preprocessing import Whitener

    if not callable(zca_whiten):
        raise TypeError(f"zca_whiten must be a function; got {type(zca_whiten).__name__}")

    def fail(line, hint):
        print(f"WRONG {line}")
        raise AssertionError(f"{line}. {hint}")

    def run(X, eps):
        given = X.copy()
        out = call_answer("zca", f"zca_whiten(X, eps={eps:g})", zca_whiten, given, eps=eps)
        if not np.array_equal(given, X):
            fail(
                f"zca_whiten(X, eps={eps:g}) changed X in place",
                "Work on a copy: X_c = X - X.mean(axis=0) makes a new array, X -= ... does not.",
            )
        if not (isinstance(out, tuple) and len(out) == 2):
            fail(
                f"zca_whiten returned {type(out).__name__}",
                "zca_whiten must return (X_white, W), a tuple of two arrays",
            )
        white, W = out
        n, d = X.shape
        described = (
            f"X_white {getattr(white, 'shape', type(white).__name__)} "
            f"{getattr(white, 'dtype', '')}, W {getattr(W, 'shape', type(W).__name__)} "
            f"{getattr(W, 'dtype', '')}"
        )
        arrays = isinstance(white, np.ndarray) and isinstance(W, np.ndarray)
        if not (arrays and white.shape == (n, d) and W.shape == (d, d)):
            swapped = arrays and white.shape == (d, d) and W.shape == (n, d)
            fail(
                described,
                "Return (X_white, W) in this order."
                if swapped
                else f"Expected X_white {(n, d)}, one row per example, and W {(d, d)}.",
            )
        if not (white.dtype == W.dtype == np.float64):
            fail(described, "Compute in float64 (no astype(np.float32)).")
        if not (np.all(np.isfinite(white)) and np.all(np.isfinite(W))):
            fail(
                f"eps={eps:g}: X_white or W has NaN or infinite entries",
                "Is a square root taken of a negative number, or something divided by 0?",
            )
        return white, W

    def verdict(ok, what, value, tol, hint):
        # Tiny round-off values differ between machines: print them only when wrong.
        line = f"{what} < {tol:g}" if ok else f"{what} = {value:.2e}, above {tol:g}"
        if not ok:
            fail(line, hint)
        print(f"ok  {line}")

    X = zca_check_data()
    n, d = X.shape
    # the reference, before the answer runs
    W_reference = Whitener("zca", ZCA_CHECK_EPS).fit(X).matrix_
    white, W = run(X, 1e-10)
    print(f"ok  X_white {white.shape} {white.dtype}, W {W.shape} {W.dtype}")
    centred_input = X - X.mean(axis=0)
    mean = float(np.abs(white.mean(axis=0)).max())
    forgot = np.allclose(white, X @ W, rtol=0, atol=1e-6 * max(1.0, float(np.abs(white).max())))
    verdict(
        mean < ZCA_COV_TOL,
        "max |mean of X_white|",
        mean,
        ZCA_COV_TOL,
        "X_white = X @ W: the mean was not subtracted. Centre first: (X - mean) @ W."
        if forgot
        else "Subtract the mean of X before applying W.",
    )
    mismatch = float(np.abs(white - centred_input @ W).max())
    verdict(
        mismatch < ZCA_COV_TOL,
        "max |X_white - (X - mean) @ W|",
        mismatch,
        ZCA_COV_TOL,
        "X_white must be the centred data times the W you return (rows are examples: "
        "X_c @ W, not W @ X_cᵀ).",
    )
    centred = white - white.mean(axis=0)
    cov = centred.T @ centred / n
    deviation = float(np.abs(cov - np.eye(d)).max())
    hint = zca_mistake(X, 1e-10, W)
    if hint is None and np.allclose(cov, (n - 1) / n * np.eye(d), rtol=0, atol=ZCA_COV_TOL):
        hint = (
            "cov(X_white) is (N - 1)/N times I: the covariance was divided by N - 1 "
            "(np.cov's default); the exercise divides by N."
        )
    verdict(
        deviation < ZCA_COV_TOL,
        "eps=1e-10: max |cov(X_white) - I| (covariance / N)",
        deviation,
        ZCA_COV_TOL,
        hint or "The covariance divides by N (ddof=0), and W = U (Λ + eps)^(-1/2) Uᵀ.",
    )
    asymmetry = float(np.abs(W - W.T).max())
    verdict(
        asymmetry < ZCA_MATCH_TOL,
        "max |W - Wᵀ|",
        asymmetry,
        ZCA_MATCH_TOL,
        "ZCA's W is symmetric: rotate back with Uᵀ after scaling. W = U (Λ + eps)^(-1/2) "
        "alone is PCA whitening.",
    )
    white, W = run(X, ZCA_CHECK_EPS)
    error = float(np.abs(W - W_reference).max())
    verdict(
        error < ZCA_MATCH_TOL,
        f"eps={ZCA_CHECK_EPS:g}: max |W - W_reference|",
        error,
        ZCA_MATCH_TOL,
        zca_mistake(X, ZCA_CHECK_EPS, W)
        or "Is eps added to every eigenvalue before the square root?",
    )
    print(
        f"All visible checks passed (covariance within {ZCA_COV_TOL:g} of I, W symmetric, "
        "eps used)."
    )
