"""course_utils.init: the chapter's claims, torch.nn.init parity, and bad input."""

import math

import numpy as np
import pytest
import torch

from course_utils import init

LECTURE = dict(depth=6, width=4096, n_samples=16)


def stds(**kwargs):
    return init.layer_stats(init.forward_activations(**LECTURE, **kwargs)).std


# ---------------------------------------------------------------- the chapter's claims
def test_small_normal_init_shrinks_tanh_activations_layer_by_layer():
    s = stds(activation="tanh", scheme="normal", std=0.01)
    assert np.all(np.diff(s) < 0)
    assert s[-1] < 0.1
    # The printed table: about 0.49, 0.29, 0.18, 0.11, 0.07, 0.05.
    np.testing.assert_allclose(s, [0.49, 0.29, 0.18, 0.11, 0.07, 0.05], atol=0.01)


def test_larger_normal_init_saturates_tanh():
    acts = init.forward_activations(**LECTURE, activation="tanh", scheme="normal", std=0.05)
    stats = init.layer_stats(acts)
    assert np.all(stats.saturated >= 0.25)
    assert stats.saturated[0] == pytest.approx(0.41, abs=0.02)
    # "a third of every later layer's" units
    np.testing.assert_allclose(stats.saturated[1:], 1 / 3, atol=0.02)


def test_xavier_keeps_tanh_well_scaled():
    s = stds(activation="tanh", scheme="xavier")
    assert np.all((s > 0.25) & (s < 0.7))
    np.testing.assert_allclose(s[[0, -1]], [0.63, 0.29], atol=0.01)


def test_kaiming_keeps_relu_well_scaled():
    s = stds(activation="relu", scheme="kaiming")
    assert np.all((s > 0.6) & (s < 1.0))
    np.testing.assert_allclose(s, 0.82, atol=0.02)


def test_xavier_collapses_relu():
    s = stds(activation="relu", scheme="xavier")
    assert s[-1] < 0.2
    np.testing.assert_allclose(s[[0, -1]], [0.59, 0.10], atol=0.01)
    # "falls by a factor of about 1/sqrt(2) per layer"
    np.testing.assert_allclose(s[1:] / s[:-1], 1 / math.sqrt(2), atol=0.02)
    # same weights up to scale, so the same units are off
    k = init.layer_stats(init.forward_activations(**LECTURE, activation="relu", scheme="kaiming"))
    x = init.layer_stats(init.forward_activations(**LECTURE, activation="relu", scheme="xavier"))
    np.testing.assert_array_equal(k.zero, x.zero)
    np.testing.assert_allclose(k.zero, 0.5, atol=0.01)


def test_gradient_factors_small_init_has_tiny_inputs():
    g = init.gradient_signals(**LECTURE, activation="tanh", scheme="normal", std=0.01)
    # dz/dW = a: the input of layer 6 is ~14x smaller than the network's input.
    assert g.input_abs_mean[-1] < 0.07
    assert g.input_abs_mean[0] == pytest.approx(math.sqrt(2 / math.pi), abs=0.01)
    x = init.gradient_signals(**LECTURE, activation="tanh", scheme="xavier")
    assert x.input_abs_mean[-1] == pytest.approx(0.26, abs=0.01)
    assert x.input_abs_mean[-1] / g.input_abs_mean[-1] > 4  # "scaled down four-fold"
    # and tanh'(z) is not the problem there: the units sit in tanh's linear part.
    assert np.all(g.local_grad_mean[1:] > 0.9)


def test_gradient_factors_saturated_init_has_tiny_local_gradients():
    g = init.gradient_signals(**LECTURE, activation="tanh", scheme="normal", std=0.05)
    assert np.all((g.local_grad_mean > 0.2) & (g.local_grad_mean < 0.3))  # "0.24 to 0.28"
    assert np.all(g.input_abs_mean > 0.75)  # the inputs themselves are large
    assert np.all(g.local_grad_small > 0.3)  # a third of the units pass back < 2% of it
    x = init.gradient_signals(**LECTURE, activation="tanh", scheme="xavier")
    assert np.all(x.local_grad_mean > 0.6)
    assert np.all(x.local_grad_small < 0.01)


# ---------------------------------------------------------------- the experiment's shape
def test_forward_activations_shapes_and_dtype():
    acts = init.forward_activations(depth=3, width=64, n_samples=5, activation="relu")
    assert isinstance(acts, list) and len(acts) == 3
    for a in acts:
        assert a.shape == (5, 64) and a.dtype == np.float32


