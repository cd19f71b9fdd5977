"""The optimizer explorer, driven in a plain Python process as a student's browser would."""

import ipywidgets
import numpy as np
import pytest
from explorer_testing import count_full_draws

from course_utils.chapters.ch05_optimizers import surfaces
from course_utils.chapters.ch05_optimizers.explorer import optimizer_explorer


@pytest.fixture
def explorer():
    return optimizer_explorer()


def assert_result_matches(ex):
    v = ex.values
    expected = surfaces.explore(
        v["surface"], v["optimizer"], v["lr"], v["momentum"], v["beta2"], v["steps"]
    )
    # Bit for bit: the same function on the same inputs in one process (exact by construction).
    np.testing.assert_array_equal(ex.result.points, expected.points)
    assert ex.result.status == expected.status
    _, path, end = ex.view.paths[v["surface"]]
    np.testing.assert_array_equal(np.column_stack(path.get_data()), expected.points)  # drawn
    assert len(ex.view.loss.get_xdata()) == len(expected.points) - 1


def test_contract(explorer):
    assert set(explorer.controls) == {"optimizer", "lr", "momentum", "beta2", "steps", "surface"}
    assert isinstance(explorer.controls["lr"], ipywidgets.FloatLogSlider)
    assert isinstance(explorer.controls["optimizer"], ipywidgets.Dropdown)
    assert isinstance(explorer.controls["surface"], ipywidgets.Dropdown)
    assert explorer.controls["steps"].continuous_update is False
    assert explorer.figure is explorer.canvas.figure
    assert explorer.values == dict(
        optimizer="SGD", lr=0.15, momentum=0.0, beta2=0.999, steps=200, surface="quadratic"
    )
    assert explorer.message == ""
    assert explorer.summary.startswith("after 200 steps: (x, y) = (-0.438, ")
    assert_result_matches(explorer)


@pytest.mark.parametrize(
    "name, value",
    [
        ("optimizer", "Adam"),
        ("optimizer", "Adagrad"),
        ("optimizer", "Adadelta"),
        ("optimizer", "RMSprop"),
        ("optimizer", "AdamW"),
        ("lr", 0.01),
        ("lr", 1e-4),
        ("momentum", 0.9),
        ("beta2", 0.9),
        ("steps", 1000),
        ("steps", 10),
        ("surface", "saddle"),
        ("surface", "rosenbrock"),
    ],
)
def test_every_control_recomputes_before_returning(explorer, name, value):
    before = explorer.result
    explorer.controls[name].value = value
    assert explorer.controls[name].value == value
    assert explorer.result is not before
    assert_result_matches(explorer)


def test_moves_update_in_place_without_a_full_redraw(explorer):
    axes = list(explorer.figure.axes)
    loss = explorer.view.loss
    full = count_full_draws(explorer)
    for name, value in [
        ("lr", 0.1),
        ("momentum", 0.5),
        ("optimizer", "Adam"),
        ("beta2", 0.99),
        ("steps", 500),
        ("lr", 0.05),
    ]:
        explorer.controls[name].value = value
    assert full["n"] == 0
    assert explorer.figure.axes == axes and explorer.view.loss is loss
    assert explorer.view.ax_loss.get_xlim() == (1.0, 1000.0)


def test_a_surface_seen_before_is_not_redrawn(explorer):
    explorer.controls["surface"].value = "saddle"
    explorer.controls["surface"].value = "quadratic"
    full = count_full_draws(explorer)
    explorer.controls["surface"].value = "saddle"
    explorer.controls["surface"].value = "quadratic"
    assert full["n"] == 0
    assert sum(ax.get_visible() for ax in explorer.figure.axes) == 2  # one surface + the loss


def test_a_diverging_lr_says_so_and_keeps_the_path(explorer):
    explorer.controls["lr"].value = 0.25
    assert explorer.message == (
        "diverged at step 17: the point left |x|, |y| <= 1000 (learning rate too high?)"
    )
    assert explorer.result.diverged and len(explorer.result.points) == 17
    _, path, _ = explorer.view.paths["quadratic"]
    assert len(path.get_xdata()) == 17  # not an empty plot
    explorer.controls["lr"].value = 0.15
    assert explorer.message == ""


def test_nesterov_without_momentum_is_a_message(explorer):
    explorer.controls["optimizer"].value = "Nesterov"
    assert explorer.result is None
    assert explorer.message.startswith("Nesterov needs momentum > 0")
    explorer.controls["momentum"].value = 0.9  # at lr 0.15 Nesterov's steep direction diverges
    assert explorer.message.startswith("diverged at step 24")
    explorer.controls["lr"].value = 0.05
    assert explorer.message == ""
    assert_result_matches(explorer)


def test_out_of_range_and_nan_values_are_messages(explorer):
    explorer.controls["lr"].value = 100.0
    assert explorer.message.startswith("lr = 100 is out of range (allowed 0.0001 to 10)")
    explorer.controls["momentum"].value = float("nan")
    assert explorer.result is None
    assert "momentum must be a finite number; got nan" in explorer.message


def test_saddle_summary_reports_the_escape(explorer):
    explorer.controls["surface"].value = "saddle"
    explorer.controls["lr"].value = 0.1
    assert explorer.summary.endswith("left the saddle (|y| > 0.5) at step 67")
    explorer.controls["steps"].value = 10
    assert explorer.summary.endswith("still near the saddle")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(optimizer="LBFGS"), "optimizer must be one of SGD, Nesterov"),
        (dict(lr=0), "lr must be a number between 0.0001 and 10; got 0"),
        (dict(steps=5), "steps must be an integer between 10 and 1000; got 5"),
        (dict(surface="bowl"), "surface must be one of quadratic, saddle, rosenbrock"),
        (dict(dpi=10**4), "at most 4000 a side"),
        (dict(size=3), "no control named size"),
    ],
)
def test_bad_starting_values_are_value_errors(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        optimizer_explorer(**kwargs)


def test_controls_an_optimiser_ignores_are_greyed_out():
    from course_utils.chapters.ch05_optimizers import surfaces
    from course_utils.chapters.ch05_optimizers.explorer import optimizer_explorer

    explorer = optimizer_explorer()
    for name in surfaces.EXPLORER_OPTIMIZERS:
        explorer.controls["momentum"].value = 0.5  # Nesterov needs some
        explorer.controls["optimizer"].value = name
        for control in ("momentum", "beta2"):
            before = explorer.result
            explorer.controls[control].value = 0.9 if control == "momentum" else 0.95
            changed = not np.array_equal(before.points, explorer.result.points)
            # greyed out exactly when moving it changes nothing
            assert explorer.controls[control].disabled == (not changed), (name, control)
            explorer.controls[control].value = 0.5 if control == "momentum" else 0.999
