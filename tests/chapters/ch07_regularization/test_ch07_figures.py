"""Chapter 07's static figures: each builds and its titles say what it shows."""

import numpy as np

from course_utils import regularization as R
from course_utils.chapters.ch07_regularization import figures as D


def test_static_figures_build_and_say_what_they_show():
    assert len(D.plot_thinned_networks(seed=0).axes) == 4
    a = np.maximum(np.random.default_rng(0).standard_normal((8, 16)), 0.0)
    versions = D.plot_dropout_versions(a, p=0.5, seed=0)
    titles = [ax.get_title() for ax in versions.axes]
    assert titles[2:4] == ["train: a ⊙ m", "test: 0.5 a"]
    assert titles[6:8] == ["train: a ⊙ m / 0.5", "test: a"]
    ran = np.random.default_rng(0).random((24, 12)) < 0.7
    assert len(D.plot_stochastic_depth(ran, R.linear_survival(12)).axes) == 2
    photo = np.zeros((20, 30, 3), np.uint8)
    assert len(D.plot_augmentations({"a": photo, "b": photo}).axes) == 3
    weights = {"L1": [np.array([0.0, 0.5]), np.array([1e-4, -1.0])], "L2": np.array([0.2, -0.3])}
    histograms = D.plot_weight_histograms(weights)
    assert [ax.get_title() for ax in histograms.axes] == [
        "L1: 50.0% of |w| < 0.001",
        "L2: 0.0% of |w| < 0.001",
    ]
    assert histograms.axes[0].get_xlim()[1] >= 1.0  # the shared range covers every weight


def test_dropout_versions_have_a_mask_key_and_a_colour_bar():
    a = np.maximum(np.random.default_rng(0).standard_normal((8, 16)), 0.0)
    figure = D.plot_dropout_versions(a, p=0.5, seed=0)
    assert len(figure.axes) == 10  # 8 panels, the mask key, the colour bar
    assert figure.axes[1].get_title() == "keep-mask m (white: kept)"
    key, bar = figure.axes[8], figure.axes[9]
    assert [t.get_text() for t in key.get_yticklabels()] == ["dropped", "kept"]
    assert bar.get_ylabel() == "activation value"
    assert bar.get_ylim() == (0.0, 2 * a.max())  # one scale: the largest kept value a / 0.5
    assert figure.axes[1].images[0].cmap(1.0)[:3] == (1.0, 1.0, 1.0)  # kept is white
    assert figure.axes[1].images[0].cmap(0.0)[:3] == (0.0, 0.0, 0.0)


def test_dropout_sweep_figure_shows_accuracy_and_gap_against_p():
    train = np.array([[0.9, 0.92], [0.8, 0.82], [0.7, 0.72]])
    val = np.array([[0.7, 0.68], [0.75, 0.77], [0.66, 0.62]])
    figure = D.plot_dropout_sweep([0.0, 0.3, 0.7], train, val)
    left, right = figure.axes
    assert left.get_xlabel() == right.get_xlabel() == "drop probability p"
    assert "accuracy" in left.get_ylabel() and "validation" in right.get_ylabel()
    low, high = left.get_ylim()
    assert low <= (val.mean(1) - val.std(1, ddof=1)).min() and high >= train.max()
    low, high = right.get_ylim()
    gap = train - val
    assert low <= (gap.mean(1) - gap.std(1, ddof=1)).min()
    assert high >= (gap.mean(1) + gap.std(1, ddof=1)).max()
