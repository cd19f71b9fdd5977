"""Valid example calls of chapter 07's public callables, varied one argument at a time by
tests/fuzz/harness.py."""

import numpy as np
import torch
from matplotlib.figure import Figure

from course_utils import augmentation as A
from course_utils import penalties
from course_utils import regularization as R
from course_utils.chapters.ch07_regularization import (
    checks,
    explorer,
    figures,
    runs,
    runs_explorer,
    runs_gap,
    runs_single,
)
from course_utils.data import load_digits

MODULES = [
    "course_utils.regularization",
    "course_utils.penalties",
    "course_utils.augmentation",
    "course_utils.chapters.ch07_regularization.runs",
    "course_utils.chapters.ch07_regularization.runs_gap",
    "course_utils.chapters.ch07_regularization.runs_studies",
    "course_utils.chapters.ch07_regularization.runs_single",
    "course_utils.chapters.ch07_regularization.runs_explorer",
    "course_utils.chapters.ch07_regularization.figures",
    "course_utils.chapters.ch07_regularization.explorer",
    "course_utils.chapters.ch07_regularization.checks",
    "course_utils.chapters.ch07_regularization.checks_network",
]

_RNG = np.random.default_rng(0)
_X = np.abs(_RNG.standard_normal((4, 3)))
_IMAGE = _RNG.random((12, 16, 3))  # float in [0, 1] (the harness cannot put -1 in uint8)
_NET = dict(
    X=_RNG.standard_normal((5, 3)),
    Y=_RNG.standard_normal((5, 2)),
    W1=_RNG.standard_normal((3, 4)),
    b1=np.zeros(4),
    W2=_RNG.standard_normal((4, 2)),
    b2=np.zeros(2),
)
_DIGITS = load_digits()
_SMALL = runs_gap.small_digits(20, 0.0, seed=0)


def _inverted_dropout(x, p, train, rng):
    x = np.asarray(x, dtype=np.float64)
    return x * (rng.random(x.shape) >= p) / (1.0 - p) if train else x.copy()


def _dropout_net_loss(X, Y, W1, b1, W2, b2, p, train, rng):
    z = X @ W1 + b1
    h = np.maximum(z, 0.0)
    factor = (rng.random(h.shape) >= p) / (1.0 - p) if train else 1.0
    h_tilde = h * factor
    scores = h_tilde @ W2 + b2
    loss = float(np.sum((scores - Y) ** 2) / (2 * len(X)))
    dscores = (scores - Y) / len(X)
    dz = (dscores @ W2.T) * factor * (z > 0)
    return loss, {
        "W1": X.T @ dz,
        "b1": dz.sum(axis=0),
        "W2": h_tilde.T @ dscores,
        "b2": dscores.sum(axis=0),
    }


