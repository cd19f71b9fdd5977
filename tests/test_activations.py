"""course_utils.activations: values, derivatives (against torch autograd), lookup, Maxout."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils import activations

TORCH = {
    "tanh": torch.tanh,
    "relu": torch.relu,
    "sigmoid": torch.sigmoid,
    "leaky_relu": F.leaky_relu,
    "elu": F.elu,
    "gelu": F.gelu,
    "silu": F.silu,
    "softplus": F.softplus,
}
# A grid with large |z| (saturation, overflow territory) that avoids the kink at 0.
GRID = np.concatenate(
    [np.linspace(-50, 50, 2001) + 1e-3, np.linspace(-6, 6, 1201) + 1e-4, [-1e4, -700.0, 700.0, 1e4]]
)


def torch_pair(fn, z):
    zt = torch.tensor(z, requires_grad=True)
    out = fn(zt)
    out.sum().backward()
    return out.detach().numpy(), zt.grad.numpy()


@pytest.mark.parametrize("name", activations.NAMES)
def test_values_and_derivatives_match_torch(name):
    f, df = activations.get(name)
    want_f, want_df = torch_pair(TORCH[name], GRID)
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is fine
        got_f, got_df = f(GRID), df(GRID)
    np.testing.assert_allclose(got_f, want_f, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got_df, want_df, rtol=1e-6, atol=1e-6)


def test_names_keep_chapter_03s_first():
    assert activations.NAMES[:3] == ("tanh", "relu", "sigmoid")
    assert set(activations.NAMES) == set(TORCH)


@pytest.mark.parametrize("slope", [0.01, 0.2, 1.5])
def test_leaky_relu_slope_matches_torch(slope):
    want_f, want_df = torch_pair(lambda t: F.leaky_relu(t, negative_slope=slope), GRID)
    np.testing.assert_allclose(
        activations.leaky_relu(GRID, negative_slope=slope), want_f, rtol=1e-12
    )
    np.testing.assert_allclose(
        activations.leaky_relu_grad(GRID, negative_slope=slope), want_df, rtol=1e-12
    )


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0])
def test_elu_alpha_matches_torch(alpha):
    want_f, want_df = torch_pair(lambda t: F.elu(t, alpha=alpha), GRID)
    np.testing.assert_allclose(activations.elu(GRID, alpha=alpha), want_f, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(
        activations.elu_grad(GRID, alpha=alpha), want_df, rtol=1e-6, atol=1e-12
    )


@pytest.mark.parametrize("beta", [0.5, 2.0])
def test_softplus_beta_matches_torch(beta):
    want_f, want_df = torch_pair(lambda t: F.softplus(t, beta=beta), GRID)
    np.testing.assert_allclose(activations.softplus(GRID, beta=beta), want_f, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(
        activations.softplus_grad(GRID, beta=beta), want_df, rtol=1e-6, atol=1e-9
    )


def test_derivatives_at_the_kink_follow_autograd():
    zero = np.array([0.0])
    for name in ("relu", "leaky_relu", "elu"):
        _, df = activations.get(name)
        _, want = torch_pair(TORCH[name], zero)
        assert df(zero)[0] == want[0], name  # constants (0 or alpha) on both sides: exact


@pytest.mark.parametrize("name", activations.NAMES)
def test_float32_stays_float32(name):
    f, df = activations.get(name)
    z = np.linspace(-3, 3, 11, dtype=np.float32)
    assert f(z).dtype == np.float32
    assert df(z).dtype == np.float32


@pytest.mark.parametrize("name", activations.NAMES)
def test_shape_kept_and_integers_become_float64(name):
    f, df = activations.get(name)
    z = np.arange(-6, 6).reshape(3, 4)
    assert f(z).shape == df(z).shape == (3, 4)
    assert f(z).dtype == df(z).dtype == np.float64


def test_derivative_bounds_the_lecture_uses():
    z = np.linspace(-10, 10, 20001)
    _, dsig = activations.get("sigmoid")
    _, dtanh = activations.get("tanh")
    assert dsig(z).max() == pytest.approx(0.25)
    assert dtanh(z).max() == pytest.approx(1.0)
    assert dtanh(np.array([3.0]))[0] < 0.01  # saturated: tanh'(3) ~ 0.0099


def test_relu_derivative_at_zero_is_zero():
    _, drelu = activations.get("relu")
    assert drelu(np.array([0.0]))[0] == 0.0


@pytest.mark.parametrize("name", activations.NAMES)
def test_no_overflow_at_extreme_inputs(name):
    f, df = activations.get(name)
    z = np.array([-1e300, -1000.0, 1000.0, 1e300])
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        assert np.isfinite(f(z)[1:3]).all() and np.isfinite(df(z)).all()


def test_sigmoid_does_not_overflow():
    f, _ = activations.get("sigmoid")
    with np.errstate(all="raise"):
        out = f(np.array([-1000.0, 1000.0]))
    np.testing.assert_allclose(out, [0.0, 1.0])


def test_lookup_is_case_insensitive():
    assert activations.get("TanH") is activations.get("tanh")


@pytest.mark.parametrize("bad", ["softmax", "", None, 3, "maxout"])
def test_unknown_activation_is_a_value_error(bad):
    with pytest.raises(
        ValueError,
        match="activation must be one of tanh, relu, sigmoid, "
        "leaky_relu, elu, gelu, silu, softplus; got",
    ):
        activations.get(bad)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: activations.leaky_relu(np.zeros(2), negative_slope=float("nan")),
            "negative_slope",
        ),
        (lambda: activations.elu_grad(np.zeros(2), alpha="1"), "alpha must be a finite number"),
        (lambda: activations.softplus(np.zeros(2), beta=0), "beta must be > 0"),
        (lambda: activations.relu(["a", "b"]), "z must be an array of numeric values"),
        (lambda: activations.tanh(None), "z must be an array of numbers"),
        (lambda: activations.sigmoid(np.broadcast_to(0.0, (10**5, 10**5))), "at most 16777216"),
    ],
)
def test_bad_parameters_are_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@pytest.mark.parametrize("name", activations.NAMES)
def test_nan_passes_through_the_forward_pass_but_not_a_call_by_name(name):
    # The module's note: chapter 03's exploding network shows its inf/NaN in its statistics.
    f, df = activations.get(name)
    z = np.array([np.nan, 0.5])
    assert np.isnan(f(z)[0]) and np.isfinite(f(z)[1]) and np.isfinite(df(z)[1])
    for by_name in (getattr(activations, name), getattr(activations, name + "_grad")):
        with pytest.raises(ValueError, match="z must hold finite numbers"):
            by_name(z)
        np.testing.assert_array_equal(
            by_name(z[1:]), (f if by_name.__name__ == name else df)(z[1:])
        )


# ---------------------------------------------------------------------------- Maxout
def test_maxout_matches_torch_autograd():
    rng = np.random.default_rng(0)
    x, W, b = rng.normal(size=(7, 5)), rng.normal(size=(3, 5, 4)), rng.normal(size=(3, 4))
    dout = rng.normal(size=(7, 4))
    out, cache = activations.maxout_forward(x, W, b)
    dx, dW, db = activations.maxout_backward(dout, cache)
    xt, Wt, bt = (torch.tensor(v, requires_grad=True) for v in (x, W, b))
    pieces = torch.einsum("nd,kde->nke", xt, Wt) + bt[None]
    out_t = pieces.max(dim=1).values
    (out_t * torch.tensor(dout)).sum().backward()
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(activations.maxout(x, W, b), out, rtol=0)
    for got, want in ((dx, xt.grad), (dW, Wt.grad), (db, bt.grad)):
        np.testing.assert_allclose(got, want.numpy(), rtol=1e-10, atol=1e-12)


def test_maxout_with_a_zero_piece_is_relu():
    x = np.linspace(-3, 3, 13)[:, None] + 1e-3
    W = np.array([[[1.0]], [[0.0]]])
    b = np.zeros((2, 1))
    np.testing.assert_array_equal(activations.maxout(x, W, b), activations.relu(x))


def test_maxout_shapes_are_checked():
    with pytest.raises(ValueError, match="maxout shapes do not fit"):
        activations.maxout(np.zeros((2, 3)), np.zeros((2, 4, 1)), np.zeros((2, 1)))
    with pytest.raises(ValueError, match="x must have 2 dimension"):
        activations.maxout(np.zeros(3), np.zeros((2, 3, 1)), np.zeros((2, 1)))


def test_selu_matches_torch_values_derivative_and_kink():
    z = np.concatenate([GRID, [0.0]])
    want_f, want_df = torch_pair(F.selu, z)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        got_f, got_df = activations.selu(z), activations.selu_grad(z)
    np.testing.assert_allclose(got_f, want_f, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got_df, want_df, rtol=1e-6, atol=1e-6)
    assert activations.selu(np.float32([1.0])).dtype == np.float32
    assert "selu" not in activations.NAMES  # needs its own initialisation: not in get()
    with pytest.raises(ValueError, match="finite"):
        activations.selu(np.array([np.nan]))
