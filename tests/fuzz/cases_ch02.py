"""Valid example calls of chapter 02's public callables, varied one argument at a time by
tests/test_fuzz.py."""

import numpy as np
from matplotlib.figure import Figure

from course_utils import preprocessing as P
from course_utils.chapters.ch02_preprocessing import (
    checks,
    explorer,
    figures,
    figures_images,
    runs,
    runs_conditioning,
    runs_images,
    runs_leakage,
    runs_pca,
)

MODULES = [
    "course_utils.preprocessing",
    "course_utils.chapters.ch02_preprocessing.runs",
    "course_utils.chapters.ch02_preprocessing.runs_images",
    "course_utils.chapters.ch02_preprocessing.runs_leakage",
    "course_utils.chapters.ch02_preprocessing.figures",
    "course_utils.chapters.ch02_preprocessing.explorer",
    "course_utils.chapters.ch02_preprocessing.checks",
    "course_utils.chapters.ch02_preprocessing.runs_conditioning",
    "course_utils.chapters.ch02_preprocessing.runs_pca",
    "course_utils.chapters.ch02_preprocessing.figures_images",
]

_rng = np.random.default_rng(0)
_X = _rng.standard_normal((40, 3)) @ np.array([[2.0, 0.5, 0.0], [0.0, 1.0, 0.3], [0, 0, 0.5]])
_IMAGES = _rng.integers(0, 256, (8, 4, 4, 3)).astype(np.float64)
# 4-D arrays as nested lists: the harness's broadcast probe of shape (10**5,) * 4 is too
# large for numpy's nditer and stops the harness (reported to the lead).
_TRAIN, _TEST, _ALL = _IMAGES[:6].tolist(), _IMAGES[6:].tolist(), _IMAGES.tolist()
_Y = np.arange(40) % 2
_DEMO = runs.whitening_demo(n=50)
_OFFSETS = runs_images.test_offsets_over_splits(_IMAGES, test_share=0.25, seeds=[0, 1])


_XT, _XV = _rng.standard_normal((30, 3)), _rng.standard_normal((10, 3))
_YT, _YV = np.arange(30) % 3, np.arange(10) % 3
_VARIANTS = runs_conditioning.preprocessed_variants(_XT, _XV, eps_values=(0.1,))
_FIT = P.Whitener("decorrelate").fit(_X)
_PATCH_ROWS = _rng.standard_normal((40, 12))
_PATCH_FIT = P.Whitener("zca", 1e-3).fit(_PATCH_ROWS)


def _zca(X, eps=1e-5):
    X = np.asarray(X, dtype=np.float64)
    centred = X - X.mean(axis=0)
    values, U = np.linalg.eigh(centred.T @ centred / len(X))
    W = U @ np.diag(1.0 / np.sqrt(values + eps)) @ U.T
    return centred @ W, W


