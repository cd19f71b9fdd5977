"""Chapter 05 (``notebooks/05_optimizers.ipynb``): optimisers.

The lesson (SGD, momentum, Nesterov, Adagrad, RMSprop, Adadelta, Adam, AdamW from scratch) is
:mod:`course_utils.optim`. Here: ``surfaces.py`` (the 2-D test surfaces, one optimiser's run on
them and what it measures), ``runs.py`` (the races on a surface and on the digits, weight decay,
step sizes), ``figures.py`` (the family graph, the race's loss curves, the explorer's view
``TrajectoryView``), ``explorer.py`` (the optimiser explorer), ``checks.py`` (the visible checks
of the Nesterov and Adam exercises); ``quadratic.py`` (momentum on a quadratic in closed form:
rates, Goh's phase diagram, the Chebyshev lower bound, the error in the eigenbasis),
``stochastic.py`` (noisy gradients: momentum's noise floor, the noisy race, AdaGrad on sparse
features), ``second_order.py`` (Newton and L-BFGS, as ``torch.optim.LBFGS``), ``parity.py``
(each rule against ``torch.optim``'s update).
"""
