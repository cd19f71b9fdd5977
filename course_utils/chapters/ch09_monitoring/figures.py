"""Chapter 09's figures: loss curves, the train/validation gap, update ratios, and per-layer
distributions, each drawing one panel per run on a :class:`~matplotlib.figure.Figure`
(``figure``, or a new one of ``figsize`` at ``dpi``) and returning it; and
:class:`TrainingCurves`, the dashboard's three panels, redrawn in place. No pyplot."""

from __future__ import annotations

import math

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, NullLocator

from course_utils.chapters.ch09_monitoring.runs_seeds import check_paired
from course_utils.monitoring import HEALTHY_RATIO, Monitor, ema
from course_utils.plots import MAX_BINS, check_figure_size
from course_utils.seed_runs import SeedRuns
from course_utils.training import History
from course_utils.validation import (
    check_array,
    check_bool,
    check_choice,
    check_int,
    check_mapping,
    check_real,
    check_sequence,
)

__all__ = [
    "plot_loss_curves",
    "plot_accuracy_gap",
    "plot_update_ratios",
    "plot_layer_distributions",
    "plot_first_layer",
    "plot_high_lr",
    "TrainingCurves",
    "MAX_LAYERS",
]

_COLOURS = ("#d62728", "#9467bd", "#2ca02c", "#ff7f0e", "#1f77b4", "#8c564b", "#17becf")


#: Panels side by side in one figure (one colour each): more would be unreadable.
MAX_PANELS = len(_COLOURS)


def _figure(figsize, dpi, figure):
    if figure is not None:
        if not isinstance(figure, Figure):
            raise ValueError(f"figure must be a matplotlib Figure; got {type(figure).__name__}")
        return figure
    check_figure_size(figsize, dpi)
    return Figure(figsize=figsize, dpi=dpi)


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
    runs = check_mapping("runs", runs, History, "History", MAX_PANELS)
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
    runs = check_mapping("runs", runs, History, "History", MAX_PANELS)
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
    monitors = check_mapping(
        "monitors", monitors, (Monitor, SeedRuns), "Monitor or SeedRuns", MAX_PANELS
    )
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
        ax.yaxis.set_minor_locator(NullLocator())  # decades only: minor ticks cost half the draw
        ax.set_ylim(*ylim)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("step")
    axes[0].set_ylabel("||Δw|| / ||w|| per step")
    axes[-1].legend(loc="upper right", fontsize=8, ncol=2)
    figure.subplots_adjust(left=0.09, right=0.99, bottom=0.16, top=0.9, wspace=0.08)
    return figure


