"""Chapter 08's exercise (the centred-difference numerical gradient): nbgrader metadata, the
reference solution, the student stub, and plausible wrong answers, each caught by the visible
check (with a hint naming the mistake), the hidden tests and the grading spec."""

import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_utils import gradcheck, references
from course_utils.chapters.ch08_sanity_checks.checks import check_numerical_gradient

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "notebooks" / "08_sanity_checks.ipynb"

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
) = standard_exercise_tests(
    NOTEBOOK, "numerical_gradient", check="check_numerical_gradient", points=2
)


@pytest.fixture(scope="module")
def cells():
    return nbgrader_cells(nbformat.read(NOTEBOOK, as_version=4))


def answer(body: str) -> str:
    """A solution cell defining numerical_gradient(f, x, h=1e-5) with ``body``."""
    return (
        "import numpy as np\n\n\ndef numerical_gradient(f, x, h=1e-5):\n"
        + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
        + "\n"
    )


CENTRED = """
grad = np.zeros(x.shape)
for i in np.ndindex(x.shape):
    old = x[i]
    x[i] = old + h
    plus = f(x)
    x[i] = old - h
    minus = f(x)
    x[i] = old
    grad[i] = (plus - minus) / (2 * h)
return grad
"""


def centred_with(step="h", divisor="2 * h", result="grad"):
    return answer(
        CENTRED.replace("old + h", f"old + {step}")
        .replace("old - h", f"old - {step}")
        .replace("(2 * h)", f"({divisor})")
        .replace("return grad", f"return {result}")
    )


RIGHT = {
    "on a copy": answer("""
        grad = np.zeros(x.shape)
        for i in np.ndindex(x.shape):
            xp, xm = x.copy(), x.copy()
            xp[i] += h
            xm[i] -= h
            grad[i] = (f(xp) - f(xm)) / (2 * h)
        return grad
        """),
    "flat view": answer("""
        grad = np.zeros(x.size)
        flat = x.reshape(-1)
        for k in range(x.size):
            old = flat[k]
            flat[k] = old + h
            plus = f(x)
            flat[k] = old - h
            minus = f(x)
            flat[k] = old
            grad[k] = (plus - minus) / (2 * h)
        return grad.reshape(x.shape)
        """),
}

#: name -> (answer source, a word of the visible check's hint for it)
WRONG = {
    "forward difference": (
        answer("""
        grad, base = np.zeros(x.shape), f(x)
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old + h
            grad[i] = (f(x) - base) / h
            x[i] = old
        return grad
        """),
        "forward",
    ),
    "backward difference": (
        answer("""
        grad, base = np.zeros(x.shape), f(x)
        for i in np.ndindex(x.shape):
            old = x[i]
            x[i] = old - h
            grad[i] = (base - f(x)) / h
            x[i] = old
        return grad
        """),
        "backward",
    ),
    "divides by h, not 2h": (centred_with(divisor="h"), "twice"),
    "divides by 4h": (centred_with(divisor="4 * h"), "half"),
    "ignores h (fixed 1e-5)": (centred_with(step="1e-5", divisor="2e-5"), "passed in"),
    "step 2h each side": (centred_with(step="2 * h", divisor="4 * h"), "passed in"),
    "x left at x - h": (
        answer("""
        grad = np.zeros(x.shape)
        for i in np.ndindex(x.shape):
            x[i] += h
            plus = f(x)
            x[i] -= 2 * h
            minus = f(x)
            grad[i] = (plus - minus) / (2 * h)
        return grad
        """),
        "x - h",
    ),
    "x restored by arithmetic": (
        answer("""
        grad = np.zeros(x.shape)
        for i in np.ndindex(x.shape):
            x[i] += h
            plus = f(x)
            x[i] -= 2 * h
            minus = f(x)
            x[i] += h
            grad[i] = (plus - minus) / (2 * h)
        return grad
        """),
        "last bits",
    ),
    "only the first entry": (
        answer("""
        grad = np.zeros(x.shape)
        i = (0,) * x.ndim
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old - h
        minus = f(x)
        x[i] = old
        grad[i] = (plus - minus) / (2 * h)
        return grad
        """),
        "first entry",
    ),
    "rows moved at once": (
        answer("""
        grad = np.zeros(x.shape)
        for i in range(len(x)):
            old = x[i].copy()
            x[i] = old + h
            plus = f(x)
            x[i] = old - h
            minus = f(x)
            x[i] = old
            grad[i] = (plus - minus) / (2 * h)
        return grad
        """),
        "row",
    ),
    "all of x moved at once": (
        answer("""
        return np.full(x.shape, (f(x + h) - f(x - h)) / (2 * h))
        """),
        "at once",
    ),
    "float32 result": (centred_with(result="grad.astype(np.float32)"), "float64"),
    "flattened": (centred_with(result="grad.ravel()"), "shape"),
    "a list": (centred_with(result="grad.tolist()"), "array"),
    "one-import answer": (
        answer("""
        from course_utils import gradcheck
        return gradcheck.numerical_gradient(f, x, h)
        """),
        "ReferenceUnavailable",
    ),
    "one-import answer, sampled helper": (
        answer("""
        from course_utils import gradcheck
        return gradcheck._centred_at(f, x, h, np.arange(x.size)).reshape(x.shape)
        """),
        "ReferenceUnavailable",
    ),
}


