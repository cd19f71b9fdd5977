"""The training dashboard, driven in a plain Python process as a student's browser would:
set the sliders, click Start, read .result."""

import ipywidgets
import numpy as np
import pytest
from explorer_testing import count_full_draws, pixels

from course_utils import monitoring
from course_utils.chapters.ch09_monitoring.explorer import (
    LR_RANGE,
    MAX_EPOCHS,
    DashboardState,
    TrainingDashboard,
    training_dashboard,
)
from course_utils.chapters.ch09_monitoring.runs import evaluation_interval  # Start's
from course_utils.training import build_mlp, train


@pytest.fixture
def dashboard(digits_dataset):
    built = training_dashboard(data=digits_dataset, epochs=2)
    assert built.wait_ready()  # torch's import, in the background since the build
    return built


def test_contract_before_any_run(dashboard):
    assert set(dashboard.controls) == {"lr", "epochs"}  # the button is no control: no value
    assert isinstance(dashboard.controls["lr"], ipywidgets.FloatLogSlider)
    assert isinstance(dashboard.controls["epochs"], ipywidgets.IntSlider)
    assert isinstance(dashboard.start_button, ipywidgets.Button)
    assert dashboard.values == {"lr": 0.01, "epochs": 2}
    assert dashboard.figure is dashboard.canvas.figure and len(dashboard.figure.axes) == 3
    assert dashboard.history is None and dashboard.message == ""
    assert dashboard.result == DashboardState(0.01, 2, None, None)
    assert dashboard.summary == "press Start to train with lr=0.01, epochs=2"


def test_moving_a_slider_updates_the_readout_but_does_not_train(dashboard):
    full = count_full_draws(dashboard)
    dashboard.controls["lr"].value = 0.1
    assert dashboard.summary == "press Start to train with lr=0.1, epochs=2"
    dashboard.controls["epochs"].value = 3
    assert dashboard.summary == "press Start to train with lr=0.1, epochs=3"
    assert dashboard.history is None and dashboard.monitor is None
    assert full["n"] == 0  # blitted, not redrawn


def test_moving_a_slider_changes_the_line_above_the_panels(dashboard):
    dashboard.canvas.draw()
    before = pixels(dashboard)
    dashboard.controls["lr"].value = 0.1
    assert dashboard.view.plan.get_text() == "press Start to train with lr = 0.1, 2 epochs"
    after = pixels(dashboard)
    assert (before != after).any()  # a browser sees the move on the canvas too
    dashboard.controls["epochs"].value = 4
    assert (pixels(dashboard) != after).any()


def test_start_trains_exactly_as_train_would_and_draws_the_curves(dashboard, digits_dataset):
    dashboard.controls["lr"].value = 0.03
    dashboard.start_button.click()
    history = dashboard.history
    assert history.status == "completed" and history.steps == 2 * 22
    assert dashboard.run_values == {"lr": 0.03, "epochs": 2}
    assert dashboard.progress.n == history.steps  # the bar counted every step
    # the same run, by hand: same History
    model = build_mlp(64, 10, 4, 64, seed=0)
    expected = train(
        model,
        digits_dataset,
        "momentum",
        lr=0.03,
        epochs=2,
        batch_size=64,
        seed=0,
        eval_every=evaluation_interval(44),
        progress=False,
    )
    np.testing.assert_allclose(history.step_loss, expected.step_loss, rtol=1e-6)
    assert history.eval_step == expected.eval_step
    # what is drawn is the run
    view = dashboard.view
    np.testing.assert_allclose(view.step_loss.get_ydata(), history.step_loss)
    np.testing.assert_allclose(
        view.smooth_loss.get_ydata(), monitoring.ema(history.step_loss, 0.9, nonfinite="pass")
    )
    np.testing.assert_array_equal(view.val_acc.get_xdata(), history.eval_step)
    np.testing.assert_allclose(
        view.ratios[0].get_ydata(),
        monitoring.ema(dashboard.monitor.ratios["W1"], 0.9, nonfinite="pass"),
    )
    assert view.loss_ax.get_xlim() == (0, 44)
    assert dashboard.summary.startswith(
        "lr=0.03, epochs=2: completed 44 steps: validation accuracy"
    )
    assert view.plan.get_text() == "shown: lr = 0.03, 2 epochs (completed)"
    assert "median update ratio" in dashboard.summary and dashboard.message == ""


def test_curves_redraw_in_place_at_each_evaluation_while_training(dashboard):
    frames = []
    canvas = dashboard.figure.canvas
    blit = canvas.blit

    def spy(bbox=None):  # every redraw ends in the canvas's blit: record what it showed
        blit(bbox)
        frames.append(len(dashboard.view.val_acc.get_xdata()))

    canvas.blit = spy
    full = count_full_draws(dashboard)
    axes = list(dashboard.figure.axes)
    dashboard.start_button.click()
    n_evals = len(dashboard.history.eval_step)
    assert dashboard.history.eval_step[-1] == dashboard.history.steps  # the end is evaluated
    assert frames[0] == 0  # Start empties the panels first
    assert frames[1:-1] == list(range(1, n_evals + 1))  # one frame per evaluation, in order
    assert frames[-1] == n_evals  # and the finished run
    # the build drew the axes for the planned run: Start only blits
    assert full["n"] == 0
    assert dashboard.figure.axes == axes


