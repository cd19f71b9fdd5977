"""Chapter 03's runs: the lecture's network under each init (the claims), its limits, the cache."""

import dataclasses
import math
import tracemalloc

import numpy as np
import pytest
import torch

from course_utils.chapters.ch03_initialization import runs, runs_symmetry
from course_utils.stats import layer_stats

LECTURE = dict(depth=6, width=4096, n_samples=16)


def stds(**kwargs):
    return layer_stats(runs.forward_activations(**LECTURE, **kwargs)).std


# ---------------------------------------------------------------- the chapter's claims
def test_small_normal_init_shrinks_tanh_activations_layer_by_layer():
    s = stds(activation="tanh", scheme="normal", std=0.01)
    assert np.all(np.diff(s) < 0)
    assert s[-1] < 0.1
    # The printed table: about 0.49, 0.29, 0.18, 0.11, 0.07, 0.05.
    np.testing.assert_allclose(s, [0.49, 0.29, 0.18, 0.11, 0.07, 0.05], atol=0.01)


def test_larger_normal_init_saturates_tanh():
    acts = runs.forward_activations(**LECTURE, activation="tanh", scheme="normal", std=0.05)
    stats = layer_stats(acts)
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
    k = layer_stats(runs.forward_activations(**LECTURE, activation="relu", scheme="kaiming"))
    x = layer_stats(runs.forward_activations(**LECTURE, activation="relu", scheme="xavier"))
    np.testing.assert_array_equal(k.zero, x.zero)
    np.testing.assert_allclose(k.zero, 0.5, atol=0.01)


def test_gradient_factors_small_init_has_tiny_inputs():
    g = runs.gradient_signals(runs.Experiment(activation="tanh", scheme="normal", std=0.01))
    # dz/dW = a: the input of layer 6 is ~14x smaller than the network's input.
    assert g.input_abs_mean[-1] < 0.07
    assert g.input_abs_mean[0] == pytest.approx(math.sqrt(2 / math.pi), abs=0.01)
    x = runs.gradient_signals(runs.Experiment(activation="tanh", scheme="xavier"))
    assert x.input_abs_mean[-1] == pytest.approx(0.26, abs=0.01)
    assert x.input_abs_mean[-1] / g.input_abs_mean[-1] > 4  # "scaled down four-fold"
    # and tanh'(z) is not the problem there: the units sit in tanh's linear part.
    assert np.all(g.local_grad_mean[1:] > 0.9)


def test_gradient_factors_saturated_init_has_tiny_local_gradients():
    g = runs.gradient_signals(runs.Experiment(activation="tanh", scheme="normal", std=0.05))
    assert np.all((g.local_grad_mean > 0.2) & (g.local_grad_mean < 0.3))  # "0.24 to 0.28"
    assert np.all(g.input_abs_mean > 0.75)  # the inputs themselves are large
    assert np.all(g.local_grad_small > 0.3)  # a third of the units pass back < 2% of it
    x = runs.gradient_signals(runs.Experiment(activation="tanh", scheme="xavier"))
    assert np.all(x.local_grad_mean > 0.6)
    assert np.all(x.local_grad_small < 0.01)


def test_backward_small_init_gives_small_weight_gradients_in_every_layer():
    small = runs.gradient_sizes(runs.Experiment(std=0.01))
    xavier = runs.gradient_sizes(runs.Experiment(scheme="xavier"))
    # "several times smaller than under Xavier in every layer"
    assert np.all(xavier.weights / small.weights > 4)
    np.testing.assert_allclose(small.weights, 0.29, atol=0.01)
    # small W on the way back: dL/da shrinks from the last layer towards the input
    assert np.all(np.diff(small.activations) > 0)
    assert small.activations[0] < 0.1 * small.activations[-1]


