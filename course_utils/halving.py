"""Chapter 10: searches that stop bad trials early, successive halving and Hyperband.

A random search spends a full training run on every configuration, although a few epochs
already tell the hopeless ones from the promising ones. *Successive halving* (Jamieson &
Talwalkar, AISTATS 2016) gives ``n`` configurations a small budget ``r`` (epochs), keeps the
best ``1/eta`` of them, multiplies their budget by ``eta``, and repeats until one is left or
the budget reaches its maximum. *Hyperband* (Li, Jamieson, DeSalvo, Rostamizadeh &
Talwalkar, JMLR 2018) hedges the one choice successive halving leaves open, how small a
first budget is still informative, by running several *brackets*: from many configurations
at a tiny budget to a few at the full one (plain random search).

- :func:`successive_halving`: one bracket, ``evaluate(config, budget) -> score`` per rung;
- :func:`hyperband_brackets`: Hyperband's schedule, ``(n, r)`` per rung of every bracket;
- :func:`first_blowup`: CS231n's cheaper rule, stop a run as soon as its loss exceeds
  ``factor`` times its initial loss.

Everything maximises the score (a validation accuracy), as :mod:`course_utils.tuning` does.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Callable

import numpy as np

from course_utils.tables import format_table
from course_utils.tuning import MAX_TRIALS
from course_utils.validation import check_array, check_int, check_real

__all__ = [
    "Rung",
    "Halving",
    "successive_halving",
    "hyperband_brackets",
    "hyperband_table",
    "first_blowup",
    "MAX_BUDGET",
]

#: At most this many budget units (epochs) for one configuration: the schedule's arithmetic
#: stays small, and a training objective at 10,000 epochs would already run for hours.
MAX_BUDGET = 10_000


@dataclass(frozen=True)
class Rung:
    """One rung of successive halving: the configurations evaluated at one budget."""

    budget: int
    indices: tuple  # which configurations (positions in the list given), best first
    scores: tuple  # their scores at this budget, in the same order


@dataclass(frozen=True)
class Halving:
    """What :func:`successive_halving` did.

    ``rungs``: one :class:`Rung` per budget, smallest first; ``best_index``: the
    configuration that won the last rung; ``spent``: total budget used (the sum over rungs of
    configurations x budget); ``full_cost``: what training every configuration at the last
    rung's budget would have cost.
    """

    configs: tuple
    rungs: tuple
    eta: int

    @property
    def best_index(self) -> int:
        return int(self.rungs[-1].indices[0])

    @property
    def best_config(self) -> dict:
        return dict(self.configs[self.best_index])

    @property
    def best_score(self) -> float:
        return float(self.rungs[-1].scores[0])

    @property
    def spent(self) -> int:
        return int(sum(r.budget * len(r.indices) for r in self.rungs))

    @property
    def full_cost(self) -> int:
        return int(self.rungs[-1].budget * len(self.configs))

    def table(self, digits: int = 3) -> str:
        """One row per rung: budget, configurations run, kept, best score there."""
        digits = check_int("digits", digits, 0, 12)
        kept = [len(r.indices) for r in self.rungs[1:]] + [1]
        return format_table(
            {
                "budget each": [str(r.budget) for r in self.rungs],
                "configs run": [str(len(r.indices)) for r in self.rungs],
                "kept": [str(k) for k in kept],
                "best score": [f"{max(r.scores):.{digits}f}" for r in self.rungs],
                "budget used": [str(r.budget * len(r.indices)) for r in self.rungs],
            },
            index=list(range(1, len(self.rungs) + 1)),
            index_name="rung",
        )


def _score(value, config) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"evaluate must return a number; got {value!r} for {config}")
    value = float(value)
    return -math.inf if math.isnan(value) else value  # a failed trial is never kept


def successive_halving(
    evaluate: Callable, configs, min_budget: int, max_budget: int, eta: int = 3
) -> Halving:
    """Successive halving (Jamieson & Talwalkar, AISTATS 2016), maximising the score.

    Rung ``k`` (from 0) runs the ``n_k`` surviving configurations at budget
    ``r_k = min_budget * eta**k`` and keeps the best ``max(1, floor(n_k / eta))``; it stops
    after the rung whose budget reaches ``max_budget`` or that keeps one configuration.
    With ``n`` configurations the budget used is about ``n * min_budget * (number of
    rungs)``, against ``n * max_budget`` to train every one fully.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(config, budget) -> score`` (higher is better; NaN counts as the worst).
        Each call may train from scratch: the budget counted is the one asked for.
    configs : sequence of dict
        The configurations, e.g. :func:`course_utils.tuning.random_configs`.
    min_budget, max_budget : int
        Budget of the first rung and the most any rung gets, ``1 <= min <= max``.
    eta : int
        Keep one in ``eta`` per rung and multiply the budget by ``eta`` (>= 2; 3 is usual).

    Returns
    -------
    Halving
    """
    if not callable(evaluate):
        raise ValueError(f"evaluate must be a function (config, budget) -> score; got {evaluate!r}")
    configs = tuple(dict(c) for c in configs)
    if not 1 <= len(configs) <= MAX_TRIALS:
        raise ValueError(f"configs must hold 1 to {MAX_TRIALS} configs; got {len(configs)}")
    max_budget = check_int("max_budget", max_budget, 1, MAX_BUDGET)
    min_budget = check_int("min_budget", min_budget, 1, max_budget)
    eta = check_int("eta", eta, 2, 100)
    alive = list(range(len(configs)))
    budget = min_budget
    rungs = []
    while True:
        scores = [_score(evaluate(dict(configs[i]), budget), configs[i]) for i in alive]
        order = sorted(range(len(alive)), key=lambda j: (-scores[j], alive[j]))
        ranked = tuple(alive[j] for j in order)
        rungs.append(Rung(budget, ranked, tuple(scores[j] for j in order)))
        keep = max(1, len(alive) // eta)
        if budget >= max_budget or len(alive) == 1:
            break
        alive = list(ranked[:keep])
        budget = min(budget * eta, max_budget)
    return Halving(configs, tuple(rungs), eta)


def hyperband_brackets(max_budget: int, eta: int = 3) -> list:
    """Hyperband's schedule (Li et al., JMLR 2018, Algorithm 1) for a maximum budget ``R``.

    With ``s_max = floor(log_eta R)``, bracket ``s = s_max, ..., 0`` starts
    ``n = ceil((s_max + 1) / (s + 1) * eta**s)`` configurations at budget ``r = R / eta**s``
    and runs successive halving: rung ``i`` has ``floor(n / eta**i)`` configurations at
    ``r * eta**i``. Bracket ``s_max`` is the most aggressive; bracket 0 is random search
    with every configuration trained fully. Each bracket uses about the same total budget.

    Returns
    -------
    list of list of (n_i, r_i)
        One list per bracket (``s_max`` first), one ``(configs, budget each)`` per rung.
    """
    max_budget = check_int("max_budget", max_budget, 1, MAX_BUDGET)
    eta = check_int("eta", eta, 2, 100)
    s_max = 0
    while eta ** (s_max + 1) <= max_budget:  # integer log, no float rounding
        s_max += 1
    brackets = []
    for s in range(s_max, -1, -1):
        n = math.ceil((s_max + 1) * eta**s / (s + 1))
        r = max_budget / eta**s
        brackets.append([(n // eta**i, r * eta**i) for i in range(s + 1)])
    return brackets


def hyperband_table(max_budget: int, eta: int = 3) -> str:
    """:func:`hyperband_brackets` as a table: one row per bracket, its rungs as
    ``configs x budget`` and the bracket's total budget."""
    brackets = hyperband_brackets(max_budget, eta)
    rungs = ["  ".join(f"{n} x {r:g}" for n, r in bracket) for bracket in brackets]
    totals = [f"{sum(n * r for n, r in bracket):g}" for bracket in brackets]
    return format_table(
        {"rungs (configs x budget each)": rungs, "budget used": totals},
        index=[str(len(b) - 1) for b in brackets],
        index_name="bracket s",
    )


def first_blowup(losses, factor: float = 3.0) -> int | None:
    """The first step whose loss exceeds ``factor`` times the first loss, or ``None``.

    CS231n's rule for a search's inner loop: "if the cost is ever > 3 * original cost,
    break out early". ``losses``: the minibatch losses of one run, shape (steps,), finite or
    not (a NaN or inf loss has blown up too).
    """
    losses = check_array("losses", losses, ndim=1, finite=False)
    factor = check_real("factor", factor, 1.0, 1e6, low_open=True)
    if not math.isfinite(losses[0]):
        return 0
    over = ~np.isfinite(losses) | (losses > factor * losses[0])
    hits = np.flatnonzero(over)
    return int(hits[0]) if hits.size else None
