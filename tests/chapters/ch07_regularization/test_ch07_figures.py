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
