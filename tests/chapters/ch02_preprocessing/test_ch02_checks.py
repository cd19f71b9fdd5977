"""Chapter 02's exercise (ZCA whitening): nbgrader metadata, the reference solution, the student
stub, and plausible wrong answers that the visible check (with a hint specific to the mistake),
the hidden tests and the grading spec must all catch; the course's ZCA is hidden while an
answer runs, PCA whitening and the explorer are not."""

from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_utils import preprocessing as P
from course_utils import references
from course_utils.chapters.ch02_preprocessing import runs
from course_utils.chapters.ch02_preprocessing.checks import check_zca_whiten

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "notebooks" / "02_data_preprocessing.ipynb"

pytest.importorskip("nbgrader")
from exercise_testing import (  # noqa: E402
    hidden_tests_pass,
    nbgrader_cells,
    spec_failures,
    standard_exercise_tests,
)

(
    test_exercise_cells_carry_nbgrader_metadata,
    test_reference_solution_passes_visible_and_hidden_tests,
    test_student_version_has_a_stub_and_no_hidden_tests,
) = standard_exercise_tests(NOTEBOOK, "zca", check="check_zca_whiten", points=2)


def _answer(
    cov="c.T @ c / len(X)",
    matrix="U @ np.diag(1 / np.sqrt(lam + eps)) @ U.T",
    result="c @ W, W",
    first="",
):
    return (
        "import numpy as np\n"
        "from course_utils import preprocessing\n"
        "def zca_whiten(X, eps=1e-5):\n"
        f"{first}"
        "    c = X - X.mean(axis=0)\n"
        f"    lam, U = np.linalg.eigh({cov})\n"
        f"    W = {matrix}\n"
        f"    return {result}\n"
    )


# mistake -> (solution source, a word of the visible check's hint)
WRONG = {
    "PCA instead of ZCA": (_answer(matrix="U / np.sqrt(lam + eps)"), "PCA whitening"),
    "forgets the mean": (_answer(result="X @ W, W"), "not subtracted"),
    "eps ignored": (_answer(matrix="U @ np.diag(1 / np.sqrt(lam + 1e-10)) @ U.T"), "ignored"),
    "eps fixed at 1e-5": (
        _answer(matrix="U @ np.diag(1 / np.sqrt(lam + 1e-5)) @ U.T"),
        "fixed at 1e-5",
    ),
    "divides by N - 1": (_answer(cov="np.cov(c, rowvar=False)"), "N - 1"),
    "eps squared": (_answer(matrix="U @ np.diag(1 / np.sqrt(lam + eps**2)) @ U.T"), "squared"),
    "sqrt(eps)": (
        _answer(matrix="U @ np.diag(1 / np.sqrt(lam + np.sqrt(eps))) @ U.T"),
        "sqrt(eps)",
    ),
    "eps after the square root": (
        _answer(matrix="U @ np.diag(1 / (np.sqrt(lam) + eps)) @ U.T"),
        "after the square root",
    ),
    "inverse, not inverse square root": (
        _answer(matrix="U @ np.diag(1 / (lam + eps)) @ U.T"),
        "inverse SQUARE ROOT",
    ),
    "square root, not inverse": (
        _answer(matrix="U @ np.diag(np.sqrt(lam + eps)) @ U.T"),
        "-1/2, not +1/2",
    ),
    "eigenvectors as rows": (
        _answer(matrix="U.T @ np.diag(1 / np.sqrt(lam + eps)) @ U"),
        "COLUMNS",
    ),
    "standardises only": (
        _answer(matrix="np.diag(1 / np.sqrt(np.diag(c.T @ c / len(X)) + eps))"),
        "diagonal",
    ),
    "W @ X_c transposed": (_answer(result="W @ c.T, W"), "one row per example"),
    "returns (W, X_white)": (_answer(result="W, c @ W"), "in this order"),
    "returns X_white only": (_answer(result="c @ W"), "(X_white, W)"),
    "float32": (_answer(first="    X = X.astype(np.float32)\n"), "float64"),
    "X_white not from W": (_answer(result="c / c.std(axis=0), W"), "(X - mean) @ W"),
    "centres X in place": (_answer(first="    X -= X.mean(axis=0)\n"), "in place"),
    "one import": (
        "import numpy as np\n"
        "from course_utils.preprocessing import Whitener\n"
        "def zca_whiten(X, eps=1e-5):\n"
        "    w = Whitener('zca', eps).fit(X)\n"
        "    return w.transform(X), w.matrix_\n",
        "ReferenceUnavailable",
    ),
    "one import, whiten()": (
        "import numpy as np\n"
        "from course_utils import preprocessing\n"
        "def zca_whiten(X, eps=1e-5):\n"
        "    white = preprocessing.whiten(X, 'zca', eps)\n"
        "    c = X - X.mean(axis=0)\n"
        "    return white, np.linalg.lstsq(c, white, rcond=None)[0]\n",
        "ReferenceUnavailable",
    ),
}


