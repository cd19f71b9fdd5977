"""course_utils.sanity: the initial loss, the L2 penalty, the tiny subset and overfitting it."""

import math

import numpy as np
import pytest
import torch

from course_utils import sanity
from course_utils.regularization import torch_penalty
from course_utils.training import build_mlp, evaluate


@pytest.fixture(scope="module")
def data(digits_dataset):
    return digits_dataset


# ---------------------------------------------------------------- ln C
def test_expected_initial_loss_is_ln_c():
    assert sanity.expected_initial_loss(10) == math.log(10)  # exact: it is math.log(10)
    assert round(sanity.expected_initial_loss(10), 3) == 2.303
    assert sanity.expected_initial_loss(2) == pytest.approx(0.6931, abs=1e-4)


@pytest.mark.parametrize("bad", [1, 0, 2.5, True, "10", 10**6])
def test_expected_initial_loss_rejects_bad_class_counts(bad):
    with pytest.raises(ValueError, match="num_classes must be (an integer|between 2 and 100000)"):
        sanity.expected_initial_loss(bad)


def test_small_score_loss_matches_monte_carlo():
    # independent N(0, sigma^2) scores: torch's cross-entropy as the oracle
    g = torch.Generator().manual_seed(0)
    for sigma in (0.1, 0.3):
        scores = sigma * torch.randn(200_000, 10, generator=g, dtype=torch.float64)
        labels = torch.randint(0, 10, (200_000,), generator=g)
        measured = torch.nn.functional.cross_entropy(scores, labels).item()
        assert sanity.small_score_loss(10, sigma) == pytest.approx(measured, abs=2e-3)
    assert sanity.small_score_loss(10, 0.0) == math.log(10)  # exact: ln C + 0
    with pytest.raises(ValueError, match="score_std must be (a finite number|>= 0)"):
        sanity.small_score_loss(10, -0.1)


# ---------------------------------------------------------------- the fresh classifier
def test_fresh_classifier_output_layer():
    model = sanity.fresh_classifier(64, 10, output_std=0.01, seed=3)
    last = model[-1]
    assert last.weight.shape == (10, 64)
    assert float(last.weight.detach().std()) == pytest.approx(0.01, rel=0.1)
    assert torch.count_nonzero(last.bias) == 0
    again = sanity.fresh_classifier(64, 10, output_std=0.01, seed=3)
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), again.parameters()))
    # hidden layers are build_mlp's
    reference = build_mlp(64, 10, seed=3)
    assert torch.equal(model[0].weight, reference[0].weight)
    kept = sanity.fresh_classifier(64, 10, output_std=None, seed=3)
    assert torch.equal(kept[-1].weight, reference[-1].weight)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), "0.1", 1e4])
def test_fresh_classifier_rejects_bad_output_std(bad):
    with pytest.raises(ValueError, match="output_std must be"):
        sanity.fresh_classifier(64, 10, output_std=bad)


# ---------------------------------------------------------------- claim: ln(10) at init
def test_claim_initial_loss_within_0_05_of_ln_10(data):
    result = sanity.initial_loss(sanity.fresh_classifier(64, 10), data.x_train, data.y_train)
    assert result.expected == math.log(10)  # exact: the same math.log call
    assert abs(result.data_loss - math.log(10)) < 0.05
    assert result.data_loss == pytest.approx(
        evaluate(sanity.fresh_classifier(64, 10), data.x_train, data.y_train)[0]
    )
    # exact by construction: no penalty is 0.0, and x + 0.0 == x
    assert result.penalty == 0.0 and result.total == result.data_loss
    assert 0.05 < result.accuracy < 0.15  # chance is 1/10
    # a softmax classifier (no hidden layer) too
    linear = sanity.initial_loss(
        sanity.fresh_classifier(64, 10, depth=0), data.x_train, data.y_train
    )
    assert abs(linear.data_loss - math.log(10)) < 0.05


def test_claim_l2_raises_the_initial_loss(data):
    model = sanity.fresh_classifier(64, 10)
    plain = sanity.initial_loss(model, data.x_train, data.y_train)
    totals = [
        sanity.initial_loss(
            model, data.x_train, data.y_train, penalty=torch_penalty("l2", lam)
        ).total
        for lam in (1e-3, 1e-2, 1e-1)
    ]
    assert plain.total < totals[0] < totals[1] < totals[2]
    # Kaiming hidden layers: E||W_l||^2 = 2 fan_out, so the penalty is about 128 lambda
    penalty = totals[1] - plain.data_loss
    assert penalty == pytest.approx(1.28, rel=0.05)


def test_initial_loss_rejects_bad_input(data):
    model = sanity.fresh_classifier(64, 10)
    with pytest.raises(ValueError, match="x must (be|have)"):
        sanity.initial_loss(model, data.x_train[0], data.y_train[:1])
    with pytest.raises(ValueError, match="penalty must be"):
        sanity.initial_loss(model, data.x_train, data.y_train, penalty=0.1)


# ---------------------------------------------------------------- tiny subset
def test_tiny_subset_is_balanced_and_seeded(data):
    subset = sanity.tiny_subset(data, 20, seed=0)
    assert subset.x_train.shape == (20, 64)
    assert np.bincount(subset.y_train, minlength=10).tolist() == [2] * 10
    np.testing.assert_array_equal(subset.x_train, data.x_train[subset.indices])
    np.testing.assert_array_equal(subset.y_train, data.y_train[subset.indices])
    assert subset.x_val is data.x_val or np.array_equal(subset.x_val, data.x_val)
    again = sanity.tiny_subset(data, 20, seed=0)
    np.testing.assert_array_equal(subset.indices, again.indices)
    assert not np.array_equal(subset.indices, sanity.tiny_subset(data, 20, seed=1).indices)
    assert np.bincount(sanity.tiny_subset(data, 13).y_train, minlength=10).max() == 2


@pytest.mark.parametrize("n", [0, 10**6, 2.0])
def test_tiny_subset_rejects_bad_sizes(data, n):
    with pytest.raises(ValueError, match="n must be (an integer|between 1)"):
        sanity.tiny_subset(data, n)


def test_tiny_subset_needs_a_data_set():
    with pytest.raises(ValueError, match="data must have"):
        sanity.tiny_subset(object())


# ---------------------------------------------------------------- claim: overfit 20 examples
def test_claim_overfits_20_examples_in_a_few_hundred_steps(data):
    result = sanity.overfit_tiny_subset(data, n=20, steps=200)
    assert result.n == 20 and result.history.status == "completed"
    assert result.perfect and result.steps_to_perfect <= 100
    assert result.train_acc == 1.0 and result.train_loss < 0.05  # accuracy 1.0: all right, exact
    assert result.val_acc < 0.9  # memorised, not learned
    assert result.history.eval_step[-1] == 200


def test_a_tiny_learning_rate_does_not_overfit(data):
    result = sanity.overfit_tiny_subset(data, n=20, steps=200, lr=1e-3)
    assert not result.perfect and result.steps_to_perfect is None
    assert result.train_loss > 2.0


def test_overfit_rejects_bad_steps(data):
    with pytest.raises(ValueError, match="steps must be between 1 and 10000"):
        sanity.overfit_tiny_subset(data, steps=0)
