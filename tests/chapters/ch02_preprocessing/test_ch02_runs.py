"""Chapter 02: every number the notebook prints or its text states (its exercise is tested in
test_ch02_checks.py, its explorer in test_ch02_explorer.py).

The assertions are on the package's functions, not on the notebook (nbval compares the
notebook's outputs with the stored ones; these tests say why those outputs are right).
"""

from pathlib import Path

import nbformat
import numpy as np
import pytest
from sklearn.decomposition import PCA

from course_utils import preprocessing as P
from course_utils.chapters.ch02_preprocessing import runs as R
from course_utils.chapters.ch02_preprocessing import runs_images as RI
from course_utils.chapters.ch02_preprocessing import runs_leakage as RL
from course_utils.chapters.ch02_preprocessing.explorer import whitening_explorer
from course_utils.data import load_sample_photos

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "notebooks" / "02_data_preprocessing.ipynb"
SEED = 0
PRINTED = dict(atol=5e-4, rtol=0)  # printed with 3 decimals


def numbers(line: str) -> list:
    out = []
    for cell in line.replace(":", " ").split():
        try:
            out.append(float(cell))
        except ValueError:
            pass
    return out


@pytest.fixture(scope="module")
def demo():
    return R.whitening_demo(correlation=0.8, angle=0.0, scale=1.5, n=500, seed=SEED)


@pytest.fixture(scope="module")
def photos():
    return load_sample_photos()


# ---------------------------------------------------------------- 1. standardisation
def test_standardisation_centres_and_scales_but_keeps_the_correlation():
    cloud = R.correlated_gaussian(correlation=0.5, angle=0.0, scale=2.0, seed=SEED)
    out = P.Standardizer().fit(cloud).transform(cloud)
    np.testing.assert_allclose(cloud.mean(axis=0), [1.412, 0.898], **PRINTED)
    np.testing.assert_allclose(cloud.std(axis=0), [0.984, 1.949], **PRINTED)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=0), 1, atol=1e-12)
    before, after = np.corrcoef(cloud.T)[0, 1], np.corrcoef(out.T)[0, 1]
    assert before == pytest.approx(0.511, abs=5e-4) and after == pytest.approx(before)


# ---------------------------------------------------------------- 2. whitening
def test_decorrelated_covariance_is_diagonal_with_the_eigenvalues(demo):
    np.testing.assert_allclose(demo.cov_original, [[0.969, 1.168], [1.168, 2.167]], **PRINTED)
    cov = P.covariance(demo.decorrelated)
    np.testing.assert_allclose(np.diag(cov), [2.881, 0.255], **PRINTED)
    np.testing.assert_allclose(np.diag(cov), np.linalg.eigvalsh(demo.cov_original)[::-1])
    assert abs(cov[0, 1]) < 1e-12


def test_identity_deviation_is_what_eps_predicts(demo):
    table = R.identity_table(demo.original, eps_values=(1e-5, 1e-10))
    rows = table.splitlines()[2:]
    assert numbers(rows[0])[1:] == [3.92e-05, 2.95e-05, 3.92e-05]
    assert numbers(rows[1])[1:] == [3.92e-10, 2.95e-10, 3.92e-10]
    for method in ("pca", "zca"):
        assert P.max_identity_deviation(P.whiten(demo.original, method, eps=1e-10)) < 1e-6


def _sklearn_difference(X, fit) -> float:
    """Largest |our PCA whitening - scikit-learn's PCA(whiten=True) x sqrt(N / (N - 1))|, each
    component's sign aligned with ours (the notebook's text quotes this test and its 1e-6)."""
    ours = fit.with_method("pca", 1e-12).transform(X)
    theirs = PCA(whiten=True).fit_transform(X) * R.sklearn_whitening_scale(len(X))
    theirs *= np.sign((ours * theirs).sum(axis=0))
    return float(np.abs(ours - theirs).max())


def test_photo_patches_whiten_and_agree_with_sklearn(photos):
    patches = RI.photo_tiles(photos.values(), size=8)
    rows = patches.reshape(len(patches), -1)
    assert rows.shape == (8480, 192)
    fit = P.Whitener("decorrelate").fit(rows)  # the notebook's one fit, reused as there
    assert P.max_identity_deviation(fit.with_method("zca", 1e-10).transform(rows)) < 1e-6
    # the printed factor, and that it is the ratio of our whitened data to scikit-learn's
    assert R.sklearn_whitening_scale(len(rows)) == pytest.approx(1.000059, abs=5e-7)
    ours = fit.with_method("pca", 1e-12).transform(rows)
    theirs = PCA(whiten=True).fit_transform(rows)
    np.testing.assert_allclose(
        ours.std(axis=0) / theirs.std(axis=0), R.sklearn_whitening_scale(len(rows)), rtol=1e-9
    )
    # the agreement the notebook's text states (scikit-learn is imported here, not there)
    assert _sklearn_difference(rows, fit) < 1e-6
    # and the check the notebook prints: against a plain SVD of the covariance
    assert R.svd_difference(rows, fit=fit) < 1e-6


