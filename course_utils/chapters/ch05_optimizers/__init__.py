"""Chapter 05 (``notebooks/05_optimizers.ipynb``): optimisers.

The lesson (SGD, momentum, Nesterov, Adagrad, RMSprop, Adadelta, Adam, AdamW from scratch) is
:mod:`course_utils.optim`. Here: ``surfaces.py`` (the 2-D test surfaces and the optimiser race
on them), ``runs.py`` (weight decay, the digits race, step sizes), ``figures.py`` (the family
graph, the race's loss curves), ``explorer.py`` (the optimiser explorer), ``checks.py`` (the
visible checks of the Nesterov and Adam exercises).
"""
