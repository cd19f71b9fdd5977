"""Valid example calls of chapter 10's public callables, varied one argument at a time by
tests/test_fuzz.py."""

import tempfile

import numpy as np
from matplotlib.figure import Figure

from course_utils import halving as H
from course_utils import tuning as T
from course_utils.chapters.ch10_tuning import (
    checks,
    explorer,
    figures,
    runs,
    runs_optuna,
    runs_selection,
)

MODULES = [
    "course_utils.tuning",
    "course_utils.halving",
    "course_utils.chapters.ch10_tuning.runs",
    "course_utils.chapters.ch10_tuning.runs_real",
    "course_utils.chapters.ch10_tuning.runs_selection",
    "course_utils.chapters.ch10_tuning.runs_optuna",
    "course_utils.chapters.ch10_tuning.figures",
    "course_utils.chapters.ch10_tuning.explorer",
    "course_utils.chapters.ch10_tuning.checks",
]


class _Data:
    """60 training and 40 validation examples of 6 features, 3 classes."""

    _rng = np.random.default_rng(0)
    _x = _rng.normal(size=(100, 6)).astype(np.float32)
    _y = np.argmax(_x[:, :3], axis=1)
    x_train, y_train, x_val, y_val = _x[:60], _y[:60], _x[60:], _y[60:]
    num_classes = 3


def _bowl(config):
    return -((np.log10(config["lr"]) + 1.5) ** 2) - 0.01 * np.log10(config["weight_decay"]) ** 2


def _sampler(low, high, size, rng):
    if not 0 < low < high:
        raise ValueError("need 0 < low < high")
    return np.exp(rng.uniform(np.log(low), np.log(high), size))


_SPACE = {"lr": T.Param(1e-4, 1.0, log=True), "weight_decay": T.Param(1e-6, 1e-2, log=True)}
_RESULT = T.random_search(_bowl, _SPACE, budget=6, seed=0)
_SEARCH = T.coarse_to_fine(_bowl, _SPACE, budgets=(4, 4), top=2, seed=0)
_SPLIT = runs.hold_out_test(_Data, test_share=0.5, seed=0)
_OBJECTIVE = runs.training_objective(_SPLIT, depth=1, width=8, epochs=1, batch_size=32, seed=0)
for _lr in (0.05, 0.1, 0.2):
    _OBJECTIVE({"lr": _lr, "weight_decay": 1e-4})
_RECORDS = list(_OBJECTIVE.records[:3])
_HALVING = H.successive_halving(
    lambda c, b: c["lr"] * b, [{"lr": 0.1}, {"lr": 0.2}, {"lr": 0.3}], 1, 3, eta=3
)
_CURSE = runs_selection.winners_curse(_RECORDS, _SPLIT.y_val, _SPLIT.y_test, splits=10)
_SPREAD = runs_selection.seed_spread(_OBJECTIVE, [{"lr": 0.1, "weight_decay": 1e-4}], [0, 1])
_ENSEMBLE = runs_selection.ensemble(_RECORDS, _SPLIT.y_test, size=2)
_FOLDER = tempfile.mkdtemp(prefix="fuzz-ch10-")

