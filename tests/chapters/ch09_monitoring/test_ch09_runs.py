"""Chapter 09: every number the notebook prints or its text states, asserted on the package
functions it calls (the exercise is tested in tests/test_exercises_09.py).

Each test names the notebook section whose claim it asserts. Runs are seeded and trained on
one thread, so they repeat on one machine; across CPUs their last bits differ (the vectorised
kernels), so every number is asserted at its printed precision, which was chosen with a margin
(checked under native, AVX2 and SSE4 kernels and with initial weights perturbed by 1e-6), and
the claims themselves (what holds over the 10 seeds) are asserted as properties.
"""

import math

import numpy as np
import pytest

from course_utils import monitoring
from course_utils.chapters.ch09_monitoring import figures
from course_utils.chapters.ch09_monitoring import runs as ch09
from course_utils.training import build_mlp, hidden_activations

SEED = 0


@pytest.fixture(scope="module")
def data(digits_dataset):
    return digits_dataset


@pytest.fixture(scope="module")
def runs(ch09_trained):
    """The notebook's runs: every setting for the 10 seeds at once; seed 0 is the first."""
    return {name: ch09_trained[name] for name in ch09.DIAGNOSES}


def first(run):
    """Seed 0's history (the notebook's pictures and its seed-0 tables)."""
    return run.history(run.seeds.index(SEED))


# ---------------------------------------------------------------- 1. smoothing
def test_ema_example_as_printed():
    losses = [2.30, 2.10, 2.25, 1.90, 2.00]
    np.testing.assert_allclose(
        monitoring.ema(losses, 0.9, debias=False), [0.230, 0.417, 0.600, 0.730, 0.857], atol=5e-4
    )
    np.testing.assert_allclose(
        monitoring.ema(losses, 0.9), [2.300, 2.195, 2.215, 2.123, 2.093], atol=5e-4
    )


# ---------------------------------------------------------------- 2. four loss curves
def test_the_runs_use_the_stated_network(runs, data):
    assert ch09.BASE_RUN == dict(
        depth=4,
        width=64,
        activation="relu",
        init="kaiming",
        std=None,
        optimizer="momentum",
        batch_size=64,
        epochs=8,
        seed=0,
    )
    assert ch09.SEEDS == tuple(range(10)) and ch09.SEEDS[0] == SEED
    assert runs["good lr"].layers == ("W1", "W2", "W3", "W4", "W5")
    assert first(runs["good lr"]).steps == 176  # 8 epochs of 22 steps
    # the bad init's N(0, 0.1^2) is 0.57 times Kaiming's sqrt(2/64): measured on the built nets
    bad, kaiming = ch09.base_model(data, **ch09.DIAGNOSES["bad init"]), ch09.base_model(data)
    w_bad, w_kaiming = (
        np.concatenate([layer.weight.detach().numpy().ravel() for layer in list(net)[2:-1:2]])
        for net in (bad, kaiming)
    )
    assert w_bad.std() / w_kaiming.std() == pytest.approx(0.57, abs=0.01)


def test_seed_0_table_as_printed(runs):
    s = {name: ch09.curve_summary(first(run)) for name, run in runs.items()}
    assert [s[n]["status"] for n in runs] == ["diverged", "completed", "completed", "completed"]
    # integers derived from the runs; stable under the kernels and 1e-6 perturbations tried
    assert [s[n]["steps"] for n in runs] == [13, 176, 176, 176]
    assert [s[n]["plateau"] for n in runs] == [13, 125, 18, 107]
    for name, peak in [("lr too low", 2.53), ("good lr", 2.50), ("bad init", 2.30)]:
        assert s[name]["peak"] == pytest.approx(peak, abs=0.005)
    # lr too low first rises above its first loss before it falls: why the fall starts at peak
    assert s["lr too low"]["peak"] > first(runs["lr too low"]).step_loss[0] + 0.1
    for name, first_half, second_half, shape, acc in [
        ("lr too low", 0.35, 0.21, "1.7", 0.50),
        ("good lr", 2.23, 0.08, "29", 0.95),
        ("bad init", 0.12, 1.39, "0.083", 0.78),
    ]:
        # printed with 2 decimals (shape with 2 significant digits): within half a unit
        assert s[name]["first half"] == pytest.approx(first_half, abs=0.005)
        assert s[name]["second half"] == pytest.approx(second_half, abs=0.005)
        assert f"{s[name]['shape']:.2g}" == shape
        assert s[name]["val_acc"] == pytest.approx(acc, abs=0.005)
    assert s["lr too high"]["val_acc"] == pytest.approx(0.10, abs=0.005)


