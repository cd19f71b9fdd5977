"""Plots shared by the notebooks' static figures and their explorers.

Plot code never calls pyplot: it draws on a :class:`matplotlib.figure.Figure` it is given
(or makes one with ``Figure(...)``) and returns it, so the same code serves a static figure
saved in the notebook and an explorer's persistent figure updated in place.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from course_utils import activations as _activations
from course_utils.stats import layer_stats
from course_utils.validation import MAX_PIXELS, check_array, check_sequence

__all__ = ["HIST_RANGE", "histogram", "LayerHistogramFigure", "plot_layer_histograms"]

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
    counts = _uniform_bin_counts(values, lo, hi, bins)
    edges = np.linspace(lo, hi, bins + 1)
    shares = counts / n
    outside = 1.0 - zero - shares.sum()
    return shares, edges, max(outside, 0.0), zero


def _uniform_bin_counts(values: np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    """``np.histogram(values, bins, range=(lo, hi))[0]``, several times faster.

    An explorer bins every layer on every move; NumPy's general routine took 1.3 ms per
    layer of 65,536 values here, this one a fraction of it. Same result: values outside
    ``[lo, hi]`` (and NaN) are left out, ``hi`` falls in the last bin.
    """
    values = np.asarray(values)
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


#: Most bins a histogram may have, and the largest figure (pixels a side) a plot may make:
#: beyond them a typo (bins=10**9, dpi=96000) would fill a student's memory.
#: Bars of one histogram: a thousand is finer than a panel's pixels.
MAX_BINS = 1000


def _check_bins(bins):
    if isinstance(bins, bool) or not isinstance(bins, numbers.Integral) or not 1 <= bins <= MAX_BINS:
        raise ValueError(f"bins must be an integer between 1 and {MAX_BINS}; got {bins!r}")
    return int(bins)


def _check_figure(figure) -> Figure:
    if not isinstance(figure, Figure):
        raise ValueError(f"figure must be a matplotlib Figure; got {type(figure).__name__}")
    return figure


def check_figure_size(figsize, dpi) -> None:
    """Raise ``ValueError`` unless ``figsize`` (inches) at ``dpi`` makes a sane figure."""
    check_sequence("figsize", figsize, min_len=2, max_len=2)
    try:
        width, height = (float(v) for v in figsize)
        dpi = float(dpi)
    except (TypeError, ValueError):
        raise ValueError(f"figsize must be (width, height) in inches and dpi a number; got "
                         f"figsize={figsize!r}, dpi={dpi!r}") from None
    if not all(math.isfinite(v) and v > 0 for v in (width, height, dpi)):
        raise ValueError(f"figsize and dpi must be positive; got figsize={figsize!r}, dpi={dpi!r}")
    if max(width, height) * dpi > MAX_PIXELS:
        raise ValueError(f"figsize={figsize!r} at dpi={dpi:g} is {width * dpi:.0f} x "
                         f"{height * dpi:.0f} pixels; at most {MAX_PIXELS} a side")


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

    def __init__(self, figure: Figure, panels: int, activation: str, bins: int = 50,
                 animated: bool = False, std_range: tuple | None = None,
                 std_labels: bool = True):
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
        grid = figure.add_gridspec(nrows + 1, ncols, height_ratios=[1] * nrows + [0.9],
                                   left=0.75 / width, right=1 - 0.12 / width,
                                   top=1 - 0.48 / height, bottom=0.42 / height,
                                   hspace=0.6, wspace=0.16)
        self.hist_axes, self.bars, self.labels, self.covers = [], [], [], []
        for layer in range(panels):
            ax = figure.add_subplot(grid[layer // ncols, layer % ncols])
            ax.set_ylim(0, 1.35)
            ax.set_yticks([])
            ax.tick_params(labelsize=8, length=2, pad=1)
            ax.set_title(f"layer {layer + 1}", fontsize=9, pad=2)
            bars = ax.stairs(np.zeros(bins), np.linspace(0, 1, bins + 1), fill=True,
                             color="C0", animated=animated)
            label = ax.text(0.5, 0.97, "", transform=ax.transAxes, ha="center", va="top",
                            fontsize=8, animated=animated, zorder=4)
            cover = ax.add_patch(Rectangle((0, 0), 1, 1, transform=ax.transAxes, zorder=3,
                                           facecolor="0.93", edgecolor="none",
                                           animated=animated, visible=False))
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
        self.title = figure.text(0.5, 1 - 0.06 / height, "", ha="center", va="top",
                                 fontsize=10)
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
            self.std_axes.set_ylim(*self.std_range[activation]
                                   if isinstance(self.std_range, dict) else self.std_range)
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
            raise ValueError(f"activations must hold 1 to {self.panels} layers for this "
                             f"figure; got {depth}")
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


def plot_layer_histograms(activations, activation: str, title: str = "",
                          figsize=(9.0, 3.25), dpi: int = 96) -> Figure:
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


# ------------------------------------------------------------------ chapter 02: 2-D clouds
#: Fixed limits of the 2-D scatter panels (chapter 02): every cloud of the explorer fits.
CLOUD_LIMIT = 6.0


class ScatterPanels:
    """A row of 2-D scatter panels with fixed, equal limits (chapter 02's figures).

    Parameters
    ----------
    figure : Figure
    titles : sequence of str
        One panel per title.
    limit : float
        Every axis spans ``[-limit, limit]``; fixed, so an explorer redraws only the points.
    animated : bool
        Mark the point clouds animated, for blitting.
    """

    def __init__(self, figure: Figure, titles, limit: float = CLOUD_LIMIT,
                 animated: bool = False, marker_size: float = 4.0):
        self.figure = figure
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
            self.clouds.append(ax.scatter(np.zeros(0), np.zeros(0), s=marker_size, alpha=0.6,
                                          color="C0", linewidths=0, animated=animated))
        figure.subplots_adjust(left=0.05, right=0.98, bottom=0.1, top=0.88, wspace=0.25)

    def update(self, clouds) -> list:
        """Set each panel's points ((n, 2) arrays, one per panel); return the artists."""
        if len(clouds) != len(self.clouds):
            raise ValueError(f"clouds must hold {len(self.clouds)} arrays; got {len(clouds)}")
        for artist, points in zip(self.clouds, clouds):
            artist.set_offsets(np.asarray(points, dtype=np.float64))
        return list(self.clouds)


def plot_standardization(X, figsize=(8.5, 3.0), dpi=96) -> Figure:
    """The seed's standardisation picture: original, zero-centred, normalised (X (n, 2))."""
    from course_utils.preprocessing import Standardizer

    check_figure_size(figsize, dpi)
    X = np.asarray(X, dtype=np.float64)
    scaler = Standardizer().fit(X)
    panels = ScatterPanels(Figure(figsize=figsize, dpi=dpi),
                           ["original data", "zero-centred: X − μ", "normalised: (X − μ) / σ"])
    panels.update([X, X - scaler.mean_, scaler.transform(X)])
    return panels.figure


def plot_whitening(demo, figsize=(8.5, 2.6), dpi=96) -> Figure:
    """The seed's whitening picture plus ZCA: original, decorrelated, PCA- and ZCA-whitened.

    ``demo`` is a :class:`course_utils.preprocessing.WhiteningDemo`.
    """
    check_figure_size(figsize, dpi)
    panels = ScatterPanels(Figure(figsize=figsize, dpi=dpi), WHITENING_TITLES)
    panels.update([demo.original, demo.decorrelated, demo.pca, demo.zca])
    return panels.figure


WHITENING_TITLES = ("original", "decorrelated: (X−μ)U", "PCA-whitened", "ZCA-whitened")


# ---------------------------------------------------------------------------- chapter 01
#: Chapter 01: x-range of the activation curves, and of each activation's output histogram.
CURVE_RANGE = (-6.0, 6.0)
OUTPUT_RANGE = {"tanh": (-1.1, 1.1), "sigmoid": (-0.1, 1.1), "relu": (-1.0, 5.0),
                "leaky_relu": (-1.0, 5.0), "elu": (-1.5, 5.0), "gelu": (-1.0, 5.0),
                "silu": (-1.0, 5.0), "softplus": (-1.0, 5.0)}
#: Pieces of the one-dimensional Maxout example: slopes and intercepts of k = 3 lines.
MAXOUT_EXAMPLE = ((-0.5, -0.5), (0.3, 0.0), (1.2, -1.0))
ACTIVATION_TITLES = {"sigmoid": "sigmoid σ(z)", "tanh": "tanh(z)", "relu": "ReLU",
                     "leaky_relu": "Leaky ReLU", "elu": "ELU (α = 1)", "maxout": "Maxout (k = 3)",
                     "gelu": "GELU", "silu": "SiLU / Swish", "softplus": "softplus"}


def activation_curve(name: str, z: np.ndarray, leaky_slope: float = 0.1):
    """``(f(z), f'(z))`` for the figure: the registry's pairs, Leaky ReLU with a visible
    slope, and :data:`MAXOUT_EXAMPLE` as a one-input Maxout (max of 3 lines)."""
    if name == "maxout":
        W = np.array([[[w]] for w, _ in MAXOUT_EXAMPLE])
        b = np.array([[c] for _, c in MAXOUT_EXAMPLE])
        out, cache = _activations.maxout_forward(z[:, None], W, b)
        dx, _, _ = _activations.maxout_backward(np.ones_like(out), cache)
        return out[:, 0], dx[:, 0]
    if name == "leaky_relu":
        return (_activations.leaky_relu(z, negative_slope=leaky_slope),
                _activations.leaky_relu_grad(z, negative_slope=leaky_slope))
    f, df = _activations.get(name)
    return f(z), df(z)


def plot_activation_functions(names=("sigmoid", "tanh", "relu", "leaky_relu", "elu", "maxout",
                                     "gelu", "silu", "softplus"),
                              figsize=(9.0, 6.6), dpi: int = 96) -> Figure:
    """Each activation (solid) with its derivative (dashed) on z in [-6, 6], three a row.

    Leaky ReLU is drawn with slope 0.1 (0.01 would look like ReLU), Maxout as the max of the
    three lines of :data:`MAXOUT_EXAMPLE`.
    """
    check_figure_size(figsize, dpi)
    names = list(names)
    for name in names:
        if name not in ACTIVATION_TITLES:
            raise ValueError(f"names must be among {', '.join(ACTIVATION_TITLES)}; got {name!r}")
    figure = Figure(figsize=figsize, dpi=dpi)
    rows = max(1, math.ceil(len(names) / 3))
    grid = figure.add_gridspec(rows, 3, left=0.06, right=0.98, bottom=0.06, top=0.93,
                               hspace=0.45, wspace=0.25)
    z = np.linspace(*CURVE_RANGE, 601)
    for i, name in enumerate(names):
        ax = figure.add_subplot(grid[i // 3, i % 3])
        f, df = activation_curve(name, z)
        ax.axhline(0, color="0.8", lw=0.8)
        ax.axvline(0, color="0.8", lw=0.8)
        ax.plot(z, f, color="C0", lw=1.8, label="f(z)")
        ax.plot(z, df, color="C3", lw=1.4, ls="--", label="f'(z)")
        ax.set_title(ACTIVATION_TITLES[name], fontsize=10)
        ax.set_xlim(*CURVE_RANGE)
        ax.set_ylim(-1.6, 3.2)
        ax.tick_params(labelsize=8)
        if i == 0:
            ax.legend(fontsize=8, loc="upper left", frameon=False)
    figure.suptitle("Activation functions (solid) and their derivatives (dashed)", fontsize=11)
    return figure


class ActivationResponseFigure:
    """Chapter 01's explorer view: the input distribution on the curve, the output histogram.

    Left: f(z) and f'(z) on [-6, 6] (static per activation) and a histogram of the
    pre-activations z (animated; the share beyond ±6 is in the explorer's summary). Right:
    the histogram of the outputs a = f(z) on :data:`OUTPUT_RANGE` (animated); ReLU's dead
    units (a = 0 exactly) are left out of the bars and counted in the summary.
    Both histograms are scaled to their own peak.
    """

    def __init__(self, figure: Figure, activation: str = "tanh", bins: int = 60,
                 animated: bool = False):
        self.figure = figure
        self.bins = _check_bins(bins)
        width, height = figure.get_size_inches()
        self.curve_axes = figure.add_axes(_inches(figure, 0.5, 0.45, width / 2 - 0.75, height - 0.8))
        self.out_axes = figure.add_axes(_inches(figure, width / 2 + 0.35, 0.45,
                                                width / 2 - 0.55, height - 0.8))
        self.z_edges = np.linspace(*CURVE_RANGE, self.bins + 1)
        self.z_bars = self.curve_axes.stairs(np.zeros(self.bins), self.z_edges, fill=True,
                                             color="0.6", alpha=0.5, animated=animated,
                                             label="z (input)")
        self.out_bars = self.out_axes.stairs(np.zeros(self.bins), np.arange(self.bins + 1.0),
                                             fill=True, color="C0", animated=animated)
        self.curve_axes.set_xlim(*CURVE_RANGE)
        self.curve_axes.set_ylim(-1.6, 3.2)
        self.curve_axes.set_xlabel("pre-activation z", fontsize=9)
        self.out_axes.set_ylim(0, 1.05)
        self.out_axes.set_yticks([])
        self.out_axes.set_xlabel("output a = f(z)", fontsize=9)
        for ax in (self.curve_axes, self.out_axes):
            ax.tick_params(labelsize=8)
        self._curves = []
        self.activation = None
        self.set_activation(activation)

    @property
    def artists(self) -> list:
        return [self.z_bars, self.out_bars]

    def set_activation(self, activation: str) -> bool:
        """Draw this activation's curves and output range; ``True`` if anything changed."""
        _activations.get(activation)
        if activation == self.activation:
            return False
        self.activation = activation
        for line in self._curves:
            line.remove()
        z = np.linspace(*CURVE_RANGE, 401)
        f, df = activation_curve(activation, z, leaky_slope=0.01)
        self._curves = [self.curve_axes.plot(z, f, color="C0", lw=1.8, label="f(z)")[0],
                        self.curve_axes.plot(z, df, color="C3", lw=1.4, ls="--",
                                             label="f'(z)")[0]]
        self.curve_axes.legend(fontsize=8, loc="upper left", frameon=False)
        self.curve_axes.set_title(f"{ACTIVATION_TITLES[activation]} and the input z", fontsize=10)
        lo, hi = OUTPUT_RANGE[activation]
        self.out_edges = np.linspace(lo, hi, self.bins + 1)
        self.out_bars.set_data(np.zeros(self.bins), self.out_edges)
        self.out_axes.set_xlim(lo, hi)
        self.out_axes.set_title(f"histogram of the outputs ({activation})", fontsize=10)
        return True

    def update(self, response) -> list:
        """Show a :class:`course_utils.activations.UnitResponse`; returns the artists."""
        z_counts = _uniform_bin_counts(response.z, *CURVE_RANGE, self.bins).astype(float)
        peak = z_counts.max()
        self.z_bars.set_data(z_counts / peak * 3.0 if peak > 0 else z_counts, self.z_edges)
        a = response.a[response.z > 0] if response.activation == "relu" else response.a
        lo, hi = OUTPUT_RANGE[self.activation]
        counts = _uniform_bin_counts(a, lo, hi, self.bins).astype(float)
        peak = counts.max()
        self.out_bars.set_data(counts / peak if peak > 0 else counts, self.out_edges)
        return self.artists


def _inches(figure: Figure, left, bottom, width, height):
    w, h = figure.get_size_inches()
    return [left / w, bottom / h, max(width, 0.1) / w, max(height, 0.1) / h]
