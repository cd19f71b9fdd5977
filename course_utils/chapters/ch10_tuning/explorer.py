"""Chapter 10's explorer: grid vs random vs coarse-to-fine search on a synthetic objective
(:func:`~course_utils.chapters.ch10_tuning.runs.synthetic_search`), drawn as the classic picture
(:class:`~course_utils.chapters.ch10_tuning.figures.SearchView`) beside the best score so far.
"""

from __future__ import annotations

import ipywidgets
import numpy as np
from matplotlib.figure import Figure

from course_utils.chapters.ch10_tuning.figures import SearchView
from course_utils.chapters.ch10_tuning.runs import (
    EXPLORER_PEAK,
    STRATEGIES,
    bergstra_objective,
    synthetic_search,
)
from course_utils.plots import check_figure_size
from course_utils.validation import check_real
from course_utils.widgets.base import Explorer, IntSlider, check_start_value

__all__ = ["SearchExplorer", "search_explorer", "MIN_DPI"]

#: Smallest dpi: below it the labels' fonts are under a pixel and FreeType refuses them.
MIN_DPI = 20


class SearchExplorer(Explorer):
    """Grid, random or coarse-to-fine search of the synthetic objective, for a budget and a seed.

    ``result`` is :func:`~course_utils.chapters.ch10_tuning.runs.synthetic_search` for the controls' strategy,
    budget and seed (the objective is fixed at construction: peak, width, weight). Left: the
    classic picture; right: the best score after each trial.
    """

    MAX_BUDGET = 100

    def __init__(
        self,
        strategy="random",
        budget=9,
        seed=0,
        peak=EXPLORER_PEAK,
        width=0.08,
        weight=0.1,
        figsize=(8.5, 3.6),
        dpi=96,
    ):
        style = {"description_width": "60px"}
        controls = {
            "strategy": ipywidgets.Dropdown(
                options=STRATEGIES, description="strategy", style=style
            ),
            "budget": IntSlider(
                min=4, max=self.MAX_BUDGET, step=1, description="budget", style=style
            ),
            "seed": IntSlider(min=0, max=99, step=1, description="seed", style=style),
        }
        # every starting value and fixed setting checked before the figure is built
        for name, value in (("strategy", strategy), ("budget", budget), ("seed", seed)):
            check_start_value(name, controls[name], value)
        bergstra_objective(0.5, 0.5, peak, width, weight)
        check_real("dpi", dpi, MIN_DPI)
        check_figure_size(figsize, dpi)
        self.peak, self.width, self.weight = peak, width, weight
        figure = Figure(figsize=figsize, dpi=dpi)
        self.view = SearchView(
            figure, (0.07, 0.13, 0.5, 0.8), peak=peak, width=width, weight=weight, animated=True
        )
        self.ax_best = figure.add_axes((0.68, 0.13, 0.3, 0.62))
        self.ax_best.set_xlim(0, self.MAX_BUDGET + 1)
        self.ax_best.set_ylim(0, 1.25)
        self.ax_best.axhline(1 + weight, color="0.6", lw=0.8, ls="--")
        self.ax_best.set_xlabel("trial", fontsize=8)
        self.ax_best.set_title("best score so far", fontsize=9)
        self.ax_best.tick_params(labelsize=7)
        (self.curve,) = self.ax_best.step([], [], where="post", color="C3", animated=True)
        super().__init__(controls, figure, strategy=strategy, budget=budget, seed=seed)

    def compute(self, strategy, budget, seed):
        return synthetic_search(strategy, budget, seed, self.peak, self.width, self.weight)

    def render(self, result, strategy, budget, seed) -> list:
        best = np.maximum.accumulate(result.scores)
        trials = np.arange(1, len(best) + 1)
        self.curve.set_data(np.append(trials, len(best) + 1), np.append(best, best[-1]))
        return self.view.update(result) + [self.curve]

    def describe(self, result, strategy, budget, seed) -> str:
        n = len(result.points)
        used = (
            f"{n} trials"
            if n == budget
            else f"{n} of {budget} trials (a {int(np.sqrt(n))} x {int(np.sqrt(n))} grid)"
        )
        return (
            f"{strategy}: {used}, {result.distinct_x} distinct values of x, best score "
            f"{result.best_score:.3f} (the maximum is {1 + self.weight:.3f})"
        )

    def background_key(self, strategy, budget, seed):
        return "fixed"  # fixed limits and background: only points and the curve move


def search_explorer(**start) -> SearchExplorer:
    """Build chapter 10's explorer; keyword arguments set the controls' starting values.

    Accepted: ``strategy``, ``budget``, ``seed`` (controls) and ``peak``, ``width``,
    ``weight``, ``figsize``, ``dpi``. See :class:`SearchExplorer`.
    """
    return SearchExplorer(**start)
