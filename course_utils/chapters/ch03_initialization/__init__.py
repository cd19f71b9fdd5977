"""Chapter 03, ``notebooks/03_weight_initialization.ipynb``: weight initialisation.

The lesson (the stds, samplers, gains and fans) is :mod:`course_utils.init`. Here:

- ``runs.py``: the lecture's 6 x 4096 network as an :class:`~.runs.Experiment`, its
  activations, gradients and variance rules, and the cases table;
- ``runs_symmetry.py``: why weights start random (zero and constant initialisations);
- ``explorer.py``: the init explorer (scheme, std, activation, depth, width); its compute is
  :func:`.runs.forward_pass`, its view :class:`course_utils.plots.LayerHistogramFigure`;
- ``checks.py``: the visible checks of the exercises (Xavier/Kaiming stds, a std search).
"""
