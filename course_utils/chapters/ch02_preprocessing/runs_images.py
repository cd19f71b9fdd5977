"""Chapter 02's photo tiles and their random splits (``notebooks/02_data_preprocessing.ipynb``,
section 3): cut the sample photos into tiles, split them, fit each image recipe of
:class:`~course_utils.preprocessing.ImageNormalizer` on the training tiles, and see where the
test tiles land, for one split (:func:`recipe_table`) and over many (:func:`offsets_table`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import numpy as np

from course_utils.preprocessing import IMAGE_MODES, ImageNormalizer
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
    check_sequence,
    check_work,
    make_rng,
)

__all__ = [
    "photo_tiles",
    "split_rows",
    "recipe_table",
    "SplitOffsets",
    "test_offsets_over_splits",
    "offsets_table",
]


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


# ------------------------------------------------------------------ the tiles and one split
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
