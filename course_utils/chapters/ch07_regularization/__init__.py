"""Chapter 07, regularisation: the code of ``notebooks/07_regularization.ipynb`` beyond the lesson.

The lesson is :mod:`course_utils.regularization` (penalties, dropout, DropConnect, stochastic
depth) and :mod:`course_utils.augmentation`; here:

- ``runs.py``: the seeded experiments whose numbers the notebook prints (the train/validation
  gap study in ``runs_gap.py``);
- ``figures.py``: its static figures;
- ``explorer.py``: the dropout / DropConnect explorer and its computation;
- ``checks.py``: the visible checks of its two exercises (the dropout network's in
  ``checks_network.py``, importable from ``checks``).
"""
