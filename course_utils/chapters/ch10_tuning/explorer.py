"""Chapter 10's explorer: grid vs random vs coarse-to-fine search on a synthetic objective
(:func:`~course_utils.chapters.ch10_tuning.runs.synthetic_search`), drawn as the classic picture
(:class:`~course_utils.chapters.ch10_tuning.figures.SearchView`) beside the best score so far.
"""

from __future__ import annotations

import numpy as np
from matplotlib.ticker import StrMethodFormatter

from course_utils.chapters.ch10_tuning.figures import SearchView
from course_utils.chapters.ch10_tuning.runs import (
    EXPLORER_PEAK,
    STRATEGIES,
    bergstra_objective,
    synthetic_search,
)
from course_utils.widgets.base import Explorer, check_start, make_controls, new_figure

__all__ = ["SearchExplorer", "search_explorer", "START", "MAX_BUDGET"]

#: The controls' starting values; each control is declared once, in :func:`_controls`.
START = dict(strategy="random", budget=9, seed=0)
#: The budget control's maximum.
MAX_BUDGET = 100


def _controls() -> dict:
    """The explorer's controls, named as ``synthetic_search``'s arguments."""
    return make_controls(strategy=STRATEGIES, budget=(4, MAX_BUDGET, 1), seed=(0, 99, 1))


class SearchExplorer(Explorer):
    """Grid, random or coarse-to-fine search of the synthetic objective, for a budget and a seed.

    ``result`` is :func:`~course_utils.chapters.ch10_tuning.runs.synthetic_search` for the
    controls' ``strategy``, ``budget`` and ``seed`` (keyword arguments; defaults random, 9, 0);
    the objective is fixed at construction (``peak``, ``width``, ``weight``). Left: the classic
    picture; right: the best score after each trial.
    """

    def __init__(
        self, peak=EXPLORER_PEAK, width=0.08, weight=0.1, figsize=(8.5, 3.6), dpi=96, **start
    ):
        controls = _controls()
        # every starting value and fixed setting checked before the figure is built
        check_start(controls, start)
        bergstra_objective(0.5, 0.5, peak, width, weight)
        self.peak, self.width, self.weight = peak, width, weight
        figure = new_figure(figsize, dpi)
        self.view = SearchView(
            figure, (0.07, 0.13, 0.5, 0.8), peak=peak, width=width, weight=weight, animated=True
        )
        self.ax_best = figure.add_axes((0.68, 0.13, 0.3, 0.62))
        # One axis for every budget, on a log scale: a larger budget extends the curve to the
        # right (9 trials fill half the panel), and a budget move is a blit, not a new axis.
        self.ax_best.set_xscale("log")
        self.ax_best.set_xlim(1, MAX_BUDGET + 1)
        self.ax_best.xaxis.set_major_formatter(StrMethodFormatter("{x:g}"))  # 1, 10, 100
        self.ax_best.set_ylim(0, 1.25)
        self.ax_best.set_ylabel("best score", fontsize=8)
        self.ax_best.axhline(1 + weight, color="0.6", lw=0.8, ls="--")
        self.ax_best.set_xlabel("trial (log scale)", fontsize=8)
        self.ax_best.set_title("best score so far", fontsize=9)
        self.ax_best.tick_params(labelsize=7)
        (self.curve,) = self.ax_best.step([], [], where="post", color="C3", animated=True)
        super().__init__(controls, figure, **{**START, **start})

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


def search_explorer(**start) -> SearchExplorer:
    """Build chapter 10's explorer; keyword arguments set the controls' starting values.

    Accepted: ``strategy``, ``budget``, ``seed`` (controls) and ``peak``, ``width``,
    ``weight``, ``figsize``, ``dpi``. See :class:`SearchExplorer`.
    """
    return SearchExplorer(**start)
