"""course_utils.data: offline data, fixed splits, bad arguments."""

import numpy as np
import pytest

from course_utils import data


def test_digits_split_is_fixed_stratified_and_scaled():
    d = data.load_digits()
    assert d.x_train.shape == (1347, 64) and d.x_val.shape == (450, 64)
    assert d.x_train.dtype == np.float64 and d.y_train.dtype == np.int64
    assert 0.0 == min(d.x_train.min(), d.x_val.min()) and max(d.x_train.max(), d.x_val.max()) == 1.0
    np.testing.assert_array_equal(np.bincount(d.y_val, minlength=10) > 40, True)
    again = data.load_digits()
    np.testing.assert_array_equal(again.x_train, d.x_train)
    assert not np.array_equal(data.load_digits(seed=1).y_train, d.y_train)
    assert d.num_classes == 10


def test_sample_photos_are_the_two_bundled_images():
    photos = data.load_sample_photos()
    assert sorted(photos) == ["china", "flower"]
    assert all(p.shape == (427, 640, 3) and p.dtype == np.uint8 for p in photos.values())
    photos["china"][0, 0] = 0  # fresh arrays: nothing shared is changed
    assert data.load_sample_photos()["china"].flags.writeable


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(validation=0), "validation must be a share strictly between 0 and 1; got 0"),
        (dict(validation=1.5), "validation must be a share"),
        (dict(seed=-1), "seed must be an integer >= 0; got -1"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        data.load_digits(**kwargs)


def test_the_bundled_digits_equal_scikit_learns_and_so_does_the_split():
    """data_files/digits.npz is scikit-learn's digits; load_digits splits them as
    train_test_split(..., stratify=y) does, without importing scikit-learn."""
    from importlib import resources

    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    reference = sklearn_digits()
    with (resources.files("course_utils") / "data_files" / "digits.npz").open("rb") as file:
        with np.load(file, allow_pickle=False) as stored:
            np.testing.assert_array_equal(stored["images"], reference.data)
            np.testing.assert_array_equal(stored["labels"], reference.target)
    for seed, share in [(0, 0.25), (1, 0.25), (3, 0.5)]:
        ours = data.load_digits(validation=share, seed=seed)
        x_train, x_val, y_train, y_val = train_test_split(
            reference.data / 16.0,
            reference.target,
            test_size=share,
            random_state=seed,
            stratify=reference.target,
        )
        np.testing.assert_array_equal(ours.x_train, x_train)
        np.testing.assert_array_equal(ours.x_val, x_val)
        np.testing.assert_array_equal(ours.y_train, y_train)
        np.testing.assert_array_equal(ours.y_val, y_val)


def test_reading_the_digits_does_not_import_scikit_learn():
    import subprocess
    import sys

    code = "import sys, course_utils.data as d; d.load_digits(); print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_the_photos_are_scikit_learns_read_without_importing_it():
    import subprocess
    import sys
    from pathlib import Path

    from sklearn.datasets import load_sample_images

    reference = load_sample_images()
    photos = data.load_sample_photos()
    assert sorted(photos) == ["china", "flower"]
    for name, image in zip(reference.filenames, reference.images):
        np.testing.assert_array_equal(photos[Path(name).stem], image)
    code = "import sys, course_utils.data as d; d.load_sample_photos(); print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
