"""Helpers shared by the explorer tests (a plain module: pytest puts tests/ on sys.path)."""

import numpy as np


def count_full_draws(ex):
    """A counter of the explorer figure's full draws from now on (``counter["n"]``)."""
    counter = {"n": 0}
    ex.figure.canvas.mpl_connect("draw_event", lambda e: counter.__setitem__("n", counter["n"] + 1))
    return counter


def pixels(ex):
    """A copy of what the explorer's canvas shows now, (H, W, 4) uint8."""
    return np.asarray(ex.canvas.get_renderer().buffer_rgba()).copy()
