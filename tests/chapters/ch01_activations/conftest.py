"""Chapter 01's expensive training runs, shared by its test modules (computed once a session)."""

import pytest

from course_utils.chapters.ch01_activations import runs_dead_relu


@pytest.fixture(scope="session")
def by_lr():
    """The notebook's dead-ReLU runs: learning rates 1 and 10, seeds 0 to 4, 128 units, 50 steps."""
    return runs_dead_relu.train_over_seeds(lrs=(1.0, 10.0), seeds=range(5), hidden=128, steps=50)
