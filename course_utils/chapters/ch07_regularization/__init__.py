"""Chapter 07, regularisation: the code of ``notebooks/07_regularization.ipynb`` beyond the lesson.

The lesson is :mod:`course_utils.regularization` (penalties, dropout, DropConnect, stochastic
depth) and :mod:`course_utils.augmentation`; here:

- ``runs.py``: the seeded experiments whose numbers the notebook prints (the train/validation
  gap study in ``runs_gap.py``), and ``dropout_demo``, what the explorer computes;
- ``figures.py``: its static figures and the explorer's view (``DropoutView``);
- ``explorer.py``: the dropout / DropConnect explorer;
- ``checks.py``: the visible checks of its two exercises (the dropout network's in
  ``checks_network.py``, importable from ``checks``).
"""
