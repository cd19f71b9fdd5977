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
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from course_utils.references import reference_answer

__all__ = [
    "MAX_FEATURES", "MAX_VALUES", "WHITENING_METHODS", "IMAGE_MODES", "covariance",
    "Standardizer", "Whitener", "whiten", "decorrelate", "ImageNormalizer", "photo_tiles",
    "split_rows", "correlated_gaussian", "WhiteningDemo", "whitening_demo",
    "max_identity_deviation", "whitening_distances", "recipe_table", "leakage_table",
    "identity_table", "sklearn_difference", "SplitOffsets", "test_offsets_over_splits",
    "offsets_table", "LeakageOverSplits", "leakage_over_splits",
]

#: Largest D accepted for a (D, D) covariance: 4096² float64 is 128 MiB, and ``eigh`` needs
#: a few copies of it. A 2 GB Binder kernel stays safe.
MAX_FEATURES = 4096
#: Largest number of values (N * D, or N * H * W * C) converted to float64 at once: 256 MiB.
MAX_VALUES = 2**25
WHITENING_METHODS = ("pca", "zca", "decorrelate")
IMAGE_MODES = ("image", "channel", "channel_std")


# ------------------------------------------------------------------ input checks
def _check_array(X, name: str, ndim: int, what: str) -> np.ndarray:
    X = np.asarray(X)
    if X.dtype == object or not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise ValueError(f"{name} must be an array of numbers; got dtype {X.dtype}")
    if X.ndim != ndim:
        raise ValueError(f"{name} must have shape {what}; got shape {X.shape}")
    if X.size > MAX_VALUES:
        raise ValueError(f"{name} has {X.size:,} values; at most {MAX_VALUES:,} (memory "
                         "bound for a 2 GB kernel): use fewer examples")
    X = X.astype(np.float64, copy=False)
    if not np.isfinite(X).all():
        raise ValueError(f"{name} must be finite; it holds NaN or infinity")
    return X


def _check_matrix(X, name: str = "X", min_rows: int = 1) -> np.ndarray:
    X = _check_array(X, name, 2, "(N, D)")
    n, d = X.shape
    if n < min_rows or d < 1:
        raise ValueError(f"{name} must have at least {min_rows} rows and 1 column; "
                         f"got shape {X.shape}")
    if d > MAX_FEATURES:
        raise ValueError(f"{name} has D = {d} features; at most {MAX_FEATURES} (the D x D "
                         "covariance must fit a 2 GB kernel)")
    return X


def _check_eps(eps) -> float:
    if (isinstance(eps, bool) or not isinstance(eps, numbers.Real)
            or not np.isfinite(eps) or eps <= 0):
        raise ValueError(f"eps must be a positive finite number; got {eps!r}")
    return float(eps)


def _check_choice(name: str, value, allowed) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


class _Fitted:
    def _require_fit(self):
        if getattr(self, "mean_", None) is None:
            raise ValueError(f"{type(self).__name__} is not fitted: call fit(X_train) first")

    def _fitted_matrix(self, X) -> np.ndarray:
        """``X`` checked: fitted already, an (N, D) matrix with the fitted data's D."""
        self._require_fit()
        X = _check_matrix(X)
        if X.shape[1] != self.mean_.size:
            raise ValueError(f"X must have {self.mean_.size} columns, as the data fit; "
                             f"got shape {X.shape}")
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
    X = _check_matrix(X)
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
        X = _check_matrix(X)
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
        self.method = _check_choice("method", method, WHITENING_METHODS)
        self.eps = _check_eps(eps)
        self.mean_ = self.eigenvalues_ = self.eigenvectors_ = self.matrix_ = None

    def fit(self, X) -> "Whitener":
        """Learn mean, covariance eigendecomposition and ``matrix_`` from ``X`` (N, D)."""
        X = _check_matrix(X, min_rows=2)
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
        inv_sqrt = 1.0 / np.sqrt(values + self.eps)
        if self.method == "decorrelate":
            self.matrix_ = vectors
        elif self.method == "pca":
            self.matrix_ = vectors * inv_sqrt
        else:
            self.matrix_ = _zca_matrix(vectors, inv_sqrt)
        return self

    def transform(self, X) -> np.ndarray:
        """``(X - mean_) @ matrix_``, shape (N, D), float64."""
        X = self._fitted_matrix(X)
        return (X - self.mean_) @ self.matrix_


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
    _check_choice("method", method, ("pca", "zca"))
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
        self.mode = _check_choice("mode", mode, IMAGE_MODES)
        self.mean_ = None
        self.std_ = None

    def fit(self, images) -> "ImageNormalizer":
        images = _check_array(images, "images", 4, "(N, H, W, C)")
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
        images = _check_array(images, "images", 4, "(N, H, W, C)")
        need = self._shape if self.mode == "image" else self._shape[-1:]
        if images.shape[-len(need):] != need:
            raise ValueError(f"images must have shape (N, {', '.join(map(str, need))}) "
                             f"ending like the training images for mode {self.mode!r}; "
                             f"got {images.shape}")
        out = images - self.mean_
        return out / self.std_ if self.std_ is not None else out


