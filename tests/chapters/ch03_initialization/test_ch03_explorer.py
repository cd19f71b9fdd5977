"""The init explorer, driven in a plain Python process as a student's browser would."""

import threading

import ipywidgets
import numpy as np
import pytest
from explorer_testing import count_full_draws, hold_worker

from course_utils import weight_cache
from course_utils.chapters.ch03_initialization import _fast_path, runs
from course_utils.chapters.ch03_initialization.explorer import MAX_DEPTH, init_explorer
from course_utils.plots import histogram
from course_utils.stats import layer_stats

SMALL = dict(width=256, depth=4)  # a small network: fast tests, same code path


@pytest.fixture
def explorer():
    built = init_explorer(**SMALL)
    assert built.wait_ready()  # the weights, drawn in the background since the build
    return built


def direct_call(ex):
    """What the explorer shows: the lecture's network, as a corner of the 4096-wide one."""
    v = ex.values
    experiment = runs.Experiment(
        v["depth"], v["width"], ex.n_samples, v["activation"], v["scheme"], v["std"], ex.seed
    )
    assert ex.experiment == experiment
    # Run afresh (not runs.forward_pass's kept record), on one BLAS thread as forward_pass
    # runs: on some CPUs (OpenBLAS's Haswell kernels) two threads differ in the last bits.
    with _fast_path.one_blas_thread():
        return weight_cache.run(experiment, full_width=4096).activations


def assert_result_matches(ex):
    expected = direct_call(ex)
    assert len(ex.result) == len(expected)
    for got, want in zip(ex.result, expected):
        # Bit for bit: the same function on the same inputs in one process (exact by construction).
        np.testing.assert_array_equal(got, want)


def test_contract(explorer):
    assert set(explorer.controls) == {"scheme", "std", "activation", "depth", "width"}
    assert isinstance(explorer.controls["std"], ipywidgets.FloatLogSlider)
    assert all(isinstance(c, ipywidgets.ValueWidget) for c in explorer.controls.values())
    assert explorer.figure is explorer.canvas.figure
    assert explorer.message == ""
    assert_result_matches(explorer)


def test_defaults_are_the_lecture_and_equal_forward_activations():
    ex = init_explorer()
    ex.wait_ready()
    assert ex.values == dict(scheme="normal", std=0.01, activation="tanh", depth=6, width=4096)
    assert (ex.n_samples, ex.seed) == (16, 0)
    # Bit for bit: forward_activations runs the same cached weights through the same code.
    for got, want in zip(ex.result, runs.forward_activations()):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_allclose(
        layer_stats(ex.result).std, [0.49, 0.29, 0.18, 0.11, 0.07, 0.05], atol=0.01
    )


def test_narrower_widths_have_the_lectures_statistics():
    ex = init_explorer(width=1024, scheme="xavier")
    ex.wait_ready()
    ours = layer_stats(ex.result).std
    own_draw = layer_stats(runs.forward_activations(width=1024, scheme="xavier")).std
    np.testing.assert_allclose(ours, own_draw, rtol=0.05)


@pytest.mark.parametrize(
    "name, value",
    [
        ("scheme", "xavier"),
        ("scheme", "kaiming"),
        ("std", 0.05),
        ("std", 1e-4),
        ("std", 10.0),
        ("activation", "relu"),
        ("activation", "sigmoid"),
        ("depth", 1),
        ("depth", 10),
        ("width", 64),
        ("width", 4096),
    ],
)
def test_every_control_recomputes_before_returning(explorer, name, value):
    before = explorer.result
    explorer.controls[name].value = value
    assert explorer.controls[name].value == value
    assert explorer.result is not before  # a new object on every recompute
    assert explorer.message == ""
    assert_result_matches(explorer)


def test_a_sequence_of_moves_matches_direct_calls(explorer):
    moves = [
        ("std", 0.03),
        ("activation", "relu"),
        ("scheme", "kaiming"),
        ("depth", 7),
        ("width", 64),
        ("scheme", "normal"),
        ("std", 0.2),
        ("activation", "tanh"),
    ]
    for name, value in moves:
        explorer.controls[name].value = value
        assert_result_matches(explorer)


