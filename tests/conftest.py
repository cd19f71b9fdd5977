"""Fixtures every test may use, the markers (registered in pyproject.toml), and the run order.

Markers: ``slow`` (a minute or more, or a notebook graded or re-executed outside nbval; run by
``make test`` and CI, skipped by ``make test-fast``), ``notebook`` (executes a notebook),
``browser`` (JupyterLab in headless Chromium, ``tests/browser``). Data fixtures are
session-scoped: loaded once per run.

Run order: ``make test`` spreads whole scopes (a module, a test class, a notebook) over two
workers (``--dist loadscope --no-loadscope-reorder``), each worker taking the next scope in
collection order when it runs dry. The scopes that take the longest (a minute or more: a
notebook graded three times, nbgrader's course, a notebook re-executed under two CPUs) are
moved to the front, so that the run ends with many short scopes, which even out between the
workers, instead of ending with one worker grading notebooks while the other waits.
"""

import pytest

from course_utils.data import load_dataset, load_digits

#: Scopes run first, longest first (seconds per scope, 2-core machine, before issue 20):
#: nbgrader's course ~120, a notebook re-executed under two CPUs ~80, a notebook's grading
#: 40-75 each, the hostile classes ~50, a notebook under nbval 10-20, a fuzz file 10-25.
FIRST = (
    "tests/test_nbgrader_course.py",
    "tests/test_reproducible_execution.py",
    "tests/test_assignments.py::TestGrading_",
    "tests/test_grading_hostile.py",
    "notebooks/",
    "tests/test_fuzz.py",
)


#: Chapter tests marked ``slow`` here (their files belong to the chapters; a chapter may mark
#: them itself instead): each took over 15 s on the loaded 2-core machine of issue 20 (about
#: 3 s or more on a quiet one), alone or through its module's shared runs, so together they
#: would push ``make test-fast`` past its 2 minutes. ``make test`` runs them all. Prefix of the
#: node id: a whole module when its cost is a module-scoped fixture, else one test function.
SLOW = (
    "tests/chapters/ch01_activations/test_ch01_compare.py",
    "tests/chapters/ch03_initialization/test_ch03_runs.py",
    "tests/chapters/ch03_initialization/test_ch03_checks.py::test_wrong_answers_fail_the_",
    "tests/chapters/ch03_initialization/test_ch03_checks.py::test_plausible_wrong_answer_",
    "tests/chapters/ch03_initialization/test_ch03_checks.py::test_the_search_may_use_the_lesson",
    "tests/chapters/ch03_initialization/test_ch03_checks.py::test_reference_solution_passes_"
    "visible_and_hidden_tests[std_search]",
    "tests/chapters/ch04_batchnorm/test_ch04_additions.py::test_train_stack_takes_torch_sgds",
    "tests/chapters/ch07_regularization/test_ch07_checks.py::test_wrong_dropout_answers_fail",
    "tests/chapters/ch07_regularization/test_ch07_runs.py",
    "tests/chapters/ch09_monitoring/test_ch09_practice.py",
    "tests/chapters/ch09_monitoring/test_ch09_runs.py",
    "tests/chapters/ch09_monitoring/test_ch09_runs_seeds.py",
)


@pytest.fixture(scope="session")
def digits():
    """The digits as every chapter splits them (``load_digits()``: stratified 75/25, seed 0)."""
    return load_digits()


@pytest.fixture(scope="session")
def digits_dataset():
    """The same digits as the training chapters load them (``load_dataset("digits")``)."""
    return load_dataset("digits")


def _rank(nodeid: str) -> int:
    for rank, prefix in enumerate(FIRST):
        if nodeid.startswith(prefix):
            return rank
    return len(FIRST)


def pytest_collection_modifyitems(config, items):
    """nbval's notebook cells carry the ``notebook`` marker too (``-m "not notebook"``), the
    tests of ``SLOW`` the ``slow`` marker; the longest scopes go first (a stable sort: each
    scope stays whole and in its own order)."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
        if item.nodeid.startswith(SLOW):
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: _rank(item.nodeid))
