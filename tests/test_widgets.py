"""The init explorer, driven in a plain Python process as a student's browser would."""

import io

import numpy as np
import pytest
from PIL import Image

from course_utils import init
from course_utils.plots import histogram
from course_utils.widgets import init_explorer
from course_utils.widgets.init_explorer import WIDTHS

SMALL = dict(width=256, depth=4)  # small network: fast tests, same code path


@pytest.fixture
def explorer():
    return init_explorer(**SMALL)


def direct_call(ex):
    v = ex.values
    return init.forward_activations(depth=v["depth"], width=v["width"], n_samples=ex.n_samples,
                                    activation=v["activation"], scheme=v["scheme"],
                                    std=v["std"], seed=ex.seed)


def assert_result_matches(ex):
    expected = direct_call(ex)
    assert len(ex.result) == len(expected)
    for got, want in zip(ex.result, expected):
        np.testing.assert_array_equal(got, want)


def count_full_draws(ex):
    counter = {"n": 0}
    ex.figure.canvas.mpl_connect("draw_event", lambda event: counter.__setitem__("n", counter["n"] + 1))
    return counter


def test_contract(explorer):
    assert set(explorer.controls) == {"scheme", "std", "activation", "depth", "width"}
    assert explorer.controls["std"].__class__.__mro__[2].__name__ == "FloatLogSlider"
    assert explorer.figure is explorer.canvas.figure
    assert explorer.message == ""
    assert_result_matches(explorer)


def test_canvas_sends_png_frames_before_the_front_end_is_ready(explorer):
    # ipympl 0.10 sends raw RGBA (a broken image in the browser) while syncing_data_url is
    # True; the explorer draws before it is displayed, so it must be off from the start.
    assert explorer.canvas.syncing_data_url is False
    sent = []
    explorer.canvas.send = lambda content, buffers=None: sent.append(buffers)
    explorer.controls["std"].value = 0.02
    frames = [b[0] for b in sent if b]
    assert frames and all(bytes(f[:8]) == b"\x89PNG\r\n\x1a\n" for f in frames)


def test_full_frame_is_a_lossless_png_of_the_canvas(explorer):
    sent = []
    explorer.canvas.send = lambda content, buffers=None: sent.append(buffers)
    explorer.canvas.handle_refresh(None)  # the front end asks for a full frame
    explorer.canvas.draw()
    frame = Image.open(io.BytesIO(bytes(sent[-1][0])))
    rendered = np.asarray(explorer.canvas.get_renderer().buffer_rgba())
    np.testing.assert_array_equal(np.asarray(frame), rendered)


def test_defaults_are_the_lecture():
    ex = init_explorer()
    assert ex.values == dict(scheme="normal", std=0.01, activation="tanh", depth=6, width=4096)
    assert (ex.n_samples, ex.seed) == (16, 0)
    np.testing.assert_allclose(init.layer_stats(ex.result).std,
                               [0.49, 0.29, 0.18, 0.11, 0.07, 0.05], atol=0.01)


@pytest.mark.parametrize("name, value", [
    ("scheme", "xavier"), ("scheme", "kaiming"), ("std", 0.05), ("std", 1e-4), ("std", 10.0),
    ("activation", "relu"), ("activation", "sigmoid"), ("depth", 1), ("depth", 10),
    ("width", 64), ("width", 1024),
])
def test_every_control_recomputes_before_returning(explorer, name, value):
    before = explorer.result
    explorer.controls[name].value = value
    assert explorer.controls[name].value == value
    assert explorer.result is not before  # a new object on every recompute
    assert explorer.message == ""
    assert_result_matches(explorer)


def test_a_sequence_of_moves_matches_direct_calls(explorer):
    moves = [("std", 0.03), ("activation", "relu"), ("scheme", "kaiming"), ("depth", 7),
             ("width", WIDTHS[0]), ("scheme", "normal"), ("std", 0.2), ("activation", "tanh")]
    for name, value in moves:
        explorer.controls[name].value = value
        assert_result_matches(explorer)


