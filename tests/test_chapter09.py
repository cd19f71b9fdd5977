"""Chapter 09: every number the notebook prints or its text states, asserted on the package
functions it calls (the exercise is tested in tests/test_exercises_09.py).

Each test names the notebook section whose claim it asserts. Runs are seeded and trained on
one thread, so the numbers repeat exactly; printed values are compared at their rounding.
"""

import math

import numpy as np
import pytest

from course_utils import monitoring
from course_utils.data import load_dataset
from course_utils.training import hidden_activations

SEED = 0


@pytest.fixture(scope="module")
def data():
    return load_dataset("digits")


@pytest.fixture(scope="module")
def runs(data):
    return {name: monitoring.run_diagnosis(data, seed=SEED, **settings)
            for name, settings in monitoring.DIAGNOSES.items()}


# ---------------------------------------------------------------- 1. smoothing
def test_ema_example_as_printed():
    losses = [2.30, 2.10, 2.25, 1.90, 2.00]
    np.testing.assert_allclose(monitoring.ema(losses, 0.9, debias=False),
                               [0.230, 0.417, 0.600, 0.730, 0.857], atol=5e-4)
    np.testing.assert_allclose(monitoring.ema(losses, 0.9),
                               [2.300, 2.195, 2.215, 2.123, 2.093], atol=5e-4)


# ---------------------------------------------------------------- 2. four loss curves
def test_the_runs_use_the_stated_network(runs):
    assert monitoring.BASE_RUN == dict(depth=4, width=64, activation="relu", init="kaiming",
                                       std=None, optimizer="momentum", batch_size=64, epochs=8,
                                       seed=0)
    assert runs["good lr"].monitor.layers == ("W1", "W2", "W3", "W4", "W5")
    assert runs["good lr"].history.steps == 176  # 8 epochs of 22 steps
    # N(0, 0.1^2) is 0.57 times Kaiming's sqrt(2/64)
    assert 0.1 / math.sqrt(2 / 64) == pytest.approx(0.57, abs=0.005)


def test_curve_summary_table_as_printed(runs):
    s = {name: monitoring.curve_summary(run.history) for name, run in runs.items()}
    assert [s[n]["status"] for n in runs] == ["diverged", "completed", "completed", "completed"]
    assert [s[n]["steps"] for n in runs] == [13, 176, 176, 176]
    assert [s[n]["plateau"] for n in runs] == [13, 125, 18, 107]
    for name, first, second, shape, acc in [("lr too low", 0.13, 0.21, 0.61, 0.50),
                                            ("good lr", 2.03, 0.08, 26.34, 0.95),
                                            ("bad init", 0.12, 1.39, 0.08, 0.78)]:
        assert s[name]["first half"] == pytest.approx(first, abs=0.005)
        assert s[name]["second half"] == pytest.approx(second, abs=0.005)
        assert s[name]["shape"] == pytest.approx(shape, abs=0.005)
        assert s[name]["val_acc"] == pytest.approx(acc, abs=0.005)
    assert s["lr too high"]["val_acc"] == pytest.approx(0.10, abs=0.005)


def test_too_high_explodes_to_nan_at_step_13(runs):
    high = runs["lr too high"].history
    assert high.status == "diverged" and high.diverged_at == 13
    assert high.message == "diverged at step 13: the loss became nan (learning rate too high?)"
    assert high.step_loss[0] == pytest.approx(2.33, abs=0.005)
    assert 6e33 < high.step_loss[11] < 7e33 and math.isnan(high.step_loss[12])


def test_text_too_low_good_and_plateau(runs):
    low = monitoring.curve_summary(runs["lr too low"].history)
    assert low["end"] == pytest.approx(1.96, abs=0.005)  # "from 2.30 to 1.96"
    good = monitoring.curve_summary(runs["good lr"].history)
    assert good["shape"] > 20 and good["val_acc"] > 0.94


# ---------------------------------------------------------------- 3. minibatch noise
def test_minibatch_spread_as_printed(runs, data):
    spread = monitoring.minibatch_loss_spread(runs["good lr"].model, data.x_train, data.y_train,
                                              n_batches=400, seed=SEED)
    np.testing.assert_allclose(spread["measured std"], [0.121, 0.066, 0.033, 0.014], atol=5e-4)
    np.testing.assert_allclose(spread["sigma/sqrt(B) * fpc"], [0.136, 0.067, 0.032, 0.013],
                               atol=5e-4)
    ratio = spread["measured std"] / spread["sigma/sqrt(B) * fpc"]
    assert np.all(np.abs(ratio - 1) < 0.12)  # "within about 11%"
    at64 = monitoring.minibatch_loss_spread(runs["good lr"].model, data.x_train, data.y_train,
                                            batch_sizes=(64,), n_batches=400, seed=SEED)
    assert at64["sigma/sqrt(B) * fpc"][0] == pytest.approx(0.05, abs=0.005)  # "about ±0.05"
    # "nine times less": sqrt(64) = 8, and the correction at B = 512 (38% of N) is 0.79
    assert spread["measured std"][0] / spread["measured std"][-1] == pytest.approx(8.8, abs=0.1)
    n = len(data.x_train)
    assert 512 / n == pytest.approx(0.38, abs=0.005)
    assert math.sqrt((n - 512) / (n - 1)) == pytest.approx(0.79, abs=0.005)