def test_seed_table_as_printed(runs):
    assert ch09.seed_table(runs).splitlines()[2:] == [
        "lr too high     10  10 of 10                    -                -                    -  2e-01 in steps 1-10",
        "lr too low      10   0 of 10  0.40 (0.32 to 0.50)  134 (87 to 170)  0.68 (0.58 to 0.72)                1e-04",
        "good lr         10   0 of 10  0.95 (0.92 to 0.96)    18 (13 to 20)  0.92 (0.90 to 0.97)                2e-03",
        "bad init        10   0 of 10  0.77 (0.66 to 0.82)  103 (89 to 119)  0.09 (0.07 to 0.14)                2e-03",
    ]


def test_claims_over_seeds_tell_the_four_curves_apart(runs):
    m = {name: ch09.seed_metrics(run) for name, run in runs.items()}
    # too high: every seed fails, some by NaN and some by dead ReLUs (which ones: rounding)
    high = m["lr too high"]
    assert np.all(high["diverged"] | (high["val_acc"] < ch09.FAILED_BELOW))
    assert 1 <= high["diverged"].sum() <= 9
    assert np.all(high["early ratio"] > 0.05)  # far above the rule of thumb from the start
    for name in ("lr too low", "good lr", "bad init"):
        assert not m[name]["diverged"].any() and np.all(m[name]["val_acc"] > 0.3), name
    # fast then flat vs straight vs plateau-then-drop: the first half's share of the fall
    assert np.all(m["good lr"]["first share"] > 0.85)
    # too low: between a straight line (0.5) and good lr's fast-then-flat, in every seed
    assert np.all((m["lr too low"]["first share"] > 0.5) & (m["lr too low"]["first share"] < 0.8))
    assert np.all(m["bad init"]["first share"] < 0.2)
    # the plateau: short with a good lr, long from a bad init
    assert np.all(m["good lr"]["plateau"] < 30) and np.all(m["bad init"]["plateau"] > 80)
    # the ratio: ~1e-3 for a good lr and a bad init, ten times less for a low lr
    assert np.all((m["good lr"]["ratio"] > 1e-3) & (m["good lr"]["ratio"] < 3e-3))
    assert np.all(m["lr too low"]["ratio"] < 2e-4)
    assert np.all(m["bad init"]["ratio"] > 5e-4)


def test_too_high_explodes_at_seed_0(runs):
    high = first(runs["lr too high"])
    assert high.status == "diverged" and high.diverged_at == 13
    assert high.message == "diverged at step 13: the loss became nan (learning rate too high?)"
    # the printed orders of magnitude (each value at least 5% from a power of ten)
    magnitudes = [math.floor(math.log10(v)) for v in high.step_loss[:-1]]
    assert magnitudes == [0, 0, 0, 0, 1, 1, 3, 5, 9, 19, 15, 33] and math.isnan(high.step_loss[-1])


def test_text_too_low_good_and_plateau(runs):
    low = ch09.curve_summary(first(runs["lr too low"]))
    good = ch09.curve_summary(first(runs["good lr"]))
    assert 1 < low["shape"] < 3 < 20 < good["shape"]  # gently bending vs fast then flat
    assert good["val_acc"] > 0.94


def test_seed_runs_are_train_runs_to_rounding(runs, data):
    """The batched runs are the runs train() makes (seed 0, the stable settings)."""
    for name in ("good lr", "bad init"):
        reference = ch09.run_diagnosis(data, seed=SEED, **ch09.DIAGNOSES[name])
        mine = first(runs[name])
        # float32 arithmetic in a different order: equal to ~1e-6 after 176 steps
        np.testing.assert_allclose(mine.step_loss, reference.history.step_loss, rtol=1e-4)
        np.testing.assert_allclose(
            runs[name].median_ratios()[0],
            list(reference.monitor.median_ratios().values()),
            rtol=1e-4,
        )


