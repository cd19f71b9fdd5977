"""Chapter 01's figures: every activation with its derivative, and the explorer's view.

:class:`ActivationResponseFigure` builds its two axes once and updates its histograms in place
from a :class:`~course_utils.chapters.ch01_activations.runs.UnitResponse`.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.figure import Figure

from course_utils import activations
from course_utils.chapters.ch01_activations.runs import UnitResponse
from course_utils.chapters.ch01_activations.runs_zigzag import TEACHER, ZigzagPath, mean_loss_grid
from course_utils.plots import MAX_BINS, check_figure_size, uniform_bin_counts
from course_utils.validation import (
    check_array,
    check_choice,
    check_int,
    check_real,
    check_sequence,
)

__all__ = [
    "CURVE_RANGE",
    "FIGURE_LEAKY_SLOPE",
    "MAXOUT_EXAMPLE",
    "ACTIVATION_TITLES",
    "OUTPUT_RANGE",
    "activation_curve",
    "plot_activation_functions",
    "plot_zigzag",
    "ActivationResponseFigure",
]

#: x-range of the activation curves (the figure and the explorer).
CURVE_RANGE = (-6.0, 6.0)
#: Pieces of the one-dimensional Maxout example: slopes and intercepts of k = 3 lines.
MAXOUT_EXAMPLE = ((-0.5, -0.5), (0.3, 0.0), (1.2, -1.0))
ACTIVATION_TITLES = {
    "sigmoid": "sigmoid σ(z)",
    "tanh": "tanh(z)",
    "relu": "ReLU",
    "leaky_relu": "Leaky ReLU",
    "elu": "ELU (α = 1)",
    "maxout": "Maxout (k = 3)",
    "gelu": "GELU",
    "silu": "SiLU / Swish",
    "softplus": "softplus",
}
#: Leaky ReLU's slope in :func:`plot_activation_functions` (0.01 would look like ReLU).
FIGURE_LEAKY_SLOPE = 0.1
#: x-range of each activation's output histogram.
OUTPUT_RANGE = {
    "tanh": (-1.1, 1.1),
    "sigmoid": (-0.1, 1.1),
    "relu": (-1.0, 5.0),
    "leaky_relu": (-1.0, 5.0),
    "elu": (-1.5, 5.0),
    "gelu": (-1.0, 5.0),
    "silu": (-1.0, 5.0),
    "softplus": (-1.0, 5.0),
}


def activation_curve(name: str, z: np.ndarray, leaky_slope: float = 0.1):
    """``(f(z), f'(z))`` for the figure: the registry's pairs, Leaky ReLU with a visible
    slope, and :data:`MAXOUT_EXAMPLE` as a one-input Maxout (max of 3 lines).

    Parameters
    ----------
    name : str
        A key of :data:`ACTIVATION_TITLES`.
    z : ndarray, shape (n,)
    leaky_slope : float
        Leaky ReLU's ``negative_slope``.

    Returns
    -------
    f, df : ndarray, shape (n,)
    """
    check_choice("name", name, tuple(ACTIVATION_TITLES))
    z = check_array("z", z, ndim=1)
    leaky_slope = check_real("leaky_slope", leaky_slope)
    if name == "maxout":
        W = np.array([[[w]] for w, _ in MAXOUT_EXAMPLE])
        b = np.array([[c] for _, c in MAXOUT_EXAMPLE])
        out, cache = activations.maxout_forward(z[:, None], W, b)
        dx, _, _ = activations.maxout_backward(np.ones_like(out), cache)
        return out[:, 0], dx[:, 0]
    if name == "leaky_relu":
        return (
            activations.leaky_relu(z, negative_slope=leaky_slope),
            activations.leaky_relu_grad(z, negative_slope=leaky_slope),
        )
    f, df = activations.get(name)
    return f(z), df(z)


def plot_activation_functions(
    names=("sigmoid", "tanh", "relu", "leaky_relu", "elu", "maxout", "gelu", "silu", "softplus"),
    figsize=(9.0, 6.6),
    dpi: int = 96,
    figure: Figure | None = None,
) -> Figure:
    """Each activation (solid) with its derivative (dashed) on z in [-6, 6], three a row.

    Leaky ReLU is drawn with slope 0.1 (0.01 would look like ReLU), Maxout as the max of the
    three lines of :data:`MAXOUT_EXAMPLE`.

    Parameters
    ----------
    names : sequence of str
        Keys of :data:`ACTIVATION_TITLES`, one panel each.
    figsize, dpi
        Of the new figure (when ``figure`` is None).
    figure : matplotlib.figure.Figure, optional
        Draw on this (empty) figure instead.

    Returns
    -------
    matplotlib.figure.Figure
    """
    names = check_sequence(
        "names",
        names,
        lambda name, value: check_choice(name, value, tuple(ACTIVATION_TITLES)),
        max_len=3 * 12,
    )
    if figure is None:
        check_real("dpi", dpi, low=10)  # below, FreeType refuses the fonts
        check_figure_size(figsize, dpi)
        figure = Figure(figsize=figsize, dpi=dpi)
    elif not isinstance(figure, Figure):
        raise ValueError(f"figure must be a matplotlib Figure; got {type(figure).__name__}")
    rows = max(1, math.ceil(len(names) / 3))
    grid = figure.add_gridspec(
        rows, 3, left=0.08, right=0.98, bottom=0.07, top=0.93, hspace=0.55, wspace=0.25
    )
    z = np.linspace(*CURVE_RANGE, 601)
    for i, name in enumerate(names):
        ax = figure.add_subplot(grid[i // 3, i % 3])
        f, df = activation_curve(name, z, leaky_slope=FIGURE_LEAKY_SLOPE)
        ax.axhline(0, color="0.8", lw=0.8)
        ax.axvline(0, color="0.8", lw=0.8)
        ax.plot(z, f, color="C0", lw=1.8, label="f(z)")
        ax.plot(z, df, color="C3", lw=1.4, ls="--", label="f'(z)")
        title = ACTIVATION_TITLES[name]
        if name == "leaky_relu":
            title = f"{title} (α = {FIGURE_LEAKY_SLOPE:g})"
        ax.set_title(title, fontsize=10)
        ax.set_xlim(*CURVE_RANGE)
        ax.set_ylim(-1.6, 3.2)
        ax.set_xlabel("z", fontsize=8, labelpad=1)
        if i % 3 == 0:
            ax.set_ylabel("f(z), f'(z)", fontsize=8)
        ax.tick_params(labelsize=8)
        if i == 0:
            ax.legend(fontsize=8, loc="upper left", frameon=False)
    figure.suptitle("Activation functions (solid) and their derivatives (dashed)", fontsize=11)
    return figure


def plot_zigzag(paths, figsize=(9.0, 3.9), dpi: int = 96) -> Figure:
    """The SGD paths of :func:`.runs_zigzag.zigzag_path` in the (w1, w2) plane, one panel per
    path, over contour lines of the mean loss on that path's inputs.

    Parameters
    ----------
    paths : sequence of ZigzagPath
        One panel each (1 to 4); the same limits for all, fitted to every path.
    figsize, dpi
        Of the figure.

    Returns
    -------
    matplotlib.figure.Figure
    """

    def check_path(name, value):
        if not isinstance(value, ZigzagPath):
            raise ValueError(f"{name} must be a ZigzagPath; got {type(value).__name__}")
        return value

    paths = check_sequence("paths", paths, check_path, max_len=4)
    check_real("dpi", dpi, low=10)
    check_figure_size(figsize, dpi)
    figure = Figure(figsize=figsize, dpi=dpi)
    everything = np.vstack([p.weights for p in paths] + [np.array([TEACHER])])
    low, high = everything.min(axis=0), everything.max(axis=0)
    pad = 0.08 * (high - low).max() + 0.3
    w1 = np.linspace(low[0] - pad, high[0] + pad, 80)
    w2 = np.linspace(low[1] - pad, high[1] + pad, 80)
    axes = figure.subplots(1, len(paths), sharex=True, sharey=True)
    axes = np.atleast_1d(axes)
    figure.subplots_adjust(left=0.08, right=0.98, bottom=0.14, top=0.84, wspace=0.08)
    for ax, path in zip(axes, paths):
        loss = mean_loss_grid(path.inputs, w1, w2)
        ax.contour(
            w1, w2, loss, levels=np.geomspace(0.002, loss.max(), 9), colors="0.75", linewidths=0.7
        )
        ax.plot(*path.weights.T, color="C3" if not path.centred else "C0", lw=1.1, marker=".", ms=3)
        ax.plot(0, 0, "ko", ms=5)
        ax.plot(*TEACHER, "k*", ms=11, label="optimum w*")
        ax.set_xlim(w1[0], w1[-1])
        ax.set_ylim(w2[0], w2[-1])
        ax.set_xlabel("weight w₁", fontsize=9)
        kind = "centred inputs σ(u) − ½" if path.centred else "all-positive inputs σ(u)"
        ax.set_title(
            f"{kind}: {path.same_direction:.0%} of steps\nmove w₁, w₂ the same way "
            f"(η = {path.lr:g}, {len(path.weights) - 1} steps)",
            fontsize=9,
        )
        ax.tick_params(labelsize=8)
    axes[0].set_ylabel("weight w₂", fontsize=9)
    axes[0].legend(fontsize=8, loc="lower left", frameon=False)
    figure.suptitle(
        "SGD on the two weights of one sigmoid unit, from (0, 0) to w* = (3, −3); "
        "grey: loss contours",
        fontsize=10,
    )
    return figure


class ActivationResponseFigure:
    """Chapter 01's explorer view: the input distribution on the curve, the output histogram.

    Left: f(z) and f'(z) on [-6, 6] (static per activation) and a histogram of the
    pre-activations z (animated; the share beyond ±6 is in the explorer's summary). Right:
    the histogram of the outputs a = f(z) on :data:`OUTPUT_RANGE` (animated); ReLU's dead
    units (a = 0 exactly) are left out of the bars and counted in the summary.
    Both histograms are scaled to their own peak.
    """

    def __init__(
        self, figure: Figure, activation: str = "tanh", bins: int = 60, animated: bool = False
    ):
        if not isinstance(figure, Figure):
            raise ValueError(f"figure must be a matplotlib Figure; got {type(figure).__name__}")
        self.figure = figure
        self.bins = check_int("bins", bins, 1, MAX_BINS)
        width, height = figure.get_size_inches()
        self.curve_axes = figure.add_axes(
            _inches(figure, 0.65, 0.45, width / 2 - 0.9, height - 0.8)
        )
        self.out_axes = figure.add_axes(
            _inches(figure, width / 2 + 0.6, 0.45, width / 2 - 0.75, height - 0.8)
        )
        self.z_edges = np.linspace(*CURVE_RANGE, self.bins + 1)
        self.z_bars = self.curve_axes.stairs(
            np.zeros(self.bins),
            self.z_edges,
            fill=True,
            color="0.6",
            alpha=0.5,
            animated=animated,
            label="z (input)",
        )
        self.out_bars = self.out_axes.stairs(
            np.zeros(self.bins),
            np.arange(self.bins + 1.0),
            fill=True,
            color="C0",
            animated=animated,
        )
        self.curve_axes.set_xlim(*CURVE_RANGE)
        self.curve_axes.set_ylim(-1.6, 3.2)
        self.curve_axes.set_xlabel("pre-activation z", fontsize=9)
        self.curve_axes.set_ylabel("f(z), f'(z); z histogram (peak = 3)", fontsize=8)
        self.out_axes.set_ylim(0, 1.05)
        self.out_axes.set_xlabel("output a = f(z)", fontsize=9)
        self.out_axes.set_ylabel("count / largest count", fontsize=8)
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
        activations.get(activation)
        if activation == self.activation:
            return False
        self.activation = activation
        for line in self._curves:
            line.remove()
        z = np.linspace(*CURVE_RANGE, 401)
        f, df = activation_curve(activation, z, leaky_slope=0.01)
        self._curves = [
            self.curve_axes.plot(z, f, color="C0", lw=1.8, label="f(z)")[0],
            self.curve_axes.plot(z, df, color="C3", lw=1.4, ls="--", label="f'(z)")[0],
        ]
        self.curve_axes.legend(fontsize=8, loc="upper left", frameon=False)
        self.curve_axes.set_title(f"{ACTIVATION_TITLES[activation]} and the input z", fontsize=10)
        lo, hi = OUTPUT_RANGE[activation]
        self.out_edges = np.linspace(lo, hi, self.bins + 1)
        self.out_bars.set_data(np.zeros(self.bins), self.out_edges)
        self.out_axes.set_xlim(lo, hi)
        self.out_axes.set_title(f"histogram of the outputs ({activation})", fontsize=10)
        return True

    def update(self, response) -> list:
        """Show a :class:`~course_utils.chapters.ch01_activations.runs.UnitResponse`; returns
        the artists."""
        if not isinstance(response, UnitResponse):
            raise ValueError(f"response must be a UnitResponse; got {type(response).__name__}")
        z_bars = _peak_scaled(response.z, *CURVE_RANGE, self.bins) * 3.0
        self.z_bars.set_data(z_bars, self.z_edges)
        a = response.a[response.z > 0] if response.activation == "relu" else response.a
        out_bars = _peak_scaled(a, *OUTPUT_RANGE[self.activation], self.bins)
        self.out_bars.set_data(out_bars, self.out_edges)
        return self.artists


def _peak_scaled(values, low, high, bins) -> np.ndarray:
    """Counts of ``values`` in ``bins`` bins on [low, high], scaled to a peak of 1 (or all 0)."""
    counts = uniform_bin_counts(values, low, high, bins).astype(float)
    peak = counts.max()
    return counts / peak if peak > 0 else counts


def _inches(figure: Figure, left, bottom, width, height):
    w, h = figure.get_size_inches()
    return [left / w, bottom / h, max(width, 0.1) / w, max(height, 0.1) / h]
