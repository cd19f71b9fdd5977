"""Chapter 10's seeded runs: Bergstra & Bengio rebuilt, the explorer's search, and a real
search of a small MLP (by hand and with Optuna).

- :func:`bergstra_objective`, :func:`grid_vs_random`: one important and one unimportant
  hyperparameter, the same budget for grid and random search (Bergstra & Bengio, JMLR 2012);
- :func:`synthetic_search`: one grid, random or coarse-to-fine search of that objective (the
  explorer's compute function and the classic figure's);
- :func:`hold_out_test`, :func:`training_objective`, :func:`optuna_search`: the real search
  of a small MLP, defined in :mod:`.runs_real` and re-exported here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from course_utils.chapters.ch10_tuning.runs_real import (  # re-exported: the notebook's ch10.*
    HeldOut,
    TrainingObjective,
    hold_out_test,
    optuna_search,
    training_objective,
)
from course_utils.tables import format_table
from course_utils.tuning import (
    MAX_TRIALS,
    Param,
    grid_configs,
    grid_search,
    random_configs,
    random_search,
    refine_space,
    run_search,
)
from course_utils.validation import check_array, check_int, check_real, make_rng

__all__ = [
    "bergstra_objective",
    "GridVsRandom",
    "grid_vs_random",
    "MAX_REPEATS",
    "STRATEGIES",
    "EXPLORER_PEAK",
    "SyntheticSearch",
    "synthetic_search",
    "HeldOut",
    "hold_out_test",
    "TrainingObjective",
    "training_objective",
    "optuna_search",
]

#: At most this many repeated searches in :func:`grid_vs_random` (each a few microseconds
#: of a 100-trial search: 100,000 of them are seconds).
MAX_REPEATS = 100_000


# ------------------------------------------------------------------ Bergstra & Bengio (2012)
def bergstra_objective(x, y, peak: float = 0.5, width: float = 0.08, weight: float = 0.1):
    """A score on the unit square where ``x`` matters and ``y`` hardly does.

    .. math:: f(x, y) = g(x) + h(y), \\quad g(x) = e^{-(x - c)^2 / (2 w^2)}, \\quad
              h(y) = \\lambda\\,\\sin^2(\\pi y)

    with ``c = peak``, ``w = width``, ``λ = weight``: g ranges over [0, 1], h over [0, λ].
    The "low effective dimensionality" of Bergstra & Bengio (JMLR 2012): of two
    hyperparameters, one decides the score.

    Parameters
    ----------
    x, y : array-like, broadcastable, values in [0, 1]
    peak : float in [0, 1]; width : float > 0; weight : float >= 0

    Returns
    -------
    ndarray (broadcast shape), float64
    """
    peak, width, weight = (
        check_real(n, v) for n, v in (("peak", peak), ("width", width), ("weight", weight))
    )
    if not 0 <= peak <= 1 or not width > 0 or weight < 0:
        raise ValueError(
            f"need 0 <= peak <= 1, width > 0 and weight >= 0; got peak={peak!r}, "
            f"width={width!r}, weight={weight!r}"
        )
    x, y = check_array("x", x, min_size=1), check_array("y", y, min_size=1)
    return np.exp(-0.5 * ((x - peak) / width) ** 2) + weight * np.sin(np.pi * y) ** 2


@dataclass(frozen=True)
class GridVsRandom:
    """:func:`grid_vs_random`'s repeated searches, one entry per repeat.

    Attributes
    ----------
    peaks : ndarray (repeats,) or (repeats, 2)
        Where the important hyperparameter's optimum was in that repeat (both coordinates
        when both matter).
    grid_best, random_best : ndarray (repeats,)
        The best score each search found.
    grid_distinct_x, random_distinct_x : int
        Distinct values of the important hyperparameter each tried (per search).
    """

    peaks: np.ndarray
    grid_best: np.ndarray
    random_best: np.ndarray
    grid_distinct_x: int
    random_distinct_x: int

    @property
    def random_wins(self) -> float:
        """Share of repeats in which random search found a strictly higher score."""
        return float(np.mean(self.random_best > self.grid_best))

    def summary(self) -> str:
        """The comparison as a printed table."""
        return format_table(
            {
                "distinct x tried": [str(self.grid_distinct_x), str(self.random_distinct_x)],
                "mean best score": [self.grid_best.mean(), self.random_best.mean()],
                "worst best score": [self.grid_best.min(), self.random_best.min()],
                "searches won": [
                    float(np.mean(self.grid_best > self.random_best)),
                    self.random_wins,
                ],
            },
            index=["grid", "random"],
            index_name="search",
            percent=["searches won"],
        )


def grid_vs_random(
    budget: int = 9,
    repeats: int = 100,
    width: float = 0.08,
    weight: float = 0.1,
    seed: int = 0,
    matter: str = "one",
) -> GridVsRandom:
    """Bergstra & Bengio's argument (JMLR 2012, figure 1) as an experiment.

    In each of ``repeats`` searches the optimum of the important hyperparameter lies at an
    unknown place, ``peak ~ U(0, 1)``, of :func:`bergstra_objective`. Grid search spends
    ``budget = k * k`` trials on a k x k grid (:func:`grid_configs`: only k distinct values
    of x); random search draws ``budget`` points uniformly (``budget`` distinct values of x).
    Each reports the best score it found.

    Parameters
    ----------
    budget : int
        A perfect square, 4 to 10,000 (the grid needs ``k * k``).
    repeats : int
        1 to 100,000 searches.
    width, weight : float
        Of :func:`bergstra_objective`.
    seed : int
        Fixes the peaks and the random searches.
    matter : str
        ``"one"``: :func:`bergstra_objective` (x matters, y hardly); ``"both"``: a round peak
        ``exp(-((x - a)^2 + (y - b)^2) / (2 width^2))`` with ``(a, b) ~ U(0, 1)^2``, where both
        hyperparameters matter equally (``weight`` unused); ``peaks`` is then (repeats, 2).
    """
    if matter not in ("one", "both"):
        raise ValueError(f"matter must be 'one' or 'both'; got {matter!r}")
    budget = check_int("budget", budget, 4, MAX_TRIALS)
    k = math.isqrt(budget)
    if k * k != budget:
        raise ValueError(f"budget must be a perfect square (a k x k grid); got {budget}")
    repeats = check_int("repeats", repeats, 1, MAX_REPEATS)
    if repeats * budget > 10**7:
        raise ValueError(f"repeats * budget must be at most 10,000,000; got {repeats * budget:,}")
    bergstra_objective(0.5, 0.5, 0.5, width, weight)  # checks width and weight
    rng = make_rng(seed)
    peaks = rng.uniform(0.0, 1.0, repeats if matter == "one" else (repeats, 2))
    unit = {"x": Param(0.0, 1.0), "y": Param(0.0, 1.0)}
    grid = grid_configs(unit, k)
    gx = np.array([c["x"] for c in grid])
    gy = np.array([c["y"] for c in grid])
    points = rng.uniform(0.0, 1.0, (repeats, budget, 2))

    def score(x, y, peak):
        if matter == "one":
            return bergstra_objective(x, y, peak, width, weight)
        return np.exp(-0.5 * ((x - peak[0]) ** 2 + (y - peak[1]) ** 2) / width**2)

    grid_best = np.empty(repeats)
    random_best = np.empty(repeats)
    for i, peak in enumerate(peaks):
        grid_best[i] = score(gx, gy, peak).max()
        random_best[i] = score(points[i, :, 0], points[i, :, 1], peak).max()
    return GridVsRandom(
        peaks,
        grid_best,
        random_best,
        len(np.unique(gx)),
        int(np.mean([len(np.unique(p[:, 0])) for p in points])),
    )


# ------------------------------------------------------------------ the explorer's search
#: Strategies of :func:`synthetic_search` (the explorer's dropdown).
STRATEGIES = ("grid", "random", "coarse-to-fine")
#: Where the explorer's important hyperparameter peaks (between two grid columns of a 3 x 3
#: grid, 1/6 and 1/2: the case the grid handles worst).
EXPLORER_PEAK = 0.36


@dataclass(frozen=True)
class SyntheticSearch:
    """One search of :func:`bergstra_objective` on the unit square.

    Attributes
    ----------
    points : ndarray, shape (n, 2)
        The (x, y) tried, in order (x is the important hyperparameter).
    scores : ndarray, shape (n,)
    strategy : str
    budget : int
        Trials allowed; a grid uses ``k * k <= budget`` of them.
    """

    points: np.ndarray
    scores: np.ndarray
    strategy: str
    budget: int

    @property
    def best_index(self) -> int:
        return int(np.argmax(self.scores))

    @property
    def best_score(self) -> float:
        return float(self.scores[self.best_index])

    @property
    def distinct_x(self) -> int:
        """How many different values of the important hyperparameter were tried."""
        return len(np.unique(self.points[:, 0]))


def synthetic_search(
    strategy: str = "random",
    budget: int = 9,
    seed: int = 0,
    peak: float = EXPLORER_PEAK,
    width: float = 0.08,
    weight: float = 0.1,
) -> SyntheticSearch:
    """Search :func:`bergstra_objective` on the unit square: the explorer's compute function.

    ``"grid"``: a k x k grid, ``k = floor(sqrt(budget))`` (:func:`grid_configs`, no seed);
    ``"random"``: ``budget`` uniform points; ``"coarse-to-fine"``: half the budget (rounded
    up) at random, the rest at random in :func:`refine_space` around the 3 best, cut to the
    unit square.

    Parameters
    ----------
    strategy : str
        One of :data:`STRATEGIES`.
    budget : int
        1 to 1,000 trials.
    seed : int
    peak, width, weight : float
        Of :func:`bergstra_objective`.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {', '.join(STRATEGIES)}; got {strategy!r}")
    budget = check_int("budget", budget, 1, 1000)
    rng = make_rng(seed)
    bergstra_objective(0.5, 0.5, peak, width, weight)  # checks peak, width and weight

    def score(config):
        return float(bergstra_objective(config["x"], config["y"], peak, width, weight))

    unit = {"x": Param(0.0, 1.0), "y": Param(0.0, 1.0)}
    if strategy == "grid":
        result = grid_search(score, unit, math.isqrt(budget))
    elif strategy == "random" or budget == 1:
        result = random_search(score, unit, budget, rng)
    else:
        coarse = random_search(score, unit, (budget + 1) // 2, rng)
        fine = refine_space(unit, coarse, top=3)
        fine = {n: Param(max(p.low, 0.0), min(p.high, 1.0)) for n, p in fine.items()}
        result = run_search(
            score, coarse.configs + tuple(random_configs(fine, budget - len(coarse), rng))
        )
    points = np.array([[c["x"], c["y"]] for c in result.configs])
    return SyntheticSearch(points, result.scores, strategy, budget)
