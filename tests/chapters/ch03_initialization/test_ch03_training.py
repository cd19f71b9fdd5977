"""Chapter 03, section 5: training from each initial scale (runs_training), and its figure."""

import math

import numpy as np
import pytest
from matplotlib.figure import Figure

from course_utils.chapters.ch03_initialization import figures, runs_training


@pytest.fixture(scope="module")
def training():
    return runs_training.train_inits()


def test_the_initial_scale_decides_speed_and_end_point(training):
    assert training.names == tuple(runs_training.TRAINING_GAINS)
    small, xavier, gain53, large = range(4)
    loss = training.median_loss()
    step = {s: i for i, s in enumerate(training.steps)}
    # step 0: chance for the small scales, far above for the large one
    assert abs(loss[small, 0] - math.log(10)) < 0.05 and loss[large, 0] > 3.5
    # too small: still near chance over steps 26-50, while Xavier has halved it
    assert loss[small, step[50]] > 2.0 and loss[xavier, step[50]] < 1.3
    # at step 200: gain 5/3 < Xavier < too large < too small (median over seeds)
    end = loss[:, step[200]]
    assert end[gain53] < end[xavier] < end[large] < end[small]
    # too large ends with the worst validation accuracy, in every seed
    acc = training.val_accuracy
    assert acc[large].max() < acc[xavier].min() - 0.05 and np.median(acc[large]) < 0.82
    # the printed line of the chaotic run: its start, and "below 0.85 in 3 of 3 seeds"
    assert round(loss[large, 0], 2) == 4.64 and np.all(acc[large] < 0.85)
    assert np.all(acc[xavier] > 0.9) and np.all(acc[gain53] > 0.9)


def test_runs_of_one_seed_differ_only_in_scale():
    one = runs_training.train_inits({"a": 1.0}, seeds=[1], steps=5, record_every=5)
    both = runs_training.train_inits({"b": 2.0, "a": 1.0}, seeds=[1], steps=5, record_every=5)
    np.testing.assert_allclose(both.train_loss[1], one.train_loss[0], rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(gains={}), "gains must be a non-empty dict"),
        (dict(gains={"a": 0.0}), "gains\\['a'\\]"),
        (dict(seeds=[]), "seeds"),
        (dict(depth=0), "depth"),
        (dict(width=10**6), "width"),
        (dict(lr=-1.0), "lr"),
        (dict(steps=0), "steps"),
        (dict(seeds=range(16), gains={str(i): 1.0 for i in range(5)}), "at most 64 runs"),
    ],
)
def test_train_inits_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        runs_training.train_inits(**kwargs)


def test_training_curves_figure_has_labelled_axes_and_one_median_line_per_init():
    runs = runs_training.train_inits(seeds=[0, 1], steps=50, record_every=25)
    ax = Figure().add_subplot()
    lines = figures.plot_training_curves(runs, ax)
    assert [line.get_label() for line in lines] == list(runs.names)
    assert ax.get_xlabel() == "SGD step" and "loss" in ax.get_ylabel()
    with pytest.raises(ValueError, match="train_inits"):
        figures.plot_training_curves(object(), ax)
