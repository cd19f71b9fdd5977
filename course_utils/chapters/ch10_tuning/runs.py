"""Chapter 10's seeded runs: Bergstra & Bengio rebuilt, the explorer's search, and a real
search of a small MLP (by hand and with Optuna).

- :func:`bergstra_objective`, :func:`grid_vs_random`: one important and one unimportant
  hyperparameter, the same budget for grid and random search (Bergstra & Bengio, JMLR 2012);
- :func:`synthetic_search`: one grid, random or coarse-to-fine search of that objective (the
  explorer's compute function and the classic figure's);
- :func:`hold_out_test`, :func:`training_objective`: the real thing, a small MLP trained on the
  course's data with :mod:`course_utils.training`; :func:`optuna_search`: the same objective
  searched by Optuna (Akiba et al., KDD 2019) with its random or its TPE sampler (Bergstra et
  al., NeurIPS 2011).
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from course_utils.tables import format_table
from course_utils.tuning import (
    MAX_TRIALS,
    Param,
    SearchResult,
    check_space,
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
    budget: int = 9, repeats: int = 100, width: float = 0.08, weight: float = 0.1, seed: int = 0
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
    """
    budget = check_int("budget", budget, 4, MAX_TRIALS)
    k = math.isqrt(budget)
    if k * k != budget:
        raise ValueError(f"budget must be a perfect square (a k x k grid); got {budget}")
    repeats = check_int("repeats", repeats, 1, MAX_REPEATS)
    if repeats * budget > 10**7:
        raise ValueError(f"repeats * budget must be at most 10,000,000; got {repeats * budget:,}")
    bergstra_objective(0.5, 0.5, 0.5, width, weight)  # checks width and weight
    rng = make_rng(seed)
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
        random_best[i] = bergstra_objective(
            points[i, :, 0], points[i, :, 1], peak, width, weight
        ).max()
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
    test_share = check_real("test_share", test_share)
    if not 0 < test_share < 1:
        raise ValueError(f"test_share must be strictly between 0 and 1; got {test_share!r}")
    rng = make_rng(seed)
    y = np.asarray(data.y_val)
    test = np.zeros(len(y), dtype=bool)
    for label in np.unique(y):
        members = rng.permutation(np.flatnonzero(y == label))
        test[members[: int(round(test_share * len(members)))]] = True
    if test.all() or not test.any():
        raise ValueError("the validation data is too small to split")
    x = np.asarray(data.x_val)
    num_classes = int(getattr(data, "num_classes", int(np.max(data.y_train)) + 1))
    return HeldOut(
        np.asarray(data.x_train),
        np.asarray(data.y_train),
        x[~test],
        y[~test],
        x[test],
        y[test],
        num_classes,
    )


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

    def __init__(
        self,
        data,
        depth: int = 1,
        width: int = 32,
        epochs: int = 2,
        batch_size: int = 128,
        optimizer: str = "momentum",
        seed: int = 0,
        threads: int = 1,
    ):
        from course_utils import training

        training.check_data(data)  # the splits train needs, checked as train checks them
        self.threads = check_int("threads", threads, 1, 64)
        self.in_features = int(np.shape(data.x_train)[1])
        self.num_classes = int(getattr(data, "num_classes", int(np.max(data.y_train)) + 1))
        training.build_mlp(
            self.in_features, self.num_classes, depth=depth, width=width, seed=seed
        )  # checks depth, width and seed
        self.epochs = check_int("epochs", epochs, 1, 1000)
        self.batch_size = check_int("batch_size", batch_size, 1, 10**6)
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
            raise ValueError(
                f"config must be a dict with the keys lr and weight_decay; got {config!r}"
            )
        model = training.build_mlp(
            self.in_features, self.num_classes, depth=self.depth, width=self.width, seed=self.seed
        )
        history = training.train(
            model,
            self.data,
            optimizer=self.optimizer,
            lr=config["lr"],
            epochs=self.epochs,
            batch_size=self.batch_size,
            seed=self.seed,
            progress=False,
            threads=self.threads,
            weight_decay=config["weight_decay"],
        )
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


def optuna_search(
    evaluate: Callable,
    space,
    budget: int,
    sampler: str = "tpe",
    seed: int = 0,
    startup_trials: int = 10,
) -> SearchResult:
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
    budget = check_int("budget", budget, 1, MAX_TRIALS)
    seed = check_int("seed", seed, 0, 2**32 - 1)
    startup_trials = check_int("startup_trials", startup_trials, 1, MAX_TRIALS)
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
        config = {
            name: trial.suggest_float(name, p.low, p.high, log=p.log) for name, p in space.items()
        }
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
