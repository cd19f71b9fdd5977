"""Chapter 07's explorer: dropout / DropConnect masks and outputs of one layer.

The explorer shows one layer :math:`z = aW` with a keep-mask on the units of ``a``
(dropout) or on the weights ``W`` (DropConnect): the mask, the training-time output with
that mask, the test-time output, and the average training output over many masks against
the test output (the general pattern: randomness in training, its expectation at test).
``p`` is the probability of DROPPING, as in ``torch.nn.Dropout``. Its computation is
:func:`~course_utils.chapters.ch07_regularization.runs_explorer.dropout_demo`, with the
lesson's masks (:func:`course_utils.regularization.dropout_mask`); its view is
:class:`~course_utils.chapters.ch07_regularization.figures.DropoutView`.
"""

from __future__ import annotations

import numpy as np

from course_utils.chapters.ch07_regularization.figures import DropoutView
from course_utils.chapters.ch07_regularization.runs_explorer import METHODS, dropout_demo
from course_utils.validation import MAX_ELEMENTS, check_int
from course_utils.widgets.base import Explorer, check_start, make_controls, new_figure

__all__ = ["DropoutExplorer", "dropout_explorer", "START"]

P_MAX = 0.9
SEED_MAX = 50

#: The controls' starting values; each control is declared once, in :func:`_controls`.
START = dict(p=0.5, version=2, method="dropout", seed=0)


def _controls() -> dict:
    """The explorer's controls, named as :func:`~.runs_explorer.dropout_demo`'s arguments."""
    return make_controls(
        p=(0.0, P_MAX, 0.05),
        version=(("1: scale at test", 1), ("2: inverted", 2)),
        method=METHODS,
        seed=(0, SEED_MAX, 1),
    )


class DropoutExplorer(Explorer):
    """Masks and outputs of one layer under dropout or DropConnect, live.

    ``result`` is :func:`~.runs_explorer.dropout_demo` for the controls' ``p`` (probability of
    DROPPING), ``version``, ``method`` and ``seed`` (keyword arguments; defaults 0.5, 2,
    dropout, 0); ``n_masks`` (the masks the mean is taken over) is fixed at construction.
    """

    def __init__(self, n_masks=1000, figsize=(8.5, 2.6), dpi=96, **start):
        # the explorer's layer is 16 x 16: n_masks stacked masks of 256 entries each
        self.n_masks = check_int("n_masks", n_masks, 1, MAX_ELEMENTS // 256)
        controls = _controls()
        check_start(controls, start)  # before the figure (~1 s to build): a mistake costs none
        self.view = DropoutView(new_figure(figsize, dpi), animated=True)
        super().__init__(controls, self.view.figure, **{**START, **start})

    def compute(self, p, version, method, seed):
        return dropout_demo(p, version, method, seed, n_masks=self.n_masks)

    def render(self, result, p, version, method, seed) -> list:
        if self.view.set_method(method):
            self.request_full_draw()
        return self.view.update(result, method)

    def background_key(self, p, version, method, seed):
        return method  # only the mask panel's axis labels depend on a control

    def describe(self, result, p, version, method, seed) -> str:
        return (
            f"kept {result.kept:.0%} of the {'units' if method == 'dropout' else 'weights'}"
            f"   max|train z| {np.abs(result.train).max():.2f}"
            f"   max|test z| {np.abs(result.test).max():.2f}"
            f"   mean of {self.n_masks} masks vs test: rel. error {result.rel_error:.1%}"
        )

    def warning(self, result) -> str:
        if result.kept == 0:
            return "this mask drops everything: the training output is all zero"
        return ""


def dropout_explorer(**start) -> DropoutExplorer:
    """Build chapter 07's explorer; keyword arguments set the controls' starting values.

    Accepted: ``p`` (probability of DROPPING, 0 to 0.9), ``version`` (1 or 2), ``method``
    (``"dropout"`` or ``"DropConnect"``), ``seed`` (0 to 50), and ``n_masks``, ``figsize``,
    ``dpi``. See :class:`DropoutExplorer`.
    """
    return DropoutExplorer(**start)
