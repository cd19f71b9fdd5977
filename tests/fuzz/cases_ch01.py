"""Valid example calls of chapter 01's public callables, varied one argument at a time by
tests/test_fuzz.py."""

import numpy as np
from matplotlib.figure import Figure

from course_utils import activations as A
from course_utils.chapters.ch01_activations import checks, explorer, figures, runs, runs_dead_relu
from course_utils.data import load_digits

MODULES = [
    "course_utils.activations",
    "course_utils.chapters.ch01_activations.runs",
    "course_utils.chapters.ch01_activations.runs_dead_relu",
    "course_utils.chapters.ch01_activations.figures",
    "course_utils.chapters.ch01_activations.explorer",
    "course_utils.chapters.ch01_activations.checks",
]

_Z = np.linspace(-3.0, 3.0, 7)
_X, _W, _B = np.ones((4, 3)), np.full((2, 3, 2), 0.5), np.zeros((2, 2))
_OUT, _CACHE = A.maxout_forward(_X, _W, _B)
_DIGITS = load_digits()
_RESULT = runs_dead_relu.train_relu_classifier(1.0, hidden=8, steps=2, seed=0, digits=_DIGITS)


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
    (runs.unit_response, dict(activation="relu", scale=2.0, bias=0.5, n=1000, seed=0)),
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
