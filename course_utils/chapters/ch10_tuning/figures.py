"""Chapter 10's static figures, and :class:`SearchView`, the classic picture (Bergstra &
Bengio, JMLR 2012, figure 1) that the explorer redraws in place.

Each ``plot_*`` draws on a :class:`matplotlib.figure.Figure` it makes and returns (no pyplot).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from course_utils.chapters.ch10_tuning.runs import (
    EXPLORER_PEAK,
    SyntheticSearch,
    bergstra_objective,
    synthetic_search,
)
from course_utils.plots import check_figure_size
from course_utils.tuning import SearchResult, log_uniform
from course_utils.validation import (
    check_bool,
    check_int,
    check_mapping,
    check_real,
    check_sequence,
    make_rng,
)

#: Draws per row of :func:`plot_sampling_scales` (a strip of dots: more is a smear).
MAX_POINTS = 1000
#: Searches in :func:`plot_best_so_far` (one line and legend entry each).
MAX_LINES = 20

__all__ = [
    "SearchView",
    "plot_grid_vs_random",
    "plot_sampling_scales",
    "plot_search_scatter",
    "plot_best_so_far",
]

# Lines with markers, not scatter collections: the same picture, drawn faster when blitted.
_POINT = dict(ls="none", marker="o", ms=5, color="C3", mec="white", mew=0.6, zorder=3)
_BEST = dict(ls="none", marker="*", ms=12, color="gold", mec="black", mew=0.8, zorder=4)


class SearchView:
    """The unit square of :func:`~course_utils.chapters.ch10_tuning.runs.bergstra_objective` with the points a
    search tried, and their projections on each hyperparameter (the classic picture).

    Three axes inside ``rect`` (figure fraction ``(left, bottom, width, height)``): the
    square with the score as a background image, ``g(x)`` above it (the important
    hyperparameter) and ``h(y)`` to its right (the unimportant one), each with the trials'
    projections. Limits are fixed; :meth:`update` moves the points only.
    """

    def __init__(
        self,
        figure: Figure,
        rect=(0.07, 0.12, 0.5, 0.8),
        title: str = "",
        peak: float = EXPLORER_PEAK,
        width: float = 0.08,
        weight: float = 0.1,
        animated: bool = False,
    ):
        if not isinstance(figure, Figure):
            raise ValueError(f"figure must be a matplotlib Figure; got {type(figure).__name__}")
        check_sequence("rect", rect, lambda n, v: check_real(n, v, 0.0, 1.0), 4, 4)
        if not isinstance(title, str):
            raise ValueError(f"title must be a string; got {title!r}")
        animated = check_bool("animated", animated)
        bergstra_objective(0.5, 0.5, peak, width, weight)  # checks the parameters
        self.figure = figure
        self.peak, self.width, self.weight = peak, width, weight
        left, bottom, w, h = rect
        side = 0.22  # share of the rect given to each projection panel
        main_w, main_h = w * (1 - side), h * (1 - side)
        self.ax = figure.add_axes((left, bottom, main_w, main_h))
        self.ax_x = figure.add_axes(
            (left, bottom + main_h, main_w, h * side * 0.85), sharex=self.ax
        )
        self.ax_y = figure.add_axes(
            (left + main_w, bottom, w * side * 0.85, main_h), sharey=self.ax
        )
        grid = np.linspace(0.0, 1.0, 161)
        image = bergstra_objective(grid[None, :], grid[:, None], peak, width, weight)
        self.ax.imshow(
            image,
            origin="lower",
            extent=(0, 1, 0, 1),
            cmap="Blues",
            vmin=0,
            vmax=1.6 * (1 + weight),
            aspect="auto",
            interpolation="bilinear",
        )
        self.ax.set_xlim(0, 1)
        self.ax.set_ylim(0, 1)
        self.ax.set_xlabel("important hyperparameter x", fontsize=8)
        self.ax.set_ylabel("unimportant hyperparameter y", fontsize=8)
        self.ax.set_xticks([0, 0.2, 0.4, 0.6, 0.8])  # no "1.0" where the panels meet
        self.ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8])
        self.ax.tick_params(labelsize=7)
        self.ax_x.plot(grid, bergstra_objective(grid, 0.0, peak, width, 0.0), color="C0")
        self.ax_x.set_ylim(-0.08, 1.15)
        self.ax_x.set_yticks([0.5, 1.0])
        self.ax_x.set_ylabel("g(x)", fontsize=8)
        self.ax_y.plot(weight * np.sin(np.pi * grid) ** 2, grid, color="C0")
        self.ax_y.set_xlim(-0.1, 1.15)  # same scale as g: h hardly changes the score
        self.ax_y.set_xticks([0.5, 1.0])
        self.ax_y.set_xlabel("h(y)", fontsize=8)
        for ax in (self.ax_x, self.ax_y):
            ax.tick_params(labelsize=6, labelbottom=ax is self.ax_y, labelleft=ax is self.ax_x)
        if title:
            self.ax_x.set_title(title, fontsize=9)
        (self.points,) = self.ax.plot([], [], animated=animated, **_POINT)
        (self.best,) = self.ax.plot([], [], animated=animated, **_BEST)
        (self.proj_x,) = self.ax_x.plot([], [], animated=animated, **_POINT)
        (self.best_x,) = self.ax_x.plot([], [], animated=animated, **_BEST)
        (self.proj_y,) = self.ax_y.plot([], [], animated=animated, **_POINT)

    @property
    def artists(self) -> list:
        return [self.points, self.best, self.proj_x, self.best_x, self.proj_y]

    def update(self, search: SyntheticSearch) -> list:
        """Show ``search``'s points and its best one; return the changed artists."""
        x, y = search.points[:, 0], search.points[:, 1]
        g = bergstra_objective(x, 0.0, self.peak, self.width, 0.0)
        i = search.best_index
        self.points.set_data(x, y)
        self.best.set_data(x[i : i + 1], y[i : i + 1])
        self.proj_x.set_data(x, g)
        self.best_x.set_data(x[i : i + 1], g[i : i + 1])
        self.proj_y.set_data(self.weight * np.sin(np.pi * y) ** 2, y)
        return self.artists