CASES = [
    # the lesson
    (T.Param, dict(low=1e-4, high=1.0, log=True)),
    (T.Param(1e-4, 1.0, log=True).from_unit, dict(u=np.array([0.0, 0.5, 1.0]))),
    (T.Param(1e-4, 1.0, log=True).to_unit, dict(value=np.array([1e-3, 0.1]))),
    (T.check_space, dict(space=_SPACE)),
    (T.log_uniform, dict(low=1e-4, high=1.0, size=8, seed=0)),
    (T.log_uniform, dict(low=1e-4, high=1.0, size=8, seed=np.random.default_rng(0))),
    (T.decade_shares, dict(values=np.array([1e-4, 1e-3, 0.02, 0.5]), low=1e-4, high=1.0)),
    (T.grid_configs, dict(space=_SPACE, per_axis=3)),
    (T.random_configs, dict(space=_SPACE, budget=5, seed=0)),
    (
        T.run_search,
        dict(evaluate=_bowl, configs=[{"lr": 0.1, "weight_decay": 1e-4}], strategy="hand"),
    ),
    (T.grid_search, dict(evaluate=_bowl, space=_SPACE, per_axis=2)),
    (T.random_search, dict(evaluate=_bowl, space=_SPACE, budget=4, seed=0)),
    (T.refine_space, dict(space=_SPACE, result=_RESULT, top=3, margin=0.5)),
    (T.coarse_to_fine, dict(evaluate=_bowl, space=_SPACE, budgets=(4, 4), top=2, seed=0)),
    (T.edge_report, dict(space=_SPACE, result=_RESULT, edge=0.1)),
    (_RESULT.values, dict(name="lr")),
    (_RESULT.table, dict(top=3, digits=3, extra={"round": [1] * 6})),
    (_RESULT.best_so_far, dict()),
    # the chapter's runs
    (
        runs.bergstra_objective,
        dict(x=np.array([0.2, 0.5]), y=np.array([0.1, 0.9]), peak=0.5, width=0.08, weight=0.1),
    ),
    (runs.grid_vs_random, dict(budget=9, repeats=5, width=0.08, seed=0)),
    (
        runs.synthetic_search,
        dict(strategy="coarse-to-fine", budget=9, seed=0, peak=0.36, width=0.08, weight=0.1),
    ),
    (runs.hold_out_test, dict(data=_Data, test_share=0.5, seed=0)),
    (runs.training_objective, dict(data=_SPLIT, depth=1, width=8, epochs=1, batch_size=32, seed=0)),
    (runs.TrainingObjective, dict(data=_SPLIT, depth=1, width=8, epochs=1, batch_size=32, seed=0)),
    (_OBJECTIVE, dict(config={"lr": 0.1, "weight_decay": 1e-4})),
    (
        runs.optuna_search,
        dict(evaluate=_bowl, space=_SPACE, budget=4, sampler="tpe", seed=0, startup_trials=2),
    ),
    (_OBJECTIVE.train, dict(config={"lr": 0.1, "weight_decay": 1e-4}, epochs=1, seed=0)),
    (_OBJECTIVE.epoch_by_epoch, dict(config={"lr": 0.1, "weight_decay": 1e-4}, epochs=1)),
    # successive halving, Hyperband, the 3x rule
    (
        H.successive_halving,
        dict(
            evaluate=lambda c, b: c["lr"] * b,
            configs=[{"lr": 0.1}, {"lr": 0.2}],
            min_budget=1,
            max_budget=3,
            eta=3,
        ),
    ),
    (H.hyperband_brackets, dict(max_budget=9, eta=3)),
    (H.hyperband_table, dict(max_budget=9, eta=3)),
    (H.first_blowup, dict(losses=np.array([2.0, 1.0, 7.0]), factor=3.0)),
    (_HALVING.table, dict(digits=3)),
    # the winner's curse, seeds, ensembles
    (
        runs_selection.winners_curse,
        dict(records=_RECORDS, y_val=_SPLIT.y_val, y_test=_SPLIT.y_test, splits=10, seed=0),
    ),
    (
        runs_selection.seed_spread,
        dict(evaluate=_OBJECTIVE, configs=[{"lr": 0.1, "weight_decay": 1e-4}], seeds=[0, 1]),
    ),
    (runs_selection.ensemble, dict(records=_RECORDS, y_test=_SPLIT.y_test, size=2)),
    (
        runs_selection.equal_models_bias,
        dict(models=4, accuracy=0.9, n_val=50, repeats=100, seed=0),
    ),
    (_CURSE.table, dict()),
    (_SPREAD.table, dict(labels=["a"])),
    (_SPREAD.rank_changes, dict()),
    (_ENSEMBLE.table, dict()),
    # Optuna in practice
    (
        runs_optuna.pruned_search,
        dict(
            objective=_OBJECTIVE,
            space=_SPACE,
            budget=3,
            max_epochs=3,
            seed=0,
            startup_trials=2,
            min_epochs=1,
            eta=3,
        ),
    ),
    (runs_optuna.importances, dict(result=_RESULT, space=_SPACE)),
    (runs_optuna.toy_score, dict(x=0.3, y=0.7)),
    (runs_optuna.shared_study, dict(folder=_FOLDER, workers=1, trials_each=1, seed=0)),
    # figures
    (
        figures.SearchView,
        dict(
            figure=Figure(),
            rect=(0.07, 0.12, 0.5, 0.8),
            title="t",
            peak=0.36,
            width=0.08,
            weight=0.1,
            animated=False,
        ),
    ),
    (figures.plot_grid_vs_random, dict(budget=9, seed=0, peak=0.36, figsize=(4.0, 2.0), dpi=50)),
    (
        figures.plot_sampling_scales,
        dict(low=1e-4, high=1.0, n=20, seed=0, figsize=(4.0, 1.5), dpi=50),
    ),
    (
        figures.plot_search_scatter,
        dict(result=_SEARCH.combined, rounds=_SEARCH.round_of_trial, figsize=(4.0, 2.0), dpi=50),
    ),
    (figures.plot_best_so_far, dict(results={"random": _RESULT}, figsize=(4.0, 2.0), dpi=50)),
    # the explorer
    (
        explorer.search_explorer,
        dict(
            strategy="random",
            budget=9,
            seed=0,
            peak=0.36,
            width=0.08,
            weight=0.1,
            figsize=(6.0, 2.5),
            dpi=50,
        ),
    ),
    (explorer.SearchExplorer, dict(strategy="grid", budget=9, seed=0, figsize=(6.0, 2.5), dpi=50)),
    # visible checks
    (checks.log_uniform_range_mistake, dict(low=1e-3, high=1.0, lo=-6.9, hi=0.0)),
    (checks.check_log_uniform, dict(sample_log_uniform=_sampler)),
]

EXEMPT = {T.combine: "takes the results as *args only (tests/test_tuning.py checks them)"}
