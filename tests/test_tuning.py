"""course_utils.tuning: samplers, searches, coarse-to-fine, Bergstra & Bengio, Optuna."""

import math

import numpy as np
import pytest
from scipy import stats

from course_utils import tuning as T

SPACE = {"lr": T.Param(1e-4, 10.0, log=True), "weight_decay": T.Param(1e-6, 1.0, log=True)}
UNIT = {"x": T.Param(0.0, 1.0), "y": T.Param(0.0, 1.0)}


def bowl(config):
    """A cheap objective with its optimum at lr = 0.03, almost flat in weight decay."""
    return (
        -((math.log10(config["lr"]) - math.log10(0.03)) ** 2)
        - 0.01 * (math.log10(config["weight_decay"]) + 4) ** 2
    )


# ---------------------------------------------------------------- Param, log_uniform
def test_param_maps_the_unit_interval_linearly_or_by_decades():
    p = T.Param(1e-4, 1.0, log=True)
    np.testing.assert_allclose(p.from_unit([0, 0.25, 0.5, 1]), [1e-4, 1e-3, 1e-2, 1.0], rtol=1e-12)
    np.testing.assert_allclose(p.to_unit([1e-4, 1e-3, 1.0]), [0, 0.25, 1], atol=1e-12)
    q = T.Param(-1.0, 3.0)
    np.testing.assert_allclose(q.from_unit([0, 0.5, 1]), [-1, 1, 3])
    np.testing.assert_allclose(q.to_unit(q.from_unit([0.1, 0.7])), [0.1, 0.7])


@pytest.mark.parametrize(
    "args, message",
    [
        ((1.0, 1.0), "low must be < high"),
        ((2.0, 1.0), "low must be < high"),
        ((0.0, 1.0, True), "log-scale range needs low > 0"),
        ((float("nan"), 1.0), "finite"),
        ((0.1, 1.0, "yes"), "log must be True or False"),
    ],
)
def test_param_rejects_bad_ranges(args, message):
    with pytest.raises(ValueError, match=message):
        T.Param(*args)


def test_log_uniform_is_log_uniform_by_a_ks_test_against_scipy():
    x = T.log_uniform(1e-5, 1e-1, 20_000, np.random.default_rng(0))
    assert x.shape == (20_000,) and x.dtype == np.float64
    assert x.min() >= 1e-5 and x.max() <= 1e-1
    assert stats.kstest(x, stats.loguniform(1e-5, 1e-1).cdf).pvalue > 0.01
    shares = np.histogram(np.log10(x), bins=[-5, -4, -3, -2, -1])[0] / len(x)
    np.testing.assert_allclose(shares, 0.25, atol=0.015)  # every decade a quarter


def test_log_uniform_uses_only_the_generator():
    a = T.log_uniform(1e-3, 1.0, 5, np.random.default_rng(7))
    b = T.log_uniform(1e-3, 1.0, 5, np.random.default_rng(7))
    c = T.log_uniform(1e-3, 1.0, 5, np.random.default_rng(8))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    np.testing.assert_allclose(np.log(a), np.random.default_rng(7).uniform(np.log(1e-3), 0.0, 5))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(low=0.0, high=1.0), "0 < low < high"),
        (dict(low=-1.0, high=1.0), "0 < low < high"),
        (dict(low=1.0, high=0.1), "0 < low < high"),
        (dict(low=1e-3, high=float("inf")), "finite"),
        (dict(size=-1), "size must be between 0"),
        (dict(size=2.5), "size must be an integer"),
        (dict(seed="x"), "seed must be an integer between 0 and"),
    ],
)
def test_log_uniform_rejects_bad_arguments(kwargs, message):
    args = dict(low=1e-3, high=1.0, size=3, seed=np.random.default_rng(0)) | kwargs
    with pytest.raises(ValueError, match=message):
        T.log_uniform(**args)


def test_uniform_sampling_crowds_the_top_decade():
    # The notebook's table: shares per decade of [1e-4, 1], uniform vs log-uniform.
    rng = np.random.default_rng(0)
    uniform = T.decade_shares(rng.uniform(1e-4, 1.0, 100_000), 1e-4, 1.0)
    logu = T.decade_shares(T.log_uniform(1e-4, 1.0, 100_000, rng), 1e-4, 1.0)
    np.testing.assert_allclose(uniform, [0.0009, 0.009, 0.09, 0.9], atol=0.002)
    np.testing.assert_allclose(logu, 0.25, atol=0.005)
    assert uniform.sum() == pytest.approx(1.0) and logu.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="powers of 10"):
        T.decade_shares([1.0], 2e-4, 1.0)


# ---------------------------------------------------------------- grid and random
def test_grid_is_centred_in_cells_and_log_spaced_on_log_ranges():
    configs = T.grid_configs({"lr": T.Param(1e-4, 1.0, log=True), "x": T.Param(0.0, 1.0)}, 2)
    assert len(configs) == 4
    np.testing.assert_allclose(sorted({c["lr"] for c in configs}), [1e-3, 1e-1], rtol=1e-12)
    np.testing.assert_allclose(sorted({c["x"] for c in configs}), [0.25, 0.75])
    assert [c["lr"] for c in configs[:2]] == [configs[0]["lr"]] * 2  # first varies slowest


