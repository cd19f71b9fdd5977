"""Chapter 10, sections 5-7: the winner's curse, seeds, an ensemble, stopping bad trials early,
importance and a shared study: every number the notebook prints, on the package functions."""

import numpy as np
import pytest

from course_utils import halving, tuning
from course_utils.chapters.ch10_tuning import runs as ch10
from course_utils.chapters.ch10_tuning import runs_optuna, runs_selection
from course_utils.data import load_dataset

SEED = 0
SPACE = {
    "lr": tuning.Param(1e-4, 10.0, log=True),
    "weight_decay": tuning.Param(1e-6, 1.0, log=True),
}


@pytest.fixture(scope="module")
def notebook():
    split = ch10.hold_out_test(load_dataset("digits", seed=SEED), test_share=0.5, seed=SEED)
    objective = ch10.training_objective(
        split, depth=1, width=32, epochs=2, batch_size=128, seed=SEED
    )
    search = tuning.coarse_to_fine(objective, SPACE, budgets=(8, 8), top=3, seed=SEED)
    return split, objective, search.combined, list(objective.records)


def test_the_winners_curse_table(notebook):
    split, _, _, records = notebook
    curse = runs_selection.winners_curse(records, split.y_val, split.y_test, splits=2000, seed=SEED)
    assert round(curse.chosen_gap, 1) == 5.5 and round(curse.others_gap, 1) == 3.1
    gaps = curse.resplit_winner_gaps
    assert (round(gaps.mean(), 1), round(gaps.std(), 1)) == (0.3, 2.6)
    assert abs(curse.resplit_model_gap) < 0.05  # no split is harder on average
    assert curse.models == 16
    # the property behind the text: the winner's average gap over re-splits is small next to
    # one split's spread, and holds for other re-split seeds
    for seed in (1, 2, 3):
        other = runs_selection.winners_curse(records, split.y_val, split.y_test, 2000, seed)
        assert 0.0 < other.resplit_winner_gaps.mean() < 1.0 < 2.0 < other.resplit_winner_gaps.std()


def test_equal_models_bias_grows_like_the_expected_maximum():
    bias, spread = runs_selection.equal_models_bias(16, 0.9, 227, seed=SEED)
    assert (round(bias, 1), round(spread, 1)) == (3.4, 1.0)
    sigma = 100 * np.sqrt(0.9 * 0.1 / 227)
    assert 0.6 * sigma * np.sqrt(2 * np.log(16)) < bias < sigma * np.sqrt(2 * np.log(16))
    one, _ = runs_selection.equal_models_bias(1, 0.9, 227, seed=SEED)
    assert abs(one) < 0.1  # a single model is not selected: no bias
    assert runs_selection.equal_models_bias(64, 0.9, 227)[0] > bias


def test_seed_spread_of_the_three_best(notebook):
    _, objective, result, _ = notebook
    order = np.argsort(-np.nan_to_num(result.scores), kind="stable")[:3]
    top3 = [result.configs[i] for i in order]
    spread = runs_selection.seed_spread(objective, top3, seeds=range(5))
    np.testing.assert_array_equal(spread.scores[:, 0], result.scores[order])  # seed 0 repeats
    means, sds = spread.scores.mean(1), spread.scores.std(1, ddof=1)
    assert [round(m, 3) for m in means] == [0.908, 0.913, 0.898]
    assert [round(s, 3) for s in sds] == [0.027, 0.014, 0.032]
    assert means.max() - means.min() < sds.max()  # a tie: the means differ by less than a seed
    assert round(spread.rank_changes(), 2) == 0.6
    assert "seed 4" in spread.table()


def test_the_ensemble_of_the_three_best(notebook):
    split, _, _, records = notebook
    together = runs_selection.ensemble(records, split.y_test, size=3)
    assert [round(a, 3) for a in together.member_test] == [0.888, 0.857, 0.839]
    assert round(together.ensemble_test, 3) == 0.874
    assert together.ensemble_test > together.member_test.mean()  # the general property
    assert together.ensemble_test < together.member_test.max()  # this search's case (the text)
    assert together.members == (9, 7, 14)


def test_the_three_times_rule_on_the_search(notebook):
    _, _, _, records = notebook
    blown = {i + 1: halving.first_blowup(r["losses"]) for i, r in enumerate(records)}
    assert {t: s for t, s in blown.items() if s is not None} == {6: 3}
    assert records[5]["config"]["lr"] > 3


