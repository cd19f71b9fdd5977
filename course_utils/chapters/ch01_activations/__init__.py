"""Chapter 01, ``notebooks/01_activation_functions.ipynb``; the lesson is
:mod:`course_utils.activations`.

- ``runs.py``: what an activation does to a spread of inputs (:func:`.runs.unit_response`)
  and the zig-zag of all-positive inputs (weight-gradient signs);
- ``runs_dead_relu.py``: dead ReLUs after a large update (training runs on the digits), and
  the same run with Leaky ReLU and ELU;
- ``runs_depth.py``: the gradient measured layer by layer in deep stacks; SELU's
  self-normalising fixed point;
- ``runs_zigzag.py``: the zig-zag path of one sigmoid unit's two weights;
- ``runs_compare.py``: the same small network trained with each activation;
- ``figures.py``: every activation with its derivative, the zig-zag paths, and the explorer's view
  (``ActivationResponseFigure``);
- ``explorer.py``: the activation explorer;
- ``checks.py``: the visible check of the Leaky ReLU exercise.
"""
