"""Chapter 10: hyperparameter search over a function ``evaluate(config) -> score``.

- :class:`Param` and a *space* (``dict`` name -> :class:`Param`): a range, on a linear or a
  log scale.
- :func:`log_uniform`: ``exp(U(ln low, ln high))``, the sampler for learning rates and
  regularisation strengths (each decade gets the same share of the trials).
- :func:`grid_configs`, :func:`random_configs`: where a search tries; :func:`grid_search`,
  :func:`random_search`: the configs evaluated, as a :class:`SearchResult` (printed as a table).
- :func:`refine_space`, :func:`coarse_to_fine`: a coarse search, then a finer one around the
  best configs; :func:`edge_report` says when the best lies at the edge of the range.
- :func:`bergstra_objective`, :func:`grid_vs_random`: Bergstra & Bengio (JMLR 2012) rebuilt:
  one important and one unimportant hyperparameter, the same budget for grid and random search.
- :func:`training_objective`: the real thing, a small MLP trained on the course's data with
  :mod:`course_utils.training`; :func:`optuna_search`: the same objective searched by Optuna
  (Akiba et al., KDD 2019) with its random or its TPE sampler (Bergstra et al., NeurIPS 2011).

Everything here maximises the score (a validation accuracy). Seeded: the same arguments give
the same configs and the same scores.
"""

from __future__ import annotations

import itertools
import math
import numbers
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from course_utils.references import reference_answer
from course_utils.tables import format_table

__all__ = ["Param", "MAX_TRIALS", "MAX_PARAMS", "log_uniform", "decade_shares", "check_space",
           "grid_configs", "random_configs", "SearchResult", "run_search", "combine",
           "grid_search", "random_search", "refine_space", "CoarseToFine", "coarse_to_fine",
           "edge_report", "bergstra_objective", "GridVsRandom", "grid_vs_random", "STRATEGIES",
           "EXPLORER_PEAK", "SyntheticSearch", "synthetic_search", "HeldOut", "hold_out_test",
           "TrainingObjective", "training_objective", "optuna_search"]

#: At most this many trials per search (a synthetic objective costs microseconds, a training
#: run tens of milliseconds: 10,000 of the latter is already minutes).
MAX_TRIALS = 10_000
#: At most this many hyperparameters in one space.
MAX_PARAMS = 10
#: At most this many repeated searches in :func:`grid_vs_random`.
MAX_REPEATS = 100_000


