"""Plots shared by the notebooks' static figures and their explorers.

Plot code never calls pyplot: it draws on a :class:`matplotlib.figure.Figure` it is given
(or makes one with ``Figure(...)``) and returns it, so the same code serves a static figure
saved in the notebook and an explorer's persistent figure updated in place.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from course_utils import activations as _activations
from course_utils.stats import layer_stats

__all__ = ["HIST_RANGE", "histogram", "LayerHistogramFigure", "plot_layer_histograms"]

#: Fixed x-range of the activation histograms per activation. Fixed ranges keep the axes
#: still, so an explorer redraws only the bars (see ``LayerHistogramFigure``).
HIST_RANGE = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0), "relu": (0.0, 4.0)}
#: Fixed y-range (log scale) of the per-layer std panel.
STD_RANGE = {"tanh": (1e-3, 2.0), "sigmoid": (1e-3, 1.0), "relu": (1e-3, 1e3)}


def histogram(a: np.ndarray, activation: str, bins: int = 50):
    """Share of units per bin of the activation's fixed range.

    For ReLU the exact zeros (inactive units) are left out of the bars and counted apart, or
    their spike would flatten every other bar.

    Parameters
    ----------
    a : ndarray, any shape
        Activations of one layer.
    activation : str
        Chooses the range, see :data:`HIST_RANGE`.
    bins : int

    Returns
    -------
    shares : ndarray, shape (bins,)
        Share of all units in each bin.
    edges : ndarray, shape (bins + 1,)
    outside : float
        Share of units beyond the range (or not finite).
    zero : float
        Share of units exactly 0 for ReLU, else 0.
    """
    lo, hi = HIST_RANGE[_activation_key(activation)]
    values = np.ravel(a)
    n = values.size
    zero = 0.0
    if activation == "relu":
        nonzero = values[values != 0]
        zero = 1.0 - nonzero.size / n
        values = nonzero
    finite = values[np.isfinite(values)]
    counts, edges = np.histogram(finite, bins=bins, range=(lo, hi))
    shares = counts / n
    outside = 1.0 - zero - shares.sum()
    return shares, edges, max(outside, 0.0), zero


def _activation_key(activation):
    _activations.get(activation)
    if activation not in HIST_RANGE:
        raise ValueError(
            f"activation must be one of {', '.join(HIST_RANGE)} to be plotted; got {activation!r}"
        )
    return activation


def _format_std(value: float) -> str:
    if not math.isfinite(value):
        return "σ = overflow"
    return f"σ = {value:.3g}"


class LayerHistogramFigure:
    """One histogram of activations per layer, plus the per-layer std on a log scale.

    The axes have fixed limits and the data artists (``StepPatch`` bars, texts, the std
    line) are the only things :meth:`update` changes, so a caller can redraw just them
    (blitting). Bars are scaled so each panel's tallest bin touches the top: the shape is
    what the eye compares; the printed std gives the scale.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        Cleared and filled with ``depth`` histogram panels and one std panel.
    depth : int
        Number of layers (1 to 12).
    activation : str
        Fixes the histogram range (:data:`HIST_RANGE`).
    bins : int
    animated : bool
        Mark the data artists animated, for blitting.
    """

    def __init__(self, figure: Figure, depth: int, activation: str, bins: int = 50,
                 animated: bool = False):
        if not 1 <= depth <= 12:
            raise ValueError(f"depth must be between 1 and 12 to be plotted; got {depth!r}")
        self.figure = figure
        self.depth = depth
        self.activation = _activation_key(activation)
        self.bins = bins
        figure.clear()
        ncols = depth if depth <= 6 else math.ceil(depth / 2)
        nrows = 1 if depth <= 6 else 2
        grid = figure.add_gridspec(nrows + 1, ncols, height_ratios=[1] * nrows + [0.9],
                                   left=0.06, right=0.98, top=0.86, bottom=0.1,
                                   hspace=0.55, wspace=0.12)
        lo, hi = HIST_RANGE[self.activation]
        edges = np.linspace(lo, hi, bins + 1)
        self.hist_axes, self.bars, self.labels = [], [], []
        for layer in range(depth):
            ax = figure.add_subplot(grid[layer // ncols, layer % ncols])
            ax.set_xlim(lo, hi)
            ax.set_ylim(0, 1.35)
            ax.set_yticks([])
            ax.set_xticks([lo, (lo + hi) / 2, hi])
            ax.tick_params(labelsize=8, length=2, pad=1)
            ax.set_title(f"layer {layer + 1}", fontsize=9, pad=2)
            bars = ax.stairs(np.zeros(bins), edges, fill=True, color="C0", animated=animated)
            label = ax.text(0.5, 0.97, "", transform=ax.transAxes, ha="center", va="top",
                            fontsize=8, animated=animated)
            self.hist_axes.append(ax)
            self.bars.append(bars)
            self.labels.append(label)
        self.std_axes = ax = figure.add_subplot(grid[nrows, :])
        ax.set_yscale("log")
        ax.set_ylim(*STD_RANGE[self.activation])
        ax.set_xlim(0.5, depth + 0.5)
        ax.set_xticks(range(1, depth + 1))
        ax.tick_params(labelsize=8)
        ax.set_xlabel("layer", fontsize=9, labelpad=1)
        ax.set_ylabel("std of a", fontsize=9)
        ax.grid(True, which="major", alpha=0.3)
        (self.std_line,) = ax.plot([], [], "o-", color="C1", ms=4, animated=animated)
        # Not animated: it changes with the layout, not with every move (see set_title).
        self.title = figure.text(0.5, 0.99, "", ha="center", va="top", fontsize=10)

    @property
    def artists(self) -> list:
        """Every artist :meth:`update` changes, in drawing order."""
        return [*self.bars, *self.labels, self.std_line]

    def set_title(self, title: str) -> bool:
        """Set the figure's title; return True if it changed (the background must be redrawn)."""
        if self.title.get_text() == title:
            return False
        self.title.set_text(title)
        return True

    def update(self, activations) -> list:
        """Show new activations; return the artists changed (see :attr:`artists`).

        Parameters
        ----------
        activations : sequence of ``depth`` arrays
            One array of activations per layer.
        """
        if len(activations) != self.depth:
            raise ValueError(
                f"activations must hold {self.depth} layers for this figure; got {len(activations)}"
            )
        stats = layer_stats(activations)
        for layer, a in enumerate(activations):
            shares, _, outside, zero = histogram(a, self.activation, self.bins)
            peak = shares.max()
            self.bars[layer].set_data(shares / peak if peak > 0 else shares)
            text = _format_std(stats.std[layer])
            if zero > 0:
                text += f"\n{zero:.0%} at 0"
            if outside > 0.005:
                text += f"\n{outside:.0%} off range"
            self.labels[layer].set_text(text)
        lo, hi = STD_RANGE[self.activation]
        shown = np.clip(np.nan_to_num(stats.std, nan=hi, posinf=hi), lo, hi)
        self.std_line.set_data(np.arange(1, self.depth + 1), shown)
        return self.artists


def plot_layer_histograms(activations, activation: str, title: str = "",
                          figsize=(9.0, 3.25), dpi: int = 96) -> Figure:
    """A static figure of :class:`LayerHistogramFigure` for one set of activations.

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot; a notebook displays it as a PNG.
    """
    figure = Figure(figsize=figsize, dpi=dpi)
    plot = LayerHistogramFigure(figure, len(activations), activation)
    plot.update(activations)
    plot.set_title(title)
    return figure