def test_grid_and_random_reject_budgets_beyond_the_limit():
    with pytest.raises(ValueError, match="at most 10,000"):
        T.grid_configs({f"p{i}": T.Param(0.0, 1.0) for i in range(5)}, 7)
    with pytest.raises(ValueError, match="budget must be between 1 and 10000"):
        T.random_configs(SPACE, 10_001)
    with pytest.raises(ValueError, match="non-empty dict"):
        T.random_configs({}, 3)
    with pytest.raises(ValueError, match="map names"):
        T.random_configs({"lr": (1e-3, 1.0)}, 3)


def test_random_configs_are_seeded_and_inside_the_space():
    a, b = T.random_configs(SPACE, 50, 3), T.random_configs(SPACE, 50, 3)
    assert a == b and a != T.random_configs(SPACE, 50, 4)
    lr = np.array([c["lr"] for c in a])
    assert lr.min() >= 1e-4 and lr.max() <= 10.0
    np.testing.assert_array_equal(lr, T.log_uniform(1e-4, 10.0, 50, np.random.default_rng(3)))


def test_search_result_best_table_and_failed_trials():
    configs = [{"lr": 0.1}, {"lr": 0.01}, {"lr": 1.0}]

    def score(c):
        return float("nan") if c["lr"] > 0.5 else -abs(math.log10(c["lr"]) + 1.5)

    result = T.run_search(score, configs, "hand")
    assert result.best_index in (0, 1) and result.best_score == pytest.approx(-0.5)
    np.testing.assert_allclose(result.best_so_far(), [-0.5, -0.5, -0.5])
    lines = result.table().splitlines()
    assert lines[0].split() == ["trial", "lr", "score"]
    assert lines[-1].split() == ["3", "1", "failed"]  # failed trials last
    with pytest.raises(ValueError, match="evaluate must return a number"):
        T.run_search(lambda c: "good", configs)
    with pytest.raises(ValueError, match="evaluate must be a function"):
        T.run_search(3, configs)
    with pytest.raises(ValueError, match="no best"):
        _ = T.run_search(lambda c: float("nan"), configs).best_config


def test_grid_search_and_random_search_evaluate_every_config():
    g = T.grid_search(bowl, SPACE, 3)
    r = T.random_search(bowl, SPACE, 9, seed=0)
    assert len(g) == len(r) == 9 and (g.strategy, r.strategy) == ("grid", "random")
    assert len(np.unique(g.values("lr"))) == 3 and len(np.unique(r.values("lr"))) == 9
    np.testing.assert_array_equal(r.scores, [bowl(c) for c in r.configs])


# ---------------------------------------------------------------- coarse to fine
def test_refine_space_covers_the_best_configs_and_shrinks():
    coarse = T.random_search(bowl, SPACE, 30, seed=1)
    fine = T.refine_space(SPACE, coarse, top=3, margin=0.5)
    best = np.argsort(-coarse.scores)[:3]
    for name in SPACE:
        values = coarse.values(name)[best]
        assert fine[name].low < values.min() and values.max() < fine[name].high
        assert fine[name].log
    width = math.log(fine["lr"].high / fine["lr"].low)
    assert width < 0.5 * math.log(SPACE["lr"].high / SPACE["lr"].low)


def test_refine_space_reaches_past_an_edge_where_the_best_lies():
    def edge(c):
        return math.log10(c["lr"])  # best at the top of the range

    coarse = T.random_search(edge, SPACE, 20, seed=0)
    assert T.edge_report(SPACE, coarse)["lr"] == "high edge"
    assert T.refine_space(SPACE, coarse)["lr"].high > SPACE["lr"].high


def test_coarse_to_fine_searches_the_refined_space_and_beats_its_coarse_round():
    result = T.coarse_to_fine(bowl, SPACE, budgets=(10, 10), seed=0)
    assert [len(r) for r in result.rounds] == [10, 10] and len(result.spaces) == 2
    fine_lr = result.rounds[1].values("lr")
    fine = result.spaces[1]["lr"]
    assert np.all((fine_lr >= fine.low) & (fine_lr <= fine.high))
    assert result.rounds[1].best_score >= result.rounds[0].best_score
    assert result.round_of_trial == [1] * 10 + [2] * 10
    assert len(result.combined) == 20


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(budgets=()), "1 to 10 rounds"),
        (dict(budgets=(5, 0)), "budgets\\[i\\] must be between"),
        (dict(seed=-1), "seed must be an integer between"),
    ],
)
def test_coarse_to_fine_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        T.coarse_to_fine(bowl, SPACE, **kwargs)


def test_edge_report_says_inside_for_an_interior_best():
    result = T.run_search(
        bowl, [{"lr": 0.03, "weight_decay": 1e-4}, {"lr": 1.0, "weight_decay": 1e-4}]
    )
    assert T.edge_report(SPACE, result) == {"lr": "inside", "weight_decay": "inside"}
    with pytest.raises(ValueError, match="edge must be between 0 and 0.5"):
        T.edge_report(SPACE, result, edge=0.5)
