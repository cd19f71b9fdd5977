"""Chapter 01, ``notebooks/01_activation_functions.ipynb``; the lesson is
:mod:`course_utils.activations`.

- ``runs.py``: what an activation does to a spread of inputs (:func:`.runs.unit_response`)
  and the zig-zag of all-positive inputs (weight-gradient signs);
- ``runs_dead_relu.py``: dead ReLUs after a large update (training runs on the digits);
- ``figures.py``: every activation with its derivative, and the explorer's view
  (``ActivationResponseFigure``);
- ``explorer.py``: the activation explorer;
- ``checks.py``: the visible check of the Leaky ReLU exercise.
"""