def test_backward_saturated_init_has_small_local_factor_yet_large_weight_gradients():
    big = runs.gradient_sizes(runs.Experiment(std=0.05))
    xavier = runs.gradient_sizes(runs.Experiment(scheme="xavier"))
    assert np.all((big.local > 0.2) & (big.local < 0.3))  # tanh'(z) is small on average
    assert np.all(big.weights > xavier.weights)  # ... yet the weight gradients are not small
    assert np.all(np.diff(big.weights) < 0)  # and they grow towards the input
    assert big.weights[0] / big.weights[-1] > 5
    assert big.weights[0] == pytest.approx(8.64, abs=0.01)


def test_backward_sizes_match_torch_autograd():
    # The whole backward pass of the cached fast path (scaled float32 weights) vs autograd
    exp = runs.Experiment(depth=3, width=128, n_samples=5, std=0.1)
    sizes = runs.gradient_sizes(exp, upstream_seed=4)
    run = runs.forward_pass(exp)
    x = torch.tensor(run.inputs[0], dtype=torch.float64)
    from course_utils import weight_cache

    weights = [
        torch.tensor(
            weight_cache.unit_weights(0, 128, l).astype(np.float64) * 0.1, requires_grad=True
        )
        for l in range(3)
    ]
    a, outs = x, []
    for w in weights:
        a = torch.tanh(a @ w)
        a.retain_grad()
        outs.append(a)
    rng = np.random.default_rng([0, 2, 4])
    upstream = torch.tensor(rng.standard_normal((5, 128), dtype=np.float32), dtype=torch.float64)
    (a * upstream).sum().backward()
    rms = lambda t: float(t.pow(2).mean().sqrt())  # noqa: E731
    np.testing.assert_allclose(sizes.weights, [rms(w.grad) for w in weights], rtol=1e-4)
    np.testing.assert_allclose(sizes.activations, [rms(o.grad) for o in outs], rtol=1e-4)


@pytest.mark.parametrize("kind", ["zero", "constant"])
def test_zero_or_constant_init_keeps_every_unit_identical(kind):
    table = runs_symmetry.symmetry_table(kind)
    for line in table.splitlines()[2:]:
        spread_out, spread_grad = line.split()[2:4]
        assert (spread_out, spread_grad) == ("0.000", "0.000")


def test_random_init_breaks_the_symmetry_at_every_seed():
    r = runs_symmetry.symmetry_over_seeds("random", seeds=range(50))
    assert np.all(r.outputs_spread > 0.1) and np.all(r.columns_spread > 0.1)


def test_zero_init_has_no_gradient_at_all_constant_init_has_one():
    zero = runs_symmetry.symmetry_over_seeds("zero", seeds=range(20))
    constant = runs_symmetry.symmetry_over_seeds("constant", seeds=range(20))
    assert np.all(zero.rms == 0)  # exact by construction: tanh(0) = 0, 0 * anything = 0
    assert np.all(constant.rms > 0)


# ---------------------------------------------------------------- the experiment's shape
def test_forward_activations_shapes_and_dtype():
    acts = runs.forward_activations(depth=3, width=64, n_samples=5, activation="relu")
    assert isinstance(acts, list) and len(acts) == 3
    for a in acts:
        assert a.shape == (5, 64) and a.dtype == np.float32


def test_other_seed_other_network():
    a = runs.forward_activations(depth=1, width=128, seed=0)[0]
    b = runs.forward_activations(depth=1, width=128, seed=1)[0]
    assert not np.allclose(a, b)


def test_shallow_network_is_prefix_of_deep_one():
    deep = runs.forward_activations(depth=5, width=256, activation="tanh", scheme="xavier")
    shallow = runs.forward_activations(depth=2, width=256, activation="tanh", scheme="xavier")
    for x, y in zip(shallow, deep):
        np.testing.assert_array_equal(x, y)


def test_huge_std_overflows_without_warnings():
    with np.errstate(all="raise"):
        acts = runs.forward_activations(
            depth=8, width=256, activation="relu", scheme="normal", std=1e6
        )
    assert not np.isfinite(acts[-1]).all()
    assert not np.isfinite(layer_stats(acts).std[-1])


