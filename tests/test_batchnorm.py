"""course_utils.batchnorm: NumPy Batch Norm against torch.nn.BatchNorm1d and autograd."""

import numpy as np
import pytest
import torch

from course_utils import batchnorm as B
from course_utils import network


def batch(n=8, d=5, seed=0, scale=3.0, shift=2.0):
    rng = np.random.default_rng(seed)
    return shift + scale * rng.standard_normal((n, d))


def torch_bn(d, gamma, beta, momentum=0.1, eps=1e-5):
    bn = torch.nn.BatchNorm1d(d, eps=eps, momentum=momentum).double()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(gamma))
        bn.bias.copy_(torch.tensor(beta))
    return bn


@pytest.mark.parametrize("momentum, eps", [(0.1, 1e-5), (0.3, 1e-3)])
def test_train_and_eval_match_torch_including_running_statistics(momentum, eps):
    d = 5
    rng = np.random.default_rng(1)
    gamma, beta = rng.uniform(0.5, 2, d), rng.normal(0, 1, d)
    bn = torch_bn(d, gamma, beta, momentum, eps)
    mean, var = np.zeros(d), np.ones(d)
    for step in range(6):  # several training steps, batches of different sizes
        x = batch(n=4 + 3 * step, d=d, seed=step)
        out, cache = B.batchnorm_forward(x, gamma, beta, mean, var, momentum, eps, train=True)
        mean, var = cache.running_mean, cache.running_var
        bn.train()
        expected = bn(torch.tensor(x)).detach().numpy()
        np.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(mean, bn.running_mean.numpy(), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(var, bn.running_var.numpy(), rtol=1e-12, atol=1e-14)
    x = batch(n=7, d=d, seed=99)
    out, _ = B.batchnorm_forward(x, gamma, beta, mean, var, momentum, eps, train=False)
    bn.eval()
    np.testing.assert_allclose(out, bn(torch.tensor(x)).detach().numpy(), rtol=1e-10, atol=1e-12)


def test_running_variance_uses_the_unbiased_batch_variance():
    x = batch(n=4, d=3)
    _, cache = B.batchnorm_forward(
        x, np.ones(3), np.zeros(3), np.zeros(3), np.ones(3), momentum=1.0
    )
    np.testing.assert_allclose(cache.running_var, x.var(axis=0, ddof=1))
    np.testing.assert_allclose(cache.batch_var, x.var(axis=0, ddof=0))
    np.testing.assert_allclose(cache.running_mean, x.mean(axis=0))


@pytest.mark.parametrize("train", [True, False])
def test_gradients_match_autograd(train):
    d, n = 6, 10
    rng = np.random.default_rng(2)
    x, dout = batch(n=n, d=d, seed=3), rng.standard_normal((n, d))
    gamma, beta = rng.uniform(0.5, 2, d), rng.normal(0, 1, d)
    rmean, rvar = rng.normal(0, 1, d), rng.uniform(0.5, 3, d)
    out, cache = B.batchnorm_forward(x, gamma, beta, rmean, rvar, train=train)
    dx, dgamma, dbeta = B.batchnorm_backward(dout, cache)
    bn = torch_bn(d, gamma, beta)
    with torch.no_grad():
        bn.running_mean.copy_(torch.tensor(rmean))
        bn.running_var.copy_(torch.tensor(rvar))
    bn.train(train)
    xt = torch.tensor(x, requires_grad=True)
    (bn(xt) * torch.tensor(dout)).sum().backward()
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-5, atol=1e-10)
    np.testing.assert_allclose(dgamma, bn.weight.grad.numpy(), rtol=1e-5, atol=1e-10)
    np.testing.assert_allclose(dbeta, bn.bias.grad.numpy(), rtol=1e-5, atol=1e-10)


def test_train_output_has_zero_mean_unit_variance_then_gamma_beta():
    x = batch(n=64, d=4)
    out, _ = B.batchnorm_forward(x, np.ones(4), np.zeros(4))
    np.testing.assert_allclose(out.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(0), 1, atol=1e-5)
    gamma, beta = np.array([2.0, 0.5, 1.0, 3.0]), np.array([1.0, -1.0, 0.0, 5.0])
    out, _ = B.batchnorm_forward(x, gamma, beta)
    np.testing.assert_allclose(out.mean(0), beta, atol=1e-12)
    np.testing.assert_allclose(out.std(0), gamma, rtol=1e-5)


def test_scale_of_the_weights_does_not_matter():
    rng = np.random.default_rng(0)
    a, w = rng.standard_normal((32, 10)), rng.standard_normal((10, 6))
    ref, _ = B.batchnorm_forward(a @ w, np.ones(6), np.zeros(6), eps=1e-12)
    for c in (0.01, 10.0, 1000.0):
        out, _ = B.batchnorm_forward(a @ (c * w), np.ones(6), np.zeros(6), eps=1e-12)
        np.testing.assert_allclose(out, ref, atol=1e-8)


