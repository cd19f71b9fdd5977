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
    "WHITENING_LABELS",
    "EXPLORER_LIMITS",
    "fitting_limit",
    "ScatterPanels",
    "plot_standardization",
    "plot_whitening",
]

#: Default limit of a scatter panel.
CLOUD_LIMIT = 6.0
#: The explorer's fixed limits, per panel: every point of every setting of its controls fits
#: (measured over the whole control grid: at most 13.4 in the first two panels, 3.95 in the
#: whitened ones). The static figures fit their own data instead (:func:`fitting_limit`).
EXPLORER_LIMITS = (14.0, 14.0, 4.5, 4.5)
WHITENING_TITLES = ("original", "decorrelated: (X−μ)U", "PCA-whitened", "ZCA-whitened")
#: (x label, y label) of each whitening panel: decorrelated and PCA-whitened points are in the
#: principal axes' coordinates, ZCA returns to the original ones.
WHITENING_LABELS = (
    ("$x_1$", "$x_2$"),
    ("along $u_1$", "along $u_2$"),
    ("along $u_1$", "along $u_2$"),
    ("$x_1$", "$x_2$"),
)
#: Panels in one row: beyond 8 a 9-inch figure has no room for them.
MAX_PANELS = 8


def _check_figure(figure) -> Figure:
    if not isinstance(figure, Figure):
        raise ValueError(f"figure must be a matplotlib Figure; got {type(figure).__name__}")
    return figure


def fitting_limit(clouds, margin: float = 0.5) -> float:
    """The smallest whole number ``L`` with every point of ``clouds`` (arrays (n, 2)) at
    least ``margin`` inside ``[-L, L]``: one limit for all panels, so their scales compare."""
    clouds = check_sequence("clouds", clouds, min_len=1, max_len=MAX_PANELS)
    margin = check_real("margin", margin, low=0, high=1e6)
    largest = max(
        float(np.abs(check_array(f"clouds[{i}]", c, shape=(None, 2))).max(initial=0.0))
        for i, c in enumerate(clouds)
    )
    return float(np.ceil(largest + margin))


class ScatterPanels:
    """A row of 2-D scatter panels with fixed, equal limits.

    Parameters
    ----------
    figure : Figure
    titles : sequence of str
        One panel per title (1 to 8).
    limit : float or sequence of float
        Every axis spans ``[-limit, limit]`` (one limit for all panels, or one per panel);
        fixed, so an explorer redraws only the points.
    animated : bool
        Mark the point clouds animated, for blitting.
    marker_size : float
    labels : sequence of (str, str), optional
        Each panel's (x label, y label); default ``("$x_1$", "$x_2$")`` for all.
    """

    def __init__(
        self,
        figure: Figure,
        titles,
        limit: float = CLOUD_LIMIT,
        animated: bool = False,
        marker_size: float = 4.0,
        labels=None,
    ):
        self.figure = _check_figure(figure)

        def title(name, value):
            if not isinstance(value, str):
                raise ValueError(f"{name} must be a string; got {value!r}")
            return value

        titles = check_sequence("titles", titles, title, max_len=MAX_PANELS)

        def positive(name, value):
            return check_real(name, value, low=0, high=1e6, low_open=True)

        if isinstance(limit, (list, tuple, np.ndarray)):
            limits = check_sequence(
                "limit", limit, positive, min_len=len(titles), max_len=len(titles)
            )
        else:
            limits = [positive("limit", limit)] * len(titles)
        animated = check_bool("animated", animated)
        marker_size = check_real("marker_size", marker_size, low=0, high=1000, low_open=True)

        def pair(name, value):
            if not (
                isinstance(value, (tuple, list))
                and len(value) == 2
                and all(isinstance(v, str) for v in value)
            ):
                raise ValueError(
                    f"{name} must be a pair of strings (x label, y label); got {value!r}"
                )
            return tuple(value)

        if labels is None:
            labels = [("$x_1$", "$x_2$")] * len(titles)
        labels = check_sequence("labels", labels, pair, min_len=len(titles), max_len=len(titles))
        self.limits = tuple(limits)
        axes = figure.subplots(1, len(titles), squeeze=False)[0]
        self.axes = list(axes)
        self.clouds = []
        for ax, title, (xlabel, ylabel), limit in zip(self.axes, titles, labels, limits):
            ax.set_xlim(-limit, limit)
            ax.set_ylim(-limit, limit)
            ax.set_aspect("equal")
            ax.axhline(0, color="0.8", lw=0.8, zorder=0)
            ax.axvline(0, color="0.8", lw=0.8, zorder=0)
            ax.set_title(title, fontsize=9)
            ax.set_xlabel(xlabel, fontsize=8, labelpad=1)
            ax.set_ylabel(ylabel, fontsize=8, labelpad=0)
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
        figure.subplots_adjust(left=0.06, right=0.99, bottom=0.16, top=0.88, wspace=0.35)

    def update(self, clouds) -> list:
        """Set each panel's points ((n, 2) arrays, one per panel); return the artists."""
        clouds = check_sequence(
            "clouds", clouds, min_len=len(self.clouds), max_len=len(self.clouds)
        )
        for i, (artist, points) in enumerate(zip(self.clouds, clouds)):
            artist.set_offsets(check_array(f"clouds[{i}]", points, shape=(None, 2)))
        return list(self.clouds)

    def outside(self, clouds) -> int:
        """How many points of ``clouds`` (one (n, 2) array per panel, from the first) fall
        outside their panel's limits."""
        return int(
            sum(
                np.sum(np.abs(np.asarray(c)).max(axis=1) > limit)
                for c, limit in zip(clouds, self.limits)
            )
        )


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
    clouds = [X, X - scaler.mean_, scaler.transform(X)]
    panels = ScatterPanels(
        _new_figure(figure, figsize, dpi),
        ["original data", "zero-centred: X − μ", "normalised: (X − μ) / σ"],
        limit=fitting_limit(clouds),
    )
    panels.update(clouds)
    return panels.figure


def plot_whitening(demo, figsize=(8.5, 2.6), dpi=96, figure: Figure | None = None) -> Figure:
    """The seed's whitening picture plus ZCA: original, decorrelated, PCA- and ZCA-whitened.

    ``demo`` is a :class:`.runs.WhiteningDemo` (from :func:`.runs.whitening_demo`).
    """
    if not isinstance(demo, WhiteningDemo):
        raise ValueError(
            f"demo must be a WhiteningDemo (see whitening_demo); got {type(demo).__name__}"
        )
    clouds = [demo.original, demo.decorrelated, demo.pca, demo.zca]
    panels = ScatterPanels(
        _new_figure(figure, figsize, dpi),
        WHITENING_TITLES,
        limit=fitting_limit(clouds),
        labels=WHITENING_LABELS,
    )
    panels.update(clouds)
    return panels.figure


def _new_figure(figure, figsize, dpi) -> Figure:
    if figure is not None:
        return _check_figure(figure)
    check_real("dpi", dpi, low=10)  # below, FreeType refuses the fonts
    check_figure_size(figsize, dpi)
    return Figure(figsize=figsize, dpi=dpi)
