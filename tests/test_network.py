"""course_utils.network: forward and backward against torch autograd, with and without a step."""

import numpy as np
import pytest
import torch

from course_utils import network

SIZES = (5, 7, 4, 3)  # D_0 .. D_3: layers of different widths
N = 6


def make_problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, SIZES[0]))
    weights = [rng.normal(0, 0.8, (i, o)) for i, o in zip(SIZES[:-1], SIZES[1:])]
    upstream = rng.standard_normal((N, SIZES[-1]))
    return x, weights, upstream


class Standardize(network.LayerStep):
    """Batch Norm without gamma and beta, on z: what chapter 04 plugs in."""

    where = "z"
    eps = 1e-5

    def forward(self, h, layer):
        mean, var = h.mean(0), h.var(0)
        h_hat = (h - mean) / np.sqrt(var + self.eps)
        return h_hat, (h_hat, var)

    def backward(self, grad, cache, layer):
        h_hat, var = cache
        return (grad - grad.mean(0) - h_hat * (grad * h_hat).mean(0)) / np.sqrt(var + self.eps)


class FixedDropout(network.LayerStep):
    """Inverted dropout with fixed masks, on a: what chapter 07 plugs in."""

    where = "a"

    def __init__(self, masks, keep):
        self.masks, self.keep = masks, keep

    def forward(self, h, layer):
        return h * self.masks[layer] / self.keep, None

    def backward(self, grad, cache, layer):
        return grad * self.masks[layer] / self.keep


TORCH_F = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}


def torch_reference(x, weights, upstream, activation, step=None):
    f = TORCH_F[activation]
    xt = torch.tensor(x, requires_grad=True)
    wt = [torch.tensor(w, requires_grad=True) for w in weights]
    a, outputs = xt, []
    for layer, w in enumerate(wt):
        z = a @ w
        if isinstance(step, Standardize):
            z = (z - z.mean(0)) / torch.sqrt(z.var(0, unbiased=False) + step.eps)
        a = f(z)
        if isinstance(step, FixedDropout):
            a = a * torch.tensor(step.masks[layer]) / step.keep
        a.retain_grad()
        outputs.append(a)
    (a * torch.tensor(upstream)).sum().backward()
    return (
        [o.detach().numpy() for o in outputs],
        [w.grad.numpy() for w in wt],
        [o.grad.numpy() for o in outputs],
        xt.grad.numpy(),
    )


def dropout_step():
    rng = np.random.default_rng(7)
    return FixedDropout([rng.random((N, d)) < 0.7 for d in SIZES[1:]], keep=0.7)


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize(
    "make_step", [lambda: None, Standardize, dropout_step], ids=["plain", "step on z", "step on a"]
)
def test_forward_and_backward_match_torch_autograd(activation, make_step):
    x, weights, upstream = make_problem()
    step = make_step()
    record = network.forward(x, weights, activation, step=step)
    grads = network.backward(record, weights, upstream, activation, step=step)
    outputs, grad_w, grad_a, grad_x = torch_reference(x, weights, upstream, activation, step)
    for ours, theirs in zip(record.activations, outputs):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)
    for ours, theirs in zip(grads.weights, grad_w):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    for ours, theirs in zip(grads.activations, grad_a):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grads.input, grad_x, rtol=1e-9, atol=1e-12)


def test_record_holds_every_layer_with_its_shape():
    x, weights, upstream = make_problem()
    record = network.forward(x, weights, "tanh")
    assert record.inputs[0] is x
    assert [a.shape for a in record.activations] == [(N, d) for d in SIZES[1:]]
    assert [a.shape for a in record.inputs] == [(N, d) for d in SIZES[:-1]]
    # Bit for bit: forward computes exactly this expression (same operations, same process).
    np.testing.assert_array_equal(record.activations[0], np.tanh(x @ weights[0]))
    assert record.output is record.activations[-1]
    grads = network.backward(record, weights, upstream, "tanh")
    assert grads.weight(2).shape == weights[1].shape
    out = np.empty(weights[1].shape)
    assert grads.weight(2, out=out) is out


def test_activation_may_be_a_pair_of_functions():
    x, weights, upstream = make_problem()
    cube = (lambda z: z**3, lambda z: 3 * z**2)
    record = network.forward(x, weights, cube)
    grads = network.backward(record, weights, upstream, cube)
    xt = torch.tensor(x)
    wt = [torch.tensor(w, requires_grad=True) for w in weights]
    a = xt
    for w in wt:
        a = (a @ w) ** 3
    (a * torch.tensor(upstream)).sum().backward()
    np.testing.assert_allclose(grads.weight(1), wt[0].grad.numpy(), rtol=1e-9)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda x, w, g: network.forward(x, [], "tanh"),
            "weights must have between 1 and 10000 items; got 0",
        ),
        (lambda x, w, g: network.forward(x, w, "softmax"), "activation must be one of"),
        (lambda x, w, g: network.forward(x, w, 3), "activation must be a name"),
        (lambda x, w, g: network.forward(x, w, "tanh", step=object()), "step.where must be"),
        (
            lambda x, w, g: network.backward(network.forward(x, w), w[:2], g),
            "weights must hold 3 layers",
        ),
        (
            lambda x, w, g: network.backward(network.forward(x, w), w, g[:, :2]),
            "upstream must have the shape",
        ),
        (
            lambda x, w, g: network.backward(network.forward(x, w), w, g).weight(4),
            "layer must be between 1 and 3; got 4",
        ),
    ],
)
def test_bad_arguments_are_value_errors(call, message):
    x, weights, upstream = make_problem()
    with pytest.raises(ValueError, match=message):
        call(x, weights, upstream)