def _check_int(name: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer; got {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}; got {value}")
    return int(value)


def _check_real(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number; got {value!r}")
    return float(value)


def _rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(_check_int("seed", seed, 0, 2**63 - 1))


# ------------------------------------------------------------------ the space
@dataclass(frozen=True)
class Param:
    """One hyperparameter's range: ``[low, high]``, searched on a linear or a log scale.

    On a log scale a value is placed by ``u = (ln v - ln low) / (ln high - ln low)`` in
    [0, 1]; on a linear scale by ``u = (v - low) / (high - low)``. Grid and random search
    spread their trials evenly in ``u``.
    """

    low: float
    high: float
    log: bool = False

    def __post_init__(self):
        low, high = _check_real("low", self.low), _check_real("high", self.high)
        if not isinstance(self.log, bool):
            raise ValueError(f"log must be True or False; got {self.log!r}")
        if not low < high:
            raise ValueError(f"low must be < high; got low={low!r}, high={high!r}")
        if self.log and low <= 0:
            raise ValueError(f"a log-scale range needs low > 0; got low={low!r}")

    @reference_answer("log_uniform")
    def from_unit(self, u):
        """Values for positions ``u`` in [0, 1] (array-like, any shape)."""
        u = np.asarray(u, dtype=np.float64)
        if self.log:
            return np.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)

    def to_unit(self, value):
        """Positions in [0, 1] of ``value`` (array-like; outside the range gives < 0 or > 1)."""
        v = np.asarray(value, dtype=np.float64)
        if self.log:
            return (np.log(v) - math.log(self.low)) / (math.log(self.high) - math.log(self.low))
        return (v - self.low) / (self.high - self.low)


def check_space(space) -> dict:
    """Return ``space`` as a ``dict`` name -> :class:`Param`, or raise ``ValueError``."""
    if not isinstance(space, Mapping) or not space:
        raise ValueError(f"space must be a non-empty dict of name -> Param; got {space!r}")
    if len(space) > MAX_PARAMS:
        raise ValueError(f"space may hold at most {MAX_PARAMS} hyperparameters; got {len(space)}")
    for name, param in space.items():
        if not isinstance(name, str) or not isinstance(param, Param):
            raise ValueError(f"space must map names (str) to Param; got {name!r}: {param!r}")
    return dict(space)


@reference_answer("log_uniform")
def log_uniform(low: float, high: float, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` values drawn log-uniformly from ``[low, high]``.

    .. math:: \\ln v \\sim U(\\ln \\mathrm{low}, \\ln \\mathrm{high}), \\qquad
              P(v \\le t) = \\frac{\\ln t - \\ln \\mathrm{low}}
                                  {\\ln \\mathrm{high} - \\ln \\mathrm{low}}

    so every decade (every factor of 10) between the bounds gets the same share of the draws.
    A uniform draw from [1e-4, 1] would put 90% of them in [0.1, 1].

    Parameters
    ----------
    low, high : float
        ``0 < low < high``, finite.
    size : int
        Number of draws, 0 to :data:`MAX_TRIALS` * :data:`MAX_PARAMS`.
    rng : numpy.random.Generator
        The only source of randomness (the same generator state gives the same draws).

    Returns
    -------
    ndarray, shape (size,), float64
    """
    low, high = _check_real("low", low), _check_real("high", high)
    if not 0 < low < high:
        raise ValueError(f"log-uniform sampling needs 0 < low < high; got low={low!r}, "
                         f"high={high!r}")
    size = _check_int("size", size, 0, MAX_TRIALS * MAX_PARAMS)
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"rng must be a numpy.random.Generator (np.random.default_rng(seed)); "
                         f"got {type(rng).__name__}")
    return np.exp(rng.uniform(math.log(low), math.log(high), size))


def decade_shares(values, low: float, high: float) -> np.ndarray:
    """Share of ``values`` in each decade ``[10^k, 10^(k+1))`` from ``low`` to ``high``.

    ``low`` and ``high`` must be powers of 10; the last decade includes ``high``.

    Returns
    -------
    ndarray, shape (log10(high / low),)
    """
    low, high = _check_real("low", low), _check_real("high", high)
    k0, k1 = math.log10(low) if low > 0 else math.nan, math.log10(high) if high > 0 else math.nan
    if not (0 < low < high and k0 == round(k0) and k1 == round(k1)):
        raise ValueError(f"low and high must be powers of 10 with low < high; got {low!r}, "
                         f"{high!r}")
    values = np.asarray(values, dtype=np.float64).ravel()
    if values.size == 0:
        raise ValueError("values is empty")
    counts = np.histogram(np.log10(np.clip(values, low, high)), bins=np.arange(k0, k1 + 1))[0]
    return counts / values.size


def grid_configs(space, per_axis: int) -> list:
    """The grid: ``per_axis`` values per hyperparameter, every combination.

    The values sit at the centres of ``per_axis`` equal cells of each range (in ``u``,
    ``(i + 1/2) / per_axis``), as in Bergstra & Bengio's figure: never on the edges.
    The first hyperparameter varies slowest.

    Returns
    -------
    list of dict, ``per_axis ** len(space)`` configs
    """
    space = check_space(space)
    per_axis = _check_int("per_axis", per_axis, 1, MAX_TRIALS)
    if per_axis ** len(space) > MAX_TRIALS:
        raise ValueError(f"per_axis={per_axis} over {len(space)} hyperparameters is "
                         f"{per_axis ** len(space):,} trials; at most {MAX_TRIALS:,} are allowed")
    u = (np.arange(per_axis) + 0.5) / per_axis
    axes = [[float(v) for v in param.from_unit(u)] for param in space.values()]
    return [dict(zip(space, values)) for values in itertools.product(*axes)]


def random_configs(space, budget: int, seed=0) -> list:
    """``budget`` configs drawn independently: uniform, or :func:`log_uniform` for log ranges.

    Parameters
    ----------
    space : dict of str -> Param
    budget : int
        1 to :data:`MAX_TRIALS`.
    seed : int or numpy.random.Generator
        The hyperparameters are drawn in the space's order, all ``budget`` values of one
        before the next.
    """
    space = check_space(space)
    budget = _check_int("budget", budget, 1, MAX_TRIALS)
    rng = _rng(seed)
    columns = []
    for param in space.values():
        if param.log:
            columns.append(log_uniform(param.low, param.high, budget, rng))
        else:
            columns.append(rng.uniform(param.low, param.high, budget))
    return [{name: float(col[i]) for name, col in zip(space, columns)} for i in range(budget)]


# ------------------------------------------------------------------ results
@dataclass(frozen=True)
class SearchResult:
    """The configs a search evaluated and their scores (higher is better).

    Attributes
    ----------
    configs : tuple of dict
        In the order they were evaluated.
    scores : ndarray, shape (n,), float64
        ``evaluate(config)``; NaN for a failed trial (e.g. a diverged training run).
    strategy : str
        How the configs were chosen ("grid", "random", ...).
    """

    configs: tuple
    scores: np.ndarray
    strategy: str = ""

    def __len__(self) -> int:
        return len(self.configs)

    @property
    def names(self) -> tuple:
        return tuple(self.configs[0]) if self.configs else ()

    def values(self, name: str) -> np.ndarray:
        """The values tried for hyperparameter ``name``, shape (n,)."""
        if name not in self.names:
            raise ValueError(f"name must be one of {self.names}; got {name!r}")
        return np.array([c[name] for c in self.configs], dtype=np.float64)

    @property
    def best_index(self) -> int:
        if np.all(np.isnan(self.scores)):
            raise ValueError("every trial failed (all scores are NaN): there is no best")
        return int(np.nanargmax(self.scores))

    @property
    def best_config(self) -> dict:
        return dict(self.configs[self.best_index])

    @property
    def best_score(self) -> float:
        return float(self.scores[self.best_index])

    def best_so_far(self) -> np.ndarray:
        """The best score after each trial, shape (n,) (NaN until a trial succeeds)."""
        scores = np.where(np.isnan(self.scores), -np.inf, self.scores)
        best = np.maximum.accumulate(scores)
        return np.where(np.isinf(best), np.nan, best)

    def table(self, top: int | None = None, digits: int = 3, extra: Mapping | None = None) -> str:
        """The trials as a text table, best first (``top`` rows; NaN scores last, "failed").

        Hyperparameter values are printed with 3 significant digits, scores with ``digits``
        decimals. ``extra``: more columns (name -> sequence in trial order).
        """
        order = sorted(range(len(self)), key=lambda i: (np.isnan(self.scores[i]),
                                                         -np.nan_to_num(self.scores[i]), i))
        if top is not None:
            order = order[:_check_int("top", top, 1, MAX_TRIALS)]
        columns = {name: [f"{self.configs[i][name]:.3g}" for i in order] for name in self.names}
        for name, values in (extra or {}).items():
            columns[name] = [str(values[i]) if isinstance(values[i], numbers.Integral)
                             else values[i] for i in order]
        columns["score"] = [("failed" if np.isnan(self.scores[i])
                             else f"{self.scores[i]:.{digits}f}") for i in order]
        return format_table(columns, index=[i + 1 for i in order], index_name="trial")


def run_search(evaluate: Callable, configs, strategy: str = "") -> SearchResult:
    """Evaluate every config in order: ``scores[i] = evaluate(configs[i])``.

    ``evaluate`` must return a real number (NaN marks a failed trial).
    """
    if not callable(evaluate):
        raise ValueError(f"evaluate must be a function config -> score; got {evaluate!r}")
    configs = tuple(dict(c) for c in configs)
    if not 1 <= len(configs) <= MAX_TRIALS:
        raise ValueError(f"configs must hold 1 to {MAX_TRIALS} configs; got {len(configs)}")
    scores = []
    for config in configs:
        score = evaluate(dict(config))
        if isinstance(score, bool) or not isinstance(score, numbers.Real):
            raise ValueError(f"evaluate must return a number; got {score!r} for {config}")
        scores.append(float(score))
    return SearchResult(configs, np.array(scores), strategy)


def combine(*results: SearchResult, strategy: str = "") -> SearchResult:
    """The trials of several results as one, in order (e.g. a search continued later)."""
    if not results or not all(isinstance(r, SearchResult) for r in results):
        raise ValueError("combine needs one or more SearchResult")
    return SearchResult(tuple(c for r in results for c in r.configs),
                        np.concatenate([r.scores for r in results]), strategy)


def grid_search(evaluate: Callable, space, per_axis: int) -> SearchResult:
    """Evaluate the grid of :func:`grid_configs` (``per_axis ** len(space)`` trials)."""
    return run_search(evaluate, grid_configs(space, per_axis), "grid")


def random_search(evaluate: Callable, space, budget: int, seed=0) -> SearchResult:
    """Evaluate ``budget`` configs of :func:`random_configs`."""
    return run_search(evaluate, random_configs(space, budget, seed), "random")


# ------------------------------------------------------------------ coarse to fine
def refine_space(space, result: SearchResult, top: int = 3, margin: float = 0.5,
                 min_width: float = 0.1, edge: float = 0.1) -> dict:
    """A narrower space around the ``top`` best configs of ``result``, for a finer search.

    Per hyperparameter, in the coarse space's ``u`` coordinates (so log ranges shrink by
    factors, not by amounts): the interval spanned by the ``top`` best values, widened by
    ``margin`` times its width on each side and to at least ``min_width``. When the best
    config lies within ``edge`` of an end of the coarse range, the optimum may lie beyond it
    (see :func:`edge_report`): the new range then reaches past that end by half its width.

    Returns
    -------
    dict of str -> Param, on the same scales
    """
    space = check_space(space)
    top = _check_int("top", top, 1, MAX_TRIALS)
    margin = _check_real("margin", margin)
    min_width = _check_real("min_width", min_width)
    edge = _check_real("edge", edge)
    if not 0 <= edge < 0.5:
        raise ValueError(f"edge must be >= 0 and < 0.5; got {edge!r}")
    if margin < 0 or not 0 < min_width <= 1:
        raise ValueError(f"margin must be >= 0 and min_width in (0, 1]; got margin={margin!r}, "
                         f"min_width={min_width!r}")
    if set(result.names) != set(space):
        raise ValueError(f"result tried {result.names}; the space has {tuple(space)}")
    ok = np.flatnonzero(~np.isnan(result.scores))
    if len(ok) == 0:
        raise ValueError("every trial failed (all scores are NaN): nothing to refine around")
    best = ok[np.argsort(-result.scores[ok], kind="stable")[:top]]
    refined = {}
    for name, param in space.items():
        u = param.to_unit(result.values(name)[best])
        lo, hi = float(u.min()), float(u.max())
        pad = max(margin * (hi - lo), (min_width - (hi - lo)) / 2, 0.0)
        lo, hi = lo - pad, hi + pad
        u_best = float(param.to_unit(result.values(name)[best[0]]))
        if u_best > 1 - edge:  # the best sits at an edge: look past it
            hi = max(hi, 1.0) + (hi - lo) / 2
        elif u_best < edge:
            lo = min(lo, 0.0) - (hi - lo) / 2
        if param.log and lo < -50:  # stay representable; exp(-50 * range) is already ~0
            lo = -50
        new_low, new_high = (float(v) for v in param.from_unit([lo, hi]))
        refined[name] = Param(new_low, new_high, param.log)
    return refined


@dataclass(frozen=True)
class CoarseToFine:
    """The rounds of :func:`coarse_to_fine`: ``spaces[k]`` was searched in ``rounds[k]``."""

    spaces: tuple
    rounds: tuple

    @property
    def combined(self) -> SearchResult:
        """All trials of all rounds, in order."""
        return combine(*self.rounds, strategy="coarse-to-fine")

    @property
    def round_of_trial(self) -> list:
        """The round (1, 2, ...) of every trial of :attr:`combined`."""
        return [k + 1 for k, r in enumerate(self.rounds) for _ in range(len(r))]


def coarse_to_fine(evaluate: Callable, space, budgets=(8, 8), top: int = 3,
                   margin: float = 0.5, seed=0) -> CoarseToFine:
    """Random search in rounds, each in the space :func:`refine_space` draws around the best
    configs found so far (all earlier rounds count).

    Parameters
    ----------
    budgets : sequence of int
        Trials per round (the first is the coarse search), 1 to 10 rounds.
    seed : int
        One generator for all rounds.
    """
    space = check_space(space)
    budgets = tuple(budgets)
    if not 1 <= len(budgets) <= 10:
        raise ValueError(f"budgets must give 1 to 10 rounds; got {budgets!r}")
    for b in budgets:
        _check_int("budgets[i]", b, 1, MAX_TRIALS)
    if sum(budgets) > MAX_TRIALS:
        raise ValueError(f"budgets add up to {sum(budgets)} trials; at most {MAX_TRIALS}")
    rng = _rng(seed)
    spaces, rounds = [space], []
    for k, budget in enumerate(budgets):
        if k > 0:
            so_far = CoarseToFine(tuple(spaces[:k]), tuple(rounds)).combined
            spaces.append(refine_space(space, so_far, top=top, margin=margin))
        rounds.append(run_search(evaluate, random_configs(spaces[k], budget, rng),
                                 "coarse" if k == 0 else f"fine {k}"))
    return CoarseToFine(tuple(spaces), tuple(rounds))


def edge_report(space, result: SearchResult, edge: float = 0.1) -> dict:
    """Where the best config lies in each range: ``"low edge"``, ``"high edge"`` or ``"inside"``.

    "Edge" means within ``edge`` of the range's end in ``u`` (for a log range, within that
    share of its decades). A best value at an edge says: widen the range that way and search
    again, the optimum may lie outside.
    """
    space = check_space(space)
    edge = _check_real("edge", edge)
    if not 0 < edge < 0.5:
        raise ValueError(f"edge must be between 0 and 0.5; got {edge!r}")
    best = result.best_config
    report = {}
    for name, param in space.items():
        u = float(param.to_unit(best[name]))
        report[name] = "low edge" if u < edge else "high edge" if u > 1 - edge else "inside"
    return report


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
    peak, width, weight = (_check_real(n, v) for n, v in
                           (("peak", peak), ("width", width), ("weight", weight)))
    if not 0 <= peak <= 1 or not width > 0 or weight < 0:
        raise ValueError(f"need 0 <= peak <= 1, width > 0 and weight >= 0; got peak={peak!r}, "
                         f"width={width!r}, weight={weight!r}")
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return np.exp(-0.5 * ((x - peak) / width) ** 2) + weight * np.sin(np.pi * y) ** 2


@dataclass(frozen=True)
class GridVsRandom:
    """:func:`grid_vs_random`'s repeated searches, one entry per repeat.

    Attributes
    ----------
    peaks : ndarray (repeats,)
        Where the important hyperparameter's optimum was in that repeat.
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
            {"distinct x tried": [str(self.grid_distinct_x), str(self.random_distinct_x)],
             "mean best score": [self.grid_best.mean(), self.random_best.mean()],
             "worst best score": [self.grid_best.min(), self.random_best.min()],
             "searches won": [float(np.mean(self.grid_best > self.random_best)),
                              self.random_wins]},
            index=["grid", "random"], index_name="search", percent=["searches won"])


def grid_vs_random(budget: int = 9, repeats: int = 100, width: float = 0.08,
                   weight: float = 0.1, seed: int = 0) -> GridVsRandom:
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
    """
    budget = _check_int("budget", budget, 4, MAX_TRIALS)
    k = math.isqrt(budget)
    if k * k != budget:
        raise ValueError(f"budget must be a perfect square (a k x k grid); got {budget}")
    repeats = _check_int("repeats", repeats, 1, MAX_REPEATS)
    if repeats * budget > 10**7:
        raise ValueError(f"repeats * budget must be at most 10,000,000; got {repeats * budget:,}")
    bergstra_objective(0.5, 0.5, 0.5, width, weight)  # checks width and weight
    rng = np.random.default_rng(_check_int("seed", seed, 0, 2**63 - 1))
    peaks = rng.uniform(0.0, 1.0, repeats)
    unit = {"x": Param(0.0, 1.0), "y": Param(0.0, 1.0)}
    grid = grid_configs(unit, k)
    gx = np.array([c["x"] for c in grid])
    gy = np.array([c["y"] for c in grid])
    points = rng.uniform(0.0, 1.0, (repeats, budget, 2))
    grid_best = np.empty(repeats)
    random_best = np.empty(repeats)
    for i, peak in enumerate(peaks):
        grid_best[i] = bergstra_objective(gx, gy, peak, width, weight).max()
        random_best[i] = bergstra_objective(points[i, :, 0], points[i, :, 1], peak, width,
                                            weight).max()
    return GridVsRandom(peaks, grid_best, random_best, len(np.unique(gx)),
                        int(np.mean([len(np.unique(p[:, 0])) for p in points])))


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


def synthetic_search(strategy: str = "random", budget: int = 9, seed: int = 0,
                     peak: float = EXPLORER_PEAK, width: float = 0.08,
                     weight: float = 0.1) -> SyntheticSearch:
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
    budget = _check_int("budget", budget, 1, 1000)
    rng = np.random.default_rng(_check_int("seed", seed, 0, 2**63 - 1))
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
        result = run_search(score, coarse.configs + tuple(
            random_configs(fine, budget - len(coarse), rng)))
    points = np.array([[c["x"], c["y"]] for c in result.configs])
    return SyntheticSearch(points, result.scores, strategy, budget)


# ------------------------------------------------------------------ a real search
@dataclass(frozen=True)
class HeldOut:
    """Data split three ways: train (fit), validation (choose), test (report once)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int


def hold_out_test(data, test_share: float = 0.5, seed: int = 0) -> HeldOut:
    """Split ``data``'s validation examples into a validation and a test part.

    The search chooses on the validation part only; the test part is looked at once, for
    the chosen config (a best-of-n validation score is biased upwards: it was selected).
    The split is random (seeded) and stratified by class.
    """
    for name in ("x_train", "y_train", "x_val", "y_val"):
        if not hasattr(data, name):
            raise ValueError(f"data must have x_train, y_train, x_val, y_val; it has no {name!r}")
    test_share = _check_real("test_share", test_share)
    if not 0 < test_share < 1:
        raise ValueError(f"test_share must be strictly between 0 and 1; got {test_share!r}")
    rng = np.random.default_rng(_check_int("seed", seed, 0, 2**63 - 1))
    y = np.asarray(data.y_val)
    test = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        test[members[:int(round(test_share * len(members)))]] = True
    if test.all() or not test.any():
        raise ValueError("the validation data is too small to split")
    x = np.asarray(data.x_val)
    num_classes = int(getattr(data, "num_classes", int(np.max(data.y_train)) + 1))
    return HeldOut(np.asarray(data.x_train), np.asarray(data.y_train), x[~test], y[~test],
                   x[test], y[test], num_classes)


class TrainingObjective:
    """``evaluate(config) -> validation accuracy`` of a small MLP trained on ``data``.

    Each call builds :func:`course_utils.training.build_mlp` (``depth`` hidden layers of
    ``width`` ReLU units, Kaiming init, ``seed``) and trains it with
    :func:`course_utils.training.train` for ``epochs`` epochs, ``optimizer`` with
    ``lr = config["lr"]`` and L2 weight decay ``config["weight_decay"]`` (the optimiser's
    ``weight_decay``: ``+ wd * w`` added to every gradient, the gradient of
    ``wd/2 * ||w||^2``). The score is the last validation accuracy; NaN if the loss diverged.

    ``threads`` torch threads while training (one is fastest for such small matrices on a
    shared machine, and makes every run repeatable bit for bit); the count is restored after.

    Every call is appended to ``records`` (config, ``val_acc``, and ``test_acc`` when
    ``data`` has ``x_test``, as :func:`hold_out_test` gives: recorded for the lesson on
    selection bias, never used to choose).
    """

    def __init__(self, data, depth: int = 1, width: int = 32, epochs: int = 2,
                 batch_size: int = 128, optimizer: str = "momentum", seed: int = 0,
                 threads: int = 1):
        from course_utils import training

        for name in ("x_train", "y_train", "x_val", "y_val"):
            if not hasattr(data, name):
                raise ValueError(f"data must have x_train, y_train, x_val, y_val (e.g. "
                                 f"course_utils.data.load_dataset()); it has no {name!r}")
        self.threads = _check_int("threads", threads, 1, 64)
        self.in_features = int(np.shape(data.x_train)[1])
        self.num_classes = int(getattr(data, "num_classes", int(np.max(data.y_train)) + 1))
        training.build_mlp(self.in_features, self.num_classes, depth=depth, width=width,
                           seed=seed)  # checks depth, width and seed
        self.epochs = _check_int("epochs", epochs, 1, 1000)
        self.batch_size = _check_int("batch_size", batch_size, 1, 10**6)
        if optimizer not in training.OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {training.OPTIMIZERS}; got {optimizer!r}")
        self.data, self.depth, self.width = data, depth, width
        self.optimizer, self.seed = optimizer, seed
        self.calls = 0
        self.records = []

    def train(self, config):
        """Train one model for ``config``; return ``(model, history)``."""
        from course_utils import training

        if not isinstance(config, Mapping) or set(config) != {"lr", "weight_decay"}:
            raise ValueError(f"config must be a dict with the keys lr and weight_decay; "
                             f"got {config!r}")
        model = training.build_mlp(self.in_features, self.num_classes, depth=self.depth,
                                   width=self.width, seed=self.seed)
        history = training.train(model, self.data, optimizer=self.optimizer,
                                 lr=config["lr"], epochs=self.epochs,
                                 batch_size=self.batch_size, seed=self.seed, progress=False,
                                 threads=self.threads, weight_decay=config["weight_decay"])
        self.calls += 1
        return model, history

    def __call__(self, config) -> float:
        model, history = self.train(config)
        score = float("nan") if history.diverged else float(history.final()["val_acc"])
        test = None
        if hasattr(self.data, "x_test") and not history.diverged:
            from course_utils.training import evaluate

            test = evaluate(model, self.data.x_test, self.data.y_test)[1]
        self.records.append({"config": dict(config), "val_acc": score, "test_acc": test})
        return score


def training_objective(data, **kwargs) -> TrainingObjective:
    """A :class:`TrainingObjective` on ``data`` (keyword arguments: its parameters)."""
    return TrainingObjective(data, **kwargs)


def optuna_search(evaluate: Callable, space, budget: int, sampler: str = "tpe", seed: int = 0,
                  startup_trials: int = 10) -> SearchResult:
    """The same search run by Optuna (Akiba et al., KDD 2019), maximising ``evaluate``.

    ``sampler="random"`` is Optuna's ``RandomSampler`` (independent draws, log ranges
    log-uniform: what :func:`random_search` does); ``"tpe"`` is its ``TPESampler``, the
    Tree-structured Parzen Estimator (Bergstra, Bardenet, Bengio & Kégl, NeurIPS 2011):
    after ``startup_trials`` random trials it splits the trials so far into the best
    ``gamma`` share and the rest, fits a kernel density to each, l(x) and g(x), and tries the
    candidate (of 24 drawn from l) with the largest l(x)/g(x). Optuna's log messages are
    silenced (its level is restored afterwards); NaN scores are reported to Optuna as failed
    trials.

    Returns
    -------
    SearchResult
        Configs in trial order, ``strategy`` "optuna random" or "optuna tpe".
    """
    import optuna

    space = check_space(space)
    budget = _check_int("budget", budget, 1, MAX_TRIALS)
    seed = _check_int("seed", seed, 0, 2**32 - 1)
    startup_trials = _check_int("startup_trials", startup_trials, 1, MAX_TRIALS)
    if not callable(evaluate):
        raise ValueError(f"evaluate must be a function config -> score; got {evaluate!r}")
    if sampler == "random":
        chosen = optuna.samplers.RandomSampler(seed=seed)
    elif sampler == "tpe":
        chosen = optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials)
    else:
        raise ValueError(f"sampler must be 'random' or 'tpe'; got {sampler!r}")
    configs, scores = [], []

    def objective(trial):
        config = {name: trial.suggest_float(name, p.low, p.high, log=p.log)
                  for name, p in space.items()}
        score = evaluate(dict(config))
        if isinstance(score, bool) or not isinstance(score, numbers.Real):
            raise ValueError(f"evaluate must return a number; got {score!r} for {config}")
        configs.append(config)
        scores.append(float(score))
        return float(score)  # NaN: Optuna records the trial as failed and carries on

    # ERROR, not WARNING: a NaN score is logged as a warning with a time stamp, which would
    # make a notebook's output differ from run to run.
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    try:
        study = optuna.create_study(direction="maximize", sampler=chosen)
        study.optimize(objective, n_trials=budget)
    finally:
        optuna.logging.set_verbosity(verbosity)
    return SearchResult(tuple(configs), np.array(scores), f"optuna {sampler}")
