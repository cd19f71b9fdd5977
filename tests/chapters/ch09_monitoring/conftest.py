"""Chapter 09's tests share the notebook's runs: section 2's four settings and the fifth (lr
0.1), every seed, trained once per session in one loop, as the notebook trains them."""

import pytest

from course_utils.chapters.ch09_monitoring import runs as ch09
from course_utils.chapters.ch09_monitoring import runs_seeds as ch09_seeds


@pytest.fixture(scope="session")
def ch09_trained(digits_dataset):
    """``{name: SeedRuns}``: ``ch09.DIAGNOSES`` and ``"lr 0.1"`` over ``ch09.SEEDS``."""
    return ch09.train_settings(
        digits_dataset, {**ch09.DIAGNOSES, "lr 0.1": ch09_seeds.HIGH_LR}, seeds=ch09.SEEDS
    )
