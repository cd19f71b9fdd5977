"""Plots shared by the notebooks' static figures and their explorers.

Plot code never calls pyplot: it draws on a :class:`matplotlib.figure.Figure` it is given
(or makes one with ``Figure(...)``) and returns it, so the same code serves a static figure
saved in the notebook and an explorer's persistent figure updated in place.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from course_utils.stats import layer_stats
from course_utils.validation import MAX_PIXELS, check_array, check_real, check_sequence

__all__ = [
    "HIST_RANGE",
    "MAX_BINS",
    "MIN_DPI",
    "check_axes",
    "histogram",
    "uniform_bin_counts",
    "LayerHistogramFigure",
    "plot_layer_histograms",
    "check_figure_size",
]

#: Fixed x-range of the activation histograms per activation. Fixed ranges keep the axes
#: still, so an explorer redraws only the bars (see ``LayerHistogramFigure``).
HIST_RANGE = {"tanh": (-1.0, 1.0), "sigmoid": (0.0, 1.0), "relu": (0.0, 4.0)}
#: Fixed y-range (log scale) of an explorer's per-layer std panel.
STD_RANGE = {"tanh": (1e-3, 2.0), "sigmoid": (1e-3, 1.0), "relu": (1e-2, 1e2)}


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
    bins = _check_bins(bins)
    values = np.ravel(check_array("a", a, dtype=None, finite=False))
    n = values.size
    zero = 0.0
    if activation == "relu":
        nonzero = values[values != 0]
        zero = 1.0 - nonzero.size / n
        values = nonzero
    counts = uniform_bin_counts(values, lo, hi, bins)
    edges = np.linspace(lo, hi, bins + 1)
    shares = counts / n
    outside = 1.0 - zero - shares.sum()
    return shares, edges, max(outside, 0.0), zero


def uniform_bin_counts(values: np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    """``np.histogram(values, bins, range=(lo, hi))[0]``, several times faster.

    An explorer bins every layer on every move; NumPy's general routine took 1.3 ms per
    layer of 65,536 values here, this one a fraction of it. Same result: values outside
    ``[lo, hi]`` (and NaN) are left out, ``hi`` falls in the last bin.
    """
    values = check_array("values", values, dtype=None, finite=False, min_size=0)
    lo, hi = check_real("lo", lo), check_real("hi", hi)
    if not lo < hi:
        raise ValueError(f"lo must be < hi; got lo={lo:g}, hi={hi:g}")
    bins = _check_bins(bins)
    with np.errstate(invalid="ignore"):
        kept = values[(values >= lo) & (values <= hi)].astype(np.float64)
    scaled = kept - lo  # in float64, as NumPy does; in place below: fewer temporaries
    scaled *= bins / (hi - lo)
    index = scaled.astype(np.intp)
    np.minimum(index, bins - 1, out=index)  # hi itself belongs to the last bin
    # A value on an edge can round into the neighbouring bin: move it as NumPy does. (Few
    # and small temporaries: on this machine a fresh 512 KiB array costs ~0.5 ms of page
    # faults, more than the arithmetic.)
    edges = np.linspace(lo, hi, bins + 1)
    upper = edges[1:].copy()
    upper[-1] = np.inf  # the last bin keeps hi
    index[kept < edges[index]] -= 1
    index[kept >= upper[index]] += 1
    return np.bincount(index, minlength=bins)


#: The lowest resolution a figure may have: below it FreeType cannot render the labels.
MIN_DPI = 10
#: Bars of one histogram: a thousand is finer than a panel's pixels.
MAX_BINS = 1000


def _check_bins(bins):
    if (
        isinstance(bins, bool)
        or not isinstance(bins, numbers.Integral)
        or not 1 <= bins <= MAX_BINS
    ):
        raise ValueError(f"bins must be an integer between 1 and {MAX_BINS}; got {bins!r}")
    return int(bins)


def _check_figure(figure) -> Figure:
    if not isinstance(figure, Figure):
        raise ValueError(f"figure must be a matplotlib Figure; got {type(figure).__name__}")
    return figure


def check_axes(name: str, ax) -> Axes:
    """``ax`` if it is a matplotlib ``Axes``, else ``ValueError`` (a plot function draws on it)."""
    if not isinstance(ax, Axes):
        raise ValueError(f"{name} must be a matplotlib Axes; got {type(ax).__name__}")
    return ax


def check_figure_size(figsize, dpi) -> None:
    """Raise ``ValueError`` unless ``figsize`` (inches) at ``dpi`` makes a sane figure."""
    width, height = check_sequence(
        "figsize", figsize, lambda n, v: check_real(n, v, 0, low_open=True), min_len=2, max_len=2
    )
    dpi = check_real("dpi", dpi, 0, low_open=True)
    if dpi < MIN_DPI:
        raise ValueError(f"dpi must be >= {MIN_DPI} (text cannot be drawn smaller); got {dpi:g}")
    if max(width, height) * dpi > MAX_PIXELS:
        raise ValueError(
            f"figsize={figsize!r} at dpi={dpi:g} is {width * dpi:.0f} x "
            f"{height * dpi:.0f} pixels; at most {MAX_PIXELS} a side"
        )


def _activation_key(activation):
    # imported here: activations pulls in scipy.special, which most figures never need
    from course_utils import activations as _activations

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

    The figure holds ``panels`` histogram panels; :meth:`update` shows the first
    ``len(activations)`` of them and greys out the rest, so an explorer can change the
    depth without building new axes. Every artist that changes with the data (bars, texts,
    the std line, the grey covers, the title) is one of :attr:`artists`; with
    ``animated=True`` a caller redraws just those (blitting). Only :meth:`set_activation`
    changes the axes themselves. Bars are scaled so each panel's tallest bin touches the
    top: the shape is what the eye compares; the printed std gives the scale.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
        Cleared and filled with the panels and one std panel below them.
    panels : int
        Number of histogram panels (1 to 12): one row up to 6, else two rows.
    activation : str
        Fixes the histogram range (:data:`HIST_RANGE`).
    bins : int
    animated : bool
        Mark the data artists animated, for blitting.
    std_range : (float, float) or None
        y-range of the std panel; ``None`` fits it to the data on every update (static
        figures), a fixed range keeps the axes still (explorers; values beyond are clipped).
    std_labels : bool
        Print each layer's std above its histogram (static figures). Explorers pass
        ``False`` and show the numbers beside the figure, as text: drawing a text costs
        more than all the bars of a blit. Either way a panel notes its share of units at 0
        (ReLU) and beyond the plotted range.
    """

    def __init__(
        self,
        figure: Figure,
        panels: int,
        activation: str,
        bins: int = 50,
        animated: bool = False,
        std_range: tuple | None = None,
        std_labels: bool = True,
    ):
        if isinstance(panels, bool) or not isinstance(panels, int) or not 1 <= panels <= 12:
            raise ValueError(f"panels must be an integer between 1 and 12; got {panels!r}")
        _check_figure(figure)
        _activation_key(activation)
        self.figure = figure
        self.panels = panels
        self.bins = _check_bins(bins)
        self.std_range = std_range
        self.std_labels = bool(std_labels)
        self.activation = None
        figure.clear()
        ncols = panels if panels <= 6 else math.ceil(panels / 2)
        nrows = 1 if panels <= 6 else 2
        # Margins in inches, so the title and the x label fit whatever the figure's height.
        width, height = figure.get_size_inches()
        grid = figure.add_gridspec(
            nrows + 1,
            ncols,
            height_ratios=[1] * nrows + [0.9],
            left=0.75 / width,
            right=1 - 0.12 / width,
            top=1 - 0.48 / height,
            bottom=0.42 / height,
            hspace=0.6,
            wspace=0.16,
        )
        self.hist_axes, self.bars, self.labels, self.covers = [], [], [], []
        for layer in range(panels):
            ax = figure.add_subplot(grid[layer // ncols, layer % ncols])
            ax.set_ylim(0, 1.35)
            ax.set_yticks([])
            ax.tick_params(labelsize=8, length=2, pad=1)
            ax.set_title(f"layer {layer + 1}", fontsize=9, pad=2)
            bars = ax.stairs(
                np.zeros(bins),
                np.linspace(0, 1, bins + 1),
                fill=True,
                color="C0",
                animated=animated,
            )
            label = ax.text(
                0.5,
                0.97,
                "",
                transform=ax.transAxes,
                ha="center",
                va="top",
                fontsize=8,
                animated=animated,
                zorder=4,
            )
            cover = ax.add_patch(
                Rectangle(
                    (0, 0),
                    1,
                    1,
                    transform=ax.transAxes,
                    zorder=3,
                    facecolor="0.93",
                    edgecolor="none",
                    animated=animated,
                    visible=False,
                )
            )
            self.hist_axes.append(ax)
            self.bars.append(bars)
            self.labels.append(label)
            self.covers.append(cover)
        self.std_axes = ax = figure.add_subplot(grid[nrows, :])
        ax.set_yscale("log")
        ax.set_xlim(0.5, panels + 0.5)
        ax.set_xticks(range(1, panels + 1))
        ax.tick_params(labelsize=8)
        ax.set_xlabel("layer", fontsize=9, labelpad=1)
        ax.set_ylabel("std of a", fontsize=9)
        ax.grid(True, which="major", alpha=0.3)
        (self.std_line,) = ax.plot([], [], "o-", color="C1", ms=4, animated=animated)
        # Not animated: a title changes with the layout, not with every move, and its ~70
        # glyphs would cost 8 ms per blit.
        self.title = figure.text(0.5, 1 - 0.06 / height, "", ha="center", va="top", fontsize=10)
        self.set_activation(activation)

    @property
    def artists(self) -> list:
        """Every artist :meth:`update` changes, in drawing order."""
        return [*self.bars, *self.covers, *self.labels, self.std_line]

    def set_activation(self, activation: str) -> bool:
        """Set the histograms' range for ``activation``; return True if the axes changed
        (then the whole figure must be redrawn)."""
        activation = _activation_key(activation)
        if activation == self.activation:
            return False
        self.activation = activation
        lo, hi = HIST_RANGE[activation]
        edges = np.linspace(lo, hi, self.bins + 1)
        for ax, bars in zip(self.hist_axes, self.bars):
            ax.set_xlim(lo, hi)
            ax.set_xticks([lo, (lo + hi) / 2, hi], [f"{v:g}" for v in (lo, (lo + hi) / 2, hi)])
            # End labels lean inwards, so neighbouring panels' labels never touch.
            for tick, align in zip(ax.get_xticklabels(), ("left", "center", "right")):
                tick.set_horizontalalignment(align)
            bars.set_data(edges=edges)
        if self.std_range is not None:
            self.std_axes.set_ylim(
                *self.std_range[activation] if isinstance(self.std_range, dict) else self.std_range
            )
        return True

    def set_title(self, title: str) -> bool:
        """Set the figure's title; return True if it changed (then the whole figure must be
        redrawn: the title is not one of the :attr:`artists`)."""
        if self.title.get_text() == title:
            return False
        self.title.set_text(title)
        return True

    def update(self, activations) -> list:
        """Show new activations; return the artists changed (see :attr:`artists`).

        Their :class:`~course_utils.stats.LayerStats` are kept as ``.stats``.

        Parameters
        ----------
        activations : sequence of 1 to ``panels`` arrays
            One array of activations per layer; panels beyond them are greyed out.
        """
        depth = len(activations)
        if not 1 <= depth <= self.panels:
            raise ValueError(
                f"activations must hold 1 to {self.panels} layers for this figure; got {depth}"
            )
        self.stats = stats = layer_stats(activations)
        for layer in range(self.panels):
            if layer >= depth:
                self.bars[layer].set_data(np.zeros(self.bins))
                self.labels[layer].set_text("")  # the grey cover says it; text is costly
                self.covers[layer].set_visible(True)
                continue
            shares, _, outside, zero = histogram(activations[layer], self.activation, self.bins)
            peak = shares.max()
            self.bars[layer].set_data(shares / peak if peak > 0 else shares)
            lines = [_format_std(stats.std[layer])] if self.std_labels else []
            if zero > 0:
                lines.append(f"{zero:.0%} at 0")
            if outside > 0.005:
                lines.append(f"{outside:.0%} off range")
            self.labels[layer].set_text("\n".join(lines))
            self.covers[layer].set_visible(False)
        if self.std_range is None:
            finite = stats.std[np.isfinite(stats.std) & (stats.std > 0)]
            lo, hi = (finite.min() / 2, finite.max() * 2) if finite.size else (1e-3, 1.0)
            self.std_axes.set_ylim(lo, hi)
        lo, hi = self.std_axes.get_ylim()
        shown = np.clip(np.nan_to_num(stats.std, nan=hi, posinf=hi), lo, hi)
        self.std_line.set_data(np.arange(1, depth + 1), shown)
        return self.artists


def plot_layer_histograms(
    activations, activation: str, title: str = "", figsize=(9.0, 3.25), dpi: int = 96
) -> Figure:
    """A static figure of :class:`LayerHistogramFigure` for one set of activations.

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot; a notebook displays it as a PNG.
    """
    check_figure_size(figsize, dpi)
    activations = check_sequence("activations", activations, max_len=12)
    figure = Figure(figsize=figsize, dpi=dpi)
    plot = LayerHistogramFigure(figure, len(activations), activation)
    plot.update(activations)
    plot.set_title(title)
    return figure