def _cells():
    cells = nbgrader_cells(nbformat.read(NOTEBOOK, as_version=4))
    return cells["zca_solution"].source, cells["zca_tests"].source


def _function(source):
    namespace = {}
    exec(compile(source, "<answer>", "exec"), namespace)
    return namespace["zca_whiten"]


@pytest.mark.parametrize("mistake", WRONG)
def test_plausible_wrong_answers_fail_the_visible_check_with_a_specific_hint(mistake, capsys):
    source, hint = WRONG[mistake]
    with np.errstate(all="ignore"), pytest.raises(AssertionError) as failure:
        check_zca_whiten(_function(source))
    assert hint in str(failure.value)
    assert "WRONG" in capsys.readouterr().out


@pytest.mark.parametrize("mistake", WRONG)
def test_plausible_wrong_answers_fail_the_hidden_tests_and_the_grading_spec(mistake):
    source, _ = WRONG[mistake]
    with np.errstate(all="ignore"):
        assert not hidden_tests_pass(source, _cells()[1])
        assert spec_failures(source, "zca_tests")


def test_reference_solution_passes_the_grading_spec():
    assert spec_failures(_cells()[0], "zca_tests") == []


def test_only_the_zca_matrix_is_hidden():
    assert references.references_of("zca") == ["course_utils.preprocessing._zca_matrix"]
    X = runs.correlated_gaussian(0.8, 30.0, 1.5, 200, seed=0)
    zca = P.Whitener("zca", 1e-5).fit(X)
    with references.hidden("zca"):
        for fit in (
            lambda: P.Whitener("zca", 1e-5).fit(X),
            lambda: P.whiten(X, "zca"),
            lambda: P.Whitener().fit_transform(X),
        ):
            with pytest.raises(references.ReferenceUnavailable, match="'zca'"):
                fit()
        # the lesson's other tools, and the explorer's computation, stay available
        pca = P.Whitener("pca", 1e-5).fit(X)
        demo = runs.whitening_demo(correlation=0.8, angle=30.0)
        assert P.max_identity_deviation(P.whiten(X, "pca")) < 1e-3
        assert P.decorrelate(X).shape == X.shape
    np.testing.assert_allclose(
        demo.zca, runs.whitening_demo(correlation=0.8, angle=30.0).zca, rtol=0, atol=0
    )  # same computation, same numbers
    np.testing.assert_allclose(pca.transform(X) @ pca.eigenvectors_.T, zca.transform(X), atol=1e-12)
    assert P.max_identity_deviation(P.whiten(X, "zca", 1e-10)) < 1e-6  # outside: as usual
    assert references.guard_holds("zca", P._zca_matrix)


def test_the_explorer_still_works_under_hidden():
    from course_utils.chapters.ch02_preprocessing.explorer import whitening_explorer

    explorer = whitening_explorer(correlation=0.8, angle=0.0, scale=1.5, seed=0)
    with references.hidden("zca"):
        explorer.controls["angle"].value = 45.0
    assert "after ZCA" in explorer.summary


def test_student_version_keeps_the_signature_and_loses_the_answer():
    from tools.make_student_versions import student_version

    student = student_version(NOTEBOOK)
    text = "\n".join(c.source for c in student.cells)
    assert "np.linalg.eigh(cov)" not in text
    assert "def zca_whiten(X, eps=1e-5):" in nbgrader_cells(student)["zca_solution"].source
    assert len(student.cells) == len(nbformat.read(NOTEBOOK, as_version=4).cells)


def test_check_rejects_non_functions_and_odd_return_values():
    with pytest.raises(TypeError, match="zca_whiten must be a function; got int"):
        check_zca_whiten(3)
    for odd in (
        None,
        (None, None),
        ([1.0], [2.0]),
        (np.full((300, 4), np.nan), np.eye(4)),
        (np.zeros((300, 4)), np.zeros((4, 4), dtype=complex)),
    ):
        with pytest.raises(AssertionError):
            check_zca_whiten(lambda X, eps=1e-5, odd=odd: odd)
