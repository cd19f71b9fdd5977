"""course_utils.preprocessing against scikit-learn, the claims of chapter 02, and bad input."""

import math

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from course_utils import preprocessing as P

TIGHT = dict(atol=1e-10, rtol=1e-10)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((400, 5)) @ (rng.standard_normal((5, 5)) + 2 * np.eye(5)) + 4.0
    return X[:300], X[300:]


def test_covariance_divides_by_n(data):
    X = data[0]
    np.testing.assert_allclose(P.covariance(X), np.cov(X, rowvar=False, ddof=0), **TIGHT)


def test_standardizer_equals_sklearn_fit_on_train_applied_to_test(data):
    train, test = data
    ours = P.Standardizer().fit(train)
    theirs = StandardScaler().fit(train)
    np.testing.assert_allclose(ours.transform(test), theirs.transform(test), **TIGHT)
    np.testing.assert_allclose(ours.fit_transform(train).std(axis=0), 1.0, **TIGHT)


def test_standardizer_leaves_constant_features_centred_only():
    X = np.column_stack([np.ones(10), np.arange(10.0)])
    out = P.Standardizer().fit_transform(X)
    np.testing.assert_array_equal(out[:, 0], 0.0)
    np.testing.assert_allclose(out, StandardScaler().fit_transform(X), **TIGHT)


def sign_aligned(ours, theirs):
    signs = np.sign((ours * theirs).sum(axis=0))
    return theirs * signs


def test_pca_whitening_equals_sklearn_up_to_signs_and_ddof(data):
    train, test = data
    n = len(train)
    ours = P.Whitener("pca", eps=1e-12).fit(train)
    sk = PCA(whiten=True).fit(train)
    # sklearn's explained_variance_ divides by N - 1: our whitened data = sklearn's * sqrt(N/(N-1))
    np.testing.assert_allclose(ours.eigenvalues_, sk.explained_variance_ * (n - 1) / n, **TIGHT)
    for X in (train, test):
        theirs = sk.transform(X) * math.sqrt(n / (n - 1))
        np.testing.assert_allclose(ours.transform(X), sign_aligned(ours.transform(X), theirs),
                                   atol=1e-8, rtol=1e-8)


@pytest.mark.parametrize("method", ["pca", "zca"])
def test_whitened_training_data_have_identity_covariance(data, method):
    X = data[0]
    white = P.whiten(X, method, eps=1e-10)
    assert white.dtype == np.float64 and white.shape == X.shape
    assert P.max_identity_deviation(white) < 1e-6
    # with eps the covariance has eigenvalues Λ / (Λ + eps) (for PCA: it is that diagonal)
    w = P.Whitener(method, eps=0.1).fit(X)
    lam = w.eigenvalues_
    np.testing.assert_allclose(np.linalg.eigvalsh(P.covariance(w.transform(X)))[::-1],
                               lam / (lam + 0.1), **TIGHT)
    if method == "pca":
        assert P.max_identity_deviation(w.transform(X)) == pytest.approx(0.1 / (lam[-1] + 0.1))


def test_zca_is_pca_whitening_rotated_back_and_symmetric(data):
    X = data[0]
    pca, zca = P.Whitener("pca").fit(X), P.Whitener("zca").fit(X)
    np.testing.assert_allclose(zca.transform(X), pca.transform(X) @ pca.eigenvectors_.T, **TIGHT)
    np.testing.assert_allclose(zca.matrix_, zca.matrix_.T, **TIGHT)
    assert not np.allclose(pca.matrix_, pca.matrix_.T)


def test_zca_is_the_whitening_closest_to_the_centred_data(data):
    X = data[0]
    centred = X - X.mean(axis=0)
    distances = P.whitening_distances(X, eps=1e-5, n_rotations=50, seed=0)
    assert distances["ZCA"] == min(distances.values())  # min returns one of the values: exact
    assert distances["ZCA"] < distances["PCA"]
    zca = P.whiten(X, "zca")
    assert distances["ZCA"] == pytest.approx(((zca - centred) ** 2).sum(axis=1).mean())


def test_decorrelation_is_a_rotation_with_diagonal_covariance(data):
    X = data[0]
    out = P.decorrelate(X)
    cov = P.covariance(out)
    np.testing.assert_allclose(cov, np.diag(np.diag(cov)), atol=1e-10)
    np.testing.assert_allclose(np.linalg.norm(out, axis=1),
                               np.linalg.norm(X - X.mean(axis=0), axis=1), **TIGHT)


def test_whitener_fit_on_train_is_reused_on_test(data):
    train, test = data
    w = P.Whitener("zca").fit(train)
    np.testing.assert_allclose(w.transform(test), (test - train.mean(axis=0)) @ w.matrix_, **TIGHT)
    assert P.max_identity_deviation(w.transform(test)) > 0.05  # test data are not exactly white


