"""Chapter 10: every number the notebook prints or its text states.

The assertions are on the package's functions, not on the notebook (nbval compares the
notebook's outputs with the stored ones; these tests say why those outputs are right).
"""

import math

import numpy as np
import pytest

from course_utils import tuning
from course_utils.chapters.ch10_tuning import runs as ch10
from course_utils.chapters.ch10_tuning.explorer import search_explorer
from course_utils.data import load_dataset
from course_utils.training import build_mlp, train

SEED = 0
SPACE = {
    "lr": tuning.Param(1e-4, 10.0, log=True),
    "weight_decay": tuning.Param(1e-6, 1.0, log=True),
}


def bowl(config):
    """A cheap objective with its optimum at lr = 0.03, almost flat in weight decay."""
    return (
        -((math.log10(config["lr"]) - math.log10(0.03)) ** 2)
        - 0.01 * (math.log10(config["weight_decay"]) + 4) ** 2
    )


@pytest.fixture(scope="module")
def split():
    return ch10.hold_out_test(load_dataset("digits", seed=SEED), test_share=0.5, seed=SEED)


@pytest.fixture(scope="module")
def real(split):
    """The notebook's searches, in the notebook's order (the objective records every trial)."""
    objective = ch10.training_objective(
        split, depth=1, width=32, epochs=2, batch_size=128, seed=SEED
    )
    search = tuning.coarse_to_fine(objective, SPACE, budgets=(8, 8), top=3, seed=SEED)
    records = list(objective.records)
    more = tuning.random_search(objective, SPACE, budget=8, seed=SEED + 1)
    searches = {
        "random": tuning.combine(search.rounds[0], more, strategy="random"),
        "coarse-to-fine": search.combined,
        "optuna tpe": ch10.optuna_search(objective, SPACE, 16, "tpe", seed=SEED, startup_trials=8),
    }
    return search, records, searches


def test_split_sizes(split):
    assert (len(split.x_train), len(split.x_val), len(split.x_test)) == (1347, 227, 223)


def test_decade_shares_uniform_vs_log_uniform():
    rng = np.random.default_rng(SEED)
    uniform = tuning.decade_shares(rng.uniform(1e-4, 1.0, 100_000), 1e-4, 1.0)
    logu = tuning.decade_shares(tuning.log_uniform(1e-4, 1.0, 100_000, rng), 1e-4, 1.0)
    np.testing.assert_allclose(uniform, [0.0008, 0.0089, 0.0919, 0.8984], atol=5e-5)
    np.testing.assert_allclose(logu, [0.2492, 0.2533, 0.2490, 0.2485], atol=5e-5)
    # The text: 90% in the top decade, one in a thousand below 1e-3
    assert uniform[-1] == pytest.approx(0.9, abs=0.005) and uniform[0] < 0.001


def test_grid_vs_random_over_100_searches():
    race = ch10.grid_vs_random(budget=9, repeats=100, seed=SEED)
    assert (race.grid_distinct_x, race.random_distinct_x) == (3, 9)
    assert round(race.random_best.mean(), 3) == 0.839 and round(race.grid_best.mean(), 3) == 0.637
    assert round(race.random_wins, 2) == 0.63
    assert round(race.random_best.min(), 3) == 0.097 and round(race.grid_best.min(), 3) == 0.223


def test_grid_distances_quoted_in_the_text():
    # For c ~ U(0, 1): a centred grid of k = 3 is at most 1/6 and on average 1/12 away.
    c = np.linspace(0, 1, 100_001)
    grid = (np.arange(3) + 0.5) / 3
    nearest = np.abs(c[:, None] - grid[None, :]).min(axis=1)
    assert nearest.max() == pytest.approx(1 / 6, abs=1e-5)
    assert nearest.mean() == pytest.approx(1 / 12, abs=1e-4)


def test_explorer_driven_from_code_prints_the_six_summaries():
    ex = search_explorer(strategy="random", budget=9, seed=SEED)
    best = {}
    for budget in (9, 16):
        ex.controls["budget"].value = budget
        for strategy in ch10.STRATEGIES:
            ex.controls["strategy"].value = strategy
            best[strategy, budget] = round(ex.result.best_score, 3)
    assert best == {
        ("grid", 9): 0.316,
        ("random", 9): 0.559,
        ("coarse-to-fine", 9): 1.012,
        ("grid", 16): 1.068,
        ("random", 16): 0.628,
        ("coarse-to-fine", 16): 0.901,
    }
    assert 0.375 in np.round(ch10.synthetic_search("grid", 16).points[:, 0], 3)


