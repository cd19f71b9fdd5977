"""Chapter 07's figures: thinned networks, the two dropout versions, stochastic depth,
augmented photos and weight histograms, and the explorer's view.

Each ``plot_*`` function draws on a new :class:`~matplotlib.figure.Figure` it returns (no
pyplot); the data come from the lesson (:mod:`course_utils.regularization`) and the runs
(:mod:`course_utils.chapters.ch07_regularization.runs`, ``runs_explorer``).
:class:`DropoutView` builds the explorer's four panels once and updates them in place.
"""

from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from course_utils import regularization as R
from course_utils.chapters.ch07_regularization.runs import near_zero_share
from course_utils.chapters.ch07_regularization.runs_explorer import DropoutDemo
from course_utils.plots import check_figure_size
from course_utils.validation import (
    MAX_ITEMS,
    check_array,
    check_int,
    check_real,
    check_sequence,
    make_rng,
)

__all__ = [
    "plot_thinned_networks",
    "plot_dropout_versions",
    "plot_stochastic_depth",
    "plot_augmentations",
    "plot_weight_histograms",
    "plot_dropout_sweep",
    "DropoutView",
]


#: The keep-mask's two colours: black dropped (0), white kept (1).
KEEP_COLOURS = ListedColormap(["black", "white"], name="keep_mask")


def _network_positions(sizes):
    positions = []
    for layer, size in enumerate(sizes):
        ys = np.linspace(0, 1, size + 2)[1:-1] if size > 1 else np.array([0.5])
        positions.append(np.column_stack([np.full(size, float(layer)), ys]))
    return positions


def _draw_network(ax, sizes, unit_masks=None, weight_masks=None, title=""):
    """A fully connected network; dropped units grey with a cross, dropped weights absent."""
    positions = _network_positions(sizes)
    unit_masks = unit_masks or [np.ones(s, bool) for s in sizes]
    segments = []
    for l in range(len(sizes) - 1):
        for i, (x0, y0) in enumerate(positions[l]):
            for j, (x1, y1) in enumerate(positions[l + 1]):
                kept = unit_masks[l][i] and unit_masks[l + 1][j]
                if weight_masks is not None:
                    kept = kept and weight_masks[l][i, j]
                if kept:
                    segments.append([(x0, y0), (x1, y1)])
    # one collection for every connection: a few hundred Line2D artists draw 5x slower
    ax.add_collection(LineCollection(segments, colors="0.45", linewidths=0.6, zorder=1))
    for l, pos in enumerate(positions):
        kept = unit_masks[l]
        ax.scatter(
            pos[kept, 0], pos[kept, 1], s=70, color="C0", zorder=2, edgecolors="k", linewidths=0.5
        )
        ax.scatter(
            pos[~kept, 0],
            pos[~kept, 1],
            s=70,
            color="0.85",
            zorder=2,
            edgecolors="0.6",
            linewidths=0.5,
        )
        ax.scatter(
            pos[~kept, 0], pos[~kept, 1], s=40, marker="x", color="C3", zorder=3, linewidths=1.2
        )
    ax.set_xlim(-0.3, len(sizes) - 0.7)
    ax.set_ylim(0, 1)
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)


def plot_thinned_networks(
    sizes=(4, 6, 6, 3), p: float = 0.5, seed: int = 0, figsize=(8.5, 2.6), dpi=96
) -> Figure:
    """The network, two thinned networks from dropout masks, one from a DropConnect mask.

    Input and output units are never dropped; ``p`` is the probability of DROPPING.
    """
    # a diagram: 2 to 8 layers of 1 to 12 units (more would be unreadable)
    sizes = check_sequence(
        "sizes", sizes, min_len=2, max_len=8, item=lambda n, s: check_int(n, s, 1, 12)
    )
    p = R.check_drop_probability(p)
    rng = make_rng(seed)
    check_figure_size(figsize, dpi)
    figure = Figure(figsize=figsize, dpi=dpi)
    axes = figure.subplots(1, 4)
    _draw_network(axes[0], sizes, title="the network")
    for k in (1, 2):
        masks = (
            [np.ones(sizes[0], bool)]
            + [R.dropout_mask(s, p, rng) for s in sizes[1:-1]]
            + [np.ones(sizes[-1], bool)]
        )
        _draw_network(axes[k], sizes, unit_masks=masks, title=f"dropout, mask {k}: units dropped")
    weight_masks = [R.dropconnect_mask((a, b), p, rng) for a, b in zip(sizes[:-1], sizes[1:])]
    _draw_network(axes[3], sizes, weight_masks=weight_masks, title="DropConnect: weights dropped")
    figure.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.88, wspace=0.08)
    return figure


