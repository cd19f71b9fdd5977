"""Chapter 09's claims checked over seeds: CS231n's "high learning rate" curve against the good
one, seed by seed, and the share of dead ReLU units tracked during training.

- :data:`HIGH_LR`: the fifth classic curve's setting (lr 0.1, ten times the good rate);
- :func:`high_lr_claims` -> :class:`HighLrClaims`: "a high learning rate decays the loss
  faster, but gets stuck at a worse value" (CS231n), each part checked on every seed, paired
  with the good run of the same seed (same initial weights, same minibatches);
- :func:`dead_units`: the share of hidden units that are silent on every validation example,
  at the start, after one epoch and at the end (:attr:`SeedRuns.dead_share`);
- :func:`check_paired`: two :class:`SeedRuns` comparable seed by seed (the figure is
  :func:`~course_utils.chapters.ch09_monitoring.figures.plot_high_lr`).

The high-rate runs are chaotic after a few dozen steps (as chapter 09's lr 1.0 is from the
start): which seed ends best differs between CPUs. What is printed is therefore either exact
where it is (the first steps, before rounding has grown) or a claim at a stated strength that
holds with a margin ("higher in at least 8 of 10 seeds"), never a chaotic run's decimals.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils.monitoring import ema
from course_utils.seed_runs import SeedRuns, median_range
from course_utils.tables import format_table
from course_utils.validation import check_int, check_mapping, check_real

__all__ = [
    "HIGH_LR",
    "HighLrClaims",
    "high_lr_claims",
    "dead_units",
    "dead_unit_claims",
    "check_paired",
    "MOST",
    "LOSS_RATIO",
    "ACCURACY_POINTS",
    "HIGH_DEAD",
]

#: CS231n's "high learning rate": ten times the good rate (0.01), ten times below lr 1.0.
HIGH_LR = dict(lr=0.1)
#: "Most seeds": the share of seeds a claim must hold in when single runs are chaotic.
MOST = 0.8
#: The high rate's last-epoch loss is claimed to be at least this many times the good one's
#: (median over seeds; measured about 2 to 2.7 on AVX-512 and SSE4 CPUs).
LOSS_RATIO = 1.5
#: ... and its final validation accuracy at least this much lower (median; measured 2.8 and
#: 5.2 points).
ACCURACY_POINTS = 0.01
#: The high rate's first layer is claimed to end with more than this share of its units dead
#: in every seed (measured 25% to 72%; the good rate's never exceeds 8%).
HIGH_DEAD = 0.2


def check_paired(high, good):
    """Refuse two runs that cannot be compared seed by seed (other seeds or lengths)."""
    for name, runs in (("high", high), ("good", good)):
        if not isinstance(runs, SeedRuns):
            raise ValueError(
                f"{name} must be a SeedRuns (from train_seeds); got {type(runs).__name__}"
            )
    if high.seeds != good.seeds or high.step_loss.shape != good.step_loss.shape:
        raise ValueError(
            "high and good must be trained on the same seeds for the same steps (paired by "
            f"seed); got seeds {high.seeds} ({high.step_loss.shape[1]} steps) and "
            f"{good.seeds} ({good.step_loss.shape[1]} steps)"
        )
    if len(high.eval_step) < 2:
        raise ValueError("the runs must be evaluated at least twice (every epoch, the default)")


@dataclass(frozen=True)
class HighLrClaims:
    """Per seed (arrays of shape (S,)), the high and the good run: ``early_*`` the smoothed
    loss at step ``early``, ``last_*`` the mean minibatch loss of the last epoch (inf for a
    run that diverged), ``val_*`` the final validation accuracy (0 for a diverged run)."""

    seeds: tuple
    early: int
    early_high: np.ndarray
    early_good: np.ndarray
    last_high: np.ndarray
    last_good: np.ndarray
    val_high: np.ndarray
    val_good: np.ndarray

    @property
    def faster(self) -> np.ndarray:
        """Seeds where the high rate's smoothed loss is lower at step ``early``."""
        return self.early_high < self.early_good

    @property
    def stuck_higher(self) -> np.ndarray:
        """Seeds where the high rate's last epoch has the higher mean loss."""
        return self.last_high > self.last_good

    def holds(self) -> dict:
        """Each part of the claim at its stated strength: name -> bool."""
        most = int(np.ceil(MOST * len(self.seeds)))
        return {
            "faster": bool(self.faster.all()),
            "stuck higher": bool(
                self.stuck_higher.sum() >= most
                and np.median(self.last_high) >= LOSS_RATIO * np.median(self.last_good)
            ),
            "worse on validation": bool(
                np.median(self.val_high) <= np.median(self.val_good) - ACCURACY_POINTS
            ),
        }

    def table(self) -> str:
        """One row per part of the claim: what it says, the strength it is claimed at, and
        whether it holds over the seeds (with the numbers that are exact on any CPU)."""
        s, most = len(self.seeds), int(np.ceil(MOST * len(self.seeds)))
        holds = {k: "holds" if v else "FAILS" for k, v in self.holds().items()}
        rows = {
            "CS231n says": [
                "decays the loss faster",
                "but gets stuck higher",
                "and ends worse",
            ],
            "checked as (lr 0.1 vs 0.01, same seed)": [
                f"smoothed loss at step {self.early} lower, every seed",
                f"last epoch's loss higher in >= {most} of {s}, median >= {LOSS_RATIO:g}x",
                f"median val accuracy >= {100 * ACCURACY_POINTS:g} point lower",
            ],
            "result": [
                f"{holds['faster']}: {int(self.faster.sum())} of {s}, median "
                f"{np.median(self.early_high):.2f} vs {np.median(self.early_good):.2f}",
                holds["stuck higher"],
                holds["worse on validation"],
            ],
        }
        return format_table(rows, index=list(holds), index_name="claim")


