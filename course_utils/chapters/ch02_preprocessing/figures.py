"""Chapter 02's figures: rows of 2-D scatter panels (standardisation, whitening); the
explorer redraws the same panels."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from course_utils.chapters.ch02_preprocessing.runs import WhiteningDemo
from course_utils.plots import check_figure_size
from course_utils.preprocessing import Standardizer
from course_utils.validation import check_array, check_bool, check_real, check_sequence

__all__ = [
    "CLOUD_LIMIT",
    "WHITENING_TITLES",
    "ScatterPanels",
    "plot_standardization",
    "plot_whitening",
]

#: Fixed limits of the 2-D scatter panels: every cloud of the explorer fits.
CLOUD_LIMIT = 6.0
WHITENING_TITLES = ("original", "decorrelated: (X−μ)U", "PCA-whitened", "ZCA-whitened")
#: Panels in one row: beyond 8 a 9-inch figure has no room for them.
MAX_PANELS = 8


def _check_figure(figure) -> Figure:
    if not isinstance(figure, Figure):
        raise ValueError(f"figure must be a matplotlib Figure; got {type(figure).__name__}")
    return figure


class ScatterPanels:
    """A row of 2-D scatter panels with fixed, equal limits.

    Parameters
    ----------
    figure : Figure
    titles : sequence of str
        One panel per title (1 to 8).
    limit : float
        Every axis spans ``[-limit, limit]``; fixed, so an explorer redraws only the points.
    animated : bool
        Mark the point clouds animated, for blitting.
    marker_size : float
    """

    def __init__(
        self,
        figure: Figure,
        titles,
        limit: float = CLOUD_LIMIT,
        animated: bool = False,
        marker_size: float = 4.0,
    ):
        self.figure = _check_figure(figure)

        def title(name, value):
            if not isinstance(value, str):
                raise ValueError(f"{name} must be a string; got {value!r}")
            return value

        titles = check_sequence("titles", titles, title, max_len=MAX_PANELS)
        limit = check_real("limit", limit, low=0, high=1e6, low_open=True)
        animated = check_bool("animated", animated)
        marker_size = check_real("marker_size", marker_size, low=0, high=1000, low_open=True)
        axes = figure.subplots(1, len(titles), squeeze=False)[0]
        self.axes = list(axes)
        self.clouds = []
        for ax, title in zip(self.axes, titles):
            ax.set_xlim(-limit, limit)
            ax.set_ylim(-limit, limit)
            ax.set_aspect("equal")
            ax.axhline(0, color="0.8", lw=0.8, zorder=0)
            ax.axvline(0, color="0.8", lw=0.8, zorder=0)
            ax.set_title(title, fontsize=9)
            ax.tick_params(labelsize=7)
            self.clouds.append(
                ax.scatter(
                    np.zeros(0),
                    np.zeros(0),
                    s=marker_size,
                    alpha=0.6,
                    color="C0",
                    linewidths=0,
                    animated=animated,
                )
            )
        figure.subplots_adjust(left=0.05, right=0.98, bottom=0.1, top=0.88, wspace=0.25)

    def update(self, clouds) -> list:
        """Set each panel's points ((n, 2) arrays, one per panel); return the artists."""
        clouds = check_sequence(
            "clouds", clouds, min_len=len(self.clouds), max_len=len(self.clouds)
        )
        for i, (artist, points) in enumerate(zip(self.clouds, clouds)):
            artist.set_offsets(check_array(f"clouds[{i}]", points, shape=(None, 2)))
        return list(self.clouds)


def plot_standardization(X, figsize=(8.5, 3.0), dpi=96, figure: Figure | None = None) -> Figure:
    """The seed's standardisation picture: original, zero-centred, normalised.

    Parameters
    ----------
    X : ndarray, shape (n, 2)
    figsize, dpi
        Of the new figure (when ``figure`` is None).
    figure : matplotlib.figure.Figure, optional
        Draw on this (empty) figure instead.
    """
    X = check_array("X", X, shape=(None, 2))
    scaler = Standardizer().fit(X)
    panels = ScatterPanels(
        _new_figure(figure, figsize, dpi),
        ["original data", "zero-centred: X − μ", "normalised: (X − μ) / σ"],
    )
    panels.update([X, X - scaler.mean_, scaler.transform(X)])
    return panels.figure


def plot_whitening(demo, figsize=(8.5, 2.6), dpi=96, figure: Figure | None = None) -> Figure:
    """The seed's whitening picture plus ZCA: original, decorrelated, PCA- and ZCA-whitened.

    ``demo`` is a :class:`.runs.WhiteningDemo` (from :func:`.runs.whitening_demo`).
    """
    if not isinstance(demo, WhiteningDemo):
        raise ValueError(
            f"demo must be a WhiteningDemo (see whitening_demo); got {type(demo).__name__}"
        )
    panels = ScatterPanels(_new_figure(figure, figsize, dpi), WHITENING_TITLES)
    panels.update([demo.original, demo.decorrelated, demo.pca, demo.zca])
    return panels.figure


def _new_figure(figure, figsize, dpi) -> Figure:
    if figure is not None:
        return _check_figure(figure)
    check_real("dpi", dpi, low=10)  # below, FreeType refuses the fonts
    check_figure_size(figsize, dpi)
    return Figure(figsize=figsize, dpi=dpi)