def test_coarse_round(real):
    search, _, _ = real
    coarse = search.rounds[0]
    assert [round(s, 3) for s in sorted(coarse.scores, reverse=True)] == [
        0.925,
        0.894,
        0.872,
        0.203,
        0.176,
        0.159,
        0.159,
        0.101,
    ]
    good = coarse.scores > 0.8
    assert good.sum() == 3
    lr, wd = coarse.values("lr"), coarse.values("weight_decay")
    assert np.all((lr[good] > 0.1) & (lr[good] < 0.5))
    assert wd[good].min() == pytest.approx(1.13e-5, rel=0.01)
    assert wd[good].max() == pytest.approx(0.0239, rel=0.01)
    assert np.all(coarse.scores[lr <= 2.3e-3] < 0.18) and np.all(coarse.scores[lr >= 1] <= 0.21)
    assert tuning.edge_report(SPACE, coarse) == {"lr": "inside", "weight_decay": "inside"}


def test_fine_round_and_its_ranges(real):
    search, _, _ = real
    fine = search.spaces[1]
    assert (round(fine["lr"].low, 4), round(fine["lr"].high, 3)) == (0.0532, 0.901)
    assert (float(f"{fine['weight_decay'].low:.3g}"), round(fine["weight_decay"].high, 2)) == (
        2.47e-07,
        1.1,
    )
    assert round(np.log10(fine["lr"].high / fine["lr"].low), 1) == 1.2
    assert round(np.log10(fine["weight_decay"].high / fine["weight_decay"].low), 1) == 6.6
    result = search.combined
    top6 = np.argsort(-result.scores, kind="stable")[:6]
    assert [search.round_of_trial[i] for i in top6].count(2) == 3
    assert round(result.best_score, 3) == 0.943 and search.round_of_trial[result.best_index] == 2
    # The two fine trials near weight decay 1 collapse
    fine_round = search.rounds[1]
    big = fine_round.values("weight_decay") > 0.5
    assert sorted(np.round(fine_round.scores[big], 3)) == [0.057, 0.101]
    decay = fine_round.values("lr")[big] * fine_round.values("weight_decay")[big]
    assert np.all((decay > 0.13) & (decay < 0.15))


def test_validation_vs_test_on_the_notebooks_split(real):
    search, records, _ = real
    result = search.combined
    chosen = records[result.best_index]
    assert (round(chosen["val_acc"], 3), round(chosen["test_acc"], 3)) == (0.943, 0.888)
    assert round(100 * (chosen["val_acc"] - chosen["test_acc"]), 1) == 5.5


def test_optuna_comparison(real):
    _, _, searches = real
    assert {k: round(s.best_score, 3) for k, s in searches.items()} == {
        "random": 0.925,
        "coarse-to-fine": 0.943,
        "optuna tpe": 0.938,
    }
    assert {k: int(np.sum(s.scores >= 0.85)) for k, s in searches.items()} == {
        "random": 3,
        "coarse-to-fine": 8,
        "optuna tpe": 6,
    }
    assert {k: float(f"{s.best_config['lr']:.3g}") for k, s in searches.items()} == {
        "random": 0.444,
        "coarse-to-fine": 0.246,
        "optuna tpe": 0.511,
    }
    assert all(len(s) == 16 for s in searches.values())
    assert searches["random"].configs[:8] == searches["coarse-to-fine"].configs[:8]


def test_nearest_of_nine_random_points_is_about_one_twentieth_away():
    # The text: for an interior optimum, E[min |U_i - c|] = 1 / (2 (n + 1)) = 0.05 for n = 9.
    rng = np.random.default_rng(SEED)
    points = rng.uniform(0, 1, (200_000, 9))
    assert np.abs(points - 0.5).min(axis=1).mean() == pytest.approx(0.05, abs=5e-4)


# ---------------------------------------------------------------- Bergstra & Bengio
def test_bergstra_objective_has_one_important_hyperparameter():
    x = np.linspace(0, 1, 101)
    f = ch10.bergstra_objective(x[:, None], x[None, :], peak=0.3)
    assert f.max() == pytest.approx(1.1, abs=1e-3)
    spread_x = np.ptp(f.mean(axis=1))
    spread_y = np.ptp(f.mean(axis=0))
    assert spread_x > 5 * spread_y
    with pytest.raises(ValueError, match="width > 0"):
        ch10.bergstra_objective(0.5, 0.5, width=0)


