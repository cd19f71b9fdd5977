"""The dropout explorer, driven in a plain Python process as a student's browser would."""

import ipywidgets
import numpy as np
import pytest
from explorer_testing import count_full_draws

from course_utils.chapters.ch07_regularization import runs_explorer
from course_utils.chapters.ch07_regularization.explorer import dropout_explorer


@pytest.fixture
def explorer():
    return dropout_explorer()


def assert_result_matches(ex):
    v = ex.values
    expected = runs_explorer.dropout_demo(
        v["p"], v["version"], v["method"], v["seed"], n_masks=ex.n_masks
    )
    for field in ("mask", "train", "test", "expected"):
        np.testing.assert_array_equal(getattr(ex.result, field), getattr(expected, field))
    view = ex.view
    np.testing.assert_array_equal(view.mask.get_array(), expected.mask.astype(float))
    np.testing.assert_array_equal(view.train.get_array(), expected.train)
    np.testing.assert_array_equal(view.test.get_array(), expected.test)
    scale = np.abs(expected.test).max()
    np.testing.assert_allclose(
        view.points.get_offsets(),
        np.column_stack([expected.test.ravel(), expected.expected.ravel()]) / scale,
    )


def test_contract(explorer):
    assert set(explorer.controls) == {"p", "version", "method", "seed"}
    assert isinstance(explorer.controls["p"], ipywidgets.FloatSlider)
    assert isinstance(explorer.controls["version"], ipywidgets.Dropdown)
    assert isinstance(explorer.controls["method"], ipywidgets.Dropdown)
    assert isinstance(explorer.controls["seed"], ipywidgets.IntSlider)
    assert explorer.figure is explorer.canvas.figure
    assert explorer.values == dict(p=0.5, version=2, method="dropout", seed=0)
    assert explorer.message == ""
    assert len(explorer.figure.axes) == 4
    assert_result_matches(explorer)


@pytest.mark.parametrize(
    "name, value",
    [
        ("p", 0.0),
        ("p", 0.25),
        ("p", 0.9),
        ("version", 1),
        ("method", "DropConnect"),
        ("seed", 7),
        ("seed", 50),
    ],
)
def test_every_control_recomputes_before_returning(explorer, name, value):
    before = explorer.result
    explorer.controls[name].value = value
    assert explorer.controls[name].value == value
    assert explorer.result is not before
    assert_result_matches(explorer)


def test_version_moves_the_scale_between_train_and_test(explorer):
    two = explorer.result
    clim = explorer.view.train.get_clim()
    assert clim == explorer.view.test.get_clim()
    assert clim[1] == pytest.approx(2 * np.abs(two.a @ two.W).max())
    explorer.controls["version"].value = 1
    assert explorer.view.train.get_clim() == clim  # one fixed scale: version 1 looks dimmer
    one = explorer.result
    np.testing.assert_array_equal(one.mask, two.mask)  # same seed, same mask
    np.testing.assert_allclose(one.train, two.train * 0.5)
    np.testing.assert_allclose(one.test, two.test * 0.5)


def test_moves_update_in_place_and_method_redraws_its_labels(explorer):
    figure, axes = explorer.figure, list(explorer.figure.axes)
    artists = [explorer.view.mask, explorer.view.train, explorer.view.test, explorer.view.points]
    full = count_full_draws(explorer)
    for name, value in [("p", 0.3), ("seed", 4), ("version", 1), ("p", 0.6)]:
        explorer.controls[name].value = value
    assert full["n"] == 0  # blitted: only the images and points were redrawn
    explorer.controls["method"].value = "DropConnect"
    assert full["n"] == 1  # the mask panel's labels changed
    assert axes[0].get_xlabel() == "output unit" and axes[0].get_ylabel() == "input unit"
    explorer.controls["method"].value = "dropout"
    explorer.controls["method"].value = "DropConnect"
    assert full["n"] == 1  # both layouts' backgrounds are kept
    assert explorer.figure is figure and explorer.figure.axes == axes
    assert [
        explorer.view.mask,
        explorer.view.train,
        explorer.view.test,
        explorer.view.points,
    ] == artists and all(a.get_animated() for a in artists)


def test_summary_gives_kept_share_and_the_expectation_error(explorer):
    r = explorer.result
    assert explorer.summary.startswith(f"kept {r.kept:.0%} of the units")
    assert f"rel. error {r.rel_error:.1%}" in explorer.summary
    explorer.controls["method"].value = "DropConnect"
    assert "of the weights" in explorer.summary


def test_notebook_drive_cell():
    """The notebook's cell after the explorer: DropConnect, version 1, p = 0.3."""
    ex = dropout_explorer(p=0.5, version=2, method="dropout", seed=0)
    ex.controls["method"].value = "DropConnect"
    ex.controls["version"].value = 1
    ex.controls["p"].value = 0.3
    assert ex.message == ""
    assert ex.summary == (
        "kept 74% of the weights   max|train z| 2.69   max|test z| 2.02   "
        "mean of 1000 masks vs test: rel. error 1.9%"
    )


@pytest.mark.parametrize("value", [1.5, -0.2])
def test_out_of_range_p_is_clamped_with_a_message(explorer, value):
    explorer.controls["p"].value = value
    clamped = 0.9 if value > 1 else 0.0
    assert explorer.message == (
        f"p = {value:g} is out of range (allowed 0 to 0.9); using {clamped:g}"
    )
    assert_result_matches(explorer)


def test_nan_p_shows_a_message_and_clears_the_result(explorer):
    explorer.controls["p"].value = float("nan")
    assert explorer.result is None
    assert explorer.message.startswith("p must be a finite number; got nan")
    explorer.controls["p"].value = 0.5
    assert explorer.message == ""
    assert_result_matches(explorer)


def test_a_mask_that_drops_everything_warns():
    ex = dropout_explorer(p=0.9, method="DropConnect")
    for seed in range(51):
        ex.controls["seed"].value = seed
        assert (ex.message != "") == (ex.result.kept == 0)


@pytest.mark.parametrize(
    "start, message",
    [
        (dict(p=0.95), "p must be a number between 0 and 0.9; got 0.95"),
        (dict(version=3), "version must be one of 1, 2; got 3"),
        (
            dict(method="dropconnect"),
            "method must be one of dropout, DropConnect; got 'dropconnect'",
        ),
        (dict(seed=51), "seed must be an integer between 0 and 50; got 51"),
        (dict(n_masks=0), "n_masks must be between 1 and 65536; got 0"),
        (dict(figsize=(0, 1)), "figsize.0. must be > 0; got 0"),
    ],
)
def test_bad_start_values_raise_saying_what_is_allowed(start, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        dropout_explorer(**start)
