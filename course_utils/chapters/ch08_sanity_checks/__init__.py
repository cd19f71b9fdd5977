"""Chapter 08, sanity checks: the code of ``notebooks/08_sanity_checks.ipynb`` beyond the lesson.

The lesson is :mod:`course_utils.sanity` (the loss at initialisation, overfitting a tiny
subset) and :mod:`course_utils.gradcheck` (numerical gradients); here:

- ``runs.py``: the seeded experiments whose numbers the notebook prints;
- ``runs_step_tradeoff.py``: ``step_tradeoff``, what the explorer computes (truncation
  against round-off);
- ``lecture_net.py``: the lecture's own loss check, CS231n's two-layer net
  (``init_two_layer_model(32*32*3, 50, 10)``, 2.3026 and 3.07 with reg 1e3);
- ``recipe.py``: Karpathy's cheap checks, run: the input-independent baseline and the
  shuffled-label control (``recipe_baselines``), the backprop dependency check
  (``batch_dependency``, and the bug it catches, ``TransposeByView``);
- ``depth_check.py``: a correct gradient's relative error against depth (CS231n);
- ``figures.py``: the explorer's view (``StepView``) and ``decade_ticks`` for log axes;
- ``explorer.py``: the step-size explorer;
- ``checks.py``: the visible check of its exercise (``numerical_gradient``).
"""