CASES = [
    (R.check_drop_probability, dict(p=0.5, name="p")),
    (penalties.l2_penalty, dict(weights=[_X, _X], lam=0.1)),
    (penalties.l2_grad, dict(weights=_X, lam=0.1)),
    (penalties.l1_penalty, dict(weights=[_X], lam=0.1)),
    (penalties.l1_grad, dict(weights=_X, lam=0.1)),
    (penalties.torch_penalty, dict(kind="l2", lam=0.1)),
    (R.dropout_mask, dict(shape=(4, 3), p=0.5, seed=0)),
    (R.apply_dropout, dict(x=_X, mask=(_X > 0.5).tolist(), p=0.5, version=2)),
    (R.dropout, dict(x=_X, p=0.5, train=True, version=2, seed=0)),
    (R.DropoutStep, dict(p=0.5, train=True, version=2, seed=0, depth=3)),
    (R.dropout_net_loss, dict(**_NET, p=0.5, train=True, seed=0)),
    (R.dropconnect_mask, dict(shape=(3, 2), p=0.5, seed=0)),
    (R.dropconnect, dict(x=_X, W=np.ones((3, 2)), p=0.5, train=True, version=2, seed=0)),
    (R.linear_survival, dict(n_blocks=12, p_last=0.5)),
    (
        R.stochastic_depth,
        dict(x=_X, blocks=[np.tanh, np.tanh], survival=0.7, train=True, version=1, seed=0),
    ),
    (A.cutout, dict(image=_IMAGE, size=4, seed=0, fill=0.0)),
    (
        A.random_erasing,
        dict(image=_IMAGE, seed=0, p=1.0, scale=(0.02, 0.33), ratio=(0.3, 3.3), max_attempts=10),
    ),
    (A.random_flip, dict(image=_IMAGE, seed=0, p=0.5)),
    (A.random_crop, dict(image=_IMAGE, size=8, padding=2, seed=0)),
    (A.color_jitter, dict(image=_IMAGE, seed=0, brightness=0.4, contrast=0.4, saturation=0.4)),
    (runs.near_zero_share, dict(weights=[_X], threshold=1e-3)),
    (
        runs_single.penalty_weights,
        dict(kind="l1", lam=1e-3, data=_DIGITS, width=8, lr=0.1, epochs=1, batch_size=256, seed=0),
    ),
    (runs.decay_equivalence, dict(lam=0.01, lr=0.1, steps=2, seed=0)),
    (runs.monte_carlo_dropout, dict(x=_X, p=0.5, version=2, n_masks=100, seed=0, chunk=50)),
    (runs.expectation_gaps, dict(n_draws=20, p=0.5, seed=0, chunk=10)),
    (runs_gap.small_digits, dict(n_train=20, label_noise=0.2, seed=0)),
    (
        runs_single.gap_runs,
        dict(
            data=_SMALL,
            settings={"none": {}, "l2": {"l2": 0.01}},
            width=8,
            depth=1,
            lr=0.2,
            epochs=1,
            batch_size=10,
            seed=0,
            eval_every=None,
            activation="relu",
        ),
    ),
    (
        runs_gap.gap_over_seeds,
        dict(
            experiments={0.2: {"none": {}, "dropout": {"dropout": 0.5}}},
            seeds=(0,),
            n_train=20,
            width=8,
            depth=1,
            activation="gelu",
            lr=0.2,
            epochs=1,
            batch_size=10,
        ),
    ),
    (figures.plot_thinned_networks, dict(sizes=(3, 4, 2), p=0.5, seed=0, figsize=(6, 2), dpi=50)),
    (figures.plot_dropout_versions, dict(a=_X, p=0.5, seed=0, figsize=(6, 3), dpi=50)),
    (
        figures.plot_stochastic_depth,
        dict(
            ran=(_RNG.random((5, 4)) < 0.5).tolist(),
            survival=R.linear_survival(4),
            figsize=(6, 2),
            dpi=50,
        ),
    ),
    (
        figures.plot_augmentations,
        dict(images={"a": _IMAGE, "b": _IMAGE}, cols=2, figsize=(6, 3), dpi=50),
    ),
    (
        figures.plot_weight_histograms,
        dict(
            weights={"a": _X, "b": [_X, _X]},
            threshold=1e-3,
            limit=None,
            bins=11,
            figsize=(6, 2),
            dpi=50,
        ),
    ),
    (
        runs_explorer.dropout_demo,
        dict(p=0.5, version=2, method="dropout", seed=0, n=8, d=8, n_masks=50),
    ),
    (figures.DropoutView, dict(figure=Figure(), n=8, d=8, animated=False)),
    (
        explorer.DropoutExplorer,
        dict(p=0.5, version=2, method="dropout", seed=0, n_masks=50, figsize=(8, 2.5), dpi=50),
    ),
    (explorer.dropout_explorer, dict(p=0.5, version=2, method="DropConnect", seed=0)),
    (checks.check_inverted_dropout, dict(inverted_dropout=_inverted_dropout)),
    (checks.dropout_network_problem, dict(seed=7, n=6, d=4, hidden=8, c=3)),
    (checks.dropout_network_variant, dict(**_NET, p=0.5, train=True, seed=0)),
    (
        checks.dropout_network_mistake,
        dict(
            got=R.dropout_net_loss(**_NET, p=0.5, train=True, seed=np.random.default_rng(0)),
            **_NET,
            p=0.5,
            train=True,
            seed=0,
        ),
    ),
    (checks.check_dropout_network, dict(dropout_net_loss=_dropout_net_loss)),
    (R.dropout_penalty, dict(a=_X, W=np.ones((3, 2)), p=0.5)),
    (penalties.elastic_net_penalty, dict(weights=[_X, _X], l1=0.1, l2=0.1)),
    (penalties.elastic_net_grad, dict(weights=_X, l1=0.1, l2=0.1)),
    (penalties.max_norm, dict(W=_X, c=1.0, axis=0)),
    (runs.mask_set_errors, dict(x=_X, p=0.5, n_masks=100, n_sets=20, seed=0)),
    (runs.noise_injection, dict(p=0.5, sigma=0.5, n_draws=20, seed=0)),
    (runs.decay_problem, dict(seed=0)),
    (runs.softmax_loss_grad, dict(x=np.ones((4, 3)), y=np.array([0, 1, 2, 0]), w=np.ones((3, 3)))),
    (runs_gap.check_data, dict(data=_SMALL)),
    (
        runs_gap.check_settings,
        dict(what="settings", settings={"none": {}, "mn": {"max_norm": 1.0}}, max_norm=True),
    ),
    (
        runs_gap.penalty_study,
        dict(
            settings={"none": {}, "mn": {"max_norm": 1.0}},
            data=_SMALL,
            width=8,
            lr=0.1,
            epochs=1,
            batch_size=10,
            seed=0,
        ),
    ),
    (
        figures.plot_dropout_sweep,
        dict(
            p=[0.0, 0.5],
            train_acc=[[0.9, 0.8], [0.7, 0.75]],
            val_acc=[[0.6, 0.65], [0.7, 0.68]],
            figsize=(6, 2),
            dpi=50,
        ),
    ),
]

EXEMPT = {}
torch.set_num_threads(1)