def visible_check(source):
    namespace = {}
    exec(compile(source, "<answer>", "exec"), namespace)
    check_numerical_gradient(namespace["numerical_gradient"])


@pytest.mark.parametrize("name", RIGHT)
def test_other_right_answers_pass_all_three(cells, name, capsys):
    visible_check(RIGHT[name])
    assert "All visible checks passed" in capsys.readouterr().out
    assert hidden_tests_pass(RIGHT[name], cells["numerical_gradient_tests"].source)
    assert spec_failures(RIGHT[name], "numerical_gradient_tests") == []


def test_reference_solution_passes_the_spec(cells):
    assert (
        spec_failures(cells["numerical_gradient_solution"].source, "numerical_gradient_tests") == []
    )


@pytest.mark.parametrize("mistake", WRONG)
def test_wrong_answers_fail_the_visible_check_with_a_specific_hint(mistake, capsys):
    source, word = WRONG[mistake]
    with np.errstate(all="ignore"), pytest.raises(AssertionError) as failure:
        visible_check(source)
    assert "WRONG" in capsys.readouterr().out
    assert word in str(failure.value)


@pytest.mark.parametrize("mistake", WRONG)
def test_wrong_answers_fail_the_hidden_tests_and_the_spec(cells, mistake):
    source, _ = WRONG[mistake]
    with np.errstate(all="ignore"):
        assert not hidden_tests_pass(source, cells["numerical_gradient_tests"].source)
        assert spec_failures(source, "numerical_gradient_tests")


def test_the_spec_names_the_mistake():
    failures = spec_failures(WRONG["forward difference"][0], "numerical_gradient_tests")
    assert any("forward" in f for f in failures)
    failures = spec_failures(WRONG["x restored by arithmetic"][0], "numerical_gradient_tests")
    assert any("in place" in f for f in failures)


def test_the_references_are_hidden_only_while_an_answer_runs():
    x = np.array([0.3, -1.2])
    with references.hidden("numerical_gradient"):
        for call in (
            lambda: gradcheck.numerical_gradient(np.sum, x.copy()),
            lambda: gradcheck._centred_at(np.sum, x.copy(), 1e-5, np.arange(2)),
            lambda: gradcheck.check_gradient(np.sum, x.copy(), np.ones(2)),
        ):
            with pytest.raises(references.ReferenceUnavailable, match="numerical_gradient"):
                call()
    np.testing.assert_allclose(gradcheck.numerical_gradient(np.sum, x.copy()), [1.0, 1.0])
    assert set(references.references_of("numerical_gradient")) == {
        "course_utils.gradcheck.numerical_gradient",
        "course_utils.gradcheck._centred_at",
    }


def test_check_refuses_non_functions():
    with pytest.raises(TypeError, match="numerical_gradient must be a function"):
        check_numerical_gradient(1e-5)
