"""course_utils.preprocessing (the lesson) against scikit-learn and torchvision, and bad input;
chapter 02's runs are tested in tests/chapters/ch02_preprocessing/."""

import math

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.preprocessing import StandardScaler

from course_utils import preprocessing as P
from course_utils.validation import MAX_ELEMENTS

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
        np.testing.assert_allclose(
            ours.transform(X), sign_aligned(ours.transform(X), theirs), atol=1e-8, rtol=1e-8
        )


@pytest.mark.parametrize("method", ["pca", "zca"])
def test_whitened_training_data_have_identity_covariance(data, method):
    X = data[0]
    white = P.whiten(X, method, eps=1e-10)
    assert white.dtype == np.float64 and white.shape == X.shape
    assert P.max_identity_deviation(white) < 1e-6
    # with eps the covariance has eigenvalues Λ / (Λ + eps) (for PCA: it is that diagonal)
    w = P.Whitener(method, eps=0.1).fit(X)
    lam = w.eigenvalues_
    np.testing.assert_allclose(
        np.linalg.eigvalsh(P.covariance(w.transform(X)))[::-1], lam / (lam + 0.1), **TIGHT
    )
    if method == "pca":
        assert P.max_identity_deviation(w.transform(X)) == pytest.approx(0.1 / (lam[-1] + 0.1))


def test_zca_is_pca_whitening_rotated_back_and_symmetric(data):
    X = data[0]
    pca, zca = P.Whitener("pca").fit(X), P.Whitener("zca").fit(X)
    np.testing.assert_allclose(zca.transform(X), pca.transform(X) @ pca.eigenvectors_.T, **TIGHT)
    np.testing.assert_allclose(zca.matrix_, zca.matrix_.T, **TIGHT)
    assert not np.allclose(pca.matrix_, pca.matrix_.T)


def test_decorrelation_is_a_rotation_with_diagonal_covariance(data):
    X = data[0]
    out = P.decorrelate(X)
    cov = P.covariance(out)
    np.testing.assert_allclose(cov, np.diag(np.diag(cov)), atol=1e-10)
    np.testing.assert_allclose(
        np.linalg.norm(out, axis=1), np.linalg.norm(X - X.mean(axis=0), axis=1), **TIGHT
    )


def test_whitener_fit_on_train_is_reused_on_test(data):
    train, test = data
    w = P.Whitener("zca").fit(train)
    np.testing.assert_allclose(w.transform(test), (test - train.mean(axis=0)) @ w.matrix_, **TIGHT)
    assert P.max_identity_deviation(w.transform(test)) > 0.05  # test data are not exactly white


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: P.whiten(np.ones(5)), r"X must have 2 dimension\(s\); got shape \(5,\)"),
        (lambda: P.whiten(np.ones((5, 2)), method="pcaa"), "method must be one of 'pca', 'zca'"),
        (lambda: P.Whitener("svd"), "method must be one of 'pca', 'zca', 'decorrelate'; got 'svd'"),
        (lambda: P.whiten(np.ones((5, 2)), eps=0), "eps must be > 0; got 0"),
        (lambda: P.whiten(np.ones((5, 2)), eps=-1e-5), "eps must be > 0"),
        (lambda: P.whiten(np.ones((5, 2)), eps=float("nan")), "eps must be a finite number"),
        (lambda: P.whiten(np.array([[1.0, np.nan], [2.0, 3.0]])), "X must hold finite numbers"),
        (lambda: P.whiten(np.ones((1, 2))), "X must have at least 2 rows"),
        (lambda: P.whiten(np.array([["a", "b"]])), "X must be an array of float64 values"),
        (lambda: P.whiten(np.zeros((2, P.MAX_FEATURES + 1))), "at most 4096"),
        (lambda: P.Whitener().transform(np.ones((3, 2))), "Whitener is not fitted"),
        (lambda: P.Whitener().fit(np.eye(3)).transform(np.ones((3, 2))), "X must have 3 columns"),
        (lambda: P.Standardizer().fit(np.ones((3, 2))).transform(np.ones((3, 4))), "2 columns"),
        (
            lambda: P.ImageNormalizer("pixel"),
            "mode must be one of 'image', 'channel', 'channel_std'; got 'pixel'",
        ),
        (lambda: P.ImageNormalizer().fit(np.ones((2, 3, 3))), r"images must have 4 dimension"),
        (
            lambda: (
                P.ImageNormalizer("image")
                .fit(np.ones((2, 4, 4, 3)))
                .transform(np.ones((1, 5, 4, 3)))
            ),
            r"images must have shape \(N, 4, 4, 3\)",
        ),
    ],
)
def test_bad_input_raises_value_error_saying_what_is_allowed(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_memory_is_bounded_before_allocating():
    huge = np.broadcast_to(np.float32(0), (MAX_ELEMENTS // 100 + 1, 100))  # no memory used
    with pytest.raises(ValueError, match="fit in memory"):
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
    np.testing.assert_allclose(
        resnet.transform(test), (test - resnet.mean_) / train.std(axis=(0, 1, 2)), **TIGHT
    )
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