@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_batchnorm_step_runs_the_lecture_network_and_matches_torch(activation):
    rng = np.random.default_rng(4)
    sizes, n = (5, 7, 4), 6
    x, up = rng.standard_normal((n, sizes[0])), rng.standard_normal((n, sizes[-1]))
    weights = [rng.normal(0, 0.8, (i, o)) for i, o in zip(sizes[:-1], sizes[1:])]
    gammas = [rng.uniform(0.5, 2, d) for d in sizes[1:]]
    betas = [rng.normal(0, 1, d) for d in sizes[1:]]
    step = B.BatchNormStep(gammas, betas)
    record = network.forward(x, weights, activation, step=step)
    grads = network.backward(record, weights, up, activation, step=step)
    f = {"tanh": torch.tanh, "relu": torch.relu}[activation]
    xt = torch.tensor(x, requires_grad=True)
    wt = [torch.tensor(w, requires_grad=True) for w in weights]
    bns = [torch_bn(len(g), g, b) for g, b in zip(gammas, betas)]
    a = xt
    for w, bn in zip(wt, bns):
        a = f(bn(a @ w))
    (a * torch.tensor(up)).sum().backward()
    np.testing.assert_allclose(record.output, a.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(grads.input, xt.grad.numpy(), rtol=1e-5, atol=1e-10)
    for layer, (w, bn) in enumerate(zip(wt, bns)):
        np.testing.assert_allclose(grads.weight(layer + 1), w.grad.numpy(), rtol=1e-5, atol=1e-10)
        np.testing.assert_allclose(
            step.grads[layer][0], bn.weight.grad.numpy(), rtol=1e-5, atol=1e-10
        )
        np.testing.assert_allclose(
            step.grads[layer][1], bn.bias.grad.numpy(), rtol=1e-5, atol=1e-10
        )
        np.testing.assert_allclose(step.running_vars[layer], bn.running_var.numpy(), rtol=1e-10)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: B.batchnorm_forward(np.ones(3), np.ones(3), np.zeros(3)),
            "x must have 2 dimension",
        ),
        (
            lambda: B.batchnorm_forward(np.ones((1, 3)), np.ones(3), np.zeros(3)),
            "at least 2 examples",
        ),
        (
            lambda: B.batchnorm_forward(np.ones((4, 3)), np.ones(2), np.zeros(3)),
            r"gamma must have shape \(3\)",
        ),
        (
            lambda: B.batchnorm_forward(np.ones((4, 3)), np.ones(3), np.zeros(3), eps=0),
            "eps must be > 0",
        ),
        (
            lambda: B.batchnorm_forward(np.ones((4, 3)), np.ones(3), np.zeros(3), momentum=1.5),
            "momentum must be >= 0 and <= 1; got 1.5",
        ),
        (
            lambda: B.batchnorm_forward(np.ones((4, 3)), np.ones(3), np.zeros(3), train=False),
            "needs running_mean",
        ),
        (
            lambda: B.batchnorm_forward(np.full((4, 3), np.nan), np.ones(3), np.zeros(3)),
            "NaN or inf",
        ),
        (
            lambda: B.batchnorm_forward(np.ones((4, 3)), np.ones(3), np.zeros(3), train=1),
            "train must be True or False",
        ),
        (lambda: B.batchnorm_backward(np.ones((4, 3)), None), "cache must be the BatchNormCache"),
        (
            lambda: B.batchnorm_forward(np.zeros((2**12, 2**12)), np.ones(2**12), np.zeros(2**12)),
            "at most",
        ),
    ],
)
def test_bad_arguments_are_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_float32_input_stays_float32_and_agrees_with_float64():
    x = batch(n=32, d=6)
    out64, _ = B.batchnorm_forward(x, np.ones(6), np.zeros(6))
    out32, cache = B.batchnorm_forward(x.astype(np.float32), np.ones(6), np.zeros(6))
    assert out32.dtype == np.float32 and cache.batch_var.dtype == np.float32
    np.testing.assert_allclose(out32, out64, atol=1e-5)
    out_int, _ = B.batchnorm_forward(np.arange(12).reshape(4, 3), np.ones(3), np.zeros(3))
    assert out_int.dtype == np.float64