@pytest.mark.parametrize("call, message", [
    (lambda: P.whiten(np.ones(5)), r"X must have shape \(N, D\); got shape \(5,\)"),
    (lambda: P.whiten(np.ones((5, 2)), method="pcaa"), "method must be one of 'pca', 'zca'"),
    (lambda: P.Whitener("svd"), "method must be one of 'pca', 'zca', 'decorrelate'; got 'svd'"),
    (lambda: P.whiten(np.ones((5, 2)), eps=0), "eps must be a positive finite number; got 0"),
    (lambda: P.whiten(np.ones((5, 2)), eps=-1e-5), "eps must be a positive finite number"),
    (lambda: P.whiten(np.ones((5, 2)), eps=float("nan")), "eps must be a positive finite"),
    (lambda: P.whiten(np.array([[1.0, np.nan], [2.0, 3.0]])), "X must be finite; it holds NaN"),
    (lambda: P.whiten(np.ones((1, 2))), "X must have at least 2 rows"),
    (lambda: P.whiten(np.array([["a", "b"]])), "X must be an array of numbers"),
    (lambda: P.whiten(np.zeros((2, P.MAX_FEATURES + 1))), "at most 4096"),
    (lambda: P.Whitener().transform(np.ones((3, 2))), "Whitener is not fitted"),
    (lambda: P.Whitener().fit(np.eye(3)).transform(np.ones((3, 2))), "X must have 3 columns"),
    (lambda: P.Standardizer().fit(np.ones((3, 2))).transform(np.ones((3, 4))), "2 columns"),
    (lambda: P.ImageNormalizer("pixel"), "mode must be one of 'image', 'channel', "
                                         "'channel_std'; got 'pixel'"),
    (lambda: P.ImageNormalizer().fit(np.ones((2, 3, 3))), r"images must have shape \(N, H, W, C\)"),
    (lambda: P.ImageNormalizer("image").fit(np.ones((2, 4, 4, 3))).transform(np.ones((1, 5, 4, 3))),
     r"images must have shape \(N, 4, 4, 3\)"),
    (lambda: P.correlated_gaussian(correlation=1.0), "correlation must be strictly between"),
    (lambda: P.correlated_gaussian(scale=0.0), "scale must be a positive number; got 0"),
    (lambda: P.correlated_gaussian(angle=float("inf")), "angle must be a finite number"),
    (lambda: P.photo_tiles([np.ones((4, 4, 3))], size=8), r"H, W >= 8"),
])
def test_bad_input_raises_value_error_saying_what_is_allowed(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_memory_is_bounded_before_allocating():
    huge = np.broadcast_to(np.float32(0), (P.MAX_VALUES // 100 + 1, 100))  # no memory used
    with pytest.raises(ValueError, match="memory bound"):
        P.whiten(huge)


def test_image_recipes_subtract_what_the_seed_says():
    rng = np.random.default_rng(0)
    train = rng.integers(0, 256, (20, 4, 5, 3)).astype(np.uint8)
    test = rng.integers(0, 256, (6, 4, 5, 3)).astype(np.uint8)
    image = P.ImageNormalizer("image").fit(train)
    assert image.mean_.shape == (4, 5, 3)
    np.testing.assert_allclose(image.transform(train).mean(axis=0), 0.0, atol=1e-12)
    channel = P.ImageNormalizer("channel").fit(train)
    assert channel.mean_.shape == (3,) and channel.std_ is None
    np.testing.assert_allclose(channel.transform(test), test - train.mean(axis=(0, 1, 2)))
    resnet = P.ImageNormalizer("channel_std").fit(train)
    out = resnet.transform(train)
    np.testing.assert_allclose(out.mean(axis=(0, 1, 2)), 0.0, atol=1e-12)
    np.testing.assert_allclose(out.std(axis=(0, 1, 2)), 1.0, atol=1e-12)
    np.testing.assert_allclose(resnet.transform(test),
                               (test - resnet.mean_) / train.std(axis=(0, 1, 2)), **TIGHT)
    # channel modes accept any image size with the same channels
    assert resnet.transform(np.ones((1, 7, 7, 3))).shape == (1, 7, 7, 3)


def test_channel_std_equals_torchvision_normalize():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    train = rng.random((8, 6, 6, 3))
    resnet = P.ImageNormalizer("channel_std").fit(train)
    chw = torch.from_numpy(train).permute(0, 3, 1, 2)  # torchvision's (N, C, H, W)
    mean = torch.from_numpy(resnet.mean_)[None, :, None, None]
    std = torch.from_numpy(resnet.std_)[None, :, None, None]
    expected = ((chw - mean) / std).permute(0, 2, 3, 1).numpy()  # what Normalize computes
    np.testing.assert_allclose(resnet.transform(train), expected, **TIGHT)


def test_photo_tiles_cut_without_overlap():
    photo = np.arange(10 * 12 * 3).reshape(10, 12, 3)
    tiles = P.photo_tiles([photo, photo], size=4)
    assert tiles.shape == (12, 4, 4, 3)
    np.testing.assert_array_equal(tiles[1], photo[0:4, 4:8])
    np.testing.assert_array_equal(tiles[3], photo[4:8, 0:4])


def test_split_rows_is_a_seeded_partition():
    train, test = P.split_rows(10, 0.3, seed=0)
    assert len(test) == 3 and sorted(np.r_[train, test]) == list(range(10))
    assert np.array_equal(P.split_rows(10, 0.3, seed=0)[1], test)


def test_whitening_demo_uses_the_same_draws_and_has_the_asked_covariance():
    demo = P.whitening_demo(correlation=0.5, angle=0.0, scale=2.0, n=20000, seed=0)
    np.testing.assert_allclose(demo.cov_original, [[1, 1], [1, 4]], atol=0.06)
    assert P.max_identity_deviation(demo.pca) < 1e-4 and P.max_identity_deviation(demo.zca) < 1e-4
    a, b = P.correlated_gaussian(0.1, 10, 1, 50, 3), P.correlated_gaussian(0.1, 10, 1, 50, 3)
    np.testing.assert_array_equal(a, b)