def test_only_a_new_activation_or_depth_redraws_the_whole_figure(explorer):
    figure, axes = explorer.figure, list(explorer.figure.axes)
    view = explorer.view
    assert len(view.hist_axes) == 10  # laid out once, for the deepest network
    # the starting depth's panels only: the others are hidden, so no picture shows empty ones
    assert [ax.get_visible() for ax in view.hist_axes] == [True] * 4 + [False] * 6
    full = count_full_draws(explorer)
    for name, value in [
        ("std", 0.05),
        ("std", 0.03),
        ("width", 1024),
        ("width", 64),
        ("scheme", "xavier"),
    ]:
        explorer.controls[name].value = value
    assert full["n"] == 0  # all blitted: only the data artists were redrawn
    explorer.controls["depth"].value = 9  # panels appear: one full draw
    assert full["n"] == 1
    assert [ax.get_visible() for ax in view.hist_axes] == [True] * 9 + [False]
    for value in (10, 4, 9):  # layouts seen before: their bitmaps are kept, no new axes
        explorer.controls["depth"].value = value
    explorer.controls["activation"].value = "relu"  # new histogram range, new ticks
    for value in ["tanh", "relu", "tanh"]:
        explorer.controls["activation"].value = value
    assert explorer.figure is figure and explorer.figure.axes == axes  # the same axes throughout
    assert explorer.view is view
    assert figure.axes[0].get_xlim() == (-1.0, 1.0)


def test_the_std_axis_is_labelled_with_plain_numbers(explorer):
    ax = explorer.view.std_axes
    assert ax.get_ylabel() == "std of a"
    explorer.figure.canvas.draw()
    lo, hi = ax.get_ylim()
    shown = [t.get_text() for t in ax.get_yticklabels() if lo <= t.get_position()[1] <= hi]
    assert shown == ["0.001", "0.01", "0.1", "1"]


def test_what_is_drawn_is_the_new_result(explorer):
    explorer.controls["std"].value = 0.05
    view = explorer.view
    for layer, a in enumerate(explorer.result):
        shares = histogram(a, "tanh")[0]
        np.testing.assert_allclose(view.bars[layer].get_data().values, shares / shares.max())
    np.testing.assert_allclose(
        view.std_line.get_ydata(), layer_stats(explorer.result).std, rtol=1e-6
    )
    assert not any(c.get_visible() for c in view.covers)  # hidden panels, no grey covers
    explorer.controls["depth"].value = 7
    assert [ax.get_visible() for ax in view.hist_axes] == [True] * 7 + [False] * 3
    assert not any(bars.get_visible() for bars in view.bars[7:])


def test_std_typed_as_zero_shows_a_message_not_a_traceback(explorer):
    explorer.controls["std"].value = 0
    assert "std = 0 is out of range (allowed 0.0001 to 10); using 0.0001" in explorer.message
    assert explorer.controls["std"].value == pytest.approx(1e-4)
    assert_result_matches(explorer)
    explorer.controls["std"].value = 0.02
    assert explorer.message == ""


@pytest.mark.parametrize("value", [-1.0, 1e9])
def test_out_of_range_std_is_clamped_with_a_message(explorer, value):
    explorer.controls["std"].value = value
    assert f"std = {value:g} is out of range" in explorer.message


def test_nan_std_shows_a_message_and_clears_the_result(explorer):
    explorer.controls["std"].value = float("nan")
    assert explorer.result is None
    assert explorer.message == "std must be a finite number; got nan"
    explorer.controls["std"].value = 0.01
    assert explorer.message == ""
    assert_result_matches(explorer)


def test_messages_combine_without_repeating(explorer):
    explorer.controls["depth"].value = 0  # clamped to 1
    explorer.controls["std"].value = float("nan")  # rejected
    explorer.controls["depth"].value = 99  # clamped to 10 while std is still bad
    assert explorer.message.splitlines() == [
        "depth = 99 is out of range (allowed 1 to 10); using 10",
        "std must be a finite number; got nan",
    ]
    assert explorer.result is None


def test_overflow_is_reported(explorer):
    explorer.controls["activation"].value = "relu"
    explorer.controls["depth"].value = 10
    explorer.controls["std"].value = 10.0  # x (sqrt(256) * 10 / sqrt(2)) ~ 113 per layer
    explorer.controls["width"].value = 4096  # x 452 per layer: beyond float32 by layer 10?
    assert explorer.warning([np.array([1.0]), np.array([np.inf])]).startswith(
        "activations overflow float32 from layer 2"
    )


