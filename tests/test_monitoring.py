"""course_utils.monitoring: smoothing, update-to-weight ratios, gradient statistics, minibatch
noise. torch is the oracle for every ratio and statistic."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from course_utils import monitoring as mon
from course_utils.training import build_mlp


def small_data(n=120, d=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = np.argmax(x[:, :classes], axis=1)

    class Data:
        x_train, y_train, x_val, y_val = x[:90], y[:90], x[90:], y[90:]
        num_classes = classes

    return Data


# ------------------------------------------------------------------ ema
def weighted_average(x, s):
    """The debiased EMA written as what it is: sum s^(t-i) x_i / sum s^(t-i)."""
    out = []
    for t in range(1, len(x) + 1):
        w = s ** np.arange(t - 1, -1, -1)
        out.append(np.sum(w * x[:t]) / np.sum(w))
    return np.array(out)


@pytest.mark.parametrize("s", [0.0, 0.3, 0.6, 0.9, 0.99])
def test_ema_is_the_weighted_average_of_the_past(s):
    x = np.random.default_rng(1).normal(2.0, 1.0, size=60)
    np.testing.assert_allclose(mon.ema(x, s), weighted_average(x, s), rtol=1e-12, atol=1e-12)


def test_ema_without_bias_correction_starts_near_zero():
    x = np.full(5, 2.0)
    np.testing.assert_allclose(mon.ema(x, 0.9, debias=False), 2.0 * (1 - 0.9 ** np.arange(1, 6)))
    np.testing.assert_allclose(mon.ema(x, 0.9), 2.0)  # corrected: a constant stays constant


def test_ema_matches_tensorboards_loop_and_can_pass_non_finite_values_through():
    x = np.array([2.3, 2.1, np.nan, 1.9, np.inf, 1.5])
    # TensorBoard's resetWithSmoothing, transcribed: non-finite values do not count
    expected, last, count = [], 0.0, 0
    for v in x:
        if not math.isfinite(v):
            expected.append(v)
            continue
        last = last * 0.6 + 0.4 * v
        count += 1
        expected.append(last / (1 - 0.6**count))
    np.testing.assert_allclose(mon.ema(x, 0.6, nonfinite="pass"), expected)
    with pytest.raises(ValueError, match="values must hold finite numbers"):
        mon.ema(x, 0.6)  # by default a NaN or inf is refused
    assert mon.SMOOTHING == 0.6


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(values=[1, 2], smoothing=1.0), "smoothing must be >= 0 and < 1; got 1.0"),
        (dict(values=[1, 2], smoothing=-0.1), "smoothing must be >= 0 and < 1"),
        (dict(values=[1, 2], smoothing=float("nan")), "smoothing must be a finite number"),
        (dict(values=[[1, 2]]), "values must be one series"),
        (dict(values=[1, 2], debias=1), "debias must be True or False"),
    ],
)
def test_ema_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        mon.ema(**kwargs)


# ------------------------------------------------------------------ update ratios
def torch_step(optimizer_class, seed=0, **kwargs):
    """One optimiser step on a linear layer: (weights before, weights after, grad, lr)."""
    torch.manual_seed(seed)
    layer = nn.Linear(20, 10)
    opt = optimizer_class(layer.parameters(), **kwargs)
    x, y = torch.randn(32, 20), torch.randint(0, 10, (32,))
    for _ in range(3):  # a few steps, so momentum and Adam's moments are not trivial
        before = layer.weight.detach().clone()
        opt.zero_grad()
        nn.functional.cross_entropy(layer(x), y).backward()
        opt.step()
    return before.numpy(), layer.weight.detach().numpy().copy(), layer.weight.grad.numpy()


def test_sgd_update_ratio_equals_the_snapshot_ratio_of_a_torch_sgd_step():
    before, after, grad = torch_step(torch.optim.SGD, lr=0.05)
    expected = (
        torch.linalg.vector_norm(
            torch.tensor(after, dtype=torch.float64) - torch.tensor(before, dtype=torch.float64)
        )
        / torch.linalg.vector_norm(torch.tensor(before, dtype=torch.float64))
    ).item()
    assert mon.update_ratio(before, after) == pytest.approx(expected, rel=1e-12)
    assert mon.sgd_update_ratio(before, grad, lr=0.05) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize(
    "optimizer, kwargs",
    [(torch.optim.SGD, dict(lr=0.05, momentum=0.9)), (torch.optim.Adam, dict(lr=1e-3))],
)
def test_snapshot_ratio_measures_any_optimiser_where_the_sgd_formula_does_not(optimizer, kwargs):
    before, after, grad = torch_step(optimizer, **kwargs)
    measured = mon.update_ratio(torch.tensor(before), torch.tensor(after))  # tensors accepted
    direct = np.linalg.norm(after - before) / np.linalg.norm(before)
    assert measured == pytest.approx(direct, rel=1e-5)
    naive = mon.sgd_update_ratio(before, grad, lr=kwargs["lr"])
    assert abs(naive / measured - 1) > 0.2  # lr * grad is not the step momentum / Adam took


def test_momentum_update_ratios_equal_the_steps_of_torch_sgd_with_momentum():
    # float64 tensors: torch's step and the formula agree to rounding (~1e-15 relative)
    rng = np.random.default_rng(3)
    shapes = {"W1": (6, 4), "W2": (4, 4), "b": (4,)}
    params = {k: torch.tensor(rng.normal(0.0, 0.5, size=s)) for k, s in shapes.items()}
    opt = torch.optim.SGD(list(params.values()), lr=0.03, momentum=0.9)
    velocities = {k: np.zeros(s) for k, s in shapes.items()}
    for step in range(4):
        grads = {k: rng.normal(0.0, 0.1, size=s) + 0.05 for k, s in shapes.items()}
        weights = {k: p.detach().numpy().copy() for k, p in params.items()}
        ratios = mon.momentum_update_ratios(weights, grads, velocities, lr=0.03, momentum=0.9)
        for k, p in params.items():
            p.grad = torch.tensor(grads[k])
        opt.step()
        for k, p in params.items():
            measured = mon.update_ratio(weights[k], p.detach().numpy())
            assert ratios[k] == pytest.approx(measured, rel=1e-10), (step, k)
            velocities[k] = opt.state[p]["momentum_buffer"].numpy().copy()
        if step == 0:  # zero velocities: the first step is plain SGD's
            assert ratios["W1"] == pytest.approx(
                mon.sgd_update_ratio(weights["W1"], grads["W1"], 0.03)
            )
    # the gradients share a drift: the velocity, and the step, outgrow lr * g
    assert ratios["W1"] > 2 * mon.sgd_update_ratio(weights["W1"], grads["W1"], 0.03)


def test_momentum_update_ratios_change_no_input():
    w, g, v = np.ones((2, 2)), np.full((2, 2), 0.5), np.full((2, 2), 0.25)
    weights, grads, velocities = {"W": w}, {"W": g}, {"W": v}
    r = mon.momentum_update_ratios(weights, grads, velocities, lr=0.1, momentum=0.5)
    assert r == {"W": pytest.approx(0.1 * 0.625)}  # ||0.1 * (0.5 * 0.25 + 0.5)|| / ||1||
    assert weights == {"W": w} and np.all(w == 1) and np.all(g == 0.5) and np.all(v == 0.25)


def test_update_ratio_is_scale_free_and_per_layer():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(5, 4))
    step = 1e-3 * rng.normal(size=(5, 4))
    r = mon.update_ratio(w, w + step)
    assert mon.update_ratio(10 * w, 10 * (w + step)) == pytest.approx(r, rel=1e-12)
    ratios = mon.update_ratios({"W1": w, "W2": 2 * w}, {"W1": w + step, "W2": 2 * w + step})
    assert ratios["W1"] == pytest.approx(r) and ratios["W2"] == pytest.approx(r / 2)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: mon.update_ratio(np.zeros((2, 2)), np.ones((2, 2))), "before has norm 0"),
        (lambda: mon.update_ratio(np.ones(3), np.ones(4)), "same shape"),
        (lambda: mon.update_ratio([], []), "before must have at least 1 entries"),
        (lambda: mon.update_ratio(np.ones(2), [1, np.nan]), "after must hold finite numbers"),
        (lambda: mon.sgd_update_ratio(np.ones(2), np.ones(2), lr=0), "lr must be > 0; got 0"),
        (
            lambda: mon.sgd_update_ratio(np.ones(2), np.ones(3), lr=0.1),
            "w and dw must have the same",
        ),
        (lambda: mon.update_ratios({"W1": np.ones(2)}, {"W2": np.ones(2)}), "same layers"),
        (
            lambda: mon.momentum_update_ratios(
                {"W1": np.ones(2)}, {"W2": np.ones(2)}, {"W1": np.ones(2)}, 0.1
            ),
            "name the same layers",
        ),
        (
            lambda: mon.momentum_update_ratios(
                {"W1": np.ones(2)}, {"W1": np.ones((2, 1))}, {"W1": np.ones(2)}, 0.1
            ),
            "layer 'W1'.*one shape",
        ),
        (
            lambda: mon.momentum_update_ratios(
                {"W1": np.zeros(2)}, {"W1": np.ones(2)}, {"W1": np.ones(2)}, 0.1
            ),
            "norm 0",
        ),
        (
            lambda: mon.momentum_update_ratios(
                {"W1": np.ones(2)}, {"W1": np.ones(2)}, {"W1": np.ones(2)}, 0.1, momentum=1.0
            ),
            "momentum must be",
        ),
        (lambda: mon.momentum_update_ratios({}, {}, {}, 0.1), "non-empty dict"),
        (
            lambda: mon.momentum_update_ratios(
                {"W1": np.ones(2)}, {"W1": [np.nan, 1]}, {"W1": np.ones(2)}, 0.1
            ),
            "NaN or inf",
        ),
    ],
)
def test_bad_ratio_arguments_are_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ------------------------------------------------------------------ per-layer statistics
def test_gradient_stats_match_torch():
    model = build_mlp(6, 3, depth=2, width=16, seed=1)
    data = small_data()
    with pytest.raises(ValueError, match="no gradient: call loss.backward"):
        mon.gradient_stats(model)
    x = torch.tensor(data.x_train, dtype=torch.float32)
    nn.functional.cross_entropy(model(x), torch.tensor(data.y_train)).backward()
    stats = mon.gradient_stats(model)
    assert stats.layers == ("W1", "W2", "W3")
    for i, layer in enumerate(mon.linear_layers(model).values()):
        g, w = layer.weight.grad.double(), layer.weight.detach().double()
        assert stats["rms"][i] == pytest.approx(g.pow(2).mean().sqrt().item(), rel=1e-9)
        assert stats["std"][i] == pytest.approx(g.std(unbiased=False).item(), rel=1e-9)
        assert stats["|dW|/|W|"][i] == pytest.approx((g.norm() / w.norm()).item(), rel=1e-9)
    assert "|dW|/|W|" in stats.table()


# ------------------------------------------------------------------ minibatch noise
def test_minibatch_loss_spread_follows_one_over_sqrt_b(digits_dataset):
    model = build_mlp(64, 10, depth=2, width=32)
    spread = mon.minibatch_loss_spread(
        model,
        digits_dataset.x_train,
        digits_dataset.y_train,
        batch_sizes=(8, 32, 128, 512),
        n_batches=400,
    )
    np.testing.assert_allclose(spread["measured std"], spread["sigma/sqrt(B) * fpc"], rtol=0.15)
    full = mon.minibatch_loss_spread(
        model,
        digits_dataset.x_train,
        digits_dataset.y_train,
        batch_sizes=(len(digits_dataset.x_train),),
        n_batches=3,
    )
    assert full["measured std"][0] == pytest.approx(0, abs=1e-6)  # the whole set: no noise
    with pytest.raises(ValueError, match="batch_sizes must be between 1 and"):
        mon.minibatch_loss_spread(
            model, digits_dataset.x_train, digits_dataset.y_train, batch_sizes=(0,)
        )
