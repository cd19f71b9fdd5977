"""Valid example calls of chapter 01's public callables, varied one argument at a time by
tests/test_fuzz.py."""

import numpy as np
from matplotlib.figure import Figure

from course_utils import activations as A
from course_utils.chapters.ch01_activations import (
    checks,
    explorer,
    figures,
    runs,
    runs_compare,
    runs_dead_relu,
    runs_depth,
    runs_zigzag,
)
from course_utils.data import load_digits

MODULES = [
    "course_utils.activations",
    "course_utils.chapters.ch01_activations.runs",
    "course_utils.chapters.ch01_activations.runs_dead_relu",
    "course_utils.chapters.ch01_activations.runs_depth",
    "course_utils.chapters.ch01_activations.runs_zigzag",
    "course_utils.chapters.ch01_activations.runs_compare",
    "course_utils.chapters.ch01_activations.figures",
    "course_utils.chapters.ch01_activations.explorer",
    "course_utils.chapters.ch01_activations.checks",
]

_Z = np.linspace(-3.0, 3.0, 7)
_X, _W, _B = np.ones((4, 3)), np.full((2, 3, 2), 0.5), np.zeros((2, 2))
_OUT, _CACHE = A.maxout_forward(_X, _W, _B)
_DIGITS = load_digits()
_RESULT = runs_dead_relu.train_relu_classifier(1.0, hidden=8, steps=2, seed=0, digits=_DIGITS)
_NORMS = runs_depth.layer_gradient_norms("tanh", depth=3, width=4, batch=2, seed=0)
_PATH = runs_zigzag.zigzag_path(centred=False, lr=5.0, steps=5, seed=0)
_COMPARISON = runs_compare.compare_activations(
    names=["tanh"], seeds=[0], epochs=1, hidden=4, layers=1, digits=_DIGITS
)


def _leaky(z, negative_slope=0.01):
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, z, negative_slope * z)


def _leaky_grad(z, negative_slope=0.01):
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, 1.0, negative_slope)