def test_a_reused_fit_whitens_as_a_new_one():
    # what lets the notebook fit the photo patches once: with_method's numbers are a refit's
    X = np.random.default_rng(3).standard_normal((300, 5)) @ np.triu(np.ones((5, 5)))
    fit = P.Whitener("decorrelate").fit(X)
    for method, eps in (("zca", 1e-10), ("pca", 1e-12)):
        np.testing.assert_array_equal(
            fit.with_method(method, eps).transform(X), P.whiten(X, method, eps=eps)
        )
    assert R.svd_difference(X, fit=fit) == R.svd_difference(X)
    for bad in ("fit", P.Whitener("pca"), P.Whitener("pca").fit(X[:, :3])):
        with pytest.raises(ValueError, match="fit must be a Whitener fit on X"):
            R.svd_difference(X, fit=bad)


def test_the_svd_check_finds_a_wrong_whitening():
    # svd_difference is a real check: against scikit-learn it agrees to 1e-9 here, and a
    # whitening with a wrong eps (or a wrong mean) is far off
    X = np.random.default_rng(4).standard_normal((400, 6)) @ np.triu(np.ones((6, 6))) + 3.0
    fit = P.Whitener("decorrelate").fit(X)
    assert R.svd_difference(X, fit=fit) < 1e-9
    assert _sklearn_difference(X, fit) < 1e-9
    wrong = P.Whitener("decorrelate").fit(X + 0.5)  # a mean off by 0.5 in every feature
    assert R.svd_difference(X, fit=wrong) > 0.1
    assert R.svd_difference(X, eps=1.0) < 1e-9  # the same eps on both sides


def test_zca_is_the_closest_whitening_and_pca_depends_on_the_signs(demo):
    distances = R.whitening_distances(demo.original, eps=1e-5, n_rotations=100, seed=SEED)
    assert list(distances.values()) == pytest.approx([3.892, 2.839, 7.433, 0.731, 0.736], abs=5e-4)
    assert distances["ZCA"] < distances["best of random rotations"] < distances["PCA, best signs"]
    # the closed-form best and worst signs are the extremes of all 2^D = 4 sign choices
    centred = demo.original - demo.original.mean(axis=0)
    white = P.Whitener("pca", 1e-5).fit_transform(demo.original)
    every = [
        ((white * np.array(s) - centred) ** 2).sum(axis=1).mean()
        for s in [(1, 1), (1, -1), (-1, 1), (-1, -1)]
    ]
    assert min(every) == pytest.approx(distances["PCA, best signs"], rel=1e-12)
    assert max(every) == pytest.approx(distances["PCA, worst signs"], rel=1e-12)
    assert distances["PCA, our signs"] == pytest.approx(every[0], rel=1e-12)
    # ZCA does not depend on the signs: U diag(d) U^T is unchanged by flipping a column of U
    w = P.Whitener("zca", 1e-5).fit(demo.original)
    flipped = w.eigenvectors_ * np.array([1.0, -1.0])
    np.testing.assert_allclose(
        (flipped / np.sqrt(w.eigenvalues_ + 1e-5)) @ flipped.T, w.matrix_, atol=1e-12
    )


def test_every_symmetric_sign_choice_whitens_but_only_zca_is_positive_definite(demo):
    w = P.Whitener("pca", 1e-12).fit(demo.original)
    U, lam = w.eigenvectors_, w.eigenvalues_
    centred = demo.original - w.mean_
    for signs in [(1, 1), (1, -1), (-1, 1), (-1, -1)]:
        W = (U * (np.array(signs) / np.sqrt(lam))) @ U.T
        assert np.allclose(W, W.T)
        assert P.max_identity_deviation(centred @ W) < 1e-9
        assert (np.linalg.eigvalsh(W).min() > 0) == (signs == (1, 1))


