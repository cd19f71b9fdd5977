"""Chapter 09's seeded runs: the classic loss curves (lr too high, too low, good; a bad
initialisation's plateau), read from real runs and summarised over seeds.

- :data:`DIAGNOSES`, :func:`run_diagnosis`: one monitored run of :data:`BASE_RUN` with one
  setting changed; :func:`monitored_run`, the run itself, which the dashboard's Start also
  trains (evaluated every :func:`evaluation_interval` steps);
- :func:`curve_summary`, :func:`plateau_steps`: the numbers that tell the curves apart;
- :func:`seed_metrics`, :func:`seed_table`: the same over :data:`SEEDS`, from
  :func:`~course_utils.seed_runs.train_seeds` and ``train_settings`` (re-exported here with
  :func:`base_model` and :func:`median_range`, as the notebook uses them);
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np

from course_utils.monitoring import Monitor, ema
from course_utils.seed_runs import (
    BASE_RUN,
    MAX_SEED_STEPS,
    SEEDS,
    SeedRuns,
    base_model,
    median_range,
    one_torch_thread,
    train_seeds,
    train_settings,
)
from course_utils.tables import format_table
from course_utils.training import MAX_TRAIN_STEPS
from course_utils.validation import (
    check_callable,
    check_int,
    check_mapping,
    check_real,
)

__all__ = [
    "DIAGNOSES",
    "BASE_RUN",
    "SEEDS",
    "base_model",
    "train_seeds",
    "train_settings",
    "median_range",
    "DiagnosisRun",
    "monitored_run",
    "run_diagnosis",
    "EVALUATIONS",
    "evaluation_interval",
    "plateau_steps",
    "curve_summary",
    "seed_metrics",
    "FAILED_BELOW",
    "seed_table",
]

#: The chapter's runs: the same MLP (:data:`BASE_RUN`: 4 hidden ReLU layers of 64, Kaiming
#: init, SGD with momentum 0.9, batch 64, 8 epochs) with one thing changed.
DIAGNOSES = {
    "lr too high": dict(lr=1.0),
    "lr too low": dict(lr=3e-4),
    "good lr": dict(lr=0.01),
    "bad init": dict(lr=0.01, init="normal", std=0.1),
}


@dataclass
class DiagnosisRun:
    """One monitored training run: its settings, the trained model, its
    :class:`~course_utils.training.History` and :class:`Monitor`."""

    settings: dict
    model: object
    history: object
    monitor: Monitor


def monitored_run(
    data, settings: dict, eval_every=None, probe: int = 0, optimizer=None, callback=None
) -> DiagnosisRun:
    """Build and train :data:`BASE_RUN`'s MLP with ``settings`` changed, monitored every step.

    Parameters
    ----------
    data : object with ``x_train, y_train, x_val, y_val`` (and ``num_classes``)
        E.g. ``course_utils.data.load_dataset("digits")``.
    settings : dict
        ``lr`` (required) and any key of :data:`BASE_RUN`.
    eval_every : int, optional
        Evaluate every this many steps (default: every epoch).
    probe : int
        The :class:`Monitor` also records the activations of the first ``probe`` validation
        examples at every evaluation (0: none).
    optimizer : str or callable, optional
        What :func:`~course_utils.training.train` takes (default: ``settings["optimizer"]``,
        e.g. :func:`~course_utils.seed_runs.lean_optimizer`'s builder instead of torch.optim).
    callback : callable, optional
        ``callback(history, monitor)`` after every step, once the monitor has recorded it.

    Returns
    -------
    DiagnosisRun
    """
    from course_utils.training import train  # looked up per call: tests replace it

    if not isinstance(settings, dict):
        raise ValueError(f"settings must be a dict; got {type(settings).__name__}")
    unknown = set(settings) - set(BASE_RUN) - {"lr"}
    if unknown:
        raise ValueError(f"unknown settings {sorted(unknown)}; allowed: lr, {', '.join(BASE_RUN)}")
    if "lr" not in settings:
        raise ValueError("settings must give lr, the learning rate")
    probe = check_int("probe", probe, 0)
    if callback is not None:
        check_callable("callback", callback)
    s = {**BASE_RUN, **settings}
    with one_torch_thread():
        model = base_model(data, **s)
        monitor = Monitor(model, probe=np.asarray(data.x_val)[:probe] if probe else None)

        def step(history, model):
            monitor(history, model)
            if callback is not None:
                callback(history, monitor)

        history = train(
            model,
            data,
            s["optimizer"] if optimizer is None else optimizer,
            lr=s["lr"],
            epochs=s["epochs"],
            batch_size=s["batch_size"],
            seed=s["seed"],
            callback=step,
            eval_every=eval_every,
            progress=False,
        )
    return DiagnosisRun(s, model, history, monitor)


def run_diagnosis(data, **settings) -> DiagnosisRun:
    """:func:`monitored_run` of ``settings`` (keywords), probing 256 validation examples.

    ``settings``: ``lr`` (required), any key of :data:`BASE_RUN`, and ``eval_every``
    (evaluate every this many steps instead of every epoch).
    """
    eval_every = settings.pop("eval_every", None)
    return monitored_run(data, settings, eval_every=eval_every, probe=256)


#: About this many evaluations (and redraws of the dashboard) per run, whatever its length.
EVALUATIONS = 15


def evaluation_interval(total: int, evaluations: int = EVALUATIONS) -> int:
    """Steps between evaluations for a run of ``total`` steps: about ``evaluations`` of
    them, and a divisor of ``total`` where one is close, so the last one is at the last step.

    ``total``: 1 to ``training.MAX_TRAIN_STEPS``; ``evaluations``: 1 to ``total``... or more
    (then every step is evaluated). The divisors are found up to ``sqrt(total)`` in pairs.
    """
    total = check_int("total", total, 1, MAX_TRAIN_STEPS)
    evaluations = check_int("evaluations", evaluations, 1, MAX_TRAIN_STEPS)
    divisors = {
        d for k in range(1, math.isqrt(total) + 1) if total % k == 0 for d in (k, total // k)
    }
    best = min(sorted(divisors), key=lambda d: abs(total / d - evaluations))
    if not evaluations / 2 <= total / best <= 2 * evaluations:  # e.g. a large prime total
        return max(1, math.ceil(total / evaluations))
    return best


def plateau_steps(step_loss, initial: float, drop: float = 0.1, smoothing: float = 0.9) -> int:
    """Steps until the smoothed loss first falls ``drop`` (a share) below ``initial``;
    ``len(step_loss)`` if it never does (a plateau that lasts the whole run)."""
    drop = check_real("drop", drop, 0.0, 1.0, low_open=True, high_open=True)
    smooth = ema(step_loss, smoothing, nonfinite="pass")
    below = np.flatnonzero(smooth < (1 - drop) * initial)
    return int(below[0]) + 1 if below.size else len(smooth)


def curve_summary(history, num_classes: int = 10, smoothing: float = 0.9) -> dict:
    """The numbers that tell the classic loss curves apart.

    Returns
    -------
    dict
        ``status``; ``start`` (ln C, the loss of a uniform guess); ``peak`` (the highest
        smoothed loss in the first half, where the fall starts); ``end`` (last smoothed step
        loss); ``first half`` (drop from ``peak`` to the middle of the run) and ``second half``
        (drop from the middle to the end); ``shape`` (first-half drop / second-half drop: about 1 for a straight line,
        large for the fast-then-flat curve of a good lr); ``plateau`` (steps before the smoothed
        loss is 10% below ln C, see :func:`plateau_steps`); ``val_acc`` (last evaluation).
    """
    from course_utils.training import History

    if not isinstance(history, History):
        raise ValueError(
            f"history must be a training History (from train or SeedRuns.history); "
            f"got {type(history).__name__}"
        )
    start = math.log(check_int("num_classes", num_classes, 2, 10**6))
    smooth = ema(history.step_loss, smoothing, nonfinite="pass")
    finite = smooth[np.isfinite(smooth)]
    out = {"status": history.status, "start": start, "steps": len(history.step_loss)}
    if history.diverged or finite.size < 3:
        out.update(
            {
                "peak": math.nan,
                "end": math.inf,
                "first half": math.nan,
                "second half": math.nan,
                "shape": math.nan,
                "plateau": plateau_steps(history.step_loss, start),
                "val_acc": history.val_acc[-1],
            }
        )
        return out
    mid = len(finite) // 2
    # The fall is measured from the curve's own top in the first half, not from ln C: a run may
    # start above ln C, or rise for a few steps before it falls (momentum building up).
    peak = float(finite[: mid + 1].max())
    first, second = peak - finite[mid], finite[mid] - finite[-1]
    out.update(
        {
            "peak": peak,
            "end": float(finite[-1]),
            "first half": float(first),
            "second half": float(second),
            "shape": float(first / second) if second > 0 else math.inf,
            "plateau": plateau_steps(history.step_loss, start, smoothing=smoothing),
            "val_acc": history.val_acc[-1],
        }
    )
    return out


def seed_metrics(
    runs: SeedRuns, num_classes: int = 10, smoothing: float = 0.9, early: int = 10
) -> dict:
    """Per seed, the numbers that tell the classic loss curves apart (:func:`curve_summary`)
    and the update ratio.

    Returns
    -------
    dict of str -> ndarray, shape (S,)
        ``"diverged"`` (bool), ``"val_acc"``, ``"train_acc"`` and ``"gap"`` (train - val) at
        the end (NaN for a diverged run), ``"plateau"``, ``"first half"``, ``"second half"``,
        ``"shape"``, ``"end"`` (:func:`curve_summary`), ``"first share"`` (the first half's
        share of the whole fall, first / (first + second): near 1 for fast-then-flat, about 0.5
        for a straight line, near 0 for a plateau then a drop; unlike ``shape`` it does not
        blow up when the second half hardly falls), ``"ratio"`` (the median over the run's
        steps of the hidden layers' update ratios ``W1 ... W(L-1)``) and ``"early ratio"``
        (the same over the first ``early`` steps).
    """
    if not isinstance(runs, SeedRuns):
        raise ValueError(f"runs must be a SeedRuns (from train_seeds); got {type(runs).__name__}")
    early = min(check_int("early", early, 1, MAX_SEED_STEPS), runs.ratios.shape[1])
    num_classes = check_int("num_classes", num_classes, 2, 10**6)
    summaries = [
        curve_summary(runs.history(i), num_classes, smoothing) for i in range(len(runs.seeds))
    ]
    out = {"diverged": runs.diverged.copy()}
    final = np.where(runs.diverged, np.nan, 1.0)
    out["val_acc"] = final * runs.val_acc[:, -1]
    out["train_acc"] = final * runs.train_acc[:, -1]
    out["gap"] = out["train_acc"] - out["val_acc"]
    for key in ("plateau", "first half", "second half", "shape", "end"):
        out[key] = np.array([s[key] for s in summaries], dtype=float)
    with np.errstate(all="ignore"):  # the share stays finite where the second half is ~0
        out["first share"] = out["first half"] / (out["first half"] + out["second half"])
    hidden = runs.ratios[:, :, :-1] if runs.ratios.shape[2] > 1 else runs.ratios
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN: a run diverged at step 1
        out["ratio"] = np.nanmedian(hidden.reshape(len(runs.seeds), -1), axis=1)
        out["early ratio"] = np.nanmedian(hidden[:, :early].reshape(len(runs.seeds), -1), axis=1)
    return out


#: A run "failed" when its validation accuracy ends below this (ten classes: chance is 0.1),
#: or it diverged.
FAILED_BELOW = 0.2


def seed_table(runs: dict, num_classes: int = 10) -> str:
    """The classic curves over seeds: one row per setting, each number as
    ``median (min to max)`` over the seeds, at a precision that rounding cannot move.

    Columns: runs that failed (diverged, or validation accuracy below :data:`FAILED_BELOW`);
    final validation accuracy; the plateau (steps); the first half's share of the whole fall
    of the smoothed loss (see :func:`seed_metrics`); the update-to-weight ratio of the hidden
    layers, the median over all steps of all the runs (pooled, it hardly moves when one run
    changes a little), or over the first 10 steps for a setting whose runs all failed (a dead
    network's ratio is 0). Failed runs have no accuracy, plateau or shape (``-``).

    Parameters
    ----------
    runs : dict of str -> SeedRuns
    """
    runs = check_mapping("runs", runs, SeedRuns, "SeedRuns (from train_seeds)")
    rows = {
        "seeds": [],
        "failed": [],
        "val accuracy": [],
        "plateau (steps)": [],
        "fall in 1st half": [],
        "update ratio": [],
    }
    for name, r in runs.items():
        m = seed_metrics(r, num_classes)
        failed = m["diverged"] | ~(m["val_acc"] >= FAILED_BELOW)
        ok = ~failed
        rows["seeds"].append(str(len(r.seeds)))
        rows["failed"].append(f"{int(failed.sum())} of {len(failed)}")
        rows["val accuracy"].append(median_range(m["val_acc"][ok], ".2f"))
        rows["plateau (steps)"].append(median_range(m["plateau"][ok], ".0f"))
        rows["fall in 1st half"].append(median_range(m["first share"][ok], ".2f"))
        hidden = r.ratios[:, :, :-1] if r.ratios.shape[2] > 1 else r.ratios
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            rows["update ratio"].append(
                f"{np.nanmedian(hidden[ok]):.0e}"
                if ok.any()
                else f"{np.nanmedian(hidden[:, :10]):.0e} in steps 1-10"
            )
    return format_table(rows, index=list(runs), index_name="setting")
