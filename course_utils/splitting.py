"""A stratified train/validation split, the same as scikit-learn's, without importing it.

- :func:`stratified_split`: the row indices that
  ``sklearn.model_selection.train_test_split(..., test_size=share, random_state=seed,
  stratify=y)`` returns, computed with NumPy alone.
- :func:`stratified_splits`: several such splits, those of
  ``StratifiedShuffleSplit(n_splits, test_size=share, random_state=seed).split(x, y)``.

Why not call scikit-learn: importing ``sklearn.model_selection`` costs about 1.3 s, a large
part of a chapter's run, only to shuffle 1,797 indices. The algorithm below is scikit-learn's
``StratifiedShuffleSplit`` step for step, driven by the same legacy
``numpy.random.RandomState``, whose streams NumPy keeps fixed across versions; a unit test
compares the indices with scikit-learn's for many seeds and shares.
"""

from __future__ import annotations

import math

import numpy as np

from course_utils.validation import MAX_ELEMENTS, check_array, check_int, check_real

__all__ = ["stratified_split", "stratified_splits"]


def _approximate_mode(class_counts: np.ndarray, n_draws: int, rng) -> np.ndarray:
    """How many of ``n_draws`` rows each class gets: the floor of its proportional share,
    the remaining rows to the classes with the largest remainders (ties broken by ``rng``)."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (inds,) = np.where(remainder == value)
            add_now = min(len(inds), need_to_add)
            floored[rng.choice(inds, size=add_now, replace=False)] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(int)


def stratified_split(y, validation: float = 0.25, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Split row indices into training and validation with every class in proportion.

    Parameters
    ----------
    y : array_like of int, shape (N,)
        Class labels; every class needs at least 2 rows.
    validation : float
        Share of the rows held out, strictly between 0 and 1: ``ceil(validation * N)`` rows.
    seed : int
        Seed of the ``numpy.random.RandomState`` that draws the split (>= 0).

    Returns
    -------
    train, val : ndarray of int64, shapes (N - n_val,) and (n_val,)
        Row indices, in scikit-learn's (shuffled) order: ``x[train], x[val]`` equal
        ``train_test_split(x, test_size=validation, random_state=seed, stratify=y)``'s.
    """
    return stratified_splits(y, validation, seed, n_splits=1)[0]


def stratified_splits(
    y, validation: float = 0.25, seed: int = 0, n_splits: int = 1
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``n_splits`` random stratified splits, one ``RandomState(seed)`` drawing them in turn:
    scikit-learn's ``StratifiedShuffleSplit(n_splits, test_size=validation,
    random_state=seed).split(x, y)``, index for index.

    Parameters
    ----------
    y, validation, seed
        As for :func:`stratified_split`, whose split is the first of these.
    n_splits : int
        1 to 1000.

    Returns
    -------
    list of (train, val)
        One pair of int64 index arrays per split, as :func:`stratified_split` returns.
    """
    y = check_array("y", y, ndim=1, limit=MAX_ELEMENTS)
    if y.size and not np.all(np.isfinite(y) & (y == np.round(y))):
        raise ValueError("y must hold integer class labels")
    validation = check_real("validation", validation, 0.0, 1.0, low_open=True, high_open=True)
    seed = check_int("seed", seed, 0, 2**32 - 1)
    n_splits = check_int("n_splits", n_splits, 1, 1000)
    n_samples = len(y)
    n_val = math.ceil(validation * n_samples)
    n_train = n_samples - n_val
    classes, y_indices, class_counts = np.unique(y, return_inverse=True, return_counts=True)
    if len(classes) and class_counts.min() < 2:
        raise ValueError("every class in y needs at least 2 rows to be split")
    if n_train < len(classes) or n_val < len(classes) or n_samples == 0:
        raise ValueError(
            f"{n_samples} rows with validation={validation} leave {n_train} training and "
            f"{n_val} validation rows; each side needs at least one row per class "
            f"({len(classes)} classes)"
        )
    class_indices = np.split(np.argsort(y_indices, kind="stable"), np.cumsum(class_counts)[:-1])
    rng = np.random.RandomState(seed)
    splits = []
    for _ in range(n_splits):  # ties in the class counts are broken anew for each split
        n_i = _approximate_mode(class_counts, n_train, rng)
        t_i = _approximate_mode(class_counts - n_i, n_val, rng)
        train, val = [], []
        for i in range(len(classes)):
            shuffled = class_indices[i].take(rng.permutation(class_counts[i]), mode="clip")
            train.extend(shuffled[: n_i[i]])
            val.extend(shuffled[n_i[i] : n_i[i] + t_i[i]])
        splits.append(
            (rng.permutation(train).astype(np.int64), rng.permutation(val).astype(np.int64))
        )
    return splits
