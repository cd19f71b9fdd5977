"""course_utils.gradcheck_models: softmax cross-entropy, network and torch-module checks."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils import activations
from course_utils.gradcheck_models import check_module, check_network, softmax_cross_entropy
from course_utils.training import build_mlp


def small_problem(seed=0, n=5, d=8, hidden=6, classes=4):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d))
    weights = [
        rng.standard_normal((d, hidden)) / math.sqrt(d),
        rng.standard_normal((hidden, classes)) / math.sqrt(hidden),
    ]
    y = rng.integers(0, classes, n)
    return x, weights, y


# ---------------------------------------------------------------- softmax cross-entropy
def test_softmax_cross_entropy_matches_torch():
    rng = np.random.default_rng(3)
    scores = rng.standard_normal((7, 5)) * 3
    y = rng.integers(0, 5, 7)
    st = torch.tensor(scores, requires_grad=True)
    loss_t = F.cross_entropy(st, torch.tensor(y))
    loss_t.backward()
    loss, dscores = softmax_cross_entropy(scores, y)
    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    np.testing.assert_allclose(dscores, st.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_softmax_cross_entropy_is_ln_c_for_equal_scores_and_never_overflows():
    loss, _ = softmax_cross_entropy(np.zeros((3, 10)), np.array([0, 4, 9]))
    assert loss == pytest.approx(math.log(10), rel=1e-14)
    loss, grad = softmax_cross_entropy(np.array([[1e4, 0.0]]), np.array([1]))
    assert loss == pytest.approx(1e4) and np.all(np.isfinite(grad))


@pytest.mark.parametrize(
    "scores, y, message",
    [
        (np.zeros((2, 1)), np.array([0, 0]), "scores must be"),
        (np.zeros((2, 3)), np.array([0, 3]), "labels 0..2"),
        (np.zeros((2, 3)), np.array([0.0, 1.0]), "integer labels"),
        (np.zeros((2, 3)), np.array([0]), "integer labels"),
    ],
)
def test_softmax_cross_entropy_rejects_bad_input(scores, y, message):
    with pytest.raises(ValueError, match=message):
        softmax_cross_entropy(scores, y)


# ---------------------------------------------------------------- the course's network
@pytest.mark.parametrize("activation", ["tanh", "sigmoid", "relu", "gelu", "elu"])
def test_network_gradients_pass_in_float64(activation):
    x, weights, y = small_problem()
    before = [w.copy() for w in weights]
    checks = check_network(x, weights, y, activation)
    assert [c.name for c in checks] == ["W1", "W2", "x"]
    assert all(c.passed and c.norm_error < 1e-7 for c in checks), [str(c) for c in checks]
    assert all(np.array_equal(w, b) for w, b in zip(weights, before))


def test_network_check_catches_a_wrong_derivative():
    x, weights, y = small_problem()
    wrong = (activations.tanh, lambda z: 1 - np.tanh(z))  # the square is missing
    checks = check_network(x, weights, y, wrong)
    assert all(not c.passed and c.norm_error > 1e-2 for c in checks)


def test_network_check_rejects_float32_and_large_problems():
    x, weights, y = small_problem()
    with pytest.raises(ValueError, match=r"weights\[1\] must be a float64"):
        check_network(x, [weights[0], weights[1].astype(np.float32)], y)
    big = np.zeros((400, 300))
    with pytest.raises(ValueError, match="at most 100,000"):
        check_network(big, [np.zeros((300, 2))], np.zeros(400, dtype=int))


# ---------------------------------------------------------------- torch modules
def test_torch_linear_passes_and_is_left_untouched():
    torch.manual_seed(0)
    layer = torch.nn.Linear(5, 3)
    weight = layer.weight.detach().clone()
    x = np.random.default_rng(4).standard_normal((4, 5))
    checks = check_module(layer, x)
    assert [c.name for c in checks] == ["weight", "bias", "x"]
    assert all(c.passed for c in checks), [str(c) for c in checks]
    assert layer.weight.dtype == torch.float32 and torch.equal(layer.weight, weight)


def test_build_mlp_passes_with_a_cross_entropy_loss():
    model = build_mlp(8, 4, depth=2, width=6, activation="tanh", seed=0)
    x = torch.randn(5, 8, generator=torch.Generator().manual_seed(0))
    y = torch.tensor([0, 1, 2, 3, 0])
    checks = check_module(model, x, loss=lambda out: F.cross_entropy(out, y))
    assert all(c.passed for c in checks), [str(c) for c in checks]


class _WrongBackward(torch.autograd.Function):
    """tanh with a planted bug: the backward forgets to square."""

    @staticmethod
    def forward(ctx, z):
        ctx.save_for_backward(z)
        return torch.tanh(z)

    @staticmethod
    def backward(ctx, grad):
        (z,) = ctx.saved_tensors
        return grad * (1 - torch.tanh(z))


class _Buggy(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(4, 3)

    def forward(self, x):
        return _WrongBackward.apply(self.linear(x))


def test_module_check_catches_a_wrong_backward():
    torch.manual_seed(0)
    checks = check_module(_Buggy(), np.random.default_rng(5).standard_normal((3, 4)))
    assert all(not c.passed and c.norm_error > 1e-2 for c in checks)


def test_check_module_rejects_bad_input():
    with pytest.raises(ValueError, match="torch.nn.Module"):
        check_module(lambda x: x, np.ones((2, 2)))
    with pytest.raises(ValueError, match="at most 100,000"):
        check_module(torch.nn.Linear(400, 300), np.ones((1, 400)))
    with pytest.raises(ValueError, match="loss must be"):
        check_module(torch.nn.Linear(2, 2), np.ones((1, 2)), loss=3)


def test_check_module_can_sample_entries():
    torch.manual_seed(0)
    layer = torch.nn.Linear(30, 20)
    x = np.random.default_rng(6).standard_normal((4, 30))
    sampled = check_module(layer, x, max_entries=25)
    assert all(c.passed for c in sampled)
    weight = sampled[0]
    assert len(weight.worst_index) == 2 and 0 <= weight.worst_index[0] < 20
    # the worst entry is reported in the parameter's shape, with its analytic value
    full = check_module(layer, x)
    analytic = layer.weight.grad  # untouched: check_module works on a copy
    assert analytic is None and full[0].passed
    buggy = check_module(_Buggy(), np.random.default_rng(5).standard_normal((3, 4)), max_entries=3)
    assert all(not c.passed for c in buggy)
    with pytest.raises(ValueError, match="max_entries must be None or an integer >= 1"):
        check_module(layer, x, max_entries=0)
    # the bound counts checked entries: a large layer passes when sampled
    big = torch.nn.Linear(400, 300)
    assert all(c.passed for c in check_module(big, np.ones((1, 400)), max_entries=20))
