"""Helpers shared by the explorer tests (a plain module: pytest puts tests/ on sys.path)."""

import contextlib
import threading

import numpy as np

from course_utils.widgets import prefetch


def count_full_draws(ex):
    """A counter of the explorer figure's full draws from now on (``counter["n"]``)."""
    counter = {"n": 0}
    ex.figure.canvas.mpl_connect("draw_event", lambda e: counter.__setitem__("n", counter["n"] + 1))
    return counter


def pixels(ex):
    """A copy of what the explorer's canvas shows now, (H, W, 4) uint8."""
    return np.asarray(ex.canvas.get_renderer().buffer_rgba()).copy()


@contextlib.contextmanager
def hold_worker():
    """Keeps the explorers' background worker busy until the test sets the returned event
    (or the block ends): an explorer built meanwhile shows its "preparing" state for sure,
    with no timing."""
    release, running = threading.Event(), threading.Event()

    def hold():
        running.set()
        release.wait(60)

    done = prefetch._executor().submit(hold)
    assert running.wait(60), "the background worker never became free"
    yield release
    release.set()
    done.result(60)