# ---------------------------------------------------------------------- BatchNorm2d, folding
def test_batchnorm2d_matches_torch_train_eval_and_gradients():
    rng = np.random.default_rng(3)
    c = 4
    gamma, beta = rng.uniform(0.5, 2, c), rng.normal(0, 1, c)
    bn = torch.nn.BatchNorm2d(c).double()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(gamma))
        bn.bias.copy_(torch.tensor(beta))
    mean, var = np.zeros(c), np.ones(c)
    for step in range(3):
        x = 1.0 + 2.0 * rng.standard_normal((3 + step, c, 5, 4))
        dout = rng.standard_normal(x.shape)
        xt = torch.tensor(x, requires_grad=True)
        bn.train()
        bn.weight.grad = bn.bias.grad = None
        out_t = bn(xt)
        (out_t * torch.tensor(dout)).sum().backward()
        out, cache = B.batchnorm2d_forward(x, gamma, beta, mean, var)
        mean, var = cache.running_mean, cache.running_var
        dx, dgamma, dbeta = B.batchnorm2d_backward(dout, cache)
        np.testing.assert_allclose(out, out_t.detach().numpy(), atol=1e-12)
        np.testing.assert_allclose(mean, bn.running_mean.numpy(), atol=1e-12)
        np.testing.assert_allclose(var, bn.running_var.numpy(), atol=1e-12)  # unbiased by N*H*W
        np.testing.assert_allclose(dx, xt.grad.numpy(), atol=1e-11)
        np.testing.assert_allclose(dgamma, bn.weight.grad.numpy(), atol=1e-11)
        np.testing.assert_allclose(dbeta, bn.bias.grad.numpy(), atol=1e-11)
        # one mean per channel, over every image and position
        np.testing.assert_allclose(cache.batch_mean, x.mean(axis=(0, 2, 3)), atol=1e-12)
    x = rng.standard_normal((2, c, 3, 3))
    out, _ = B.batchnorm2d_forward(x, gamma, beta, mean, var, train=False)
    np.testing.assert_allclose(out, bn.eval()(torch.tensor(x)).detach().numpy(), atol=1e-12)


def _trained_stats(layer, bn, x_shape, rng, steps=4):
    bn.train()
    with torch.no_grad():
        for _ in range(steps):
            bn(layer(torch.tensor(rng.normal(1.0, 2.0, x_shape))))
    bn.eval(), layer.eval()


@pytest.mark.parametrize("bias", [False, True])
def test_fold_batchnorm_matches_linear_and_conv_followed_by_eval_bn(bias):
    from torch.nn.utils.fusion import fuse_conv_bn_eval, fuse_linear_bn_eval

    rng = np.random.default_rng(5)
    torch.manual_seed(0)
    for layer, bn, shape in (
        (torch.nn.Linear(6, 3, bias=bias), torch.nn.BatchNorm1d(3), (10, 6)),
        (torch.nn.Conv2d(2, 3, 3, bias=bias), torch.nn.BatchNorm2d(3), (4, 2, 5, 5)),
    ):
        layer, bn = layer.double(), bn.double()
        with torch.no_grad():
            bn.weight.copy_(torch.tensor(rng.uniform(0.5, 2, 3)))
            bn.bias.copy_(torch.tensor(rng.normal(0, 1, 3)))
        _trained_stats(layer, bn, shape, rng)
        b = layer.bias.detach().numpy() if bias else None
        w, b2 = B.fold_batchnorm(
            layer.weight.detach().numpy(),
            b,
            bn.weight.detach().numpy(),
            bn.bias.detach().numpy(),
            bn.running_mean.numpy(),
            bn.running_var.numpy(),
            bn.eps,
        )
        x = torch.tensor(rng.normal(1.0, 2.0, shape))
        with torch.no_grad():
            want = bn(layer(x)).numpy()
        if isinstance(layer, torch.nn.Linear):
            got = x.numpy() @ w.T + b2
            fused = fuse_linear_bn_eval(layer, bn)
        else:
            folded = torch.nn.Conv2d(2, 3, 3).double()
            with torch.no_grad():
                folded.weight.copy_(torch.tensor(w))
                folded.bias.copy_(torch.tensor(b2))
                got = folded(x).numpy()
            fused = fuse_conv_bn_eval(layer, bn)
        np.testing.assert_allclose(got, want, atol=1e-12)
        np.testing.assert_allclose(w, fused.weight.detach().numpy(), atol=1e-13)
        np.testing.assert_allclose(b2, fused.bias.detach().numpy(), atol=1e-13)


def test_batchnorm2d_and_fold_check_their_input():
    with pytest.raises(ValueError, match="x"):
        B.batchnorm2d_forward(np.zeros((2, 3, 4)), np.ones(3), np.zeros(3))
    with pytest.raises(ValueError, match="gamma"):
        B.batchnorm2d_forward(np.ones((2, 3, 2, 2)), np.ones(2), np.zeros(3))
    with pytest.raises(ValueError, match="weight"):
        B.fold_batchnorm(np.ones(3), None, np.ones(3), np.zeros(3), np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match="running_var"):
        B.fold_batchnorm(np.ones((3, 2)), None, np.ones(3), np.zeros(3), np.zeros(3), -np.ones(3))
