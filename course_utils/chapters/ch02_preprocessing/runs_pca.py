"""Chapter 02, PCA beyond decorrelation (``notebooks/02_data_preprocessing.ipynb``, sections
4-5): PCA for dimensionality reduction (the variance kept by the first k components, and the
reconstruction error it leaves), and whitening seen on images (the eigenvectors of photo
patches, whitened photos, and how whitening amplifies noise, CS231n's warning, in numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils.preprocessing import Whitener, check_matrix
from course_utils.tables import format_table
from course_utils.validation import (
    MAX_ELEMENTS,
    check_array,
    check_int,
    check_real,
    check_sequence,
)

__all__ = [
    "variance_kept",
    "components_for",
    "variance_table",
    "pca_reconstruct",
    "whiten_photo",
    "NoiseAmplification",
    "noise_amplification",
    "image_likeness",
]


def _check_share(name, value):
    return check_real(name, value, low=0, high=1, low_open=True)


def _fit(X) -> Whitener:
    """``X`` (N, D) fit by a decorrelating Whitener, or ``X`` itself if it is a fitted one."""
    if isinstance(X, Whitener):
        if X.mean_ is None:
            raise ValueError("X must be an array (N, D) or a fitted Whitener; got an unfitted one")
        return X
    return Whitener("decorrelate").fit(check_matrix(X, min_rows=2))


def variance_kept(X) -> np.ndarray:
    """Share of the total variance kept by the first k principal components, k = 1..D.

    :math:`\\sum_{j \\le k} \\lambda_j / \\sum_j \\lambda_j`, eigenvalues of the covariance of
    ``X`` (N, D) in decreasing order (``X`` may be a fitted Whitener: its eigenvalues are
    reused). Returns an array (D,), increasing to 1.
    """
    lam = _fit(X).eigenvalues_
    total = lam.sum()
    if total <= 0:
        raise ValueError("X must vary: every feature is constant")
    return np.cumsum(lam) / total


def components_for(X, shares=(0.9, 0.95, 0.99)) -> list:
    """The smallest k whose first k components keep at least each share of the variance."""
    shares = check_sequence("shares", shares, _check_share, max_len=100)
    kept = variance_kept(X)
    # a share of exactly 1 needs every component with variance; round-off may keep it below 1
    return [int(min(np.searchsorted(kept, s - 1e-12) + 1, len(kept))) for s in shares]


def variance_table(datasets: dict, shares=(0.9, 0.95, 0.99)) -> str:
    """Per data set (name -> X (N, D) or a fitted Whitener of it): D, and the components
    needed for each share."""
    if not isinstance(datasets, dict) or not 1 <= len(datasets) <= 10:
        raise ValueError(
            f"datasets must be a dict of 1 to 10 arrays; got {type(datasets).__name__}"
        )
    shares = check_sequence("shares", shares, _check_share, max_len=10)
    rows = {"D": []} | {f"k for {s:.0%}": [] for s in shares}
    for name, X in datasets.items():
        if not isinstance(X, Whitener):
            X = check_matrix(X, f"datasets[{name!r}]", min_rows=2)
        fit = _fit(X)
        rows["D"].append(str(fit.mean_.size))
        for s, k in zip(shares, components_for(fit, shares)):
            rows[f"k for {s:.0%}"].append(str(k))
    return format_table(rows, index=list(datasets), index_name="data")


def pca_reconstruct(X_train, X, k: int) -> np.ndarray:
    """``X`` (M, D) projected on the first ``k`` principal components of ``X_train`` (N, D)
    and mapped back: :math:`\\mu + (x - \\mu) U_k U_k^\\top`, shape (M, D).

    On the training data the mean squared error, summed over features, is the variance left
    out, :math:`\\sum_{j > k} \\lambda_j` (tested).
    """
    X_train = check_matrix(X_train, "X_train", min_rows=2)
    X = check_matrix(X, "X")
    if X.shape[1] != X_train.shape[1]:
        raise ValueError(f"X must have {X_train.shape[1]} columns, as X_train; got {X.shape}")
    k = check_int("k", k, 0, X_train.shape[1])
    fit = Whitener("decorrelate").fit(X_train)
    U = fit.eigenvectors_[:, :k]
    return fit.mean_ + (X - fit.mean_) @ U @ U.T


def whiten_photo(photo, whitener: Whitener, size: int = 8) -> np.ndarray:
    """Whiten a photo (H, W, C) tile by tile: each ``size`` x ``size`` tile, flattened as
    :func:`~course_utils.chapters.ch02_preprocessing.runs_images.photo_tiles` does, goes
    through the fitted ``whitener`` (D = size² C); the tiles are put back in place.

    Returns float64 (H', W', C) with H', W' the multiples of ``size`` that fit.
    """
    photo = check_array("photo", photo, ndim=3)
    if not isinstance(whitener, Whitener) or whitener.mean_ is None:
        raise ValueError("whitener must be a fitted preprocessing.Whitener")
    size = check_int("size", size, 1, MAX_ELEMENTS)
    h, w, c = photo.shape[0] // size, photo.shape[1] // size, photo.shape[2]
    if whitener.mean_.size != size * size * c or h < 1 or w < 1:
        raise ValueError(
            f"photo must hold {size} x {size} tiles of {c} channels matching the whitener's "
            f"{whitener.mean_.size} features; got photo {photo.shape}"
        )
    grid = photo[: h * size, : w * size].reshape(h, size, w, size, c).swapaxes(1, 2)
    white = whitener.transform(grid.reshape(h * w, -1))
    return white.reshape(h, w, size, size, c).swapaxes(1, 2).reshape(h * size, w * size, c)


@dataclass(frozen=True)
class NoiseAmplification:
    """:func:`noise_amplification`'s result; arrays have one entry per eps.

    Attributes
    ----------
    eps : ndarray
    before : float
        Noise variance / signal variance before whitening, :math:`D\\sigma^2 / \\sum\\lambda`.
    after : ndarray
        The same after whitening, :math:`\\sigma^2\\sum 1/(\\lambda+\\epsilon) \\,/\\,
        \\sum \\lambda/(\\lambda+\\epsilon)`.
    noise_std : float
    """

    eps: np.ndarray
    before: float
    after: np.ndarray
    noise_std: float

    @property
    def factor(self) -> np.ndarray:
        """How many times whitening multiplies the noise-to-signal ratio."""
        return self.after / self.before

    def table(self) -> str:
        return format_table(
            {
                "noise / signal before": [f"{self.before:.2e}"] * len(self.eps),
                "noise / signal after": [f"{a:.3f}" for a in self.after],
                "amplified": [f"{f:,.0f} x" for f in self.factor],
            },
            index=[f"{e:g}" for e in self.eps],
            index_name="eps",
        )


def noise_amplification(X, eps_values=(1e-5, 1.0, 10.0, 100.0), noise_std: float = 1.0):
    """Noise-to-signal ratio of data ``X`` (N, D) plus independent noise of std
    ``noise_std`` per feature, before and after whitening fit on ``X``.

    Whitening (PCA or ZCA: the same traces) maps the signal's variance :math:`\\lambda_k` to
    :math:`\\lambda_k/(\\lambda_k+\\epsilon)` and the noise's :math:`\\sigma^2` to
    :math:`\\sigma^2/(\\lambda_k+\\epsilon)` in each principal direction: the directions of
    small variance, where little signal is, come out as loud as the others, and so does the
    noise in them (CS231n's notes: whitening "exaggerates the noise"). The tests check the
    formula against noise actually added. ``X`` may be a fitted Whitener of the data (its
    eigenvalues are reused).
    """
    fit = _fit(X)
    eps_values = np.array(
        check_sequence(
            "eps_values",
            eps_values,
            lambda name, e: check_real(name, e, low=0, low_open=True),
            max_len=100,
        )
    )
    noise_std = check_real("noise_std", noise_std, low=0, high=1e6, low_open=True)
    lam = fit.eigenvalues_
    if lam.sum() <= 0:
        raise ValueError("X must vary: every feature is constant")
    before = lam.size * noise_std**2 / lam.sum()
    after = np.array(
        [noise_std**2 * np.sum(1 / (lam + e)) / np.sum(lam / (lam + e)) for e in eps_values]
    )
    return NoiseAmplification(eps_values, float(before), after, noise_std)


def image_likeness(X, eps: float = 10.0, fit: Whitener | None = None) -> dict:
    """Median over the rows of ``X`` (N, D) of the correlation between a centred row and its
    PCA-whitened / ZCA-whitened version (whitening fit on ``X``): near 0 when the whitened
    vector no longer resembles the input (PCA: coordinates on the eigenvectors), high when
    it does (ZCA: the same pixels, contrast redistributed).

    ``fit``: a Whitener already fit on ``X``, to reuse its eigendecomposition.

    Returns dict {"PCA": float, "ZCA": float}.
    """
    X = check_matrix(X, min_rows=2)
    eps = check_real("eps", eps, low=0, low_open=True)
    fit = _fit(X) if fit is None else _fit(fit)  # one eigendecomposition for both
    if fit.mean_.size != X.shape[1]:
        raise ValueError(f"fit must be fit on data of {X.shape[1]} features, as X")
    centred = X - fit.mean_
    pca = centred @ fit.eigenvectors_ / np.sqrt(fit.eigenvalues_ + eps)
    a = centred - centred.mean(axis=1, keepdims=True)
    out = {}
    for name, white in (("PCA", pca), ("ZCA", pca @ fit.eigenvectors_.T)):
        b = white - white.mean(axis=1, keepdims=True)
        norm = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
        r = np.divide((a * b).sum(axis=1), norm, out=np.zeros(len(X)), where=norm > 0)
        out[name] = float(np.median(r))
    return out
