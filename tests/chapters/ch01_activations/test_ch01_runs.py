"""Chapter 01's printed claims, asserted on the package functions the notebook calls
(:mod:`course_utils.chapters.ch01_activations.runs` and ``runs_dead_relu``; the exercise is
tested in test_ch01_checks.py, the figure in test_ch01_figures.py)."""

import dataclasses

import numpy as np
import pytest

from course_utils import activations, stats
from course_utils.chapters.ch01_activations import runs, runs_dead_relu

SEED = 0


# ---------------------------------------------------------------------------- claims
def test_sigmoid_gradient_is_at_most_a_quarter_and_vanishes_beyond_5():
    _, dsig = activations.get("sigmoid")
    dense = np.linspace(-50, 50, 100_001)
    assert dsig(dense).max() == pytest.approx(0.25, abs=1e-12)
    assert dense[dsig(dense).argmax()] == 0
    assert dsig(dense[np.abs(dense) > 5]).max() < 0.01
    assert dsig(np.array([5.0]))[0] == pytest.approx(0.0066, abs=5e-5)
    _, dtanh = activations.get("tanh")
    assert dtanh(np.array([3.0]))[0] == pytest.approx(0.0099, abs=5e-5)


def sign_inputs():
    rng = np.random.default_rng(SEED)
    z_prev, delta = rng.normal(size=(32, 100)), rng.normal(size=(32, 50))
    return activations.sigmoid(z_prev), activations.tanh(z_prev), delta


def test_positive_inputs_give_one_sign_per_neuron_zero_centred_inputs_mix():
    sig, tanh, delta = sign_inputs()
    positive = runs.weight_gradient_signs(sig, delta)
    centred = runs.weight_gradient_signs(tanh, delta)
    assert (positive.same_sign, positive.mixed) == (1600, 0)
    assert (centred.same_sign, centred.mixed) == (0, 1600)
    pos, neg = runs.sign_counts_per_neuron(sig[0], delta[0, :5])
    assert sorted(zip(pos.tolist(), neg.tolist())) == [(0, 100)] + [(100, 0)] * 4
    pos, neg = runs.sign_counts_per_neuron(tanh[0], delta[0, :5])
    assert set(pos.tolist()) == {53, 47} and (pos + neg == 100).all()


def test_a_mini_batch_mixes_signs_again_for_most_neurons():
    sig, tanh, delta = sign_inputs()
    assert runs.batch_gradient_mixed(sig, delta) == 35
    assert runs.batch_gradient_mixed(tanh, delta) == 50
    assert runs.batch_gradient_mixed(sig[:1], delta[:1]) == 0  # a batch of one: the rule


def test_sign_counts_agree_with_the_formed_gradient():
    rng = np.random.default_rng(3)
    x, delta = rng.normal(size=(4, 6)), rng.normal(size=(4, 3))
    counts = runs.weight_gradient_signs(x, delta)
    mixed = sum(
        len(set(np.sign(np.outer(x[n], delta[n])[:, j]))) > 1 for n in range(4) for j in range(3)
    )
    assert counts.mixed == mixed


def test_response_table_numbers():
    r1 = {n: runs.unit_response(n, 1.0, 0.0, seed=SEED) for n in activations.NAMES}
    r5 = {n: runs.unit_response(n, 5.0, 0.0, seed=SEED) for n in activations.NAMES}
    assert abs(r1["tanh"].mean) < 0.01
    assert r1["sigmoid"].mean == pytest.approx(0.5, abs=0.005)
    assert r1["relu"].mean == pytest.approx(0.40, abs=0.005)  # 1/sqrt(2 pi) = 0.399
    assert r1["elu"].mean == pytest.approx(0.16, abs=0.01)
    assert r5["sigmoid"].saturated == pytest.approx(0.357, abs=0.005)
    assert r5["tanh"].saturated == pytest.approx(0.555, abs=0.005)
    assert r5["relu"].dead == pytest.approx(0.50, abs=0.01) and r5["relu"].saturated == 0
    assert r5["leaky_relu"].saturated == r5["leaky_relu"].dead == 0


