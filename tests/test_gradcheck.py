"""course_utils.gradcheck: numerical gradients, relative errors, gradient checks.

Torch's autograd is the oracle wherever a gradient is compared with a known one. The network
and module checks (course_utils.gradcheck_models) are in test_gradcheck_models.py.
"""

import math

import numpy as np
import pytest
import torch

from course_utils import gradcheck
from course_utils.gradcheck import (
    GradCheck,
    check_gradient,
    norm_error,
    numerical_gradient,
    relative_error,
)


# ---------------------------------------------------------------- numerical_gradient
def test_numerical_gradient_matches_torch_autograd():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((4, 3))
    x = rng.standard_normal((2, 4))

    def f(v):
        return float(np.sum(np.tanh(v @ A) ** 2))

    xt = torch.tensor(x, requires_grad=True)
    (torch.tanh(xt @ torch.tensor(A)) ** 2).sum().backward()
    np.testing.assert_allclose(numerical_gradient(f, x), xt.grad.numpy(), rtol=1e-8, atol=1e-10)


def test_x_is_restored_bit_for_bit_and_may_be_read_through_a_view():
    x = np.random.default_rng(2).standard_normal((3, 4))
    before = x.copy()
    view = x.reshape(-1)  # f ignores its argument and reads the shared memory
    grad = numerical_gradient(lambda _: float(np.sum(view**3)), x)
    assert np.array_equal(x, before)
    np.testing.assert_allclose(grad, 3 * before**2, rtol=1e-8)


def test_centred_error_is_second_order_forward_first_order():
    # f = sin at 1: halving h divides the centred error by 4, the forward one by 2
    def errors(h, method):
        x = np.array([1.0])
        return abs(
            numerical_gradient(lambda v: float(np.sin(v[0])), x, h, method)[0] - math.cos(1.0)
        )

    assert errors(1e-2, "centred") / errors(5e-3, "centred") == pytest.approx(4, rel=0.01)
    assert errors(1e-2, "forward") / errors(5e-3, "forward") == pytest.approx(2, rel=0.02)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(x=np.ones(3, dtype=np.float32)), "float64"),
        (dict(x=[1.0, 2.0]), "float64"),
        (dict(h=0.0), "h must be > 0"),
        (dict(h=float("nan")), "h must be a finite number"),
        (dict(method="backward"), "method must be one of"),
        (dict(f=3.0), "f must be a function"),
    ],
)
def test_numerical_gradient_rejects_bad_input(kwargs, message):
    args = dict(f=lambda v: float(v.sum()), x=np.ones(3), h=1e-5, method="centred")
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        numerical_gradient(args["f"], args["x"], args["h"], args["method"])


def test_numerical_gradient_bounds_and_writability():
    with pytest.raises(ValueError, match="at most 100,000"):
        numerical_gradient(lambda v: 0.0, np.zeros(gradcheck.MAX_ENTRIES + 1))
    x = np.ones(3)
    x.flags.writeable = False
    with pytest.raises(ValueError, match="writable"):
        numerical_gradient(lambda v: 0.0, x)


# ---------------------------------------------------------------- relative errors
def test_relative_error_values():
    # the equalities below are exact in floats: 0 / floor = 0, |1 - (-1)| / 1 = 2, and an
    # empty array has no error
    assert relative_error([0.0, 1.0], [0.0, 1.0]) == 0.0  # both 0: agree
    assert relative_error([1.0], [-1.0]) == 2.0
    assert relative_error([1.0, 2.0], [1.0, 2.2]) == pytest.approx(0.2 / 2.2)
    assert relative_error([1e-20], [0.0], tiny=1e-12) == pytest.approx(1e-8)
    assert relative_error(np.zeros((0,)), np.zeros((0,))) == 0.0
    with pytest.raises(ValueError, match="same shape"):
        relative_error([1.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="tiny must be > 0"):
        relative_error([1.0], [1.0], tiny=0)


def test_norm_error_values():
    # exact in floats: equal arrays give 0; ||(3, 4)|| = 5 exactly, 5 / 5 = 1
    assert norm_error([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert norm_error([3.0, 4.0], [3.0, 4.0]) == 0.0
    assert norm_error([3.0, 4.0], [0.0, 0.0]) == 1.0
    assert norm_error([1.0, 0.0], [1.0, 1e-3]) == pytest.approx(1e-3, rel=1e-6)


def test_check_gradient_reports_the_worst_entry():
    x = np.array([1.0, 2.0, 3.0])
    wrong = 2 * x
    wrong[1] = 5.0  # the derivative of x^2 at 2 is 4
    result = check_gradient(lambda v: float(np.sum(v**2)), x, wrong, name="v")
    assert isinstance(result, GradCheck) and not result.passed
    assert result.worst_index == (1,)
    assert result.analytic == 5.0 and result.numeric == pytest.approx(4.0, rel=1e-9)
    assert result.relative_error == pytest.approx(0.2, rel=1e-6)
    assert "v: relative error" in str(result) and "FAILED" in str(result)
    assert check_gradient(lambda v: float(np.sum(v**2)), x, 2 * x).passed
    with pytest.raises(ValueError, match="tol must be"):
        check_gradient(lambda v: 0.0, x, x, tol=-1)
