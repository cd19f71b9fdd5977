"""Data augmentation (chapter 07): random transformations of a training image.

Augmentation follows the chapter's pattern (randomness at training time, its expectation at
test time): each function draws its transformation from ``seed`` (an int or a
:class:`numpy.random.Generator`, :func:`course_utils.validation.make_rng`) at training time;
at test time the image is used unchanged.

- :func:`random_flip`, :func:`random_crop`, :func:`color_jitter`: torchvision's usual three;
- :func:`cutout` (DeVries & Taylor, arXiv 2017) and :func:`random_erasing` (Zhong et al.,
  AAAI 2020): blank or noise out a random rectangle.

Images are ``(H, W, C)`` arrays, ``uint8`` in [0, 255] or floats in [0, 1]; each function
returns a new array of the input's dtype and shape (``random_crop``: of the crop's size).
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from course_utils.validation import (
    MAX_ELEMENTS,
    check_array,
    check_int,
    check_real,
    check_sequence,
    make_rng,
)

__all__ = ["cutout", "random_erasing", "random_flip", "random_crop", "color_jitter"]

#: Pixels of padding on each side of a crop: CIFAR's usual is 4; 4096 is beyond any image.
MAX_PADDING = 4096


def _check_image(image) -> np.ndarray:
    uint8 = getattr(image, "dtype", None) == np.uint8
    image = check_array("image", image, ndim=3, dtype=np.uint8 if uint8 else None)
    if image.ndim != 3 or image.shape[2] not in (1, 3) or min(image.shape[:2]) < 1:
        raise ValueError(f"image must be (H, W, C) with C = 1 or 3; got shape {image.shape}")
    if image.dtype != np.uint8 and (image.min() < 0 or image.max() > 1):
        raise ValueError("a float image must have values in [0, 1] (or pass uint8 in [0, 255])")
    return image


def _as_float(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float64) / 255.0 if image.dtype == np.uint8 else image.astype(np.float64)


def _like(values: np.ndarray, image: np.ndarray) -> np.ndarray:
    values = np.clip(values, 0.0, 1.0)
    if image.dtype == np.uint8:
        return np.round(values * 255.0).astype(np.uint8)
    return values.astype(image.dtype)


def cutout(image, size: int, seed=0, fill: float = 0.0) -> tuple[np.ndarray, tuple]:
    """Cutout (DeVries & Taylor, arXiv 2017): blank a ``size x size`` square at a random centre.

    The centre is uniform over the image, so the square may be cut by the border (as in the
    paper: about a quarter of squares are partly outside). Test time: the image unchanged.

    Parameters
    ----------
    image : ndarray, (H, W, C)
    size : int, >= 1
    seed : int or numpy.random.Generator
    fill : float in [0, 1]
        The value written (0: black, the paper's zero after mean subtraction is grey).

    Returns
    -------
    out : ndarray, the image's shape and dtype
    box : (top, left, bottom, right), the blanked rows ``top:bottom`` and columns ``left:right``
    """
    image = _check_image(image)
    size = check_int("size", size, 1, max(image.shape[:2]))
    fill = check_real("fill", fill, 0.0, 1.0)
    rng = make_rng(seed)
    h, w = image.shape[:2]
    cy, cx = int(rng.integers(h)), int(rng.integers(w))
    top, left = max(cy - size // 2, 0), max(cx - size // 2, 0)
    bottom, right = min(cy - size // 2 + size, h), min(cx - size // 2 + size, w)
    out = _as_float(image)
    out[top:bottom, left:right] = fill
    return _like(out, image), (top, left, bottom, right)


def random_erasing(
    image, seed=0, p: float = 0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), max_attempts: int = 10
) -> tuple[np.ndarray, tuple | None]:
    """Random erasing (Zhong et al., AAAI 2020): with probability ``p`` replace a random
    rectangle by random values.

    Here ``p`` is the probability of ERASING (applying the operation), as in
    ``torchvision.transforms.RandomErasing(p)``. The rectangle's area is a uniform share
    ``scale`` of the image and its aspect ratio ``h / w`` is log-uniform in ``ratio``; a
    draw that does not fit is retried up to ``max_attempts`` times, then nothing is erased.

    Returns
    -------
    out : ndarray, the image's shape and dtype
    box : (top, left, bottom, right) or None when nothing was erased
    """
    image = _check_image(image)
    p = check_real("p", p, 0.0, 1.0)
    lo, hi = check_sequence("scale", scale, item=check_real, min_len=2, max_len=2)
    if not 0 < lo <= hi <= 1:
        raise ValueError(f"scale must be (low, high) with 0 < low <= high <= 1; got {scale!r}")
    r_lo, r_hi = check_sequence("ratio", ratio, item=check_real, min_len=2, max_len=2)
    if not 0 < r_lo <= r_hi <= 1e6:
        raise ValueError(f"ratio must be (low, high) with 0 < low <= high <= 1e6; got {ratio!r}")
    max_attempts = check_int("max_attempts", max_attempts, 1, 1000)
    rng = make_rng(seed)
    if rng.random() >= p:
        return image.copy(), None
    h, w = image.shape[:2]
    for _ in range(max_attempts):
        area = rng.uniform(lo, hi) * h * w
        aspect = math.exp(rng.uniform(math.log(r_lo), math.log(r_hi)))
        eh, ew = int(round(math.sqrt(area * aspect))), int(round(math.sqrt(area / aspect)))
        if 1 <= eh < h and 1 <= ew < w:
            top, left = int(rng.integers(h - eh + 1)), int(rng.integers(w - ew + 1))
            out = _as_float(image)
            out[top : top + eh, left : left + ew] = rng.random((eh, ew, image.shape[2]))
            return _like(out, image), (top, left, top + eh, left + ew)
    return image.copy(), None


def random_flip(image, seed=0, p: float = 0.5) -> tuple[np.ndarray, bool]:
    """Mirror the image left-right with probability ``p`` (the probability of FLIPPING, as
    in ``torchvision.transforms.RandomHorizontalFlip(p)``). Returns ``(out, flipped)``."""
    image = _check_image(image)
    p = check_real("p", p, 0.0, 1.0)
    flipped = bool(make_rng(seed).random() < p)
    return (image[:, ::-1].copy() if flipped else image.copy()), flipped


def random_crop(image, size, padding: int = 0, seed=0) -> tuple[np.ndarray, tuple]:
    """Pad with zeros by ``padding`` pixels on every side, then crop a random ``size`` window
    (``torchvision.transforms.RandomCrop(size, padding)``; CIFAR's usual is 32 with 4).

    Parameters
    ----------
    image : ndarray, (H, W, C)
    size : int or (int, int)
        Crop height and width, at most the padded size.
    padding : int, >= 0
    seed : int or numpy.random.Generator

    Returns
    -------
    out : ndarray, (size_h, size_w, C), the image's dtype
    offset : (top, left) of the window in the padded image
    """
    image = _check_image(image)
    padding = check_int("padding", padding, 0, MAX_PADDING)
    ch, cw = (
        (size, size)
        if isinstance(size, numbers.Integral)
        else check_sequence("size", size, min_len=2, max_len=2)
    )
    h, w = image.shape[0] + 2 * padding, image.shape[1] + 2 * padding
    ch, cw = check_int("size[0]", ch, 1, h), check_int("size[1]", cw, 1, w)
    if h * w * image.shape[2] > MAX_ELEMENTS:
        raise ValueError(
            f"padding: the padded image would have {h * w * image.shape[2]:,} "
            f"entries; at most {MAX_ELEMENTS:,} fit in memory here"
        )
    padded = np.pad(image, ((padding, padding), (padding, padding), (0, 0)))
    rng = make_rng(seed)
    top, left = int(rng.integers(h - ch + 1)), int(rng.integers(w - cw + 1))
    return padded[top : top + ch, left : left + cw].copy(), (top, left)


def color_jitter(
    image, seed=0, brightness: float = 0.4, contrast: float = 0.4, saturation: float = 0.4
) -> tuple[np.ndarray, dict]:
    """Random brightness, contrast and saturation, in this order (as torchvision's
    ``ColorJitter`` without hue, whose order is itself random).

    Each factor is uniform in ``[1 - s, 1 + s]``: brightness multiplies the image,
    contrast blends it with its mean grey level, saturation with its grey version (luma
    weights 0.299, 0.587, 0.114). Values are clipped to [0, 1] after each step.

    Returns
    -------
    out : ndarray, the image's shape and dtype
    factors : dict with "brightness", "contrast", "saturation"
    """
    image = _check_image(image)
    strengths = {"brightness": brightness, "contrast": contrast, "saturation": saturation}
    strengths = {name: check_real(name, s, 0.0, 1.0) for name, s in strengths.items()}
    rng = make_rng(seed)
    factors = {name: float(rng.uniform(1 - s, 1 + s)) for name, s in strengths.items()}
    out = np.clip(_as_float(image) * factors["brightness"], 0, 1)
    luma = np.array([0.299, 0.587, 0.114])[: image.shape[2]] if image.shape[2] == 3 else np.ones(1)
    grey = (out @ luma)[..., None]
    out = np.clip(factors["contrast"] * out + (1 - factors["contrast"]) * grey.mean(), 0, 1)
    grey = (out @ luma)[..., None]
    out = np.clip(factors["saturation"] * out + (1 - factors["saturation"]) * grey, 0, 1)
    return _like(out, image), factors
