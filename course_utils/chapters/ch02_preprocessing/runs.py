"""Chapter 02's 2-D demo and whitening claims (``notebooks/02_data_preprocessing.ipynb``,
sections 1-2): a correlated Gaussian cloud and its whitenings, and the numbers the notebook
prints about them. The transforms themselves are the lesson, in
:mod:`course_utils.preprocessing`; the photo tiles and their splits are in
:mod:`~course_utils.chapters.ch02_preprocessing.runs_images`, the leak in
:mod:`~course_utils.chapters.ch02_preprocessing.runs_leakage`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils.preprocessing import (
    Whitener,
    check_matrix,
    covariance,
    max_identity_deviation,
    whiten,
)
from course_utils.tables import format_table
from course_utils.threads import one_thread
from course_utils.validation import (
    check_array,
    check_int,
    check_real,
    check_sequence,
    check_work,
    make_rng,
)

__all__ = [
    "correlated_gaussian",
    "WhiteningDemo",
    "whitening_demo",
    "whitening_distances",
    "identity_table",
    "turned_cloud_check",
    "sklearn_whitening_scale",
    "svd_difference",
]

#: Points of the 2-D demo: 100,000 points draw in about a second in the explorer's panels.
MAX_POINTS = 100_000
#: Random rotations tried by :func:`whitening_distances`: each costs a few passes over the data.
MAX_TRIALS = 10_000


# ------------------------------------------------------------------ the 2-D demo
def correlated_gaussian(
    correlation: float = 0.8,
    angle: float = 0.0,
    scale: float = 1.5,
    n: int = 500,
    seed=0,
    offset=(1.5, 1.0),
) -> np.ndarray:
    """A seeded 2-D Gaussian sample (n, 2).

    Before rotation the coordinates have stds 1 and ``scale`` and correlation
    ``correlation``: :math:`\\Sigma_0 = [[1, \\rho s], [\\rho s, s^2]]`; then the cloud is
    rotated by ``angle`` degrees (:math:`\\Sigma = R \\Sigma_0 R^\\top`) and shifted by
    ``offset``. The same seed gives the same standard-normal draws for every parameter.
    """
    correlation = check_real("correlation", correlation)
    angle = check_real("angle", angle, low=-360, high=360)
    scale = check_real("scale", scale)
    if not -1 < correlation < 1:
        raise ValueError(
            f"correlation must be strictly between -1 and 1; got {correlation:g} "
            "(at ±1 the points lie on a line: the covariance is singular and "
            "whitening would divide by a zero variance)"
        )
    if not 0 < scale <= 1e6:
        raise ValueError(f"scale must be > 0 and <= 1e6; got {scale:g}")
    n = check_int("n", n, 2, MAX_POINTS)
    offset = check_array("offset", offset, shape=(2,))
    z = make_rng(seed).standard_normal((n, 2))
    t = np.deg2rad(angle)
    rotation = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    lower = np.array([[1.0, 0.0], [correlation * scale, scale * np.sqrt(1 - correlation**2)]])
    factor = rotation @ lower  # Σ = factor @ factor.T
    return z @ factor.T + offset


@dataclass(frozen=True)
class WhiteningDemo:
    """One 2-D sample and its transforms, each (n, 2), with covariances (2, 2)."""

    original: np.ndarray
    decorrelated: np.ndarray
    pca: np.ndarray
    zca: np.ndarray
    cov_original: np.ndarray
    cov_pca: np.ndarray
    cov_zca: np.ndarray


def whitening_demo(
    correlation: float = 0.8,
    angle: float = 0.0,
    scale: float = 1.5,
    n: int = 500,
    seed=0,
    eps: float = 1e-5,
) -> WhiteningDemo:
    """:func:`correlated_gaussian` decorrelated, PCA-whitened and ZCA-whitened (fit on it)."""
    X = correlated_gaussian(correlation, angle, scale, n, seed)
    pca = Whitener("pca", eps).fit(X)
    white = pca.transform(X)
    zca = white @ pca.eigenvectors_.T  # ZCA = PCA whitening rotated back
    return WhiteningDemo(
        X,
        (X - pca.mean_) @ pca.eigenvectors_,
        white,
        zca,
        covariance(X),
        covariance(white),
        covariance(zca),
    )


# ------------------------------------------------------------------ the notebook's claims
def whitening_distances(X, eps: float = 1e-5, n_rotations: int = 100, seed=0) -> dict:
    """Mean squared distance :math:`\\frac1N\\sum_n \\|x^{white}_n - (x_n - \\mu)\\|^2` from
    the centred data to several whitenings of it.

    PCA whitening depends on the eigenvectors' signs, which are arbitrary (``u`` and ``-u``
    are both eigenvectors): with :class:`~course_utils.preprocessing.Whitener`'s convention
    (each eigenvector's largest-magnitude entry positive), and with the best and the worst of
    the :math:`2^D` sign choices. Writing :math:`y` for the PCA-whitened and :math:`c` for the
    centred data, the distance is :math:`\\overline{\\|y\\|^2} + \\overline{\\|c\\|^2} -
    2\\sum_k s_k\\,\\overline{y_k c_k}` for signs :math:`s_k = \\pm 1`: each sign acts alone, so
    the best choice is :math:`s_k = \\operatorname{sign}(\\overline{y_k c_k})` and the worst its
    opposite (no need to try all :math:`2^D`). ZCA, :math:`U \\Lambda^{-1/2} U^\\top`, does not
    depend on the signs. Last, the closest of ``n_rotations`` random orthogonal transforms of
    the PCA-whitened data (all whitenings: any orthogonal transform of white data is white).
    ZCA is the closest whitening (Kessy, Lewin & Strimmer 2018).

    Parameters
    ----------
    X : array, shape (N, D)
    eps : float > 0
    n_rotations : int, 1 to 10,000
    seed : int or numpy.random.Generator

    Returns
    -------
    dict with keys "PCA, our signs", "PCA, best signs", "PCA, worst signs", "ZCA",
    "best of random rotations", each a float.
    """
    X = check_matrix(X, min_rows=2)
    n_rotations = check_int("n_rotations", n_rotations, 1, MAX_TRIALS)
    rng = make_rng(seed)
    d = X.shape[1]
    check_work(
        "the random rotations",
        n_rotations * (d**3 + X.size * d),
        advice="use fewer rotations or features",
    )
    centred = X - X.mean(axis=0)
    pca = Whitener("pca", eps).fit(X)
    white = pca.transform(X)

    def distance(Y):
        return float(((Y - centred) ** 2).sum(axis=1).mean())

    best = float("inf")
    for _ in range(n_rotations):
        q, r = np.linalg.qr(rng.standard_normal((X.shape[1], X.shape[1])))
        best = min(best, distance(white @ (q * np.sign(np.diag(r)))))
    best_signs = np.where((white * centred).mean(axis=0) >= 0, 1.0, -1.0)
    return {
        "PCA, our signs": distance(white),
        "PCA, best signs": distance(white * best_signs),
        "PCA, worst signs": distance(white * -best_signs),
        "ZCA": distance(white @ pca.eigenvectors_.T),
        "best of random rotations": best,
    }


def turned_cloud_check(
    angle: float, correlation: float = 0.8, scale: float = 1.5, n: int = 500, seed=0
) -> dict:
    """What turning the cloud by ``angle`` degrees does to its whitenings (same draws).

    Returns
    -------
    dict with "PCA: max ||turned| - |unturned||", the PCA-whitened points' largest change up
    to the sign of each component (0: they do not move), and "ZCA: max |turned - R unturned|",
    the ZCA-whitened points' largest distance from the unturned ones rotated by ``angle``
    (0: they turn with the data).
    """
    angle = check_real("angle", angle, low=-360, high=360)
    start = whitening_demo(correlation, 0.0, scale, n, seed)
    turned = whitening_demo(correlation, angle, scale, n, seed)
    t = np.deg2rad(angle)
    rotation = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    return {
        "PCA: max ||turned| - |unturned||": float(
            np.abs(np.abs(turned.pca) - np.abs(start.pca)).max()
        ),
        "ZCA: max |turned - R unturned|": float(np.abs(turned.zca - start.zca @ rotation.T).max()),
    }


def identity_table(X, eps_values=(1e-5, 1e-10)) -> str:
    """``max |cov - I|`` of ``X`` PCA- and ZCA-whitened (fit on ``X``) for each eps, beside
    the prediction :math:`\\epsilon / (\\lambda_{min} + \\epsilon)` (exact for PCA, whose
    covariance is the diagonal :math:`\\Lambda / (\\Lambda + \\epsilon)`)."""
    X = check_matrix(X, min_rows=2)
    eps_values = check_sequence(
        "eps_values",
        eps_values,
        lambda name, eps: check_real(name, eps, low=0, low_open=True),
        max_len=100,
    )
    check_work("the whitenings", 3 * len(eps_values) * (X.shape[1] ** 3 + X.size * X.shape[1]))
    rows = {"PCA": [], "ZCA": [], "eps / (λ_min + eps)": []}
    for eps in eps_values:
        for method in ("pca", "zca"):
            rows[method.upper()].append(f"{max_identity_deviation(whiten(X, method, eps)):.2e}")
        lam = Whitener("pca", eps).fit(X).eigenvalues_[-1]
        rows["eps / (λ_min + eps)"].append(f"{eps / (lam + eps):.2e}")
    return format_table(rows, index=[f"{eps:g}" for eps in eps_values], index_name="eps")


def sklearn_whitening_scale(n: int) -> float:
    """:math:`\\sqrt{N/(N-1)}`: scikit-learn's whitened data (variance divided by N - 1) times
    this are ours (divided by N), for N = ``n`` >= 2 rows."""
    n = check_int("n", n, 2)
    return float(np.sqrt(n / (n - 1)))


def svd_difference(X, eps: float = 1e-12, fit=None) -> float:
    r"""Largest difference between our PCA whitening of ``X`` (N, D) and one computed from
    scratch by a singular value decomposition of the covariance, each component's sign aligned
    with ours.

    The reference: :math:`\Sigma = X_c^\top X_c / N = U S U^\top` by ``numpy.linalg.svd``
    (for a symmetric positive semi-definite matrix the SVD is its eigendecomposition, found by
    another LAPACK routine than our ``eigh``), then :math:`X_c U (S + \epsilon)^{-1/2}`.
    The agreement with scikit-learn's ``PCA(whiten=True)`` is a unit test's
    (``tests/chapters/ch02_preprocessing/test_ch02_runs.py``), which keeps scikit-learn's
    import out of the notebook.

    ``fit``, optional: a :class:`~course_utils.preprocessing.Whitener` already fit on ``X``
    (any method), whose eigendecomposition is reused instead of computed again.
    """
    X = check_matrix(X, min_rows=2)
    eps = check_real("eps", eps, low=0, low_open=True)
    if fit is not None and (
        not isinstance(fit, Whitener) or fit.mean_ is None or fit.mean_.shape != X.shape[1:]
    ):
        raise ValueError(f"fit must be a Whitener fit on X ({X.shape[1]} columns); got {fit!r}")
    check_work("the two whitenings", 4 * X.size * X.shape[1] + 2 * X.shape[1] ** 3)
    # small products: one BLAS thread, as several only wait for each other on a busy machine
    with one_thread():
        if fit is None:
            ours = Whitener("pca", eps).fit_transform(X)
        else:
            ours = fit.with_method("pca", eps).transform(X)
        centred = X - X.mean(axis=0)
        U, S, _ = np.linalg.svd(centred.T @ centred / len(X))
        theirs = centred @ (U / np.sqrt(S + eps))
    theirs *= np.sign((ours * theirs).sum(axis=0))
    return float(np.abs(ours - theirs).max())
