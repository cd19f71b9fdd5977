"""Chapter 08, section 1: the lecture's two-layer net (CS231n's slide) and torch_state.

The slide: ``init_two_layer_model(32*32*3, 50, 10)`` (weights 1e-4 * randn) gives loss
2.30261216167 without regularisation and 3.06859716482 with reg 1e3.
"""

import math

import numpy as np
import pytest
import torch

from course_utils.chapters.ch08_sanity_checks import lecture_net
from course_utils.torch_state import global_torch_state

SEED = 0


@pytest.fixture(scope="module")
def slide():
    x, y = lecture_net.cifar_shaped_inputs(500, seed=SEED)
    return lecture_net.lecture_loss_check(x, y, hidden_size=50, std=1e-4, reg=1e3, seeds=range(5))


def test_cifar_shaped_inputs():
    x, y = lecture_net.cifar_shaped_inputs(500, seed=SEED)
    assert x.shape == (500, 3072) and y.shape == (500,) and y.dtype == np.int64
    np.testing.assert_allclose(x.mean(axis=0), 0, atol=1e-9)  # the mean image subtracted
    assert 70 < x.std() < 78  # uniform 0..255: std 73.9
    assert set(np.unique(y)) == set(range(10))


def test_slide_printed_numbers(slide):
    assert f"{slide.data_loss.mean():.4f}" == "2.3026"
    assert f"{slide.data_loss.min():.4f}" == f"{slide.data_loss.max():.4f}" == "2.3026"
    assert f"{slide.total.mean():.3f}" == "3.073"
    assert (f"{slide.total.min():.3f}", f"{slide.total.max():.3f}") == ("3.070", "3.075")
    assert slide.predicted_penalty == pytest.approx(0.7705, abs=1e-12)
    assert f"{math.log(10) + slide.predicted_penalty:.3f}" == "3.073"


def test_slide_claims(slide):
    # the data loss is ln 10 to about 1e-4: the weights are tiny
    assert np.all(np.abs(slide.data_loss - math.log(10)) < 1e-4)
    # the lecture's 2.30261216167 is the same number to 4 decimals
    assert abs(slide.data_loss.mean() - 2.30261216167) < 1e-4
    # the penalty: expectation 0.7705, draw-to-draw spread sqrt(2 / 154100) = 0.36 %
    rel_spread = math.sqrt(2 / (3072 * 50 + 50 * 10))
    assert rel_spread == pytest.approx(0.0036, abs=5e-5)
    assert np.all(np.abs(slide.penalty / slide.predicted_penalty - 1) < 4 * rel_spread)
    # the slide's 3.0686 is about 1.6 spreads below the expectation
    z = (3.06859716482 - (math.log(10) + slide.predicted_penalty)) / (
        slide.predicted_penalty * rel_spread
    )
    assert -1.8 < z < -1.4
    # the digits' 64 inputs: the same net's penalty is 0.019
    assert 0.5e3 * 1e-8 * (64 * 50 + 50 * 10) == pytest.approx(0.0185)


def test_input_hardly_matters():
    # any input of CIFAR-10's shape, even 10x larger, gives ln 10 to 1e-3
    rng = np.random.default_rng(1)
    y = rng.integers(0, 10, 200)
    for x in (np.zeros((200, 3072)), 740 * rng.standard_normal((200, 3072))):
        check = lecture_net.lecture_loss_check(x, y, seeds=[0, 1])
        assert np.all(np.abs(check.data_loss - math.log(10)) < 1e-3)
        assert np.all(np.abs(check.total - 3.073) < 0.01)


def test_two_layer_loss_matches_torch():
    rng = np.random.default_rng(0)
    model = lecture_net.init_two_layer_model(7, 5, 3, std=0.5, seed=rng)
    model["b1"] = rng.standard_normal(5)
    model["b2"] = rng.standard_normal(3)
    x, y = rng.standard_normal((6, 7)), rng.integers(0, 3, 6)
    data_loss, penalty = lecture_net.two_layer_loss(x, model, y, reg=0.3)
    t = {k: torch.as_tensor(v) for k, v in model.items()}
    scores = torch.relu(torch.as_tensor(x) @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
    expected = torch.nn.functional.cross_entropy(scores, torch.as_tensor(y))
    assert data_loss == pytest.approx(float(expected), rel=1e-12)
    assert penalty == pytest.approx(0.15 * float((t["W1"] ** 2).sum() + (t["W2"] ** 2).sum()))


def test_init_two_layer_model_shapes_and_scale():
    model = lecture_net.init_two_layer_model(3072, 50, 10, seed=SEED)
    assert {k: v.shape for k, v in model.items()} == {
        "W1": (3072, 50),
        "b1": (50,),
        "W2": (50, 10),
        "b2": (10,),
    }
    assert model["W1"].std() == pytest.approx(1e-4, rel=0.01)
    assert not model["b1"].any() and not model["b2"].any()


def test_lecture_net_rejects_bad_input():
    with pytest.raises(ValueError, match="hidden_size must be between 1 and 100000"):
        lecture_net.init_two_layer_model(10, 10**9, 10)
    with pytest.raises(ValueError, match="std must be > 0"):
        lecture_net.init_two_layer_model(10, 5, 3, std=0.0)
    model = lecture_net.init_two_layer_model(4, 5, 3)
    with pytest.raises(ValueError, match=r"model\['W1'\] must have shape \(6, any\)"):
        lecture_net.two_layer_loss(np.zeros((2, 6)), model, [0, 1])
    with pytest.raises(ValueError, match="y must hold labels 0..2"):
        lecture_net.two_layer_loss(np.zeros((2, 4)), model, [0, 3])
    with pytest.raises(ValueError, match="model must have the keys W1, b1, W2, b2"):
        lecture_net.two_layer_loss(np.zeros((2, 4)), {"W1": model["W1"]}, [0, 1])
    with pytest.raises(ValueError, match="n must be between 1 and 5000"):
        lecture_net.cifar_shaped_inputs(10**9)


def test_the_notebooks_torch_calls_leave_global_state_alone(digits_dataset):
    """What notebook 08 runs (beyond torch_state blocks) leaves torch's global state as it was,
    so no later cell inherits a seed, a thread count or a dtype (issue 19)."""
    from course_utils import gradcheck, sanity
    from course_utils.chapters.ch08_sanity_checks import recipe, runs

    data = digits_dataset
    before = global_torch_state()
    model = sanity.fresh_classifier(64, 10, seed=0)
    sanity.initial_loss(model, data.x_train[:50], data.y_train[:50])
    sanity.overfit_tiny_subset(data, n=10, steps=5, seed=0)
    runs.memorisation_true_and_shuffled(data, seeds=(0,), steps=5)
    runs.initial_loss_over_seeds(data.x_train[:50], data.y_train[:50], 10, seeds=[0, 1])
    recipe.recipe_baselines(data, seeds=[0], epochs=1, batch_size=512, depth=1, width=4)
    recipe.batch_dependency(model, np.ones((4, 64)))
    gradcheck.check_module(model, data.x_train[:2], max_entries=4)
    assert global_torch_state() == before