CASES = [
    (P.check_matrix, dict(X=_X, name="X", min_rows=2)),
    (P.covariance, dict(X=_X)),
    (P.max_identity_deviation, dict(X=_X)),
    (P.Standardizer, dict()),
    (P.Whitener, dict(method="zca", eps=1e-5)),
    (P.whiten, dict(X=_X, method="pca", eps=1e-5)),
    (P.decorrelate, dict(X=_X)),
    (P.ImageNormalizer, dict(mode="channel")),
    (runs_images.photo_tiles, dict(photos=[np.zeros((8, 8, 3), np.uint8)], size=4)),
    (runs_images.split_rows, dict(n=20, test_share=0.25, seed=0)),
    (
        runs.correlated_gaussian,
        dict(correlation=0.5, angle=10.0, scale=1.5, n=50, seed=0, offset=np.array([1.0, 0.5])),
    ),
    (runs.whitening_demo, dict(correlation=0.5, angle=10.0, scale=1.5, n=50, seed=0, eps=1e-5)),
    (runs.whitening_distances, dict(X=_X, eps=1e-5, n_rotations=3, seed=0)),
    (runs_images.recipe_table, dict(train=_TRAIN, test=_TEST, digits=1)),
    (runs_leakage.leakage_table, dict(train=_X[:30], test=_X[30:])),
    (runs_leakage.constant_features, dict(train=_X[:30], test=_X[30:])),
    (runs.turned_cloud_check, dict(angle=30.0, correlation=0.5, scale=1.5, n=50, seed=0)),
    (figures.fitting_limit, dict(clouds=[_X[:, :2]], margin=0.5)),
    (runs.identity_table, dict(X=_X, eps_values=[1e-5])),
    (runs.sklearn_whitening_scale, dict(n=100)),
    (runs.svd_difference, dict(X=_X, eps=1e-12)),
    (runs.svd_difference, dict(X=_X, eps=1e-12, fit=P.Whitener("decorrelate").fit(_X))),
    (runs_images.test_offsets_over_splits, dict(images=_ALL, test_share=0.25, seeds=[0, 1])),
    (runs_images.offsets_table, dict(offsets=_OFFSETS)),
    (runs_leakage.leakage_over_splits, dict(x=_X, y=_Y, test_share=0.25, n_splits=2, seed=0)),
    (
        runs.WhiteningDemo,
        dict(
            original=_X,
            decorrelated=_X,
            pca=_X,
            zca=_X,
            cov_original=np.eye(3),
            cov_pca=np.eye(3),
            cov_zca=np.eye(3),
        ),
    ),
    (
        runs_images.SplitOffsets,
        dict(raw=np.zeros((2, 3)), standardised=np.zeros((2, 3)), seeds=(0, 1)),
    ),
    (
        runs_leakage.LeakageOverSplits,
        dict(
            max_mean_change=np.zeros(2),
            max_scale_change=np.zeros(2),
            test_mean_right=np.zeros(2),
            test_mean_leak=np.zeros(2),
        ),
    ),
    (
        figures.ScatterPanels,
        dict(
            figure=Figure(),
            titles=["a", "b"],
            limit=3.0,
            animated=False,
            marker_size=2.0,
            labels=[("x", "y"), ("u", "v")],
        ),
    ),
    (figures.plot_standardization, dict(X=_X[:, :2], figsize=(4.0, 2.0), dpi=50)),
    (figures.plot_whitening, dict(demo=_DEMO, figsize=(4.0, 2.0), dpi=50)),
    (
        explorer.whitening_explorer,
        dict(
            correlation=0.5,
            angle=10.0,
            scale=1.5,
            n=50,
            seed=0,
            eps=1e-5,
            figsize=(6.0, 2.0),
            dpi=50,
        ),
    ),
    (
        explorer.WhiteningExplorer,
        dict(
            correlation=0.5,
            angle=10.0,
            scale=1.5,
            n=50,
            seed=0,
            eps=1e-5,
            figsize=(6.0, 2.0),
            dpi=50,
        ),
    ),
    (checks.zca_check_data, dict(n=30, d=3, seed=0)),
    (runs_conditioning.preprocessed_variants, dict(x_train=_XT, x_val=_XV, eps_values=[0.1])),
    (runs_conditioning.least_squares_conditioning, dict(variants=_VARIANTS, y=_YT, tol=0.01)),
    (runs_conditioning.gradient_descent_steps, dict(x=_XT, y=_YT, target=1.0, max_steps=10)),
    (
        runs_conditioning.LeastSquaresConditioning,
        dict(
            names=("a",),
            lambda_max=np.ones(1),
            lambda_min=np.ones(1),
            steps=np.ones(1, dtype=np.int64),
            best_loss=np.ones(1),
            tol=0.01,
        ),
    ),
    (
        runs_conditioning.network_epochs,
        dict(
            variants=_VARIANTS,
            y_train=_YT,
            y_val=_YV,
            lrs=[0.1],
            seeds=[0],
            epochs=1,
            hidden=4,
            batch_size=8,
            target=0.5,
        ),
    ),
    (
        runs_conditioning.NetworkEpochs,
        dict(names=("a",), lrs=(0.1,), seeds=(0,), accuracy=np.zeros((1, 1, 1, 2)), target=0.9),
    ),
    (runs_pca.variance_kept, dict(X=_X)),
    (runs_pca.components_for, dict(X=_X, shares=[0.9])),
    (runs_pca.variance_table, dict(datasets={"a": _X, "b": _FIT}, shares=[0.9])),
    (runs_pca.pca_reconstruct, dict(X_train=_X, X=_X[:3], k=2)),
    (runs_pca.whiten_photo, dict(photo=np.ones((4, 4, 3)), whitener=_PATCH_FIT, size=2)),
    (runs_pca.noise_amplification, dict(X=_X, eps_values=[1e-5], noise_std=1.0)),
    (
        runs_pca.NoiseAmplification,
        dict(eps=np.ones(1), before=1.0, after=np.ones(1), noise_std=1.0),
    ),
    (runs_pca.image_likeness, dict(X=_X, eps=10.0, fit=_FIT)),
    (figures_images.stretch, dict(image=_X, spread=3.0)),
    (
        figures_images.plot_variance_kept,
        dict(
            kept={"a": np.linspace(0.5, 1, 4)},
            original=np.zeros(64),
            reconstructions={2: np.zeros(64)},
            figsize=(4.0, 2.0),
            dpi=50,
        ),
    ),
    (
        figures_images.plot_eigenvectors,
        dict(
            eigenvectors=np.ones((12, 2)),
            eigenvalues=np.ones(2),
            size=2,
            columns=2,
            figsize=(4.0, 2.0),
            dpi=50,
        ),
    ),
    (
        figures_images.plot_photos,
        dict(images={"a": np.zeros((4, 4, 3))}, figsize=(4.0, 2.0), dpi=50, stretched=["a"]),
    ),
    (checks.zca_mistake, dict(X=_X, eps=1e-5, W=np.eye(3))),
    (checks.check_zca_whiten, dict(zca_whiten=_zca)),
]
EXEMPT = {}
