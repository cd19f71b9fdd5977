"""Valid example calls of chapter 03's public callables, varied one argument at a time by
tests/test_fuzz.py."""

import numpy as np
from matplotlib.figure import Figure

from course_utils import init as I
from course_utils import weight_cache as W
from course_utils.chapters.ch03_initialization import checks, explorer, figures, runs
from course_utils.chapters.ch03_initialization import runs_depth as D
from course_utils.chapters.ch03_initialization import runs_symmetry as S
from course_utils.chapters.ch03_initialization import runs_training as T

MODULES = [
    "course_utils.init",
    "course_utils.weight_cache",
    "course_utils.chapters.ch03_initialization.runs",
    "course_utils.chapters.ch03_initialization.runs_symmetry",
    "course_utils.chapters.ch03_initialization.explorer",
    "course_utils.chapters.ch03_initialization.checks",
    "course_utils.chapters.ch03_initialization.figures",
    "course_utils.chapters.ch03_initialization.runs_depth",
    "course_utils.chapters.ch03_initialization.runs_training",
]

SMALL = runs.Experiment(depth=2, width=64, n_samples=4)


def _log_axes():
    ax = Figure().add_subplot()
    ax.set_yscale("log")
    ax.set_ylim(0.01, 1.0)
    return ax


TINY_TRAINING = T.train_inits({"a": 1.0}, seeds=[0], depth=1, width=4, steps=2, record_every=1)


def _xavier(fan_in, fan_out, gain=1.0):
    return gain * np.sqrt(2.0 / (fan_in + fan_out))


def _kaiming(fan_in, gain=np.sqrt(2.0)):
    return gain / np.sqrt(fan_in)


CASES = [
    (I.default_gain, dict(scheme="xavier")),
    (I.init_std, dict(scheme="xavier", fan_in=64, fan_out=32, gain=1.0)),
    (I.init_std, dict(scheme="normal", fan_in=64, fan_out=32, std=0.01)),
    (
        I.sample_weights,
        dict(scheme="kaiming", fan_in=16, fan_out=8, distribution="uniform", gain=1.0, seed=0),
    ),
    (I.calculate_gain, dict(nonlinearity="leaky_relu", param=0.2)),
    (I.conv_fans, dict(c_in=3, c_out=8, kernel_size=3)),
    (I.conv_fans, dict(c_in=3, c_out=8, kernel_size=(3, 5))),
    (I.torch_linear_default_std, dict(fan_in=64)),
    (W.unit_weights, dict(seed=0, width=32, layer=1)),
    (W.is_cached, dict(seed=0, width=32, layer=1)),
    (W.inputs, dict(seed=0, width=32, n_samples=4)),
    (W.draw_layers, dict(seed=0, width=32, depth=3)),
    (W.weights, dict(experiment=SMALL, full_width=128)),
    (W.run, dict(experiment=SMALL, full_width=128)),
    (W.prefetch, dict(seed=0, width=32, depth=2)),
    (W.ScaledMatrix, dict(unit=np.ones((3, 3), dtype=np.float32), scale=0.5)),
    (
        runs.Experiment,
        dict(depth=2, width=64, n_samples=4, activation="relu", scheme="normal", std=0.05, seed=0),
    ),
    (runs.forward_pass, dict(experiment=SMALL, full_width=128)),
    (
        runs.forward_activations,
        dict(depth=2, width=64, n_samples=4, activation="tanh", scheme="xavier", std=0.01, seed=1),
    ),
    (runs.gradient_signals, dict(experiment=SMALL)),
    (runs.gradient_sizes, dict(experiment=SMALL, upstream_seed=1)),
    (runs.cases_table, dict(cases={"small": SMALL})),
    (runs.layer_variance_gains, dict(fan_in=16, fan_out=32, std=0.1, n_samples=16, seed=0)),
    (runs.second_moments, dict(experiment=SMALL)),
    (runs.backward_gain, dict(experiment=SMALL)),
    (
        S.symmetry_table,
        dict(init="constant", value=0.5, sizes=(3, 5, 2), n_samples=4, activation="tanh", seed=0),
    ),
    (
        S.symmetry_over_seeds,
        dict(
            init="random",
            value=0.5,
            seeds=range(3),
            sizes=(3, 5, 2),
            n_samples=4,
            activation="tanh",
        ),
    ),
    (S.symmetry_seeds_table, dict(results={"zero": S.symmetry_over_seeds("zero", seeds=[0])})),
    (
        explorer.init_explorer,
        dict(scheme="normal", std=0.01, activation="tanh", depth=2, width=64, n_samples=4, seed=0),
    ),
    (explorer.InitExplorer, dict(scheme="xavier", depth=2, width=64)),
    (checks.init_std_mistake, dict(name="xavier_std", got=0.1, fan_in=64, fan_out=32, gain=1.0)),
    (checks.check_init_std_functions, dict(xavier_std=_xavier, kaiming_std=_kaiming)),
    (checks.last_layer_std, dict(sigma=0.05, activation="tanh", depth=2, width=64, seed=0)),
    (I.truncated_normal_std, dict(a=-2.0, b=2.0)),
    (figures.tidy_std_axis, dict(ax=_log_axes())),
    (
        figures.layer_histograms,
        dict(
            activations=[np.ones((2, 3)) * 0.1], activation="tanh", title="", figsize=(4, 3), dpi=50
        ),
    ),
    (figures.plot_training_curves, dict(runs=TINY_TRAINING, ax=Figure().add_subplot())),
    (D.deeper_gradients, dict(gains={"a": 1.0}, depths=(2,), width=16, n_samples=2, seed=0)),
    (D.matrix_product_norms, dict(size=3, std=1.0, n_matrices=3, seeds=[0])),
    (
        D.residual_stream_std,
        dict(n_branches=2, branch_scale=0.5, width=8, n_samples=2, seed=0),
    ),
    (
        T.train_inits,
        dict(
            gains={"a": 1.0},
            seeds=[0],
            depth=1,
            width=4,
            steps=2,
            lr=0.1,
            batch_size=8,
            record_every=1,
        ),
    ),
]
EXEMPT = {
    runs.GradientSignals: "a result dataclass (fields are arrays the runs compute)",
    runs.GradientSizes: "a result dataclass",
    runs.SecondMoments: "a result dataclass",
    runs.VarianceGains: "a result dataclass of two floats",
    S.SymmetryOverSeeds: "a result dataclass",
    D.DeeperGradients: "a result dataclass",
    T.TrainingRuns: "a result dataclass",
    checks.std_search_mistake: "a hint for a wrong answer: runs up to seven 6 x 512 networks "
    "(a second per call, too slow to fuzz; its arguments are the "
    "checked ones of last_layer_std)",
    checks.check_std_search: "runs a student's search over three networks (seconds per call)",
}
