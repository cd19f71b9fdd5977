"""Chapter 02: data preprocessing. Standardisation, PCA decorrelation and whitening, ZCA, and
the mean-subtraction recipes of AlexNet, VGG and ResNet.

Conventions (stated once, used everywhere):

- Data are rows: ``X`` has shape (N, D), one example per row. A transform is
  ``X_new = (X - mu) @ W`` with a (D, D) matrix ``W``.
- The covariance divides by N (``ddof=0``): :math:`\\Sigma = \\frac1N X_c^\\top X_c` with
  :math:`X_c = X - \\mu`. scikit-learn's ``PCA.explained_variance_`` divides by N - 1, so its
  whitened data are ours times :math:`\\sqrt{(N-1)/N}`.
- :math:`\\Sigma = U \\Lambda U^\\top` (eigendecomposition, eigenvalues in decreasing order;
  each eigenvector's sign fixed so that its largest-magnitude entry is positive).

In the column-vector notation of the notebook, decorrelation is :math:`U^\\top x`, PCA
whitening :math:`\\Lambda_\\epsilon^{-1/2} U^\\top x` and ZCA whitening
:math:`U \\Lambda_\\epsilon^{-1/2} U^\\top x`, with :math:`\\Lambda_\\epsilon = \\Lambda +
\\epsilon I` (Bell & Sejnowski 1997; Kessy, Lewin & Strimmer 2018). Every statistic is fit on
training data (``fit``) and reused on any other data (``transform``).

The chapter's 2-D demo, its tables and its experiments over random splits are in
:mod:`course_utils.chapters.ch02_preprocessing`.
"""

from __future__ import annotations

import numpy as np

from course_utils.references import reference_answer
from course_utils.validation import check_array, check_choice, check_real, check_work

__all__ = [
    "MAX_FEATURES",
    "WHITENING_METHODS",
    "IMAGE_MODES",
    "check_matrix",
    "covariance",
    "max_identity_deviation",
    "Standardizer",
    "Whitener",
    "whiten",
    "decorrelate",
    "ImageNormalizer",
]

#: Largest D accepted for a (D, D) covariance: 4096² float64 is 128 MiB, and ``eigh`` needs
#: a few copies of it. A 2 GB Binder kernel stays safe.
MAX_FEATURES = 4096
WHITENING_METHODS = ("pca", "zca", "decorrelate")
IMAGE_MODES = ("image", "channel", "channel_std")


# ------------------------------------------------------------------ input checks
def check_matrix(X, name: str = "X", min_rows: int = 1) -> np.ndarray:
    """``X`` as a finite float64 (N, D) array, N >= ``min_rows``, 1 <= D <= MAX_FEATURES."""
    X = check_array(name, X, ndim=2)
    n, d = X.shape
    if n < min_rows or d < 1:
        raise ValueError(
            f"{name} must have at least {min_rows} rows and 1 column; got shape {X.shape}"
        )
    if d > MAX_FEATURES:
        raise ValueError(
            f"{name} has D = {d} features; at most {MAX_FEATURES} (the D x D "
            "covariance must fit a 2 GB kernel)"
        )
    check_work(f"the covariance of {name}", n * d * d, advice="use fewer rows or features")
    return X


def _check_eps(eps) -> float:
    return check_real("eps", eps, low=0, low_open=True)


class _Fitted:
    def _require_fit(self):
        if getattr(self, "mean_", None) is None:
            raise ValueError(f"{type(self).__name__} is not fitted: call fit(X_train) first")

    def _fitted_matrix(self, X) -> np.ndarray:
        """``X`` checked: fitted already, an (N, D) matrix with the fitted data's D."""
        self._require_fit()
        X = check_matrix(X)
        if X.shape[1] != self.mean_.size:
            raise ValueError(
                f"X must have {self.mean_.size} columns, as the data fit; got shape {X.shape}"
            )
        return X

    def fit_transform(self, X):
        return self.fit(X).transform(X)