def test_dead_relus_after_a_too_large_learning_rate():
    _, (slow, sane, large) = runs_dead_relu.dead_relu_table(
        lrs=(0.3, 1.0, 10.0), hidden=128, steps=50, seed=SEED
    )
    for run in (slow, sane, large):
        assert run.dead_at_init == 7 / 128  # a count of units over 128: exact by construction
    assert slow.dead == sane.dead == sane.dead_at_init  # counts over 128, as above
    assert sane.val_accuracy > 0.93
    assert large.dead_after_first_step == pytest.approx(0.172, abs=0.001)
    assert large.dead > 0.95 and large.val_accuracy < 0.15
    assert large.train_loss == pytest.approx(np.log(10), abs=0.05)


# ---------------------------------------------------------------- the same claims over seeds
def test_dead_at_init_over_200_seeds():
    # "5.5% at seed 0; 3.1% on average over 200 seeds (SD 1.7%, from 0% to 10.2%)"
    dead = runs_dead_relu.dead_at_init_over_seeds(seeds=range(200))
    assert dead.n == 200 and dead.values[0] == 7 / 128  # seed 0 is the table's run
    # every value is a count over 128 units (exact); the summaries are plain float arithmetic
    assert dead.mean == pytest.approx(0.0311, abs=5e-4) and dead.sd == pytest.approx(
        0.0169, abs=5e-4
    )
    assert (dead.min, dead.max, dead.median) == (0.0, 13 / 128, 4 / 128)  # order statistics
    assert dead.describe(percent=True) == (
        "mean 3.1% (SD 1.7%), median 3.1%, range 0.0% to 10.2% over 200 seeds"
    )


# by_lr: tests/chapters/ch01_activations/conftest.py (shared with test_ch01_compare.py)


def test_runs_over_seeds_start_with_the_seed_0_table(by_lr):
    table, seed0 = runs_dead_relu.dead_relu_table(
        lrs=(0.3, 1.0, 10.0), hidden=128, steps=50, seed=SEED
    )
    assert [r[0] for r in by_lr.values()] == seed0[1:]  # the same computation, repeated
    assert runs_dead_relu.runs_table(seed0) == table


def test_dead_relu_claims_hold_in_every_seed(by_lr):
    sane, large = by_lr[1.0], by_lr[10.0]
    # "at 1, at most one of 128 in any of the five seeds" (shares are counts over 128)
    assert all(r.dead - r.dead_at_init <= 1 / 128 + 1e-12 for r in sane)
    # "94.0% to 96.7% over the five seeds" at lr 1 (counts over 450 validation images)
    accuracy = [r.val_accuracy for r in sane]
    assert (round(min(accuracy), 3), round(max(accuracy), 3)) == (0.940, 0.967)
    # lr 10: "kills 17% at seed 0 (7% to 26% over the five seeds)"; "95% to 98% dead in every seed"
    first = [r.dead_after_first_step for r in large]
    assert (round(min(first), 2), round(max(first), 2)) == (0.07, 0.26)
    assert all(0.95 <= r.dead <= 0.98 for r in large)
    assert all(r.val_accuracy <= 0.21 for r in large)  # "at or near chance ... at most 20%"
    assert all(r.train_loss == pytest.approx(np.log(10), abs=0.1) for r in large)
    table = runs_dead_relu.over_seeds_table(by_lr)
    assert "96.9% (95.3% to 97.7%)" in table and "0.0% (0.0% to 0.8%)" in table


def _bits(result):
    return [v.hex() if isinstance(v, float) else v for v in dataclasses.astuple(result)]