def high_lr_claims(high: SeedRuns, good: SeedRuns, early: int = 10, smoothing: float = 0.9):
    """CS231n's description of a high learning rate's loss curve, checked seed by seed.

    Parameters
    ----------
    high, good : SeedRuns
        The same network trained at a high and at a good rate on the same seeds for the same
        steps (e.g. ``train_seeds(data, **HIGH_LR)`` and ``runs["good lr"]``), evaluated every
        epoch (the last epoch is from the second-to-last evaluation to the last).
    early : int
        The step at which "faster" is read: early enough that rounding has not grown yet.
    smoothing : float
        The :func:`ema` factor of the smoothed loss, in [0, 1).

    Returns
    -------
    HighLrClaims
    """
    check_paired(high, good)
    early = check_int("early", early, 1, high.step_loss.shape[1])
    smoothing = check_real("smoothing", smoothing, 0.0, 1.0, high_open=True)
    start = int(high.eval_step[-2])

    def read(runs):
        smooth = np.array([ema(row, smoothing, nonfinite="pass") for row in runs.step_loss])
        early_loss = np.where(np.isfinite(smooth[:, early - 1]), smooth[:, early - 1], np.inf)
        with np.errstate(all="ignore"):
            last = np.where(runs.diverged, np.inf, runs.step_loss[:, start:].mean(1))
        val = np.where(runs.diverged, 0.0, runs.val_acc[:, -1])
        return early_loss, last, val

    (eh, lh, vh), (eg, lg, vg) = read(high), read(good)
    return HighLrClaims(tuple(high.seeds), early, eh, eg, lh, lg, vh, vg)


def dead_units(runs: dict, layer: int = 1) -> str:
    """The share of a hidden layer's units that output 0 for every validation example, at
    step 0, after the first epoch and at the end: ``median (min to max)`` over the seeds
    (runs that diverged left out).

    Parameters
    ----------
    runs : dict of str -> SeedRuns
        Evaluated every epoch (the default of ``train_seeds``).
    layer : int
        1 for the first hidden layer, up to the number of hidden layers.
    """
    runs = check_mapping("runs", runs, SeedRuns, "SeedRuns (from train_seeds)")
    rows = {"step 0": [], "after epoch 1": [], "at the end": []}
    for name, r in runs.items():
        if r.dead_share is None or r.dead_share.shape[2] == 0:
            raise ValueError(f"runs[{name!r}] has no hidden layers to count dead units in")
        k = check_int("layer", layer, 1, r.dead_share.shape[2]) - 1
        if len(r.eval_step) < 2:
            raise ValueError(f"runs[{name!r}] must be evaluated at least twice")
        for column, e in zip(rows, (0, 1, -1)):
            rows[column].append(median_range(r.dead_share[:, e, k], ".0f", percent=True))
    return format_table(rows, index=list(runs), index_name=f"layer {layer}, dead units")


def dead_unit_claims(high: SeedRuns, good: SeedRuns, too_high: SeedRuns) -> str:
    """What a too-high learning rate does to the ReLU units, at a strength that holds on any
    CPU although these runs are chaotic: one row per claim, whether it holds.

    - ``high`` (lr 0.1) against ``good`` (same seeds): the first hidden layer ends with more
      than :data:`HIGH_DEAD` of its units dead in every seed; the good rate's most is shown
      (exact: the good runs are stable).
    - ``too_high`` (lr 1.0): every run that did not end in NaN ends with a hidden layer whose
      units are all dead (the network's output no longer depends on its input).
    """
    check_paired(high, good)
    if not isinstance(too_high, SeedRuns):
        raise ValueError(f"too_high must be a SeedRuns; got {type(too_high).__name__}")
    for name, r in (("high", high), ("good", good), ("too_high", too_high)):
        if r.dead_share is None or r.dead_share.shape[2] == 0:
            raise ValueError(f"{name} has no hidden layers to count dead units in")
    s = len(high.seeds)
    high_end, good_end = high.dead_share[:, -1, 0], good.dead_share[:, -1, 0]
    alive = ~too_high.diverged
    whole = too_high.dead_share[alive, -1, :].max(axis=1) if alive.any() else np.ones(0)
    verdict = ("FAILS", "holds")
    rows = {
        "claim": [
            f"first layer over {100 * HIGH_DEAD:.0f}% dead at the end, in all {s} seeds",
            "every run without NaN ends with a hidden layer 100% dead",
        ],
        "result": [
            f"{verdict[bool((high_end > HIGH_DEAD).all())]} (good lr 0.01: at most "
            f"{100 * np.nanmax(good_end):.0f}%)",
            verdict[bool(alive.any() and (whole == 1.0).all())],
        ],
    }
    return format_table(rows, index=["lr 0.1", "lr 1.0"], index_name="setting")
