"""Chapter 07, regularisation: the code of ``notebooks/07_regularization.ipynb`` beyond the lesson.

The lesson is :mod:`course_utils.regularization` (penalties, dropout, DropConnect, stochastic
depth) and :mod:`course_utils.augmentation`; here:

- ``runs.py``: the seeded experiments whose numbers the notebook prints (Monte-Carlo dropout,
  mask-set errors, noise injection, weight decay); the train/validation gap study and the
  penalty study, networks trained side by side, in ``runs_gap.py``, their results
  (``GapStudy``, ``PenaltyStudy``) in ``runs_studies.py``; one network at a time with
  ``train`` (``gap_runs``, ``penalty_weights``) in ``runs_single.py``;
- ``runs_explorer.py``: ``dropout_demo``, what the explorer computes;
- ``figures.py``: its static figures and the explorer's view (``DropoutView``);
- ``explorer.py``: the dropout / DropConnect explorer;
- ``checks.py``: the visible checks of its two exercises (the dropout network's in
  ``checks_network.py``, importable from ``checks``).
"""
