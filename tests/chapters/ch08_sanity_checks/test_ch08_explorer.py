"""The sanity explorer (step h of a numerical derivative), driven in a plain Python process."""

import ipywidgets
import numpy as np
import pytest
from explorer_testing import count_full_draws

from course_utils.chapters.ch08_sanity_checks import runs_step_tradeoff
from course_utils.chapters.ch08_sanity_checks.explorer import sanity_explorer


@pytest.fixture
def explorer():
    return sanity_explorer()


def assert_result_matches(ex):
    v = ex.values
    expected = runs_step_tradeoff.step_tradeoff(v["h"], v["method"], v["dtype"])
    np.testing.assert_array_equal(ex.result.errors, expected.errors)
    assert (ex.result.h, ex.result.error, ex.result.method, ex.result.dtype) == (
        expected.h,
        expected.error,
        expected.method,
        expected.dtype,
    )
    np.testing.assert_array_equal(ex.view.errors.get_xdata(), expected.steps)  # what is drawn
    np.testing.assert_array_equal(ex.view.errors.get_ydata(), np.maximum(expected.errors, 1e-16))
    assert ex.view.marker.get_xdata()[0] == expected.h


def test_contract(explorer):
    assert set(explorer.controls) == {"h", "method", "dtype"}
    assert isinstance(explorer.controls["h"], ipywidgets.FloatLogSlider)
    assert isinstance(explorer.controls["method"], ipywidgets.Dropdown)
    assert explorer.figure is explorer.canvas.figure
    assert explorer.values == dict(h=1e-5, method="centred", dtype="float64")
    assert explorer.message == ""
    assert "error" in explorer.summary and "best h" in explorer.summary
    assert_result_matches(explorer)


@pytest.mark.parametrize(
    "name, value",
    [("h", 1e-12), ("h", 1e-8), ("h", 0.1), ("method", "forward"), ("dtype", "float32")],
)
def test_every_control_recomputes_before_returning(explorer, name, value):
    before = explorer.result
    explorer.controls[name].value = value
    assert explorer.result is not before
    assert_result_matches(explorer)


def test_float32_and_large_steps_warn(explorer):
    explorer.controls["dtype"].value = "float32"
    assert "would fail a 1e-7 check" in explorer.message
    explorer.controls["dtype"].value = "float64"
    assert explorer.message == ""
    explorer.controls["h"].value = 0.1
    assert "would fail" in explorer.message


def test_out_of_range_h_is_a_message_not_a_traceback(explorer):
    explorer.controls["h"].value = 10.0
    assert "out of range" in explorer.message
    assert explorer.result is not None


def test_bad_start_values_raise_with_what_is_allowed():
    with pytest.raises(ValueError, match="method must be one of"):
        sanity_explorer(method="backward")
    with pytest.raises(ValueError, match="h must be a number between"):
        sanity_explorer(h=1.0)


def test_moves_update_in_place_without_a_full_redraw(explorer):
    axes = list(explorer.figure.axes)
    full = count_full_draws(explorer)
    for name, value in [("h", 1e-3), ("method", "forward"), ("dtype", "float32"), ("h", 1e-9)]:
        explorer.controls[name].value = value
    assert full["n"] == 0
    assert explorer.figure.axes == axes and axes[0].get_xlim() == (1e-12, 1e-1)
    assert all(a.get_animated() for a in explorer.view.artists)
