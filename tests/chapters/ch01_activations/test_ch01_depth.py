"""Chapter 01's deep stacks: the gradient measured per layer, SELU's fixed point
(:mod:`course_utils.chapters.ch01_activations.runs_depth`)."""

import numpy as np
import pytest

from course_utils import activations
from course_utils.chapters.ch01_activations import runs_depth

SEEDS = range(5)


@pytest.fixture(scope="module")
def stacks():
    return {
        name: [runs_depth.layer_gradient_norms(name, depth=10, width=128, seed=s) for s in SEEDS]
        for name in ("sigmoid", "tanh", "relu")
    }


def test_sigmoid_gradient_vanishes_just_under_the_quarter_bound(stacks):
    for r in stacks["sigmoid"]:
        assert 0.21 < r.per_layer_factor < 0.25  # printed 0.233, bound 0.25
        assert r.relative[0] < 1e-5  # printed 4.6e-06
        assert np.all(np.diff(r.relative) > 0)  # shrinks at every layer on the way down
        assert 0.22 < r.mean_slope[1:].mean() < 0.25


def test_tanh_and_relu_keep_the_weight_gradient_level(stacks):
    for r in stacks["tanh"]:
        assert 0.82 < r.per_layer_factor < 0.92  # printed 0.869
        assert np.all((r.relative > 0.8) & (r.relative < 1.4))
    for r in stacks["relu"]:
        assert 0.95 < r.per_layer_factor < 1.05  # printed 1.002
        assert np.all((r.relative > 0.7) & (r.relative < 1.6))
        assert 0.45 < r.mean_slope.mean() < 0.55


def test_gradient_norms_match_a_direct_backward_pass():
    r = runs_depth.layer_gradient_norms("tanh", depth=3, width=8, batch=4, seed=1)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((4, 8))
    ws = [rng.normal(0, np.sqrt(1 / 8), size=(8, 8)) for _ in range(3)]
    a, zs, inputs = x, [], []
    for W in ws:
        inputs.append(a)
        zs.append(a @ W)
        a = np.tanh(zs[-1])
    g = rng.standard_normal(a.shape)
    norms = []
    for layer in (2, 1, 0):
        dz = g * (1 - np.tanh(zs[layer]) ** 2)
        norms.append(np.linalg.norm(inputs[layer].T @ dz))
        g = dz @ ws[layer].T
    np.testing.assert_allclose(r.weight_grad, norms[::-1], rtol=1e-12)
    assert "layer" in runs_depth.gradient_norms_table([r])


def test_selu_fixed_point_is_zero_one_and_attracts():
    mean, var = runs_depth.selu_moment_map(0.0, 1.0)
    assert abs(mean) < 1e-9 and abs(var - 1) < 1e-9
    low = runs_depth.iterate_moment_map(0.0, 0.25, layers=20)
    high = runs_depth.iterate_moment_map(1.0, 3.0, layers=20)
    assert 0.97 < low[-1, 1] < 1.0 and abs(low[-1, 0]) < 0.01  # printed (-0.001, 0.988)
    assert abs(high[-1, 0]) < 0.01 and abs(high[-1, 1] - 1) < 0.02  # printed (0.001, 1.008)
    assert np.all(np.diff(np.abs(high[:, 1] - 1)) < 0)  # closer every layer
    assert 0.7 < runs_depth.variance_map_slope() < 0.85  # printed 0.78


def test_selu_moment_map_agrees_with_sampling():
    rng = np.random.default_rng(0)
    for mean, var, omega, tau in [
        (0.3, 2.0, 1.0, 1.0),
        (-1.0, 0.5, 0.5, 1.2),
        (0.0, 0.0, 0.0, 1.0),
    ]:
        z = rng.normal(mean * omega, np.sqrt(var * tau), 400_000)
        a = activations.selu(z)
        got = runs_depth.selu_moment_map(mean, var, omega, tau)
        assert got[0] == pytest.approx(a.mean(), abs=0.01)
        assert got[1] == pytest.approx(a.var(), abs=0.02)


def test_selu_keeps_unit_std_through_thirty_layers_where_elu_and_tanh_fade():
    for seed in range(3):
        selu = runs_depth.deep_activation_stats("selu", depth=30, seed=seed)
        assert np.all(np.abs(selu[:, 1] - 1) < 0.08) and np.all(np.abs(selu[:, 0]) < 0.1)
        for name in ("elu", "tanh"):
            assert runs_depth.deep_activation_stats(name, depth=30, seed=seed)[-1, 1] < 0.2


def test_bad_arguments():
    with pytest.raises(ValueError, match="activation must be one of"):
        runs_depth.layer_gradient_norms("softmax")
    with pytest.raises(ValueError, match="var"):
        runs_depth.selu_moment_map(0.0, -1.0)
    with pytest.raises(ValueError, match="depth"):
        runs_depth.deep_activation_stats("selu", depth=0)
