"""Chapter 09's static figures: loss curves, the train/validation gap, update ratios, and
per-layer distributions. Each draws one panel per run on a :class:`~matplotlib.figure.Figure`
(``figure``, or a new one of ``figsize`` at ``dpi``) and returns it; no pyplot."""

from __future__ import annotations

import numpy as np

from course_utils.monitoring import HEALTHY_RATIO, Monitor, ema
from course_utils.plots import MAX_BINS, check_figure_size
from course_utils.seed_runs import SeedRuns
from course_utils.training import History
from course_utils.validation import check_array, check_int, check_real, check_sequence

__all__ = [
    "plot_loss_curves",
    "plot_accuracy_gap",
    "plot_update_ratios",
    "plot_layer_distributions",
]

_COLOURS = ("#d62728", "#9467bd", "#2ca02c", "#ff7f0e", "#1f77b4", "#8c564b", "#17becf")


#: Panels side by side in one figure (one colour each): more would be unreadable.
MAX_PANELS = len(_COLOURS)


def _figure(figsize, dpi, figure):
    from matplotlib.figure import Figure

    if figure is not None:
        if not isinstance(figure, Figure):
            raise ValueError(f"figure must be a matplotlib Figure; got {type(figure).__name__}")
        return figure
    check_figure_size(figsize, dpi)
    return Figure(figsize=figsize, dpi=dpi)


def _check_panels(name: str, panels, kinds, what: str) -> dict:
    """``panels`` as a dict of 1 to MAX_PANELS titles -> objects of ``kinds``."""
    if not isinstance(panels, dict) or not 1 <= len(panels) <= MAX_PANELS:
        raise ValueError(
            f"{name} must be a dict of 1 to {MAX_PANELS} panels: title -> {what}; "
            f"got {type(panels).__name__}"
        )
    for title, value in panels.items():
        if not isinstance(title, str) or not isinstance(value, kinds):
            raise ValueError(
                f"{name} must map titles (str) to {what}; got {title!r}: {type(value).__name__}"
            )
    return panels


def _check_ylim(ylim, positive=False) -> tuple:
    low, high = check_sequence("ylim", ylim, lambda n, v: check_real(n, v), 2, 2)
    if not low < high or (positive and low <= 0):
        raise ValueError(
            f"ylim must be (low, high) with {'0 < ' if positive else ''}low < high; got {ylim!r}"
        )
    return low, high


