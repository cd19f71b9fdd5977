"""Chapter 09, ``notebooks/09_monitoring.ipynb``: watch a network train.

The lesson (EMA smoothing, update-to-weight ratios, per-layer statistics, the ``Monitor``
callback) is :mod:`course_utils.monitoring`. Here: ``runs`` (the classic loss curves over
seeds, and the monitored run the dashboard's Start trains), ``runs_seeds`` (the high-rate
curve and the dead units, claims checked seed by seed), ``runs_practice`` (early stopping,
first-layer filters, TensorBoard), ``figures`` (their figures, and the
dashboard's panels), ``explorer`` (the live training dashboard) and ``checks`` (the visible
checks of the two exercises).
"""