def plot_high_lr(
    high: SeedRuns,
    good: SeedRuns,
    smoothing: float = 0.9,
    figsize=(9.0, 3.0),
    dpi: int = 96,
    figure=None,
):
    """The smoothed minibatch loss of every seed (thin) and its median over seeds (thick), for
    the good and the high rate, on one axis; the right panel zooms on the end of the runs."""
    check_paired(high, good)
    smoothing = check_real("smoothing", smoothing, 0.0, 1.0, high_open=True)
    figure = _figure(figsize, dpi, figure)
    axes = figure.subplots(1, 2, gridspec_kw={"width_ratios": [2, 1]})
    steps = np.arange(1, high.step_loss.shape[1] + 1)
    for runs, label, colour in (
        (good, "lr 0.01 (good)", "#2ca02c"),
        (high, "lr 0.1 (high)", "#d62728"),
    ):
        smooth = np.array([ema(row, smoothing, nonfinite="pass") for row in runs.step_loss])
        for ax in axes:
            ax.plot(steps, smooth.T, color=colour, alpha=0.2, lw=0.7)
            ax.plot(steps, np.nanmedian(smooth, 0), color=colour, lw=2.0, label=label)
    axes[0].set_ylim(0.0, 2.8)
    axes[1].set_xlim(steps[-1] // 2, steps[-1])
    axes[1].set_ylim(0.0, 0.8)
    for ax, title in zip(axes, ("whole run", "second half, zoomed")):
        ax.set_xlabel("step")
        ax.set_title(title, fontsize=10)
    axes[0].set_ylabel("smoothed minibatch loss")
    axes[0].legend(loc="upper right", fontsize=9)
    figure.subplots_adjust(left=0.07, right=0.99, bottom=0.16, top=0.9, wspace=0.15)
    return figure


def plot_layer_distributions(
    rows: dict, bins: int = 40, figsize=(9.0, 4.6), dpi: int = 96, figure=None
):
    """A grid of histograms: one row per entry of ``rows`` (label -> list of per-layer
    arrays), one column per layer. Each panel spans its array's 0.5th to 99.5th percentile
    (a few outliers would otherwise squeeze the rest into one bar); compare the x scales."""
    check_mapping("rows", rows, object, "a list of per-layer arrays", MAX_PANELS)
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
            # three ticks at most, so neighbouring panels' labels never meet
            ax.xaxis.set_major_locator(MaxNLocator(nbins=3, symmetric=lo < 0 < hi))
    figure.subplots_adjust(left=0.17, right=0.97, bottom=0.06, top=0.93, hspace=0.6, wspace=0.2)
    return figure


def plot_first_layer(
    trained, initial, units: int = 8, side: int = 8, figsize=(9.0, 2.6), dpi: int = 96, figure=None
):
    """The first ``units`` units of the first ``nn.Linear`` layer as ``side x side`` images:
    top row the trained weights ``W``, bottom row what training changed, ``W - W0``
    (``initial`` is the same network before training). Each image has its own symmetric
    colour scale (blue negative, red positive): compare patterns, not colours."""
    import torch

    units = check_int("units", units, 1, 32)
    side = check_int("side", side, 2, 64)
    layers = []
    for name, model in (("trained", trained), ("initial", initial)):
        if not isinstance(model, torch.nn.Module):
            raise ValueError(f"{name} must be a torch.nn.Module; got {type(model).__name__}")
        linear = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
        if not linear:
            raise ValueError(f"{name} has no nn.Linear layer")
        layers.append(linear[0].weight.detach().cpu().numpy().astype(np.float64))
    w, w0 = layers
    if w.shape != w0.shape or w.shape[1] != side * side or w.shape[0] < units:
        raise ValueError(
            f"trained and initial must share a first layer with {side * side} inputs and at "
            f"least {units} units; got {w.shape} and {w0.shape}"
        )
    figure = _figure(figsize, dpi, figure)
    # one image per row: the units side by side, a blank column between them, each unit
    # divided by its own largest |weight| (so colours compare patterns, as separate panels would)
    axes = figure.subplots(2, 1, squeeze=False)[:, 0]
    cmap = matplotlib.colormaps["RdBu_r"].with_extremes(bad="white")
    centres = [u * (side + 1) + (side - 1) / 2 for u in range(units)]
    for ax, (label, values) in zip(axes, (("W (trained)", w), ("W - W0 (change)", w - w0))):
        mosaic = np.full((side, units * (side + 1) - 1), np.nan)
        for u in range(units):
            image = values[u].reshape(side, side)
            limit = float(np.abs(image).max()) or 1.0
            mosaic[:, u * (side + 1) : u * (side + 1) + side] = image / limit
        ax.imshow(mosaic, cmap=cmap, vmin=-1.0, vmax=1.0, interpolation="nearest")
        ax.set_yticks([])
        ax.set_ylabel(label, fontsize=8)
        ax.set_xticks(centres, [f"unit {u + 1}" for u in range(units)] if ax is axes[0] else [])
        ax.tick_params(length=0, labelsize=8, labeltop=True, labelbottom=False)
        for spine in ax.spines.values():
            spine.set_visible(False)
    figure.subplots_adjust(left=0.06, right=0.99, bottom=0.03, top=0.88, hspace=0.12)
    return figure


#: Smoothing of the loss and ratio curves (:func:`course_utils.monitoring.ema`).
SMOOTHING = 0.9
RATIO_YLIM = (1e-6, 10.0)
#: Most layers the ratio panel draws (one line and legend entry each).
MAX_LAYERS = 50
_LAYER_COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")


class TrainingCurves:
    """Three panels with fixed limits: loss, accuracy, update-to-weight ratio per layer.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
    layers : sequence of str
        The monitored layers (``W1`` ... ``WL``).
    num_classes : int
        Sets the loss axis: 0 to 1.5 ln C (a fresh classifier starts near ln C).
    animated : bool
        Mark the data artists animated (blitted by the explorer).
    """

    def __init__(self, figure: Figure, layers, num_classes: int = 10, animated: bool = False):
        if not isinstance(figure, Figure):
            raise ValueError(f"figure must be a matplotlib Figure; got {type(figure).__name__}")
        layers = check_sequence(
            "layers",
            layers,
            lambda n, v: v if isinstance(v, str) else check_choice(n, v, ("a layer name (str)",)),
            max_len=MAX_LAYERS,
        )
        num_classes = check_int("num_classes", num_classes, 2, 10**6)
        animated = check_bool("animated", animated)
        self.figure = figure
        self.layers = tuple(layers)
        self.loss_ax, self.acc_ax, self.ratio_ax = figure.subplots(1, 3)
        ax = self.loss_ax
        (self.step_loss,) = ax.plot(
            [], [], color="#d62728", alpha=0.25, lw=0.8, animated=animated, label="minibatch"
        )
        (self.smooth_loss,) = ax.plot(
            [], [], color="#d62728", lw=1.8, animated=animated, label=f"smoothed ({SMOOTHING:g})"
        )
        (self.val_loss,) = ax.plot(
            [], [], "o-", ms=3, color="#ff7f0e", lw=1, animated=animated, label="validation"
        )
        ax.set_ylim(0.0, 1.5 * math.log(num_classes))
        ax.set_title("loss", fontsize=10)
        ax.legend(loc="upper right", fontsize=7)
        ax = self.acc_ax
        (self.train_acc,) = ax.plot(
            [], [], "o-", ms=3, color="#1f77b4", animated=animated, label="train"
        )
        (self.val_acc,) = ax.plot(
            [], [], "o-", ms=3, color="#ff7f0e", animated=animated, label="validation"
        )
        ax.set_ylim(0.0, 1.02)
        ax.set_title("accuracy", fontsize=10)
        ax.legend(loc="lower right", fontsize=7)
        ax = self.ratio_ax
        self.ratios = [
            ax.plot(
                [],
                [],
                color=_LAYER_COLOURS[i % len(_LAYER_COLOURS)],
                lw=1.2,
                animated=animated,
                label=name,
            )[0]
            for i, name in enumerate(self.layers)
        ]
        ax.axhline(HEALTHY_RATIO, color="k", ls="--", lw=0.8)
        ax.set_yscale("log")
        ax.yaxis.set_minor_locator(NullLocator())  # decades only: minor ticks cost half the draw
        ax.set_ylim(*RATIO_YLIM)
        ax.set_title("||Δw|| / ||w|| per step", fontsize=10)
        ax.legend(loc="upper right", fontsize=7, ncol=2)
        for ax in (self.loss_ax, self.acc_ax, self.ratio_ax):
            ax.set_xlabel("step", fontsize=8)
            ax.tick_params(labelsize=8)
        #: One line above the panels: the run shown, or the one Start will train.
        # (an axes' child, not a figure text: savefig draws animated artists of axes only)
        self.plan = self.loss_ax.text(
            -0.12,
            1.13,
            "",
            transform=self.loss_ax.transAxes,
            va="bottom",
            fontsize=9,
            animated=animated,
            clip_on=False,
        )
        self.set_steps(100)
        figure.subplots_adjust(left=0.05, right=0.99, bottom=0.15, top=0.83, wspace=0.25)

    @property
    def artists(self) -> list:
        return [
            self.step_loss,
            self.smooth_loss,
            self.val_loss,
            self.train_acc,
            self.val_acc,
            *self.ratios,
            self.plan,
        ]

    def set_steps(self, total: int) -> bool:
        """Fix the x axes to a run of ``total`` steps; return whether they changed (then the
        figure needs a full draw; otherwise the animated artists can be blitted)."""
        right = max(int(total), 1)
        if self.loss_ax.get_xlim() == (0.0, float(right)):
            return False
        for ax in (self.loss_ax, self.acc_ax, self.ratio_ax):
            ax.set_xlim(0, right)
        return True

    def update(self, history=None, monitor=None) -> list:
        """Show ``history`` (and ``monitor``'s ratios); ``None`` empties the panels."""
        if history is None:
            for line in self.artists[:-1]:
                line.set_data([], [])
            return self.artists
        loss = np.asarray(history.step_loss, dtype=np.float64)
        steps = np.arange(1, len(loss) + 1)
        self.step_loss.set_data(steps, np.where(np.isfinite(loss), loss, np.nan))
        self.smooth_loss.set_data(steps, ema(loss, SMOOTHING, nonfinite="pass"))
        self.val_loss.set_data(history.eval_step, history.val_loss)
        self.train_acc.set_data(history.eval_step, history.train_acc)
        self.val_acc.set_data(history.eval_step, history.val_acc)
        for line, name in zip(self.ratios, self.layers):
            if monitor is None or not monitor.steps:
                line.set_data([], [])
                continue
            r = np.asarray(monitor.ratios[name], dtype=np.float64)
            line.set_data(monitor.steps, ema(r, SMOOTHING, nonfinite="pass"))
        return self.artists
