"""Chapter 02's image figures: the variance kept by PCA with a digit reconstructed from a few
components, the eigenvectors of photo patches, and whitened photos."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from course_utils.plots import check_figure_size
from course_utils.validation import check_array, check_int, check_real, check_sequence

__all__ = ["stretch", "plot_variance_kept", "plot_eigenvectors", "plot_photos"]

#: Images in one row or grid: beyond this the tiles are too small to read.
MAX_IMAGES = 48


def _new_figure(figsize, dpi) -> Figure:
    check_real("dpi", dpi, low=10, high=300)
    check_figure_size(figsize, dpi)
    return Figure(figsize=figsize, dpi=dpi)


def _check_dict(name, value, check):
    if not isinstance(value, dict) or not 1 <= len(value) <= MAX_IMAGES:
        raise ValueError(f"{name} must be a dict of 1 to {MAX_IMAGES} entries")
    return {str(k): check(f"{name}[{k!r}]", v) for k, v in value.items()}


def stretch(image, spread: float = 3.0) -> np.ndarray:
    """``image`` (any shape) mapped to [0, 1] for display: its mean to 0.5, ``spread``
    standard deviations either side to 0 and 1, clipped beyond (a constant image: 0.5)."""
    image = check_array("image", image)
    spread = check_real("spread", spread, low=0, high=100, low_open=True)
    std = image.std()
    if std == 0:
        return np.full(image.shape, 0.5)
    return np.clip(0.5 + (image - image.mean()) / (2 * spread * std), 0.0, 1.0)


def plot_variance_kept(kept: dict, original, reconstructions: dict, figsize=(8.5, 2.6), dpi=96):
    """Left: the share of variance kept by the first k components, one curve per data set
    (``kept``: name -> array (D,) from :func:`.runs_pca.variance_kept`). Right: a digit
    (``original``, 64 values, 0..16) and its reconstructions from k components
    (``reconstructions``: k -> 64 values)."""
    kept = _check_dict("kept", kept, lambda n, v: check_array(n, v, ndim=1))
    original = check_array("original", original, shape=(64,))
    reconstructions = _check_dict(
        "reconstructions", reconstructions, lambda n, v: check_array(n, v, shape=(64,))
    )
    figure = _new_figure(figsize, dpi)
    n = len(reconstructions) + 1
    grid = figure.add_gridspec(1, 2 + n, width_ratios=[3.2, 0.5] + [1] * n, wspace=0.15)
    ax = figure.add_subplot(grid[0, 0])
    for name, curve in kept.items():
        ax.plot(np.arange(1, len(curve) + 1), curve, label=name, lw=1.5)
    ax.axhline(0.95, color="0.6", lw=0.8, ls="--")
    ax.set_xscale("log")
    ax.set_ylim(0, 1.02)
    ax.set_xlabel("components kept, k (log scale)", fontsize=8)
    ax.set_ylabel("share of variance kept", fontsize=8)
    ax.set_title("PCA: variance kept (dashed: 95%)", fontsize=9)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="lower right")
    images = [("original", original)] + [(f"k = {k}", v) for k, v in reconstructions.items()]
    for i, (title, values) in enumerate(images):
        im_ax = figure.add_subplot(grid[0, 2 + i])
        im_ax.imshow(values.reshape(8, 8), cmap="gray_r", vmin=0, vmax=16)
        im_ax.set_title(title, fontsize=8)
        im_ax.set_xticks([])
        im_ax.set_yticks([])
        im_ax.set_xlabel("8 x 8 px", fontsize=7)
    figure.text(0.64, 0.9, "a validation digit rebuilt from k components", fontsize=9)
    figure.subplots_adjust(left=0.07, right=0.99, bottom=0.2, top=0.82)
    return figure


def plot_eigenvectors(
    eigenvectors, eigenvalues, size: int = 8, columns: int = 8, figsize=(8.5, 3.4), dpi=96
):
    """The first eigenvectors of photo patches as images: ``eigenvectors`` (D, k) as columns,
    D = size² x 3, each stretched to [0, 1] on its own (:func:`stretch`), titled with its
    rank and eigenvalue ``eigenvalues`` (k,)."""
    size = check_int("size", size, 1, 64)
    eigenvectors = check_array("eigenvectors", eigenvectors, shape=(size * size * 3, None))
    k = eigenvectors.shape[1]
    if not 1 <= k <= MAX_IMAGES:
        raise ValueError(f"eigenvectors must have 1 to {MAX_IMAGES} columns; got {k}")
    eigenvalues = check_array("eigenvalues", eigenvalues, shape=(k,))
    columns = check_int("columns", columns, 1, MAX_IMAGES)
    rows = -(-k // columns)
    figure = _new_figure(figsize, dpi)
    axes = figure.subplots(rows, columns, squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        ax.set_xticks([])
        ax.set_yticks([])
        if i >= k:
            ax.set_visible(False)
            continue
        ax.imshow(stretch(eigenvectors[:, i].reshape(size, size, 3)), interpolation="nearest")
        ax.set_title(f"u{i + 1}: {eigenvalues[i]:.3g}", fontsize=7)
    figure.suptitle(
        f"the first {k} eigenvectors of {size} x {size} x 3 photo patches (title: rank and "
        "variance λ; each image stretched to full contrast)",
        fontsize=9,
    )
    figure.supxlabel(f"pixel column (0 to {size - 1} in each tile)", fontsize=8)
    figure.supylabel(f"pixel row (0 to {size - 1})", fontsize=8)
    figure.subplots_adjust(left=0.05, right=0.99, bottom=0.1, top=0.84, wspace=0.1, hspace=0.45)
    return figure


def plot_photos(images: dict, figsize=(8.5, 2.3), dpi=96, stretched=None):
    """A row of (H, W, 3) images, titled by their keys. Each image is stretched to [0, 1]
    on its own (:func:`stretch`) when its title is in ``stretched`` (default: all but the
    first, which must already be in [0, 1])."""
    images = _check_dict("images", images, lambda n, v: check_array(n, v, ndim=3))
    titles = list(images)
    stretched = set(titles[1:] if stretched is None else check_sequence("stretched", stretched))
    figure = _new_figure(figsize, dpi)
    axes = figure.subplots(1, len(images), squeeze=False)[0]
    for ax, title in zip(axes, titles):
        image = images[title]
        if title in stretched:
            image = stretch(image)
        elif image.min() < 0 or image.max() > 1:
            raise ValueError(f"images[{title!r}] must be in [0, 1], or be in stretched")
        ax.imshow(image, interpolation="nearest")
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("pixel column", fontsize=7)
        ax.set_ylabel("pixel row", fontsize=7)
        ax.tick_params(labelsize=6)
    figure.subplots_adjust(left=0.05, right=0.99, bottom=0.17, top=0.86, wspace=0.3)
    return figure
