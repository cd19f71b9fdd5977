"""Valid example calls of chapter 09's public callables (and of course_utils.seed_runs, shared
with chapter 08), varied one argument at a time by tests/test_fuzz.py."""

import tempfile

import numpy as np

from course_utils import monitoring as M
from course_utils import seed_runs as S
from course_utils import training_monitor as TM
from course_utils.chapters.ch09_monitoring import checks, explorer, figures, runs
from course_utils.chapters.ch09_monitoring import runs_practice as P
from course_utils.chapters.ch09_monitoring import runs_seeds as RS
from course_utils.training import build_mlp, train

MODULES = [
    "course_utils.monitoring",
    "course_utils.training_monitor",
    "course_utils.seed_runs",
    "course_utils.chapters.ch09_monitoring.runs",
    "course_utils.chapters.ch09_monitoring.runs_practice",
    "course_utils.chapters.ch09_monitoring.runs_seeds",
    "course_utils.chapters.ch09_monitoring.figures",
    "course_utils.chapters.ch09_monitoring.explorer",
    "course_utils.chapters.ch09_monitoring.checks",
]


class _Data:
    """90 training and 30 validation examples of 6 features, 3 classes."""

    _rng = np.random.default_rng(0)
    _x = _rng.normal(size=(120, 6)).astype(np.float32)
    _y = np.argmax(_x[:, :3], axis=1)
    x_train, y_train, x_val, y_val = _x[:90], _y[:90], _x[90:], _y[90:]
    num_classes = 3


_X, _Y = _Data.x_train, _Data.y_train


class _DIGITS_SMALL:
    """40 digit-shaped training and 20 validation examples (64 features, 10 classes)."""

    _rng = np.random.default_rng(1)
    _x = _rng.uniform(0, 1, size=(60, 64))
    _y = np.arange(60) % 10
    x_train, y_train, x_val, y_val = _x[:40], _y[:40], _x[40:], _y[40:]
    num_classes = 10


_HISTORY = train(build_mlp(6, 3, depth=1, width=4, seed=0), _Data, epochs=1, progress=False)
_LOGDIR = tempfile.mkdtemp()
_SEEDRUNS = S.train_seeds(_DIGITS_SMALL, seeds=(0,), epochs=1)
_SEEDRUNS_GOOD = S.train_seeds(_DIGITS_SMALL, seeds=(0, 1), epochs=2, batch_size=8)
_SEEDRUNS_HIGH = S.train_seeds(_DIGITS_SMALL, seeds=(0, 1), epochs=2, batch_size=8, lr=0.1)
P.log_to_tensorboard(_HISTORY, _LOGDIR)


def _model():
    return build_mlp(6, 3, depth=2, width=8, seed=0)


def _build(seed):
    return build_mlp(6, 3, depth=1, width=8, seed=seed)


_SEED_RUNS = S.train_seeds(_Data, seeds=[0, 1], lr=0.05, epochs=2, build=_build)
_HISTORY = _SEED_RUNS.history(0)
_MONITOR = TM.Monitor(_model())
train(_MONITOR.model, _Data, "sgd", lr=0.05, epochs=1, callback=_MONITOR, progress=False)
_W = np.linspace(0.5, 1.5, 12).reshape(3, 4)
_G = np.linspace(-1.0, 1.0, 12).reshape(3, 4)
_SNAPSHOT = {"W1": _W, "W2": _W.T.copy()}
_AFTER = {"W1": _W - 0.01 * _G, "W2": (_W - 0.01 * _G).T.copy()}


def _sgd_ratio(w, dw, lr):
    return float(np.linalg.norm(lr * np.ravel(dw)) / np.linalg.norm(np.ravel(w)))


