"""course_utils.monitoring: smoothing, update-to-weight ratios, per-layer statistics, the
Monitor callback. torch is the oracle for every ratio and statistic."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from course_utils import monitoring as mon
from course_utils.data import load_dataset
from course_utils.training import build_mlp, hidden_activations, train


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


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


def test_ema_matches_tensorboards_loop_and_passes_non_finite_values_through():
    x = np.array([2.3, 2.1, np.nan, 1.9, np.inf, 1.5])
    # TensorBoard's resetWithSmoothing, transcribed: non-finite values do not count
    expected, last, count = [], 0.0, 0
    for v in x:
        if not math.isfinite(v):
            expected.append(v)
            continue
        last = last * 0.6 + 0.4 * v
        count += 1
        expected.append(last / (1 - 0.6 ** count))
    np.testing.assert_allclose(mon.ema(x, 0.6), expected)
    assert mon.SMOOTHING == 0.6


@pytest.mark.parametrize("kwargs, message", [
    (dict(values=[1, 2], smoothing=1.0), "smoothing must be >= 0 and < 1; got 1.0"),
    (dict(values=[1, 2], smoothing=-0.1), "smoothing must be >= 0 and < 1"),
    (dict(values=[1, 2], smoothing=float("nan")), "smoothing must be a finite number"),
    (dict(values=[[1, 2]]), "values must be one series"),
    (dict(values=[1, 2], debias=1), "debias must be True or False"),
])
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
    expected = (torch.linalg.vector_norm(torch.tensor(after, dtype=torch.float64)
                                         - torch.tensor(before, dtype=torch.float64))
                / torch.linalg.vector_norm(torch.tensor(before, dtype=torch.float64))).item()
    assert mon.update_ratio(before, after) == pytest.approx(expected, rel=1e-12)
    assert mon.sgd_update_ratio(before, grad, lr=0.05) == pytest.approx(expected, rel=1e-5)


@pytest.mark.parametrize("optimizer, kwargs", [
    (torch.optim.SGD, dict(lr=0.05, momentum=0.9)), (torch.optim.Adam, dict(lr=1e-3))])
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
            assert ratios["W1"] == pytest.approx(mon.sgd_update_ratio(weights["W1"],
                                                                      grads["W1"], 0.03))
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


@pytest.mark.parametrize("call, message", [
    (lambda: mon.update_ratio(np.zeros((2, 2)), np.ones((2, 2))), "before has norm 0"),
    (lambda: mon.update_ratio(np.ones(3), np.ones(4)), "same shape"),
    (lambda: mon.update_ratio([], []), "before is empty"),
    (lambda: mon.update_ratio(np.ones(2), [1, np.nan]), "after contains NaN or inf"),
    (lambda: mon.sgd_update_ratio(np.ones(2), np.ones(2), lr=0), "lr must be > 0; got 0"),
    (lambda: mon.sgd_update_ratio(np.ones(2), np.ones(3), lr=0.1), "w and dw must have the same"),
    (lambda: mon.update_ratios({"W1": np.ones(2)}, {"W2": np.ones(2)}), "same layers"),
    (lambda: mon.momentum_update_ratios({"W1": np.ones(2)}, {"W2": np.ones(2)},
                                        {"W1": np.ones(2)}, 0.1), "name the same layers"),
    (lambda: mon.momentum_update_ratios({"W1": np.ones(2)}, {"W1": np.ones((2, 1))},
                                        {"W1": np.ones(2)}, 0.1), "layer 'W1'.*one shape"),
    (lambda: mon.momentum_update_ratios({"W1": np.zeros(2)}, {"W1": np.ones(2)},
                                        {"W1": np.ones(2)}, 0.1), "norm 0"),
    (lambda: mon.momentum_update_ratios({"W1": np.ones(2)}, {"W1": np.ones(2)},
                                        {"W1": np.ones(2)}, 0.1, momentum=1.0),
     "momentum must be"),
    (lambda: mon.momentum_update_ratios({}, {}, {}, 0.1), "non-empty dict"),
    (lambda: mon.momentum_update_ratios({"W1": np.ones(2)}, {"W1": [np.nan, 1]},
                                        {"W1": np.ones(2)}, 0.1), "NaN or inf"),
    (lambda: mon.linear_layers("model"), "model must be a torch.nn.Module"),
    (lambda: mon.linear_layers(nn.ReLU()), "no nn.Linear"),
])
def test_bad_ratio_arguments_are_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_layers_are_named_w1_to_wl_from_input_to_scores():
    model = build_mlp(64, 10, depth=3, width=32)
    layers = mon.linear_layers(model)
    assert list(layers) == ["W1", "W2", "W3", "W4"]
    assert [l.out_features for l in layers.values()] == [32, 32, 32, 10]
    snap = mon.weight_snapshot(model)
    assert snap["W1"].shape == (32, 64) and snap["W1"].dtype == np.float64
    np.testing.assert_array_equal(snap["W4"], model[-1].weight.detach().numpy())


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


def test_activation_stats_are_those_of_the_hidden_activations(digits):
    model = build_mlp(64, 10, depth=3, width=32)
    stats = mon.activation_stats(model, digits.x_val)
    acts = hidden_activations(model, digits.x_val)
    assert stats.layers == ("h1", "h2", "h3")
    np.testing.assert_allclose(stats["std"], [a.astype(np.float64).std() for a in acts])
    np.testing.assert_allclose(stats["a==0"], [np.mean(a == 0) for a in acts])


# ------------------------------------------------------------------ Monitor
def test_monitor_records_the_ratio_of_every_step_as_measured_by_hand(digits):
    model = build_mlp(64, 10, depth=2, width=32, seed=0)
    monitor = mon.Monitor(model)
    seen = {"before": mon.weight_snapshot(model), "ratios": []}

    def both(history, m):
        monitor(history, m)
        after = mon.weight_snapshot(m)
        seen["ratios"].append(mon.update_ratios(seen["before"], after))
        seen["before"] = after

    history = train(model, digits, "adam", lr=1e-3, epochs=1, batch_size=128, callback=both,
                    progress=False)
    assert monitor.steps == list(range(1, history.steps + 1))
    for name in monitor.layers:
        np.testing.assert_allclose(monitor.ratios[name], [r[name] for r in seen["ratios"]],
                                   rtol=1e-6)
    assert monitor.ratio_array().shape == (history.steps, 3)
    assert all(v > 0 for v in monitor.grad_rms["W1"])


def test_monitor_every_k_steps_and_activations_at_evaluations(digits):
    model = build_mlp(64, 10, depth=2, width=32, seed=0)
    start = mon.activation_stats(model, digits.x_val[:64])
    monitor = mon.Monitor(model, every=3, probe=digits.x_val[:64])
    history = train(model, digits, "sgd", lr=0.05, epochs=1, batch_size=100, eval_every=5,
                    callback=monitor, progress=False)
    assert history.steps == 14
    assert monitor.steps == [3, 6, 9, 12]
    assert monitor.eval_steps == [0, 5, 10]
    np.testing.assert_allclose([monitor.activation_std[n][0] for n in ("h1", "h2")],
                               start["std"])
    assert set(monitor.median_ratios()) == {"W1", "W2", "W3"}


def test_monitor_checks_its_arguments():
    model = build_mlp(6, 3, depth=1, width=4)
    with pytest.raises(ValueError, match="every must be >= 1; got 0"):
        mon.Monitor(model, every=0)
    with pytest.raises(ValueError, match="probe must be a non-empty"):
        mon.Monitor(model, probe=np.zeros(6))
    monitor = mon.Monitor(model)
    with pytest.raises(ValueError, match="made for another model"):
        monitor(None, build_mlp(6, 3, depth=1, width=4))
    with pytest.raises(ValueError, match="skip=0 leaves no recorded step"):
        monitor.median_ratios()
    with pytest.raises(ValueError, match="no probe batch"):
        monitor.record_activations(0)


def test_one_torch_thread_restores_the_setting():
    before = torch.get_num_threads()
    with mon.one_torch_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


# ------------------------------------------------------------------ minibatch noise
def test_minibatch_loss_spread_follows_one_over_sqrt_b(digits):
    model = build_mlp(64, 10, depth=2, width=32)
    spread = mon.minibatch_loss_spread(model, digits.x_train, digits.y_train,
                                       batch_sizes=(8, 32, 128, 512), n_batches=400)
    np.testing.assert_allclose(spread["measured std"], spread["sigma/sqrt(B) * fpc"], rtol=0.15)
    full = mon.minibatch_loss_spread(model, digits.x_train, digits.y_train,
                                     batch_sizes=(len(digits.x_train),), n_batches=3)
    assert full["measured std"][0] == pytest.approx(0, abs=1e-6)  # the whole set: no noise
    with pytest.raises(ValueError, match="batch_sizes must be between 1 and"):
        mon.minibatch_loss_spread(model, digits.x_train, digits.y_train, batch_sizes=(0,))


# ------------------------------------------------------------------ runs and summaries
def test_run_diagnosis_checks_its_settings(digits):
    with pytest.raises(ValueError, match="unknown settings"):
        mon.run_diagnosis(digits, lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="must give lr"):
        mon.run_diagnosis(digits)


def test_plateau_steps_and_curve_summary_on_made_up_curves():
    class H:
        status, diverged, val_acc = "completed", False, [0.5]
    flat_then_drop = np.r_[np.full(50, math.log(10)), np.linspace(2.3, 0.5, 50)]
    assert 50 < mon.plateau_steps(flat_then_drop, math.log(10)) < 70
    assert mon.plateau_steps(np.full(30, 2.3), math.log(10)) == 30  # never leaves it
    H.step_loss = list(np.linspace(2.3, 1.3, 200))  # a straight line
    assert mon.curve_summary(H)["shape"] == pytest.approx(1.0, abs=0.1)
    H.step_loss = list(0.2 + 2.1 * np.exp(-np.arange(200) / 20))  # fast, then flat
    assert mon.curve_summary(H)["shape"] > 20


def test_figures_draw_one_panel_per_run_or_layer(digits):
    from matplotlib.figure import Figure

    run = mon.run_diagnosis(digits, lr=0.01, epochs=1)
    fig = mon.plot_loss_curves({"a": run.history, "b": run.history})
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert len(mon.plot_accuracy_gap({"a": run.history}).axes) == 1
    ratios = mon.plot_update_ratios({"a": run.monitor})
    assert len(ratios.axes[0].get_lines()) == 5 + 1  # W1..W5 and the 1e-3 line
    grads = list(mon.weight_gradients(run.model, digits.x_train[:64], digits.y_train[:64]).values())
    grid = mon.plot_layer_distributions({"dW": grads[:3], "dW again": grads[:2]})
    assert len(grid.axes) == 6 and not grid.axes[5].get_visible()
    with pytest.raises(ValueError, match="figsize"):
        mon.plot_loss_curves({"a": run.history}, figsize=(0, 3))


def test_weight_gradients_leave_grad_untouched_and_match_backward():
    model = build_mlp(6, 3, depth=1, width=8, seed=2)
    data = small_data()
    grads = mon.weight_gradients(model, data.x_train, data.y_train)
    assert all(p.grad is None for p in model.parameters())
    x = torch.tensor(data.x_train, dtype=torch.float32)
    nn.functional.cross_entropy(model(x), torch.tensor(data.y_train)).backward()
    for name, layer in mon.linear_layers(model).items():
        np.testing.assert_allclose(grads[name], layer.weight.grad.numpy(), rtol=1e-6, atol=1e-9)
    with pytest.raises(ValueError, match="x must be"):
        mon.weight_gradients(model, data.x_train, data.y_train[:5])


# ------------------------------------------------------------------ a lean SGD
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_lean_sgd_steps_are_torch_sgds_bit_for_bit(momentum):
    # exact by construction: the same float32 operations as torch.optim.SGD's single-tensor
    # path, in the same order (clone, mul_, add_, add_ with alpha=-lr)
    a, b = build_mlp(6, 3, depth=2, width=8, seed=4), build_mlp(6, 3, depth=2, width=8, seed=4)
    mine = mon.LeanSGD(a.parameters(), lr=0.05, momentum=momentum)
    theirs = torch.optim.SGD(b.parameters(), lr=0.05, momentum=momentum)
    x = torch.tensor(small_data().x_train, dtype=torch.float32)
    y = torch.tensor(small_data().y_train)
    for step in range(6):
        for model, opt in ((a, mine), (b, theirs)):
            if step == 3:
                opt.param_groups[0]["lr"] = 0.02  # a schedule changes lr between steps
            opt.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_lean_optimizer_gives_train_the_same_run_as_the_name(digits):
    for name in ("sgd", "momentum"):
        a, b = build_mlp(64, 10, depth=1, width=16, seed=1), build_mlp(64, 10, depth=1, width=16,
                                                                       seed=1)
        ha = train(a, digits, mon.lean_optimizer(name, 0.05), epochs=1, progress=False)
        hb = train(b, digits, name, lr=0.05, epochs=1, progress=False)
        assert ha.step_loss == hb.step_loss  # bit for bit, as above
    assert mon.lean_optimizer("adam", 1e-3) == "adam"
    with pytest.raises(ValueError, match="lr must be"):
        mon.lean_optimizer("sgd", 0.0)
    with pytest.raises(ValueError, match="momentum must be"):
        mon.LeanSGD(build_mlp(6, 3, depth=0).parameters(), lr=0.1, momentum=1.0)


# ------------------------------------------------------------------ many seeds at once
def test_train_seeds_gives_each_seed_the_run_train_and_monitor_give(digits):
    runs = mon.train_seeds(digits, seeds=(3, 5), lr=0.02, epochs=2)
    assert runs.step_loss.shape == (2, 44) and runs.ratios.shape == (2, 44, 5)
    assert runs.eval_step.tolist() == [0, 22, 44] and not runs.diverged.any()
    for i, seed in enumerate((3, 5)):
        reference = mon.run_diagnosis(digits, lr=0.02, epochs=2, seed=seed)
        h = runs.history(i)
        # float32 in another order (batched products): equal to rounding, not bit for bit
        np.testing.assert_allclose(h.step_loss, reference.history.step_loss, rtol=1e-5)
        np.testing.assert_allclose(h.val_acc, reference.history.val_acc, atol=1 / 450 + 1e-12)
        np.testing.assert_allclose(runs.ratios[i], reference.monitor.ratio_array(), rtol=1e-4)
        # the trained weights are handed back in one nn.Module per seed
        for p, q in zip(runs.models[i].parameters(), reference.model.parameters()):
            torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-6)


def test_train_seeds_per_seed_data_build_and_plain_sgd():
    data = [small_data(seed=s) for s in (0, 1)]
    runs = mon.train_seeds(data, seeds=(0, 1), lr=0.1, optimizer="sgd", batch_size=None,
                           epochs=5, eval_every="end",
                           build=lambda s: build_mlp(6, 3, depth=1, width=8, seed=s))
    assert runs.eval_step.tolist() == [0, 5] and runs.ratios.shape == (2, 5, 2)
    for i, s in enumerate((0, 1)):
        model = build_mlp(6, 3, depth=1, width=8, seed=s)
        h = train(model, data[i], "sgd", lr=0.1, epochs=5, batch_size=90, seed=s, progress=False)
        np.testing.assert_allclose(runs.history(i).step_loss, h.step_loss, rtol=1e-5)


def test_train_seeds_stops_only_the_seeds_that_diverge():
    calm, wild = small_data(seed=0), small_data(seed=0)
    wild.x_train = calm.x_train * 1e20  # the same problem, inputs 10^20 times larger
    runs = mon.train_seeds([calm, wild], seeds=(0, 0), lr=1.0, optimizer="sgd", epochs=3,
                           build=lambda s: build_mlp(6, 3, depth=0, seed=s))
    assert runs.diverged.tolist() == [False, True]
    stop = runs.diverged_at[1]
    assert np.isnan(runs.step_loss[1, stop:]).all() and np.isfinite(runs.step_loss[0]).all()
    h = runs.history(1)
    assert h.status == "diverged" and h.steps == stop and h.message.startswith(
        f"diverged at step {stop}")
    assert all(step < stop for step in h.eval_step)


def test_train_seeds_checks_its_arguments(digits):
    with pytest.raises(ValueError, match="optimizer must be 'sgd' or 'momentum'"):
        mon.train_seeds(digits, optimizer="adam")
    with pytest.raises(ValueError, match="seeds must hold 1 to 200"):
        mon.train_seeds(digits, seeds=())
    with pytest.raises(ValueError, match="unknown settings"):
        mon.train_seeds(digits, momentum=0.5)
    with pytest.raises(ValueError, match="data gives 2 data sets for 3 seeds"):
        mon.train_seeds([digits, digits], seeds=(0, 1, 2))
    with pytest.raises(ValueError, match="either build or network settings"):
        mon.train_seeds(digits, depth=2, build=lambda s: build_mlp(64, 10, seed=s))
    with pytest.raises(ValueError, match="no Batch Norm, no dropout"):
        mon.train_seeds(digits, seeds=(0,), build=lambda s: build_mlp(64, 10, dropout=0.5))


def test_seed_metrics_table_and_spread():
    runs = mon.train_seeds([small_data(seed=s) for s in range(3)], seeds=range(3), lr=0.05,
                           epochs=10, build=lambda s: build_mlp(6, 3, depth=2, width=8, seed=s))
    m = mon.seed_metrics(runs, num_classes=3)
    assert set(m) >= {"val_acc", "gap", "plateau", "first share", "ratio", "early ratio"}
    assert all(len(v) == 3 for v in m.values())
    np.testing.assert_allclose(m["first share"],
                               m["first half"] / (m["first half"] + m["second half"]))
    table = mon.seed_table({"a": runs}, num_classes=3).splitlines()
    assert table[0].split()[:4] == ["setting", "seeds", "failed", "val"]
    assert table[2].startswith("a") and "of 3" in table[2]
    assert mon.spread([3.0, 1.0, 2.0], ".1f") == "2.0 (1.0 to 3.0)"
    assert mon.spread([0.5, np.nan], ".0f", percent=True) == "50% (50% to 50%)"
    assert mon.spread([np.nan]) == "-"
    with pytest.raises(ValueError, match="runs must be a SeedRuns"):
        mon.seed_metrics({"a": runs})


def test_update_ratio_figure_draws_a_seed_run_too():
    runs = mon.train_seeds([small_data()], seeds=(0,), lr=0.05, epochs=2,
                           build=lambda s: build_mlp(6, 3, depth=2, width=8, seed=s))
    figure = mon.plot_update_ratios({"a": runs})
    lines = figure.axes[0].get_lines()
    assert len(lines) == 3 + 1  # W1..W3 and the 1e-3 line
    np.testing.assert_allclose(lines[0].get_ydata(), mon.ema(runs.ratios[0, :, 0], 0.9))