def plot_dropout_versions(a, p: float, seed: int = 0, figsize=(8.5, 3.6), dpi=96) -> Figure:
    """Activations ``a`` (N, D) under both versions, one mask: train output and test output.

    Rows: version 1, version 2; columns: a, the keep-mask (white: kept, black: dropped),
    train output, test output, all on one colour scale (the colour bar on the right) so that
    the scaling shows. Each panel: units along x, samples along y.
    """
    a = check_array("a", a, ndim=2, limit=MAX_ITEMS)  # an image per panel: a few units
    mask = R.dropout_mask(a.shape, p, seed)
    check_figure_size(figsize, dpi)
    figure = Figure(figsize=figsize, dpi=dpi)
    axes = figure.subplots(2, 4)
    vmax = float(np.abs(a).max() / (1 - p))
    for row, version in enumerate((1, 2)):
        panels = [
            (a, "a (before dropout)"),
            (mask.astype(float), "keep-mask m (white: kept)"),
            (
                R.apply_dropout(a, mask, p, version),
                "train: a ⊙ m" if version == 1 else f"train: a ⊙ m / {1 - p:g}",
            ),
            (R.dropout(a, p, False, version), f"test: {1 - p:g} a" if version == 1 else "test: a"),
        ]
        for col, (values, title) in enumerate(panels):
            ax = axes[row, col]
            if col == 1:
                mask_image = ax.imshow(
                    values, cmap=KEEP_COLOURS, vmin=0, vmax=1, interpolation="nearest"
                )
            else:
                image = ax.imshow(
                    values, cmap="viridis", vmin=0, vmax=vmax, interpolation="nearest"
                )
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(title, fontsize=8)
        axes[row, 0].set_ylabel(f"version {version}\nsample", fontsize=8)
    for ax in axes[1]:
        ax.set_xlabel("unit", fontsize=8)
    figure.subplots_adjust(left=0.06, right=0.86, bottom=0.07, top=0.92, wspace=0.08, hspace=0.3)
    key = figure.colorbar(mask_image, cax=figure.add_axes((0.875, 0.62, 0.015, 0.3)))
    key.set_ticks([0.25, 0.75], labels=["dropped", "kept"], fontsize=7)
    key.outline.set_edgecolor("0.5")
    key.set_label("keep-mask", fontsize=7)
    bar = figure.colorbar(image, cax=figure.add_axes((0.875, 0.07, 0.015, 0.45)))
    bar.set_label("activation value", fontsize=7)
    bar.ax.tick_params(labelsize=7)
    return figure


def plot_stochastic_depth(ran, survival, figsize=(8.5, 2.8), dpi=96) -> Figure:
    """Which residual blocks ran (``ran``: (iterations, blocks) bool) and the survival
    probabilities :math:`p_l`, against the share of iterations each block ran."""
    ran = check_array("ran", ran, ndim=2, dtype=bool, limit=MAX_ITEMS)
    survival = check_array("survival", survival, shape=(ran.shape[1],))
    check_figure_size(figsize, dpi)
    figure = Figure(figsize=figsize, dpi=dpi)
    left, right = figure.subplots(1, 2, gridspec_kw={"width_ratios": [1.6, 1]})
    left.imshow(ran, cmap="Blues", vmin=-0.3, vmax=1, aspect="auto", interpolation="nearest")
    left.set_xlabel("residual block l (dark: ran, white: skipped)", fontsize=8)
    left.set_ylabel("training iteration", fontsize=8)
    left.set_title("stochastic depth: the blocks each iteration ran", fontsize=9)
    left.tick_params(labelsize=7)
    blocks = np.arange(1, len(survival) + 1)
    left.set_xticks(blocks[::2] - 1, [str(b) for b in blocks[::2]])
    right.plot(blocks, survival, "o-", ms=3, label="survival $p_l$")
    right.plot(blocks, ran.mean(axis=0), "s", ms=3, label=f"ran ({len(ran)} iterations)")
    right.set_ylim(0, 1.05)
    right.set_xlabel("block l", fontsize=8)
    right.set_title("test time: block l scaled by $p_l$", fontsize=9)
    right.tick_params(labelsize=7)
    right.legend(fontsize=7, loc="lower left")
    figure.subplots_adjust(left=0.07, right=0.98, bottom=0.17, top=0.88, wspace=0.25)
    return figure


