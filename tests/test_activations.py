"""course_utils.activations: values, derivatives (against torch autograd), lookup."""

import numpy as np
import pytest
import torch

from course_utils import activations

TORCH = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}


@pytest.mark.parametrize("name", activations.NAMES)
def test_values_and_derivatives_match_torch(name):
    z = np.linspace(-6, 6, 1201)
    z = z[z != 0]  # ReLU has no derivative at 0; the convention there is tested below
    f, df = activations.get(name)
    zt = torch.tensor(z, requires_grad=True)
    out = TORCH[name](zt)
    out.sum().backward()
    np.testing.assert_allclose(f(z), out.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(df(z), zt.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", activations.NAMES)
def test_float32_stays_float32(name):
    f, df = activations.get(name)
    z = np.linspace(-3, 3, 11, dtype=np.float32)
    assert f(z).dtype == np.float32
    assert df(z).dtype == np.float32


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


def test_sigmoid_does_not_overflow():
    f, _ = activations.get("sigmoid")
    with np.errstate(all="raise"):
        out = f(np.array([-1000.0, 1000.0]))
    np.testing.assert_allclose(out, [0.0, 1.0])


def test_lookup_is_case_insensitive():
    assert activations.get("TanH") is activations.get("tanh")


@pytest.mark.parametrize("bad", ["softmax", "", None, 3])
def test_unknown_activation_is_a_value_error(bad):
    with pytest.raises(ValueError, match="activation must be one of tanh, relu, sigmoid"):
        activations.get(bad)
