"""Chapter 10: hyperparameter search over a function ``evaluate(config) -> score``.

- :class:`Param` and a *space* (``dict`` name -> :class:`Param`): a range, on a linear or a
  log scale.
- :func:`log_uniform`: ``exp(U(ln low, ln high))``, the sampler for learning rates and
  regularisation strengths (each decade gets the same share of the trials).
- :func:`grid_configs`, :func:`random_configs`: where a search tries; :func:`grid_search`,
  :func:`random_search`: the configs evaluated, as a :class:`SearchResult` (printed as a table).
- :func:`refine_space`, :func:`coarse_to_fine`: a coarse search, then a finer one around the
  best configs; :func:`edge_report` says when the best lies at the edge of the range.

Everything here maximises the score (a validation accuracy). Seeded: the same arguments give
the same configs and the same scores. The chapter's experiments (Bergstra & Bengio's grid vs
random race, a real search of a small MLP, Optuna) are in
:mod:`course_utils.chapters.ch10_tuning`.
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
from course_utils.validation import (
    MAX_DIGITS,
    check_array,
    check_int,
    check_real,
    check_sequence,
    make_rng,
)

__all__ = [
    "Param",
    "MAX_TRIALS",
    "MAX_PARAMS",
    "log_uniform",
    "decade_shares",
    "check_space",
    "grid_configs",
    "random_configs",
    "SearchResult",
    "run_search",
    "combine",
    "grid_search",
    "random_search",
    "refine_space",
    "CoarseToFine",
    "coarse_to_fine",
    "edge_report",
]

#: At most this many trials per search (a synthetic objective costs microseconds, a training
#: run tens of milliseconds: 10,000 of the latter is already minutes).
MAX_TRIALS = 10_000
#: At most this many hyperparameters in one space (a grid of 3 per axis over 10 is 59,049
#: trials already; no lesson searches more at once).
MAX_PARAMS = 10


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
        low, high = check_real("low", self.low), check_real("high", self.high)
        if not isinstance(self.log, bool):
            raise ValueError(f"log must be True or False; got {self.log!r}")
        if not low < high:
            raise ValueError(f"low must be < high; got low={low!r}, high={high!r}")
        if self.log and low <= 0:
            raise ValueError(f"a log-scale range needs low > 0; got low={low!r}")

    @reference_answer("log_uniform")
    def from_unit(self, u):
        """Values for positions ``u`` in [0, 1] (array-like, any shape, finite)."""
        u = check_array("u", u, min_size=0)
        if self.log:
            return np.exp(math.log(self.low) + u * (math.log(self.high) - math.log(self.low)))
        return self.low + u * (self.high - self.low)

    def to_unit(self, value):
        """Positions in [0, 1] of ``value`` (array-like; outside the range gives < 0 or > 1;
        finite, and > 0 on a log scale)."""
        v = check_array("value", value, min_size=0)
        if self.log and np.any(v <= 0):
            raise ValueError("value must be > 0 on a log scale (its logarithm places it)")
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
def log_uniform(low: float, high: float, size: int, seed=0) -> np.ndarray:
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
    seed : int or numpy.random.Generator
        The only source of randomness (the same seed, or generator state, gives the same
        draws; a Generator is advanced).

    Returns
    -------
    ndarray, shape (size,), float64
    """
    low, high = check_real("low", low), check_real("high", high)
    if not 0 < low < high:
        raise ValueError(
            f"log-uniform sampling needs 0 < low < high; got low={low!r}, high={high!r}"
        )
    size = check_int("size", size, 0, MAX_TRIALS * MAX_PARAMS)
    rng = make_rng(seed)
    return np.exp(rng.uniform(math.log(low), math.log(high), size))


def decade_shares(values, low: float, high: float) -> np.ndarray:
    """Share of ``values`` in each decade ``[10^k, 10^(k+1))`` from ``low`` to ``high``.

    ``low`` and ``high`` must be powers of 10; the last decade includes ``high``.

    Returns
    -------
    ndarray, shape (log10(high / low),)
    """
    low, high = check_real("low", low), check_real("high", high)
    k0, k1 = math.log10(low) if low > 0 else math.nan, math.log10(high) if high > 0 else math.nan
    if not (0 < low < high and k0 == round(k0) and k1 == round(k1)):
        raise ValueError(
            f"low and high must be powers of 10 with low < high; got {low!r}, {high!r}"
        )
    values = check_array("values", values, finite=False).ravel()
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
    per_axis = check_int("per_axis", per_axis, 1, MAX_TRIALS)
    if per_axis ** len(space) > MAX_TRIALS:
        raise ValueError(
            f"per_axis={per_axis} over {len(space)} hyperparameters is "
            f"{per_axis ** len(space):,} trials; at most {MAX_TRIALS:,} are allowed"
        )
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
    budget = check_int("budget", budget, 1, MAX_TRIALS)
    rng = make_rng(seed)
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
        digits = check_int("digits", digits, 0, MAX_DIGITS)
        if extra is not None and not isinstance(extra, Mapping):
            raise ValueError(
                f"extra must be a dict of column name -> values in trial order; "
                f"got {type(extra).__name__}"
            )
        extra = {
            name: check_sequence(f"extra[{name!r}]", values, min_len=len(self), max_len=len(self))
            for name, values in (extra or {}).items()
        }
        order = sorted(
            range(len(self)),
            key=lambda i: (np.isnan(self.scores[i]), -np.nan_to_num(self.scores[i]), i),
        )
        if top is not None:
            order = order[: check_int("top", top, 1, MAX_TRIALS)]
        columns = {name: [f"{self.configs[i][name]:.3g}" for i in order] for name in self.names}
        for name, values in extra.items():
            columns[name] = [
                str(values[i]) if isinstance(values[i], numbers.Integral) else values[i]
                for i in order
            ]
        columns["score"] = [
            ("failed" if np.isnan(self.scores[i]) else f"{self.scores[i]:.{digits}f}")
            for i in order
        ]
        return format_table(columns, index=[i + 1 for i in order], index_name="trial")


