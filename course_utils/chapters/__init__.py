"""One folder per notebook: that chapter's seeded runs, figures, explorer and checks.

``chapters/ch07_regularization/`` belongs to ``notebooks/07_regularization.ipynb``:

- ``runs.py``: the chapter's experiments (seeded runs whose numbers the notebook prints);
- ``figures.py``: its static figures (functions that take an ``ax`` and return artists);
- ``explorer.py``: its explorer (see :mod:`course_utils.widgets.base`);
- ``checks.py``: the visible checks of its exercises (see :mod:`course_utils.checking`).

The lesson itself (the from-scratch code a student reads) lives in the concept modules at the
top of the package (:mod:`course_utils.regularization`, ...), which import nothing from here.
Adding a chapter is copying a folder; its tests are in ``tests/chapters/<the same name>/``.
"""
