"""Chapter 01's zig-zag path (:mod:`course_utils.chapters.ch01_activations.runs_zigzag`) and
its figure."""

import numpy as np
import pytest

from course_utils.chapters.ch01_activations import runs_zigzag
from course_utils.chapters.ch01_activations.figures import plot_zigzag


@pytest.mark.parametrize("seed", range(5))
def test_all_positive_inputs_move_both_weights_together_and_zig_zag(seed):
    positive = runs_zigzag.zigzag_path(False, 5.0, steps=60, seed=seed)
    centred = runs_zigzag.zigzag_path(True, 5.0, steps=60, seed=seed)
    assert positive.same_direction == 1.0  # the sign rule, any draw
    assert 0.3 < centred.same_direction < 0.75  # printed 52% at seed 0
    assert positive.detour > 2.5 * centred.detour  # printed 5.1 against 1.4
    assert np.array_equal(positive.inputs, centred.inputs + 0.5)


@pytest.mark.parametrize("seed", range(5))
def test_a_large_step_bounces_on_positive_inputs_and_converges_centred(seed):
    positive = runs_zigzag.zigzag_path(False, 30.0, steps=60, seed=seed)
    centred = runs_zigzag.zigzag_path(True, 30.0, steps=60, seed=seed)
    teacher = np.array(runs_zigzag.TEACHER)
    if seed == 0:
        assert positive.steps_to(0.5) is None  # printed "never" (another seed may pass by)
    assert np.linalg.norm(positive.weights[-1] - teacher) > 2  # printed 7.5: still bouncing
    assert centred.steps_to(0.5) <= 30  # printed 16
    assert np.linalg.norm(centred.weights[-1] - teacher) < 0.1


def test_step_is_the_cross_entropy_gradient():
    path = runs_zigzag.zigzag_path(False, 2.0, steps=1, seed=3)
    x = path.inputs[0]
    sig = 1 / (1 + np.exp(-x @ np.array(runs_zigzag.TEACHER)))
    np.testing.assert_allclose(path.weights[1], -2.0 * (0.5 - sig) * x, rtol=1e-12)


def test_loss_grid_is_zero_at_the_teacher_and_table_and_figure():
    path = runs_zigzag.zigzag_path(True, 5.0, steps=40, seed=0)
    grid = runs_zigzag.mean_loss_grid(path.inputs, np.array([3.0, 0.0]), np.array([-3.0, 0.0]))
    assert grid[0, 0] == pytest.approx(0, abs=1e-12) and grid.min() >= -1e-12 and grid[1, 1] > 0
    assert "never" in runs_zigzag.paths_table([path])  # 40 steps at η = 5: not there yet
    figure = plot_zigzag([runs_zigzag.zigzag_path(False, 5.0, 60, 0), path])
    for ax in figure.axes:
        assert ax.get_xlabel() and ax.get_title()
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        for line in ax.lines:
            xs, ys = line.get_data()
            assert np.all((xs >= x0) & (xs <= x1) & (ys >= y0) & (ys <= y1))
    assert figure.axes[0].get_ylabel()
    with pytest.raises(ValueError, match="centred must be True or False"):
        runs_zigzag.zigzag_path("yes")
