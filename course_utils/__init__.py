"""course_utils: the package behind "Training Neural Networks, interactively".

It reads as lesson -> chapters -> widgets framework:

- **the lesson**, one module per concept, from scratch and readable top to bottom
  (:mod:`~course_utils.activations`, :mod:`~course_utils.preprocessing`,
  :mod:`~course_utils.init`, :mod:`~course_utils.network`, :mod:`~course_utils.batchnorm`,
  :mod:`~course_utils.optim`, :mod:`~course_utils.schedules` with
  :mod:`~course_utils.schedules_beyond`,
  :mod:`~course_utils.regularization` with :mod:`~course_utils.penalties`,
  :mod:`~course_utils.augmentation`, :mod:`~course_utils.gradcheck` with
  :mod:`~course_utils.gradcheck_models`, :mod:`~course_utils.sanity`,
  :mod:`~course_utils.monitoring` with :mod:`~course_utils.training_monitor`,
  :mod:`~course_utils.tuning`);
- **what the chapters share**: data (:mod:`~course_utils.data`), the torch training loop
  (:mod:`~course_utils.training`, :mod:`~course_utils.models`), runs over seeds
  (:mod:`~course_utils.seed_runs`, :mod:`~course_utils.lean_sgd`,
  :mod:`~course_utils.stacked`),
  statistics, tables and plots (:mod:`~course_utils.stats`, :mod:`~course_utils.tables`,
  :mod:`~course_utils.plots`), argument checks (:mod:`~course_utils.validation`), the
  exercises' reference answers and check helpers (:mod:`~course_utils.references`,
  :mod:`~course_utils.checking`), and the explorers' weight cache
  (:mod:`~course_utils.weight_cache`);
- **one folder per notebook** (:mod:`course_utils.chapters`): its runs, figures, explorer and
  visible checks;
- **the explorer framework** (:mod:`course_utils.widgets`): the contract, controls, canvas,
  prefetching and the registry of explorers.

Submodules are imported on use, so ``import course_utils`` stays cheap.
"""

__version__ = "0.1.0"
