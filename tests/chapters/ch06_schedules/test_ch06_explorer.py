"""The schedule explorer, driven in a plain Python process as a student's browser would."""

import ipywidgets
import numpy as np
import pytest
from explorer_testing import count_full_draws

from course_utils import schedules
from course_utils.chapters.ch06_schedules.explorer import schedule_explorer
from course_utils.chapters.ch06_schedules.figures import LR_LIMITS
from course_utils.widgets.base import IntSlider, LogSlider


@pytest.fixture
def explorer():
    return schedule_explorer()


def assert_result_matches(ex):
    v = ex.values
    expected = schedules.explorer_schedule(
        v["schedule"],
        v["base_lr"],
        ex.steps,
        v["warmup_steps"],
        v["decay_steps"],
        v["gamma"],
        ex.start_factor,
    )
    # exact by construction: the explorer calls the same function with the same arguments
    np.testing.assert_array_equal(ex.result, expected)
    np.testing.assert_array_equal(
        ex.view.curve.get_ydata(), np.clip(expected, LR_LIMITS[0], None)
    )  # what is drawn
    assert ex.view.warmup_line.get_xdata()[0] == v["warmup_steps"]
    assert ex.view.warmup_line.get_visible() == (v["warmup_steps"] > 0)


def test_contract(explorer):
    assert list(explorer.controls) == [
        "schedule",
        "base_lr",
        "warmup_steps",
        "decay_steps",
        "gamma",
    ]
    assert isinstance(explorer.controls["schedule"], ipywidgets.Dropdown)
    assert explorer.controls["schedule"].options == schedules.SCHEDULES
    assert isinstance(explorer.controls["base_lr"], LogSlider)
    assert isinstance(explorer.controls["warmup_steps"], IntSlider)
    assert isinstance(explorer.controls["decay_steps"], IntSlider)
    assert isinstance(explorer.controls["gamma"], ipywidgets.FloatSlider)
    assert explorer.figure is explorer.canvas.figure
    assert explorer.values == dict(
        schedule="step", base_lr=0.1, warmup_steps=0, decay_steps=300, gamma=0.1
    )
    assert explorer.message == ""
    assert explorer.result.shape == (1000,)
    assert explorer.summary == (
        "start 0.1   peak 0.1   final 0.0001   mean 0.0333   drops at steps: 300, 600, 900"
    )
    assert_result_matches(explorer)


@pytest.mark.parametrize(
    "name, value",
    [
        ("schedule", "cosine"),
        ("schedule", "multistep"),
        ("schedule", "exponential"),
        ("schedule", "constant"),
        ("base_lr", 1.0),
        ("base_lr", 1e-3),
        ("warmup_steps", 100),
        ("warmup_steps", 500),
        ("decay_steps", 10),
        ("decay_steps", 1000),
        ("gamma", 0.5),
        ("gamma", 1.0),
    ],
)
def test_every_control_recomputes_before_returning(explorer, name, value):
    before = explorer.result
    explorer.controls[name].value = value
    assert explorer.controls[name].value == pytest.approx(value)
    assert explorer.result is not before
    assert_result_matches(explorer)


def test_warm_up_then_cosine_is_the_exercise_schedule(explorer):
    explorer.controls["schedule"].value = "cosine"
    explorer.controls["warmup_steps"].value = 100
    explorer.controls["decay_steps"].value = 900
    np.testing.assert_allclose(
        explorer.result, schedules.warmup_cosine(0.1, 1000, 100, 900, start_factor=0.1), rtol=1e-12
    )
    assert explorer.message == ""
    assert explorer.summary == (
        "start 0.01   peak 0.1   final 3.05e-07   mean 0.0505   "
        "decreases at 899 steps, from step 101"
    )


def test_moves_update_in_place_without_a_full_redraw(explorer):
    axes = list(explorer.figure.axes)
    curve = explorer.view.curve
    full = count_full_draws(explorer)
    for name, value in [
        ("schedule", "cosine"),
        ("base_lr", 0.5),
        ("warmup_steps", 50),
        ("decay_steps", 400),
        ("gamma", 0.3),
        ("schedule", "step"),
    ]:
        explorer.controls[name].value = value
    assert full["n"] == 0  # blitted: only the curve and the warm-up marker were redrawn
    assert explorer.figure.axes == axes and explorer.view.curve is curve
    assert curve.get_animated() and explorer.view.warmup_line.get_animated()
    assert axes[0].get_ylim() == pytest.approx(LR_LIMITS)


def test_rates_below_the_axis_warn_that_they_are_drawn_on_the_edge(explorer):
    # x0.1 every 100 steps: 1e-7 from step 600. The rate at step 500, 0.1 * 0.1 ** 5, is
    # 1.0000000000000004e-06 on every CPU (repeated products, schedules._decayed): not below 1e-6
    explorer.controls["decay_steps"].value = 100
    assert explorer.message == ("from step 600 the rate is below 1e-06: drawn on the bottom edge")
    assert explorer.summary.endswith("drops at steps: 100, 200, 300, 400, 500, 600, 700, 800, 900")
    explorer.controls["schedule"].value = "cosine"  # 0 at step 100 only, then climbs back
    assert explorer.message == ""
    assert explorer.summary.startswith("start 0.1   peak 0.1   final 0.1")
    explorer.controls["schedule"].value = "constant"
    assert explorer.summary.endswith("never decreases")


def test_out_of_range_typed_values_are_clamped_with_a_message(explorer):
    explorer.controls["gamma"].value = 0.0
    assert explorer.message.startswith("gamma = 0 is out of range (allowed 0.01 to 1); using 0.01")
    assert_result_matches(explorer)
    explorer.controls["warmup_steps"].value = 2000
    assert "warmup_steps = 2000 is out of range (allowed 0 to 500); using 500" in explorer.message


def test_nan_gamma_shows_a_message_and_clears_the_result(explorer):
    explorer.controls["gamma"].value = float("nan")
    assert explorer.result is None
    assert explorer.message == "gamma must be a finite number; got nan"
    explorer.controls["gamma"].value = 0.2
    assert explorer.message == ""
    assert_result_matches(explorer)


@pytest.mark.parametrize(
    "start, match",
    [
        (dict(schedule="linear"), "schedule must be one of constant, step"),
        (dict(base_lr=100.0), "base_lr must be a number between"),
        (dict(steps=5), "steps must be between 10 and"),
        (dict(start_factor=0.0), "start_factor"),
    ],
)
def test_bad_start_values_raise(start, match):
    with pytest.raises(ValueError, match=match):
        schedule_explorer(**start)


def test_controls_a_schedule_ignores_are_greyed_out():
    from course_utils import schedules
    from course_utils.chapters.ch06_schedules.explorer import schedule_explorer

    explorer = schedule_explorer()
    for name in schedules.SCHEDULES:
        explorer.controls["schedule"].value = name
        for control, other in (("decay_steps", 500), ("gamma", 0.5)):
            before = explorer.result.copy()
            old = explorer.controls[control].value
            explorer.controls[control].value = other
            changed = not np.array_equal(before, explorer.result)
            assert explorer.controls[control].disabled == (not changed), (name, control)
            explorer.controls[control].value = old