def test_forward_activations_is_deterministic_and_fresh():
    a = init.forward_activations(depth=2, width=128, std=0.1, seed=3)
    b = init.forward_activations(depth=2, width=128, std=0.1, seed=3)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
        assert x is not y
    a[0][:] = 123.0  # mutating a result never touches the cache
    run = init.forward_pass(depth=2, width=128, std=0.1, seed=3)
    assert not run.inputs.flags.writeable  # the cached inputs cannot be changed either
    c = init.forward_activations(depth=2, width=128, std=0.1, seed=3)
    np.testing.assert_array_equal(c[0], b[0])


def test_other_seed_other_network():
    a = init.forward_activations(depth=1, width=128, seed=0)[0]
    b = init.forward_activations(depth=1, width=128, seed=1)[0]
    assert not np.allclose(a, b)


def test_shallow_network_is_prefix_of_deep_one():
    deep = init.forward_activations(depth=5, width=256, activation="tanh", scheme="xavier")
    shallow = init.forward_activations(depth=2, width=256, activation="tanh", scheme="xavier")
    for x, y in zip(shallow, deep):
        np.testing.assert_array_equal(x, y)


def test_forward_matches_a_plain_float64_reimplementation():
    depth, width, n = 3, 200, 7
    run = init.forward_pass(depth, width, n, "tanh", "normal", 0.07, seed=5)
    a = run.inputs.astype(np.float64)
    for layer in range(depth):
        w = init._unit_weights(5, width, layer).astype(np.float64) * 0.07
        a = np.tanh(a @ w)
        np.testing.assert_allclose(run.activations[layer], a, rtol=1e-4, atol=1e-5)


def test_weights_are_standard_normal_and_independent_per_layer():
    w0 = init._unit_weights(0, 512, 0)
    w1 = init._unit_weights(0, 512, 1)
    assert abs(w0.mean()) < 0.01 and abs(w0.std() - 1) < 0.01
    assert abs(np.corrcoef(w0.ravel(), w1.ravel())[0, 1]) < 0.01


def test_huge_std_overflows_without_warnings():
    with np.errstate(all="raise"):
        acts = init.forward_activations(depth=8, width=256, activation="relu",
                                        scheme="normal", std=1e6)
    assert not np.isfinite(acts[-1]).all()
    assert not np.isfinite(init.layer_stats(acts).std[-1])


def test_weight_cache_is_bounded():
    cache = init._UnitWeightCache(max_bytes=3 * 400)
    for k in range(6):
        cache.get(k, lambda: np.zeros(100, dtype=np.float32))
    assert cache.nbytes <= 3 * 400 and len(cache._items) == 3
    assert list(cache._items) == [3, 4, 5]


# ---------------------------------------------------------------- stds and torch parity
@pytest.mark.parametrize("fan_in, fan_out", [(4096, 4096), (300, 100), (64, 1000)])
def test_init_std_formulas(fan_in, fan_out):
    assert init.init_std("xavier", fan_in, fan_out) == pytest.approx(
        math.sqrt(2 / (fan_in + fan_out)))
    assert init.init_std("kaiming", fan_in, fan_out) == pytest.approx(math.sqrt(2 / fan_in))
    assert init.init_std("normal", fan_in, fan_out, std=0.01) == 0.01
    assert init.init_std("xavier", fan_in, fan_out, gain=5 / 3) == pytest.approx(
        5 / 3 * math.sqrt(2 / (fan_in + fan_out)))


def test_lecture_xavier_is_one_over_sqrt_fan_in_for_square_layers():
    assert init.init_std("xavier", 4096, 4096) == pytest.approx(1 / 64)
    assert round(init.init_std("xavier", 4096, 4096), 4) == 0.0156
    assert round(init.init_std("kaiming", 4096, 4096), 4) == 0.0221
    # per-layer scale factor sqrt(n_in) * sigma_W: 0.64, 3.2, 1, sqrt(2)
    assert math.sqrt(4096) * 0.01 == pytest.approx(0.64)
    assert math.sqrt(4096) * init.init_std("kaiming", 4096, 4096) == pytest.approx(math.sqrt(2))


TORCH_INIT = {
    ("xavier", "normal"): lambda w, gain: torch.nn.init.xavier_normal_(w, gain=gain),
    ("xavier", "uniform"): lambda w, gain: torch.nn.init.xavier_uniform_(w, gain=gain),
    ("kaiming", "normal"): lambda w, gain: torch.nn.init.kaiming_normal_(
        w, a=math.sqrt(max(2 / gain**2 - 1, 0)), mode="fan_in", nonlinearity="leaky_relu"),
    ("kaiming", "uniform"): lambda w, gain: torch.nn.init.kaiming_uniform_(
        w, a=math.sqrt(max(2 / gain**2 - 1, 0)), mode="fan_in", nonlinearity="leaky_relu"),
}


