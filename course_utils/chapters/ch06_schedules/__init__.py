"""Chapter 06 (``notebooks/06_learning_rate_schedules.ipynb``): learning-rate schedules.

The lesson (the schedules as closed forms, checked against ``torch.optim.lr_scheduler``) is
:mod:`course_utils.schedules` with :mod:`course_utils.schedules_beyond`. Here: ``parity.py``
(torch's scheduler of each schedule, step by step: the oracle of the tests and of the parity
table), ``runs.py`` (SGD's noise floor on a noisy quadratic, the step-decay runs and their
table), ``runs_warmup.py`` (Adam's first step, the warm-up runs and their table),
``runs_rates.py`` (Robbins-Monro on the quadratic, the LR range test, the linear scaling rule),
``seed_runs.py`` (several seeds trained side by side in float64), ``lean_optim.py``
(torch.optim's momentum SGD and Adam without its import cost), ``figures.py`` (the explorer's
view ``ScheduleView``), ``explorer.py`` (the schedule explorer), ``checks.py`` (the visible
check of the warm-up + cosine exercise).
"""
