"""Valid example calls of chapter 05's public callables, varied one argument at a time by
tests/test_fuzz.py."""

import numpy as np
from matplotlib.figure import Figure

from course_utils import optim
from course_utils.chapters.ch05_optimizers import (
    checks,
    explorer,
    figures,
    parity,
    quadratic,
    runs,
    second_order,
    stochastic,
    surfaces,
)
from course_utils.data import load_digits

MODULES = [
    "course_utils.optim",
    "course_utils.optim.sgd",
    "course_utils.optim.adaptive",
    "course_utils.chapters.ch05_optimizers.runs",
    "course_utils.chapters.ch05_optimizers.figures",
    "course_utils.chapters.ch05_optimizers.surfaces",
    "course_utils.chapters.ch05_optimizers.explorer",
    "course_utils.chapters.ch05_optimizers.checks",
    "course_utils.chapters.ch05_optimizers.quadratic",
    "course_utils.chapters.ch05_optimizers.stochastic",
    "course_utils.chapters.ch05_optimizers.second_order",
    "course_utils.chapters.ch05_optimizers.parity",
]

_DIGITS = load_digits()
_QUAD = surfaces.SURFACES["quadratic"]


def _ax():
    return Figure().add_subplot()


def _axes():
    return Figure().subplots(1, 2)


def _race():
    return runs.digits_race(_DIGITS, {"SGD": ("SGD", dict(lr=0.1))}, width=8, epochs=1)


def _nesterov(grad, x, v, lr, momentum):
    v_next = momentum * v - lr * grad(x + momentum * v)
    return x + v_next, v_next


def _adam(x, dx, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * dx
    v = beta2 * v + (1 - beta2) * dx**2
    x_next = x - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps)
    return x_next, m, v


_RACE = _race()
_TRAJECTORY = surfaces.run(surface="quadratic", optimizer="SGD", lr=0.1, steps=50)

