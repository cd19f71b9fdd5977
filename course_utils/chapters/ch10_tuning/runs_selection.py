"""Chapter 10: what a search's winner is worth, measured on the models it trained.

- :func:`winners_curse`: how much of the chosen model's validation-test gap is selection and
  how much is the luck of one split, by re-splitting the held-out examples many times (the
  models stay fixed: no training);
- :func:`seed_spread`: the best configurations retrained with other seeds, and what seed
  noise does to their ranking;
- :func:`ensemble`: the best models' averaged class probabilities against each of them;
- :func:`equal_models_bias`: the winner's curse at its worst, when every model is equally
  good and only the validation noise picks the winner (simulated, no training).

They read a :class:`~course_utils.chapters.ch10_tuning.runs_real.TrainingObjective`'s
``records`` (class probabilities on the validation and test parts), never the test labels
to choose anything.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils.tables import format_table
from course_utils.validation import check_array, check_int, check_real, check_sequence, make_rng

__all__ = [
    "WinnersCurse",
    "winners_curse",
    "SeedSpread",
    "seed_spread",
    "Ensemble",
    "ensemble",
    "equal_models_bias",
    "MAX_SPLITS",
]

#: At most this many re-splits in :func:`winners_curse` (each is a few matrix products of
#: the trials' 0/1 correctness: 100,000 are seconds).
MAX_SPLITS = 100_000


def _trained(records) -> list:
    records = check_sequence("records", records, min_len=1, max_len=10_000)
    for i, r in enumerate(records):
        if not isinstance(r, dict) or not {"val_acc", "config"} <= set(r):
            raise ValueError(
                f"records[{i}] must be a record of a TrainingObjective (a dict with config, "
                f"val_acc, ...); got {type(r).__name__}"
            )
    return [i for i, r in enumerate(records) if r.get("val_proba") is not None]


def _probas(records, used, part: str, n_rows: int) -> np.ndarray:
    out = []
    for i in used:
        p = check_array(f"records[{i}]['{part}_proba']", records[i][f"{part}_proba"], ndim=2)
        if len(p) != n_rows:
            raise ValueError(
                f"records[{i}]['{part}_proba'] has {len(p)} rows; y_{part} has {n_rows}"
            )
        out.append(p)
    return np.stack(out)


def _labels(name: str, y) -> np.ndarray:
    y = check_array(name, y, ndim=1, limit=10**6)
    if not np.all(y == np.round(y)) or y.min() < 0:
        raise ValueError(f"{name} must hold class labels (integers >= 0)")
    return y.astype(np.int64)


@dataclass(frozen=True)
class WinnersCurse:
    """:func:`winners_curse`'s measurements, in accuracy points (percent).

    ``chosen_gap``: validation minus test accuracy of the model chosen on the real split;
    ``others_gap``: the same, averaged over the other models (nobody chose them on this
    split's validation part, so it is the split's own difference); ``resplit_winner_gaps``:
    the chosen model's gap on each random re-split (its mean is the selection bias);
    ``resplit_model_gap``: every model's gap averaged over all re-splits (about 0: no split
    is harder on average); ``models``: how many trained models took part.
    """

    chosen_gap: float
    others_gap: float
    resplit_winner_gaps: np.ndarray
    resplit_model_gap: float
    models: int

    def table(self) -> str:
        gaps = self.resplit_winner_gaps
        return format_table(
            {
                "val - test (points)": [
                    f"{self.chosen_gap:.1f}",
                    f"{self.others_gap:.1f}",
                    f"{gaps.mean():.1f} (sd {gaps.std():.1f})",
                    f"{self.resplit_model_gap:.1f}",
                ]
            },
            index=[
                "the model chosen on validation (this split)",
                f"the other {self.models - 1} models (this split)",
                f"the model chosen, {len(gaps)} random re-splits",
                "any model, averaged over the re-splits",
            ],
            index_name="accuracy gap of",
        )


def winners_curse(records, y_val, y_test, splits: int = 2000, seed: int = 0) -> WinnersCurse:
    """Separate the winner's curse from the luck of one validation/test split.

    The models are fixed once trained, so their correctness on every held-out example is
    known. Pool the validation and test examples (``V + T`` of them); ``splits`` times, draw a
    new random split of the pool into ``V`` validation and ``T`` test examples, choose the
    model with the best validation accuracy (the first on ties), and record its validation
    minus test accuracy. Averaged over splits, a model that nobody chose has a gap of 0; the
    chosen one's average gap is the selection bias (the expected maximum of noisy scores
    exceeds the maximum of their means).

    Parameters
    ----------
    records : list of dict
        ``TrainingObjective.records`` of the search (failed trials are skipped).
    y_val, y_test : array_like of int, shapes (V,), (T,)
        The labels the records' ``val_proba`` and ``test_proba`` rows belong to.
    splits : int
        1 to :data:`MAX_SPLITS` re-splits.
    seed : int
        Fixes the re-splits.
    """
    used = _trained(records)
    if len(used) < 2:
        raise ValueError("winners_curse needs at least 2 trained models (with val_proba)")
    y_val, y_test = _labels("y_val", y_val), _labels("y_test", y_test)
    splits = check_int("splits", splits, 1, MAX_SPLITS)
    rng = make_rng(seed)
    pv, pt = _probas(records, used, "val", len(y_val)), _probas(records, used, "test", len(y_test))
    correct = np.concatenate([pv.argmax(2) == y_val, pt.argmax(2) == y_test], axis=1)
    correct = correct.astype(np.float64)  # (models, V + T)
    n_val, pool = len(y_val), len(y_val) + len(y_test)
    val_acc, test_acc = correct[:, :n_val].mean(1), correct[:, n_val:].mean(1)
    chosen = int(np.argmax(val_acc))
    gaps = 100 * (val_acc - test_acc)
    winner_gaps = np.empty(splits)
    model_gaps = np.zeros(len(used))
    for s in range(splits):
        in_val = np.zeros(pool, dtype=bool)
        in_val[rng.permutation(pool)[:n_val]] = True
        v = correct[:, in_val].mean(1)
        t = correct[:, ~in_val].mean(1)
        model_gaps += v - t
        best = int(np.argmax(v))
        winner_gaps[s] = 100 * (v[best] - t[best])
    return WinnersCurse(
        float(gaps[chosen]),
        float(np.delete(gaps, chosen).mean()),
        winner_gaps,
        float(100 * model_gaps.mean() / splits),
        len(used),
    )


@dataclass(frozen=True)
class SeedSpread:
    """:func:`seed_spread`: ``scores[i, j]`` is config ``i`` trained with ``seeds[j]``."""

    configs: tuple
    seeds: tuple
    scores: np.ndarray

    def rank_changes(self) -> float:
        """Share of seeds whose best config is not the config best on the seeds' mean."""
        best_on_mean = int(np.argmax(self.scores.mean(1)))
        return float(np.mean(self.scores.argmax(0) != best_on_mean))

    def table(self, labels=None) -> str:
        labels = labels or [f"config {i + 1}" for i in range(len(self.configs))]
        labels = check_sequence("labels", labels, min_len=len(self.configs))
        columns = {f"seed {s}": self.scores[:, j] for j, s in enumerate(self.seeds)}
        columns["mean"] = self.scores.mean(1)
        columns["sd"] = (
            self.scores.std(1, ddof=1) if len(self.seeds) > 1 else np.zeros(len(self.configs))
        )
        return format_table(columns, index=list(labels[: len(self.configs)]), index_name="config")


