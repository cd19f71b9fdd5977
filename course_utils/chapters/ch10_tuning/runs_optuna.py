"""Chapter 10 in practice with Optuna: pruning, hyperparameter importance, and one study
shared by several worker processes.

- :func:`pruned_search`: TPE with Optuna's ``SuccessiveHalvingPruner`` (asynchronous
  successive halving, Li et al., MLSys 2020), each trial reporting its validation accuracy
  after every epoch (``trial.report``) and stopped when the pruner says so;
- :func:`importances`: ``optuna.importance.get_param_importances`` (PED-ANOVA by default in
  the pinned Optuna) of a finished search;
- :func:`shared_study`: ``workers`` processes optimise one study through Optuna's storage (a
  journal file here; a database URL on a cluster), each seeing the others' trials.
"""

from __future__ import annotations

import math
import subprocess
import sys
from dataclasses import dataclass

import numpy as np

from course_utils.tuning import MAX_TRIALS, SearchResult, check_space
from course_utils.validation import check_directory, check_int, check_real

__all__ = [
    "Pruned",
    "pruned_search",
    "importances",
    "SharedStudy",
    "shared_study",
    "toy_score",
    "MAX_WORKERS",
]

#: At most this many worker processes in :func:`shared_study` (each imports Optuna, ~0.5 s,
#: and holds ~100 MB).
MAX_WORKERS = 8


def _quiet(optuna):
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # no time-stamped lines in outputs
    return level


@dataclass(frozen=True)
class Pruned:
    """:func:`pruned_search`: the trials, the epochs each ran, and which were pruned."""

    result: SearchResult  # score: last reported validation accuracy
    epochs: np.ndarray  # (n,) epochs each trial trained
    pruned: np.ndarray  # (n,) bool
    max_epochs: int

    @property
    def spent(self) -> int:
        return int(self.epochs.sum())

    @property
    def full_cost(self) -> int:
        return int(self.max_epochs * len(self.epochs))


def pruned_search(
    objective,
    space,
    budget: int,
    max_epochs: int,
    seed: int = 0,
    startup_trials: int = 5,
    min_epochs: int = 1,
    eta: int = 3,
) -> Pruned:
    """TPE search whose trials report after every epoch and are pruned by Optuna's
    ``SuccessiveHalvingPruner(min_resource=min_epochs, reduction_factor=eta)``: at epochs
    ``min_epochs * eta**k`` a trial continues only if it is in the top ``1/eta`` of the
    trials that reached that rung (Optuna's asynchronous version of successive halving).

    ``objective``: a :class:`~course_utils.chapters.ch10_tuning.runs_real.TrainingObjective`
    (its ``epoch_by_epoch`` trains one epoch at a time).
    """
    import optuna

    space = check_space(space)
    budget = check_int("budget", budget, 1, MAX_TRIALS)
    max_epochs = check_int("max_epochs", max_epochs, 1, 1000)
    seed = check_int("seed", seed, 0, 2**32 - 1)
    startup_trials = check_int("startup_trials", startup_trials, 1, MAX_TRIALS)
    min_epochs = check_int("min_epochs", min_epochs, 1, max_epochs)
    eta = check_int("eta", eta, 2, 100)
    if not hasattr(objective, "epoch_by_epoch"):
        raise ValueError(
            f"objective must be a TrainingObjective (with epoch_by_epoch); got {objective!r}"
        )
    configs, scores, epochs, pruned = [], [], [], []

    def run(trial):
        config = {n: trial.suggest_float(n, p.low, p.high, log=p.log) for n, p in space.items()}
        configs.append(config)
        done, score = 0, math.nan
        for epoch, score in enumerate(objective.epoch_by_epoch(config, max_epochs), start=1):
            done = epoch
            trial.report(0.0 if math.isnan(score) else score, epoch)
            if math.isnan(score) or trial.should_prune():
                break
        stopped = done < max_epochs
        scores.append(score)
        epochs.append(done)
        pruned.append(stopped)
        if stopped:
            raise optuna.TrialPruned()
        return score

    level = _quiet(optuna)
    try:
        study = optuna.create_study(
            direction="maximize",
            sampler=optuna.samplers.TPESampler(seed=seed, n_startup_trials=startup_trials),
            pruner=optuna.pruners.SuccessiveHalvingPruner(
                min_resource=min_epochs, reduction_factor=eta
            ),
        )
        study.optimize(run, n_trials=budget)
    finally:
        optuna.logging.set_verbosity(level)
    result = SearchResult(tuple(configs), np.array(scores, dtype=np.float64), "optuna tpe + sha")
    return Pruned(result, np.array(epochs), np.array(pruned), max_epochs)


class _SklearnOnUse:
    """Stands in for one of ``optuna.importance``'s deferred scikit-learn imports (its
    ``_imports``): imports ``RandomForestRegressor`` into that module when an evaluator that
    needs it (fANOVA, mean decrease impurity) is first built, as if the import had run."""

    def __init__(self, module):
        self._module = module

    def is_successful(self) -> bool:
        return True

    def check(self) -> None:
        from sklearn.ensemble import RandomForestRegressor

        self._module.RandomForestRegressor = RandomForestRegressor


