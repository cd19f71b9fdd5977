"""Chapter 03, ``notebooks/03_weight_initialization.ipynb``: weight initialisation.

The lesson (the stds, samplers, gains and fans) is :mod:`course_utils.init`. Here:

- ``runs.py``: the lecture's 6 x 4096 network as an :class:`~.runs.Experiment`, its
  activations, gradients and variance rules, and the cases table; ``_fast_path.py`` runs
  them on one BLAS thread and keeps the last forward records (cells reuse the networks);
- ``runs_symmetry.py``: why weights start random (zero and constant initialisations);
- ``runs_depth.py``: deeper networks (gradients at depth 24, d2l's product of random
  matrices, a residual stream with GPT-2's 1/sqrt(N) and Fixup's zeros);
- ``runs_training.py``: a tanh MLP trained on the digits from four initial scales;
- ``figures.py``: the per-layer histograms with a readable std axis, the training curves;
- ``explorer.py``: the init explorer (scheme, std, activation, depth, width); its compute is
  :func:`.runs.forward_pass`, its view :class:`course_utils.plots.LayerHistogramFigure`;
- ``checks.py``: the visible checks of the exercises (Xavier/Kaiming stds, a std search).
"""