# ---------------------------------------------------------------- 4. train vs validation
def test_overfitting_gap_as_printed(runs):
    small = load_dataset("digits", max_train=100, seed=SEED)
    overfit = monitoring.run_diagnosis(small, lr=0.01, epochs=50, seed=SEED).history
    assert overfit.steps == 100
    full = runs["good lr"].history.final()
    assert (full["train_acc"], full["val_acc"]) == pytest.approx((0.959, 0.947), abs=5e-4)
    assert full["train_acc"] - full["val_acc"] == pytest.approx(0.013, abs=5e-4)
    final = overfit.final()
    assert final["train_acc"] == 1.0
    assert final["val_acc"] == pytest.approx(0.847, abs=5e-4)
    assert final["train_acc"] - final["val_acc"] == pytest.approx(0.153, abs=5e-4)


# ---------------------------------------------------------------- 5. update-to-weight ratio
def test_median_update_ratios_as_printed(runs):
    printed = {"lr too high": [7.9e-01, 7.0e-01, 1.2e+00, 8.6e-01, 1.7e+00],
               "lr too low": [1.1e-04, 1.1e-04, 1.1e-04, 1.1e-04, 2.1e-04],
               "good lr": [2.3e-03, 2.0e-03, 1.8e-03, 1.8e-03, 4.3e-03],
               "bad init": [1.7e-03, 1.4e-03, 1.4e-03, 1.7e-03, 4.2e-03]}
    for name, values in printed.items():
        got = list(runs[name].monitor.median_ratios().values())
        assert [f"{v:.1e}" for v in got] == [f"{v:.1e}" for v in values], name


def test_ratio_rule_of_thumb_separates_the_learning_rates(runs):
    med = {name: np.array(list(run.monitor.median_ratios().values()))
           for name, run in runs.items()}
    assert np.all((med["good lr"] > 1e-3) & (med["good lr"] < 5e-3))  # near 1e-3
    assert np.all(med["lr too high"] > 0.5)  # far above
    assert np.all(med["lr too low"] < 3e-4)  # far below: ten times and more
    assert np.all(med["good lr"] / med["lr too low"] > 15)


# ---------------------------------------------------------------- 6. per-layer statistics
def test_activations_and_gradients_at_init_as_printed(data):
    fresh = {"kaiming": monitoring.base_model(data, seed=SEED),
             "bad": monitoring.base_model(data, init="normal", std=0.1, seed=SEED)}
    stds = {n: [a.std() for a in hidden_activations(m, data.x_val)] for n, m in fresh.items()}
    np.testing.assert_allclose(stds["kaiming"], [0.395, 0.413, 0.415, 0.400], atol=5e-4)
    np.testing.assert_allclose(stds["bad"], [0.224, 0.132, 0.075, 0.041], atol=5e-4)
    shrink = np.array(stds["bad"][1:]) / np.array(stds["bad"][:-1])
    assert np.all(np.abs(shrink - 0.57) < 0.03)  # "a factor of about 0.57 per layer"
    rms = {n: [math.sqrt(np.mean(g ** 2)) for g in monitoring.weight_gradients(
        m, data.x_train[:256], data.y_train[:256]).values()] for n, m in fresh.items()}
    assert [f"{v:.2e}" for v in rms["kaiming"]] == ["1.55e-02", "1.60e-02", "1.62e-02",
                                                    "1.77e-02", "3.94e-02"]
    assert [f"{v:.2e}" for v in rms["bad"]] == ["9.28e-04", "9.51e-04", "9.62e-04",
                                                "9.69e-04", "1.76e-03"]
    ratio = np.array(rms["kaiming"]) / np.array(rms["bad"])
    assert np.all((ratio > 16.5) & (ratio < 22.5))  # "17 to 22 times smaller"
    zeros = {n: [np.mean(a == 0) for a in hidden_activations(m, data.x_val)]
             for n, m in fresh.items()}
    np.testing.assert_allclose(zeros["kaiming"], zeros["bad"])  # same signs, scaled weights
    assert all(0.48 < z < 0.51 for z in zeros["kaiming"])  # "half of the units are 0"


# ---------------------------------------------------------------- the dashboard
def test_dashboard_cell_as_printed(data):
    from course_utils.widgets.training_dashboard import training_dashboard

    d = training_dashboard(data=data, lr=0.01, epochs=5, seed=SEED)
    d.controls["start"].click()
    assert d.summary == ("lr=0.01, epochs=5: completed 110 steps: validation accuracy 0.907, "
                         "loss 0.323; median update ratio 2.4e-03 (healthy ~1e-3)")
    assert d.message == ""
