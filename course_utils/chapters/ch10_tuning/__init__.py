"""Chapter 10, ``notebooks/10_hyperparameter_tuning.ipynb``: hyperparameter search.

The lesson (spaces, log-uniform sampling, grid and random search, coarse-to-fine) is
:mod:`course_utils.tuning`. Here: ``runs`` (Bergstra & Bengio's synthetic objective, the grid
vs random race, the explorer's search, the real search of a small MLP and Optuna), ``figures``
(the static figures), ``explorer`` (grid vs random vs coarse-to-fine) and ``checks`` (the
visible check of the exercise).
"""
