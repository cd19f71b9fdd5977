"""Valid example calls of chapter 04's public callables, varied one argument at a time by
tests/test_fuzz.py."""

import numpy as np

from course_utils import batchnorm as B
from course_utils.chapters.ch04_batchnorm import (
    checks,
    checks_answers,
    explorer,
    figures,
    runs,
    runs_batch_size,
    runs_conv,
    runs_lr,
    runs_training,
)

MODULES = [
    "course_utils.batchnorm",
    "course_utils.chapters.ch04_batchnorm.runs",
    "course_utils.chapters.ch04_batchnorm.runs_batch_size",
    "course_utils.chapters.ch04_batchnorm.runs_training",
    "course_utils.chapters.ch04_batchnorm.explorer",
    "course_utils.chapters.ch04_batchnorm.figures",
    "course_utils.chapters.ch04_batchnorm.runs_conv",
    "course_utils.chapters.ch04_batchnorm.runs_lr",
    "course_utils.chapters.ch04_batchnorm.checks",
    "course_utils.chapters.ch04_batchnorm.checks_backward",
    "course_utils.chapters.ch04_batchnorm.checks_answers",
]

X = np.random.default_rng(0).standard_normal((6, 3))
X4 = np.random.default_rng(1).standard_normal((2, 3, 4, 4))
_, CACHE2D = B.batchnorm2d_forward(X4, np.ones(3), np.zeros(3))


class _Digits:
    """A tiny stand-in for load_digits(): 40 training and 10 validation examples."""

    rng = np.random.default_rng(2)
    x_train, y_train = rng.random((40, 64)), np.arange(40) % 10
    x_val, y_val = rng.random((10, 64)), np.arange(10)


TINY_STACK = runs_lr.train_stack([0.1], [0.0], [0], True, epochs=1, batch_size=20, data=_Digits())
_, CACHE = B.batchnorm_forward(X, np.ones(3), np.zeros(3))


def _forward(x, gamma, beta, eps=1e-5):
    return gamma * (x - x.mean(0)) / np.sqrt(x.var(0) + eps) + beta


def _backward(dout, x, gamma, eps=1e-5):
    n, inv_std = x.shape[0], 1.0 / np.sqrt(x.var(0) + eps)
    x_hat = (x - x.mean(0)) * inv_std
    dbeta, dgamma = dout.sum(0), (dout * x_hat).sum(0)
    return (gamma * inv_std / n) * (n * dout - dbeta - x_hat * dgamma), dgamma, dbeta