# ---------------------------------------------------------------- 3. the seed's table
def test_recipe_table_on_photo_tiles(photos):
    tiles = RI.photo_tiles(photos.values(), size=32)
    train, test = RI.split_rows(len(tiles), test_share=0.25, seed=SEED)
    assert tiles[train].shape == (390, 32, 32, 3) and tiles[test].shape == (130, 32, 32, 3)
    image = P.ImageNormalizer("image").fit(tiles[train])
    assert (round(image.mean_.min(), 1), round(image.mean_.max(), 1)) == (97.2, 118.4)
    resnet = P.ImageNormalizer("channel_std").fit(tiles[train])
    np.testing.assert_allclose(resnet.mean_, [103.0, 112.4, 102.7], atol=0.05)
    np.testing.assert_allclose(resnet.std_, [95.9, 77.3, 84.4], atol=0.05)
    std_image = image.transform(tiles[train]).std(axis=(0, 1, 2))
    std_channel = (
        P.ImageNormalizer("channel").fit(tiles[train]).transform(tiles[train]).std(axis=(0, 1, 2))
    )
    np.testing.assert_allclose(std_image, [95.89, 77.30, 84.40], atol=0.005)
    np.testing.assert_allclose(std_channel, [95.90, 77.32, 84.43], atol=0.005)
    test_out = resnet.transform(tiles[test])
    np.testing.assert_allclose(test_out.mean(axis=(0, 1, 2)), [-0.09, -0.10, -0.11], atol=0.005)
    np.testing.assert_allclose(test_out.std(axis=(0, 1, 2)), [0.98, 0.96, 0.95], atol=0.005)
    raw = image.transform(tiles[test]).mean(axis=(0, 1, 2))
    np.testing.assert_allclose(raw, [-8.78, -7.38, -9.18], atol=0.005)
    table = RI.recipe_table(tiles[train], tiles[test])
    assert "mean image (32, 32, 3): 97.2 to 118.4" in table
    assert "channel means 103.0 112.4 102.7  95.9 77.3 84.4" in table


def test_recipe_table_on_digits(digits):
    as_images = lambda x: (16 * x).reshape(-1, 8, 8, 1)  # noqa: E731
    train, val = as_images(digits.x_train), as_images(digits.x_val)
    image = P.ImageNormalizer("image").fit(train)
    assert (round(image.mean_.min(), 1), round(image.mean_.max(), 1)) == (0.0, 12.1)
    assert image.transform(train).std() == pytest.approx(4.33, abs=0.005)
    assert P.ImageNormalizer("channel").fit(train).transform(train).std() == pytest.approx(
        6.02, abs=0.005
    )
    assert "mean image (8, 8, 1): 0.0 to 12.1" in RI.recipe_table(train, val)


# ---------------------------------------------------------------- 4. the train-only rule
def test_leak_numbers_and_the_pixel_behind_the_big_scale_change(digits):
    table = RL.leakage_table(digits.x_train, digits.x_val)
    rows = [numbers(line) for line in table.splitlines()[2:]]
    assert rows[0] == [0.0, 0.0, 0.0346, 1.0764, 1.0092]
    assert rows[1] == [0.0099, 0.9979, 0.0255, 1.0070, 0.9753]
    assert "mean σ, 60 varying" in table
    # the explanation: 3 blank pixels (std 0 either way) and pixel 24 (0.004 -> 1.995)
    constant = RL.constant_features(digits.x_train, digits.x_val)
    lines = [numbers(line) for line in constant.splitlines()[2:]]
    assert lines == [
        [0, 0, 0.0, 0.0, 0.0],
        [24, 2, 0.004, 1.995, 29.958],
        [32, 0, 0.0, 0.0, 0.0],
        [39, 0, 0.0, 0.0, 0.0],
    ]
    assert (60 * 1.0764 + 0.004) / 64 == pytest.approx(1.0092, abs=2e-4)
    assert (60 * 1.0070 + 1.995) / 64 == pytest.approx(0.9753, abs=2e-4)
    right = P.Standardizer().fit(digits.x_train)
    leak = P.Standardizer().fit(np.concatenate([digits.x_train, digits.x_val]))
    pixel = np.argmax(np.abs(leak.scale_ - right.scale_))
    # exact by construction: a column of zeros has std 0, and the scaler then sets scale 1.0
    assert digits.x_train[:, pixel].std() == 0 and right.scale_[pixel] == 1.0
    assert leak.scale_[pixel] == pytest.approx(0.002, abs=5e-4)
    assert leak.transform(digits.x_val)[:, pixel].max() == pytest.approx(30.0, abs=0.05)


