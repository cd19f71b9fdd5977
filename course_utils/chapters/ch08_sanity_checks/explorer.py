"""Chapter 08's explorer: the step h of a numerical derivative, truncation against round-off.

Its computation is
:func:`~course_utils.chapters.ch08_sanity_checks.runs_step_tradeoff.step_tradeoff` (the
measured error of :func:`~course_utils.chapters.ch08_sanity_checks.runs.difference_errors` and
its two models); its view is :class:`~course_utils.chapters.ch08_sanity_checks.figures.StepView`.
"""

from __future__ import annotations

from course_utils.chapters.ch08_sanity_checks.figures import StepView
from course_utils.chapters.ch08_sanity_checks.runs_step_tradeoff import EPSILON, step_tradeoff
from course_utils.gradcheck import METHODS
from course_utils.widgets.base import Explorer, LogSlider, check_start, make_controls, new_figure

__all__ = ["SanityExplorer", "sanity_explorer", "START"]


#: The controls' starting values; each control is declared once, in :func:`_controls`.
START = dict(h=1e-5, method="centred", dtype="float64")


def _controls() -> dict:
    """The explorer's controls, named as :func:`~.runs_step_tradeoff.step_tradeoff`'s arguments."""
    return make_controls(
        h=LogSlider(  # a ready control for its readout, 1.0e-05
            min=-12,
            max=-1,
            step=0.1,
            value=1e-12,
            description="h",
            readout_format=".1e",
            style={"description_width": "initial"},
        ),
        method=METHODS,
        dtype=tuple(EPSILON),
    )


class SanityExplorer(Explorer):
    """Drag the step h, switch centred/forward and float64/float32: the error curve, its two
    models and the chosen point redraw in place.

    ``result`` is :func:`~.runs_step_tradeoff.step_tradeoff` for the controls' values (keyword arguments ``h``,
    ``method``, ``dtype``; defaults 1e-5, centred, float64).
    """

    def __init__(self, figsize=(7.5, 3.6), dpi=96, **start):
        controls = _controls()
        check_start(controls, start)  # before the figure (~1 s to build): a mistake costs none
        self.view = StepView(new_figure(figsize, dpi), animated=True)
        super().__init__(controls, self.view.figure, **{**START, **start})

    def compute(self, h, method, dtype):
        return step_tradeoff(h, method, dtype)

    def render(self, result, h, method, dtype) -> list:
        return self.view.update(result)

    def background_key(self, h, method, dtype):
        return "fixed"  # fixed limits, labels and legend: only the curves move

    def describe(self, result, h, method, dtype) -> str:
        return (
            f"h = {result.h:.1e}: quotient {result.quotient:.10f}, exact "
            f"{result.exact:.10f}, error {result.error:.1e}; best h on the grid "
            f"{result.best_h:.0e} (error {result.best_error:.0e})"
        )

    def warning(self, result) -> str:
        if result.error > 1e-7:
            return (
                f"error {result.error:.1e} > 1e-7: with this h and precision a correct "
                "gradient would fail a 1e-7 check"
            )
        return ""


def sanity_explorer(**start) -> SanityExplorer:
    """Build chapter 08's explorer; keyword arguments set the controls' starting values.

    Accepted: ``h`` (1e-12 to 0.1), ``method`` (``"centred"``, ``"forward"``), ``dtype``
    (``"float64"``, ``"float32"``), and ``figsize``, ``dpi``. See :class:`SanityExplorer`.
    """
    return SanityExplorer(**start)