def photo_tiles(photos, size: int = 32) -> np.ndarray:
    """Cut each (H, W, C) photo into non-overlapping ``size`` x ``size`` tiles.

    Returns
    -------
    ndarray, shape (N, size, size, C), the photos' dtype; tiles row by row, photo by photo.
    """
    if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
        raise ValueError(f"size must be an integer >= 1; got {size!r}")
    tiles = []
    for photo in photos:
        photo = np.asarray(photo)
        if photo.ndim != 3 or photo.shape[0] < size or photo.shape[1] < size:
            raise ValueError(f"every photo must have shape (H, W, C) with H, W >= {size}; "
                             f"got {photo.shape}")
        h, w = photo.shape[0] // size, photo.shape[1] // size
        grid = photo[:h * size, :w * size].reshape(h, size, w, size, photo.shape[2])
        tiles.append(grid.swapaxes(1, 2).reshape(h * w, size, size, photo.shape[2]))
    return np.concatenate(tiles)


def split_rows(n: int, test_share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random split of ``range(n)``: (train indices, test indices), each sorted."""
    if not 0 < test_share < 1:
        raise ValueError(f"test_share must be strictly between 0 and 1; got {test_share!r}")
    order = np.random.default_rng(seed).permutation(n)
    n_test = max(1, int(round(n * test_share)))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


# ------------------------------------------------------------------ the 2-D demo
def correlated_gaussian(correlation: float = 0.8, angle: float = 0.0, scale: float = 1.5,
                        n: int = 500, seed: int = 0, offset=(1.5, 1.0)) -> np.ndarray:
    """A seeded 2-D Gaussian sample (n, 2).

    Before rotation the coordinates have stds 1 and ``scale`` and correlation
    ``correlation``: :math:`\\Sigma_0 = [[1, \\rho s], [\\rho s, s^2]]`; then the cloud is
    rotated by ``angle`` degrees (:math:`\\Sigma = R \\Sigma_0 R^\\top`) and shifted by
    ``offset``. The same seed gives the same standard-normal draws for every parameter.
    """
    for name, value in (("correlation", correlation), ("angle", angle), ("scale", scale)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
            raise ValueError(f"{name} must be a finite number; got {value!r}")
    if not -1 < correlation < 1:
        raise ValueError(f"correlation must be strictly between -1 and 1; got {correlation:g} "
                         "(at ±1 the points lie on a line: the covariance is singular and "
                         "whitening would divide by a zero variance)")
    if scale <= 0:
        raise ValueError(f"scale must be a positive number; got {scale:g}")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or not 2 <= n <= 100_000:
        raise ValueError(f"n must be an integer between 2 and 100000; got {n!r}")
    z = np.random.default_rng(seed).standard_normal((n, 2))
    t = np.deg2rad(angle)
    rotation = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    lower = np.array([[1.0, 0.0],
                      [correlation * scale, scale * np.sqrt(1 - correlation**2)]])
    factor = rotation @ lower  # Σ = factor @ factor.T
    return z @ factor.T + np.asarray(offset, dtype=np.float64)


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


def whitening_demo(correlation: float = 0.8, angle: float = 0.0, scale: float = 1.5,
                   n: int = 500, seed: int = 0, eps: float = 1e-5) -> WhiteningDemo:
    """:func:`correlated_gaussian` decorrelated, PCA-whitened and ZCA-whitened (fit on it)."""
    X = correlated_gaussian(correlation, angle, scale, n, seed)
    pca = Whitener("pca", eps).fit(X)
    white = pca.transform(X)
    zca = white @ pca.eigenvectors_.T  # ZCA = PCA whitening rotated back
    return WhiteningDemo(X, (X - pca.mean_) @ pca.eigenvectors_, white, zca,
                         covariance(X), covariance(white), covariance(zca))


# ------------------------------------------------------------------ the notebook's claims
def whitening_distances(X, eps: float = 1e-5, n_rotations: int = 100,
                        seed: int = 0) -> dict:
    """Mean squared distance :math:`\\frac1N\\sum_n \\|x^{white}_n - (x_n - \\mu)\\|^2` from
    the centred data to several whitenings of it: PCA, ZCA, and the closest of
    ``n_rotations`` random rotations of the PCA-whitened data (all are whitenings: any
    rotation of white data is white). ZCA is the closest (Kessy, Lewin & Strimmer 2018).

    Returns
    -------
    dict with keys "PCA", "ZCA", "best of random rotations".
    """
    X = _check_matrix(X, min_rows=2)
    if (isinstance(n_rotations, bool) or not isinstance(n_rotations, numbers.Integral)
            or not 1 <= n_rotations <= 10_000):
        raise ValueError(f"n_rotations must be an integer between 1 and 10000; got {n_rotations!r}")
    centred = X - X.mean(axis=0)
    pca = Whitener("pca", eps).fit(X)
    white = pca.transform(X)

    def distance(Y):
        return float(((Y - centred) ** 2).sum(axis=1).mean())

    rng = np.random.default_rng(seed)
    best = float("inf")
    for _ in range(n_rotations):
        q, r = np.linalg.qr(rng.standard_normal((X.shape[1], X.shape[1])))
        best = min(best, distance(white @ (q * np.sign(np.diag(r)))))
    return {"PCA": distance(white), "ZCA": distance(white @ pca.eigenvectors_.T),
            "best of random rotations": best}


def _triple(values, digits: int) -> str:
    return " ".join(f"{round(float(v), digits) + 0.0:.{digits}f}" for v in np.ravel(values))


def recipe_table(train, test, digits: int = 1) -> str:
    """The seed's table computed: for each recipe, what it subtracts (and divides by), fit
    on ``train`` (N, H, W, C), and the per-channel mean and std of the result on ``train``
    and on ``test``.
    """
    from course_utils.tables import format_table

    rows = {"subtracts": [], "divides by": [], "train mean": [], "train std": [],
            "test mean": [], "test std": []}
    for mode in IMAGE_MODES:
        recipe = ImageNormalizer(mode).fit(train)
        if mode == "image":
            m = recipe.mean_.reshape(-1, recipe.mean_.shape[-1])
            rows["subtracts"].append(f"mean image {recipe.mean_.shape}: "
                                     f"{m.min():.{digits}f} to {m.max():.{digits}f}")
        else:
            rows["subtracts"].append(f"channel means {_triple(recipe.mean_, digits)}")
        rows["divides by"].append("-" if recipe.std_ is None else _triple(recipe.std_, digits))
        for name, images in (("train", train), ("test", test)):
            out = recipe.transform(images)
            rows[f"{name} mean"].append(_triple(out.mean(axis=(0, 1, 2)), 2))
            rows[f"{name} std"].append(_triple(out.std(axis=(0, 1, 2)), 2))
    return format_table(rows, index=IMAGE_MODES, index_name="recipe")


def leakage_table(train, test) -> str:
    """Standardisation fit on the training data only (right) vs on training + test data
    (a leak): how far its statistics move, and how the test data then look.

    Columns: max |Δμ| and max |Δσ| against the train-only fit (per feature), and the test
    set's average |mean| and average std per feature after the transform.
    """
    from course_utils.tables import format_table

    train, test = _check_matrix(train), _check_matrix(test)
    right = Standardizer().fit(train)
    leak = Standardizer().fit(np.concatenate([train, test]))
    rows = {"max |Δμ|": [], "max |Δσ|": [], "test: mean |μ|": [], "test: mean σ": []}
    for fit in (right, leak):
        rows["max |Δμ|"].append(float(np.abs(fit.mean_ - right.mean_).max()))
        rows["max |Δσ|"].append(float(np.abs(fit.scale_ - right.scale_).max()))
        out = fit.transform(test)
        rows["test: mean |μ|"].append(float(np.abs(out.mean(axis=0)).mean()))
        rows["test: mean σ"].append(float(out.std(axis=0).mean()))
    return format_table(rows, index=["train only (right)", "train + test (leak)"],
                        index_name="scaler fit on", digits=4)


def identity_table(X, eps_values=(1e-5, 1e-10)) -> str:
    """``max |cov - I|`` of ``X`` PCA- and ZCA-whitened (fit on ``X``) for each eps, beside
    the prediction :math:`\\epsilon / (\\lambda_{min} + \\epsilon)` (exact for PCA, whose
    covariance is the diagonal :math:`\\Lambda / (\\Lambda + \\epsilon)`)."""
    from course_utils.tables import format_table

    rows = {"PCA": [], "ZCA": [], "eps / (λ_min + eps)": []}
    for eps in eps_values:
        for method in ("pca", "zca"):
            rows[method.upper()].append(f"{max_identity_deviation(whiten(X, method, eps)):.2e}")
        lam = Whitener("pca", eps).fit(X).eigenvalues_[-1]
        rows["eps / (λ_min + eps)"].append(f"{eps / (lam + eps):.2e}")
    return format_table(rows, index=[f"{eps:g}" for eps in eps_values], index_name="eps")


def sklearn_difference(X, eps: float = 1e-12) -> float:
    """Largest difference between our PCA whitening of ``X`` and scikit-learn's
    ``PCA(whiten=True)`` rescaled by :math:`\\sqrt{N/(N-1)}` (its ddof=1), each component's
    sign aligned with ours."""
    from sklearn.decomposition import PCA

    X = _check_matrix(X, min_rows=2)
    n = X.shape[0]
    ours = Whitener("pca", eps).fit_transform(X)
    theirs = PCA(whiten=True).fit_transform(X) * np.sqrt(n / (n - 1))
    theirs *= np.sign((ours * theirs).sum(axis=0))
    return float(np.abs(ours - theirs).max())


# ------------------------------------------------------------------ over random splits
# The course's one summary of a quantity measured once per seed (median, range, SD).
from course_utils.stats import Spread, spread  # noqa: E402


@dataclass(frozen=True)
class SplitOffsets:
    """How far the test set's per-channel means land from 0 after a recipe fit on the
    training set, once per random split; each field has shape (n_splits, C).

    Attributes
    ----------
    raw : ndarray
        After ``ImageNormalizer("channel")``: test channel mean minus training channel mean
        (pixel units).
    standardised : ndarray
        After ``ImageNormalizer("channel_std")``: the same divided by the training std.
    seeds : tuple of int
        The split of row ``i`` is ``split_rows(n, test_share, seeds[i])``.
    """

    raw: np.ndarray
    standardised: np.ndarray
    seeds: tuple


def test_offsets_over_splits(images, test_share: float = 0.25, seeds=range(200)) -> SplitOffsets:
    """Per-channel test-set means after the channel recipes, for many random splits.

    The same numbers as the "test mean" columns of :func:`recipe_table` for
    ``split_rows(len(images), test_share, seed)``, computed from per-image sums so that
    hundreds of splits cost one pass over the images.

    Parameters
    ----------
    images : array, shape (N, H, W, C)
    test_share : float
        Strictly between 0 and 1.
    seeds : iterable of int
        One split per seed.
    """
    images = np.asarray(images)
    if images.ndim != 4 or len(images) < 2:
        raise ValueError(f"images must have shape (N, H, W, C) with N >= 2; got {images.shape}")
    if images.size > MAX_VALUES:
        raise ValueError(f"images hold {images.size:,} values; the limit is {MAX_VALUES:,}")
    seeds = tuple(seeds)
    if not 1 <= len(seeds) <= 10_000 or any(
            isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 0 for s in seeds):
        raise ValueError(f"seeds must be 1 to 10,000 integers >= 0; got {seeds[:5]!r}")
    x = images.astype(np.float64).reshape(len(images), -1, images.shape[-1])
    # Per image and channel: sum and sum of squares, (N, C) each. For integer pixels (photos,
    # 0..255) every such sum is an integer below 2**53, so float64 holds it exactly, in any
    # order of summation: the statistics below do not depend on the CPU's SIMD kernels.
    sums, squares, pixels = x.sum(axis=1), (x ** 2).sum(axis=1), x.shape[1]
    raw, standardised = [], []
    for seed in seeds:
        train, test = split_rows(len(images), test_share, int(seed))
        n_train = len(train) * pixels
        mean = sums[train].sum(axis=0) / n_train
        std = np.sqrt(squares[train].sum(axis=0) / n_train - mean ** 2)
        offset = sums[test].sum(axis=0) / (len(test) * pixels) - mean
        raw.append(offset)
        standardised.append(offset / std)
    return SplitOffsets(np.array(raw), np.array(standardised), tuple(int(s) for s in seeds))


def offsets_table(offsets: SplitOffsets) -> str:
    """Per recipe: the first split's per-channel offsets, and over all splits their mean, SD
    and range (all channels together)."""
    from course_utils.tables import format_table

    rows = {f"seed {offsets.seeds[0]}": [], "mean": [], "SD": [], "smallest to largest": []}
    for values, digits in ((offsets.raw, 2), (offsets.standardised, 3)):
        rows[f"seed {offsets.seeds[0]}"].append(_triple(values[0], digits))
        rows["mean"].append(_triple(values.mean(axis=0), digits))
        rows["SD"].append(_triple(values.std(axis=0, ddof=1), digits))
        rows["smallest to largest"].append(
            f"{values.min() + 0.0:.{digits}f} to {values.max() + 0.0:.{digits}f}")
    return format_table(rows, index=["channel", "channel_std"], index_name="recipe")


@dataclass(frozen=True)
class LeakageOverSplits:
    """:func:`leakage_table`'s columns once per random split; each field has shape (n_splits,).

    Attributes
    ----------
    max_mean_change, max_scale_change : ndarray
        Largest change of a feature's mean / scale when the test set is fit too.
    test_mean_right, test_mean_leak : ndarray
        The test set's average |mean| per feature, fit on training data only / with the leak.
    """

    max_mean_change: np.ndarray
    max_scale_change: np.ndarray
    test_mean_right: np.ndarray
    test_mean_leak: np.ndarray

    @property
    def n(self) -> int:
        return len(self.test_mean_right)

    @property
    def leak_looks_better(self) -> int:
        """Splits in which the leak makes the test set look better centred."""
        return int(np.sum(self.test_mean_leak < self.test_mean_right))

    @property
    def blank_pixel_splits(self) -> int:
        """Splits in which some scale moves by more than 0.5: a feature constant in the
        training set (std 0, scale 1) that varies once the test set is added."""
        return int(np.sum(self.max_scale_change > 0.5))

    @property
    def largest_other_scale_change(self) -> float:
        """The largest max |Δσ| among the splits without such a feature (nan if none)."""
        other = self.max_scale_change[self.max_scale_change <= 0.5]
        return float(other.max()) if other.size else float("nan")

    def spreads(self) -> dict:
        """Each field as a :class:`~course_utils.stats.Spread`."""
        return {name: spread(getattr(self, name)) for name in
                ("max_mean_change", "max_scale_change", "test_mean_right", "test_mean_leak")}

    def table(self) -> str:
        """Median and range over the splits of :func:`leakage_table`'s columns."""
        from course_utils.tables import format_table

        titles = {"max_mean_change": "max |Δμ|", "max_scale_change": "max |Δσ|",
                  "test_mean_right": "test: mean |μ|, right", "test_mean_leak":
                  "test: mean |μ|, leak"}
        spreads = self.spreads()
        return format_table({"median": [s.median for s in spreads.values()],
                             "smallest": [s.min for s in spreads.values()],
                             "largest": [s.max for s in spreads.values()]},
                            index=list(titles.values()), index_name=f"over {self.n} splits",
                            digits=4)


def leakage_over_splits(x, y, test_share: float = 0.25, n_splits: int = 50,
                        seed: int = 0) -> LeakageOverSplits:
    """:func:`leakage_table` for ``n_splits`` random stratified splits of ``(x, y)``.

    Parameters
    ----------
    x : array, shape (N, D)
    y : array, shape (N,)
        Class labels: every split keeps their proportions (as
        :func:`course_utils.data.load_digits` does).
    test_share : float
    n_splits : int
        1 to 1000.
    seed : int
        Fixes the splits (scikit-learn's ``StratifiedShuffleSplit``).
    """
    from sklearn.model_selection import StratifiedShuffleSplit

    x = _check_matrix(x, min_rows=4)
    y = np.asarray(y)
    if y.shape != (len(x),):
        raise ValueError(f"y must have shape ({len(x)},), one label per row of x; got {y.shape}")
    if isinstance(n_splits, bool) or not isinstance(n_splits, numbers.Integral) \
            or not 1 <= n_splits <= 1000:
        raise ValueError(f"n_splits must be an integer between 1 and 1000; got {n_splits!r}")
    if not 0 < test_share < 1:
        raise ValueError(f"test_share must be strictly between 0 and 1; got {test_share!r}")
    splitter = StratifiedShuffleSplit(n_splits=int(n_splits), test_size=test_share,
                                      random_state=int(seed))
    columns = [[], [], [], []]
    for train, test in splitter.split(x, y):
        right = Standardizer().fit(x[train])
        leak = Standardizer().fit(x)  # train + test: every row
        columns[0].append(np.abs(leak.mean_ - right.mean_).max())
        columns[1].append(np.abs(leak.scale_ - right.scale_).max())
        columns[2].append(np.abs(right.transform(x[test]).mean(axis=0)).mean())
        columns[3].append(np.abs(leak.transform(x[test]).mean(axis=0)).mean())
    return LeakageOverSplits(*(np.array(c) for c in columns))
