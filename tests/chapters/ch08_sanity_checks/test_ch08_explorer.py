"""The sanity explorer (step h of a numerical derivative), driven in a plain Python process."""

import math

import ipywidgets
import numpy as np
import pytest
from explorer_testing import count_full_draws

from course_utils.chapters.ch08_sanity_checks import explorer as E
from course_utils.chapters.ch08_sanity_checks.explorer import sanity_explorer


@pytest.fixture
def explorer():
    return sanity_explorer()


def assert_result_matches(ex):
    v = ex.values
    expected = E.step_tradeoff(v["h"], v["method"], v["dtype"])
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


# ---------------------------------------------------------------- step_tradeoff (the explorer)
def test_step_tradeoff_models_and_measurement():
    result = E.step_tradeoff(1e-2, "centred", "float64")
    assert result.steps.shape == (111,) and result.steps[0] == 1e-12
    # truncation regime: the model h^2 |f'''| / 6 is the measured error
    np.testing.assert_allclose(result.errors[-10:], result.truncation[-10:], rtol=0.05)
    assert result.exact == pytest.approx(1 - math.tanh(0.5) ** 2, rel=1e-15)
    assert result.error == pytest.approx(abs(result.quotient - result.exact))
    assert result.error == pytest.approx(
        result.truncation[np.argmin(abs(result.steps - 1e-2))], rel=0.05
    )
    forward = E.step_tradeoff(1e-2, "forward")
    np.testing.assert_allclose(forward.errors[-10:], forward.truncation[-10:], rtol=0.1)
    f32 = E.step_tradeoff(1e-5, "centred", "float32")
    assert f32.error > 1e-5 and f32.best_error > 1e-7
    assert 1e-6 <= E.step_tradeoff().best_h <= 1e-4


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(h=1.0), "h must be >= 1e-12 and <= 0.1"),
        (dict(h=0.0), "h must be >= 1e-12"),
        (dict(method="x"), "method must be one of"),
        (dict(dtype="float16"), "dtype must be one of"),
        (dict(x0=10.0), "x0 must be >= -3 and <= 3"),
        (dict(num=1), "num must be between 2 and 1000"),
    ],
)
def test_step_tradeoff_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        E.step_tradeoff(**kwargs)
