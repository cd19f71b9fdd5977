"""Chapter 04: every number the notebook prints or its text states.

The assertions are on the package's functions, not on the notebook (nbval compares the
notebook's outputs with the stored ones; these tests say why those outputs are right).
"""

import math

import numpy as np
import pytest

from course_utils.chapters.ch04_batchnorm import runs, runs_batch_size, runs_training
from course_utils.chapters.ch04_batchnorm.explorer import batchnorm_explorer
from course_utils.data import load_digits
from course_utils.training import hidden_activations

SEED = 0
PRINTED = dict(atol=5e-4, rtol=0)  # printed with 3 decimals


@pytest.fixture(scope="module")
def digits():
    return load_digits(seed=SEED)


# ---------------------------------------------------------------- 1. scale invariance
def test_scale_invariance_holds_above_eps_and_gradients_scale_like_one_over_c():
    inv = runs.invariances(scales=(0.001, 0.1, 10.0, 1000.0), seed=SEED)
    # printed with 4 decimals; a stable float64 computation (moves ~1e-12 between CPUs)
    np.testing.assert_allclose(inv.output_change, [3.0349, 0.0931, 0.0010, 0.0010], atol=5e-5)
    np.testing.assert_allclose(inv.grad_ratio, [63.8574, 9.8385, 0.1000, 0.0010], atol=5e-5)
    np.testing.assert_allclose(inv.grad_ratio[2:], [0.1, 0.001], rtol=1e-3)  # 1/c above eps
    assert inv.grad_ratio[0] < 0.1 * 1000  # below eps: far from 1/c
    # printed as "below 1e-12": rounding error only, whose last digits differ between CPUs
    assert inv.bias_change < 1e-12 and inv.identity_error < 1e-12


def test_scale_invariance_is_exact_when_eps_is_negligible():
    inv = runs.invariances(scales=(0.1, 10.0), eps=1e-14, seed=SEED)
    assert np.all(inv.output_change < 1e-8)
    np.testing.assert_allclose(inv.grad_ratio, [10.0, 0.1], rtol=1e-6)


# ---------------------------------------------------------------- 3. the lecture's claim
def test_the_comparison_table_as_printed(digits):
    c = runs_training.init_comparison(
        stds=(0.001, 0.01, 0.1, 1.0),
        optimizer="momentum",
        lr=0.04,
        epochs=5,
        batch_size=128,
        seed=SEED,
        data=digits,
    )
    np.testing.assert_allclose(c.plain, [0.102, 0.102, 0.480, 0.102], **PRINTED)
    np.testing.assert_allclose(c.batchnorm, [0.924, 0.971, 0.967, 0.862], **PRINTED)
    assert c.plain_status == ("completed",) * 4
    assert "0.001     0.102    0.924" in c.table()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_with_batchnorm_every_init_trains_without_it_bad_inits_stall(seed):
    c = runs_training.init_comparison(seed=seed)
    assert min(c.batchnorm) >= 0.8, c.batchnorm
    assert max(c.plain[:2]) <= 0.11, c.plain  # chance: one class of ten
    assert c.plain[3] <= 0.11 or c.plain_status[3] == "diverged"
    assert c.batchnorm_status == ("completed",) * 4


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_with_a_bad_output_layer_too_batchnorm_still_trains(seed):
    c = runs_training.init_comparison(stds=(0.001,), bad_output=True, seed=seed)
    assert c.batchnorm[0] >= 0.88 and c.plain[0] <= 0.11


def test_histograms_vanish_without_bn_and_stay_unit_with_it(digits):
    batch = digits.x_train[:256]
    plain = [
        a.std()
        for a in hidden_activations(runs_training.bad_init_mlp(0.01, False, seed=SEED), batch)
    ]
    bn_acts = hidden_activations(
        runs_training.bad_init_mlp(0.01, True, seed=SEED), batch, batch_statistics=True
    )
    with_bn = [a.std() for a in bn_acts]
    # "a unit is active on 0.43 to 0.59 of the batch (mean 0.50)": mean 0 is not median 0
    active = runs.active_share(bn_acts)
    assert active.shape == (4, 64)
    assert round(active.min(), 2) == 0.43 and round(active.max(), 2) == 0.59
    assert round(active.mean(), 2) == 0.50
    assert np.sum(active != 0.5) > 200  # most units are not active on exactly half
    np.testing.assert_allclose(plain, [0.022415, 0.001336, 0.000076, 0.000004], atol=5e-7)
    np.testing.assert_allclose(with_bn, [0.575492, 0.576361, 0.579062, 0.578284], atol=5e-6)
    relu_std = math.sqrt(0.5 - 1 / (2 * math.pi))
    np.testing.assert_allclose(with_bn, relu_std, atol=0.01)
    ratios = np.array(plain[:-1]) / np.array(plain[1:])
    assert np.all((ratios > 15) & (ratios < 20))  # "about 18 per layer"


