"""Fixtures every test may use, and the markers (registered in pyproject.toml).

Markers: ``slow`` (a minute or more; run by ``make test`` and CI, skipped by
``make test-fast``), ``notebook`` (executes a notebook), ``browser`` (JupyterLab in headless
Chromium, ``tests/browser``). Data fixtures are session-scoped: loaded once per run.
"""

import pytest

from course_utils.data import load_dataset, load_digits


@pytest.fixture(scope="session")
def digits():
    """The digits as every chapter splits them (``load_digits()``: stratified 75/25, seed 0)."""
    return load_digits()


@pytest.fixture(scope="session")
def digits_dataset():
    """The same digits as the training chapters load them (``load_dataset("digits")``)."""
    return load_dataset("digits")


def pytest_collection_modifyitems(config, items):
    """nbval's notebook cells carry the ``notebook`` marker too (``-m "not notebook"``)."""
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebook)