def plot_augmentations(images: dict, cols: int = 3, figsize=(8.5, 4.0), dpi=96) -> Figure:
    """A grid of images, one panel per entry (title -> (H, W, 3) image), in order."""
    if not isinstance(images, dict) or not 1 <= len(images) <= 48:
        raise ValueError(
            f"images must be a dict title -> image with 1 to 48 entries; got {images!r:.60}"
        )
    for title, image in images.items():  # checked, then drawn as given (uint8 stays uint8)
        check_array(f"images[{title!r}]", image, ndim=(2, 3), dtype=None)
    cols = check_int("cols", cols, 1, 12)
    check_figure_size(figsize, dpi)
    figure = Figure(figsize=figsize, dpi=dpi)
    rows = -(-len(images) // cols)
    axes = figure.subplots(rows, cols, squeeze=False)
    for ax, (title, image) in zip(axes.ravel(), images.items()):
        ax.imshow(image, interpolation="nearest")
        ax.set_title(title, fontsize=8)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes.ravel()[len(images) :]:
        ax.set_axis_off()
    figure.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.94, wspace=0.05, hspace=0.15)
    return figure


def plot_weight_histograms(
    weights: dict,
    threshold: float = 1e-3,
    limit: float | None = None,
    bins: int = 121,
    figsize=(8.5, 2.6),
    dpi=96,
) -> Figure:
    """One histogram per entry (title -> weight array or list of arrays), on a shared range
    ``[-limit, limit]`` (default: the largest ``|w|`` of all entries), log counts, with the
    share of ``|w| < threshold`` in each title."""
    if not isinstance(weights, dict) or not 1 <= len(weights) <= 12:
        raise ValueError(
            f"weights must be a dict title -> weights with 1 to 12 entries; got {weights!r:.60}"
        )
    pooled = {
        title: np.concatenate(
            [
                np.ravel(x)
                for x in check_sequence(
                    f"weights[{title!r}]", w, item=lambda n, x: check_array(n, x)
                )
            ]
        )
        if isinstance(w, (list, tuple))
        else np.ravel(check_array(f"weights[{title!r}]", w))
        for title, w in weights.items()
    }
    threshold = check_real("threshold", threshold, 0.0, low_open=True)
    bins = check_int("bins", bins, 1, 1000)
    if limit is None:
        limit = float(max(np.abs(w).max() for w in pooled.values()))
    limit = check_real("limit", limit, 0.0, low_open=True)
    check_figure_size(figsize, dpi)
    figure = Figure(figsize=figsize, dpi=dpi)
    axes = figure.subplots(1, len(pooled), squeeze=False)[0]
    edges = np.linspace(-limit, limit, bins + 1)
    for ax, (title, w) in zip(axes, pooled.items()):
        counts, _ = np.histogram(w, bins=edges)  # one filled outline, not one bar per bin
        ax.stairs(counts, edges, fill=True, color="C0")
        share = near_zero_share(w, threshold)
        ax.set_title(f"{title}: {share:.1%} of |w| < {threshold:g}", fontsize=9)
        ax.set_yscale("log")
        ax.set_xlabel("weight", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("count (log)", fontsize=8)
    figure.subplots_adjust(left=0.08, right=0.98, bottom=0.18, top=0.88, wspace=0.2)
    return figure


def plot_dropout_sweep(p, train_acc, val_acc, figsize=(8.5, 2.8), dpi=96) -> Figure:
    """Training and validation accuracy against the drop probability, mean +- SD over seeds.

    Parameters
    ----------
    p : sequence of float, length P
        The drop probabilities (0 is the unregularised run).
    train_acc, val_acc : ndarray, shape (P, S)
        Final accuracies of each setting over ``S`` seeds.

    Left: both accuracies; right: their difference, the generalisation gap.
    """
    p = check_array("p", p, ndim=1, limit=MAX_ITEMS)
    train_acc = check_array("train_acc", train_acc, shape=(len(p), None), limit=MAX_ITEMS)
    val_acc = check_array("val_acc", val_acc, shape=train_acc.shape, limit=MAX_ITEMS)
    if train_acc.shape[1] < 2:
        raise ValueError("train_acc and val_acc need at least 2 seeds (columns) for a spread")
    check_figure_size(figsize, dpi)
    figure = Figure(figsize=figsize, dpi=dpi)
    left, right = figure.subplots(1, 2)
    for values, label, marker in ((train_acc, "training", "s"), (val_acc, "validation", "o")):
        left.errorbar(
            p,
            values.mean(axis=1),
            values.std(axis=1, ddof=1),
            marker=marker,
            ms=4,
            capsize=3,
            label=label,
        )
    gap = train_acc - val_acc
    right.errorbar(
        p, gap.mean(axis=1), gap.std(axis=1, ddof=1), marker="o", ms=4, capsize=3, color="C3"
    )
    right.axhline(0, color="0.7", lw=0.8)
    left.set_ylabel("accuracy (mean ± SD over seeds)", fontsize=8)
    left.set_title("accuracy against dropout strength", fontsize=9)
    left.legend(fontsize=7)
    right.set_ylabel("training - validation accuracy", fontsize=8)
    right.set_title("the generalisation gap", fontsize=9)
    low = min(
        float((train_acc.mean(1) - train_acc.std(1, ddof=1)).min()),
        float((val_acc.mean(1) - val_acc.std(1, ddof=1)).min()),
    )
    left.set_ylim(max(0.0, low - 0.05), 1.02)
    top = float((gap.mean(1) + gap.std(1, ddof=1)).max())
    right.set_ylim(min(0.0, float((gap.mean(1) - gap.std(1, ddof=1)).min())) - 0.02, top + 0.03)
    for ax in (left, right):
        ax.set_xlabel("drop probability p", fontsize=8)
        ax.tick_params(labelsize=7)
        ax.set_xlim(float(p.min()) - 0.05, float(p.max()) + 0.05)
    figure.subplots_adjust(left=0.08, right=0.98, bottom=0.17, top=0.88, wspace=0.3)
    return figure


# ---------------------------------------------------------------- the explorer's view
#: Axis labels of the mask panel (x, y) per method.
MASK_LABELS = {"dropout": ("unit of a", "sample"), "DropConnect": ("output unit", "input unit")}


class DropoutView:
    """Four panels built once: keep-mask, train output, test output, mean train vs test.

    ``update(demo, method)`` changes the images' data and the scatter's points in place and
    returns the (animated) artists. The two output images share one colour scale, twice the
    largest ``|a W|``: fixed, so versions and drop probabilities compare by colour.
    """

    def __init__(self, figure: Figure, n: int = 16, d: int = 16, animated: bool = False):
        if not isinstance(figure, Figure):
            raise ValueError(f"figure must be a matplotlib Figure; got {figure!r:.60}")
        n, d = check_int("n", n, 1, 256), check_int("d", d, 1, 256)
        self.figure = figure
        axes = figure.subplots(1, 4)
        self.axes = list(axes)
        blank = np.zeros((n, d))
        self.mask = axes[0].imshow(
            np.zeros((n, d)), cmap="gray", vmin=0, vmax=1, interpolation="none", animated=animated
        )
        self.train = axes[1].imshow(
            blank, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="none", animated=animated
        )
        self.test = axes[2].imshow(
            blank, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="none", animated=animated
        )
        titles = (
            "keep-mask (white: kept)",
            "train: z with this mask",
            "test: z",
            "mean of train z vs test z",
        )
        for ax, title in zip(axes, titles):
            ax.set_title(title, fontsize=8)
            ax.tick_params(labelsize=6)
        for ax in axes[1:3]:
            ax.set_xlabel("output unit", fontsize=7)
            ax.set_ylabel("sample", fontsize=7)
        ax = axes[3]
        ax.set_xlim(-1.15, 1.15)
        ax.set_ylim(-1.15, 1.15)
        ax.set_aspect("equal")
        ax.plot([-1.15, 1.15], [-1.15, 1.15], color="0.7", lw=0.8, zorder=0)
        ax.set_xlabel("test z / max|test z|", fontsize=7)
        ax.set_ylabel("mean train z (same scale)", fontsize=7)
        self.points = ax.scatter(
            np.zeros(0), np.zeros(0), s=5, color="C0", linewidths=0, animated=animated
        )
        figure.subplots_adjust(left=0.05, right=0.99, bottom=0.16, top=0.9, wspace=0.45)
        self.set_method("dropout")

    def set_method(self, method: str) -> bool:
        """Label the mask panel for ``method``; ``True`` if the labels changed (the static
        part of the figure then needs a full draw)."""
        xlabel, ylabel = MASK_LABELS[method]
        ax = self.axes[0]
        if ax.get_xlabel() == xlabel:
            return False
        ax.set_xlabel(xlabel, fontsize=7)
        ax.set_ylabel(ylabel, fontsize=7)
        return True

    def update(self, demo: DropoutDemo, method: str) -> list:
        self.set_method(method)
        self.mask.set_data(demo.mask.astype(float))
        # One fixed colour scale for every p and version (the layer a, W never changes):
        # version 1's outputs look dimmer, large kept values at high p saturate.
        limit = float(max(2.0 * np.abs(demo.a @ demo.W).max(), 1e-12))
        for image, values in ((self.train, demo.train), (self.test, demo.test)):
            image.set_data(values)
            image.set_clim(-limit, limit)
        scale = float(max(np.abs(demo.test).max(), 1e-12))
        self.points.set_offsets(np.column_stack([demo.test.ravel(), demo.expected.ravel()]) / scale)
        return [self.mask, self.train, self.test, self.points]
