"""course_utils.penalties: L2 and L1 penalties and gradients against torch, bad input refused."""

import numpy as np
import pytest
import torch

from course_utils import penalties
from course_utils.penalties import l1_grad, l1_penalty, l2_grad, l2_penalty, torch_penalty


def rng(seed=0):
    return np.random.default_rng(seed)


def test_penalties_and_gradients_match_torch_autograd():
    weights = [rng(1).standard_normal((5, 4)), rng(2).standard_normal((4, 3))]
    lam = 0.3
    tw = [torch.tensor(w, requires_grad=True) for w in weights]
    l2 = 0.5 * lam * sum((w * w).sum() for w in tw)
    l2.backward()
    assert l2_penalty(weights, lam) == pytest.approx(l2.item(), rel=1e-12)
    for ours, w in zip(l2_grad(weights, lam), tw):
        np.testing.assert_allclose(ours, w.grad.numpy(), rtol=1e-12)
    tw = [torch.tensor(w, requires_grad=True) for w in weights]
    l1 = lam * sum(w.abs().sum() for w in tw)
    l1.backward()
    assert l1_penalty(weights, lam) == pytest.approx(l1.item(), rel=1e-12)
    for ours, w in zip(l1_grad(weights, lam), tw):
        np.testing.assert_allclose(ours, w.grad.numpy(), rtol=1e-12)


def test_single_array_gives_single_gradient_and_l1_subgradient_is_zero_at_zero():
    w = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_array_equal(l1_grad(w, 0.5), [[-0.5, 0.0, 0.5]])
    np.testing.assert_array_equal(l2_grad(w, 0.5), 0.5 * w)
    assert l2_penalty(w, 2.0) == pytest.approx(13.0)
    assert l1_penalty(w, 2.0) == pytest.approx(10.0)


def test_torch_penalty_equals_numpy_penalty_on_linear_weights_only():
    model = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    weights = [
        m.weight.detach().numpy().astype(np.float64)
        for m in model
        if isinstance(m, torch.nn.Linear)
    ]
    assert torch_penalty("l2", 0.1)(model).item() == pytest.approx(
        l2_penalty(weights, 0.1), rel=1e-6
    )
    assert torch_penalty("l1", 0.1)(model).item() == pytest.approx(
        l1_penalty(weights, 0.1), rel=1e-6
    )


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: l2_penalty(np.ones(3), -1.0), "lam must be >= 0; got -1.0"),
        (lambda: l1_penalty([], 1.0), "weights must have between 1 and 10000 items; got 0"),
        (
            lambda: l1_grad(np.array([1.0, np.nan]), 1.0),
            "weights must hold finite numbers; it has NaN or inf",
        ),
        (lambda: torch_penalty("l3", 1.0), "kind must be one of 'l1', 'l2'; got 'l3'"),
    ],
)
def test_penalty_arguments_are_checked(call, message):
    with pytest.raises(
        ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
    ):
        call()


def test_elastic_net_is_both_penalties_and_matches_torch_autograd():
    gen = np.random.default_rng(3)
    ws = [gen.standard_normal((4, 3)), gen.standard_normal(5)]
    value = penalties.elastic_net_penalty(ws, 0.1, 0.3)
    assert value == pytest.approx(penalties.l1_penalty(ws, 0.1) + penalties.l2_penalty(ws, 0.3))
    ts = [torch.tensor(w, requires_grad=True) for w in ws]
    loss = sum(0.1 * t.abs().sum() + 0.15 * (t * t).sum() for t in ts)
    loss.backward()
    for g, t in zip(penalties.elastic_net_grad(ws, 0.1, 0.3), ts):
        np.testing.assert_allclose(g, t.grad.numpy(), rtol=1e-12)
    single = penalties.elastic_net_grad(ws[0], 0.1, 0.3)
    np.testing.assert_allclose(single, ts[0].grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize("axis", [0, 1])
def test_max_norm_matches_torch_renorm(axis):
    max_norm = penalties.max_norm
    W = np.random.default_rng(4).standard_normal((6, 5)) * np.array(
        [0.1, 1, 3, 0.2, 2]
    )  # some short, some long
    W = W if axis == 0 else W.T
    ours = max_norm(W, 1.5, axis=axis)
    # torch.renorm's dim is the dimension of the sub-tensors (units): the other axis
    theirs = torch.renorm(torch.tensor(W), p=2, dim=1 - axis, maxnorm=1.5).numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)  # torch adds 1e-7 to the norm
    norms = np.linalg.norm(ours, axis=axis)
    assert norms.max() <= 1.5 + 1e-12
    short = np.linalg.norm(W, axis=axis) <= 1.5
    np.testing.assert_array_equal(
        np.take(ours, np.flatnonzero(short), axis=1 - axis),
        np.take(W, np.flatnonzero(short), axis=1 - axis),
    )
    assert np.array_equal(max_norm(np.zeros((3, 2)), 1.0), np.zeros((3, 2)))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: penalties.max_norm(np.ones((2, 2)), 0.0), "c must be > 0"),
        (lambda: penalties.max_norm(np.ones(3), 1.0), r"W must have 2 dimension\(s\)"),
        (lambda: penalties.max_norm(np.ones((2, 2)), 1.0, 2), "axis must be one of 0, 1"),
        (lambda: penalties.elastic_net_penalty(np.ones(2), -1.0, 0.1), "l1 must be >= 0"),
    ],
)
def test_new_penalty_arguments_are_checked(call, message):
    with pytest.raises(ValueError, match=message):
        call()
