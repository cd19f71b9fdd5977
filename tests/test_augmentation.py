"""course_utils.augmentation: each transformation against its definition, and the bad input
each one refuses."""

import numpy as np
import pytest

from course_utils import augmentation as A


def rng(seed=0):
    return np.random.default_rng(seed)


# ------------------------------------------------------------------ images
@pytest.fixture(scope="module")
def photo():
    from course_utils.data import load_sample_photos

    return load_sample_photos()["china"][::4, ::4]


def test_random_flip(photo):
    out, flipped = A.random_flip(photo, rng(0), p=1.0)
    assert flipped and out.dtype == np.uint8
    np.testing.assert_array_equal(out, photo[:, ::-1])
    out, flipped = A.random_flip(photo, rng(0), p=0.0)
    assert not flipped
    np.testing.assert_array_equal(out, photo)
    flips = [A.random_flip(photo, rng(s))[1] for s in range(400)]
    assert 0.4 < np.mean(flips) < 0.6


def test_random_crop_pads_with_zeros_and_crops_the_window(photo):
    out, (top, left) = A.random_crop(photo, (50, 60), padding=8, seed=3)
    padded = np.pad(photo, ((8, 8), (8, 8), (0, 0)))
    assert out.shape == (50, 60, 3)
    np.testing.assert_array_equal(out, padded[top : top + 50, left : left + 60])
    same, _ = A.random_crop(photo, photo.shape[:2], padding=0, seed=0)
    np.testing.assert_array_equal(same, photo)
    with pytest.raises(ValueError, match="size"):
        A.random_crop(photo, 1000, padding=0)


def test_cutout_blanks_a_square_cut_by_the_border(photo):
    out, (top, left, bottom, right) = A.cutout(photo, 20, rng(1))
    assert (out[top:bottom, left:right] == 0).all()
    outside = np.ones(photo.shape[:2], bool)
    outside[top:bottom, left:right] = False
    np.testing.assert_array_equal(out[outside], photo[outside])
    assert bottom - top <= 20 and right - left <= 20
    sizes = [
        (b - t) * (r - l) for t, l, b, r in (A.cutout(photo, 20, rng(s))[1] for s in range(200))
    ]
    assert max(sizes) == 400 and min(sizes) < 400  # partly outside sometimes, as in the paper


def test_random_erasing_erases_with_probability_p_a_rectangle_of_the_share(photo):
    area = photo.shape[0] * photo.shape[1]
    boxes = [A.random_erasing(photo, rng(s), p=0.5)[1] for s in range(300)]
    erased = [b for b in boxes if b is not None]
    assert 0.4 < len(erased) / len(boxes) < 0.6
    for t, l, b, r in erased:
        assert 0.015 <= (b - t) * (r - l) / area <= 0.34
    out, box = A.random_erasing(photo, rng(0), p=0.0)
    assert box is None
    np.testing.assert_array_equal(out, photo)


def test_color_jitter_factors_and_identity(photo):
    out, factors = A.color_jitter(photo, rng(0), brightness=0, contrast=0, saturation=0)
    assert factors == {"brightness": 1.0, "contrast": 1.0, "saturation": 1.0}
    assert np.abs(out.astype(int) - photo.astype(int)).max() <= 1  # rounding only
    out, factors = A.color_jitter(photo, rng(0))
    assert all(0.6 <= f <= 1.4 for f in factors.values())
    assert out.shape == photo.shape and out.dtype == np.uint8
    bright, _ = A.color_jitter(
        photo / 255.0 * 0.5, rng(0), brightness=0.0, contrast=0.0, saturation=0.0
    )
    assert bright.dtype == np.float64


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: A.cutout(np.ones((4, 4)), 2), "image must have 3 dimension"),
        (
            lambda: A.cutout(np.full((4, 4, 3), 2.0), 2),
            r"a float image must have values in \[0, 1\]",
        ),
        (lambda: A.cutout(np.zeros((4, 4, 3)), 0), "size must be between 1 and 4; got 0"),
        (lambda: A.random_flip(np.zeros((4, 4, 3)), p=2), "p must be >= 0 and <= 1; got 2"),
        (lambda: A.random_erasing(np.zeros((4, 4, 3)), scale=(0.5, 0.1)), "scale must be"),
        (
            lambda: A.color_jitter(np.zeros((4, 4, 3)), brightness=2),
            "brightness must be >= 0 and <= 1; got 2",
        ),
    ],
)
def test_image_arguments_are_checked(call, message):
    with pytest.raises(ValueError, match=message):
        call()
