"""Chapter 03's static figures: the per-layer histograms with a readable std axis.

The histograms are :class:`course_utils.plots.LayerHistogramFigure`; :func:`tidy_std_axis`
gives its log-scale std panel a few plain tick labels (0.05, 0.1, 0.2, ...) instead of
matplotlib's minor labels (``6 x 10^-2``), which overlap in a panel under an inch high.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from course_utils.plots import check_axes, plot_layer_histograms

__all__ = ["tidy_std_axis", "layer_histograms", "plot_training_curves"]


def _plain(value: float, _position=None) -> str:
    return f"{value:g}"


def tidy_std_axis(ax: Axes) -> Axes:
    """Label a log-scale std axis with a few plain numbers and name it.

    Ticks at 1, 2 and 5 times a power of 10 when the axis spans about a decade, at 1 and 3
    over up to three decades, at powers of 10 beyond; minor ticks stay, unlabelled.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
        A log-scale axes (the std panel of :class:`~course_utils.plots.LayerHistogramFigure`).

    Returns
    -------
    Axes
        ``ax``, for chaining.
    """
    check_axes("ax", ax)
    if ax.get_yscale() != "log":
        raise ValueError(f"ax must have a log-scale y axis; got {ax.get_yscale()!r}")
    lo, hi = ax.get_ylim()
    decades = math.log10(hi / lo) if lo > 0 and hi > lo else 1.0
    subs = (1.0, 2.0, 5.0) if decades <= 1.3 else (1.0, 3.0) if decades <= 3 else (1.0,)
    # numticks: label every decade even on a short axis (the default thins them out)
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=subs, numticks=16))
    ax.yaxis.set_major_formatter(FuncFormatter(_plain))
    ax.yaxis.set_minor_locator(LogLocator(base=10, subs=np.arange(1, 10)))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_ylabel("std of a", fontsize=9)
    return ax


def layer_histograms(
    activations, activation: str, title: str = "", figsize=(9.0, 3.25), dpi: int = 96
) -> Figure:
    """One histogram of activations per layer and the per-layer std, as a static figure.

    :func:`course_utils.plots.plot_layer_histograms` with the std axis of
    :func:`tidy_std_axis`.

    Parameters
    ----------
    activations : sequence of 1 to 12 arrays
        One array of activations per layer, e.g. ``(n_samples, width)``.
    activation : str
        ``"tanh"``, ``"sigmoid"`` or ``"relu"``: fixes the histograms' range.
    title : str
    figsize : (float, float)
    dpi : int

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot; a notebook displays it as a PNG.
    """
    figure = plot_layer_histograms(activations, activation, title, figsize, dpi)
    tidy_std_axis(figure.axes[-1])  # LayerHistogramFigure adds its std panel last
    return figure


def plot_training_curves(runs, ax: Axes) -> list:
    """Training loss against step, one line per initialisation (median over seeds), with
    each seed's run as a thin line of the same colour.

    Parameters
    ----------
    runs : TrainingRuns
        What :func:`.runs_training.train_inits` returned.
    ax : matplotlib.axes.Axes

    Returns
    -------
    list of Line2D
        The median lines, one per initialisation.
    """
    check_axes("ax", ax)
    for attr in ("names", "steps", "train_loss"):
        if not hasattr(runs, attr):
            raise ValueError(f"runs must be what train_inits returned; it has no {attr!r}")
    lines = []
    for i, name in enumerate(runs.names):
        colour = f"C{i}"
        for seed_loss in runs.train_loss[i]:
            ax.plot(runs.steps, seed_loss, color=colour, lw=0.6, alpha=0.35)
        (line,) = ax.plot(
            runs.steps, np.median(runs.train_loss[i], axis=0), color=colour, lw=2, label=name
        )
        lines.append(line)
    ax.axhline(math.log(10), color="0.5", lw=0.8, ls="--")
    ax.text(
        runs.steps[-1],
        math.log(10),
        "ln 10: chance",
        ha="right",
        va="bottom",
        fontsize=8,
        color="0.4",
    )
    ax.set_yscale("log")
    ax.yaxis.set_major_formatter(FuncFormatter(_plain))
    ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(runs.steps[0], runs.steps[-1])
    ax.set_xlabel("SGD step")
    ax.set_ylabel("training loss (cross-entropy)")
    ax.legend(fontsize=8, loc="lower left")
    return lines
