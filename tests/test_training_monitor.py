"""course_utils.training_monitor: layer naming, weight snapshots, per-layer statistics, Monitor."""

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.monitoring import update_ratios
from course_utils.training import build_mlp, hidden_activations, train
from course_utils.training_monitor import (
    Monitor,
    activation_stats,
    linear_layers,
    weight_gradients,
    weight_snapshot,
)


def small_data(n=120, d=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = np.argmax(x[:, :classes], axis=1)

    class Data:
        x_train, y_train, x_val, y_val = x[:90], y[:90], x[90:], y[90:]
        num_classes = classes

    return Data


# ------------------------------------------------------------------ layers and snapshots
@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: linear_layers("model"), "model must be a torch.nn.Module"),
        (lambda: linear_layers(nn.ReLU()), "no nn.Linear"),
    ],
)
def test_bad_linear_layers_arguments_are_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_layers_are_named_w1_to_wl_from_input_to_scores():
    model = build_mlp(64, 10, depth=3, width=32)
    layers = linear_layers(model)
    assert list(layers) == ["W1", "W2", "W3", "W4"]
    assert [l.out_features for l in layers.values()] == [32, 32, 32, 10]
    snap = weight_snapshot(model)
    assert snap["W1"].shape == (32, 64) and snap["W1"].dtype == np.float64
    np.testing.assert_array_equal(snap["W4"], model[-1].weight.detach().numpy())


# ------------------------------------------------------------------ per-layer statistics
def test_activation_stats_are_those_of_the_hidden_activations(digits_dataset):
    model = build_mlp(64, 10, depth=3, width=32)
    stats = activation_stats(model, digits_dataset.x_val)
    acts = hidden_activations(model, digits_dataset.x_val)
    assert stats.layers == ("h1", "h2", "h3")
    np.testing.assert_allclose(stats["std"], [a.astype(np.float64).std() for a in acts])
    np.testing.assert_allclose(stats["a==0"], [np.mean(a == 0) for a in acts])


def test_weight_gradients_leave_grad_untouched_and_match_backward():
    model = build_mlp(6, 3, depth=1, width=8, seed=2)
    data = small_data()
    grads = weight_gradients(model, data.x_train, data.y_train)
    assert all(p.grad is None for p in model.parameters())
    x = torch.tensor(data.x_train, dtype=torch.float32)
    nn.functional.cross_entropy(model(x), torch.tensor(data.y_train)).backward()
    for name, layer in linear_layers(model).items():
        np.testing.assert_allclose(grads[name], layer.weight.grad.numpy(), rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match="y must have shape"):
        weight_gradients(model, data.x_train, data.y_train[:5])
    with pytest.raises(ValueError, match="y must hold class indices 0..2"):
        weight_gradients(model, data.x_train, data.y_train + 3)


# ------------------------------------------------------------------ Monitor
def test_monitor_records_the_ratio_of_every_step_as_measured_by_hand(digits_dataset):
    model = build_mlp(64, 10, depth=2, width=32, seed=0)
    monitor = Monitor(model)
    seen = {"before": weight_snapshot(model), "ratios": []}

    def both(history, m):
        monitor(history, m)
        after = weight_snapshot(m)
        seen["ratios"].append(update_ratios(seen["before"], after))
        seen["before"] = after

    history = train(
        model,
        digits_dataset,
        "adam",
        lr=1e-3,
        epochs=1,
        batch_size=128,
        callback=both,
        progress=False,
    )
    assert monitor.steps == list(range(1, history.steps + 1))
    for name in monitor.layers:
        np.testing.assert_allclose(
            monitor.ratios[name], [r[name] for r in seen["ratios"]], rtol=1e-6
        )
    assert monitor.ratio_array().shape == (history.steps, 3)
    assert all(v > 0 for v in monitor.grad_rms["W1"])


def test_monitor_every_k_steps_and_activations_at_evaluations(digits_dataset):
    model = build_mlp(64, 10, depth=2, width=32, seed=0)
    start = activation_stats(model, digits_dataset.x_val[:64])
    monitor = Monitor(model, every=3, probe=digits_dataset.x_val[:64])
    history = train(
        model,
        digits_dataset,
        "sgd",
        lr=0.05,
        epochs=1,
        batch_size=100,
        eval_every=5,
        callback=monitor,
        progress=False,
    )
    assert history.steps == 14
    assert monitor.steps == [3, 6, 9, 12]
    assert monitor.eval_steps == [0, 5, 10]
    np.testing.assert_allclose([monitor.activation_std[n][0] for n in ("h1", "h2")], start["std"])
    assert set(monitor.median_ratios()) == {"W1", "W2", "W3"}


def test_monitor_checks_its_arguments():
    model = build_mlp(6, 3, depth=1, width=4)
    with pytest.raises(ValueError, match="every must be >= 1; got 0"):
        Monitor(model, every=0)
    with pytest.raises(ValueError, match="probe must be a non-empty"):
        Monitor(model, probe=np.zeros(6))
    monitor = Monitor(model)
    with pytest.raises(ValueError, match="made for another model"):
        monitor(None, build_mlp(6, 3, depth=1, width=4))
    with pytest.raises(ValueError, match="skip=0 leaves no recorded step"):
        monitor.median_ratios()
    with pytest.raises(ValueError, match="no probe batch"):
        monitor.record_activations(0)