def covariance(X) -> np.ndarray:
    """Covariance of the rows of ``X``, dividing by N (ddof=0).

    Parameters
    ----------
    X : ndarray, shape (N, D)

    Returns
    -------
    ndarray, shape (D, D), float64: :math:`\\frac1N (X-\\mu)^\\top (X-\\mu)`.
    """
    X = check_matrix(X)
    centred = X - X.mean(axis=0)
    return centred.T @ centred / X.shape[0]


def max_identity_deviation(X) -> float:
    """``max |cov(X) - I|``: 0 for perfectly whitened data."""
    cov = covariance(X)
    return float(np.abs(cov - np.eye(cov.shape[0])).max())


# ------------------------------------------------------------------ standardisation
class Standardizer(_Fitted):
    """:math:`X_{std} = (X - \\mu) / \\sigma` per feature, :math:`\\mu, \\sigma` fit on training data.

    Like ``sklearn.preprocessing.StandardScaler`` (std with ddof=0; a feature with zero std
    is only centred, its scale set to 1).

    Attributes
    ----------
    mean_, scale_ : ndarray, shape (D,)
    """

    def __init__(self):
        self.mean_ = self.scale_ = None

    def fit(self, X) -> "Standardizer":
        """Learn the per-feature mean and std of ``X`` (N, D)."""
        X = check_matrix(X)
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        return self

    def transform(self, X) -> np.ndarray:
        """``(X - mean_) / scale_``, shape (N, D), float64."""
        X = self._fitted_matrix(X)
        return (X - self.mean_) / self.scale_


# ------------------------------------------------------------------ whitening
class Whitener(_Fitted):
    """PCA decorrelation, PCA whitening or ZCA whitening, fit on training data.

    Parameters
    ----------
    method : {"pca", "zca", "decorrelate"}
        ``"decorrelate"``: rotate onto the eigenvectors, :math:`W = U` (rows:
        ``X_c @ U``); ``"pca"``: also divide by the std of each component,
        :math:`W = U \\Lambda_\\epsilon^{-1/2}`; ``"zca"``: rotate back,
        :math:`W = U \\Lambda_\\epsilon^{-1/2} U^\\top` (symmetric).
    eps : float > 0
        Added to every eigenvalue before the inverse square root: a direction of (almost)
        zero variance is not blown up to unit variance (it is mostly noise), and nothing
        divides by 0. The whitened covariance is :math:`\\Lambda / (\\Lambda + \\epsilon)`.

    Attributes
    ----------
    mean_ : ndarray (D,); eigenvalues_ : ndarray (D,), decreasing; eigenvectors_ : (D, D),
    columns; matrix_ : (D, D), the ``W`` of ``(X - mean_) @ W``.
    """

    def __init__(self, method: str = "zca", eps: float = 1e-5):
        self.method = check_choice("method", method, WHITENING_METHODS)
        self.eps = _check_eps(eps)
        self.mean_ = self.eigenvalues_ = self.eigenvectors_ = self.matrix_ = None

    def fit(self, X) -> "Whitener":
        """Learn mean, covariance eigendecomposition and ``matrix_`` from ``X`` (N, D)."""
        X = check_matrix(X, min_rows=2)
        self.mean_ = X.mean(axis=0)
        centred = X - self.mean_
        cov = centred.T @ centred / X.shape[0]
        values, vectors = np.linalg.eigh(cov)
        order = np.argsort(values)[::-1]
        values = np.clip(values[order], 0.0, None)  # round-off can make 0 slightly negative
        vectors = vectors[:, order]
        biggest = np.abs(vectors).argmax(axis=0)
        vectors *= np.sign(vectors[biggest, np.arange(vectors.shape[1])])
        self.eigenvalues_, self.eigenvectors_ = values, vectors
        self.matrix_ = self._matrix()
        return self

    def transform(self, X) -> np.ndarray:
        """``(X - mean_) @ matrix_``, shape (N, D), float64."""
        X = self._fitted_matrix(X)
        return (X - self.mean_) @ self.matrix_

    def with_method(self, method: str, eps: float | None = None) -> "Whitener":
        """A fitted Whitener with another ``method`` (and ``eps``, default this one's) on the
        same statistics: the mean and eigendecomposition are reused, no pass over the data."""
        self._require_fit()
        other = Whitener(method, self.eps if eps is None else eps)
        other.mean_, other.eigenvalues_, other.eigenvectors_ = (
            self.mean_,
            self.eigenvalues_,
            self.eigenvectors_,
        )
        other.matrix_ = other._matrix()
        return other

    def _matrix(self) -> np.ndarray:
        inv_sqrt = 1.0 / np.sqrt(self.eigenvalues_ + self.eps)
        if self.method == "decorrelate":
            return self.eigenvectors_
        if self.method == "pca":
            return self.eigenvectors_ * inv_sqrt
        return _zca_matrix(self.eigenvectors_, inv_sqrt)