def test_test_offsets_over_200_splits(photos):
    # "over 200 random splits the offset averages close to 0 (+0.7 raw, +0.01 standardised) with
    # an SD of 7 to 9 per channel (0.09 to 0.10 standardised), anywhere from -24 to +25"
    tiles = RI.photo_tiles(photos.values(), size=32)
    offsets = RI.test_offsets_over_splits(tiles, test_share=0.25, seeds=range(200))
    train, test = RI.split_rows(len(tiles), test_share=0.25, seed=SEED)
    # seed 0 is the recipe table's split; the sums-based statistics agree with ImageNormalizer
    # to rounding (1e-9: values up to 255, sums of up to 10^8 terms)
    for mode, got in (("channel", offsets.raw[0]), ("channel_std", offsets.standardised[0])):
        fitted = P.ImageNormalizer(mode).fit(tiles[train])
        np.testing.assert_allclose(
            got, fitted.transform(tiles[test]).mean(axis=(0, 1, 2)), atol=1e-9
        )
    np.testing.assert_allclose(offsets.raw.mean(axis=0), [0.75, 0.72, 0.75], atol=0.005)
    np.testing.assert_allclose(offsets.raw.std(axis=0, ddof=1), [8.74, 7.04, 8.12], atol=0.005)
    np.testing.assert_allclose(
        offsets.standardised.std(axis=0, ddof=1), [0.092, 0.092, 0.098], atol=5e-4
    )
    assert np.all(np.abs(offsets.standardised.mean(axis=0)) < 0.015)
    assert (round(offsets.raw.min()), round(offsets.raw.max())) == (-24, 25)
    table = RI.offsets_table(offsets)
    assert "-8.78 -7.38 -9.18     0.75 0.72 0.75     8.74 7.04 8.12      -23.59 to 24.67" in table


def test_leakage_over_50_splits(digits):
    x = np.concatenate([digits.x_train, digits.x_val])
    y = np.concatenate([digits.y_train, digits.y_val])
    leak = RL.leakage_over_splits(x, y, n_splits=50, seed=SEED)
    assert leak.n == 50
    assert leak.leak_looks_better == 50  # "better in each of the 50 splits"
    assert leak.blank_pixel_splits == 17  # "it happens in 17"
    assert leak.largest_other_scale_change < 0.02  # "in the others ... less than 0.02"
    spreads = leak.spreads()
    assert round(spreads["test_mean_right"].median, 4) == pytest.approx(0.0329, abs=1e-9)
    assert round(spreads["test_mean_leak"].median, 4) == pytest.approx(0.0246, abs=1e-9)
    assert round(spreads["max_scale_change"].max, 4) == pytest.approx(0.9985, abs=1e-9)
    with pytest.raises(ValueError, match="y must have shape"):
        RL.leakage_over_splits(x, y[:-1])
    with pytest.raises(ValueError, match="n_splits must be between 1 and 1000"):
        RL.leakage_over_splits(x, y, n_splits=0)


# ---------------------------------------------------------------- 5. the explorer cell
def test_explorer_cell_numbers():
    turned = R.turned_cloud_check(45.0, correlation=0.8, scale=1.5, seed=SEED)
    assert all(value < 1e-9 for value in turned.values())
    ex = whitening_explorer(correlation=0.8, angle=45.0, scale=1.5, seed=SEED)
    ex.controls["correlation"].value = 1.0
    assert "singular" in ex.message
    ex.controls["correlation"].value = 0.95
    ex.controls["scale"].value = 0.5
    assert ex.message == ""
    assert np.linalg.eigvalsh(ex.result.cov_original)[0] == pytest.approx(0.018, abs=1e-3)
    assert "after PCA [[1.000, 0.000], [0.000, 0.999]]" in ex.summary


def test_notebook_structure():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    assert sum("SEED = " in s for s in sources) == 1
    assert sum(s.startswith("explorer = whitening_explorer(") for s in sources) == 1
    # sources[0] is the Colab set-up cell (tools/launch_links.py), then the chapter's setup
    assert (
        "from course_utils.chapters.ch02_preprocessing.explorer import whitening_explorer"
        in sources[1]
    )
    assert "数据预处理" in nb.cells[1].source  # the title, after the launch badges


def test_turning_the_cloud_moves_zca_but_not_pca_whitening():
    # The explorer's text: PCA-whitened points do not depend on the angle (up to signs),
    # ZCA-whitened points turn with the data.
    start = R.whitening_demo(angle=0.0)
    for angle in (30.0, 60.0):
        turned = R.whitening_demo(angle=angle)
        np.testing.assert_allclose(np.abs(turned.pca), np.abs(start.pca), atol=1e-12)
        t = np.deg2rad(angle)
        rotation = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
        np.testing.assert_allclose(turned.zca, start.zca @ rotation.T, atol=1e-12)


