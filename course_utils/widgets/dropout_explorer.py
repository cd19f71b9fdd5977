"""Chapter 07's explorer (dropout / DropConnect masks and outputs) and the chapter's figures.

The explorer shows one layer :math:`z = aW` with a keep-mask on the units of ``a``
(dropout) or on the weights ``W`` (DropConnect): the mask, the training-time output with
that mask, the test-time output, and the average training output over many masks against
the test output (the general pattern: randomness in training, its expectation at test).
``p`` is the probability of DROPPING, as in ``torch.nn.Dropout``.

The static figures of the chapter (network diagrams, stochastic depth, augmented photos)
are drawn by the ``plot_*`` functions below, on a new :class:`~matplotlib.figure.Figure`
they return; they plot data computed by :mod:`course_utils.regularization`.
"""

from __future__ import annotations

import ipywidgets
import numpy as np
from matplotlib.figure import Figure

from course_utils import regularization as R
from course_utils.plots import check_figure_size
from course_utils.widgets.base import Explorer, IntSlider, _NoticesClamping

__all__ = ["DropoutExplorer", "dropout_explorer", "DropoutView", "plot_thinned_networks",
           "plot_dropout_versions", "plot_stochastic_depth", "plot_augmentations",
           "plot_weight_histograms"]

P_MAX = 0.9
SEED_MAX = 50
MASK_LABELS = {"dropout": ("unit of a", "sample"), "DropConnect": ("output unit", "input unit")}


class FloatSlider(_NoticesClamping, ipywidgets.FloatSlider):
    """``FloatSlider`` that records an out-of-range value in ``clamped_from``."""


class DropoutView:
    """Four panels built once: keep-mask, train output, test output, mean train vs test.

    ``update(demo, method)`` changes the images' data and the scatter's points in place and
    returns the (animated) artists. The two output images share one colour scale, twice the
    largest ``|a W|``: fixed, so versions and drop probabilities compare by colour.
    """

    def __init__(self, figure: Figure, n: int = 16, d: int = 16, animated: bool = False):
        self.figure = figure
        axes = figure.subplots(1, 4)
        self.axes = list(axes)
        blank = np.zeros((n, d))
        self.mask = axes[0].imshow(np.zeros((n, d)), cmap="gray", vmin=0, vmax=1,
                                   interpolation="none", animated=animated)
        self.train = axes[1].imshow(blank, cmap="RdBu_r", vmin=-1, vmax=1,
                                    interpolation="none", animated=animated)
        self.test = axes[2].imshow(blank, cmap="RdBu_r", vmin=-1, vmax=1,
                                   interpolation="none", animated=animated)
        titles = ("keep-mask (white: kept)", "train: z with this mask", "test: z",
                  "mean of train z vs test z")
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
        self.points = ax.scatter(np.zeros(0), np.zeros(0), s=5, color="C0", linewidths=0,
                                 animated=animated)
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

    def update(self, demo: R.DropoutDemo, method: str) -> list:
        self.set_method(method)
        self.mask.set_data(demo.mask.astype(float))
        # One fixed colour scale for every p and version (the layer a, W never changes):
        # version 1's outputs look dimmer, large kept values at high p saturate.
        limit = float(max(2.0 * np.abs(demo.a @ demo.W).max(), 1e-12))
        for image, values in ((self.train, demo.train), (self.test, demo.test)):
            image.set_data(values)
            image.set_clim(-limit, limit)
        scale = float(max(np.abs(demo.test).max(), 1e-12))
        self.points.set_offsets(np.column_stack([demo.test.ravel(), demo.expected.ravel()])
                                / scale)
        return [self.mask, self.train, self.test, self.points]