def test_dead_columns_left_out_change_no_bit(by_lr, monkeypatch):
    """_relu_steps leaves the columns of dead units out of its products: the runs are the same,
    bit for bit, as with every column trained (a width not in whole blocks trains them all)."""
    seen = []
    real = runs_dead_relu._still_trained

    def spy(trained, *args):
        kept = real(trained, *args)
        seen.append(len(kept))
        return kept

    monkeypatch.setattr(runs_dead_relu, "_still_trained", spy)
    assert _bits(runs_dead_relu.train_relu_classifier(10.0, seed=0)) == _bits(by_lr[10.0][0])
    assert min(seen) == 16  # 4 of 128 units alive at the end: two blocks of 8 columns
    monkeypatch.setattr(runs_dead_relu, "COLUMN_BLOCK", 3)  # 128 % 3: every column trained
    every = runs_dead_relu.train_over_seeds(lrs=(10.0,), seeds=range(5))[10.0]
    assert [_bits(r) for r in every] == [_bits(r) for r in by_lr[10.0]]
    # an overflow (nan) on the way: every column is trained again from there on
    for lr, hidden in ((300.0, 32), (1000.0, 64)):
        monkeypatch.setattr(runs_dead_relu, "COLUMN_BLOCK", 8)
        left_out = runs_dead_relu.train_relu_classifier(lr, hidden=hidden, steps=20, seed=1)
        monkeypatch.setattr(runs_dead_relu, "COLUMN_BLOCK", 3 if hidden % 3 else 5)
        everything = runs_dead_relu.train_relu_classifier(lr, hidden=hidden, steps=20, seed=1)
        assert _bits(left_out) == _bits(everything)


def test_sign_mixing_over_200_seeds():
    # "35 of the 50 at seed 0 and 34.4 on average over 200 draws (SD 3.3, from 27 to 42)"
    mixed = runs.batch_gradient_mixed_over_seeds(seeds=range(200))
    sig = mixed["sigmoid"]
    assert sig.values[0] == 35 and (sig.min, sig.max) == (27, 42)  # integer counts: exact
    assert sig.mean == pytest.approx(34.39, abs=0.01) and sig.sd == pytest.approx(3.28, abs=0.01)
    assert np.all(mixed["tanh"].values == 50)  # every neuron mixes with zero-centred inputs


def test_spread_summary_and_its_checks():
    s = stats.spread([1.0, 2.0, 4.0])
    assert (s.n, s.median, s.min, s.max) == (3, 2.0, 1.0, 4.0)
    assert s.mean == pytest.approx(7 / 3) and s.sd == pytest.approx(np.std([1, 2, 4], ddof=1))
    assert s.describe(digits=2, sd=False) == "median 2.00, range 1.00 to 4.00 over 3 seeds"
    assert stats.spread([5.0]).sd == 0.0
    for bad in ([], [[1.0]], [float("nan")]):
        with pytest.raises(ValueError, match="values must be a non-empty 1-D sequence"):
            stats.spread(bad)
    with pytest.raises(ValueError, match=r"seeds\[0\] must be between 0 and"):
        runs_dead_relu.dead_at_init_over_seeds(seeds=[-1])
    with pytest.raises(ValueError, match="at most 100 runs"):
        runs_dead_relu.train_over_seeds(lrs=(1.0,) * 30, seeds=range(5))


def test_dead_units_get_no_gradient():
    x = np.array([[1.0, 2.0], [0.5, 0.1]])
    W = np.array([[1.0, -1.0], [1.0, -2.0]])
    assert runs_dead_relu.dead_units(x, W).tolist() == [False, True]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(lr=0), "lr must be"),
        (dict(lr=float("nan")), "lr must be"),
        (dict(lr=1.0, hidden=10**6), "hidden must be between 1 and 4096"),
        (dict(lr=1.0, steps=0), "steps must be >= 1"),
        (dict(lr=1.0, steps=10**9), "training would take about"),
        (dict(lr=1.0, digits="digits"), "data must have x_train"),
        (dict(lr=1.0, seed=-1), "seed must be an integer between 0 and"),
    ],
)
def test_training_arguments_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        runs_dead_relu.train_relu_classifier(**kwargs)