def test_start_redraws_the_axes_only_when_the_run_length_changes(dashboard):
    full = count_full_draws(dashboard)
    planned = dashboard.values["epochs"] * dashboard.steps_per_epoch
    assert dashboard.view.loss_ax.get_xlim() == (0, planned)  # built for the planned run
    dashboard.controls["epochs"].value = 3  # moving the slider only plans the next run
    assert full["n"] == 0 and dashboard.view.loss_ax.get_xlim() == (0, planned)
    dashboard.start_button.click()
    assert full["n"] == 1  # a longer run: new x limits, one full draw
    assert dashboard.view.loss_ax.get_xlim() == (0, 3 * dashboard.steps_per_epoch)
    dashboard.start_button.click()
    assert full["n"] == 1  # the same length again: blits only


def test_after_a_run_moving_a_slider_says_what_start_will_do(dashboard):
    dashboard.start_button.click()
    shown = dashboard.history
    dashboard.controls["lr"].value = 0.1
    assert dashboard.history is shown  # still the last run's curves
    assert dashboard.summary.startswith(
        "press Start to train with lr=0.1, epochs=2 (shown: lr=0.01, epochs=2: completed"
    )


def test_a_diverging_lr_shows_a_clear_message_not_a_traceback(dashboard):
    dashboard.controls["lr"].value = 3.0
    dashboard.start_button.click()
    assert dashboard.history.status == "diverged"
    assert dashboard.message.startswith("The run with lr=3 diverged: the loss became nan at step")
    assert "too high: lower it" in dashboard.message
    assert not dashboard.start_button.disabled
    dashboard.controls["lr"].value = 0.01
    dashboard.start_button.click()
    assert dashboard.history.status == "completed" and dashboard.message == ""


def test_frames_after_a_run_equal_a_full_redraw(dashboard):
    """The contract test moves the sliders; here the curves of a finished run are blitted."""
    dashboard.start_button.click()
    blitted = pixels(dashboard)
    dashboard.canvas.draw()
    np.testing.assert_array_equal(blitted, pixels(dashboard))


def test_out_of_range_values_are_clamped_with_a_message(dashboard):
    dashboard.controls["lr"].value = 100.0
    assert dashboard.message == "lr = 100 is out of range (allowed 0.0001 to 10); using 10"
    assert dashboard.summary == "press Start to train with lr=10, epochs=2"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(lr=0), "lr must be a number between 0.0001 and 10; got 0"),
        (dict(epochs=MAX_EPOCHS + 1), f"epochs must be an integer between 1 and {MAX_EPOCHS}"),
        (dict(batch_size=0), "batch_size must be between 1 and"),  # issue 17: Start raised
        (dict(seed=-1), "seed must be between 0 and"),
        (dict(data=object()), "data: data must have x_train"),
        (dict(dpi=1.5), "dpi must be >= 20"),
        (dict(optimizer="lbfgs"), "optimizer must be one of"),
        (dict(depth=-1), "depth must be between 0 and 100"),
        (dict(dataset="mnist"), "name must be one of"),
        (dict(dpi=10**4), "at most 4000 a side"),
    ],
)
def test_bad_starting_values_are_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        training_dashboard(**kwargs)


def test_default_is_the_digits_and_the_control_labels_are_the_names(digits_dataset):
    d = training_dashboard()
    assert isinstance(d, TrainingDashboard)
    assert d.data.x_train.shape == digits_dataset.x_train.shape
    assert {n: c.description for n, c in d.controls.items()} == {"lr": "lr", "epochs": "epochs"}
    assert d.start_button.description == "Start"
    assert (10 ** d.controls["lr"].min, 10 ** d.controls["lr"].max) == pytest.approx(LR_RANGE)


def test_start_shows_any_failure_as_a_message(dashboard, monkeypatch):
    import course_utils.training

    def broken(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(course_utils.training, "train", broken)
    assert dashboard.start() is None  # the click handler returns, never raises
    assert dashboard.message == "RuntimeError: out of memory"
    assert not dashboard.start_button.disabled


def test_nan_lr_shows_a_message_and_start_refuses_it(dashboard):
    dashboard.controls["lr"].value = float("nan")
    assert dashboard.history is None
    assert dashboard.result is None
    assert dashboard.message == "lr must be a finite number; got nan"
    assert dashboard.start() is None and dashboard.history is None
    dashboard.controls["lr"].value = 0.01
    assert dashboard.message == ""