def plot_loss_curves(
    runs: dict,
    smoothing: float = 0.9,
    ylim=(0.0, 3.5),
    figsize=(9.0, 3.2),
    dpi: int = 96,
    figure=None,
):
    """One panel per run: the raw minibatch loss (light) and its :func:`ema` (dark).

    Parameters
    ----------
    runs : dict of str -> History
    """
    runs = _check_panels("runs", runs, History, "History")
    check_real("smoothing", smoothing, 0.0, 1.0, high_open=True)
    ylim = _check_ylim(ylim)
    figure = _figure(figsize, dpi, figure)
    axes = figure.subplots(1, len(runs), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, (title, history), colour in zip(axes, runs.items(), _COLOURS):
        loss = np.asarray(history.step_loss, dtype=np.float64)
        steps = np.arange(1, len(loss) + 1)
        shown = np.where(np.isfinite(loss), loss, np.nan)
        ax.plot(steps, shown, color=colour, alpha=0.25, lw=0.8)
        ax.plot(steps, ema(loss, smoothing, nonfinite="pass"), color=colour, lw=1.8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.set_ylim(*ylim)
        if history.diverged:
            ax.annotate(
                f"NaN at step {history.diverged_at}",
                (0.95, 0.5),
                xycoords="axes fraction",
                ha="right",
                color=colour,
                fontsize=9,
            )
    axes[0].set_ylabel("minibatch loss")
    figure.subplots_adjust(left=0.07, right=0.99, bottom=0.16, top=0.9, wspace=0.08)
    return figure


def plot_accuracy_gap(runs: dict, figsize=(9.0, 3.0), dpi: int = 96, figure=None):
    """One panel per run: training and validation accuracy at each evaluation."""
    runs = _check_panels("runs", runs, History, "History")
    figure = _figure(figsize, dpi, figure)
    axes = np.atleast_1d(figure.subplots(1, len(runs), sharey=True))
    for ax, (title, history) in zip(axes, runs.items()):
        ax.plot(history.eval_step, history.train_acc, "o-", ms=3, color="#1f77b4", label="train")
        ax.plot(history.eval_step, history.val_acc, "o-", ms=3, color="#ff7f0e", label="validation")
        ax.fill_between(history.eval_step, history.val_acc, history.train_acc, color="0.85")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.set_ylim(0, 1.02)
    axes[0].set_ylabel("accuracy")
    axes[0].legend(loc="lower right", fontsize=9)
    figure.subplots_adjust(left=0.07, right=0.99, bottom=0.16, top=0.9, wspace=0.08)
    return figure


def plot_update_ratios(
    monitors: dict,
    smoothing: float = 0.9,
    ylim=(1e-6, 1.0),
    figsize=(9.0, 3.2),
    dpi: int = 96,
    figure=None,
):
    """One panel per run: each layer's update-to-weight ratio per step (smoothed, log scale),
    with the 1e-3 rule of thumb as a dashed line.

    Parameters
    ----------
    monitors : dict of str -> Monitor or SeedRuns (drawn: its first seed)
    """
    monitors = _check_panels("monitors", monitors, (Monitor, SeedRuns), "Monitor or SeedRuns")
    check_real("smoothing", smoothing, 0.0, 1.0, high_open=True)
    ylim = _check_ylim(ylim, positive=True)
    figure = _figure(figsize, dpi, figure)
    axes = np.atleast_1d(figure.subplots(1, len(monitors), sharey=True))
    for ax, (title, monitor) in zip(axes, monitors.items()):
        if isinstance(monitor, SeedRuns):  # its first seed
            steps = np.arange(1, monitor.ratios.shape[1] + 1)
            series = {name: monitor.ratios[0, :, k] for k, name in enumerate(monitor.layers)}
        else:
            steps, series = monitor.steps, monitor.ratios
        for name, colour in zip(series, _COLOURS[4:] + _COLOURS):
            r = np.asarray(series[name], dtype=np.float64)
            ax.plot(steps, ema(r, smoothing, nonfinite="pass"), color=colour, lw=1.2, label=name)
        ax.axhline(HEALTHY_RATIO, color="k", ls="--", lw=0.8)
        ax.set_yscale("log")
        ax.set_ylim(*ylim)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
    axes[0].set_ylabel("||Δw|| / ||w|| per step")
    axes[-1].legend(loc="upper right", fontsize=8, ncol=2)
    figure.subplots_adjust(left=0.09, right=0.99, bottom=0.16, top=0.9, wspace=0.08)
    return figure


def plot_layer_distributions(
    rows: dict, bins: int = 40, figsize=(9.0, 4.6), dpi: int = 96, figure=None
):
    """A grid of histograms: one row per entry of ``rows`` (label -> list of per-layer
    arrays), one column per layer. Each panel spans its array's 0.5th to 99.5th percentile
    (a few outliers would otherwise squeeze the rest into one bar); compare the x scales."""
    if not isinstance(rows, dict) or not 1 <= len(rows) <= MAX_PANELS:
        raise ValueError(
            f"rows must be a dict of 1 to {MAX_PANELS} rows: label -> list of "
            f"per-layer arrays; got {type(rows).__name__}"
        )
    rows = {
        label: [
            check_array(f"rows[{label!r}][{i}]", a)
            for i, a in enumerate(check_sequence(f"rows[{label!r}]", arrays, max_len=MAX_PANELS))
        ]
        for label, arrays in rows.items()
    }
    bins = check_int("bins", bins, 1, MAX_BINS)
    figure = _figure(figsize, dpi, figure)
    n_cols = max(len(arrays) for arrays in rows.values())
    axes = figure.subplots(len(rows), n_cols, squeeze=False)
    for r, (label, arrays) in enumerate(rows.items()):
        for c in range(n_cols):
            ax = axes[r, c]
            ax.set_yticks([])
            ax.tick_params(labelsize=7)
            if r == 0:
                ax.set_title(f"layer {c + 1}", fontsize=9)
            if c == 0:
                ax.set_ylabel(label, fontsize=8, rotation=0, ha="right", va="center")
            if c >= len(arrays):
                ax.set_visible(False)
                continue
            values = np.ravel(arrays[c]).astype(np.float64)
            lo, hi = np.percentile(values, [0.5, 99.5])
            counts, edges = np.histogram(values, bins=bins, range=(lo, hi) if hi > lo else None)
            ax.stairs(counts, edges, fill=True, color=_COLOURS[4 + r % 3])  # one artist
    figure.subplots_adjust(left=0.17, right=0.99, bottom=0.06, top=0.93, hspace=0.6, wspace=0.12)
    return figure
