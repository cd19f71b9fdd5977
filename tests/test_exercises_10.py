"""Chapter 10's exercise (log-uniform sampler): nbgrader metadata, the reference solution, the
student stub, and plausible wrong answers that the visible check must already catch."""

from pathlib import Path

import numpy as np
import pytest

from course_utils.checks import check_log_uniform

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "10_hyperparameter_tuning.ipynb"

pytest.importorskip("nbgrader")
from exercise_testing import standard_exercise_tests  # noqa: E402


(test_exercise_cells_carry_nbgrader_metadata,
 test_reference_solution_passes_visible_and_hidden_tests,
 test_student_version_has_a_stub_and_no_hidden_tests) = standard_exercise_tests(
    NOTEBOOK, "log_uniform", check="check_log_uniform", points=2)


def _checked(low, high):
    if not 0 < low < high:
        raise ValueError("need 0 < low < high")


def uniform(low, high, size, rng):
    _checked(low, high)
    return rng.uniform(low, high, size)


def log10_bounds_natural_exp(low, high, size, rng):
    _checked(low, high)
    return np.exp(rng.uniform(np.log10(low), np.log10(high), size))


def natural_bounds_base_10(low, high, size, rng):
    _checked(low, high)
    return 10 ** rng.uniform(np.log(low), np.log(high), size)


def returns_the_exponent(low, high, size, rng):
    _checked(low, high)
    return rng.uniform(np.log(low), np.log(high), size)


def from_one(low, high, size, rng):
    _checked(low, high)
    return np.exp(rng.uniform(0.0, np.log(high), size)) * low


def upper_decade_lost(low, high, size, rng):
    _checked(low, high)
    return np.exp(rng.uniform(np.log(low), np.log(high / 10), size))


def global_numpy_random(low, high, size, rng):
    _checked(low, high)
    return np.exp(np.random.uniform(np.log(low), np.log(high), size))


def fresh_generator(low, high, size, rng):
    _checked(low, high)
    return np.exp(np.random.default_rng(0).uniform(np.log(low), np.log(high), size))


def no_validation(low, high, size, rng):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.exp(rng.uniform(np.log(low), np.log(high), size))


def python_list(low, high, size, rng):
    _checked(low, high)
    return [float(v) for v in np.exp(rng.uniform(np.log(low), np.log(high), size))]


def float32(low, high, size, rng):
    _checked(low, high)
    return np.exp(rng.uniform(np.log(low), np.log(high), size)).astype(np.float32)


def mean_of_exp_rates(low, high, size, rng):
    _checked(low, high)  # an exponential on the log axis: log-ish, but not uniform
    u = np.minimum(rng.exponential(0.3, size), 1.0)
    return np.exp(np.log(low) + u * (np.log(high) - np.log(low)))


WRONG = [uniform, log10_bounds_natural_exp, natural_bounds_base_10, returns_the_exponent,
         from_one, upper_decade_lost, global_numpy_random, fresh_generator, no_validation,
         python_list, float32, mean_of_exp_rates]


@pytest.mark.parametrize("answer", WRONG, ids=[f.__name__ for f in WRONG])
def test_plausible_wrong_answers_fail_the_visible_check(answer, capsys):
    with pytest.raises(AssertionError):
        check_log_uniform(answer)
    assert "WRONG" in capsys.readouterr().out


def test_other_correct_answers_pass(capsys):
    def base_10(low, high, size, rng):
        if not 0 < low < high:
            raise ValueError("need 0 < low < high")
        return 10.0 ** rng.uniform(np.log10(low), np.log10(high), size)

    def via_random(low, high, size, rng):
        if not 0 < low < high:
            raise ValueError("need 0 < low < high")
        return low * (high / low) ** rng.random(size)

    for answer in (base_10, via_random):
        check_log_uniform(answer)
        assert "All visible checks passed" in capsys.readouterr().out


def test_check_refuses_non_functions():
    with pytest.raises(TypeError, match="sample_log_uniform must be a function"):
        check_log_uniform(0.5)
