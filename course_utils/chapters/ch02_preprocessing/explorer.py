"""Chapter 02's explorer: a 2-D Gaussian cloud, decorrelated and whitened (PCA and ZCA)."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from course_utils.chapters.ch02_preprocessing.figures import WHITENING_TITLES, ScatterPanels
from course_utils.chapters.ch02_preprocessing.runs import correlated_gaussian, whitening_demo
from course_utils.plots import check_figure_size
from course_utils.validation import MAX_SEED, check_real
from course_utils.widgets.base import Explorer, FloatSlider, check_start_value

__all__ = ["WhiteningExplorer", "whitening_explorer"]


def _matrix(cov) -> str:
    a, b, c, d = (round(float(v), 3) + 0.0 for v in cov.ravel())  # + 0.0: no "-0.000"
    return f"[[{a:.3f}, {b:.3f}], [{c:.3f}, {d:.3f}]]"


class WhiteningExplorer(Explorer):
    """Four panels (original, decorrelated, PCA-whitened, ZCA-whitened) of one 2-D sample.

    ``result`` is the :class:`.runs.WhiteningDemo` of :func:`.runs.whitening_demo` for the
    controls' correlation, angle and scale (``n``, ``seed`` and ``eps`` fixed at
    construction: the same standard-normal draws for every move, so only the shape of the
    cloud changes).
    """

    def __init__(
        self,
        correlation=0.8,
        angle=0.0,
        scale=1.5,
        n=500,
        seed=0,
        eps=1e-5,
        figsize=(8.5, 2.6),
        dpi=96,
    ):
        correlated_gaussian(n=n, seed=seed)  # n and seed: the sampler's own checks
        whitening_demo(n=2, eps=eps)  # eps: the whitener's check
        if isinstance(seed, np.random.Generator):  # the same draws for every move
            seed = int(seed.integers(MAX_SEED, endpoint=True))
        check_real("dpi", dpi, low=10)  # below, FreeType refuses the fonts
        check_figure_size(figsize, dpi)
        self.n, self.seed, self.eps = n, seed, eps
        style = {"description_width": "80px"}
        controls = {
            "correlation": FloatSlider(
                min=-1.0,
                max=1.0,
                step=0.01,
                description="correlation",
                style=style,
                readout_format=".2f",
            ),
            "angle": FloatSlider(
                min=-90.0,
                max=90.0,
                step=1.0,
                description="angle",
                style=style,
                readout_format=".0f",
            ),
            "scale": FloatSlider(
                min=0.2, max=3.0, step=0.05, description="scale", style=style, readout_format=".2f"
            ),
        }
        start = dict(correlation=correlation, angle=angle, scale=scale)
        for name, value in start.items():  # before the figure, the costly part
            check_start_value(name, controls[name], value)
        self.view = ScatterPanels(Figure(figsize=figsize, dpi=dpi), WHITENING_TITLES, animated=True)
        super().__init__(controls, self.view.figure, **start)

    def compute(self, correlation, angle, scale):
        return whitening_demo(correlation, angle, scale, n=self.n, seed=self.seed, eps=self.eps)

    def render(self, result, correlation, angle, scale) -> list:
        return self.view.update([result.original, result.decorrelated, result.pca, result.zca])

    def describe(self, result, correlation, angle, scale) -> str:
        return (
            f"cov before {_matrix(result.cov_original)}   "
            f"after PCA {_matrix(result.cov_pca)}   after ZCA {_matrix(result.cov_zca)}"
        )

    def background_key(self, correlation, angle, scale):
        return "fixed"  # fixed limits and titles: only the points change

    def warning(self, result) -> str:
        values = np.linalg.eigvalsh(result.cov_original)
        if values[0] < 1e3 * self.eps:
            return (
                f"the smallest variance, {values[0]:.2g}, is close to eps = {self.eps:g}: "
                "whitening no longer reaches unit variance in that direction"
            )
        return ""


def whitening_explorer(**start) -> WhiteningExplorer:
    """Build chapter 02's explorer; keyword arguments set the controls' starting values.

    Accepted: ``correlation``, ``angle``, ``scale`` (controls) and ``n``, ``seed``, ``eps``,
    ``figsize``, ``dpi``. See :class:`WhiteningExplorer`.
    """
    return WhiteningExplorer(**start)
