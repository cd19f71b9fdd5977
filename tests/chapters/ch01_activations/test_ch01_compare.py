"""Chapter 01's side-by-side training and the lr = 10 run with Leaky ReLU and ELU."""

import numpy as np
import pytest

from course_utils.chapters.ch01_activations import runs_compare, runs_dead_relu


@pytest.fixture(scope="module")
def comparison():
    return runs_compare.compare_activations(
        names=("sigmoid", "tanh", "relu", "elu", "gelu"),
        seeds=range(5),
        epochs=3,
        lr=0.3,
        batch=64,
        hidden=32,
        layers=3,
        report=(1,),
    )


def test_sigmoid_stays_at_chance_while_the_others_learn(comparison):
    assert np.all(comparison["sigmoid"].val_accuracy[3] < 0.2)  # printed 10% (7% to 10%)
    for name in ("tanh", "relu", "elu", "gelu"):
        assert np.median(comparison[name].val_accuracy[3]) > 0.7  # printed medians 80% to 93%
    assert np.median(comparison["elu"].val_accuracy[3]) > 0.88  # printed 93%
    assert np.median(comparison["elu"].val_accuracy[1]) > np.median(
        comparison["relu"].val_accuracy[1]
    )
    table = runs_compare.comparison_table(comparison)
    assert "val accuracy, epoch 1" in table and "val accuracy, epoch 3" in table


def test_each_seed_is_its_own_network():
    one = runs_compare.compare_activations(names=("tanh",), seeds=[0], epochs=1, hidden=8)
    two = runs_compare.compare_activations(names=("tanh",), seeds=[1, 0], epochs=1, hidden=8)
    assert one["tanh"].val_accuracy[1][0] == pytest.approx(
        two["tanh"].val_accuracy[1][1], abs=1e-12
    )


@pytest.fixture(scope="module")
def fixes(by_lr):
    # ReLU's five runs at lr 10 are conftest.py's (the same calls, trained once a session)
    return {
        name: by_lr[10.0]
        if name == "relu"
        else runs_dead_relu.train_over_seeds(lrs=(10.0,), seeds=range(5), activation=name)[10.0]
        for name in runs_dead_relu.FIX_ACTIVATIONS
    }


def test_leaky_relu_and_elu_do_not_rescue_learning_rate_10(fixes):
    for r in fixes["relu"]:
        assert r.dead > 0.9 and r.no_gradient == r.dead
    for r in fixes["leaky_relu"]:
        assert r.no_gradient == 0  # its slope never drops below 0.01
        assert not np.isfinite(r.train_loss) or r.train_loss > runs_dead_relu.DIVERGED
        assert r.val_accuracy < 0.25
    for r in fixes["elu"]:
        assert r.no_gradient > 0.95  # saturated in the negative tail
        assert not np.isfinite(r.train_loss) or r.train_loss > runs_dead_relu.DIVERGED
        assert r.val_accuracy < 0.25
    table = runs_dead_relu.fixes_table(fixes)
    assert "> 10 in 5 of 5" in table


def test_the_activation_is_checked():
    with pytest.raises(ValueError, match="activation must be one of"):
        runs_dead_relu.train_relu_classifier(1.0, hidden=4, steps=1, activation="gelu")
