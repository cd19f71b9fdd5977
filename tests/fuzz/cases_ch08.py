"""Valid example calls of chapter 08's public callables, varied one argument at a time by
tests/fuzz/harness.py."""

import numpy as np
import torch
from matplotlib.figure import Figure

from course_utils import activations, gradcheck, gradcheck_models, sanity
from course_utils.chapters.ch08_sanity_checks import (
    checks,
    depth_check,
    explorer,
    figures,
    lecture_net,
    recipe,
    runs,
    runs_step_tradeoff,
)
from course_utils.data import load_dataset

MODULES = [
    "course_utils.sanity",
    "course_utils.gradcheck",
    "course_utils.gradcheck_models",
    "course_utils.chapters.ch08_sanity_checks.runs",
    "course_utils.chapters.ch08_sanity_checks.runs_step_tradeoff",
    "course_utils.chapters.ch08_sanity_checks.figures",
    "course_utils.chapters.ch08_sanity_checks.explorer",
    "course_utils.chapters.ch08_sanity_checks.checks",
    "course_utils.chapters.ch08_sanity_checks.lecture_net",
    "course_utils.chapters.ch08_sanity_checks.recipe",
    "course_utils.chapters.ch08_sanity_checks.depth_check",
]

torch.set_num_threads(1)
_DATA = load_dataset("digits")
_X = _DATA.x_train[:20]
_Y = _DATA.y_train[:20]
_RNG = np.random.default_rng(0)
_A = _RNG.standard_normal((3, 2))


def _f(v):
    return float(np.sum(np.tanh(v)))


def _numerical_gradient(f, x, h=1e-5):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
    return grad


CASES = [
    (sanity.expected_initial_loss, dict(num_classes=10)),
    (sanity.small_score_loss, dict(num_classes=10, score_std=0.1)),
    (
        sanity.fresh_classifier,
        dict(
            in_features=64,
            num_classes=10,
            depth=1,
            width=8,
            activation="relu",
            init="kaiming",
            std=None,
            output_std=1e-3,
            seed=0,
        ),
    ),
    (
        sanity.initial_loss,
        dict(model=sanity.fresh_classifier(64, 10, depth=1, width=8), x=_X, y=_Y, penalty=None),
    ),
    (sanity.tiny_subset, dict(data=_DATA, n=20, seed=0)),
    (
        sanity.overfit_tiny_subset,
        dict(
            data=_DATA,
            n=10,
            steps=3,
            lr=0.1,
            optimizer="sgd",
            depth=1,
            width=8,
            activation="relu",
            eval_every=1,
            seed=0,
            model=None,
        ),
    ),
    (gradcheck.numerical_gradient, dict(f=_f, x=_A.copy(), h=1e-5)),
    (gradcheck.relative_error, dict(analytic=_A, numeric=_A + 1e-9)),
    (gradcheck.norm_error, dict(analytic=_A, numeric=_A + 1e-9)),
    (gradcheck.check_gradient, dict(f=_f, x=_A.copy(), analytic=1 - np.tanh(_A) ** 2)),
    (
        gradcheck.check_gradient,
        dict(f=_f, x=_A.copy(), analytic=1 - np.tanh(_A) ** 2, entries=np.array([0, 3])),
    ),
    (gradcheck_models.softmax_cross_entropy, dict(scores=_A, y=np.array([0, 1, 1]))),
    (
        gradcheck_models.check_network,
        dict(
            x=_RNG.standard_normal((3, 4)),
            weights=[_RNG.standard_normal((4, 3)), _RNG.standard_normal((3, 2))],
            y=np.array([0, 1, 1]),
            activation="tanh",
        ),
    ),
    (
        gradcheck_models.check_module,
        dict(module=torch.nn.Linear(3, 2), x=_RNG.standard_normal((2, 3)), max_entries=4),
    ),
    (
        runs.initial_loss_sweep,
        dict(x=_X, y=_Y, num_classes=10, output_stds=[1e-3, 0.1], seeds=[0], depth=1, width=8),
    ),
    (
        runs.memorisation_over_seeds,
        dict(
            data=_DATA,
            seeds=(0,),
            n=10,
            steps=3,
            lr=0.1,
            shuffle_labels=False,
            eval_every=1,
            depth=1,
            width=8,
            activation="relu",
        ),
    ),
    (
        runs.difference_errors,
        dict(
            f=np.tanh,
            df=activations.tanh_grad,
            x0=0.5,
            steps=[1e-3, 1e-5],
            method="centred",
            dtype=np.float64,
        ),
    ),
    (
        runs_step_tradeoff.step_tradeoff,
        dict(h=1e-5, method="centred", dtype="float64", x0=0.5, num=20),
    ),
    (figures.StepView, dict(figure=Figure(), animated=False)),
    (
        explorer.SanityExplorer,
        dict(h=1e-5, method="centred", dtype="float64", figsize=(6, 3), dpi=50),
    ),
    (explorer.sanity_explorer, dict(h=1e-3, method="forward", dtype="float32")),
    (checks.numerical_gradient_cases, dict()),
    (
        checks.numerical_gradient_mistake,
        dict(got=_numerical_gradient(_f, _A.copy()), f=_f, x=_A.copy(), h=1e-5, exact=None),
    ),
    (checks.check_numerical_gradient, dict(numerical_gradient=_numerical_gradient)),
    (
        runs.initial_loss_over_seeds,
        dict(x=_X, y=_Y, num_classes=10, seeds=[0, 1], depth=1, width=8, output_std=None),
    ),
    (
        lecture_net.init_two_layer_model,
        dict(input_size=12, hidden_size=5, output_size=3, std=1e-4, seed=0),
    ),
    (
        lecture_net.two_layer_loss,
        dict(x=_X[:, :12], model=lecture_net.init_two_layer_model(12, 5, 10), y=_Y, reg=1e3),
    ),
    (lecture_net.cifar_shaped_inputs, dict(n=4, seed=0)),
    (
        lecture_net.lecture_loss_check,
        dict(x=_X, y=_Y, hidden_size=5, num_classes=10, std=1e-4, reg=1e3, seeds=[0, 1]),
    ),
    (recipe.label_entropy, dict(y=_Y)),
    (
        recipe.recipe_baselines,
        dict(data=_DATA, seeds=[0], epochs=1, batch_size=512, lr=0.1, depth=1, width=4),
    ),
    (recipe.TransposeByView, dict()),
    (
        recipe.batch_dependency,
        dict(model=sanity.fresh_classifier(64, 10, depth=1, width=8), x=_X, i=0),
    ),
    (
        depth_check.input_gradient_errors,
        dict(depths=[1, 2], activation="tanh", seeds=[0], width=3, n=1, h=1e-5),
    ),
    (figures.decade_ticks, dict(ax=Figure().add_subplot(), axis="x")),
    (
        runs.memorisation_true_and_shuffled,
        dict(
            data=_DATA,
            seeds=(0,),
            n=10,
            steps=3,
            lr=0.1,
            eval_every=1,
            depth=1,
            width=8,
            activation="relu",
        ),
    ),
]

EXEMPT = {}
