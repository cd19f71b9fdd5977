"""Chapter 07's study results: what :mod:`.runs_gap`'s side-by-side runs return.

:class:`GapStudy` holds :func:`~.runs_gap.gap_over_seeds`'s final accuracies over seeds and
reads the notebook's numbers off them: the mean +- standard deviation table of the
train/validation gap (from integer counts, so the digits do not depend on the machine's
summation order), the per-seed differences against the baseline and early stopping's best
epoch on the mean validation curve. :class:`PenaltyStudy` holds
:func:`~.runs_gap.penalty_study`'s weights and accuracies, one entry per penalty (the weight
histograms).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from course_utils.tables import format_table

__all__ = ["GapStudy", "PenaltyStudy"]


@dataclass(frozen=True)
class GapStudy:
    """Final accuracies of :func:`gap_over_seeds`: one row per (label noise, regulariser),
    one column per seed.

    Attributes
    ----------
    rows : tuple of (float, str)
        ``(label_noise, name)`` of each row.
    seeds : tuple of int
    train_acc, val_acc : ndarray, (rows, seeds)
        Accuracy on the run's own (noisy) training labels and on the 450 validation digits,
        after the last step.
    settings : dict
        The training settings shared by every run.
    val_history : ndarray, (rows, seeds, evaluations)
        Validation accuracy after each epoch of ``history_epochs`` (the last is ``val_acc``);
        NaN before the last epoch for the rows that were not tracked.
    history_epochs : tuple of int
    """

    rows: tuple
    seeds: tuple
    train_acc: np.ndarray
    val_acc: np.ndarray
    settings: dict
    val_history: np.ndarray
    history_epochs: tuple

    def best_epoch(self, label_noise: float, name: str) -> tuple:
        """Early stopping on the mean curve: ``(epoch, mean validation accuracy)`` where the
        seeds' mean validation accuracy of row ``(label_noise, name)`` is highest (the
        first such epoch), from the integer counts of correct examples."""
        history = self.val_history[self._row(label_noise, name)]
        if np.isnan(history).any():
            raise ValueError(f"the row ({label_noise!r}, {name!r}) was not tracked (see track=)")
        counts = np.rint(history * self.settings["n_val"])
        totals = counts.sum(axis=0)  # exact integer sums over the seeds, one per evaluation
        best = int(np.argmax(totals))
        return self.history_epochs[best], float(
            totals[best] / (len(counts) * self.settings["n_val"])
        )

    @property
    def gap(self) -> np.ndarray:
        """Training minus validation accuracy, (rows, seeds)."""
        return self.train_acc - self.val_acc

    def _row(self, label_noise: float, name: str) -> int:
        try:
            return self.rows.index((label_noise, name))
        except ValueError:
            raise ValueError(f"no row ({label_noise!r}, {name!r}); rows: {self.rows}") from None

    def names(self, label_noise: float) -> list:
        """The regularisers run at ``label_noise``, in order."""
        return [name for noise, name in self.rows if noise == label_noise]

    def fewer(
        self, label_noise: float, name: str, baseline: str = "none", what: str = "gap"
    ) -> np.ndarray:
        """Per seed, ``what`` (``"gap"``, ``"train_acc"``, ``"val_acc"``) of ``name`` minus
        that of ``baseline``: the same seed, the same data, the same step."""
        if what not in ("gap", "train_acc", "val_acc"):
            raise ValueError(f"what must be 'gap', 'train_acc' or 'val_acc'; got {what!r}")
        values = getattr(self, what)
        return values[self._row(label_noise, name)] - values[self._row(label_noise, baseline)]

    def table(self, label_noise: float) -> str:
        """Mean +- standard deviation over the seeds, two decimals, one row per regulariser.

        Computed from the integer counts of correct examples, so the same accuracies give
        the same digits whatever the summation order of the machine.
        """
        index = [i for i, (noise, _) in enumerate(self.rows) if noise == label_noise]
        if not index:
            raise ValueError(f"no runs with label_noise {label_noise!r}")
        n_train, n_val = self.settings["n_train"], self.settings["n_val"]

        def cells(counts, n):
            return [f"{_mean(c) / n:.2f} ± {_sd(c) / n:.2f}" for c in counts]

        train = np.rint(self.train_acc[index] * n_train).astype(np.int64)
        val = np.rint(self.val_acc[index] * n_val).astype(np.int64)
        gap = train * n_val - val * n_train  # in units of 1 / (n_train * n_val)
        return format_table(
            {
                "train acc": cells(train, n_train),
                "val acc": cells(val, n_val),
                "gap": cells(gap, n_train * n_val),
            },
            index=[self.rows[i][1] for i in index],
            index_name="regulariser",
        )


def _mean(counts) -> float:
    """Mean of integers: an exact integer sum, one rounding."""
    return sum(int(c) for c in counts) / len(counts)


def _sd(counts) -> float:
    """Sample standard deviation of integers: exact integer sums, then one division and sqrt."""
    m, total = len(counts), sum(int(c) for c in counts)
    return math.sqrt((m * sum(int(c) ** 2 for c in counts) - total**2) / (m * (m - 1)))


# ------------------------------------------------------------------ penalties side by side
@dataclass(frozen=True)
class PenaltyStudy:
    """Weights and accuracies of :func:`penalty_study`, one entry per setting, in order.

    Attributes
    ----------
    names : tuple of str
    weights : dict of str -> list of ndarray
        Each run's weight matrices in torch's (out, in) layout, float64 (biases left out).
    train_acc, val_acc : dict of str -> float
    settings : dict
        The training settings shared by every run.
    """

    names: tuple
    weights: dict
    train_acc: dict
    val_acc: dict
    settings: dict
