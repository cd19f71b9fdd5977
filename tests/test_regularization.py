"""course_utils.regularization: every function against its formula, torch where torch has it,
and the bad input each one refuses."""

import math

import numpy as np
import pytest
import torch

from course_utils import network
from course_utils import regularization as R


def rng(seed=0):
    return np.random.default_rng(seed)


# ------------------------------------------------------------------ dropout
@pytest.mark.parametrize("p", [0.0, 0.2, 0.5, 0.9])
def test_dropout_versions_follow_their_formulas(p):
    x = rng(3).standard_normal((20, 30))
    mask = R.dropout_mask(x.shape, p, rng(4))
    np.testing.assert_array_equal(R.dropout(x, p, True, 1, rng(4)), x * mask)
    np.testing.assert_allclose(R.dropout(x, p, True, 2, rng(4)), x * mask / (1 - p), rtol=1e-15)
    np.testing.assert_allclose(R.dropout(x, p, False, 1), (1 - p) * x, rtol=1e-15)
    np.testing.assert_array_equal(R.dropout(x, p, False, 2), x)
    assert R.dropout(x, p, False, 2) is not x  # a new array


def test_dropout_mask_keeps_one_minus_p_and_is_seeded():
    mask = R.dropout_mask((400, 500), 0.3, rng(0))
    assert mask.dtype == bool
    assert abs(mask.mean() - 0.7) < 10 * math.sqrt(0.21 / mask.size)
    np.testing.assert_array_equal(mask, R.dropout_mask((400, 500), 0.3, rng(0)))


