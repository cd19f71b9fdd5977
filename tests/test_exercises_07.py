"""Chapter 07's exercise (inverted dropout): nbgrader metadata, the reference solution, the
student stub, other right answers, and plausible wrong answers that the visible check must
already catch."""

from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_utils.checks import check_inverted_dropout

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "07_regularization.ipynb"

pytest.importorskip("nbgrader")
from exercise_testing import nbgrader_cells, standard_exercise_tests  # noqa: E402


@pytest.fixture(scope="module")
def cells():
    return nbgrader_cells(nbformat.read(NOTEBOOK, as_version=4))


(test_exercise_cells_carry_nbgrader_metadata,
 test_reference_solution_passes_visible_and_hidden_tests,
 test_student_version_has_a_stub_and_no_hidden_tests) = standard_exercise_tests(
    NOTEBOOK, "dropout", check="check_inverted_dropout", points=2)


def _inverted(mask_fn):
    def f(x, p, train, rng):
        x = np.asarray(x, dtype=np.float64)
        return x * mask_fn(rng, x.shape, p) / (1 - p) if train else x.copy()
    return f


RIGHT = {
    "strict >": _inverted(lambda rng, shape, p: rng.random(shape) > p),
    "binomial": _inverted(lambda rng, shape, p: rng.binomial(1, 1 - p, shape)),
    "uniform < 1 - p": _inverted(lambda rng, shape, p: rng.uniform(size=shape) < 1 - p),
}


@pytest.mark.parametrize("answer", RIGHT)
def test_other_right_answers_pass_visible_and_hidden_tests(cells, answer, capsys):
    tests = cells["dropout_tests"].source
    namespace = {"inverted_dropout": RIGHT[answer]}
    exec(compile(tests, "<tests>", "exec"), namespace)
    assert "All visible checks passed" in capsys.readouterr().out


def _global_random(x, p, train, rng):
    return x * (np.random.random(x.shape) >= p) / (1 - p) if train else x.copy()


def _in_place(x, p, train, rng):
    if train:
        x *= (rng.random(x.shape) >= p) / (1 - p)
    return x


WRONG = {
    "version 1 (no scaling)": lambda x, p, train, rng: x * (rng.random(x.shape) >= p) if train else x.copy(),
    "scaled by 1/p": lambda x, p, train, rng: x * (rng.random(x.shape) >= p) / p if train else x.copy(),
    "p as keep probability": lambda x, p, train, rng: x * (rng.random(x.shape) < p) / (1 - p) if train else x.copy(),
    "p as keep probability, scaled by 1/p": lambda x, p, train, rng: x * (rng.random(x.shape) < p) / p if train else x.copy(),
    "scales at test time": lambda x, p, train, rng: x * (rng.random(x.shape) >= p) / (1 - p) if train else (1 - p) * x,
    "ignores train": lambda x, p, train, rng: x * (rng.random(x.shape) >= p) / (1 - p),
    "global np.random": _global_random,
    "one mask for all rows": lambda x, p, train, rng: x * (rng.random(x.shape[-1]) >= p) / (1 - p) if train else x.copy(),
    "in place": _in_place,
    "float32": lambda x, p, train, rng: (x * (rng.random(x.shape) >= p) / (1 - p)).astype(np.float32) if train else x.copy(),
    "list": lambda x, p, train, rng: list((x * (rng.random(x.shape) >= p) / (1 - p)).ravel()) if train else x.copy(),
    "flattened": lambda x, p, train, rng: (x * (rng.random(x.shape) >= p) / (1 - p)).ravel() if train else x.copy(),
    "new mask seed inside": lambda x, p, train, rng: x * (np.random.default_rng(0).random(x.shape) >= p) / (1 - p) if train else x.copy(),
}


@pytest.mark.parametrize("mistake", WRONG)
def test_plausible_wrong_answers_fail_the_visible_check(mistake, capsys):
    with pytest.raises(AssertionError):
        check_inverted_dropout(WRONG[mistake])
    assert "WRONG" in capsys.readouterr().out


def test_check_refuses_non_functions():
    with pytest.raises(TypeError, match="inverted_dropout must be a function"):
        check_inverted_dropout(0.5)