def _momentum_ratios(weights, grads, velocities, lr, momentum=0.9):
    if not set(weights) == set(grads) == set(velocities) or any(
        np.shape(weights[k]) != np.shape(grads[k])
        or np.shape(weights[k]) != np.shape(velocities[k])
        for k in weights
    ):
        raise ValueError("weights, grads and velocities must name the same layers and shapes")
    return {
        k: float(
            lr
            * np.linalg.norm(momentum * np.asarray(velocities[k]) + grads[k])
            / np.linalg.norm(weights[k])
        )
        for k in weights
    }


CASES = [
    # the lesson
    (M.ema, dict(values=[2.3, 2.1, 2.25, 1.9], smoothing=0.6, debias=True)),
    (M.update_ratio, dict(before=_W, after=_W - 0.01 * _G)),
    (M.sgd_update_ratio, dict(w=_W, dw=_G, lr=0.01)),
    (
        M.momentum_update_ratios,
        dict(
            weights={"W1": _W},
            grads={"W1": _G},
            velocities={"W1": np.zeros_like(_W)},
            lr=0.01,
            momentum=0.9,
        ),
    ),
    (TM.linear_layers, dict(model=_model())),
    (TM.weight_snapshot, dict(model=_model())),
    (M.update_ratios, dict(before=_SNAPSHOT, after=_AFTER)),
    (TM.weight_gradients, dict(model=_model(), x=_X, y=_Y)),
    (TM.activation_stats, dict(model=_model(), x=_X)),
    (
        M.minibatch_loss_spread,
        dict(model=_model(), x=_X, y=_Y, batch_sizes=(8, 32), n_batches=20, seed=0),
    ),
    (_MONITOR.median_ratios, dict(skip=0)),
    (_MONITOR.ratio_array, dict()),
    # many seeds at once (shared with chapter 08)
    (S.base_model, dict(data=_Data, depth=1, width=8, seed=0)),
    (
        S.train_seeds,
        dict(
            data=_Data,
            seeds=[0, 1],
            lr=0.05,
            optimizer="momentum",
            batch_size=32,
            epochs=1,
            eval_every=None,
            depth=1,
            width=8,
        ),
    ),
    (
        S.train_seeds,
        dict(data=_Data, seeds=(0,), lr=0.05, epochs=1, eval_every="end", build=_build),
    ),
    (
        S.train_settings,
        dict(
            data=_Data,
            settings={"a": dict(lr=0.05, depth=1, width=8), "b": dict(lr=0.5, depth=1, width=8)},
            seeds=[0, 1],
            optimizer="momentum",
            batch_size=32,
            epochs=1,
            eval_every=None,
        ),
    ),
    (S.median_range, dict(values=[3.0, 1.0, 2.0], fmt=".1f", percent=False)),
    (S.one_torch_thread, dict()),
    (_SEED_RUNS.history, dict(i=0)),
    (_SEED_RUNS.median_ratios, dict(skip=0)),
    # the chapter's runs
    (runs.run_diagnosis, dict(data=_Data, lr=0.05, depth=1, width=8, epochs=1)),
    (
        runs.monitored_run,
        dict(
            data=_Data,
            settings=dict(lr=0.05, depth=1, width=8, epochs=1),
            eval_every=2,
            probe=10,
            optimizer=S.lean_optimizer("sgd", 0.05),
            callback=lambda history, monitor: None,
        ),
    ),
    (runs.evaluation_interval, dict(total=44, evaluations=15)),
    (
        runs.plateau_steps,
        dict(step_loss=[1.1, 1.0, 0.5, 0.4], initial=1.1, drop=0.1, smoothing=0.9),
    ),
    (runs.curve_summary, dict(history=_HISTORY, num_classes=3, smoothing=0.9)),
    (runs.seed_metrics, dict(runs=_SEED_RUNS, num_classes=3, smoothing=0.9, early=2)),
    (runs.seed_table, dict(runs={"a": _SEED_RUNS}, num_classes=3)),
    # figures
    (
        figures.plot_loss_curves,
        dict(runs={"a": _HISTORY}, smoothing=0.9, ylim=(0.0, 3.5), figsize=(4.0, 2.0), dpi=50),
    ),
    (figures.plot_accuracy_gap, dict(runs={"a": _HISTORY}, figsize=(4.0, 2.0), dpi=50)),
    (
        figures.plot_update_ratios,
        dict(
            monitors={"a": _MONITOR, "b": _SEED_RUNS},
            smoothing=0.9,
            ylim=(1e-6, 1.0),
            figsize=(4.0, 2.0),
            dpi=50,
        ),
    ),
    (
        figures.plot_layer_distributions,
        dict(rows={"a": [_W, _G]}, bins=10, figsize=(4.0, 2.0), dpi=50),
    ),
    (
        figures.plot_first_layer,
        dict(
            trained=build_mlp(64, 3, depth=1, width=8, seed=1),
            initial=build_mlp(64, 3, depth=1, width=8, seed=0),
            units=4,
            side=8,
            figsize=(4.0, 2.0),
            dpi=50,
        ),
    ),
    # in practice
    (P.roughness, dict(weights=np.random.default_rng(0).normal(size=(4, 64)), side=8)),
    (P.early_stopping, dict(data=_DIGITS_SMALL, epochs=2, patience=1, lr=0.03, seed=0)),
    (P.log_to_tensorboard, dict(history=_HISTORY, logdir=tempfile.mkdtemp(), every=1)),
    (P.read_scalars, dict(logdir=_LOGDIR)),
    (P.first_layer_change, dict(runs={"a": _SEEDRUNS}, data=_DIGITS_SMALL)),
    (RS.check_paired, dict(high=_SEEDRUNS_HIGH, good=_SEEDRUNS_GOOD)),
    (RS.high_lr_claims, dict(high=_SEEDRUNS_HIGH, good=_SEEDRUNS_GOOD, early=3, smoothing=0.9)),
    (RS.dead_units, dict(runs={"a": _SEEDRUNS_GOOD}, layer=1)),
    (
        RS.dead_unit_claims,
        dict(high=_SEEDRUNS_HIGH, good=_SEEDRUNS_GOOD, too_high=_SEEDRUNS_HIGH),
    ),
    (
        figures.plot_high_lr,
        dict(high=_SEEDRUNS_HIGH, good=_SEEDRUNS_GOOD, smoothing=0.9, figsize=(4.0, 2.0), dpi=50),
    ),
    # the dashboard
    (
        explorer.training_dashboard,
        dict(
            data=_Data,
            lr=0.05,
            epochs=1,
            depth=1,
            width=8,
            optimizer="momentum",
            batch_size=32,
            seed=0,
            figsize=(6.0, 2.0),
            dpi=50,
        ),
    ),
    (
        explorer.TrainingDashboard,
        dict(data=_Data, lr=0.05, epochs=1, depth=1, width=8, figsize=(6.0, 2.0), dpi=50),
    ),
    (
        figures.TrainingCurves,
        dict(
            figure=__import__("matplotlib.figure").figure.Figure(),
            layers=("W1", "W2"),
            num_classes=3,
            animated=False,
        ),
    ),
    # visible checks
    (checks.update_ratio_check_cases, dict()),
    (checks.update_ratio_mistakes, dict(w=_W, dw=_G, lr=0.01)),
    (checks.check_update_ratio, dict(update_ratio=_sgd_ratio)),
    (checks.momentum_ratios_check_cases, dict()),
    (
        checks.momentum_ratios_mistakes,
        dict(weights={"W1": _W}, grads={"W1": _G}, velocities={"W1": _G}, lr=0.01, momentum=0.9),
    ),
    (checks.check_momentum_update_ratios, dict(momentum_update_ratios=_momentum_ratios)),
]

EXEMPT = {
    M.gradient_stats: "needs a model holding gradients, which the harness's deepcopy drops; "
    "its one argument is checked by linear_layers (fuzzed here)"
}