# ---------------------------------------------------------------- 3. minibatch noise
def test_minibatch_spread_as_printed(runs, data):
    good = runs["good lr"].models[0]
    spread = monitoring.minibatch_loss_spread(
        good, data.x_train, data.y_train, n_batches=400, seed=SEED
    )
    # printed with 3 decimals: within half a unit
    np.testing.assert_allclose(spread["measured std"], [0.121, 0.066, 0.033, 0.014], atol=5e-4)
    np.testing.assert_allclose(
        spread["sigma/sqrt(B) * fpc"], [0.136, 0.067, 0.032, 0.013], atol=5e-4
    )
    ratio = spread["measured std"] / spread["sigma/sqrt(B) * fpc"]
    assert np.all(np.abs(ratio - 1) < 0.12)  # "within about 11%"
    at64 = monitoring.minibatch_loss_spread(
        good, data.x_train, data.y_train, batch_sizes=(64,), n_batches=400, seed=SEED
    )
    assert at64["sigma/sqrt(B) * fpc"][0] == pytest.approx(0.05, abs=0.005)  # "about ±0.05"
    # "nine times less": sqrt(64) = 8, and the correction at B = 512 (38% of N) is 0.79
    assert spread["measured std"][0] / spread["measured std"][-1] == pytest.approx(8.8, abs=0.1)
    n = len(data.x_train)
    assert 512 / n == pytest.approx(0.38, abs=0.005)
    assert math.sqrt((n - 512) / (n - 1)) == pytest.approx(0.79, abs=0.005)


# ---------------------------------------------------------------- 4. train vs validation
def test_overfitting_gap_as_printed(runs, data):
    from course_utils.sanity import tiny_subset

    small = [tiny_subset(data, 100, seed=s) for s in ch09.SEEDS]
    overfit = ch09.train_seeds(small, seeds=ch09.SEEDS, lr=0.01, epochs=50, eval_every=10)
    assert first(overfit).steps == 100
    full = first(runs["good lr"]).final()
    # printed with 3 decimals: within half a unit
    assert (full["train_acc"], full["val_acc"]) == pytest.approx((0.959, 0.947), abs=5e-4)
    assert full["train_acc"] - full["val_acc"] == pytest.approx(0.013, abs=5e-4)
    final = first(overfit).final()
    assert final["train_acc"] == 1.0  # an accuracy of 1 is exact: every example right
    assert final["val_acc"] == pytest.approx(0.871, abs=5e-4)
    assert final["train_acc"] - final["val_acc"] == pytest.approx(0.129, abs=5e-4)
    full_gap = ch09.seed_metrics(runs["good lr"])["gap"]
    small_gap = ch09.seed_metrics(overfit)["gap"]
    assert f"{np.median(full_gap):.2f}" == "0.02" and np.all(full_gap < 0.05)
    assert ch09.median_range(small_gap, ".2f") == "0.14 (0.12 to 0.17)"
    assert np.all(small_gap > full_gap.max())  # 100 examples overfit more, in every seed


# ---------------------------------------------------------------- 5. update-to-weight ratio
def test_median_update_ratios_as_printed(runs):
    printed = {
        "lr too high": [7.9e-01, 7.0e-01, 1.2e00, 8.6e-01, 1.7e00],
        "lr too low": [1.1e-04, 1.1e-04, 1.1e-04, 1.1e-04, 2.1e-04],
        "good lr": [2.3e-03, 2.0e-03, 1.8e-03, 1.8e-03, 4.3e-03],
        "bad init": [1.7e-03, 1.4e-03, 1.4e-03, 1.7e-03, 4.2e-03],
    }
    for name, values in printed.items():
        got = runs[name].median_ratios()[0]
        assert [f"{v:.1e}" for v in got] == [f"{v:.1e}" for v in values], name


def test_ratio_rule_of_thumb_separates_the_learning_rates(runs):
    med = {name: run.median_ratios()[0] for name, run in runs.items()}
    assert np.all((med["good lr"] > 1e-3) & (med["good lr"] < 5e-3))  # near 1e-3
    assert np.all(med["lr too high"] > 0.5)  # far above
    assert np.all(med["lr too low"] < 3e-4)  # far below: ten times and more
    assert np.all(med["good lr"] / med["lr too low"] > 15)