def test_experiment_defaults_are_the_lecture_and_it_is_immutable():
    exp = runs.Experiment()
    assert (exp.depth, exp.width, exp.n_samples, exp.activation, exp.scheme, exp.std, exp.seed) == (
        6,
        4096,
        16,
        "tanh",
        "normal",
        0.01,
        0,
    )
    assert exp.weight_std == 0.01  # the std given, passed through: exact
    assert runs.Experiment(scheme="xavier").weight_std == pytest.approx(1 / 64)
    assert exp.replace(std=0.05) == runs.Experiment(std=0.05)
    assert runs.Experiment(activation="TANH") == exp  # names are normalised
    with pytest.raises(dataclasses.FrozenInstanceError):
        exp.std = 0.1
    with pytest.raises(ValueError, match="std must be > 0; got 0"):
        exp.replace(std=0)


def test_forward_activations_is_the_experiment_and_fresh_on_every_call():
    a = runs.forward_activations(depth=2, width=128, std=0.1, seed=3)
    b = runs.forward_pass(runs.Experiment(depth=2, width=128, std=0.1, seed=3)).activations
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
        assert x is not y
    a[0][:] = 123.0  # mutating a result never changes the next one
    c = runs.forward_activations(depth=2, width=128, std=0.1, seed=3)
    np.testing.assert_array_equal(c[0], b[0])


def test_a_repeated_forward_pass_is_a_fresh_copy_of_the_first():
    from course_utils import weight_cache
    from course_utils.chapters.ch03_initialization import _fast_path as _records

    exp = runs.Experiment(depth=3, width=96, n_samples=5, std=0.2, seed=4)
    _records.clear()
    first = runs.forward_pass(exp)
    for array in first.pre_activations + first.activations:
        array[:] = -7.0  # the caller owns its arrays: the kept record is not touched
    again = runs.forward_pass(exp)
    with _records.one_blas_thread():  # as forward_pass runs it (the bits may depend on it)
        uncached = weight_cache.run(exp)
    for name in ("pre_activations", "activations"):
        for x, y in zip(getattr(again, name), getattr(uncached, name)):
            np.testing.assert_array_equal(x, y)
    # the batch is the weight cache's read-only one, shared, not copied
    assert np.shares_memory(again.inputs[0], uncached.inputs[0])
    assert not again.inputs[0].flags.writeable
    assert all(again.inputs[l] is again.activations[l - 1] for l in range(1, 3))
    assert again.step_caches == [None] * 3
    # the same network asked for as its own corner is the same record
    assert np.array_equal(runs.forward_pass(exp, full_width=96).output, uncached.output)


def test_kept_forward_records_are_bounded(monkeypatch):
    from course_utils.chapters.ch03_initialization import _fast_path as _records

    _records.clear()
    # each record: 2 layers x (z, a) x 16 x 64 float32 = 16 KiB; room for two
    monkeypatch.setattr(_records, "MAX_RECORD_CACHE_BYTES", 40 * 2**10)
    exps = [runs.Experiment(depth=2, width=64, seed=seed) for seed in range(4)]
    for exp in exps:
        runs.forward_pass(exp)
    assert [key[0] for key in _records._records] == exps[2:]  # the least recent went first
    big = runs.Experiment(depth=2, width=256, seed=0)  # 64 KiB: run, never kept
    runs.forward_pass(big)
    assert [key[0] for key in _records._records] == exps[2:]
    _records.clear()


