"""The whitening explorer, driven in a plain Python process as a student's browser would."""

import ipywidgets
import numpy as np
import pytest
from explorer_testing import count_full_draws

from course_utils import preprocessing
from course_utils.chapters.ch02_preprocessing import runs
from course_utils.chapters.ch02_preprocessing.explorer import whitening_explorer


@pytest.fixture
def explorer():
    return whitening_explorer()


def assert_result_matches(ex):
    v = ex.values
    expected = runs.whitening_demo(
        v["correlation"], v["angle"], v["scale"], n=ex.n, seed=ex.seed, eps=ex.eps
    )
    for field in ("original", "decorrelated", "pca", "zca", "cov_original", "cov_pca"):
        # Bit for bit: the same function on the same inputs in one process (exact by construction).
        np.testing.assert_array_equal(getattr(ex.result, field), getattr(expected, field))
    for cloud, points in zip(
        ex.view.clouds, (expected.original, expected.decorrelated, expected.pca, expected.zca)
    ):
        np.testing.assert_array_equal(cloud.get_offsets(), points)  # what is drawn


def test_contract(explorer):
    assert set(explorer.controls) == {"correlation", "angle", "scale"}
    assert all(isinstance(c, ipywidgets.FloatSlider) for c in explorer.controls.values())
    assert explorer.figure is explorer.canvas.figure
    assert explorer.values == dict(correlation=0.8, angle=0.0, scale=1.5)
    assert (explorer.n, explorer.seed, explorer.eps) == (500, 0, 1e-5)
    assert explorer.message == ""
    assert len(explorer.figure.axes) == 4
    assert_result_matches(explorer)


@pytest.mark.parametrize(
    "name, value",
    [
        ("correlation", -0.9),
        ("correlation", 0.0),
        ("correlation", 0.99),
        ("angle", 45.0),
        ("angle", -90.0),
        ("scale", 0.2),
        ("scale", 3.0),
    ],
)
def test_every_control_recomputes_before_returning(explorer, name, value):
    before = explorer.result
    explorer.controls[name].value = value
    assert explorer.controls[name].value == value
    assert explorer.result is not before
    assert_result_matches(explorer)


def test_whitened_panels_stay_white_whatever_the_cloud(explorer):
    for name, value in [("correlation", -0.6), ("angle", 60.0), ("scale", 2.5)]:
        explorer.controls[name].value = value
        assert preprocessing.max_identity_deviation(explorer.result.pca) < 1e-4
        assert preprocessing.max_identity_deviation(explorer.result.zca) < 1e-4


def test_moves_update_in_place_without_a_full_redraw(explorer):
    figure, axes = explorer.figure, list(explorer.figure.axes)
    clouds = list(explorer.view.clouds)
    full = count_full_draws(explorer)
    for name, value in [
        ("correlation", 0.3),
        ("angle", 20.0),
        ("scale", 0.7),
        ("correlation", -0.5),
    ]:
        explorer.controls[name].value = value
    assert full["n"] == 0  # blitted: only the point clouds were redrawn
    assert explorer.figure is figure and explorer.figure.axes == axes
    assert explorer.view.clouds == clouds and all(c.get_animated() for c in clouds)
    assert axes[0].get_xlim() == (-14.0, 14.0) and axes[2].get_xlim() == (-4.5, 4.5)


def test_every_point_stays_inside_the_fixed_limits_and_the_axes_are_labelled(explorer):
    for correlation in (-0.99, 0.0, 0.99):
        for angle in (-90.0, -45.0, 0.0, 30.0, 90.0):
            for scale in (0.2, 1.5, 3.0):
                explorer.controls["correlation"].value = correlation
                explorer.controls["angle"].value = angle
                explorer.controls["scale"].value = scale
                clouds = [explorer.result.original, explorer.result.decorrelated]
                clouds += [explorer.result.pca, explorer.result.zca]
                assert explorer.view.outside(clouds) == 0
    for ax in explorer.figure.axes:
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


@pytest.mark.parametrize("value", [1.0, -1.0])
def test_singular_correlation_shows_a_message_not_a_traceback(explorer, value):
    explorer.controls["correlation"].value = value
    assert explorer.result is None
    assert explorer.message.startswith("correlation must be strictly between -1 and 1")
    assert "covariance is singular" in explorer.message
    explorer.controls["correlation"].value = 0.5
    assert explorer.message == ""
    assert_result_matches(explorer)


@pytest.mark.parametrize("value", [0.0, -1.0])
def test_scale_typed_as_zero_or_negative_is_clamped_with_a_message(explorer, value):
    explorer.controls["scale"].value = value
    assert explorer.message == f"scale = {value:g} is out of range (allowed 0.2 to 3); using 0.2"
    assert_result_matches(explorer)


def test_nan_shows_a_message_and_clears_the_result(explorer):
    explorer.controls["scale"].value = float("nan")
    assert explorer.result is None
    assert explorer.message == "scale must be a finite number; got nan"
    explorer.controls["scale"].value = 1.0
    assert explorer.message == ""


def test_nearly_singular_cloud_warns_about_eps():
    ex = whitening_explorer(eps=0.01)
    ex.controls["correlation"].value = 0.99
    ex.controls["scale"].value = 0.2
    assert "close to eps = 0.01" in ex.message


def test_summary_gives_the_covariances_before_and_after(explorer):
    c = explorer.result.cov_original
    assert explorer.summary.startswith(f"cov before [[{c[0, 0]:.3f}, {c[0, 1]:.3f}]")
    assert "after PCA [[1.000, 0.000], [0.000, 1.000]]" in explorer.summary
    assert "after ZCA [[1.000, 0.000], [0.000, 1.000]]" in explorer.summary


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(correlation=1.5), "correlation must be a number between -1 and 1; got 1.5"),
        (dict(angle=float("nan")), "angle must be a number between -90 and 90; got nan"),
        (dict(scale=0), "scale must be a number between 0.2 and 3; got 0"),
        (dict(eps=0), "eps must be > 0; got 0"),
        (dict(n=1), "n must be between 2 and 100000; got 1"),
        (dict(dpi=10**4), "at most 4000 a side"),
        (dict(size=3), "unexpected keyword"),
    ],
)
def test_bad_starting_values_are_value_errors(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        whitening_explorer(**kwargs)


def test_a_singular_starting_correlation_is_allowed_and_shown_as_a_message():
    ex = whitening_explorer(correlation=1.0)
    assert ex.result is None and "singular" in ex.message
