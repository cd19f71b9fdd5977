"""Chapter 03: deeper networks (runs_depth) and the static figures' std axis (figures)."""

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from course_utils.chapters.ch03_initialization import figures, runs, runs_depth


@pytest.fixture(scope="module")
def deeper():
    return runs_depth.deeper_gradients()


def test_deeper_gradients_explode_vanish_or_stay_as_the_notebook_says(deeper):
    assert deeper.names == ("N(0, 0.01²)", "Xavier", "N(0, 0.05²)") and deeper.depths == (6, 24)
    small, xavier, large = range(3)
    # 0.05-like: the last layer ~1.5 at both depths, the first explodes (8.5 -> ~3.4e3)
    assert 1.2 < deeper.last[large, 0] < 1.8 and 1.2 < deeper.last[large, 1] < 1.8
    assert 5 < deeper.first[large, 0] < 12 and deeper.first[large, 1] > 1e3
    # 0.01-like: equal across layers, vanishing with depth (~0.3 -> ~1e-4)
    assert 0.2 < deeper.first[small, 0] < 0.4 and deeper.first[small, 1] < 3e-4
    np.testing.assert_allclose(deeper.first[small], deeper.last[small], rtol=0.3)
    # Xavier: within a factor of 2 of 1 at both depths
    assert np.all((deeper.first[xavier] > 1 / 2) & (deeper.first[xavier] < 2))
    assert np.all((deeper.last[xavier] > 1 / 2) & (deeper.last[xavier] < 2))


def test_deeper_gradients_match_gradient_sizes_on_the_same_experiment():
    got = runs_depth.deeper_gradients({"x": 1.0}, depths=(3,), width=64)
    sizes = runs.gradient_sizes(runs.Experiment(3, 64, 16, "tanh", "normal", 1 / 8, 0))
    assert got.first[0, 0] == sizes.weights[0] and got.last[0, 0] == sizes.weights[-1]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(gains={}), "gains must be a non-empty dict"),
        (dict(gains={"a": -1.0}), "gains\\['a'\\]"),
        (dict(depths=(0,)), "depths"),
        (dict(depths=(101,)), "depths"),
        (dict(width=0), "width"),
    ],
)
def test_deeper_gradients_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        runs_depth.deeper_gradients(**kwargs)


def test_matrix_products_d2l_explodes_scaled_keeps_its_expectation():
    d2l = runs_depth.matrix_product_norms(4, 1.0, 100, seeds=range(20))
    # 100 factors of n * std^2 = 4 in the mean square: log10 RMS ~ 0.5 log10(4^100) ~ 30,
    # typically less (the log drifts below the log of the mean): 20 to 30 per seed.
    assert np.all((d2l > 15) & (d2l < 32))
    scaled = runs_depth.matrix_product_norms(64, 1 / 8, 100, seeds=range(10))
    assert np.all(np.abs(scaled) < 2.5)  # 1/sqrt(n): no blow-up, no collapse
    narrow = runs_depth.matrix_product_norms(4, 0.5, 100, seeds=range(20))
    assert np.median(narrow) < -3  # 1/sqrt(4): the typical 4 x 4 product still shrinks
    large = runs_depth.matrix_product_norms(64, 1.2 / 8, 100, seeds=range(10))
    assert np.all(large > 5)  # 20% too large: 1.2^100 ~ 1e8 in the RMS


def test_matrix_product_norms_one_matrix_is_its_own_rms():
    got = runs_depth.matrix_product_norms(3, 2.0, 1, seeds=[7])
    m = np.random.default_rng([7, 5, 3]).standard_normal((3, 3)) * 2.0
    assert got[0] == pytest.approx(np.log10(np.sqrt(np.mean(m**2))), rel=1e-12)


def test_layer_histograms_name_the_std_axis_and_label_only_a_few_plain_ticks():
    small = runs.forward_activations(6, 256, 16, "tanh", "normal", 0.64 / 16, 0)
    fig = figures.layer_histograms(small, "tanh", title="t")
    ax = fig.axes[-1]
    assert ax.get_ylabel() == "std of a" and ax.get_yscale() == "log"
    FigureCanvasAgg(fig).draw()  # a canvas that really renders (tick labels get placed)
    lo, hi = ax.get_ylim()
    labels = [t.get_text() for t in ax.get_yticklabels() if lo <= t.get_position()[1] <= hi]
    assert 2 <= len(labels) <= 5
    assert all("times" not in s and "^" not in s for s in labels)  # plain numbers
    # no two labels overlap
    boxes = [t.get_window_extent() for t in ax.get_yticklabels() if t.get_text()]
    boxes = [b for b, t in zip(boxes, ax.get_yticklabels()) if lo <= t.get_position()[1] <= hi]
    assert all(not a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    # the y label is inside the figure
    assert fig.axes[-1].yaxis.label.get_window_extent().x0 >= 0


def test_tidy_std_axis_needs_a_log_axis():
    ax = Figure().add_subplot()
    with pytest.raises(ValueError, match="log-scale"):
        figures.tidy_std_axis(ax)
    with pytest.raises(ValueError, match="ax must be a matplotlib Axes"):
        figures.tidy_std_axis("not an axes")


def test_residual_stream_grows_without_scaling_and_stays_with_gpt2_or_fixup():
    n = 48
    plain = runs_depth.residual_stream_std(n, 1.0, width=128, n_samples=32)
    gpt2 = runs_depth.residual_stream_std(n, 1 / np.sqrt(n), width=128, n_samples=32)
    fixup = runs_depth.residual_stream_std(n, 0.0, width=128, n_samples=32)
    # variance ~ 1 + k: std ~ 3.6 after 12 branches, ~7 after 48
    assert 3.0 < plain[12] < 4.2 and 6.0 < plain[48] < 8.0
    assert 1.2 < gpt2[48] < 1.6  # ~sqrt(2)
    assert np.all(fixup == fixup[0])  # the stream is the input


def test_residual_stream_std_rejects_bad_arguments():
    with pytest.raises(ValueError, match="branch_scale"):
        runs_depth.residual_stream_std(4, -1.0)
    with pytest.raises(ValueError, match="n_branches"):
        runs_depth.residual_stream_std(0, 1.0)