def test_static_figures_label_their_axes_and_hold_every_point(demo):
    from course_utils.chapters.ch02_preprocessing.figures import (
        plot_standardization,
        plot_whitening,
    )

    cloud = R.correlated_gaussian(correlation=0.5, angle=0.0, scale=2.0, seed=SEED)
    assert np.abs(cloud).max() > 6  # the old fixed +-6 frame cut this point off
    for figure in (plot_standardization(cloud), plot_whitening(demo)):
        for ax in figure.axes:
            assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
            points = ax.collections[0].get_offsets()
            (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
            assert np.all((points[:, 0] > x0) & (points[:, 0] < x1))
            assert np.all((points[:, 1] > y0) & (points[:, 1] < y1))


# ---------------------------------------------------------------- the runs' own contracts
def test_zca_is_the_whitening_closest_to_the_centred_data():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((300, 5)) @ (rng.standard_normal((5, 5)) + 2 * np.eye(5)) + 4.0
    centred = X - X.mean(axis=0)
    distances = R.whitening_distances(X, eps=1e-5, n_rotations=50, seed=0)
    assert distances["ZCA"] == min(distances.values())  # min returns one of the values: exact
    assert distances["ZCA"] < distances["PCA, best signs"]
    zca = P.whiten(X, "zca")
    assert distances["ZCA"] == pytest.approx(((zca - centred) ** 2).sum(axis=1).mean())


def test_photo_tiles_cut_without_overlap():
    photo = np.arange(10 * 12 * 3).reshape(10, 12, 3)
    tiles = RI.photo_tiles([photo, photo], size=4)
    assert tiles.shape == (12, 4, 4, 3)
    np.testing.assert_array_equal(tiles[1], photo[0:4, 4:8])
    np.testing.assert_array_equal(tiles[3], photo[4:8, 0:4])


def test_split_rows_is_a_seeded_partition():
    train, test = RI.split_rows(10, 0.3, seed=0)
    assert len(test) == 3 and sorted(np.r_[train, test]) == list(range(10))
    assert np.array_equal(RI.split_rows(10, 0.3, seed=0)[1], test)


def test_whitening_demo_uses_the_same_draws_and_has_the_asked_covariance():
    demo = R.whitening_demo(correlation=0.5, angle=0.0, scale=2.0, n=20000, seed=0)
    np.testing.assert_allclose(demo.cov_original, [[1, 1], [1, 4]], atol=0.06)
    assert P.max_identity_deviation(demo.pca) < 1e-4 and P.max_identity_deviation(demo.zca) < 1e-4
    a, b = R.correlated_gaussian(0.1, 10, 1, 50, 3), R.correlated_gaussian(0.1, 10, 1, 50, 3)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: R.correlated_gaussian(correlation=1.0), "correlation must be strictly between"),
        (lambda: R.correlated_gaussian(scale=0.0), "scale must be > 0 and <= 1e6; got 0"),
        (lambda: R.correlated_gaussian(angle=float("inf")), "angle must be a finite number"),
        (lambda: RI.photo_tiles([np.ones((4, 4, 3))], size=8), r"H, W >= 8"),
        (lambda: RI.split_rows(10**9, 0.2, 0), "n must be between 2 and"),
        (lambda: RI.split_rows(10, 1.0, 0), "test_share must be > 0 and < 1"),
        (lambda: R.whitening_distances(np.ones((5, 2)), n_rotations=10**9), "n_rotations must be"),
        (lambda: R.identity_table(np.eye(3), eps_values=[]), "eps_values must have between 1"),
        (lambda: RI.offsets_table("offsets"), "offsets must be a SplitOffsets"),
        (
            lambda: RI.recipe_table(np.ones((2, 2, 2, 3)), np.ones((2, 2, 2, 1))),
            r"test must have shape \(any, 2, 2, 3\)",
        ),
        (lambda: RL.leakage_table(np.ones((3, 2)), np.ones((3, 4))), "test must have 2 columns"),
        (lambda: RI.test_offsets_over_splits(np.ones((2, 2, 2, 3)), seeds=[-1]), r"seeds\[0\]"),
        (
            lambda: RL.leakage_over_splits(np.ones((8, 2)), np.arange(8)),
            "every class at least twice",
        ),
    ],
)
def test_bad_input_raises_value_error_saying_what_is_allowed(call, message):
    with pytest.raises(ValueError, match=message):
        call()
