"""The ipympl canvas patches (course_utils.widgets.canvas), tied to the pinned versions.

If matplotlib or ipympl moves away from the versions the patches were written against,
the first test fails on purpose: read ``FigureCanvasWebAggCore.get_diff_image`` and
ipympl's ``Canvas.send_binary`` / ``_handle_message`` of the new versions, adapt
``FastPNGCanvas`` (or drop a patch the new version makes unneeded), then update the pins.
"""

import io
import re
import types
import warnings
from pathlib import Path

import ipympl
import matplotlib
import numpy as np
import pytest
from matplotlib.backends.backend_webagg_core import FigureCanvasWebAggCore
from matplotlib.figure import Figure
from PIL import Image

from course_utils.widgets.canvas import make_canvas

PINS = dict(
    re.findall(
        r"^([\w-]+)==([\w.+]+)", (Path(__file__).parents[1] / "requirements.txt").read_text(), re.M
    )
)


def test_patches_were_written_for_the_installed_versions():
    assert (matplotlib.__version__, ipympl.__version__) == ("3.11.2", "0.10.0")
    assert (PINS["matplotlib"], PINS["ipympl"]) == ("3.11.2", "0.10.0")


def drawn_canvas():
    figure = Figure(figsize=(3, 2), dpi=50)
    ax = figure.add_subplot()
    (line,) = ax.plot([0, 1], [0, 1])
    canvas = make_canvas(figure)
    return canvas, line


def capture(canvas):
    sent = []
    canvas.send = lambda content, buffers=None: sent.append(buffers)
    return sent


def decode(frame) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(bytes(frame))))


@pytest.mark.parametrize("mode", ["full", "diff"])
def test_frames_decode_to_what_matplotlib_would_send(mode):
    ours, line = drawn_canvas()
    theirs, their_line = drawn_canvas()
    # matplotlib's own encoder on the other canvas: same pixels expected, other zlib level
    theirs.get_diff_image = types.MethodType(FigureCanvasWebAggCore.get_diff_image, theirs)
    frames = []
    for canvas, artist in ((ours, line), (theirs, their_line)):
        sent = capture(canvas)
        canvas.draw()  # the first frame is always full
        if mode == "diff":
            artist.set_ydata([1, 0])
            canvas.draw()
        frames.append((canvas._current_image_mode, [b[0] for b in sent if b][-1]))
    (our_mode, our_frame), (their_mode, their_frame) = frames
    assert our_mode == their_mode == mode
    np.testing.assert_array_equal(decode(our_frame), decode(their_frame))


def test_frames_are_png_before_the_front_end_says_initialized():
    # ipympl 0.10 sends raw RGBA (a broken image in the browser) while syncing_data_url is
    # True; an explorer draws before it is displayed, so it must be off from the start.
    canvas, line = drawn_canvas()
    assert canvas.syncing_data_url is False
    sent = capture(canvas)
    line.set_ydata([0.5, 0.2])
    canvas.draw()
    frames = [b[0] for b in sent if b]
    assert frames and all(bytes(f[:8]) == b"\x89PNG\r\n\x1a\n" for f in frames)


def test_unpatched_ipympl_still_sends_raw_rgba_first():
    # The reason for patch 1: when this fails, ipympl fixed it and the patch can go.
    from ipympl.backend_nbagg import Canvas, FigureManager

    figure = Figure(figsize=(3, 2), dpi=50)
    figure.add_subplot().plot([0, 1])
    canvas = Canvas(figure)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # as in make_canvas
        FigureManager(canvas, 0)
    assert canvas.syncing_data_url is True
    sent = capture(canvas)
    canvas.draw()
    frames = [b[0] for b in sent if b]
    assert frames and bytes(frames[0][:8]) != b"\x89PNG\r\n\x1a\n"


def test_full_frame_is_a_lossless_png_of_the_canvas():
    canvas, _ = drawn_canvas()
    sent = capture(canvas)
    canvas.handle_refresh(None)  # the front end asks for a full frame
    canvas.draw()
    rendered = np.asarray(canvas.get_renderer().buffer_rgba())
    np.testing.assert_array_equal(decode(sent[-1][0]), rendered)


def test_initialized_message_calls_the_displayed_callbacks():
    canvas, _ = drawn_canvas()
    calls = []
    canvas.displayed_callbacks.append(lambda: calls.append(1))
    canvas._handle_message(canvas, {"type": "initialized"}, [])
    assert calls == [1]


def test_creating_an_explorer_leaves_pyplots_backend_alone():
    # ipympl's __init__ switches pyplot to ipympl whenever matplotlib is imported; later
    # `plt` figures would then be stored as text/html canvases (nbval compares those byte
    # for byte). A fresh interpreter, since this one has imported ipympl already.
    import subprocess
    import sys

    code = """
import matplotlib
matplotlib.use("agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from course_utils.widgets.canvas import make_canvas
from course_utils.widgets import activation_explorer
make_canvas(Figure())
activation_explorer()
assert matplotlib.get_backend() == "agg", matplotlib.get_backend()
fig = plt.figure()
assert type(fig.canvas).__module__.startswith("matplotlib.backends.backend_agg"), type(fig.canvas)
print("ok")
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