@pytest.mark.parametrize("p", [0.2, 0.5, 0.75])
def test_inverted_dropout_scaling_matches_torch(p):
    x = torch.rand(300, 40, dtype=torch.float64, generator=torch.Generator().manual_seed(1)) + 0.5
    torch.manual_seed(0)
    theirs = torch.nn.functional.dropout(x, p=p, training=True).numpy()
    ours = R.apply_dropout(x.numpy(), theirs != 0, p, version=2)
    np.testing.assert_allclose(ours, theirs, rtol=1e-15, atol=0)
    np.testing.assert_array_equal(
        R.dropout(x.numpy(), p, False, 2), torch.nn.functional.dropout(x, p, training=False).numpy()
    )
    # torch's p is the drop probability too: its kept share is 1 - p
    assert abs((theirs != 0).mean() - (1 - p)) < 10 * math.sqrt(p * (1 - p) / theirs.size)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: R.dropout(np.ones(3), 1.0, True), "p must be >= 0 and < 1; got 1.0"),
        (lambda: R.dropout(np.ones(3), -0.1, True), "p must be >= 0 and < 1; got -0.1"),
        (lambda: R.dropout(np.ones(3), "0.5", True), "p must be a finite number; got '0.5'"),
        (lambda: R.dropout(np.ones(3), 0.5, 1), "train must be True or False; got 1"),
        (lambda: R.dropout(np.ones(3), 0.5, True, version=3), "version must be one of 1, 2; got 3"),
        (lambda: R.dropout(np.ones(3), 0.5, True, seed=-1), "seed must be an integer between 0"),
        (lambda: R.dropout(np.array(["a"]), 0.5, True), "x must be an array of float64 values"),
        (
            lambda: R.dropout(np.array([np.inf]), 0.5, True),
            "x must hold finite numbers; it has NaN or inf",
        ),
        (lambda: R.dropout_mask((2**13, 2**12), 0.5), "at most 16777216 fit in memory here"),
        (lambda: R.apply_dropout(np.ones(3), np.ones(3), 0.5), "mask must be a boolean array"),
    ],
)
def test_dropout_arguments_are_checked(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_dropout_refuses_huge_input_before_allocating():
    huge = np.broadcast_to(np.float64(1.0), (2**13, 2**12))  # a view: no memory yet
    with pytest.raises(ValueError, match="x would have 33554432 entries"):
        R.dropout(huge, 0.5, True)


# ------------------------------------------------------------------ DropoutStep in the network
SIZES = (6, 5, 4, 3)


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("train", [True, False])
def test_dropout_step_forward_and_backward_match_torch_autograd(version, train):
    p = 0.4
    x = rng(0).standard_normal((7, SIZES[0]))
    weights = [
        rng(i + 1).standard_normal((a, b)) for i, (a, b) in enumerate(zip(SIZES[:-1], SIZES[1:]))
    ]
    upstream = rng(9).standard_normal((7, SIZES[-1]))
    step = R.DropoutStep(p, train=train, version=version, seed=5, depth=3)
    record = network.forward(x, weights, "tanh", step=step)
    grads = network.backward(record, weights, upstream, "tanh", step=step)
    draw = rng(5)  # the step's generator, replayed: one mask per dropped layer, in order
    masks = [draw.random((7, SIZES[1])) >= p, draw.random((7, SIZES[2])) >= p]
    xt = torch.tensor(x, requires_grad=True)
    wt = [torch.tensor(w, requires_grad=True) for w in weights]
    a = xt
    for layer, w in enumerate(wt):
        a = torch.tanh(a @ w)
        if layer < 2:
            if train:
                a = a * torch.tensor(masks[layer]) / ((1 - p) if version == 2 else 1.0)
            elif version == 1:
                a = a * (1 - p)
    np.testing.assert_allclose(record.output, a.detach().numpy(), rtol=1e-12, atol=1e-14)
    (a * torch.tensor(upstream)).sum().backward()
    for ours, theirs in zip(grads.weights, wt):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(grads.input, xt.grad.numpy(), rtol=1e-10, atol=1e-13)


def test_dropout_step_without_depth_drops_every_layer_and_checks_arguments():
    step = R.DropoutStep(0.5, seed=0)
    out, cache = step.forward(np.ones((4, 100)), layer=0)
    assert set(np.unique(out)) == {0.0, 2.0}
    with pytest.raises(ValueError, match="depth must be between 1 and 1000; got 0"):
        R.DropoutStep(0.5, depth=0)
    with pytest.raises(ValueError, match="train must be True or False"):
        R.DropoutStep(0.5, train="yes")


# ------------------------------------------------------------------ chapter 07's second exercise
def _net(seed=3, n=6, d=5, hidden=7, c=3):
    draw = rng(seed)
    return (
        draw.standard_normal((n, d)),
        draw.standard_normal((n, c)),
        draw.standard_normal((d, hidden)) / np.sqrt(d),
        0.1 * draw.standard_normal(hidden),
        draw.standard_normal((hidden, c)) / np.sqrt(hidden),
        0.1 * draw.standard_normal(c),
    )


@pytest.mark.parametrize("p, train", [(0.3, True), (0.75, True), (0.3, False), (0.0, True)])
def test_dropout_net_loss_matches_torch_autograd_with_the_same_mask(p, train):
    X, Y, W1, b1, W2, b2 = _net()
    loss, grads = R.dropout_net_loss(X, Y, W1, b1, W2, b2, p, train, rng(11))
    keep = rng(11).random((6, 7)) >= p  # the mask the function draws first
    tp = {
        k: torch.tensor(v, requires_grad=True)
        for k, v in {"W1": W1, "b1": b1, "W2": W2, "b2": b2}.items()
    }
    h = torch.relu(torch.tensor(X) @ tp["W1"] + tp["b1"])
    if train:
        h = h * torch.tensor(keep) / (1 - p)
    scores = h @ tp["W2"] + tp["b2"]
    want = 0.5 * ((scores - torch.tensor(Y)) ** 2).sum() / len(X)
    want.backward()
    assert loss == pytest.approx(want.item(), rel=1e-12)
    assert set(grads) == {"W1", "b1", "W2", "b2"}
    for name, param in tp.items():
        np.testing.assert_allclose(grads[name], param.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_dropout_net_loss_p0_is_the_test_mode_and_the_mask_comes_from_rng():
    X, Y, W1, b1, W2, b2 = _net()
    test_loss, test_grads = R.dropout_net_loss(X, Y, W1, b1, W2, b2, 0.4, False)
    # p = 0 in training keeps every unit with scale 1: the plain network, as at test time
    plain = R.dropout_net_loss(X, Y, W1, b1, W2, b2, 0.0, True, rng(0))
    assert plain[0] == pytest.approx(test_loss, rel=1e-12)
    for name in test_grads:
        np.testing.assert_allclose(plain[1][name], test_grads[name], rtol=1e-12)
    # the mask comes from rng: three seeds, three masks, three losses
    draws = [R.dropout_net_loss(X, Y, W1, b1, W2, b2, 0.4, True, rng(s))[0] for s in range(3)]
    assert len(set(draws)) == 3


def test_dropout_net_loss_refuses_bad_input():
    X, Y, W1, b1, W2, b2 = _net()
    with pytest.raises(ValueError, match="p must be >= 0 and < 1"):
        R.dropout_net_loss(X, Y, W1, b1, W2, b2, 1.0, True, rng(0))
    with pytest.raises(ValueError, match="shapes must be"):
        R.dropout_net_loss(X, Y[:, :2], W1, b1, W2, b2, 0.5, True, rng(0))
    with pytest.raises(ValueError, match="must be 2-D"):
        R.dropout_net_loss(X, Y, W1, b1[None], W2, b2, 0.5, True, rng(0))
    with pytest.raises(ValueError, match="train must be True or False"):
        R.dropout_net_loss(X, Y, W1, b1, W2, b2, 0.5, "yes", rng(0))
    with pytest.raises(ValueError, match="seed must be"):
        R.dropout_net_loss(X, Y, W1, b1, W2, b2, 0.5, True, -1)


def test_notebook_network_table():
    """Section 2.3's printed table (one mask per layer, seed 0)."""
    draw = rng(0)
    net_x = draw.standard_normal((64, 256))
    net_w = [draw.standard_normal((256, 256)) * np.sqrt(2 / 256) for _ in range(3)]
    means = {}
    for version in (1, 2):
        for mode in ("train", "test"):
            step = R.DropoutStep(0.5, train=(mode == "train"), version=version, seed=0, depth=3)
            means[version, mode] = [
                a.mean() for a in network.forward(net_x, net_w, "relu", step=step).activations
            ]
    np.testing.assert_allclose(means[2, "train"], [0.557, 0.763, 1.116], atol=5e-4)
    np.testing.assert_allclose(means[2, "test"], [0.555, 0.553, 0.583], atol=5e-4)
    np.testing.assert_allclose(means[1, "train"], [0.278, 0.191, 0.279], atol=5e-4)
    np.testing.assert_allclose(means[1, "test"], [0.278, 0.138, 0.146], atol=5e-4)
    # version 1 is version 2 times (1 - p) per dropped layer (ReLU is positively homogeneous)
    np.testing.assert_allclose(means[1, "test"], np.array(means[2, "test"]) * [0.5, 0.25, 0.25])
    np.testing.assert_allclose(means[1, "train"], np.array(means[2, "train"]) * [0.5, 0.25, 0.25])


# ------------------------------------------------------------------ DropConnect
@pytest.mark.parametrize("version", [1, 2])
def test_dropconnect_drops_weights_and_its_test_output_is_the_expectation(version):
    x, W, p = rng(1).standard_normal((5, 8)), rng(2).standard_normal((8, 6)), 0.3
    mask = R.dropconnect_mask(W.shape, p, rng(3))
    scale = 1 / (1 - p) if version == 2 else 1.0
    np.testing.assert_allclose(
        R.dropconnect(x, W, p, True, version, rng(3)), x @ (W * mask) * scale
    )
    test = R.dropconnect(x, W, p, False, version)
    np.testing.assert_allclose(test, x @ W * (1 - p if version == 1 else 1.0))
    mean = np.mean([R.dropconnect(x, W, p, True, version, rng(s)) for s in range(4000)], axis=0)
    assert np.linalg.norm(mean - test) / np.linalg.norm(test) < 0.03


def test_dropconnect_checks_shapes():
    with pytest.raises(ValueError, match=r"x must be \(N, D_in\) and W \(D_in, D_out\)"):
        R.dropconnect(np.ones((2, 3)), np.ones((4, 5)), 0.5, True)


# ------------------------------------------------------------------ stochastic depth
def test_linear_survival_is_huang_et_al_rule():
    np.testing.assert_allclose(R.linear_survival(4, 0.5), [0.875, 0.75, 0.625, 0.5])
    with pytest.raises(ValueError, match="p_last must be > 0 and <= 1; got 0.0"):
        R.linear_survival(4, 0.0)


def test_stochastic_depth_train_and_test():
    blocks = [lambda h, k=k: np.tanh(h + k) for k in range(3)]
    x, survival = rng(0).standard_normal((2, 4)), [0.9, 0.6, 0.3]
    out, ran = R.stochastic_depth(x, blocks, survival, True, seed=1)
    expected_ran = rng(1).random(3) < survival
    np.testing.assert_array_equal(ran, expected_ran)
    h = x
    for f, keep in zip(blocks, ran):
        h = h + f(h) if keep else h
    np.testing.assert_allclose(out, h)
    test, ran = R.stochastic_depth(x, blocks, survival, False)
    assert ran.all()
    h = x
    for f, p_l in zip(blocks, survival):
        h = h + p_l * f(h)
    np.testing.assert_allclose(test, h)
    test2, _ = R.stochastic_depth(x, blocks, survival, False, version=2)
    h = x
    for f in blocks:
        h = h + f(h)
    np.testing.assert_allclose(test2, h)


def test_stochastic_depth_one_block_test_output_is_the_expectation():
    block = [lambda h: np.tanh(2 * h)]
    x = rng(0).standard_normal((3, 4))
    for version in (1, 2):
        mean = np.mean(
            [R.stochastic_depth(x, block, 0.7, True, version, rng(s))[0] for s in range(3000)],
            axis=0,
        )
        test = R.stochastic_depth(x, block, 0.7, False, version)[0]
        assert np.linalg.norm(mean - test) / np.linalg.norm(test) < 0.02


def test_stochastic_depth_checks_arguments():
    with pytest.raises(ValueError, match="survival probabilities must be in"):
        R.stochastic_depth(np.ones((1, 2)), [np.tanh], 0.0, True)
    with pytest.raises(ValueError, match="blocks must have between 1 and 1000 items; got 0"):
        R.stochastic_depth(np.ones((1, 2)), [], 0.5, True)


def test_notebook_stochastic_depth_counts():
    survival = R.linear_survival(12, p_last=0.5)
    sd_rng = rng(0)
    block_w = sd_rng.standard_normal((12, 8, 8)) / np.sqrt(8)
    blocks = [lambda h, W=W: np.tanh(h @ W) for W in block_w]
    ran = np.array(
        [
            R.stochastic_depth(np.ones((1, 8)), blocks, survival, True, seed=sd_rng)[1]
            for _ in range(24)
        ]
    )
    counts = ran.sum(axis=1)
    assert (round(counts.mean(), 2), round(survival.sum(), 2), counts.min(), counts.max()) == (
        8.71,
        8.75,
        6,
        12,
    )