def plot_grid_vs_random(
    budget: int = 9, seed: int = 0, peak: float = EXPLORER_PEAK, figsize=(8.5, 3.8), dpi=96
) -> Figure:
    """Bergstra & Bengio's figure 1: the same budget on a grid and at random, with the
    projections of the trials on the important (top) and the unimportant (right)
    hyperparameter."""
    check_figure_size(figsize, dpi)
    figure = Figure(figsize=figsize, dpi=dpi)
    for left, strategy in ((0.07, "grid"), (0.56, "random")):
        search = synthetic_search(strategy, budget, seed, peak)
        view = SearchView(
            figure,
            (left, 0.12, 0.42, 0.8),
            peak=peak,
            title=f"{strategy}: {len(search.points)} trials, "
            f"{search.distinct_x} values of x, best {search.best_score:.2f}",
        )
        view.update(search)
    return figure


def plot_sampling_scales(
    low: float = 1e-4, high: float = 1.0, n: int = 20, seed: int = 0, figsize=(8.5, 2.2), dpi=96
) -> Figure:
    """``n`` learning rates drawn uniformly and log-uniformly from ``[low, high]``, on a log
    axis, with the decades marked."""
    check_figure_size(figsize, dpi)
    n = check_int("n", n, 1, MAX_POINTS)
    log_uniform(low, high, 0)  # checks low and high
    rng = make_rng(seed)
    uniform = rng.uniform(low, high, n)
    logu = log_uniform(low, high, n, rng)
    figure = Figure(figsize=figsize, dpi=dpi)
    ax = figure.add_axes((0.2, 0.3, 0.77, 0.6))
    ax.scatter(uniform, np.ones(n), color="C1", s=25)
    ax.scatter(logu, np.zeros(n), color="C0", s=25)
    ax.set_xscale("log")
    ax.set_xlim(low / 1.5, high * 1.5)
    ax.set_ylim(-0.6, 1.6)
    ax.set_yticks([0, 1], ["log-uniform", "uniform"], fontsize=8)
    for decade in np.arange(np.floor(np.log10(low)), np.ceil(np.log10(high)) + 1):
        ax.axvline(10.0**decade, color="0.85", lw=0.8, zorder=0)
    ax.set_xlabel("learning rate (log axis)", fontsize=8)
    ax.set_title(f"{n} draws each from [{low:g}, {high:g}]", fontsize=9)
    ax.tick_params(labelsize=7)
    return figure