def _check_result(result) -> None:
    if not isinstance(result, SearchResult):
        raise ValueError(
            f"result must be a SearchResult (from a search); got {type(result).__name__}"
        )


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
    return SearchResult(
        tuple(c for r in results for c in r.configs),
        np.concatenate([r.scores for r in results]),
        strategy,
    )


def grid_search(evaluate: Callable, space, per_axis: int) -> SearchResult:
    """Evaluate the grid of :func:`grid_configs` (``per_axis ** len(space)`` trials)."""
    return run_search(evaluate, grid_configs(space, per_axis), "grid")


def random_search(evaluate: Callable, space, budget: int, seed=0) -> SearchResult:
    """Evaluate ``budget`` configs of :func:`random_configs`."""
    return run_search(evaluate, random_configs(space, budget, seed), "random")


# ------------------------------------------------------------------ coarse to fine
def refine_space(
    space,
    result: SearchResult,
    top: int = 3,
    margin: float = 0.5,
    min_width: float = 0.1,
    edge: float = 0.1,
) -> dict:
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
    _check_result(result)
    top = check_int("top", top, 1, MAX_TRIALS)
    margin = check_real("margin", margin)
    min_width = check_real("min_width", min_width)
    edge = check_real("edge", edge)
    if not 0 <= edge < 0.5:
        raise ValueError(f"edge must be >= 0 and < 0.5; got {edge!r}")
    if margin < 0 or not 0 < min_width <= 1:
        raise ValueError(
            f"margin must be >= 0 and min_width in (0, 1]; got margin={margin!r}, "
            f"min_width={min_width!r}"
        )
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


def coarse_to_fine(
    evaluate: Callable, space, budgets=(8, 8), top: int = 3, margin: float = 0.5, seed=0
) -> CoarseToFine:
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
    if (
        isinstance(budgets, (str, bytes))
        or not isinstance(budgets, (list, tuple, range))
        or not 1 <= len(budgets) <= 10
    ):
        raise ValueError(
            f"budgets must give 1 to 10 rounds (a list of trial counts); got "
            f"{type(budgets).__name__}"
        )
    budgets = tuple(check_int("budgets[i]", b, 1, MAX_TRIALS) for b in budgets)
    if sum(budgets) > MAX_TRIALS:
        raise ValueError(f"budgets add up to {sum(budgets)} trials; at most {MAX_TRIALS}")
    rng = make_rng(seed)
    spaces, rounds = [space], []
    for k, budget in enumerate(budgets):
        if k > 0:
            so_far = CoarseToFine(tuple(spaces[:k]), tuple(rounds)).combined
            spaces.append(refine_space(space, so_far, top=top, margin=margin))
        rounds.append(
            run_search(
                evaluate,
                random_configs(spaces[k], budget, rng),
                "coarse" if k == 0 else f"fine {k}",
            )
        )
    return CoarseToFine(tuple(spaces), tuple(rounds))


def edge_report(space, result: SearchResult, edge: float = 0.1) -> dict:
    """Where the best config lies in each range: ``"low edge"``, ``"high edge"`` or ``"inside"``.

    "Edge" means within ``edge`` of the range's end in ``u`` (for a log range, within that
    share of its decades). A best value at an edge says: widen the range that way and search
    again, the optimum may lie outside.
    """
    space = check_space(space)
    _check_result(result)
    edge = check_real("edge", edge)
    if not 0 < edge < 0.5:
        raise ValueError(f"edge must be between 0 and 0.5; got {edge!r}")
    best = result.best_config
    report = {}
    for name, param in space.items():
        u = float(param.to_unit(best[name]))
        report[name] = "low edge" if u < edge else "high edge" if u > 1 - edge else "inside"
    return report