CASES = [
    (B.check_batch, dict(x=X, name="x")),
    (
        B.batchnorm_forward,
        dict(
            x=X,
            gamma=np.ones(3),
            beta=np.zeros(3),
            running_mean=np.zeros(3),
            running_var=np.ones(3),
            momentum=0.1,
            eps=1e-5,
            train=True,
        ),
    ),
    (B.batchnorm_backward, dict(dout=np.ones((6, 3)), cache=CACHE)),
    (
        B.BatchNormStep,
        dict(gammas=[np.ones(3)], betas=[np.zeros(3)], train=True, momentum=0.1, eps=1e-5),
    ),
    (runs.invariances, dict(scales=(0.1, 10.0), eps=1e-5, n=16, seed=0)),
    (runs.train_vs_eval, dict(batch_size=4, steps=3, features=2, momentum=0.1, eps=1e-5, seed=0)),
    (runs.relu_variance_share, dict()),
    (runs.critical_std, dict(width=64, eps=1e-5)),
    (runs.eps_effect, dict(std=0.01, depth=2, width=16, n=32, eps=1e-5, seed=0)),
    (
        runs_batch_size.batch_size_effect,
        dict(x=X, batch_sizes=(2, 4), n_batches=3, eps=1e-5, seed=0),
    ),
    (runs_batch_size.pair_normalised, dict(x=X[:2], eps=1e-5)),
    (runs.active_share, dict(activations=[np.maximum(X, 0.0)])),
    (
        runs_batch_size.batch_noise,
        dict(x=X, batch_sizes=(2, 4), probes=2, n_batches=3, eps=1e-5, seed=0),
    ),
    (
        B.batchnorm2d_forward,
        dict(
            x=X4,
            gamma=np.ones(3),
            beta=np.zeros(3),
            running_mean=np.zeros(3),
            running_var=np.ones(3),
            momentum=0.1,
            eps=1e-5,
            train=True,
        ),
    ),
    (B.batchnorm2d_backward, dict(dout=np.ones((2, 3, 4, 4)), cache=CACHE2D)),
    (
        B.fold_batchnorm,
        dict(
            weight=np.ones((3, 2)),
            bias=np.zeros(3),
            gamma=np.ones(3),
            beta=np.zeros(3),
            running_mean=np.zeros(3),
            running_var=np.ones(3),
            eps=1e-5,
        ),
    ),
    (
        runs_conv.conv_batchnorm_check,
        dict(channels=2, batch_size=4, steps=1, seed=0, data=_Digits()),
    ),
    (
        runs_lr.train_stack,
        dict(
            lrs=[0.1],
            weight_decays=[0.0],
            seeds=[0],
            batchnorm=True,
            std=0.1,
            depth=1,
            width=4,
            epochs=1,
            batch_size=20,
            data=_Digits(),
        ),
    ),
    (runs_lr.stack_to_torch, dict(runs=TINY_STACK, s=0)),
    (
        figures.effective_lr_figure,
        dict(
            curves=[(1.0, 0.0, np.array([0.5, 0.4]))],
            steps_per_epoch=1,
            figsize=(4.0, 2.0),
            dpi=50,
        ),
    ),
    (
        figures.relu_histograms,
        dict(
            rows=[[np.maximum(X, 0.0)]],
            row_titles=["r"],
            title="t",
            figsize=(3.0, 2.0),
            dpi=50,
        ),
    ),
    (
        runs_training.bad_init_mlp,
        dict(std=0.01, batchnorm=True, depth=2, width=8, bad_output=False, seed=0),
    ),
    (
        runs_training.recalibrated,
        dict(model=runs_training.bad_init_mlp(0.1, True, depth=1, width=4), x=np.zeros((4, 64))),
    ),
    (
        runs.explorer_run,
        dict(
            std=0.1,
            batchnorm=True,
            batch_size=8,
            activation="relu",
            depth=2,
            width=16,
            eps=1e-5,
            seed=0,
        ),
    ),
    (
        explorer.batchnorm_explorer,
        dict(std=0.01, batchnorm=True, batch_size=16, activation="tanh", eps=1e-5, seed=0),
    ),
    (explorer.BatchNormExplorer, dict(std=0.1, batchnorm=False, batch_size=8)),
    (checks.check_bn_forward, dict(bn_forward_train=_forward)),
    (checks.check_bn_backward, dict(bn_backward_train=_backward)),
    (checks_answers.eps_arguments, dict(eps=1e-5)),
    (checks_answers.matches, dict(got=X, candidate=X + 1e-9, tol=1e-8)),
]
EXEMPT = {
    B.BatchNormCache: "a result dataclass made by batchnorm_forward",
    runs.Invariances: "a result dataclass",
    runs.TrainVsEval: "a result dataclass",
    runs.EpsEffect: "a result dataclass",
    runs_batch_size.BatchSizeEffect: "a result dataclass",
    runs_training.InitComparison: "a result dataclass",
    runs_training.RunningStatsLag: "a result dataclass",
    runs.ExplorerRun: "a result dataclass",
    runs_batch_size.BatchNoise: "a result dataclass",
    runs_conv.ConvCheck: "a result dataclass",
    runs_lr.StackRuns: "a result dataclass",
    runs_lr.LrComparison: "a result dataclass",
    runs_lr.lr_comparison: "two train_stack calls of len(lrs) x len(seeds) MLPs (seconds); "
    "train_stack is fuzzed, and lr_comparison's own arguments are bounded and tested",
    runs_training.init_comparison: "trains 2 x len(stds) MLPs for epochs (seconds each); its sizes are "
    "bounded (MAX_MLP_*, MAX_TRAIN_EPOCHS, check_work) and tested",
    runs_training.running_stats_lag: "trains len(stds) x len(seeds) MLPs (seconds each)",
    checks.bn_forward_cases: "no arguments: the check's fixed cases",
    checks.bn_backward_cases: "no arguments: the check's fixed cases",
    checks.bn_forward_mistake: "a hint for a wrong answer, called by check_bn_forward",
    checks.bn_backward_mistake: "a hint for a wrong answer, called by check_bn_backward",
    checks.bn_numerical_gradients: "a helper of check_bn_backward (centred differences)",
    checks_answers.as_float_array: "reads an answer's returned value: every value is allowed "
    "(None: not numbers), and NaN passes through for the check to report",
}