def test_std_moves_update_artists_in_place_without_a_full_draw(explorer):
    figure, axes = explorer.figure, list(explorer.figure.axes)
    bars = list(explorer._plot.bars)
    line = explorer._plot.std_line
    full = count_full_draws(explorer)
    heights = [b.get_data().values.copy() for b in bars]
    explorer.controls["std"].value = 0.05
    explorer.controls["std"].value = 0.03
    assert full["n"] == 0  # blitted: only the data artists were redrawn
    explorer.controls["scheme"].value = "xavier"  # the title changes: one full draw
    explorer.controls["width"].value = 1024  # and again (Xavier's std depends on width)
    assert full["n"] == 2
    assert explorer.figure is figure and explorer.figure.axes == axes
    assert explorer._plot.bars == bars and explorer._plot.std_line is line
    assert any(not np.array_equal(h, b.get_data().values) for h, b in zip(heights, bars))
    # and what is drawn is the new result
    for layer, a in enumerate(explorer.result):
        shares = histogram(a, "tanh")[0]
        np.testing.assert_allclose(bars[layer].get_data().values, shares / shares.max())
    np.testing.assert_allclose(line.get_ydata(), init.layer_stats(explorer.result).std, rtol=1e-6)


def test_layout_changes_rebuild_the_axes_on_the_same_figure(explorer):
    figure = explorer.figure
    full = count_full_draws(explorer)
    explorer.controls["depth"].value = 8
    assert explorer.figure is figure
    assert len(figure.axes) == 8 + 1
    explorer.controls["activation"].value = "relu"
    assert full["n"] == 2
    assert figure.axes[0].get_xlim() == (0.0, 4.0)


def test_blit_uses_the_background_of_the_last_full_draw(explorer):
    explorer.controls["depth"].value = 3
    background = explorer._background
    explorer.controls["std"].value = 0.02
    assert explorer._background is background
    explorer.canvas.draw()  # e.g. the front end asked for a redraw
    assert explorer._background is not background


def test_std_typed_as_zero_shows_a_message_not_a_traceback(explorer):
    explorer.controls["std"].value = 0
    assert "std = 0 is out of range (allowed 0.0001 to 10); using 0.0001" in explorer.message
    assert "out of range" in explorer._status.value
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
    assert explorer.message == "std must be a positive finite number; got nan"
    assert "positive finite" in explorer._status.value
    explorer.controls["std"].value = 0.01
    assert explorer.message == "" and explorer._status.value == ""
    assert_result_matches(explorer)


def test_messages_combine_without_repeating(explorer):
    explorer.controls["depth"].value = 0  # clamped to 1
    explorer.controls["std"].value = float("nan")  # rejected
    explorer.controls["depth"].value = 99  # clamped to 10 while std is still bad
    assert explorer.message.splitlines() == [
        "depth = 99 is out of range (allowed 1 to 10); using 10",
        "std must be a positive finite number; got nan",
    ]
    assert explorer.result is None


def test_depth_out_of_range_is_clamped_with_a_message(explorer):
    explorer.controls["depth"].value = 0
    assert "depth = 0 is out of range (allowed 1 to 10); using 1" in explorer.message
    assert len(explorer.result) == 1


def test_overflow_is_reported(explorer):
    assert explorer.warning([np.array([1.0]), np.array([np.inf])]).startswith(
        "activations overflow float32 from layer 2")


def test_std_control_is_disabled_when_the_scheme_derives_it(explorer):
    explorer.controls["scheme"].value = "kaiming"
    assert explorer.controls["std"].disabled
    explorer.controls["scheme"].value = "normal"
    assert not explorer.controls["std"].disabled


def test_mimebundle_has_live_widget_static_png_and_stable_text(explorer):
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["image/png"]
    assert bundle["text/plain"] == (
        "InitExplorer(scheme='normal', std=0.01, activation='tanh', depth=4, width=256)")
    # saving the snapshot must not spoil the blit background
    background = explorer._background
    explorer.controls["std"].value = 0.03
    assert explorer._background is background


def test_status_escapes_html(explorer):
    explorer._set_message("<b>x</b>", "error")
    assert "&lt;b&gt;" in explorer._status.value


@pytest.mark.parametrize("kwargs, message", [
    (dict(scheme="he"), "scheme must be one of normal, xavier, kaiming; got 'he'"),
    (dict(activation="elu"), "activation must be one of tanh, relu, sigmoid; got 'elu'"),
    (dict(std=0), "std must be a number between 0.0001 and 10; got 0"),
    (dict(std=float("nan")), "std must be a number between 0.0001 and 10; got nan"),
    (dict(depth=11), "depth must be an integer between 1 and 10; got 11"),
    (dict(width=300), "width must be one of 64, 256, 1024, 2048, 4096; got 300"),
    (dict(n_samples=0), "n_samples must be an integer >= 1; got 0"),
    (dict(seed=-2), "seed must be an integer >= 0; got -2"),
])
def test_bad_starting_values_are_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        init_explorer(**kwargs)
