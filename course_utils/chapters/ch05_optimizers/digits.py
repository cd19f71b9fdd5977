"""Chapter 05: the digits without importing scikit-learn.

:func:`load_digits` returns exactly what :func:`course_utils.data.load_digits` returns (the
same arrays, the same stratified split; the tests compare them) but reads scikit-learn's
bundled ``digits.csv.gz`` with NumPy and does the split itself, so the notebook does not
pay for importing scikit-learn (about 1.5 s of CPU on two cores, a sixth of the chapter).
Once :mod:`course_utils.data` loads the digits this way, this module can go.
"""

from __future__ import annotations

import gzip
import importlib.util
import math
import numbers
from pathlib import Path

import numpy as np

from course_utils.data import Digits

__all__ = ["load_digits"]


def _csv_path() -> Path:
    spec = importlib.util.find_spec("sklearn")  # finds the package without importing it
    if spec is None or not spec.submodule_search_locations:
        raise ValueError("scikit-learn is not installed: its digits file is needed")
    return Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"


def _approximate_mode(class_counts, n_draws, rng):
    """scikit-learn's ``utils.extmath._approximate_mode``: per-class draws, ties broken by
    ``rng``."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (inds,) = np.where(remainder == value)
            add_now = min(len(inds), need_to_add)
            inds = rng.choice(inds, size=add_now, replace=False)
            floored[inds] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(int)


def _stratified_split(y, test_size: float, seed: int):
    """scikit-learn's ``StratifiedShuffleSplit(1, test_size, random_state=seed)`` split,
    as ``train_test_split(..., stratify=y)`` uses it: (train indices, test indices)."""
    n = len(y)
    n_test = math.ceil(test_size * n)
    n_train = n - n_test
    _, y_indices, class_counts = np.unique(y, return_inverse=True, return_counts=True)
    class_indices = np.split(np.argsort(y_indices, kind="stable"), np.cumsum(class_counts)[:-1])
    rng = np.random.RandomState(seed)
    n_i = _approximate_mode(class_counts, n_train, rng)
    t_i = _approximate_mode(class_counts - n_i, n_test, rng)
    train, test = [], []
    for i in range(len(class_counts)):
        permutation = rng.permutation(class_counts[i])
        chosen = class_indices[i].take(permutation, mode="clip")
        train.extend(chosen[: n_i[i]])
        test.extend(chosen[n_i[i] : n_i[i] + t_i[i]])
    return rng.permutation(train), rng.permutation(test)


def load_digits(validation: float = 0.25, seed: int = 0) -> Digits:
    """scikit-learn's digits as float64 in [0, 1], split into training and validation data,
    identical to :func:`course_utils.data.load_digits` (without importing scikit-learn).

    Parameters
    ----------
    validation : float
        Share held out for validation, strictly between 0 and 1 (stratified split).
    seed : int
        Fixes the split.

    Returns
    -------
    Digits
        ``x_train`` (N, 64), ``y_train`` (N,), ``x_val`` (M, 64), ``y_val`` (M,).
    """
    if (
        isinstance(validation, bool)
        or not isinstance(validation, numbers.Real)
        or not 0 < validation < 1
    ):
        raise ValueError(f"validation must be a share strictly between 0 and 1; got {validation!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer between 0 and 2**32 - 1; got {seed!r}")
    with gzip.open(_csv_path(), mode="rt", encoding="utf-8") as f:
        data = np.loadtxt(f, delimiter=",")
    x = data[:, :-1].astype(np.float64) / 16.0
    y = data[:, -1].astype(int).astype(np.int64)
    if not 10 <= math.ceil(validation * len(y)) <= len(y) - 10:
        raise ValueError(
            f"validation leaves fewer than 10 examples (one per class) on one side; "
            f"got {validation!r}"
        )
    train, test = _stratified_split(y, float(validation), int(seed))
    return Digits(x[train], y[train], x[test], y[test])
