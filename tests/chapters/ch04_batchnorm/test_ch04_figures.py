"""Chapter 04's figures: labelled axes, everything inside the limits, what the text says."""

import numpy as np
import pytest

from course_utils.chapters.ch04_batchnorm import figures


def _relu(rng, std, shape=(256, 8)):
    return np.maximum(rng.normal(0.0, std, shape), 0.0)


def test_relu_histograms_draw_the_zero_share_in_every_panel():
    rng = np.random.default_rng(0)
    tiny = [_relu(rng, 1e-3) for _ in range(3)]
    unit = [_relu(rng, 1.0) for _ in range(3)]
    fig = figures.relu_histograms([tiny, unit], ["no BN", "with BN"], title="t")
    axes = fig.get_axes()
    assert len(axes) == 6
    for ax in axes:
        assert ax.get_xlabel().startswith("a, layer")
        red = [
            p
            for p in ax.patches
            if p.get_facecolor()[:3] == pytest.approx((0.839, 0.153, 0.157), abs=0.01)
        ]
        assert len(red) == 1  # the bar of exact zeros
        top = ax.get_ylim()[1]
        assert red[0].get_height() <= top  # inside the limits (cut, with a triangle)
        texts = " ".join(t.get_text() for t in ax.texts)
        assert "at 0 (red)" in texts and "σ = " in texts
    assert axes[0].get_ylabel() == "share of values" and axes[3].get_ylabel() == "share of values"
    # with tiny activations the zero bar fits; with unit ones it is cut and marked
    assert len(axes[0].lines) == 0 and len(axes[3].lines) == 1


def test_relu_histograms_check_their_input():
    a = [np.zeros((4, 2))]
    with pytest.raises(ValueError, match="one title per row"):
        figures.relu_histograms([a], ["x", "y"])
    with pytest.raises(ValueError, match="same number of layers"):
        figures.relu_histograms([a, a + a], ["x", "y"])
    with pytest.raises(ValueError, match="row_titles"):
        figures.relu_histograms([a], [3])
