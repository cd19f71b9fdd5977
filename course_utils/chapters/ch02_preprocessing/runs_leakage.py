"""Chapter 02's leak (``notebooks/02_data_preprocessing.ipynb``, section 4): a scaler fit on the
training data only, against one fit on training + test data, for one split
(:func:`leakage_table`) and over many random stratified splits (:func:`leakage_over_splits`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils.preprocessing import Standardizer, check_matrix
from course_utils.splitting import stratified_splits
from course_utils.stats import spread
from course_utils.tables import format_table
from course_utils.validation import (
    check_array,
    check_int,
    check_real,
    check_work,
    fixed_seed,
)

__all__ = ["leakage_table", "constant_features", "LeakageOverSplits", "leakage_over_splits"]


def leakage_table(train, test) -> str:
    """Standardisation fit on the training data only (right) vs on training + test data
    (a leak): how far its statistics move, and how the test data then look.

    Columns: max |Δμ| and max |Δσ| against the train-only fit (per feature); the test set's
    average |mean| per feature after the transform; its average std over the features that
    vary in the training set, and over all features. The two std averages differ when some
    features are constant in the training set (:func:`constant_features`): such a feature
    is only centred by the right fit (std 0 or tiny on the test set), and is divided by a
    tiny leaked std in the other.
    """
    train, test = check_matrix(train, "train"), check_matrix(test, "test")
    if test.shape[1] != train.shape[1]:
        raise ValueError(f"test must have {train.shape[1]} columns, as train; got {test.shape}")
    right = Standardizer().fit(train)
    leak = Standardizer().fit(np.concatenate([train, test]))
    varying = train.std(axis=0) > 0
    n_varying = int(varying.sum())
    rows = {
        "max |Δμ|": [],
        "max |Δσ|": [],
        "test: mean |μ|": [],
        f"test: mean σ, {n_varying} varying": [],
        f"test: mean σ, all {train.shape[1]}": [],
    }
    for fit in (right, leak):
        rows["max |Δμ|"].append(float(np.abs(fit.mean_ - right.mean_).max()))
        rows["max |Δσ|"].append(float(np.abs(fit.scale_ - right.scale_).max()))
        out = fit.transform(test)
        rows["test: mean |μ|"].append(float(np.abs(out.mean(axis=0)).mean()))
        std = out.std(axis=0)
        rows[f"test: mean σ, {n_varying} varying"].append(
            float(std[varying].mean()) if n_varying else float("nan")
        )
        rows[f"test: mean σ, all {train.shape[1]}"].append(float(std.mean()))
    return format_table(
        rows,
        index=["train only (right)", "train + test (leak)"],
        index_name="scaler fit on",
        digits=4,
    )


def constant_features(train, test) -> str:
    """The features constant in ``train`` (N, D) and what each fit does to them on ``test``
    (N', D): one row per such feature with the test rows where it differs from its training
    value, the test std after the right fit (train only) and after the leaky fit (train +
    test), and the largest |value| the leaky fit gives it. Empty table if there is none.
    """
    train, test = check_matrix(train, "train"), check_matrix(test, "test")
    if test.shape[1] != train.shape[1]:
        raise ValueError(f"test must have {train.shape[1]} columns, as train; got {test.shape}")
    right = Standardizer().fit(train)
    leak = Standardizer().fit(np.concatenate([train, test]))
    constant = np.flatnonzero(train.std(axis=0) == 0)
    out_right, out_leak = right.transform(test), leak.transform(test)
    rows = {
        "test rows that differ": [str(int(np.sum(test[:, j] != train[0, j]))) for j in constant],
        "test σ, right": [float(out_right[:, j].std()) for j in constant],
        "test σ, leak": [float(out_leak[:, j].std()) for j in constant],
        "max |value|, leak": [float(np.abs(out_leak[:, j]).max()) for j in constant],
    }
    return format_table(
        rows, index=[str(j) for j in constant], index_name="constant feature", digits=3
    )


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
        Fixes the splits (:func:`course_utils.splitting.stratified_splits`, scikit-learn's
        ``StratifiedShuffleSplit`` without importing it; a Generator gives it an integer seed).
    """
    x = check_matrix(x, min_rows=4)
    y = check_array("y", y, dtype=None)
    if y.shape != (len(x),):
        raise ValueError(f"y must have shape ({len(x)},), one label per row of x; got {y.shape}")
    n_splits = check_int("n_splits", n_splits, 1, 1000)
    test_share = check_real("test_share", test_share, low=0, high=1, low_open=True, high_open=True)
    seed = fixed_seed("seed", seed)  # the same draws on every call
    classes, codes, counts = np.unique(y, return_inverse=True, return_counts=True)
    n_test = int(np.ceil(test_share * len(x)))
    if counts.min() < 2 or not len(classes) <= n_test <= len(x) - len(classes):
        raise ValueError(
            f"y must hold every class at least twice, and test_share must leave "
            f"room for each class on both sides; got {len(classes)} classes, "
            f"smallest {counts.min()} rows, test_share {test_share:g}"
        )
    check_work("the splits", n_splits * x.size * 10)
    columns = [[], [], [], []]
    # the class codes (0, 1, ... in np.unique's order) split as the labels themselves would
    for train, test in stratified_splits(codes, test_share, seed, n_splits):
        right = Standardizer().fit(x[train])
        leak = Standardizer().fit(x)  # train + test: every row
        columns[0].append(np.abs(leak.mean_ - right.mean_).max())
        columns[1].append(np.abs(leak.scale_ - right.scale_).max())
        columns[2].append(np.abs(right.transform(x[test]).mean(axis=0)).mean())
        columns[3].append(np.abs(leak.transform(x[test]).mean(axis=0)).mean())
    return LeakageOverSplits(*(np.array(c) for c in columns))
