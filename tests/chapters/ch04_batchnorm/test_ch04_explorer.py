"""The Batch Norm explorer, driven in a plain Python process as a student's browser would."""

import ipywidgets
import numpy as np
import pytest
from explorer_testing import count_full_draws

from course_utils.chapters.ch04_batchnorm import runs
from course_utils.chapters.ch04_batchnorm.explorer import batchnorm_explorer


@pytest.fixture
def explorer():
    return batchnorm_explorer()


def assert_result_matches(ex):
    v = ex.values
    expected = runs.explorer_run(
        v["std"], v["batchnorm"], v["batch_size"], ex.activation, eps=ex.eps, seed=ex.seed
    )
    assert len(ex.result.activations) == runs.EXPLORER_DEPTH
    for ours, theirs in zip(ex.result.activations, expected.activations):
        np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(ex.result.var_z, expected.var_z)
    stds = [np.std(a.astype(np.float64)) for a in expected.activations]
    np.testing.assert_allclose(ex.view.stats.std, stds, rtol=1e-9)  # what is drawn


def test_contract(explorer):
    assert set(explorer.controls) == {"std", "batchnorm", "batch_size"}
    assert isinstance(explorer.controls["std"], ipywidgets.FloatLogSlider)
    assert isinstance(explorer.controls["batchnorm"], ipywidgets.Checkbox)
    assert isinstance(explorer.controls["batch_size"], ipywidgets.IntSlider)
    assert explorer.figure is explorer.canvas.figure
    assert explorer.values == dict(std=0.01, batchnorm=False, batch_size=64)
    assert explorer.message == ""
    assert_result_matches(explorer)


@pytest.mark.parametrize(
    "name, value",
    [
        ("std", 0.001),
        ("std", 1.0),
        ("std", 10.0),
        ("batchnorm", True),
        ("batch_size", 2),
        ("batch_size", 256),
        ("batch_size", 17),
    ],
)
def test_every_control_recomputes_before_returning(explorer, name, value):
    before = explorer.result
    explorer.controls[name].value = value
    assert explorer.controls[name].value == value
    assert explorer.result is not before
    assert_result_matches(explorer)


def test_batchnorm_keeps_every_layer_normalised_whatever_the_std(explorer):
    explorer.controls["batchnorm"].value = True
    for std in (0.001, 0.01, 0.1, 1.0, 10.0):
        explorer.controls["std"].value = std
        # tanh of a unit-variance z: std about 0.63 in every layer
        np.testing.assert_allclose(explorer.view.stats.std, 0.63, atol=0.03)
    explorer.controls["batchnorm"].value = False
    assert explorer.view.stats.std[-1] > 0.9  # std 10 without BN: saturated


def test_moves_update_in_place_without_a_full_redraw(explorer):
    axes, bars = list(explorer.figure.axes), list(explorer.view.bars)
    full = count_full_draws(explorer)
    for name, value in [
        ("std", 0.3),
        ("batchnorm", True),
        ("batch_size", 8),
        ("std", 0.002),
        ("batchnorm", False),
        ("batchnorm", True),
        ("std", 0.05),
    ]:
        explorer.controls[name].value = value
    assert full["n"] == 1  # the first switch to BN draws its title once; then bitmaps are kept
    assert explorer.view.title.get_text().endswith("with Batch Norm")
    assert explorer.figure.axes == axes and explorer.view.bars == bars
    assert all(b.get_animated() for b in bars)


def test_batch_of_two_is_noted_and_gives_two_values_per_unit(explorer):
    explorer.controls["batchnorm"].value = True
    explorer.controls["std"].value = 1.0
    explorer.controls["batch_size"].value = 2
    assert explorer.message == "a batch of 2: every normalised feature is -1 or +1"
    a = explorer.result.activations[0]
    close = np.abs(np.abs(a) - np.tanh(1.0)) < 1e-3  # ±1 up to eps: units whose two
    assert close.mean() > 0.99  # inputs nearly agree fall short


def test_tiny_std_with_batchnorm_warns_about_eps(explorer):
    explorer.controls["batchnorm"].value = True
    explorer.controls["std"].value = 1e-4
    assert explorer.message.startswith("var(z) in layer 1 is 2.4e-06, not much larger than eps")
    assert explorer.view.stats.std[-1] < 0.05  # the activations fade despite BN
    explorer.controls["std"].value = 0.1
    assert explorer.message == ""


def test_out_of_range_and_nan_show_messages(explorer):
    explorer.controls["batch_size"].value = 1
    assert explorer.message == "batch_size = 1 is out of range (allowed 2 to 256); using 2"
    assert_result_matches(explorer)
    explorer.controls["std"].value = float("nan")
    assert explorer.result is None
    assert explorer.message.endswith("std must be a finite number; got nan")


def test_summary_gives_the_std_per_layer(explorer):
    stds = explorer.view.stats.std
    assert explorer.summary.startswith(f"std of a per layer: {stds[0]:.3g}  {stds[1]:.3g}")
    assert "var(z) layer 1:" in explorer.summary


def test_relu_explorer():
    ex = batchnorm_explorer(activation="relu", batchnorm=True, std=0.5)
    assert ex.view.activation == "relu"
    assert_result_matches(ex)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(std=0), "std must be a number between 0.0001 and 10; got 0"),
        (dict(batchnorm=1), "batchnorm must be True or False; got 1"),
        (dict(batch_size=1), "batch_size must be an integer between 2 and 256; got 1"),
        (dict(activation="sigmoid"), "activation must be one of 'tanh', 'relu'"),
        (dict(eps=0), "eps must be > 0"),
        (dict(dpi=10**4), "at most 4000 a side"),
        (dict(size=3), "unexpected keyword"),
    ],
)
def test_bad_starting_values_are_value_errors(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        batchnorm_explorer(**kwargs)