def test_eps_table_and_critical_std():
    e = {s: runs.eps_effect(s, seed=SEED) for s in (1e-4, 1e-3, 1e-2, 1.0)}
    # printed with 2 significant digits; stable float64 sums (they move ~1e-16 between CPUs)
    np.testing.assert_allclose(e[1e-3].var_z, [4.8e-06, 6.6e-06, 8.2e-06, 9.4e-06], rtol=0.011)
    np.testing.assert_allclose(e[1e-3].bn_std, [0.555, 0.619, 0.662, 0.688], **PRINTED)
    np.testing.assert_allclose(e[1e-4].bn_std, [0.068, 0.010, 0.001, 0.000], **PRINTED)
    np.testing.assert_allclose(e[1e-2].bn_std, [0.988, 0.997, 0.997, 0.998], **PRINTED)
    np.testing.assert_allclose(e[1.0].bn_std, 1.0, **PRINTED)
    assert e[1e-4].var_z[0] == pytest.approx(4.8e-08, rel=0.011)
    assert f"{runs.critical_std(64):.2e}" == "6.77e-04"
    # the fixed point s² = 1 - eps / (n σ² c) predicts the deep layers at σ = 0.001
    s = math.sqrt(1 - 1e-5 / (64 * 1e-6 * runs.relu_variance_share()))
    assert abs(e[1e-3].bn_std[-1] - s) < 0.05


def test_running_statistics_lag_behind_a_network_started_from_tiny_weights(digits):
    """The table as printed: counts over 8 seeds, compared at the same step (22)."""
    lag = runs_training.running_stats_lag(
        stds=(0.01, 0.18), seeds=range(8), lr=0.1, epochs=2, batch_size=128, data=digits
    )
    assert lag.steps == 22
    tiny, kaiming = 0, 1
    # sigma = 0.01: eval mode below 0.5 and a gain above 0.5 in every seed (the closest seeds
    # are 0.43 and 0.54: 30 and 20 validation digits away from the thresholds)
    assert np.all(lag.val_acc[tiny] < 0.5) and np.all(lag.gain[tiny] > 0.5)
    assert np.all(lag.recalibrated_acc[tiny] > 0.9)
    # Kaiming's std, the same step: the two evaluations agree within 0.1 in every seed
    assert np.all(np.abs(lag.gain[kaiming]) < 0.1) and np.all(lag.val_acc[kaiming] > 0.5)
    # the cause: a running variance ~5 times the true one (printed 4.9 and 1.0)
    np.testing.assert_allclose(np.median(lag.var_ratio, axis=1), [4.9, 1.0], atol=0.05)
    assert lag.table().splitlines()[2].split() == [
        "0.01",
        "8",
        "of",
        "8",
        "8",
        "of",
        "8",
        "0",
        "of",
        "8",
        "4.9",
    ]


def test_the_stacked_lag_runs_are_train_runs(digits):
    """running_stats_lag trains its networks side by side: each is the run train() makes
    (LeanSGD, the same minibatches), with torch's running statistics and recalibration."""
    from course_utils.chapters.ch04_batchnorm.runs_lag import _train_bn_stack
    from course_utils.lean_sgd import lean_optimizer
    from course_utils.training import evaluate, train

    runs_ = [(0.01, 3), (0.18, 5)]
    stack = _train_bn_stack(
        [runs_training.bad_init_mlp(std, True, seed=seed) for std, seed in runs_],
        [seed for _, seed in runs_],
        digits,
        0.1,
        1,
        128,
    )
    assert stack.steps == 11 and not stack.diverged.any()
    for s, (std, seed) in enumerate(runs_):
        model = runs_training.bad_init_mlp(std, True, seed=seed)
        train(model, digits, lean_optimizer("sgd", 0.1), epochs=1, batch_size=128, seed=seed,
              progress=False)  # fmt: skip
        fresh = runs_training.recalibrated(model, digits.x_train)
        assert stack.val_acc[s] == evaluate(model, digits.x_val, digits.y_val)[1]
        assert stack.recalibrated_acc[s] == evaluate(fresh, digits.x_val, digits.y_val)[1]
        for k, (a, b) in enumerate(
            zip(runs_training._bn_layers(model), runs_training._bn_layers(fresh))
        ):
            np.testing.assert_allclose(stack.running_var[k][s], a.running_var.numpy(), rtol=1e-3)
            np.testing.assert_allclose(stack.true_var[k][s], b.running_var.numpy(), rtol=1e-3)