def plot_search_scatter(result: SearchResult, rounds=None, figsize=(8.5, 2.8), dpi=96) -> Figure:
    """Validation accuracy against lr and against weight decay, and the (lr, wd) plane
    coloured by accuracy; ``rounds`` (round number per trial) marks coarse vs fine."""
    check_figure_size(figsize, dpi)
    if not isinstance(result, SearchResult) or not {"lr", "weight_decay"} <= set(result.names):
        raise ValueError(
            f"result must be a SearchResult of lr and weight_decay; got {type(result).__name__}"
        )
    if rounds is not None:
        rounds = check_sequence(
            "rounds",
            rounds,
            lambda n, v: check_int(n, v, 1, 10),
            min_len=len(result),
            max_len=len(result),
        )
    lr, wd, score = result.values("lr"), result.values("weight_decay"), result.scores
    rounds = np.ones(len(result), int) if rounds is None else np.asarray(rounds)
    figure = Figure(figsize=figsize, dpi=dpi)
    axes = figure.subplots(1, 3)
    failed = np.isnan(score)
    shown = np.where(failed, 0.0, score)
    markers = {1: ("o", "coarse"), 2: ("^", "fine")}
    coloured = None
    for k in np.unique(rounds):
        marker, label = markers.get(int(k), ("s", f"round {k}"))
        sel = rounds == k
        for ax, values in ((axes[0], lr), (axes[1], wd)):
            ax.scatter(
                values[sel & ~failed],
                shown[sel & ~failed],
                marker=marker,
                s=22,
                label=label,
                color=f"C{int(k) - 1}",
            )
            ax.scatter(values[sel & failed], shown[sel & failed], marker="x", color="0.4", s=22)
        coloured = axes[2].scatter(
            lr[sel],
            wd[sel],
            c=shown[sel],
            cmap="viridis",
            vmin=0,
            vmax=1,
            marker=marker,
            s=30,
            edgecolors="0.3",
            linewidths=0.4,
        )
    for ax, name in ((axes[0], "learning rate"), (axes[1], "weight decay")):
        ax.set_xscale("log")
        ax.set_xlabel(name, fontsize=8)
        ax.set_ylabel("validation accuracy", fontsize=8)
        ax.set_ylim(-0.03, 1.0)
    axes[0].legend(fontsize=7, loc="upper left")
    axes[2].set_xscale("log")
    axes[2].set_yscale("log")
    axes[2].set_xlabel("learning rate", fontsize=8)
    axes[2].set_ylabel("weight decay", fontsize=8)
    axes[2].set_title("colour: validation accuracy", fontsize=8)
    for ax in axes:
        ax.tick_params(labelsize=7)
    figure.subplots_adjust(left=0.07, right=0.92, bottom=0.17, top=0.9, wspace=0.42)
    bar = figure.colorbar(coloured, cax=figure.add_axes((0.935, 0.17, 0.012, 0.73)))
    bar.set_label("validation accuracy", fontsize=7)
    bar.ax.tick_params(labelsize=6)
    return figure


def plot_best_so_far(results: dict, figsize=(6.0, 2.8), dpi=96) -> Figure:
    """The best validation score after each trial, one line per search (name -> result)."""
    check_figure_size(figsize, dpi)
    check_mapping("results", results, SearchResult, "SearchResult", MAX_LINES)
    figure = Figure(figsize=figsize, dpi=dpi)
    ax = figure.add_axes((0.11, 0.17, 0.55, 0.75))
    for name, result in results.items():
        best = result.best_so_far()
        ax.step(np.arange(1, len(best) + 1), best, where="post", label=name)
    ax.set_xlabel("trial", fontsize=8)
    ax.set_ylabel("best validation accuracy", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    return figure