CASES = [
    (A.get, dict(name="tanh")),
    *[
        (f, dict(z=_Z))
        for f in (
            A.tanh,
            A.tanh_grad,
            A.relu,
            A.relu_grad,
            A.sigmoid,
            A.sigmoid_grad,
            A.gelu,
            A.gelu_grad,
            A.silu,
            A.silu_grad,
        )
    ],
    (A.leaky_relu, dict(z=_Z, negative_slope=0.01)),
    (A.leaky_relu_grad, dict(z=_Z, negative_slope=0.01)),
    (A.elu, dict(z=_Z, alpha=1.0)),
    (A.elu_grad, dict(z=_Z, alpha=1.0)),
    (A.softplus, dict(z=_Z, beta=1.0, threshold=20.0)),
    (A.softplus_grad, dict(z=_Z, beta=1.0, threshold=20.0)),
    (A.maxout, dict(x=_X, W=_W, b=_B)),
    (A.maxout_forward, dict(x=_X, W=_W, b=_B)),
    (A.maxout_backward, dict(dout=np.ones((4, 2)), cache=_CACHE)),
    (A.selu, dict(z=_Z)),
    (A.selu_grad, dict(z=_Z)),
    (runs.unit_response, dict(activation="relu", scale=2.0, bias=0.5, n=1000, seed=0)),
    (runs.saturation_bounds, dict(activation="gelu")),
    (
        runs_dead_relu.fixes_table,
        dict(runs={"relu": [_RESULT], "elu": [_RESULT]}, steps=2),
    ),
    (
        runs_depth.layer_gradient_norms,
        dict(activation="selu", depth=3, width=4, batch=2, seed=0),
    ),
    (
        runs_depth.per_layer_factor_over_seeds,
        dict(activation="relu", seeds=[0, 1], depth=3, width=4),
    ),
    (runs_depth.selu_moment_map, dict(mean=0.1, var=1.5, omega=0.2, tau=1.1)),
    (runs_depth.iterate_moment_map, dict(mean=0.5, var=2.0, layers=3)),
    (runs_depth.variance_map_slope, dict(var=1.0, step=1e-4)),
    (
        runs_depth.deep_activation_stats,
        dict(activation="elu", depth=3, width=4, batch=2, input_std=1.5, seed=0),
    ),
    (runs_depth.gradient_norms_table, dict(results=[_NORMS])),
    (
        runs_depth.GradientNorms,
        dict(
            activation="tanh",
            weight_grad=np.ones(3),
            delta=np.ones(3),
            mean_slope=np.ones(3),
        ),
    ),
    (runs_zigzag.zigzag_path, dict(centred=True, lr=5.0, steps=5, seed=0)),
    (runs_zigzag.paths_table, dict(paths=[_PATH], radius=0.5)),
    (
        runs_zigzag.mean_loss_grid,
        dict(inputs=_PATH.inputs, w1=np.linspace(-1, 1, 3), w2=np.linspace(-1, 1, 4)),
    ),
    (
        runs_zigzag.ZigzagPath,
        dict(centred=False, lr=1.0, inputs=np.ones((2, 2)), weights=np.zeros((3, 2))),
    ),
    (
        runs_compare.compare_activations,
        dict(
            names=["relu"],
            seeds=[0],
            epochs=1,
            lr=0.1,
            batch=32,
            hidden=4,
            layers=1,
            report=[0],
            digits=_DIGITS,
        ),
    ),
    (runs_compare.comparison_table, dict(runs=_COMPARISON)),
    (runs_compare.ComparisonRun, dict(activation="tanh", val_accuracy={1: np.ones(1)})),
    (figures.plot_zigzag, dict(paths=[_PATH], figsize=(4.0, 3.0), dpi=50)),
    (runs.weight_gradient_signs, dict(inputs=np.ones((4, 3)), upstream=np.ones((4, 2)))),
    (runs.sign_counts_per_neuron, dict(x=np.ones(3), delta=np.array([1.0, -1.0]))),
    (runs.batch_gradient_mixed, dict(inputs=np.ones((4, 3)), upstream=np.ones((4, 2)))),
    (runs.batch_gradient_mixed_over_seeds, dict(seeds=[0, 1], batch=4, d_in=5, d_out=3)),
    (runs_dead_relu.train_relu_classifier, dict(lr=1.0, hidden=8, steps=2, seed=0, digits=_DIGITS)),
    (runs_dead_relu.dead_units, dict(x=np.ones((4, 3)), W=np.ones((3, 2)))),
    (runs_dead_relu.runs_table, dict(results=[_RESULT], steps=2)),
    (runs_dead_relu.dead_relu_table, dict(lrs=[1.0], hidden=8, steps=2, seed=0)),
    (runs_dead_relu.dead_at_init_over_seeds, dict(seeds=[0, 1], hidden=8, digits=_DIGITS)),
    (runs_dead_relu.train_over_seeds, dict(lrs=[1.0], seeds=[0], hidden=8, steps=2)),
    (runs_dead_relu.over_seeds_table, dict(runs={1.0: [_RESULT]}, steps=2)),
    (
        runs_dead_relu.TrainResult,
        dict(
            lr=1.0,
            dead_at_init=0.0,
            dead_after_first_step=0.0,
            dead=0.0,
            train_loss=0.5,
            val_accuracy=0.9,
        ),
    ),
    (runs.SignCounts, dict(mixed=1, same_sign=2, neurons=3)),
    (figures.activation_curve, dict(name="maxout", z=_Z, leaky_slope=0.1)),
    (figures.plot_activation_functions, dict(names=["relu"], figsize=(3.0, 2.0), dpi=50)),
    (
        explorer.activation_explorer,
        dict(activation="relu", scale=2.0, bias=0.5, n=1000, seed=0, figsize=(6.0, 3.0), dpi=50),
    ),
    (
        explorer.ActivationExplorer,
        dict(activation="relu", scale=2.0, bias=0.5, n=1000, seed=0, figsize=(6.0, 3.0), dpi=50),
    ),
    (
        figures.ActivationResponseFigure,
        dict(figure=Figure(figsize=(6.0, 3.0)), activation="relu", bins=20, animated=False),
    ),
    (checks.check_leaky_relu, dict(leaky_relu=_leaky, leaky_relu_grad=_leaky_grad)),
    (checks.leaky_relu_mistake, dict(name="leaky_relu", z=_Z, got=_leaky(_Z), slope=0.01)),
]
EXEMPT = {
    runs.UnitResponse: "a result record, built only by unit_response from its own arrays",
}
