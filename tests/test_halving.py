"""course_utils.halving: successive halving, Hyperband's schedule, CS231n's blow-up rule."""

import math

import numpy as np
import pytest

from course_utils import halving


def _configs(n):
    return [{"x": float(i)} for i in range(n)]


def test_successive_halving_keeps_one_in_eta_and_multiplies_the_budget():
    calls = []

    def evaluate(config, budget):
        calls.append((config["x"], budget))
        return config["x"] * budget  # larger x is better at every budget

    result = halving.successive_halving(evaluate, _configs(9), 1, 9, eta=3)
    assert [r.budget for r in result.rungs] == [1, 3, 9]
    assert [len(r.indices) for r in result.rungs] == [9, 3, 1]
    assert result.rungs[1].indices == (8, 7, 6) and result.best_index == 8
    assert result.best_config == {"x": 8.0} and result.best_score == 72.0
    assert result.spent == 27 == len([c for c in calls if c[1] == 1]) * 3
    assert result.full_cost == 81
    assert "budget each" in result.table()


def test_the_budget_stops_at_the_maximum_and_failed_trials_are_never_kept():
    def evaluate(config, budget):
        return math.nan if config["x"] == 26 else config["x"]

    result = halving.successive_halving(evaluate, _configs(27), 2, 10, eta=3)
    assert [r.budget for r in result.rungs] == [2, 6, 10]
    assert [len(r.indices) for r in result.rungs] == [27, 9, 3]
    assert 26 not in result.rungs[1].indices and result.best_index == 25


def test_one_config_is_one_rung():
    result = halving.successive_halving(lambda c, b: 1.0, _configs(1), 1, 9)
    assert len(result.rungs) == 1 and result.spent == 1


def test_hyperband_brackets_are_li_et_als_table_for_r81_eta3():
    brackets = halving.hyperband_brackets(81, eta=3)
    assert [[n for n, _ in b] for b in brackets] == [
        [81, 27, 9, 3, 1],
        [34, 11, 3, 1],
        [15, 5, 1],
        [8, 2],
        [5],
    ]
    assert [[r for _, r in b] for b in brackets][0] == [1, 3, 9, 27, 81]
    assert [b[-1][1] for b in brackets] == [81] * 5
    assert halving.hyperband_brackets(9, 3) == [
        [(9, 1), (3, 3), (1, 9)],
        [(5, 3), (1, 9)],
        [(3, 9)],
    ]
    table = halving.hyperband_table(9, 3)
    assert "9 x 1  3 x 3  1 x 9" in table and "27" in table


def test_first_blowup_is_cs231ns_three_times_rule():
    assert halving.first_blowup([2.3, 2.0, 7.0, 1.0]) == 2
    assert halving.first_blowup([2.3, 2.0, 6.8, 1.0]) is None
    assert halving.first_blowup([2.3, np.nan]) == 1
    assert halving.first_blowup([np.inf, 1.0]) == 0
    assert halving.first_blowup([1.0, 1.5], factor=1.2) == 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(evaluate=None), "evaluate must be a function"),
        (dict(configs=[]), "configs must hold"),
        (dict(min_budget=0), "min_budget"),
        (dict(min_budget=10, max_budget=9), "min_budget"),
        (dict(eta=1), "eta"),
        (dict(max_budget=10**9), "max_budget"),
    ],
)
def test_successive_halving_rejects_bad_arguments(kwargs, message):
    args = dict(evaluate=lambda c, b: 0.0, configs=_configs(3), min_budget=1, max_budget=9, eta=3)
    with pytest.raises(ValueError, match=message):
        halving.successive_halving(**{**args, **kwargs})


def test_a_non_number_score_is_a_value_error():
    with pytest.raises(ValueError, match="must return a number"):
        halving.successive_halving(lambda c, b: "good", _configs(3), 1, 3)
