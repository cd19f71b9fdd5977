"""The sample photo of chapter 07's augmentation figure, read without importing scikit-learn.

:func:`course_utils.data.load_sample_photos` calls ``sklearn.datasets.load_sample_images``,
which imports scikit-learn (about 1.3 s of the notebook's run) to decode two JPEG files that
scikit-learn ships. :func:`sample_photo` finds the same file in the installed scikit-learn
without importing it and decodes it with Pillow: the same pixels (a unit test compares them).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from course_utils.validation import check_choice

__all__ = ["PHOTOS", "sample_photo"]

#: The photos scikit-learn ships (``sklearn/datasets/images/<name>.jpg``).
PHOTOS = ("china", "flower")


def sample_photo(name: str = "china") -> np.ndarray:
    """scikit-learn's sample photo ``name`` as an array.

    Parameters
    ----------
    name : {"china", "flower"}

    Returns
    -------
    ndarray, shape (427, 640, 3), uint8
        A fresh, writable array: ``load_sample_photos()[name]``'s pixels.
    """
    name = check_choice("name", name, PHOTOS)
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("sample_photo needs scikit-learn installed (its sample photos)")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "images" / f"{name}.jpg"
    from PIL import Image

    with Image.open(path) as image:
        return np.array(image.convert("RGB"), dtype=np.uint8)
