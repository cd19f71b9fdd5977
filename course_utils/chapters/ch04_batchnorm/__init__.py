"""Chapter 04, ``notebooks/04_batch_norm.ipynb``: Batch Normalisation.

The lesson (forward, backward, the layer step of the NumPy network) is
:mod:`course_utils.batchnorm`. Here:

- ``runs.py``: the experiments on the lecture's network (invariances, train vs eval mode,
  eps, active ReLU units) and the network the explorer computes (``explorer_run``);
  ``runs_batch_size.py``: the batch size (a batch of two, the batch statistics' spread,
  BN's noise as a regulariser); ``runs_training.py``: training on the digits with and without Batch
  Norm, running statistics; ``runs_lr.py``: many MLPs trained side by side (learning
  rates, weight decay, the effective learning rate); ``runs_conv.py``: ``BatchNorm2d`` and
  folding BN into a convolution, against torch;
- ``figures.py``: the chapter's static figures (ReLU histograms with the share at 0);
- ``explorer.py``: the Batch Norm explorer;
- ``checks.py``: the visible checks of the exercises (forward in training mode; backward in
  ``checks_backward.py``, importable from ``checks``; what both read of an answer in
  ``checks_answers.py``).
"""
