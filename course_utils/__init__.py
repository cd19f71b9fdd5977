"""course_utils: the package behind "Training Neural Networks, interactively".

One module per chapter concept (:mod:`~course_utils.activations`, :mod:`~course_utils.init`,
...), per-layer statistics in :mod:`~course_utils.stats`, printed tables in
:mod:`~course_utils.tables`, shared plotting in :mod:`~course_utils.plots`, explorers in
:mod:`~course_utils.widgets`, exercise feedback in :mod:`~course_utils.checks`.
Submodules are imported on use, so ``import course_utils`` stays cheap.
"""

__version__ = "0.1.0"