def test_successive_halving_on_the_digits(notebook):
    _, objective, _, _ = notebook
    candidates = tuning.random_configs(SPACE, 9, seed=SEED + 2)
    sha = halving.successive_halving(
        lambda c, epochs: objective(c, epochs=epochs), candidates, 1, 9, eta=3
    )
    assert [round(max(r.scores), 3) for r in sha.rungs] == [0.837, 0.938, 0.969]
    assert (sha.spent, sha.full_cost) == (27, 81)
    assert f"{sha.best_config['lr']:.3g}" == "0.439"


def test_optunas_pruner_stops_most_trials_after_one_epoch(notebook):
    _, objective, _, _ = notebook
    pruned = runs_optuna.pruned_search(
        objective, SPACE, budget=12, max_epochs=9, seed=SEED, startup_trials=4
    )
    assert int(pruned.pruned.sum()) == 9 and (pruned.spent, pruned.full_cost) == (38, 108)
    assert sorted(pruned.epochs.tolist()).count(1) == 8
    finished = pruned.result.scores[~pruned.pruned]
    assert finished.min() > 0.94 and round(pruned.result.best_score, 3) == 0.965


def test_importance_of_the_search(notebook):
    _, _, result, _ = notebook
    shares = runs_optuna.importances(result, SPACE)
    assert list(shares) == ["lr", "weight_decay"]
    assert {k: round(v, 2) for k, v in shares.items()} == {"lr": 0.82, "weight_decay": 0.18}


def test_importances_import_no_sklearn_and_leave_optunas_other_evaluators_working():
    """PED-ANOVA needs no scikit-learn (0.9 s to import); fANOVA, which does, still works."""
    import subprocess
    import sys

    code = """
import sys
import numpy as np
import optuna
from course_utils import tuning
from course_utils.chapters.ch10_tuning import runs_optuna
space = {"x": tuning.Param(0.0, 1.0), "y": tuning.Param(0.0, 1.0)}
configs = tuple({"x": i / 9, "y": (3 * i % 10) / 9} for i in range(10))
result = tuning.SearchResult(configs, np.array([c["x"] for c in configs]), "grid")
shares = runs_optuna.importances(result, space)
assert list(shares) == ["x", "y"] and "sklearn" not in sys.modules, (shares, "sklearn")
from optuna.importance import FanovaImportanceEvaluator, get_param_importances
optuna.logging.set_verbosity(optuna.logging.ERROR)
study = optuna.create_study(direction="maximize")
study.optimize(lambda t: t.suggest_float("x", 0, 1) + 0 * t.suggest_float("y", 0, 1), 12)
fanova = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=0))
assert "sklearn" in sys.modules and list(fanova)[0] == "x", fanova
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]


def test_two_processes_share_one_study(tmp_path):
    shared = runs_optuna.shared_study(tmp_path, workers=2, trials_each=4, seed=0)
    assert shared.per_worker == {0: 4, 1: 4} and shared.trials == 8
    assert 0 < shared.best_value <= 1
    again = runs_optuna.shared_study(tmp_path, workers=1, trials_each=2, seed=0)
    assert again.trials == 10  # the same study, found again in the same file


def test_the_objective_records_what_the_lessons_read(notebook):
    split, objective, _, records = notebook
    record = records[0]
    assert set(record) >= {"config", "epochs", "val_acc", "test_acc", "losses", "val_proba"}
    assert record["val_proba"].shape == (len(split.y_val), 10)
    np.testing.assert_allclose(record["test_proba"].sum(1), 1.0, rtol=1e-6)
    acc = (record["test_proba"].argmax(1) == split.y_test).mean()
    assert acc == pytest.approx(record["test_acc"], abs=1e-12)
    assert len(record["losses"]) == 22


def test_epoch_by_epoch_yields_one_score_per_epoch(notebook):
    _, objective, _, _ = notebook
    scores = list(objective.epoch_by_epoch({"lr": 0.2, "weight_decay": 1e-4}, epochs=3))
    assert len(scores) == 3 and scores[-1] > scores[0]
    assert list(objective.epoch_by_epoch({"lr": 1e4, "weight_decay": 1e3}, epochs=3))[-1] != 0.5


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: runs_selection.winners_curse([], [0], [0]), "records"),
        (lambda: runs_selection.ensemble([{"config": {}, "val_acc": 0.5}], [0]), "size"),
        (lambda: runs_selection.seed_spread(None, [{}], [0]), "evaluate"),
        (lambda: runs_selection.equal_models_bias(models=0), "models"),
        (lambda: runs_optuna.importances("x", SPACE), "SearchResult"),
        (lambda: runs_optuna.shared_study("/nonexistent/folder"), "folder"),
        (lambda: runs_optuna.shared_study(""), "folder must be the path"),
        (lambda: runs_optuna.pruned_search(lambda c: 0, SPACE, 3, 3), "TrainingObjective"),
    ],
)
def test_bad_arguments_are_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()
