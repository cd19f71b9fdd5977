"""course_utils.splitting: scikit-learn's stratified split, index for index, without sklearn."""

import numpy as np
import pytest
from sklearn.model_selection import train_test_split

from course_utils.splitting import stratified_split, stratified_splits


def _sklearn(y, validation, seed):
    index = np.arange(len(y))
    train, val = train_test_split(index, test_size=validation, random_state=seed, stratify=y)
    return train, val


@pytest.mark.parametrize("seed", [0, 1, 2, 7, 42, 123, 2**32 - 1])
@pytest.mark.parametrize("validation", [0.1, 0.2, 0.25, 0.3, 1 / 3, 0.5, 0.9])
def test_indices_equal_scikit_learns_on_the_digits_labels(seed, validation):
    from course_utils.data import load_digits

    d = load_digits()
    y = np.concatenate([d.y_train, d.y_val])
    ours = stratified_split(y, validation, seed)
    theirs = _sklearn(y, validation, seed)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("seed", range(20))
def test_indices_equal_scikit_learns_with_ties_and_uneven_classes(seed):
    # Uneven class sizes make the remainders tie, so the tie-breaking draws are exercised.
    rng = np.random.default_rng(seed)
    y = rng.integers(0, int(rng.integers(2, 9)), size=int(rng.integers(40, 300)))
    y = np.concatenate([y, np.unique(y), np.unique(y)])  # every class at least twice
    validation = float(rng.uniform(0.1, 0.6))
    ours = stratified_split(y, validation, seed)
    theirs = _sklearn(y, validation, seed)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


def test_a_partition_with_every_class_in_proportion():
    y = np.repeat(np.arange(4), [10, 20, 30, 40])
    train, val = stratified_split(y, 0.25, 0)
    assert sorted(np.concatenate([train, val]).tolist()) == list(range(100))
    assert len(val) == 25
    # 2.5, 5, 7.5, 10 rows are each class's share: every class gets its share rounded.
    assert np.all(np.abs(np.bincount(y[val]) - [2.5, 5, 7.5, 10]) <= 0.5)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(y=[0, 0, 1]), "at least 2 rows"),
        (dict(y=[0.5, 0.5, 1, 1]), "integer class labels"),
        (dict(y=[0, 0, 1, 1], validation=0.0), "validation must be > 0"),
        (dict(y=[0, 0, 1, 1], validation=1.0), "validation must be > 0 and < 1"),
        (dict(y=[0, 0, 1, 1], seed=-1), "seed"),
        (dict(y=[0, 0, 1, 1], seed=2**32), "seed"),
        (dict(y=[0, 0, 1, 1, 2, 2], validation=0.1), "at least one row per class"),
    ],
)
def test_bad_arguments(kwargs, message):
    kwargs = {"validation": 0.5, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=message):
        stratified_split(**kwargs)


@pytest.mark.parametrize("seed", [0, 3, 2**32 - 1])
@pytest.mark.parametrize("validation", [0.25, 0.4])
def test_several_splits_equal_stratified_shuffle_splits(seed, validation):
    from sklearn.model_selection import StratifiedShuffleSplit

    # uneven classes, so the tie-breaking draws differ from split to split
    y = np.random.default_rng(seed % 7).integers(0, 5, size=203)
    y = np.concatenate([y, np.arange(5), np.arange(5)])
    splitter = StratifiedShuffleSplit(n_splits=12, test_size=validation, random_state=seed)
    ours = stratified_splits(y, validation, seed, n_splits=12)
    assert len(ours) == 12
    for (train, val), (their_train, their_val) in zip(ours, splitter.split(np.zeros(len(y)), y)):
        np.testing.assert_array_equal(train, their_train)
        np.testing.assert_array_equal(val, their_val)
        assert train.dtype == val.dtype == np.int64
    # the first of them is the single split
    for a, b in zip(ours[0], stratified_split(y, validation, seed)):
        np.testing.assert_array_equal(a, b)


def test_several_splits_bad_count():
    for n_splits in (0, 1001, 2.5):
        with pytest.raises((ValueError, TypeError), match="n_splits"):
            stratified_splits([0, 0, 1, 1], 0.5, 0, n_splits=n_splits)