class DropoutExplorer(Explorer):
    """Masks and outputs of one layer under dropout or DropConnect, live.

    ``result`` is :func:`course_utils.regularization.dropout_demo` for the controls' ``p``
    (probability of DROPPING), ``version``, ``method`` and ``seed``.
    """

    def __init__(self, p=0.5, version=2, method="dropout", seed=0, n_masks=1000,
                 figsize=(8.5, 2.6), dpi=96):
        R.dropout_demo(n_masks=n_masks)  # n_masks: the compute function's own check
        check_figure_size(figsize, dpi)
        self.n_masks = n_masks
        self.view = DropoutView(Figure(figsize=figsize, dpi=dpi), animated=True)
        style = {"description_width": "60px"}
        controls = {
            "p": FloatSlider(min=0.0, max=P_MAX, step=0.05, description="p", style=style,
                             readout_format=".2f"),
            "version": ipywidgets.Dropdown(options=[("1: scale at test", 1),
                                                    ("2: inverted", 2)],
                                           description="version", style=style),
            "method": ipywidgets.Dropdown(options=R.METHODS, description="method", style=style),
            "seed": IntSlider(min=0, max=SEED_MAX, description="seed", style=style),
        }
        super().__init__(controls, self.view.figure, p=p, version=version, method=method,
                         seed=seed)

    def compute(self, p, version, method, seed):
        return R.dropout_demo(p, version, method, seed, n_masks=self.n_masks)

    def render(self, result, p, version, method, seed) -> list:
        if self.view.set_method(method):
            self.request_full_draw()
        return self.view.update(result, method)

    def background_key(self, p, version, method, seed):
        return method  # only the mask panel's axis labels depend on a control

    def describe(self, result, p, version, method, seed) -> str:
        return (f"kept {result.kept:.0%} of the {'units' if method == 'dropout' else 'weights'}"
                f"   max|train z| {np.abs(result.train).max():.2f}"
                f"   max|test z| {np.abs(result.test).max():.2f}"
                f"   mean of {self.n_masks} masks vs test: rel. error {result.rel_error:.1%}")

    def warning(self, result) -> str:
        if result.kept == 0:
            return "this mask drops everything: the training output is all zero"
        return ""


def dropout_explorer(**start) -> DropoutExplorer:
    """Build chapter 07's explorer; keyword arguments set the controls' starting values.

    Accepted: ``p`` (probability of DROPPING, 0 to 0.9), ``version`` (1 or 2), ``method``
    (``"dropout"`` or ``"DropConnect"``), ``seed`` (0 to 50), and ``n_masks``, ``figsize``,
    ``dpi``. See :class:`DropoutExplorer`.
    """
    return DropoutExplorer(**start)


# ------------------------------------------------------------------ static figures
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
    for l in range(len(sizes) - 1):
        for i, (x0, y0) in enumerate(positions[l]):
            for j, (x1, y1) in enumerate(positions[l + 1]):
                kept = unit_masks[l][i] and unit_masks[l + 1][j]
                if weight_masks is not None:
                    kept = kept and weight_masks[l][i, j]
                if kept:
                    ax.plot([x0, x1], [y0, y1], color="0.45", lw=0.6, zorder=1)
    for l, pos in enumerate(positions):
        kept = unit_masks[l]
        ax.scatter(pos[kept, 0], pos[kept, 1], s=70, color="C0", zorder=2, edgecolors="k",
                   linewidths=0.5)
        ax.scatter(pos[~kept, 0], pos[~kept, 1], s=70, color="0.85", zorder=2,
                   edgecolors="0.6", linewidths=0.5)
        ax.scatter(pos[~kept, 0], pos[~kept, 1], s=40, marker="x", color="C3", zorder=3,
                   linewidths=1.2)
    ax.set_xlim(-0.3, len(sizes) - 0.7)
    ax.set_ylim(0, 1)
    ax.set_axis_off()
    ax.set_title(title, fontsize=9)


def plot_thinned_networks(sizes=(4, 6, 6, 3), p: float = 0.5, seed: int = 0,
                          figsize=(8.5, 2.6), dpi=96) -> Figure:
    """The network, two thinned networks from dropout masks, one from a DropConnect mask.

    Input and output units are never dropped; ``p`` is the probability of DROPPING.
    """
    check_figure_size(figsize, dpi)
    rng = np.random.default_rng(seed)
    figure = Figure(figsize=figsize, dpi=dpi)
    axes = figure.subplots(1, 4)
    _draw_network(axes[0], sizes, title="the network")
    for k in (1, 2):
        masks = [np.ones(sizes[0], bool)] + [R.dropout_mask(s, p, rng) for s in sizes[1:-1]] \
            + [np.ones(sizes[-1], bool)]
        _draw_network(axes[k], sizes, unit_masks=masks,
                      title=f"dropout, mask {k}: units dropped")
    weight_masks = [R.dropconnect_mask((a, b), p, rng) for a, b in zip(sizes[:-1], sizes[1:])]
    _draw_network(axes[3], sizes, weight_masks=weight_masks,
                  title="DropConnect: weights dropped")
    figure.subplots_adjust(left=0.01, right=0.99, bottom=0.02, top=0.88, wspace=0.08)
    return figure


