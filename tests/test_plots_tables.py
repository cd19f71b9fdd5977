"""course_utils.plots and course_utils.tables."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from course_utils.chapters.ch03_initialization import runs
from course_utils.plots import HIST_RANGE, LayerHistogramFigure, histogram, plot_layer_histograms
from course_utils.stats import layer_stats
from course_utils.tables import format_table


# ---------------------------------------------------------------- histogram
def test_histogram_shares_add_up():
    a = np.random.default_rng(0).uniform(-1.2, 1.2, size=10_000)
    shares, edges, outside, zero = histogram(a, "tanh", bins=20)
    assert shares.shape == (20,) and edges.shape == (21,)
    assert (edges[0], edges[-1]) == HIST_RANGE["tanh"]
    assert zero == 0
    assert outside == pytest.approx(np.mean(np.abs(a) > 1))
    assert shares.sum() + outside == pytest.approx(1.0)


def test_relu_zeros_are_counted_apart():
    a = np.array([0.0, 0.0, 0.0, 1.0, 2.0, 10.0, np.inf, 0.5])
    shares, _, outside, zero = histogram(a, "relu", bins=8)
    assert zero == pytest.approx(3 / 8)
    assert outside == pytest.approx(2 / 8)  # 10 is beyond 4, inf is not finite
    assert shares.sum() == pytest.approx(3 / 8)


def test_histogram_rejects_unknown_activation():
    with pytest.raises(ValueError, match="activation must be one of"):
        histogram(np.zeros(3), "softplus")


# ---------------------------------------------------------------- layer figure
def test_static_figure_shows_every_layer_and_the_std_line():
    acts = runs.forward_activations(depth=4, width=128, activation="tanh", scheme="xavier")
    fig = plot_layer_histograms(acts, "tanh", title="xavier")
    assert isinstance(fig, Figure)
    assert len(fig.axes) == 5
    assert fig.texts[0].get_text() == "xavier"
    line = fig.axes[-1].lines[0]
    np.testing.assert_allclose(line.get_ydata(), layer_stats(acts).std, rtol=1e-6)


def test_figure_update_sets_bars_and_labels():
    acts = runs.forward_activations(depth=2, width=64, activation="relu", scheme="kaiming")
    plot = LayerHistogramFigure(Figure(), 2, activation="relu", bins=10)
    changed = plot.update(acts)
    assert changed == plot.artists
    shares = histogram(acts[0], "relu", bins=10)[0]
    np.testing.assert_allclose(plot.bars[0].get_data().values, shares / shares.max())
    assert "at 0" in plot.labels[0].get_text()


def test_figure_layout_two_rows_past_six_layers():
    plot = LayerHistogramFigure(Figure(), 9, activation="sigmoid")
    assert len(plot.hist_axes) == 9
    assert plot.hist_axes[5].get_subplotspec().rowspan.start == 1


def test_fewer_layers_than_panels_grey_out_the_rest():
    plot = LayerHistogramFigure(Figure(), 5, activation="tanh", std_range=(1e-3, 2.0))
    plot.update([np.full((2, 3), 0.5)] * 3)
    assert [c.get_visible() for c in plot.covers] == [False, False, False, True, True]
    assert plot.labels[4].get_text() == ""
    assert len(plot.std_line.get_xdata()) == 3
    assert plot.std_axes.get_ylim() == pytest.approx((1e-3, 2.0))  # fixed: explorers blit


def test_static_figure_fits_the_std_axis_to_the_data():
    # ReLU + Xavier falls from 0.59 to 0.10: on a fitted axis that is most of its height
    acts = runs.forward_activations(activation="relu", scheme="xavier")
    plot = LayerHistogramFigure(Figure(), 6, activation="relu")
    plot.update(acts)
    lo, hi = plot.std_axes.get_ylim()
    assert hi / lo < 30


def test_neighbouring_tick_labels_lean_inwards():
    plot = LayerHistogramFigure(Figure(), 6, activation="tanh")
    labels = plot.hist_axes[0].get_xticklabels()
    assert [t.get_text() for t in labels] == ["-1", "0", "1"]
    assert [t.get_horizontalalignment() for t in labels] == ["left", "center", "right"]


def test_set_activation_reports_whether_the_axes_changed():
    plot = LayerHistogramFigure(Figure(), 2, activation="tanh")
    assert plot.set_activation("tanh") is False
    assert plot.set_activation("relu") is True
    assert plot.hist_axes[1].get_xlim() == (0.0, 4.0)


def test_std_line_clips_overflow_and_label_says_so():
    acts = [np.array([[1.0, 2.0]]), np.array([[np.inf, 1.0]])]
    plot = LayerHistogramFigure(Figure(), 2, activation="relu", std_range=(1e-3, 1e3))
    plot.update(acts)
    assert plot.std_line.get_ydata()[1] == plot.std_axes.get_ylim()[1]
    assert "overflow" in plot.labels[1].get_text()


@pytest.mark.parametrize("panels", [0, 13, True])
def test_figure_rejects_panel_counts_it_cannot_lay_out(panels):
    with pytest.raises(ValueError, match="panels must be an integer between 1 and 12"):
        LayerHistogramFigure(Figure(), panels, activation="tanh")


@pytest.mark.parametrize("layers", [0, 4])
def test_update_rejects_wrong_number_of_layers(layers):
    plot = LayerHistogramFigure(Figure(), 3, activation="tanh")
    with pytest.raises(ValueError, match=f"activations must hold 1 to 3 layers .*; got {layers}"):
        plot.update([np.zeros((2, 2))] * layers)


# ---------------------------------------------------------------- tables
def test_format_table_layout():
    text = format_table({"std": [0.4944, 0.2891], "share": [0.4111, 0.0]}, percent=["share"])
    assert text.splitlines() == [
        "layer    std  share",
        "-----  -----  -----",
        "1      0.494  41.1%",
        "2      0.289   0.0%",
    ]


def test_format_table_no_negative_zero_and_non_finite():
    text = format_table({"x": [-0.0001, float("inf"), float("nan"), "-"]}, digits=3)
    assert text.split("\n")[2:] == [
        "1         0.000",
        "2      overflow",
        "3           nan",
        "4             -",
    ]


def test_format_table_custom_index():
    text = format_table({"v": [1, 2]}, index=["a", "bb"], index_name="name", digits=1)
    assert text.splitlines()[2:] == ["a     1.0", "bb    2.0"]


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(columns={}), "columns must hold at least one column"),
        (dict(columns={"a": [1], "b": [1, 2]}), "columns must have equal lengths"),
        (dict(columns={"a": [1]}, percent=["b"]), "percent names columns that do not exist"),
        (dict(columns={"a": [1]}, index=[1, 2]), "index must have 1 labels; got 2"),
    ],
)
def test_format_table_rejects_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        format_table(**kwargs)


def test_layer_stats_table_names_fields():
    stats = layer_stats([np.array([0.0, 1.0]), np.array([0.5, -1.0])])
    assert stats.table("zero").splitlines()[2] == "1      50.0%"
    with pytest.raises(ValueError, match="fields must be among mean, std, saturated, zero"):
        stats.table("median")


def test_cases_table_reproduces_the_lecture_summary():
    lines = runs.cases_table().splitlines()
    assert lines[2].split()[-4:] == ["0.494", "0.046", "0.0%", "0.0%"]
    assert lines[3].split()[-4:] == ["0.872", "0.849", "41.1%", "32.8%"]
    assert lines[5].split()[-4:] == ["0.833", "0.805", "-", "-"]
    assert lines[6].split()[-4:] == ["0.589", "0.101", "-", "-"]


@pytest.mark.parametrize("activation", ["tanh", "relu", "sigmoid"])
def test_histogram_counts_equal_numpys(activation):
    lo, hi = HIST_RANGE[activation]
    rng = np.random.default_rng(0)
    values = np.concatenate(
        [
            rng.normal(0, 1.5, 100_000).astype(np.float32),
            np.linspace(lo, hi, 51),
            [lo - 1e-9, hi + 1e-9, np.inf, -np.inf, np.nan, 0.0],
        ]
    )
    shares, edges, outside, zero = histogram(values, activation, bins=50)
    kept = values[values != 0] if activation == "relu" else values
    counts = np.histogram(kept[np.isfinite(kept)], bins=50, range=(lo, hi))[0]
    np.testing.assert_array_equal(np.round(shares * values.size).astype(int), counts)
    np.testing.assert_allclose(edges, np.linspace(lo, hi, 51))
    assert outside == pytest.approx(1 - zero - counts.sum() / values.size)


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda: histogram(np.zeros(3), "tanh", bins=10**9),
            "bins must be an integer between 1 and 1000",
        ),
        (
            lambda: plot_layer_histograms([np.zeros((2, 2))], "tanh", dpi=96000),
            "at most 4000 a side",
        ),
        (
            lambda: plot_layer_histograms([np.zeros((2, 2))], "tanh", figsize=(0, 3)),
            r"figsize\[0\] must be > 0",
        ),
        (
            lambda: plot_layer_histograms([np.zeros((2, 2))], "tanh", figsize="big"),
            "figsize must be",
        ),
    ],
)
def test_plots_refuse_sizes_that_would_fill_memory(call, message):
    with pytest.raises(ValueError, match=message):
        call()
