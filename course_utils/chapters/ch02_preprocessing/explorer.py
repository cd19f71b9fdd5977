"""Chapter 02's explorer: a 2-D Gaussian cloud, decorrelated and whitened (PCA and ZCA)."""

from __future__ import annotations

import numpy as np

from course_utils.chapters.ch02_preprocessing.figures import (
    EXPLORER_LIMITS,
    WHITENING_LABELS,
    WHITENING_TITLES,
    ScatterPanels,
)
from course_utils.chapters.ch02_preprocessing.runs import MAX_POINTS, whitening_demo
from course_utils.validation import check_int, check_real, fixed_seed
from course_utils.widgets.base import (
    Explorer,
    FloatSlider,
    check_start,
    make_controls,
    new_figure,
)

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
        controls = make_controls(
            correlation=(-1.0, 1.0, 0.01),
            angle=FloatSlider(  # whole degrees: a ready control for its readout
                min=-90.0,
                max=90.0,
                step=1.0,
                description="angle",
                readout_format=".0f",
                style={"description_width": "initial"},
            ),
            scale=(0.2, 3.0, 0.05),
        )
        start = dict(correlation=correlation, angle=angle, scale=scale)
        check_start(controls, start)  # before the figure: a mistake costs no drawing
        self.n = check_int("n", n, 2, MAX_POINTS)
        self.eps = check_real("eps", eps, 0.0, low_open=True)
        seed = fixed_seed("seed", seed)  # the same draws on every call
        self.seed = seed
        self.view = ScatterPanels(
            new_figure(figsize, dpi),
            WHITENING_TITLES,
            limit=EXPLORER_LIMITS,
            animated=True,
            labels=WHITENING_LABELS,
        )
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
        outside = self.view.outside([result.original, result.decorrelated, result.pca, result.zca])
        if outside:  # not for the controls' ranges with the default n and seed
            return f"{outside} points lie outside the panels' fixed limits"
        return ""


def whitening_explorer(**start) -> WhiteningExplorer:
    """Build chapter 02's explorer; keyword arguments set the controls' starting values.

    Accepted: ``correlation``, ``angle``, ``scale`` (controls) and ``n``, ``seed``, ``eps``,
    ``figsize``, ``dpi``. See :class:`WhiteningExplorer`.
    """
    return WhiteningExplorer(**start)