def test_running_stats_lag_checks_its_arguments():
    with pytest.raises(ValueError, match="seeds must have between 1 and 32 items"):
        runs_training.running_stats_lag(seeds=())
    with pytest.raises(ValueError, match="lr"):
        runs_training.running_stats_lag(lr=0)


# ---------------------------------------------------------------- 4. train vs eval, batch size
def test_train_vs_eval_on_the_same_batch():
    t = runs.train_vs_eval(batch_size=8, steps=100, seed=SEED)
    np.testing.assert_allclose(t.train_out[0, :2], [1.368, -0.620], **PRINTED)
    np.testing.assert_allclose(t.eval_out[0, :2], [0.754, -0.706], **PRINTED)
    np.testing.assert_allclose(t.train_out.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(t.train_out.var(0), 1, atol=1e-4)
    assert t.eval_out[:, 0].mean() == pytest.approx(-0.651, abs=5e-4)  # printed, 3 decimals
    assert t.train_change == pytest.approx(0.846, abs=5e-4)
    # Exact by construction: in eval mode example 0's output is computed from example 0 and
    # the running statistics alone, element by element, whatever the other rows hold.
    assert t.eval_change == 0.0


def test_a_batch_of_two_digits(digits):
    pixels = [2, 3, 4, 5, 10, 11, 0, 13]
    out = runs_batch_size.pair_normalised(digits.x_train[:2])[:, pixels]
    np.testing.assert_allclose(
        out[0], [-1.0, -0.9999, -0.9949, 0.9999, -0.9999, 0.9994, 0.0, -0.9999], atol=5e-5
    )
    # Exact by construction: the pixels are multiples of 1/16, so the pair's mean and both
    # differences from it are exact in float64, and the two rows are exact negatives.
    np.testing.assert_array_equal(out[1], -out[0])


def test_batch_size_table(digits):
    e = runs_batch_size.batch_size_effect(
        digits.x_train, batch_sizes=(2, 4, 16, 64, 256), n_batches=500, seed=SEED
    )
    np.testing.assert_allclose(e.mean_spread, [0.687, 0.501, 0.246, 0.123, 0.056], **PRINTED)
    np.testing.assert_allclose(
        e.predicted_mean_spread, [0.707, 0.499, 0.249, 0.122, 0.056], **PRINTED
    )
    np.testing.assert_allclose(e.train_eval_gap, [0.564, 0.402, 0.201, 0.103, 0.048], **PRINTED)
    # the text: "as the formula says", within the sampling noise of 500 batches
    np.testing.assert_allclose(e.mean_spread, e.predicted_mean_spread, rtol=0.05)
    ratios = e.mean_spread[1:] / e.mean_spread[:-1]
    assert np.all(ratios[1:] < 0.55) and np.all(ratios[1:] > 0.45)  # halves per 4x
    assert 0.35 < e.train_eval_gap[1] < e.train_eval_gap[0] < 0.6  # "about half a std"


def test_batch_size_effect_agrees_with_other_seeds(digits):
    for seed in (1, 2):
        e = runs_batch_size.batch_size_effect(
            digits.x_train, (2, 16, 256), n_batches=500, seed=seed
        )
        np.testing.assert_allclose(e.mean_spread, e.predicted_mean_spread, rtol=0.05)


def test_active_share_checks_its_input():
    np.testing.assert_array_equal(
        runs.active_share([np.array([[0.0, 1.0], [2.0, 0.0]])]), [[0.5, 0.5]]
    )
    with pytest.raises(ValueError, match="same width"):
        runs.active_share([np.ones((3, 2)), np.ones((3, 4))])


# ---------------------------------------------------------------- explorer cell
def test_explorer_cell_keeps_the_std_flat_with_batchnorm():
    ex = batchnorm_explorer(std=0.01, batchnorm=False, batch_size=64, seed=SEED)
    ex.controls["batchnorm"].value = True
    rows = {}
    for std in (0.001, 0.1, 1.0):
        ex.controls["std"].value = std
        rows[std] = ex.view.stats.std
    assert ex.message == ""
    np.testing.assert_allclose(rows[0.001], [0.625, 0.617, 0.616, 0.616, 0.616, 0.617], **PRINTED)
    np.testing.assert_allclose(rows[0.1], [0.631, 0.632, 0.631, 0.631, 0.631, 0.632], **PRINTED)
    np.testing.assert_allclose(rows[1.0], rows[0.1], **PRINTED)


def test_torch_refuses_a_batch_of_one_in_training_mode_as_the_text_says():
    import torch

    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        torch.nn.BatchNorm1d(3).train()(torch.ones(1, 3))
    torch.nn.BatchNorm1d(3).eval()(torch.ones(1, 3))  # eval mode: running statistics, fine


def test_tiny_weights_grow_out_of_the_eps_regime_in_the_first_epoch(digits):
    import torch

    from course_utils.training import train

    model = runs_training.bad_init_mlp(0.001, True, seed=SEED)
    hidden = [m for m in model if isinstance(m, torch.nn.Linear)][:-1]
    train(model, digits, "momentum", lr=0.04, epochs=1, batch_size=128, seed=SEED, progress=False)
    with torch.no_grad():
        stds = [float(m.weight.std()) for m in hidden]
    assert all(0.17 <= s <= 0.25 for s in stds), stds


# ---------------------------------------------------------------- small runs, direct
def test_batch_of_two_is_plus_minus_one():
    x = 5.0 * np.random.default_rng(0).standard_normal((2, 50))
    out = runs_batch_size.pair_normalised(x)
    gap = np.abs(x[0] - x[1])  # exactly ±|d| / sqrt(d² + 4 eps): ±1 up to eps
    np.testing.assert_allclose(
        np.abs(out), np.broadcast_to(gap / np.sqrt(gap**2 + 4e-5), (2, 50)), rtol=1e-10
    )
    assert np.all(np.abs(out) < 1) and np.all(np.abs(out) > 0.99)
    np.testing.assert_allclose(
        np.abs(runs_batch_size.pair_normalised(x, eps=1e-12)), 1.0, atol=1e-8
    )
    np.testing.assert_array_equal(np.sign(out[0]), -np.sign(out[1]))


def test_critical_std_and_eps_effect():
    c = runs.relu_variance_share()
    assert math.isclose(c, 0.5 - 1 / (2 * math.pi))
    crit = runs.critical_std(64)
    assert math.isclose(crit, math.sqrt(1e-5 / (64 * c)))
    assert 6.5e-4 < crit < 7.0e-4
    healthy = runs.eps_effect(0.1)
    np.testing.assert_allclose(healthy.bn_std, 1.0, atol=1e-3)
    tiny = runs.eps_effect(0.001)
    assert np.all(tiny.var_z < 1e-4) and np.all(tiny.bn_std < 0.9)
    np.testing.assert_allclose(tiny.bn_std, tiny.predicted, rtol=1e-6)
    below = runs.eps_effect(1e-4)  # below the critical std: BN's output fades layer by layer
    assert np.all(np.diff(below.bn_std) < 0) and below.bn_std[-1] < 0.05


def test_batch_size_effect_shrinks_like_one_over_sqrt_n():
    x = np.random.default_rng(0).standard_normal((2000, 8))
    eff = runs_batch_size.batch_size_effect(x, (4, 16, 64), n_batches=300)
    ratio = eff.mean_spread[:-1] / eff.mean_spread[1:]
    np.testing.assert_allclose(ratio, 2.0, rtol=0.15)
    assert np.all(np.diff(eff.train_eval_gap) < 0)
    assert "batch size" in eff.table()


def test_recalibrated_needs_batchnorm():
    model = runs_training.bad_init_mlp(0.1, False)
    with pytest.raises(ValueError, match="no Batch Norm layer"):
        runs_training.recalibrated(model, np.zeros((4, 64)))


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: runs_training.init_comparison(stds=()), "stds must have between 1 and 8 items"),
        (lambda: runs.critical_std(0), "width must be >= 1"),
    ],
)
def test_bad_arguments_are_value_errors(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# ---------------------------------------------------------------- the explorer's network
def test_explorer_run_shapes_and_normalisation():
    acts = runs.explorer_run(0.001, True, 64).activations
    assert len(acts) == runs.EXPLORER_DEPTH and acts[0].shape == (64, runs.EXPLORER_WIDTH)
    plain = runs.explorer_run(0.001, False, 64).activations
    assert np.std(plain[-1]) < 1e-6 < np.std(acts[-1])
    pair = runs.explorer_run(1.0, True, 2, activation="relu").activations
    for a in pair:  # relu(±1): half the units at 0, the others at 1 (up to eps)
        assert np.mean(a == 0) == 0.5
        assert np.mean(np.abs(a[a > 0] - 1) < 1e-3) > 0.95


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: runs.explorer_run(0.0, True, 8), "std must be > 0"),
        (lambda: runs.explorer_run(0.1, True, 1), "batch_size must be between 2 and 256"),
    ],
)
def test_explorer_run_refuses_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()