CASES = [
    # the lesson
    (
        optim.SGD,
        dict(
            params=[np.zeros(3)],
            lr=0.1,
            momentum=0.9,
            dampening=0.0,
            weight_decay=0.0,
            nesterov=False,
            maximize=False,
        ),
    ),
    (
        optim.Adagrad,
        dict(
            params=[np.zeros(3)],
            lr=0.1,
            lr_decay=0.0,
            weight_decay=0.0,
            initial_accumulator_value=0.0,
            eps=1e-10,
            maximize=False,
        ),
    ),
    (
        optim.RMSprop,
        dict(
            params=[np.zeros(3)],
            lr=0.01,
            alpha=0.99,
            eps=1e-8,
            weight_decay=0.0,
            momentum=0.0,
            centered=False,
            maximize=False,
        ),
    ),
    (
        optim.Adadelta,
        dict(params=[np.zeros(3)], lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False),
    ),
    (
        optim.Adam,
        dict(
            params=[np.zeros(3)],
            lr=1e-3,
            betas=(0.9, 0.999),
            eps=1e-8,
            weight_decay=0.0,
            amsgrad=False,
            maximize=False,
            decoupled_weight_decay=False,
        ),
    ),
    (
        optim.AdamW,
        dict(
            params=[np.zeros(3)],
            lr=1e-3,
            betas=(0.9, 0.999),
            eps=1e-8,
            weight_decay=0.01,
            amsgrad=False,
            maximize=False,
        ),
    ),
    (
        optim.adam_step,
        dict(
            x=np.ones(3),
            dx=np.ones(3),
            m=np.zeros(3),
            v=np.zeros(3),
            t=1,
            lr=1e-3,
            beta1=0.9,
            beta2=0.999,
            eps=1e-8,
        ),
    ),
    (
        optim.adam_update,
        dict(
            p=np.ones(3),
            g=np.ones(3),
            m=np.zeros(3),
            v=np.zeros(3),
            t=1,
            lr=1e-3,
            beta1=0.9,
            beta2=0.999,
            eps=1e-8,
            v_max=None,
        ),
    ),
    (
        optim.nesterov_step,
        dict(grad=lambda z: 2 * z, x=np.ones(3), v=np.zeros(3), lr=0.1, momentum=0.9),
    ),
    (
        optim.lecture_momentum,
        dict(grad=_QUAD.grad, x0=np.array([1.0, 1.0]), lr=0.01, momentum=0.9, steps=20),
    ),
    (
        optim.pytorch_momentum,
        dict(grad=_QUAD.grad, x0=np.array([1.0, 1.0]), lr=0.01, momentum=0.9, steps=20),
    ),
    # runs
    (runs.decay_only, dict(theta0=1.0, lr=0.01, weight_decay=0.1, steps=20)),
    (
        runs.weight_norm,
        dict(
            model=__import__("course_utils.training", fromlist=["_"]).build_mlp(
                4, 3, depth=1, width=4, seed=0
            )
        ),
    ),
    (
        runs.TorchAdapter,
        dict(
            optimizer_class="SGD",
            params=list(
                __import__("course_utils.training", fromlist=["_"])
                .build_mlp(4, 3, depth=1, width=4, seed=0)
                .parameters()
            ),
            lr=0.1,
        ),
    ),
    (
        runs.digits_race,
        dict(
            data=_DIGITS,
            contenders={"SGD": ("SGD", dict(lr=0.1))},
            depth=1,
            width=8,
            epochs=1,
            batch_size=64,
            seed=0,
        ),
    ),
    (runs.step_sizes, dict(optimizer="Adam", steps=50, gradient=1.0, lr=0.01)),
    # figures
    (figures.plot_family_graph, dict(ax=_ax())),
    (figures.plot_loss_curves, dict(axes=_axes(), results=_RACE, smooth=5)),
    (figures.TrajectoryView, dict(figure=Figure(figsize=(8.5, 3.3)))),
    # surfaces
    (
        surfaces.run,
        dict(surface="quadratic", optimizer="SGD", lr=0.1, steps=50, start=None, momentum=0.9),
    ),
    (runs.race, dict(surface="saddle", contenders={"GD": ("SGD", dict(lr=0.1))}, steps=50)),
    (surfaces.optimizer_settings, dict(optimizer="Adam", lr=0.1, momentum=0.9, beta2=0.999)),
    (
        surfaces.explore,
        dict(surface="quadratic", optimizer="SGD", lr=0.15, momentum=0.0, beta2=0.999, steps=50),
    ),
    (surfaces.quadratic_optimum, dict(eigenvalues=(0.1, 10.0))),
    (
        surfaces.contraction_rate,
        dict(trajectory=_TRAJECTORY, minimum=(0.0, 0.0), first=5, last=None),
    ),
    (surfaces.escape_step, dict(trajectory=_TRAJECTORY, threshold=0.5)),
    (surfaces.steps_to, dict(trajectory=_TRAJECTORY, tol=1e-3, minimum=(0.0, 0.0))),
    (surfaces.plot_surface, dict(ax=_ax(), surface="quadratic", levels=12, lines=True)),
    (
        surfaces.plot_trajectories,
        dict(ax=_ax(), trajectories={"SGD": _TRAJECTORY}, wide_below=True),
    ),
    (figures.plot_race, dict(axes=[_ax()], results={"quadratic": {"SGD": _TRAJECTORY}})),
    (
        figures.plot_phase_diagram,
        dict(ax=_ax(), points={"GD": (np.array([0.02, 1.98]), 0.0)}, n=20),
    ),
    (
        figures.plot_eigen_errors,
        dict(
            ax=_ax(), paths={"GD": quadratic.eigen_error(_TRAJECTORY.points, np.diag([0.1, 10.0]))}
        ),
    ),
    # quadratic theory
    (
        quadratic.iteration_rate,
        dict(eigenvalues=(0.1, 10.0), lr=0.2, momentum=0.5, nesterov=False),
    ),
    (quadratic.nesterov_settings, dict(eigenvalues=(0.1, 10.0))),
    (quadratic.momentum_regimes, dict(step=np.linspace(0, 4, 5), momentum=0.5)),
    (quadratic.lower_bound, dict(kappa=100.0, steps=20)),
    (
        quadratic.worst_case_error,
        dict(interval=(0.1, 10.0), lr=0.1, momentum=0.5, steps=20, nesterov=False, n=20),
    ),
    (quadratic.steps_to_tolerance, dict(errors=np.geomspace(1, 1e-8, 20), tol=1e-6)),
    (
        quadratic.eigen_error,
        dict(points=_TRAJECTORY.points, hessian=np.diag([0.1, 10.0]), minimum=(0.0, 0.0)),
    ),
    (quadratic.transient_peak, dict(points=_TRAJECTORY.points, axis=1)),
    # noise
    (
        stochastic.momentum_noise_floor,
        dict(eigenvalues=(0.1, 10.0), lr=0.1, momentum=0.5, noise=1.0),
    ),
    (
        stochastic.noisy_runs,
        dict(
            eigenvalues=(0.1, 10.0),
            start=(1.0, 1.0),
            lr=0.1,
            momentum=0.5,
            noise=1.0,
            steps=20,
            seeds=5,
            seed=0,
        ),
    ),
    (
        stochastic.noise_floor_run,
        dict(
            eigenvalues=(0.1, 10.0),
            start=(1.0, 1.0),
            lr=0.1,
            momentum=0.5,
            noise=1.0,
            steps=20,
            seeds=5,
            seed=0,
        ),
    ),
    (stochastic.median_quartiles, dict(values=np.arange(5.0))),
    (stochastic.batch_grad, dict(surface="saddle", points=np.ones((3, 2)))),
    (
        stochastic.noisy_race,
        dict(
            surface="quadratic",
            contenders={"GD": ("SGD", dict(lr=0.1))},
            steps=20,
            noise=1.0,
            seeds=5,
            seed=0,
        ),
    ),
    (
        stochastic.sparse_features,
        dict(
            optimizer="Adagrad",
            lr=0.5,
            frequencies=(1.0, 0.1),
            steps=20,
            seeds=5,
            noise=0.1,
            seed=0,
        ),
    ),
    # second order
    (second_order.hessian, dict(surface="rosenbrock", point=(0.5, 0.5))),
    (second_order.newton_run, dict(surface="rosenbrock", steps=5)),
    (second_order.lbfgs_run, dict(surface="rosenbrock", steps=10, history_size=5, lr=1.0)),
    (second_order.steps_below, dict(trajectory=_TRAJECTORY, tol=1e-3, f_min=0.0)),
    (second_order.outcome, dict(trajectory=_TRAJECTORY, tol=1e-3)),
    # parity
    (
        parity.torch_parity,
        dict(settings={"SGD": ("SGD", dict(lr=0.1))}, steps=5, seed=0),
    ),
    # explorer
    (
        explorer.OptimizerExplorer,
        dict(
            optimizer="SGD",
            lr=0.15,
            momentum=0.0,
            beta2=0.999,
            steps=50,
            surface="quadratic",
            figsize=(8.5, 3.3),
            dpi=72,
        ),
    ),
    (explorer.optimizer_explorer, dict(optimizer="Adam", lr=0.05, steps=50)),
    # checks
    (checks.check_nesterov_step, dict(nesterov_step=_nesterov)),
    (checks.check_adam_step, dict(adam_step=_adam)),
]
EXEMPT = {optim.Optimizer: "abstract base class (its _update is not implemented)"}