# ---------------------------------------------------------------- 6. per-layer statistics
def test_activations_and_gradients_at_init_as_printed(data):
    fresh = {
        "kaiming": ch09.base_model(data, seed=SEED),
        "bad": ch09.base_model(data, init="normal", std=0.1, seed=SEED),
    }
    stds = {n: [a.std() for a in hidden_activations(m, data.x_val)] for n, m in fresh.items()}
    np.testing.assert_allclose(stds["kaiming"], [0.395, 0.413, 0.415, 0.400], atol=5e-4)
    np.testing.assert_allclose(stds["bad"], [0.224, 0.132, 0.075, 0.041], atol=5e-4)
    shrink = np.array(stds["bad"][1:]) / np.array(stds["bad"][:-1])
    assert np.all(np.abs(shrink - 0.57) < 0.03)  # "a factor of about 0.57 per layer"
    rms = {
        n: [
            math.sqrt(np.mean(g**2))
            for g in monitoring.weight_gradients(m, data.x_train[:256], data.y_train[:256]).values()
        ]
        for n, m in fresh.items()
    }
    assert [f"{v:.2e}" for v in rms["kaiming"]] == [
        "1.55e-02",
        "1.60e-02",
        "1.62e-02",
        "1.77e-02",
        "3.94e-02",
    ]
    assert [f"{v:.2e}" for v in rms["bad"]] == [
        "9.28e-04",
        "9.51e-04",
        "9.62e-04",
        "9.69e-04",
        "1.76e-03",
    ]
    ratio = np.array(rms["kaiming"]) / np.array(rms["bad"])
    assert np.all((ratio > 16.5) & (ratio < 22.5))  # "17 to 22 times smaller"
    zeros = {
        n: [np.mean(a == 0) for a in hidden_activations(m, data.x_val)] for n, m in fresh.items()
    }
    np.testing.assert_allclose(zeros["kaiming"], zeros["bad"])  # same signs, scaled weights
    assert all(0.48 < z < 0.51 for z in zeros["kaiming"])  # "half of the units are 0"


# ---------------------------------------------------------------- the dashboard
def test_dashboard_cell_as_printed(data):
    from course_utils.chapters.ch09_monitoring.explorer import training_dashboard

    d = training_dashboard(data=data, lr=0.01, epochs=3, seed=SEED)
    d.start_button.click()
    # the printed line (a stable setting: the good lr; the SSE4 and AVX2 runs print the same)
    assert d.summary == (
        "lr=0.01, epochs=3: completed 66 steps: validation accuracy 0.876, "
        "loss 0.369; median update ratio 2.7e-03 (healthy ~1e-3)"
    )
    assert d.message == ""


