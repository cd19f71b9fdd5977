"""Chapter 01's printed claims, asserted on the package functions the notebook calls (the
exercise is tested in tests/test_exercises_01.py)."""

import numpy as np
import pytest

from course_utils import activations, dead_relu

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
    positive = dead_relu.weight_gradient_signs(sig, delta)
    centred = dead_relu.weight_gradient_signs(tanh, delta)
    assert (positive.same_sign, positive.mixed) == (1600, 0)
    assert (centred.same_sign, centred.mixed) == (0, 1600)
    pos, neg = dead_relu.sign_counts_per_neuron(sig[0], delta[0, :5])
    assert sorted(zip(pos.tolist(), neg.tolist())) == [(0, 100)] + [(100, 0)] * 4
    pos, neg = dead_relu.sign_counts_per_neuron(tanh[0], delta[0, :5])
    assert set(pos.tolist()) == {53, 47} and (pos + neg == 100).all()


def test_a_mini_batch_mixes_signs_again_for_most_neurons():
    sig, tanh, delta = sign_inputs()
    assert dead_relu.batch_gradient_mixed(sig, delta) == 35
    assert dead_relu.batch_gradient_mixed(tanh, delta) == 50
    assert dead_relu.batch_gradient_mixed(sig[:1], delta[:1]) == 0  # a batch of one: the rule


def test_sign_counts_agree_with_the_formed_gradient():
    rng = np.random.default_rng(3)
    x, delta = rng.normal(size=(4, 6)), rng.normal(size=(4, 3))
    counts = dead_relu.weight_gradient_signs(x, delta)
    mixed = sum(len(set(np.sign(np.outer(x[n], delta[n])[:, j]))) > 1
                for n in range(4) for j in range(3))
    assert counts.mixed == mixed


def test_response_table_numbers():
    r1 = {n: activations.unit_response(n, 1.0, 0.0, seed=SEED) for n in activations.NAMES}
    r5 = {n: activations.unit_response(n, 5.0, 0.0, seed=SEED) for n in activations.NAMES}
    assert abs(r1["tanh"].mean) < 0.01
    assert r1["sigmoid"].mean == pytest.approx(0.5, abs=0.005)
    assert r1["relu"].mean == pytest.approx(0.40, abs=0.005)  # 1/sqrt(2 pi) = 0.399
    assert r1["elu"].mean == pytest.approx(0.16, abs=0.01)
    assert r5["sigmoid"].saturated == pytest.approx(0.357, abs=0.005)
    assert r5["tanh"].saturated == pytest.approx(0.555, abs=0.005)
    assert r5["relu"].dead == pytest.approx(0.50, abs=0.01) and r5["relu"].saturated == 0
    assert r5["leaky_relu"].saturated == r5["leaky_relu"].dead == 0


def test_dead_relus_after_a_too_large_learning_rate():
    _, (slow, sane, large) = dead_relu.dead_relu_table(lrs=(0.3, 1.0, 10.0), hidden=128, steps=50,
                                                       seed=SEED)
    for run in (slow, sane, large):
        assert run.dead_at_init == pytest.approx(0.055, abs=0.001)  # 7 of 128
    assert slow.dead == sane.dead == sane.dead_at_init
    assert sane.val_accuracy > 0.93
    assert large.dead_after_first_step == pytest.approx(0.172, abs=0.001)
    assert large.dead > 0.95 and large.val_accuracy < 0.15
    assert large.train_loss == pytest.approx(np.log(10), abs=0.05)


def test_dead_units_get_no_gradient():
    x = np.array([[1.0, 2.0], [0.5, 0.1]])
    W = np.array([[1.0, -1.0], [1.0, -2.0]])
    assert dead_relu.dead_units(x, W).tolist() == [False, True]


@pytest.mark.parametrize("kwargs, message", [
    (dict(lr=0), "lr must be"), (dict(lr=float("nan")), "lr must be"),
    (dict(lr=1.0, hidden=10**6), "hidden must be an integer between 1 and 4096"),
    (dict(lr=1.0, steps=0), "steps must be an integer"),
])
def test_training_arguments_are_checked(kwargs, message):
    with pytest.raises(ValueError, match=message):
        dead_relu.train_relu_classifier(**kwargs)


def test_maxout_of_z_and_zero_is_relu():
    z = np.array([[-2.0], [-0.5], [0.5], [2.0]])
    got = activations.maxout(z, np.array([[[1.0]], [[0.0]]]), np.zeros((2, 1)))
    np.testing.assert_array_equal(got, activations.relu(z))


def test_figure_draws_every_activation_and_derivative():
    from course_utils.plots import plot_activation_functions
    figure = plot_activation_functions()
    assert len(figure.axes) == 9
    for ax in figure.axes:
        assert [line.get_label() for line in ax.lines][-2:] == ["f(z)", "f'(z)"]
    curve = figure.axes[0].lines[-1]  # sigmoid'
    np.testing.assert_allclose(curve.get_ydata(), activations.sigmoid_grad(curve.get_xdata()))
    with pytest.raises(ValueError, match="names must be among"):
        plot_activation_functions(["softmax"])