def plot_dropout_versions(a, p: float, seed: int = 0, figsize=(8.5, 3.6), dpi=96) -> Figure:
    """Activations ``a`` (N, D) under both versions, one mask: train output and test output.

    Rows: version 1, version 2; columns: a, the keep-mask, train output, test output, all
    on one colour scale so that the scaling shows.
    """
    check_figure_size(figsize, dpi)
    a = np.asarray(a, dtype=np.float64)
    mask = R.dropout_mask(a.shape, p, np.random.default_rng(seed))
    figure = Figure(figsize=figsize, dpi=dpi)
    axes = figure.subplots(2, 4)
    vmax = float(np.abs(a).max() / (1 - p))
    for row, version in enumerate((1, 2)):
        panels = [(a, "a (before dropout)"), (mask.astype(float), "keep-mask m"),
                  (R.apply_dropout(a, mask, p, version),
                   "train: a ⊙ m" if version == 1 else f"train: a ⊙ m / {1 - p:g}"),
                  (R.dropout(a, p, False, version),
                   f"test: {1 - p:g} a" if version == 1 else "test: a")]
        for col, (values, title) in enumerate(panels):
            ax = axes[row, col]
            if col == 1:
                ax.imshow(values, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            else:
                ax.imshow(values, cmap="viridis", vmin=0, vmax=vmax, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(title, fontsize=8)
        axes[row, 0].set_ylabel(f"version {version}", fontsize=9)
    figure.subplots_adjust(left=0.05, right=0.99, bottom=0.02, top=0.92, wspace=0.08,
                           hspace=0.25)
    return figure


def plot_stochastic_depth(ran, survival, figsize=(8.5, 2.8), dpi=96) -> Figure:
    """Which residual blocks ran (``ran``: (iterations, blocks) bool) and the survival
    probabilities :math:`p_l`, against the share of iterations each block ran."""
    check_figure_size(figsize, dpi)
    ran = np.asarray(ran, dtype=bool)
    survival = np.asarray(survival, dtype=np.float64)
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
    for ax in axes.ravel()[len(images):]:
        ax.set_axis_off()
    figure.subplots_adjust(left=0.01, right=0.99, bottom=0.01, top=0.94, wspace=0.05,
                           hspace=0.15)
    return figure


def plot_weight_histograms(weights: dict, threshold: float = 1e-3, limit: float | None = None,
                           bins: int = 121, figsize=(8.5, 2.6), dpi=96) -> Figure:
    """One histogram per entry (title -> weight array or list of arrays), on a shared range
    ``[-limit, limit]`` (default: the largest ``|w|`` of all entries), log counts, with the
    share of ``|w| < threshold`` in each title."""
    check_figure_size(figsize, dpi)
    pooled = {title: np.concatenate([np.ravel(x) for x in w]) if isinstance(w, (list, tuple))
              else np.ravel(w) for title, w in weights.items()}
    if limit is None:
        limit = float(max(np.abs(w).max() for w in pooled.values()))
    figure = Figure(figsize=figsize, dpi=dpi)
    axes = figure.subplots(1, len(pooled), squeeze=False)[0]
    edges = np.linspace(-limit, limit, bins + 1)
    for ax, (title, w) in zip(axes, pooled.items()):
        ax.hist(w, bins=edges, color="C0")
        share = R.near_zero_share(w, threshold)
        ax.set_title(f"{title}: {share:.1%} of |w| < {threshold:g}", fontsize=9)
        ax.set_yscale("log")
        ax.set_xlabel("weight", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("count (log)", fontsize=8)
    figure.subplots_adjust(left=0.08, right=0.98, bottom=0.18, top=0.88, wspace=0.2)
    return figure