def seed_spread(evaluate, configs, seeds) -> SeedSpread:
    """Score every config with every seed: ``evaluate(config, seed=s)`` (e.g. a
    :class:`~course_utils.chapters.ch10_tuning.runs_real.TrainingObjective`, whose seed
    fixes the initial weights and the minibatch order)."""
    if not callable(evaluate):
        raise ValueError(
            f"evaluate must be a function (config, seed=...) -> score; got {evaluate!r}"
        )
    configs = tuple(dict(c) for c in check_sequence("configs", configs, min_len=1, max_len=50))
    seeds = tuple(
        check_int(f"seeds[{j}]", s, 0, 2**32 - 1)
        for j, s in enumerate(check_sequence("seeds", seeds, min_len=1, max_len=50))
    )
    scores = np.array([[float(evaluate(dict(c), seed=s)) for s in seeds] for c in configs])
    return SeedSpread(configs, seeds, scores)


@dataclass(frozen=True)
class Ensemble:
    """:func:`ensemble`: test accuracy of each member and of their averaged probabilities."""

    members: tuple  # record indices, best validation first
    member_test: np.ndarray
    ensemble_test: float

    def table(self) -> str:
        names = [f"trial {i + 1}" for i in self.members] + [f"average of the {len(self.members)}"]
        return format_table(
            {"test accuracy": [*self.member_test, self.ensemble_test]},
            index=names,
            index_name="model",
        )


def ensemble(records, y_test, size: int = 3) -> Ensemble:
    """Average the class probabilities of the ``size`` models best on *validation* and
    compare the average's test accuracy with each member's (a model ensemble: the members'
    errors differ, so averaging cancels part of them)."""
    used = _trained(records)
    size = check_int("size", size, 1, 100)
    if len(used) < size:
        raise ValueError(f"size must be at most the {len(used)} trained models; got {size}")
    y_test = _labels("y_test", y_test)
    order = sorted(used, key=lambda i: (-records[i]["val_acc"], i))[:size]
    probas = _probas(records, order, "test", len(y_test))
    member = (probas.argmax(2) == y_test).mean(1)
    together = float((probas.mean(0).argmax(1) == y_test).mean())
    return Ensemble(tuple(order), member, together)


def equal_models_bias(
    models: int = 16, accuracy: float = 0.9, n_val: int = 227, repeats: int = 10_000, seed: int = 0
) -> tuple[float, float]:
    """Expected best validation accuracy minus the true one, in points, when ``models``
    models all have true accuracy ``accuracy`` and make independent errors on ``n_val``
    validation examples (each validation accuracy ~ Binomial(n_val, accuracy) / n_val).

    Returns ``(mean, sd)`` over ``repeats`` simulated searches. The mean grows like the
    expected maximum of ``models`` normal draws, about ``sd_val * sqrt(2 ln models)`` with
    ``sd_val = sqrt(accuracy (1 - accuracy) / n_val)``.
    """
    models = check_int("models", models, 1, 10_000)
    n_val = check_int("n_val", n_val, 1, 10**7)
    repeats = check_int("repeats", repeats, 1, 10**6)
    if models * repeats > 10**8:
        raise ValueError(f"models * repeats must be at most 10**8; got {models * repeats:,}")
    accuracy = check_real("accuracy", accuracy, 0.0, 1.0)
    rng = make_rng(seed)
    best = rng.binomial(n_val, accuracy, size=(repeats, models)).max(1) / n_val
    excess = 100 * (best - accuracy)
    return float(excess.mean()), float(excess.std())
