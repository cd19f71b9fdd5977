"""Chapter 02's experiments (``notebooks/02_data_preprocessing.ipynb``): the 2-D demo, the
tables the notebook prints, and the same numbers over many random splits. The transforms
themselves are the lesson, in :mod:`course_utils.preprocessing`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from course_utils.preprocessing import (
    IMAGE_MODES,
    ImageNormalizer,
    Standardizer,
    Whitener,
    _check_matrix,
    covariance,
    max_identity_deviation,
    whiten,
)
from course_utils.stats import spread
from course_utils.tables import format_table
from course_utils.validation import (
    MAX_DIGITS,
    MAX_ELEMENTS,
    MAX_ITEMS,
    MAX_SEED,
    check_array,
    check_elements,
    check_int,
    check_real,
    check_seed,
    check_sequence,
    check_work,
    make_rng,
)

__all__ = [
    "photo_tiles",
    "split_rows",
    "correlated_gaussian",
    "WhiteningDemo",
    "whitening_demo",
    "whitening_distances",
    "recipe_table",
    "leakage_table",
    "identity_table",
    "sklearn_whitening_scale",
    "sklearn_difference",
    "SplitOffsets",
    "test_offsets_over_splits",
    "offsets_table",
    "LeakageOverSplits",
    "leakage_over_splits",
]

#: Points of the 2-D demo: 100,000 points draw in about a second in the explorer's panels.
MAX_POINTS = 100_000
#: Random rotations tried by :func:`whitening_distances`, and random splits of
#: :func:`leakage_over_splits`: each costs a few passes over the data.
MAX_TRIALS = 10_000


def _check_images(name: str, images, shape=None) -> np.ndarray:
    """A batch (N, H, W, C); as a list at most MAX_ITEMS images (a longer set: an array)."""
    if isinstance(images, (list, tuple)) and len(images) > MAX_ITEMS:
        raise ValueError(
            f"{name} must be an array (N, H, W, C), or a list of at most "
            f"{MAX_ITEMS} images; got a list of {len(images)} items"
        )
    return check_array(name, images, ndim=4, shape=shape)


def _check_share(test_share) -> float:
    return check_real("test_share", test_share, low=0, high=1, low_open=True, high_open=True)


# ------------------------------------------------------------------ data
def photo_tiles(photos, size: int = 32) -> np.ndarray:
    """Cut each (H, W, C) photo into non-overlapping ``size`` x ``size`` tiles.

    Parameters
    ----------
    photos : collection of arrays (H, W, C)
        E.g. ``load_sample_photos().values()``; together at most
        :data:`~course_utils.validation.MAX_ELEMENTS` values.
    size : int

    Returns
    -------
    ndarray, shape (N, size, size, C), the photos' dtype; tiles row by row, photo by photo.
    """
    if (
        isinstance(photos, Collection)
        and not isinstance(photos, (str, bytes, np.ndarray))
        and len(photos) <= MAX_ITEMS
    ):
        photos = list(photos)  # dict values, say
    photos = check_sequence("photos", photos)
    size = check_int("size", size, 1, MAX_ELEMENTS)
    photos = [
        check_array(f"photos[{i}]", photo, ndim=3, dtype=None) for i, photo in enumerate(photos)
    ]
    check_elements("the photos together", (sum(photo.size for photo in photos),))
    tiles = []
    for photo in photos:
        if photo.dtype.kind not in "biuf":
            raise ValueError(f"photos must hold numbers; got dtype {photo.dtype}")
        if photo.shape[0] < size or photo.shape[1] < size:
            raise ValueError(
                f"every photo must have shape (H, W, C) with H, W >= {size}; got {photo.shape}"
            )
        h, w = photo.shape[0] // size, photo.shape[1] // size
        grid = photo[: h * size, : w * size].reshape(h, size, w, size, photo.shape[2])
        tiles.append(grid.swapaxes(1, 2).reshape(h * w, size, size, photo.shape[2]))
    return np.concatenate(tiles)


def split_rows(n: int, test_share: float, seed) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random split of ``range(n)``: (train indices, test indices), each sorted and
    non-empty (``n`` from 2 to :data:`~course_utils.validation.MAX_ELEMENTS`; ``seed`` an int
    or a Generator)."""
    n = check_int("n", n, 2, MAX_ELEMENTS)
    test_share = _check_share(test_share)
    order = make_rng(seed).permutation(n)
    n_test = min(max(1, int(round(n * test_share))), n - 1)
    return np.sort(order[n_test:]), np.sort(order[:n_test])


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
    the centred data to several whitenings of it: PCA, ZCA, and the closest of
    ``n_rotations`` random rotations of the PCA-whitened data (all are whitenings: any
    rotation of white data is white). ZCA is the closest (Kessy, Lewin & Strimmer 2018).

    Returns
    -------
    dict with keys "PCA", "ZCA", "best of random rotations".
    """
    X = _check_matrix(X, min_rows=2)
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
    return {
        "PCA": distance(white),
        "ZCA": distance(white @ pca.eigenvectors_.T),
        "best of random rotations": best,
    }


def _triple(values, digits: int) -> str:
    return " ".join(f"{round(float(v), digits) + 0.0:.{digits}f}" for v in np.ravel(values))


def recipe_table(train, test, digits: int = 1) -> str:
    """The seed's table computed: for each recipe, what it subtracts (and divides by), fit
    on ``train`` (N, H, W, C), and the per-channel mean and std of the result on ``train``
    and on ``test`` (N', H, W, C); ``digits`` decimals for the statistics of the recipe.
    """
    digits = check_int("digits", digits, 0, MAX_DIGITS)
    train = _check_images("train", train)
    test = _check_images("test", test, shape=(None, *train.shape[1:]))
    rows = {
        "subtracts": [],
        "divides by": [],
        "train mean": [],
        "train std": [],
        "test mean": [],
        "test std": [],
    }
    for mode in IMAGE_MODES:
        recipe = ImageNormalizer(mode).fit(train)
        if mode == "image":
            m = recipe.mean_.reshape(-1, recipe.mean_.shape[-1])
            rows["subtracts"].append(
                f"mean image {recipe.mean_.shape}: {m.min():.{digits}f} to {m.max():.{digits}f}"
            )
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
    train, test = _check_matrix(train, "train"), _check_matrix(test, "test")
    if test.shape[1] != train.shape[1]:
        raise ValueError(f"test must have {train.shape[1]} columns, as train; got {test.shape}")
    right = Standardizer().fit(train)
    leak = Standardizer().fit(np.concatenate([train, test]))
    rows = {"max |Δμ|": [], "max |Δσ|": [], "test: mean |μ|": [], "test: mean σ": []}
    for fit in (right, leak):
        rows["max |Δμ|"].append(float(np.abs(fit.mean_ - right.mean_).max()))
        rows["max |Δσ|"].append(float(np.abs(fit.scale_ - right.scale_).max()))
        out = fit.transform(test)
        rows["test: mean |μ|"].append(float(np.abs(out.mean(axis=0)).mean()))
        rows["test: mean σ"].append(float(out.std(axis=0).mean()))
    return format_table(
        rows,
        index=["train only (right)", "train + test (leak)"],
        index_name="scaler fit on",
        digits=4,
    )


def identity_table(X, eps_values=(1e-5, 1e-10)) -> str:
    """``max |cov - I|`` of ``X`` PCA- and ZCA-whitened (fit on ``X``) for each eps, beside
    the prediction :math:`\\epsilon / (\\lambda_{min} + \\epsilon)` (exact for PCA, whose
    covariance is the diagonal :math:`\\Lambda / (\\Lambda + \\epsilon)`)."""
    X = _check_matrix(X, min_rows=2)
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


def sklearn_difference(X, eps: float = 1e-12) -> float:
    """Largest difference between our PCA whitening of ``X`` and scikit-learn's
    ``PCA(whiten=True)`` rescaled by :func:`sklearn_whitening_scale` (its ddof=1), each
    component's sign aligned with ours."""
    from sklearn.decomposition import PCA

    X = _check_matrix(X, min_rows=2)
    ours = Whitener("pca", eps).fit_transform(X)
    theirs = PCA(whiten=True).fit_transform(X) * sklearn_whitening_scale(len(X))
    theirs *= np.sign((ours * theirs).sum(axis=0))
    return float(np.abs(ours - theirs).max())


# ------------------------------------------------------------------ over random splits


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
    images = _check_images("images", images)
    if len(images) < 2:
        raise ValueError(f"images must have at least 2 images; got shape {images.shape}")
    test_share = _check_share(test_share)
    seeds = tuple(check_sequence("seeds", seeds, lambda name, s: check_int(name, s, 0, MAX_SEED)))
    check_work("the splits", len(seeds) * len(images) * images.shape[-1])
    x = images.reshape(len(images), -1, images.shape[-1])
    # Per image and channel: sum and sum of squares, (N, C) each. For integer pixels (photos,
    # 0..255) every such sum is an integer below 2**53, so float64 holds it exactly, in any
    # order of summation: the statistics below do not depend on the CPU's SIMD kernels.
    sums, squares, pixels = x.sum(axis=1), (x**2).sum(axis=1), x.shape[1]
    raw, standardised = [], []
    for seed in seeds:
        train, test = split_rows(len(images), test_share, int(seed))
        n_train = len(train) * pixels
        mean = sums[train].sum(axis=0) / n_train
        std = np.sqrt(squares[train].sum(axis=0) / n_train - mean**2)
        offset = sums[test].sum(axis=0) / (len(test) * pixels) - mean
        raw.append(offset)
        standardised.append(offset / std)
    return SplitOffsets(np.array(raw), np.array(standardised), tuple(int(s) for s in seeds))


def offsets_table(offsets: SplitOffsets) -> str:
    """Per recipe: the first split's per-channel offsets, and over all splits their mean, SD
    and range (all channels together)."""
    if not isinstance(offsets, SplitOffsets):
        raise ValueError(
            f"offsets must be a SplitOffsets (see test_offsets_over_splits); got "
            f"{type(offsets).__name__}"
        )

    rows = {f"seed {offsets.seeds[0]}": [], "mean": [], "SD": [], "smallest to largest": []}
    for values, digits in ((offsets.raw, 2), (offsets.standardised, 3)):
        rows[f"seed {offsets.seeds[0]}"].append(_triple(values[0], digits))
        rows["mean"].append(_triple(values.mean(axis=0), digits))
        rows["SD"].append(_triple(values.std(axis=0, ddof=1), digits))
        rows["smallest to largest"].append(
            f"{values.min() + 0.0:.{digits}f} to {values.max() + 0.0:.{digits}f}"
        )
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
        return {
            name: spread(getattr(self, name))
            for name in ("max_mean_change", "max_scale_change", "test_mean_right", "test_mean_leak")
        }

    def table(self) -> str:
        """Median and range over the splits of :func:`leakage_table`'s columns."""

        titles = {
            "max_mean_change": "max |Δμ|",
            "max_scale_change": "max |Δσ|",
            "test_mean_right": "test: mean |μ|, right",
            "test_mean_leak": "test: mean |μ|, leak",
        }
        spreads = self.spreads()
        return format_table(
            {
                "median": [s.median for s in spreads.values()],
                "smallest": [s.min for s in spreads.values()],
                "largest": [s.max for s in spreads.values()],
            },
            index=list(titles.values()),
            index_name=f"over {self.n} splits",
            digits=4,
        )


def leakage_over_splits(
    x, y, test_share: float = 0.25, n_splits: int = 50, seed=0
) -> LeakageOverSplits:
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
    seed : int or numpy.random.Generator
        Fixes the splits (scikit-learn's ``StratifiedShuffleSplit``; a Generator gives it an
        integer seed).
    """
    from sklearn.model_selection import StratifiedShuffleSplit

    x = _check_matrix(x, min_rows=4)
    y = check_array("y", y, dtype=None)
    if y.shape != (len(x),):
        raise ValueError(f"y must have shape ({len(x)},), one label per row of x; got {y.shape}")
    n_splits = check_int("n_splits", n_splits, 1, 1000)
    test_share = _check_share(test_share)
    seed = check_seed("seed", seed)
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(MAX_SEED, endpoint=True))
    classes, counts = np.unique(y, return_counts=True)
    n_test = int(np.ceil(test_share * len(x)))
    if counts.min() < 2 or not len(classes) <= n_test <= len(x) - len(classes):
        raise ValueError(
            f"y must hold every class at least twice, and test_share must leave "
            f"room for each class on both sides; got {len(classes)} classes, "
            f"smallest {counts.min()} rows, test_share {test_share:g}"
        )
    check_work("the splits", n_splits * x.size * 10)
    splitter = StratifiedShuffleSplit(n_splits=n_splits, test_size=test_share, random_state=seed)
    columns = [[], [], [], []]
    for train, test in splitter.split(x, y):
        right = Standardizer().fit(x[train])
        leak = Standardizer().fit(x)  # train + test: every row
        columns[0].append(np.abs(leak.mean_ - right.mean_).max())
        columns[1].append(np.abs(leak.scale_ - right.scale_).max())
        columns[2].append(np.abs(right.transform(x[test]).mean(axis=0)).mean())
        columns[3].append(np.abs(leak.transform(x[test]).mean(axis=0)).mean())
    return LeakageOverSplits(*(np.array(c) for c in columns))