def test_grid_vs_random_the_printed_claim():
    r = ch10.grid_vs_random(budget=9, repeats=100, seed=0)
    assert (r.grid_distinct_x, r.random_distinct_x) == (3, 9)
    assert r.random_best.mean() > r.grid_best.mean()
    assert round(r.grid_best.mean(), 3) == 0.637 and round(r.random_best.mean(), 3) == 0.839
    assert r.random_wins == pytest.approx(0.63)
    lines = r.summary().splitlines()
    assert lines[2].split() == ["grid", "3", "0.637", "0.223", "37.0%"]
    assert lines[3].split() == ["random", "9", "0.839", "0.097", "63.0%"]


def test_grid_wins_when_both_hyperparameters_matter_and_loses_when_one_does():
    """Section 2's table: 1000 searches each, 9 trials (standard error of a mean ~0.009)."""
    one = ch10.grid_vs_random(budget=9, repeats=1000, seed=SEED)
    both = ch10.grid_vs_random(budget=9, repeats=1000, seed=SEED, matter="both")
    assert (round(one.grid_best.mean(), 3), round(one.random_best.mean(), 3)) == (0.687, 0.828)
    assert (round(both.grid_best.mean(), 3), round(both.random_best.mean(), 3)) == (0.339, 0.237)
    assert (round(one.random_wins, 3), round(both.random_wins, 3)) == (0.609, 0.33)
    assert both.peaks.shape == (1000, 2)
    # a property, not one seed's accident: the gaps are 10+ standard errors wide for any seed
    for seed in (1, 2):
        one = ch10.grid_vs_random(budget=9, repeats=1000, seed=seed)
        both = ch10.grid_vs_random(budget=9, repeats=1000, seed=seed, matter="both")
        assert one.random_best.mean() - one.grid_best.mean() > 0.1
        assert both.grid_best.mean() - both.random_best.mean() > 0.07
    with pytest.raises(ValueError, match="matter must be"):
        ch10.grid_vs_random(matter="some")


def test_grid_vs_random_holds_for_other_seeds_and_budgets():
    for seed in range(3):
        r = ch10.grid_vs_random(budget=16, repeats=300, seed=seed)
        assert r.random_best.mean() > r.grid_best.mean() and r.random_wins > 0.5


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(budget=10), "perfect square"),
        (dict(budget=2), "between 4"),
        (dict(repeats=0), "repeats must be between"),
        (dict(width=-1.0), "width > 0"),
    ],
)
def test_grid_vs_random_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ch10.grid_vs_random(**kwargs)


@pytest.mark.parametrize("strategy", ch10.STRATEGIES)
def test_synthetic_search_per_strategy(strategy):
    r = ch10.synthetic_search(strategy, budget=10, seed=0)
    assert r.points.shape == ((9, 2) if strategy == "grid" else (10, 2))
    assert np.all((r.points >= 0) & (r.points <= 1))
    np.testing.assert_allclose(
        r.scores, ch10.bergstra_objective(r.points[:, 0], r.points[:, 1], ch10.EXPLORER_PEAK)
    )
    assert r.distinct_x == (3 if strategy == "grid" else 10)


def test_coarse_to_fine_beats_random_on_the_synthetic_objective_on_average():
    ctf = np.mean([ch10.synthetic_search("coarse-to-fine", 16, s).best_score for s in range(50)])
    rnd = np.mean([ch10.synthetic_search("random", 16, s).best_score for s in range(50)])
    assert ctf > rnd


def test_synthetic_search_rejects_bad_arguments():
    with pytest.raises(ValueError, match="strategy must be one of grid, random, coarse-to-fine"):
        ch10.synthetic_search("bayes")
    with pytest.raises(ValueError, match="budget must be between 1 and 1000"):
        ch10.synthetic_search("random", 0)


# ---------------------------------------------------------------- training and Optuna
def test_training_objective_is_the_shared_training_loop(digits_dataset):
    evaluate = ch10.training_objective(digits_dataset, epochs=1, batch_size=128)
    config = {"lr": 0.1, "weight_decay": 1e-4}
    model = build_mlp(64, 10, depth=1, width=32, seed=0)
    history = train(
        model,
        digits_dataset,
        optimizer="momentum",
        lr=0.1,
        epochs=1,
        batch_size=128,
        seed=0,
        progress=False,
        weight_decay=1e-4,
    )
    score = evaluate(config)
    assert score == history.final()["val_acc"] and evaluate(config) == score
    assert evaluate.calls == 2


