"""Chapter 08, sanity checks: the code of ``notebooks/08_sanity_checks.ipynb`` beyond the lesson.

The lesson is :mod:`course_utils.sanity` (the loss at initialisation, overfitting a tiny
subset) and :mod:`course_utils.gradcheck` (numerical gradients); here:

- ``runs.py``: the seeded experiments whose numbers the notebook prints, and
  ``step_tradeoff``, what the explorer computes (truncation against round-off);
- ``figures.py``: the explorer's view (``StepView``);
- ``explorer.py``: the step-size explorer;
- ``checks.py``: the visible check of its exercise (``numerical_gradient``).
"""
