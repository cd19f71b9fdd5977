"""Chapter 09's static figures: loss curves, the train/validation gap, update ratios, and
per-layer distributions. Each draws on a :class:`~matplotlib.figure.Figure` (one panel per
run) and returns it; no pyplot."""

from __future__ import annotations

import numpy as np

from course_utils.monitoring import HEALTHY_RATIO, ema
from course_utils.seed_runs import SeedRuns

__all__ = ["plot_loss_curves", "plot_accuracy_gap", "plot_update_ratios",
           "plot_layer_distributions"]

_COLOURS = ("#d62728", "#9467bd", "#2ca02c", "#ff7f0e", "#1f77b4", "#8c564b", "#17becf")


def _figure(figsize, dpi):
    from matplotlib.figure import Figure

    from course_utils.plots import check_figure_size

    check_figure_size(figsize, dpi)
    return Figure(figsize=figsize, dpi=dpi)


def plot_loss_curves(runs: dict, smoothing: float = 0.9, ylim=(0.0, 3.5),
                     figsize=(9.0, 3.2), dpi: int = 96):
    """One panel per run: the raw minibatch loss (light) and its :func:`ema` (dark).

    Parameters
    ----------
    runs : dict of str -> History
    """
    figure = _figure(figsize, dpi)
    axes = figure.subplots(1, len(runs), sharey=True)
    axes = np.atleast_1d(axes)
    for ax, (title, history), colour in zip(axes, runs.items(), _COLOURS):
        loss = np.asarray(history.step_loss, dtype=np.float64)
        steps = np.arange(1, len(loss) + 1)
        shown = np.where(np.isfinite(loss), loss, np.nan)
        ax.plot(steps, shown, color=colour, alpha=0.25, lw=0.8)
        ax.plot(steps, ema(loss, smoothing), color=colour, lw=1.8)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.set_ylim(*ylim)
        if history.diverged:
            ax.annotate(f"NaN at step {history.diverged_at}", (0.95, 0.5),
                        xycoords="axes fraction", ha="right", color=colour, fontsize=9)
    axes[0].set_ylabel("minibatch loss")
    figure.subplots_adjust(left=0.07, right=0.99, bottom=0.16, top=0.9, wspace=0.08)
    return figure


def plot_accuracy_gap(runs: dict, figsize=(9.0, 3.0), dpi: int = 96):
    """One panel per run: training and validation accuracy at each evaluation."""
    figure = _figure(figsize, dpi)
    axes = np.atleast_1d(figure.subplots(1, len(runs), sharey=True))
    for ax, (title, history) in zip(axes, runs.items()):
        ax.plot(history.eval_step, history.train_acc, "o-", ms=3, color="#1f77b4", label="train")
        ax.plot(history.eval_step, history.val_acc, "o-", ms=3, color="#ff7f0e",
                label="validation")
        ax.fill_between(history.eval_step, history.val_acc, history.train_acc, color="0.85")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
        ax.set_ylim(0, 1.02)
    axes[0].set_ylabel("accuracy")
    axes[0].legend(loc="lower right", fontsize=9)
    figure.subplots_adjust(left=0.07, right=0.99, bottom=0.16, top=0.9, wspace=0.08)
    return figure


def plot_update_ratios(monitors: dict, smoothing: float = 0.9, ylim=(1e-6, 1.0),
                       figsize=(9.0, 3.2), dpi: int = 96):
    """One panel per run: each layer's update-to-weight ratio per step (smoothed, log scale),
    with the 1e-3 rule of thumb as a dashed line.

    Parameters
    ----------
    monitors : dict of str -> Monitor or SeedRuns (drawn: its first seed)
    """
    figure = _figure(figsize, dpi)
    axes = np.atleast_1d(figure.subplots(1, len(monitors), sharey=True))
    for ax, (title, monitor) in zip(axes, monitors.items()):
        if isinstance(monitor, SeedRuns):  # its first seed
            steps = np.arange(1, monitor.ratios.shape[1] + 1)
            series = {name: monitor.ratios[0, :, k] for k, name in enumerate(monitor.layers)}
        else:
            steps, series = monitor.steps, monitor.ratios
        for name, colour in zip(series, _COLOURS[4:] + _COLOURS):
            r = np.asarray(series[name], dtype=np.float64)
            ax.plot(steps, ema(r, smoothing), color=colour, lw=1.2, label=name)
        ax.axhline(HEALTHY_RATIO, color="k", ls="--", lw=0.8)
        ax.set_yscale("log")
        ax.set_ylim(*ylim)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
    axes[0].set_ylabel("||Δw|| / ||w|| per step")
    axes[-1].legend(loc="upper right", fontsize=8, ncol=2)
    figure.subplots_adjust(left=0.09, right=0.99, bottom=0.16, top=0.9, wspace=0.08)
    return figure


def plot_layer_distributions(rows: dict, bins: int = 40, figsize=(9.0, 4.6), dpi: int = 96):
    """A grid of histograms: one row per entry of ``rows`` (label -> list of per-layer
    arrays), one column per layer. Each panel spans its array's 0.5th to 99.5th percentile
    (a few outliers would otherwise squeeze the rest into one bar); compare the x scales."""
    figure = _figure(figsize, dpi)
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
    figure.subplots_adjust(left=0.17, right=0.99, bottom=0.06, top=0.93, hspace=0.6,
                           wspace=0.12)
    return figure