def _optuna_importance():
    """``optuna.importance``, imported without scikit-learn.

    The package imports its fANOVA and mean-decrease-impurity evaluators, which import
    ``sklearn.ensemble`` at once (about 0.9 s); the default PED-ANOVA evaluator needs none of
    it. So the first import runs with scikit-learn hidden (Optuna defers a failed import of
    it), and the deferred imports are then replaced by ones that run on first use: every
    evaluator works as before, and scikit-learn is loaded only by the ones that use it.
    """
    if "optuna.importance" in sys.modules or "sklearn" in sys.modules:
        import optuna.importance

        return optuna.importance
    sys.modules["sklearn"] = None  # "import sklearn..." raises ImportError while this is here
    try:
        import optuna.importance
    finally:
        del sys.modules["sklearn"]
    for name in ("optuna.importance._fanova._fanova", "optuna.importance._mean_decrease_impurity"):
        module = sys.modules.get(name)
        deferred = getattr(module, "_imports", None)
        if deferred is not None and not deferred.is_successful():
            module._imports = _SklearnOnUse(module)
    return optuna.importance


def importances(result: SearchResult, space) -> dict:
    """``optuna.importance.get_param_importances`` of a finished search's trials (failed
    ones left out), with the pinned Optuna's default evaluator (PED-ANOVA, Watanabe et al.,
    IJCAI 2023: how differently a hyperparameter is distributed among the best 10% of the
    trials than among all of them). Shares sum to 1, largest first. Imports no scikit-learn
    (:func:`_optuna_importance`)."""
    import optuna
    from optuna.distributions import FloatDistribution

    importance = _optuna_importance()
    space = check_space(space)
    if not isinstance(result, SearchResult):
        raise ValueError(f"result must be a SearchResult; got {type(result).__name__}")
    if set(result.names) != set(space):
        raise ValueError(
            f"result's hyperparameters {result.names} are not the space's {tuple(space)}"
        )
    dists = {n: FloatDistribution(p.low, p.high, log=p.log) for n, p in space.items()}
    level = _quiet(optuna)
    try:
        study = optuna.create_study(direction="maximize")
        for config, score in zip(result.configs, result.scores):
            if math.isnan(score):
                continue
            inside = {n: min(max(config[n], dists[n].low), dists[n].high) for n in dists}
            study.add_trial(
                optuna.trial.create_trial(params=inside, distributions=dists, value=float(score))
            )
        if len(study.trials) < 2:
            raise ValueError("importances needs at least 2 finished trials")
        return dict(importance.get_param_importances(study))
    finally:
        optuna.logging.set_verbosity(level)


def toy_score(x: float, y: float) -> float:
    """A cheap score for the multi-process demo: a bump at (0.3, 0.7) on the unit square
    (``x``, ``y`` in [0, 1])."""
    x, y = check_real("x", x, 0.0, 1.0), check_real("y", y, 0.0, 1.0)
    return float(math.exp(-((x - 0.3) ** 2 + (y - 0.7) ** 2) / 0.02))


def _worker(path: str, name: str, trials: int, seed: int) -> None:
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    _quiet(optuna)
    storage = JournalStorage(JournalFileBackend(path))
    study = optuna.load_study(
        study_name=name, storage=storage, sampler=optuna.samplers.RandomSampler(seed=seed)
    )

    def objective(trial):
        trial.set_user_attr("worker", seed)
        return toy_score(trial.suggest_float("x", 0, 1), trial.suggest_float("y", 0, 1))

    study.optimize(objective, n_trials=trials)


@dataclass(frozen=True)
class SharedStudy:
    """:func:`shared_study`: trials per worker and the study's best, read back from storage."""

    per_worker: dict
    trials: int
    best_value: float


def shared_study(folder, workers: int = 2, trials_each: int = 4, seed: int = 0) -> SharedStudy:
    """Run ``workers`` processes on one Optuna study stored in ``folder/study.log`` (a
    ``JournalFileBackend``: a file, safe for processes on one machine; on a cluster, pass
    ``storage="postgresql://..."`` or ``"mysql://..."`` to ``create_study``/``load_study``
    instead). Each worker runs ``trials_each`` trials of :func:`toy_score`; the study holds
    all of them, whichever process ran them."""
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    folder = check_directory("folder", folder)
    workers = check_int("workers", workers, 1, MAX_WORKERS)
    trials_each = check_int("trials_each", trials_each, 1, 100)
    seed = check_int("seed", seed, 0, 2**31)
    path = str(folder / "study.log")
    level = _quiet(optuna)
    try:
        storage = JournalStorage(JournalFileBackend(path))
        name = f"shared-{seed}"
        optuna.create_study(
            study_name=name, storage=storage, direction="maximize", load_if_exists=True
        )
        # Separate interpreters, as on separate machines: each runs this module as a script.
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", __name__, path, name, str(trials_each), str(seed + w)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for w in range(workers)
        ]
        for p in procs:
            _, err = p.communicate(timeout=300)
            if p.returncode != 0:
                raise RuntimeError(f"a worker process failed: {err.decode()[-500:]}")
        study = optuna.load_study(study_name=name, storage=JournalStorage(JournalFileBackend(path)))
        done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
        per_worker = {}
        for t in done:
            w = t.user_attrs["worker"] - seed
            per_worker[w] = per_worker.get(w, 0) + 1
        return SharedStudy(dict(sorted(per_worker.items())), len(done), float(study.best_value))
    finally:
        optuna.logging.set_verbosity(level)


if __name__ == "__main__":  # a worker of shared_study: path, study name, trials, seed
    _worker(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