def test_maxout_of_z_and_zero_is_relu():
    z = np.array([[-2.0], [-0.5], [0.5], [2.0]])
    got = activations.maxout(z, np.array([[[1.0]], [[0.0]]]), np.zeros((2, 1)))
    np.testing.assert_array_equal(got, activations.relu(z))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(scale=0.0), r"scale must be > 0 and <= 1e\+06; got 0.0"),
        (dict(scale=float("inf")), "scale must be"),
        (dict(bias=float("nan")), "bias must be a finite number; got nan"),
        (dict(n=10**7), "n must be between 1 and 1000000"),
        (dict(seed=-1), "seed must be an integer between 0 and"),
        (dict(activation="maxout"), "activation must be one of"),
    ],
)
def test_unit_response_checks_its_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        runs.unit_response(**kwargs)


def test_unit_response_counts_saturation_against_the_derivative():
    r = runs.unit_response("sigmoid", 3.0, 1.0, n=5000, seed=2)
    np.testing.assert_array_equal(r.a, activations.sigmoid(r.z))
    # the same count divided by the same n on both sides: exact by construction
    assert r.saturated == np.mean(np.abs(activations.sigmoid_grad(r.z)) < runs.SATURATION)
    relu = runs.unit_response("relu", 3.0, 1.0, n=5000, seed=2)
    assert relu.dead == np.mean(relu.z <= 0) and relu.saturated == 0


def test_saturation_counts_flat_tails_not_the_minimum_of_gelu_and_silu():
    sigmoid_low, sigmoid_high = runs.saturation_bounds("sigmoid")
    # sigma'(z) = 0.01 at |z| = ln 98 = 4.585: the tails begin there
    assert sigmoid_high == pytest.approx(np.log(98), abs=0.002) and sigmoid_low == -sigmoid_high
    assert runs.saturation_bounds("leaky_relu") == (-np.inf, np.inf)
    low, high = runs.saturation_bounds("gelu")
    assert low < -3 and high == np.inf  # left tail only; the minimum at -0.75 is inside
    for name, band in (("gelu", (0.002, 0.006)), ("silu", (0.004, 0.011))):
        r = runs.unit_response(name, 5.0, 0.0, seed=SEED)
        small = np.mean(np.abs(r.grad) < runs.SATURATION)
        assert r.saturated + r.near_minimum == pytest.approx(small, abs=1e-12)
        assert band[0] < r.near_minimum < band[1]  # printed 0.4% and 0.8%
        near = r.z[(np.abs(r.grad) < runs.SATURATION) & (r.z > low)]
        assert np.all(np.abs(near - (-0.75 if name == "gelu" else -1.28)) < 0.3)
    for name in ("tanh", "sigmoid", "elu", "softplus", "relu", "leaky_relu"):
        assert runs.unit_response(name, 5.0, 0.0, seed=SEED).near_minimum == 0
    with pytest.raises(ValueError, match="activation must be one of"):
        runs.saturation_bounds("softmax")


@pytest.mark.parametrize("activation", runs_dead_relu.FIX_ACTIVATIONS)
def test_training_step_is_the_shared_core_s_forward_and_backward(activation, monkeypatch):
    """The written-out loop computes what network.forward / network.backward compute."""
    from course_utils import network

    digits = runs_dead_relu.load_digits()
    x = np.hstack([digits.x_train, np.ones((len(digits.x_train), 1))])
    W1, W2 = runs_dead_relu._initial_weights(3, 65, 16, 10)
    record = network.forward(x, [W1], activation)
    h = record.output
    _, dscores = runs_dead_relu._softmax_loss(h @ W2, digits.y_train)
    grads = network.backward(record, [W1], dscores @ W2.T, activation)
    W1_next = W1 - 0.5 * grads.weight(1)
    W2_next = W2 - 0.5 * (h.T @ dscores)
    seen = {}
    real_dead_units = runs_dead_relu.dead_units

    def spy(x_all, W):
        seen.setdefault("after first", []).append(W.copy())
        return real_dead_units(x_all, W)

    monkeypatch.setattr(runs_dead_relu, "dead_units", spy)
    runs_dead_relu.train_relu_classifier(0.5, hidden=16, steps=1, seed=3, activation=activation)
    np.testing.assert_allclose(seen["after first"][1], W1_next, rtol=1e-13, atol=1e-15)
    assert W2_next.shape == (16, 10)