def test_cached_fast_path_equals_the_readable_network_with_explicit_weights():
    from course_utils import network, weight_cache

    exp = runs.Experiment(depth=3, width=200, n_samples=7, std=0.07, seed=5)
    fast = runs.forward_pass(exp)
    weights = [weight_cache.unit_weights(5, 200, l) * np.float32(0.07) for l in range(3)]
    slow = network.forward(fast.inputs[0], weights, "tanh")
    for x, y in zip(fast.activations, slow.activations):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)
    # and the weights are N(0, 0.07^2), independent between layers
    w0, w1 = weights[0].ravel(), weights[1].ravel()
    assert w0.std() == pytest.approx(0.07, rel=0.02) and abs(w0.mean()) < 0.002
    assert abs(np.corrcoef(w0, w1)[0, 1]) < 0.02


def test_narrow_network_as_a_corner_of_the_wide_one():
    from course_utils import weight_cache

    exp = runs.Experiment(depth=2, width=64, n_samples=4, std=0.2)
    corner = weight_cache.run(exp, full_width=256)
    wide = weight_cache.unit_weights(0, 256, 0)
    x = weight_cache.inputs(0, 256, 4)[:, :64]
    np.testing.assert_allclose(
        corner.pre_activations[0], (x @ wide[:64, :64]) * np.float32(0.2), rtol=1e-6
    )
    same = weight_cache.run(exp.replace(width=256), full_width=256)
    np.testing.assert_array_equal(
        same.activations[-1], weight_cache.run(exp.replace(width=256)).activations[-1]
    )
    with pytest.raises(ValueError, match="full_width must be >= width"):
        weight_cache.run(exp, full_width=32)
    # forward_pass (the explorer's compute) takes the same corner
    np.testing.assert_array_equal(
        runs.forward_pass(exp, 256).activations[-1], corner.activations[-1]
    )
    with pytest.raises(ValueError, match="full_width must be >= width"):
        runs.forward_pass(exp, 32)


# ---------------------------------------------------------------- stds and torch parity
# ---------------------------------------------------------------- limits: no call kills a kernel
@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(n_samples=10**7), "n_samples=10000000 with depth=6, width=4096 keeps"),
        (dict(n_samples=10**6), "use at most 1365 samples"),
        (dict(n_samples=1200), "is 121 billion multiply-adds; the limit is 50 billion"),
        (dict(depth=100, width=8192), "needs 25,600 MiB of float32 weights; the limit is 640 MiB"),
        (dict(depth=11), "depth=11, width=4096 needs 704 MiB"),
        (dict(width=16384), "width must be between 1 and 8192; got 16384"),
    ],
)
def test_experiments_too_big_for_a_binder_are_refused_before_allocating(kwargs, message):
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=message):
            runs.forward_activations(**kwargs)
        assert tracemalloc.get_traced_memory()[1] < 2**20  # nothing big was allocated
    finally:
        tracemalloc.stop()


def test_the_largest_allowed_experiments_are_the_explorers():
    runs.Experiment(depth=10, width=4096)  # the explorer's deepest network
    runs.Experiment(depth=100, width=256, n_samples=256)
    runs.Experiment(depth=2, width=8192)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(scheme="he"), "scheme must be one of 'normal', 'xavier', 'kaiming'; got 'he'"),
        (dict(activation="softmax"), "activation must be one of"),
        (dict(std=0), "std must be > 0; got 0"),
        (dict(std=-0.1), "std must be > 0; got -0.1"),
        (dict(std=float("nan")), "std must be a finite number; got nan"),
        (dict(std=float("inf")), "std must be a finite number; got inf"),
        (dict(std="0.01"), "std must be a finite number; got '0.01'"),
        (dict(depth=0), "depth must be between 1 and 100; got 0"),
        (dict(depth=2.5), "depth must be an integer"),
        (dict(width=0), "width must be between 1 and 8192; got 0"),
        (dict(width=10**6), "width must be between 1 and 8192; got 1000000"),
        (dict(n_samples=0), "n_samples must be >= 1; got 0"),
        (dict(seed=-1), "seed must be between 0 and 4294967295; got -1"),
    ],
)
def test_forward_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(".", r"\.")):
        runs.forward_activations(**{"width": 64, **kwargs})