def test_std_control_is_disabled_when_the_scheme_derives_it(explorer):
    explorer.controls["scheme"].value = "kaiming"
    assert explorer.controls["std"].disabled
    explorer.controls["scheme"].value = "normal"
    assert not explorer.controls["std"].disabled


def test_building_draws_the_weights_in_the_background_and_shows_preparing():
    """The build returns before any weight is drawn (the worker is held), saying so; the
    result is then the synchronous one."""
    with hold_worker() as release:
        ex = init_explorer(width=256, depth=2)
        assert ex.result is None and not ex.ready  # prepare() waits behind the held worker
        assert ex.message.startswith("preparing: drawing the network's random weights")
        release.set()
    assert ex.wait_ready()
    assert ex.message == "" and ex.summary.startswith("W ~ N(0, ")
    assert_result_matches(ex)
    ex.controls["depth"].value = 1
    assert_result_matches(ex)


def test_a_move_during_the_preparation_waits_for_it():
    with hold_worker() as release:
        ex = init_explorer(**SMALL)
        assert ex.result is None
        threading.Timer(0.05, release.set).start()  # freed while the move waits
        ex.controls["std"].value = 0.05
    assert ex.ready and ex.message == ""
    assert_result_matches(ex)


def test_a_browser_showing_it_prefetches_the_deepest_network(explorer):
    assert explorer._deeper is None  # nothing more is drawn without a browser
    explorer.on_display()  # the hook the explorer's canvas calls once a browser shows it
    assert explorer.wait_ready()
    assert all(weight_cache.is_cached(0, 4096, layer) for layer in range(10))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(scheme="he"), "scheme must be one of normal, xavier, kaiming; got 'he'"),
        (dict(activation="elu"), "activation must be one of tanh, sigmoid, relu; got 'elu'"),
        (dict(std=0), "std must be a number between 0.0001 and 10; got 0"),
        (dict(std=float("nan")), "std must be a number between 0.0001 and 10; got nan"),
        (dict(depth=11), "depth must be an integer between 1 and 10; got 11"),
        (dict(depth=True), "depth must be an integer between 1 and 10; got True"),
        (dict(width=300), "width must be one of 64, 256, 1024, 2048, 4096; got 300"),
        (dict(n_samples=0), "n_samples must be >= 1; got 0"),
        (dict(n_samples=10**6), "use at most"),
        (dict(seed=-2), "seed must be between 0 and 4294967295; got -2"),
    ],
)
def test_bad_starting_values_are_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        init_explorer(**kwargs)


def test_explorer_refuses_a_figure_that_would_fill_memory():
    with pytest.raises(ValueError, match="at most 4000 a side"):
        init_explorer(dpi=10**4)


def test_summary_gives_the_weight_std_and_every_layers_std_as_text(explorer):
    explorer.controls["scheme"].value = "xavier"
    stds = layer_stats(explorer.result).std
    assert explorer.summary == (
        "W ~ N(0, 0.0625²); std of a per layer: " + "  ".join(f"{s:.3g}" for s in stds)
    )  # 1/sqrt(256)
    explorer.controls["scheme"].value = "normal"
    shown = explorer.summary
    explorer.controls["std"].value = float("nan")  # an error keeps the figure and its numbers
    assert explorer.result is None and explorer.summary == shown


def test_prefetched_neighbours_include_the_depth_sliders_ends(explorer):
    """Issue 20: a jump to the slider's end (a click there, End, Home) is prefetched too."""
    depths = lambda values: [v["depth"] for v in explorer.neighbours(**values) if v != values]  # noqa: E731
    now = explorer.values
    d = now["depth"]
    assert sorted(set(x for x in depths(now) if x != d)) == [1, d - 1, d + 1, MAX_DEPTH]
    for depth in (1, 2, 9, MAX_DEPTH):
        found = [d for d in depths(dict(now, depth=depth)) if d != depth]
        assert len(found) == len(set(found)) and all(1 <= d <= MAX_DEPTH for d in found)
        assert {1, MAX_DEPTH} - {depth} <= set(found)