@pytest.mark.parametrize("scheme, distribution", list(TORCH_INIT))
@pytest.mark.parametrize("fan_in, fan_out, gain", [(1500, 700, None), (800, 2000, 1.2)])
def test_sampler_matches_torch_nn_init(scheme, distribution, fan_in, fan_out, gain):
    gain_used = init.default_gain(scheme) if gain is None else gain
    ours = init.sample_weights(scheme, fan_in, fan_out, distribution=distribution,
                               gain=gain, rng=0)
    torch.manual_seed(0)
    theirs = torch.empty(fan_out, fan_in, dtype=torch.float64)  # torch: (out, in)
    TORCH_INIT[scheme, distribution](theirs, gain_used)
    theirs = theirs.numpy()
    sigma = init.init_std(scheme, fan_in, fan_out, gain=gain)
    assert ours.shape == (fan_in, fan_out)
    # ~1e6 samples: the empirical std is within 0.5% of sigma for both
    assert ours.std() == pytest.approx(sigma, rel=5e-3)
    assert theirs.std() == pytest.approx(sigma, rel=5e-3)
    assert ours.std() == pytest.approx(theirs.std(), rel=7e-3)
    if distribution == "uniform":
        bound = math.sqrt(3) * sigma
        assert np.abs(ours).max() <= bound and np.abs(theirs).max() <= bound
        assert np.abs(ours).max() == pytest.approx(bound, rel=1e-3)
        assert np.abs(theirs).max() == pytest.approx(bound, rel=1e-3)


def test_default_gains_are_torchs():
    assert init.default_gain("xavier") == 1.0
    assert init.default_gain("kaiming") == pytest.approx(torch.nn.init.calculate_gain("relu"))


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("kwargs, message", [
    (dict(scheme="he"), "scheme must be one of normal, xavier, kaiming; got 'he'"),
    (dict(activation="softmax"), "activation must be one of"),
    (dict(std=0), "std must be a positive finite number; got 0"),
    (dict(std=-0.1), "std must be a positive finite number; got -0.1"),
    (dict(std=float("nan")), "std must be a positive finite number; got nan"),
    (dict(std=float("inf")), "std must be a positive finite number; got inf"),
    (dict(std="0.01"), "std must be a positive finite number; got '0.01'"),
    (dict(depth=0), "depth must be an integer between 1 and 100; got 0"),
    (dict(depth=2.5), "depth must be an integer"),
    (dict(width=0), "width must be an integer between 1 and 16384; got 0"),
    (dict(width=10**6), "width must be an integer between 1 and 16384; got 1000000"),
    (dict(n_samples=0), "n_samples must be an integer >= 1; got 0"),
    (dict(seed=-1), "seed must be an integer >= 0; got -1"),
])
def test_forward_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        init.forward_activations(**{"width": 64, **kwargs})


def test_std_is_ignored_by_derived_schemes():
    a = init.forward_activations(depth=2, width=64, scheme="xavier", std=0.5)
    b = init.forward_activations(depth=2, width=64, scheme="xavier", std=0.01)
    np.testing.assert_array_equal(a[-1], b[-1])


@pytest.mark.parametrize("call, message", [
    (lambda: init.init_std("normal", 10, 10), "scheme 'normal' needs an explicit std"),
    (lambda: init.init_std("xavier", 0, 10), "fan_in must be an integer >= 1; got 0"),
    (lambda: init.init_std("kaiming", 10, -3), "fan_out must be an integer >= 1; got -3"),
    (lambda: init.init_std("kaiming", 10, 10, gain=0), "gain must be a positive finite"),
    (lambda: init.init_std("lecun", 10, 10), "scheme must be one of"),
    (lambda: init.sample_weights("xavier", 10, 10, distribution="cauchy"),
     "distribution must be one of normal, uniform; got 'cauchy'"),
    (lambda: init.sample_weights("normal", 10, 10, std=0.1, distribution="uniform"),
     "scheme 'normal' samples from a normal distribution only"),
    (lambda: init.default_gain("normal"), "scheme 'normal' has no gain"),
    (lambda: init.layer_stats([]), "activations must hold at least one layer"),
])
def test_helpers_reject_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()