def small_data(n=120, d=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = np.argmax(x[:, :classes], axis=1)

    class Data:
        x_train, y_train, x_val, y_val = x[:90], y[:90], x[90:], y[90:]
        num_classes = classes

    return Data


# ---------------------------------------------------------------- the runs' functions
def test_run_diagnosis_checks_its_settings(digits_dataset):
    with pytest.raises(ValueError, match="unknown settings"):
        ch09.run_diagnosis(digits_dataset, lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="must give lr"):
        ch09.run_diagnosis(digits_dataset)


@pytest.mark.parametrize(
    "total, expected", [(22, 2), (44, 4), (110, 10), (660, 44), (23, 1), (661, 45)]
)
def test_about_fifteen_evaluations_the_last_at_the_last_step_when_possible(total, expected):
    assert ch09.evaluation_interval(total) == expected


def test_evaluation_interval_is_bounded():
    assert ch09.evaluation_interval(200_000) == 12500  # a divisor near 200,000 / 15, at once
    for bad in (0, 10**9, 2**70, 1.5, None):
        with pytest.raises(ValueError, match="total must be"):
            ch09.evaluation_interval(bad)
    with pytest.raises(ValueError, match="evaluations must be"):
        ch09.evaluation_interval(44, 0)


def test_monitored_run_calls_back_after_the_monitor_every_step(digits_dataset):
    seen = []

    def callback(history, monitor):
        seen.append((len(history.step_loss), len(monitor.steps)))

    run = ch09.monitored_run(
        digits_dataset, dict(lr=0.01, epochs=1, depth=1, width=8), callback=callback
    )
    assert seen == [(k, k) for k in range(1, run.history.steps + 1)]
    assert run.monitor.probe is None and run.settings["depth"] == 1
    with pytest.raises(ValueError, match="settings must be a dict"):
        ch09.monitored_run(digits_dataset, [("lr", 0.1)])
    with pytest.raises(ValueError, match="callback must be a function"):
        ch09.monitored_run(digits_dataset, dict(lr=0.1), callback=3)


def test_plateau_steps_and_curve_summary_on_made_up_curves():
    from course_utils.training import History

    def H(step_loss):
        return History(step_loss=step_loss, val_acc=[0.5], status="completed")

    flat_then_drop = np.r_[np.full(50, math.log(10)), np.linspace(2.3, 0.5, 50)]
    assert 50 < ch09.plateau_steps(flat_then_drop, math.log(10)) < 70
    assert ch09.plateau_steps(np.full(30, 2.3), math.log(10)) == 30  # never leaves it
    line = H(list(np.linspace(2.3, 1.3, 200)))  # a straight line
    assert ch09.curve_summary(line)["shape"] == pytest.approx(1.0, abs=0.1)
    fast = H(list(0.2 + 2.1 * np.exp(-np.arange(200) / 20)))  # fast, then flat
    assert ch09.curve_summary(fast)["shape"] > 20
    with pytest.raises(ValueError, match="history must be a training History"):
        ch09.curve_summary({"step_loss": [2.3]})


def test_figures_draw_one_panel_per_run_or_layer(digits_dataset):
    from matplotlib.figure import Figure

    run = ch09.run_diagnosis(digits_dataset, lr=0.01, epochs=1)
    fig = figures.plot_loss_curves({"a": run.history, "b": run.history})
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert len(figures.plot_accuracy_gap({"a": run.history}).axes) == 1
    ratios = figures.plot_update_ratios({"a": run.monitor})
    assert len(ratios.axes[0].get_lines()) == 5 + 1  # W1..W5 and the 1e-3 line
    grads = list(
        monitoring.weight_gradients(
            run.model, digits_dataset.x_train[:64], digits_dataset.y_train[:64]
        ).values()
    )
    grid = figures.plot_layer_distributions({"dW": grads[:3], "dW again": grads[:2]})
    assert len(grid.axes) == 6 and not grid.axes[5].get_visible()
    with pytest.raises(ValueError, match="figsize"):
        figures.plot_loss_curves({"a": run.history}, figsize=(0, 3))


def test_seed_metrics_table_and_median_range():
    runs = ch09.train_seeds(
        [small_data(seed=s) for s in range(3)],
        seeds=range(3),
        lr=0.05,
        epochs=10,
        build=lambda s: build_mlp(6, 3, depth=2, width=8, seed=s),
    )
    m = ch09.seed_metrics(runs, num_classes=3)
    assert set(m) >= {"val_acc", "gap", "plateau", "first share", "ratio", "early ratio"}
    assert all(len(v) == 3 for v in m.values())
    np.testing.assert_allclose(
        m["first share"], m["first half"] / (m["first half"] + m["second half"])
    )
    table = ch09.seed_table({"a": runs}, num_classes=3).splitlines()
    assert table[0].split()[:4] == ["setting", "seeds", "failed", "val"]
    assert table[2].startswith("a") and "of 3" in table[2]
    assert ch09.median_range([3.0, 1.0, 2.0], ".1f") == "2.0 (1.0 to 3.0)"
    assert ch09.median_range([0.5, np.nan], ".0f", percent=True) == "50% (50% to 50%)"
    assert ch09.median_range([np.nan]) == "-"
    with pytest.raises(ValueError, match="runs must be a SeedRuns"):
        ch09.seed_metrics({"a": runs})


def test_update_ratio_figure_draws_a_seed_run_too():
    runs = ch09.train_seeds(
        [small_data()],
        seeds=(0,),
        lr=0.05,
        epochs=2,
        build=lambda s: build_mlp(6, 3, depth=2, width=8, seed=s),
    )
    figure = figures.plot_update_ratios({"a": runs})
    lines = figure.axes[0].get_lines()
    assert len(lines) == 3 + 1  # W1..W3 and the 1e-3 line
    np.testing.assert_allclose(
        lines[0].get_ydata(), monitoring.ema(runs.ratios[0, :, 0], 0.9, nonfinite="pass")
    )
