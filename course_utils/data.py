"""The course's data, offline: the one place notebooks get data from.

- :func:`load_digits`: scikit-learn's handwritten digits (1,797 images of 8 x 8 pixels,
  10 classes), as float arrays with a fixed, stratified train/validation split.
- :func:`load_sample_photos`: scikit-learn's two bundled colour photos (china, flower),
  427 x 640 x 3, uint8.

Both ship inside the scikit-learn wheel: no download, ever. Later chapters add loaders here
(CIFAR-10 from its official binary release, when present).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

__all__ = ["Digits", "load_digits", "load_sample_photos"]


@dataclass(frozen=True)
class Digits:
    """The digits set, split once.

    Attributes
    ----------
    x_train, x_val : ndarray, shape (N, 64), float64
        Pixel intensities scaled to [0, 1] (the raw values are 0..16).
    y_train, y_val : ndarray, shape (N,), int64
        Class labels 0..9.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray

    @property
    def num_classes(self) -> int:
        return 10


def load_digits(validation: float = 0.25, seed: int = 0) -> Digits:
    """scikit-learn's digits as float64 in [0, 1], split into training and validation data.

    Parameters
    ----------
    validation : float
        Share of the examples held out for validation, strictly between 0 and 1. The split
        is stratified (every class in the same proportion on both sides).
    seed : int
        Fixes the split.

    Returns
    -------
    Digits
    """
    from sklearn.datasets import load_digits as _load
    from sklearn.model_selection import train_test_split

    if (isinstance(validation, bool) or not isinstance(validation, numbers.Real)
            or not 0 < validation < 1):
        raise ValueError(f"validation must be a share strictly between 0 and 1; got {validation!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"seed must be an integer >= 0; got {seed!r}")
    digits = _load()
    x = digits.data.astype(np.float64) / 16.0
    y = digits.target.astype(np.int64)
    x_train, x_val, y_train, y_val = train_test_split(
        x, y, test_size=validation, random_state=int(seed), stratify=y)
    return Digits(x_train, y_train, x_val, y_val)


def load_sample_photos() -> dict:
    """scikit-learn's bundled photos by name: ``{"china": ..., "flower": ...}``.

    Returns
    -------
    dict of str -> ndarray, shape (427, 640, 3), uint8
        Fresh, writable arrays on every call.
    """
    from pathlib import Path

    from sklearn.datasets import load_sample_images

    images = load_sample_images()
    return {Path(name).stem: np.array(image, dtype=np.uint8)
            for name, image in zip(images.filenames, images.images)}