def test_std_is_ignored_by_derived_schemes():
    a = runs.forward_activations(depth=2, width=64, scheme="xavier", std=0.5)
    b = runs.forward_activations(depth=2, width=64, scheme="xavier", std=0.01)
    np.testing.assert_array_equal(a[-1], b[-1])


def test_backward_refuses_what_the_forward_alone_would_allow():
    experiment = runs.Experiment(depth=100, width=256, n_samples=1000)  # forward: fine
    with pytest.raises(ValueError, match="keeps 391 MiB of per-layer arrays.*use at most 655"):
        runs.gradient_sizes(experiment)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: __import__("course_utils.weight_cache").weight_cache.unit_weights(
                0, 8192, 10**9
            ),
            "layer must be between 0 and 99",
        ),
        (
            lambda: __import__("course_utils.weight_cache").weight_cache.inputs(0, 4096, 10**5),
            "a batch of 100000 x 4096 would take 1,562 MiB",
        ),
    ],
)
def test_cache_refuses_direct_calls_that_do_not_fit(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_weight_gradient_rms_equals_the_rms_of_the_formed_gradient():
    from course_utils import network, weight_cache

    exp = runs.Experiment(depth=3, width=300, n_samples=7, std=0.08, seed=2)
    run = runs.forward_pass(exp)
    weights = weight_cache.weights(exp)
    upstream = np.random.default_rng([2, 2, 1]).standard_normal((7, 300), dtype=np.float32)
    grads = network.backward(run, weights, upstream, "tanh")
    formed = [
        float(np.sqrt(np.mean(np.square(grads.weight(l), dtype=np.float64)))) for l in (1, 2, 3)
    ]
    np.testing.assert_allclose(runs.gradient_sizes(exp).weights, formed, rtol=1e-5)


def test_layers_drawn_in_parallel_are_the_layers_drawn_one_by_one():
    from course_utils import weight_cache

    weight_cache.draw_layers(7, 96, 4)  # seed 7: drawn here first, two at a time
    for layer in range(4):
        alone = np.random.default_rng([7, 1, 96, layer]).standard_normal((96, 96), dtype=np.float32)
        np.testing.assert_array_equal(weight_cache.unit_weights(7, 96, layer), alone)


@pytest.mark.parametrize(
    "activation, scheme, std, width, full_width",
    [
        ("tanh", "normal", 0.01, 4096, 4096),
        ("relu", "kaiming", 0.01, 256, 4096),
        ("sigmoid", "xavier", 0.01, 64, None),
        ("tanh", "normal", 1.0, 1024, 4096),
        ("relu", "normal", 10.0, 2048, 4096),  # overflows float32: a full run instead
    ],
)
def test_a_deeper_network_continues_from_a_shallower_one_bit_for_bit(
    activation, scheme, std, width, full_width
):
    """Issue 20 (the explorer's depth slider): depth 10 after depth 6 computes layers 7-10
    only, and gives exactly the record of a fresh depth-10 run."""
    from course_utils import weight_cache
    from course_utils.chapters.ch03_initialization import _fast_path
    from course_utils.chapters.ch03_initialization.runs import Experiment, forward_pass

    def experiment(depth):
        return Experiment(depth, width, 16, activation, scheme, std, 0)

    _fast_path.clear()
    fresh = forward_pass(experiment(10), full_width)
    _fast_path.clear()
    forward_pass(experiment(6), full_width)
    calls = []
    real = weight_cache.resume
    weight_cache.resume = lambda *a: calls.append(a) or real(*a)
    try:
        resumed = forward_pass(experiment(10), full_width)
    finally:
        weight_cache.resume = real
        _fast_path.clear()
    assert len(calls) == 1 and len(calls[0][2].activations) == 6
    for field in ("inputs", "pre_activations", "activations"):
        got, want = getattr(resumed, field), getattr(fresh, field)
        assert len(got) == len(want) == 10
        for a, b in zip(got, want):
            np.testing.assert_array_equal(a, b)