@reference_answer("zca")
def _zca_matrix(vectors: np.ndarray, inv_sqrt: np.ndarray) -> np.ndarray:
    """ZCA's :math:`W = U (\\Lambda + \\epsilon)^{-1/2} U^\\top` from the eigenvectors ``vectors``
    (D, D), as columns, and :math:`(\\lambda_k + \\epsilon)^{-1/2}` ``inv_sqrt`` (D,).

    Chapter 02's exercise asks for this matrix, so it is the one piece of :class:`Whitener`
    marked as its reference answer: while an answer to the exercise runs, ``Whitener("zca")``
    and :func:`whiten` with ``"zca"`` refuse to fit; PCA whitening, decorrelation and the
    explorer (``whitening_demo``) work as usual.
    """
    return (vectors * inv_sqrt) @ vectors.T


def whiten(X, method: str = "zca", eps: float = 1e-5) -> np.ndarray:
    """Whitened ``X`` (N, D), statistics fit on ``X`` itself; ``method`` "pca" or "zca"."""
    check_choice("method", method, ("pca", "zca"))
    return Whitener(method, eps).fit_transform(X)


def decorrelate(X) -> np.ndarray:
    """``X`` centred and rotated onto its principal axes (N, D): diagonal covariance Λ."""
    return Whitener("decorrelate").fit_transform(X)


# ------------------------------------------------------------------ image recipes
class ImageNormalizer(_Fitted):
    """The seed's three recipes for image batches (N, H, W, C), fit on training images.

    Parameters
    ----------
    mode : {"image", "channel", "channel_std"}
        ``"image"`` (AlexNet, Krizhevsky et al. 2012): subtract the mean image, one mean per
        pixel position and channel, ``mean_`` shape (H, W, C). ``"channel"`` (VGG, Simonyan
        & Zisserman 2015): subtract one mean per colour channel, ``mean_`` shape (C,).
        ``"channel_std"`` (ResNet, He et al. 2016; torchvision's ``Normalize``): subtract the
        per-channel mean and divide by the per-channel std (ddof=0), both shape (C,).
    """

    def __init__(self, mode: str = "channel_std"):
        self.mode = check_choice("mode", mode, IMAGE_MODES)
        self.mean_ = None
        self.std_ = None

    def fit(self, images) -> "ImageNormalizer":
        images = check_array("images", images, ndim=4)
        if self.mode == "image":
            self.mean_ = images.mean(axis=0)
        else:
            self.mean_ = images.mean(axis=(0, 1, 2))
            if self.mode == "channel_std":
                std = images.std(axis=(0, 1, 2))
                self.std_ = np.where(std > 0, std, 1.0)
        self._shape = images.shape[1:]
        return self

    def transform(self, images) -> np.ndarray:
        """The normalised batch, same shape, float64."""
        self._require_fit()
        images = check_array("images", images, ndim=4)
        need = self._shape if self.mode == "image" else self._shape[-1:]
        if images.shape[-len(need) :] != need:
            raise ValueError(
                f"images must have shape (N, {', '.join(map(str, need))}) "
                f"ending like the training images for mode {self.mode!r}; "
                f"got {images.shape}"
            )
        out = images - self.mean_
        return out / self.std_ if self.std_ is not None else out
