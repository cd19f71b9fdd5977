"""The search explorer, driven in a plain Python process as a student's browser would."""

import ipywidgets
import numpy as np
import pytest
from explorer_testing import count_full_draws

from course_utils import tuning
from course_utils.chapters.ch10_tuning import runs as ch10
from course_utils.chapters.ch10_tuning.explorer import MAX_BUDGET, search_explorer
from course_utils.chapters.ch10_tuning.figures import (
    plot_best_so_far,
    plot_grid_vs_random,
    plot_sampling_scales,
    plot_search_scatter,
)


@pytest.fixture
def explorer():
    return search_explorer()


def assert_result_matches(ex):
    v = ex.values
    expected = ch10.synthetic_search(
        v["strategy"], v["budget"], v["seed"], ex.peak, ex.width, ex.weight
    )
    # Bit for bit: the same function on the same inputs in one process (exact by construction).
    np.testing.assert_array_equal(ex.result.points, expected.points)
    np.testing.assert_array_equal(ex.result.scores, expected.scores)
    x, y = ex.view.points.get_data()  # what is drawn
    np.testing.assert_array_equal(np.column_stack([x, y]), expected.points)
    bx, by = ex.view.best.get_data()
    np.testing.assert_array_equal([bx[0], by[0]], expected.points[expected.best_index])
    np.testing.assert_array_equal(ex.view.proj_x.get_data()[0], expected.points[:, 0])
    np.testing.assert_array_equal(ex.view.proj_y.get_data()[1], expected.points[:, 1])
    trials, best = ex.curve.get_data()
    np.testing.assert_array_equal(best[:-1], np.maximum.accumulate(expected.scores))


def test_contract(explorer):
    assert set(explorer.controls) == {"strategy", "budget", "seed"}
    assert isinstance(explorer.controls["strategy"], ipywidgets.Dropdown)
    assert isinstance(explorer.controls["budget"], ipywidgets.IntSlider)
    assert isinstance(explorer.controls["seed"], ipywidgets.IntSlider)
    assert explorer.controls["strategy"].options == ch10.STRATEGIES
    assert explorer.figure is explorer.canvas.figure
    assert explorer.values == dict(strategy="random", budget=9, seed=0)
    assert explorer.message == ""
    assert_result_matches(explorer)


@pytest.mark.parametrize(
    "name, value",
    [
        ("strategy", "grid"),
        ("strategy", "coarse-to-fine"),
        ("budget", 4),
        ("budget", 100),
        ("budget", 37),
        ("seed", 99),
        ("seed", 5),
    ],
)
def test_every_control_recomputes_before_returning(explorer, name, value):
    before = explorer.result
    explorer.controls[name].value = value
    assert explorer.controls[name].value == value
    assert explorer.result is not before
    assert_result_matches(explorer)


def test_summary_gives_trials_distinct_values_and_best_score(explorer):
    assert explorer.summary == (
        "random: 9 trials, 9 distinct values of x, best score 0.559 (the maximum is 1.100)"
    )
    explorer.controls["strategy"].value = "grid"
    explorer.controls["budget"].value = 10
    assert explorer.summary.startswith(
        "grid: 9 of 10 trials (a 3 x 3 grid), 3 distinct values of x"
    )
    assert "best score 0.316" in explorer.summary


def test_grid_ignores_the_seed_random_follows_it(explorer):
    explorer.controls["strategy"].value = "grid"
    grid = explorer.result.points
    explorer.controls["seed"].value = 7
    np.testing.assert_array_equal(explorer.result.points, grid)
    explorer.controls["strategy"].value = "random"
    first = explorer.result.points
    explorer.controls["seed"].value = 8
    assert not np.array_equal(explorer.result.points, first)


def test_moves_update_in_place_without_a_full_redraw(explorer):
    axes = list(explorer.figure.axes)
    artists = explorer.view.artists + [explorer.curve]
    full = count_full_draws(explorer)
    for name, value in [("seed", 3), ("strategy", "grid"), ("strategy", "coarse-to-fine")]:
        explorer.controls[name].value = value
    for budget in (30, 5, 100):  # one log axis for every budget: a budget move blits too
        explorer.controls["budget"].value = budget
        assert explorer.ax_best.get_xlim() == (1, MAX_BUDGET + 1)
        assert explorer.curve.get_xdata()[-1] == len(explorer.result.scores) + 1
    assert full["n"] == 0  # blitted: only the points and the curve were redrawn
    assert explorer.figure.axes == axes
    assert explorer.view.artists + [explorer.curve] == artists
    assert all(a.get_animated() for a in artists)
    assert explorer.view.ax.get_xlim() == (0.0, 1.0)


@pytest.mark.parametrize("value", [0, 1000])
def test_budget_typed_out_of_range_is_clamped_with_a_message(explorer, value):
    explorer.controls["budget"].value = value
    clamped = 4 if value == 0 else 100
    assert explorer.message == (
        f"budget = {value} is out of range (allowed 4 to 100); using {clamped}"
    )
    assert_result_matches(explorer)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(strategy="bayes"), "strategy must be one of grid, random, coarse-to-fine"),
        (dict(budget=2), "budget must be an integer between 4 and 100; got 2"),
        (dict(seed=-1), "seed must be an integer between 0 and 99; got -1"),
        (dict(width=0.0), "width > 0"),
        (dict(dpi=10**4), "at most 4000 a side"),
        (dict(size=3), "no control named size; the controls are strategy, budget, seed"),
    ],
)
def test_bad_starting_values_are_value_errors(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        search_explorer(**kwargs)


def test_static_figures_draw_what_they_are_given():
    classic = plot_grid_vs_random(budget=9, seed=0)
    titles = [ax.get_title() for ax in classic.axes if ax.get_title()]
    assert titles == [
        "grid: 9 trials, 3 values of x, best 0.32",
        "random: 9 trials, 9 values of x, best 0.56",
    ]
    scales = plot_sampling_scales(1e-4, 1.0, n=20, seed=0)
    assert scales.axes[0].get_xscale() == "log"
    result = tuning.run_search(
        lambda c: 0.5, [{"lr": 0.1, "weight_decay": 1e-3}, {"lr": 1.0, "weight_decay": 1e-2}]
    )
    scatter = plot_search_scatter(result, rounds=[1, 2])
    assert len(scatter.axes) == 4  # three panels and the third one's colour bar
    assert scatter.axes[3].get_ylabel() == "validation accuracy"
    lines = plot_best_so_far({"a": result}).axes[0].get_lines()
    np.testing.assert_array_equal(lines[0].get_ydata(), [0.5, 0.5])