def test_float32_split_trains_exactly_as_the_float64_data(split):
    """hold_out_test's float32 features are what training rounds float64 ones to: every
    score and recorded probability is the same bit for bit (no printed number moves)."""
    import dataclasses

    wide = dataclasses.replace(
        split, **{k: getattr(split, k).astype(np.float64) for k in ("x_train", "x_val", "x_test")}
    )
    config = {"lr": 0.2, "weight_decay": 1e-4}
    runs = [ch10.training_objective(d, epochs=1, batch_size=128, seed=SEED) for d in (split, wide)]
    assert runs[0](config) == runs[1](config)
    for key in ("test_acc", "val_proba", "test_proba", "losses"):
        np.testing.assert_array_equal(runs[0].records[0][key], runs[1].records[0][key])


def test_training_objective_reports_divergence_as_nan_and_restores_threads(digits_dataset):
    import torch

    before = torch.get_num_threads()
    evaluate = ch10.training_objective(digits_dataset, epochs=1, batch_size=128)
    assert math.isnan(evaluate({"lr": 1e3, "weight_decay": 1e3}))  # w *= 1 - 1e6 each step
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="keys lr and weight_decay"):
        evaluate({"lr": 0.1})
    with pytest.raises(ValueError, match="optimizer must be one of"):
        ch10.training_objective(digits_dataset, optimizer="lbfgs")
    with pytest.raises(ValueError, match="has no 'x_train'"):
        ch10.training_objective(object())


def test_hold_out_test_splits_validation_data_stratified_and_disjoint(digits_dataset):
    split = ch10.hold_out_test(digits_dataset, test_share=0.5, seed=0)
    assert len(split.x_val) + len(split.x_test) == len(digits_dataset.x_val)
    assert abs(len(split.x_val) - len(split.x_test)) <= 10
    # float32, as training rounds them: the same values, converted once instead of per trial
    assert split.x_train.dtype == split.x_val.dtype == split.x_test.dtype == np.float32
    np.testing.assert_array_equal(split.x_train, digits_dataset.x_train.astype(np.float32))
    counts_val = np.bincount(split.y_val, minlength=10)
    counts_test = np.bincount(split.y_test, minlength=10)
    assert np.all(np.abs(counts_val - counts_test) <= 1)
    # every validation example lands in exactly one part
    together = np.concatenate([split.x_val, split.x_test])
    assert sorted(map(bytes, together)) == sorted(
        map(bytes, np.asarray(digits_dataset.x_val, dtype=np.float32))
    )
    with pytest.raises(ValueError, match="test_share must be strictly between 0 and 1"):
        ch10.hold_out_test(digits_dataset, test_share=1.0)


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_optuna_search_is_seeded_silent_and_inside_the_space(sampler, capsys):
    import optuna

    level = optuna.logging.get_verbosity()
    a = ch10.optuna_search(bowl, SPACE, 12, sampler=sampler, seed=0, startup_trials=4)
    b = ch10.optuna_search(bowl, SPACE, 12, sampler=sampler, seed=0, startup_trials=4)
    assert a.configs == b.configs and len(a) == 12 and a.strategy == f"optuna {sampler}"
    lr = a.values("lr")
    assert lr.min() >= 1e-4 and lr.max() <= 10.0
    assert capsys.readouterr() == ("", "")
    assert optuna.logging.get_verbosity() == level


def test_optuna_search_survives_failed_trials_without_printing(capsys):
    result = ch10.optuna_search(
        lambda c: float("nan") if c["lr"] > 0.1 else bowl(c),
        SPACE,
        15,
        sampler="tpe",
        seed=0,
        startup_trials=5,
    )
    assert np.isnan(result.scores).any() and not np.isnan(result.best_score)
    assert capsys.readouterr() == ("", "")


def test_tpe_concentrates_its_trials_near_the_optimum():
    # Over several seeds: after the random start, TPE's trials land closer to lr = 0.03.
    def distance(result):
        return np.abs(np.log10(result.values("lr")[10:]) - math.log10(0.03)).mean()

    tpe = np.mean([distance(ch10.optuna_search(bowl, SPACE, 30, "tpe", s)) for s in range(3)])
    rnd = np.mean([distance(ch10.optuna_search(bowl, SPACE, 30, "random", s)) for s in range(3)])
    assert tpe < 0.8 * rnd  # 0.86 vs 1.20 decades: closer, not on the spot


def test_optuna_search_rejects_bad_arguments():
    with pytest.raises(ValueError, match="sampler must be 'random' or 'tpe'"):
        ch10.optuna_search(bowl, SPACE, 5, sampler="cmaes")
    with pytest.raises(ValueError, match="budget must be between 1"):
        ch10.optuna_search(bowl, SPACE, 0)
