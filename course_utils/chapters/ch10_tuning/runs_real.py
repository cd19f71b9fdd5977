"""Chapter 10's real search: a small MLP trained on the course's data, three data splits,
and the same objective searched by Optuna.

- :func:`hold_out_test`: train / validation / test, the test part set aside;
- :func:`training_objective`: ``evaluate(config) -> validation accuracy`` of a small MLP
  trained with :mod:`course_utils.training`; it records what the later lessons read (test
  accuracy, held-out class probabilities, the minibatch losses), never used to choose;
- :func:`optuna_search`: the same objective searched by Optuna (Akiba et al., KDD 2019) with
  its random or its TPE sampler (Bergstra et al., NeurIPS 2011; multivariate, as in BOHB).
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np

from course_utils.tuning import MAX_TRIALS, SearchResult, check_space
from course_utils.validation import check_int, check_real, make_rng

__all__ = [
    "HeldOut",
    "hold_out_test",
    "TrainingObjective",
    "training_objective",
    "optuna_search",
]


@dataclass(frozen=True)
class HeldOut:
    """Data split three ways: train (fit), validation (choose), test (report once).

    ``x_*``: (N, D) float32; ``y_*``: (N,) int64; ``num_classes``: int.
    """

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
    The split is random (seeded) and stratified by class. The features are returned as
    float32, the precision :mod:`course_utils.training` trains in (the same values it would
    round them to), so that no trial converts them again (``torch.as_tensor`` from float64
    costs about 0.7 ms an array, a third of a two-epoch trial).
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
    x = np.asarray(data.x_val, dtype=np.float32)
    num_classes = int(getattr(data, "num_classes", int(np.max(data.y_train)) + 1))
    return HeldOut(
        np.asarray(data.x_train, dtype=np.float32),
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

    ``"sgd"`` and ``"momentum"`` train with :class:`course_utils.lean_sgd.LeanSGD`, which
    takes ``torch.optim.SGD``'s steps bit for bit without importing ``torch.optim``.

    Every call is appended to ``records``, a dict with ``config``, ``epochs``, ``val_acc``,
    ``losses`` (the minibatch losses, for CS231n's early-stopping rule) and, when ``data``
    has ``x_test`` (as :func:`hold_out_test` gives), ``test_acc`` and the class
    probabilities ``val_proba (V, C)`` and ``test_proba (T, C)``: recorded for the lessons on
    selection bias and ensembles, never used to choose.
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

    def train(self, config, epochs: int | None = None, seed: int | None = None):
        """Train one model for ``config`` (``epochs`` and ``seed`` default to the
        objective's); return ``(model, history)``."""
        from course_utils import training
        from course_utils.lean_sgd import lean_optimizer

        if not isinstance(config, Mapping) or set(config) != {"lr", "weight_decay"}:
            raise ValueError(
                f"config must be a dict with the keys lr and weight_decay; got {config!r}"
            )
        epochs = self.epochs if epochs is None else check_int("epochs", epochs, 1, 1000)
        seed = self.seed if seed is None else check_int("seed", seed, 0, 2**32 - 1)
        lr = check_real("lr", config["lr"], 0.0, low_open=True)
        weight_decay = check_real("weight_decay", config["weight_decay"], 0.0)
        model = training.build_mlp(
            self.in_features, self.num_classes, depth=self.depth, width=self.width, seed=seed
        )
        if self.optimizer in ("sgd", "momentum"):
            optimizer, extra = lean_optimizer(self.optimizer, lr, weight_decay), {}
        else:
            optimizer, extra = self.optimizer, {"weight_decay": weight_decay}
        history = training.train(
            model,
            self.data,
            optimizer=optimizer,
            lr=lr,
            epochs=epochs,
            batch_size=self.batch_size,
            seed=seed,
            eval_every="end",  # only the last evaluation is read: skip the others
            progress=False,
            threads=self.threads,
            **extra,
        )
        self.calls += 1
        return model, history

    def __call__(self, config, epochs: int | None = None, seed: int | None = None) -> float:
        """Train for ``config`` and return the last validation accuracy (NaN if diverged)."""
        model, history = self.train(config, epochs, seed)
        score = float("nan") if history.diverged else float(history.final()["val_acc"])
        record = {
            "config": dict(config),
            "epochs": self.epochs if epochs is None else int(epochs),
            "val_acc": score,
            "test_acc": None,
            "losses": np.asarray(history.step_loss, dtype=np.float64),
        }
        if hasattr(self.data, "x_test") and not history.diverged:
            record.update(self._held_out(model))
        self.records.append(record)
        return score

    def epoch_by_epoch(self, config, epochs: int | None = None):
        """Train one model for ``config`` one epoch at a time, yielding the validation
        accuracy after each epoch (NaN once diverged): what a pruner reads to stop a trial
        early. The optimiser (with its momentum) lives across epochs; epoch ``e`` shuffles
        the examples with seed ``seed + e``. Nothing is added to ``records``."""
        from course_utils import training
        from course_utils.lean_sgd import LeanSGD

        epochs = self.epochs if epochs is None else check_int("epochs", epochs, 1, 1000)
        lr = check_real("lr", config["lr"], 0.0, low_open=True)
        weight_decay = check_real("weight_decay", config["weight_decay"], 0.0)
        if self.optimizer not in ("sgd", "momentum"):
            raise ValueError(f"epoch_by_epoch trains with sgd or momentum; got {self.optimizer!r}")
        model = training.build_mlp(
            self.in_features, self.num_classes, depth=self.depth, width=self.width, seed=self.seed
        )
        momentum = 0.9 if self.optimizer == "momentum" else 0.0
        opt = LeanSGD(model.parameters(), lr, momentum=momentum, weight_decay=weight_decay)
        for epoch in range(epochs):
            history = training.train(
                model,
                self.data,
                optimizer=lambda params: opt,
                epochs=1,
                batch_size=self.batch_size,
                seed=self.seed + epoch,
                eval_every="end",  # the pruner reads the score after the epoch only
                progress=False,
                threads=self.threads,
            )
            self.calls += 1
            if history.diverged:
                yield float("nan")
                return
            yield float(history.final()["val_acc"])

    def _held_out(self, model) -> dict:
        import torch

        from course_utils.training import evaluate, torch_threads

        with torch_threads(self.threads):  # as fast as training, and the same on every machine
            out = {"test_acc": evaluate(model, self.data.x_test, self.data.y_test)[1]}
        model.eval()
        with torch.no_grad(), torch_threads(self.threads):
            for part in ("val", "test"):
                x = torch.as_tensor(
                    np.asarray(getattr(self.data, f"x_{part}")), dtype=torch.float32
                )
                out[f"{part}_proba"] = torch.softmax(model(x), dim=1).numpy().astype(np.float64)
        return out


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
    ``ceil(0.1 n)`` (at most 25) and the rest, fits a kernel density to each, l(x) and g(x),
    and tries the candidate (of 24 drawn from l) with the largest l(x)/g(x). In the pinned
    Optuna (5.0) the densities are multivariate by default for one objective (a product
    kernel over all hyperparameters, as in BOHB, Falkner et al., ICML 2018), not one per
    hyperparameter as in the 2011 paper. Optuna's log messages are
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
