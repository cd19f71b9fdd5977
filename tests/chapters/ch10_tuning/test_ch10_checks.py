"""Chapter 10's exercise (log-uniform sampler): nbgrader metadata, the reference solution, the
student stub, and plausible wrong answers that the visible check must already catch."""

from pathlib import Path

import numpy as np
import pytest

from course_utils.chapters.ch10_tuning.checks import check_log_uniform

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "notebooks" / "10_hyperparameter_tuning.ipynb"

pytest.importorskip("nbgrader")
from exercise_testing import standard_exercise_tests  # noqa: E402

(
    test_exercise_cells_carry_nbgrader_metadata,
    test_reference_solution_passes_visible_and_hidden_tests,
    test_student_version_has_a_stub_and_no_hidden_tests,
) = standard_exercise_tests(NOTEBOOK, "log_uniform", check="check_log_uniform", points=2)


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


WRONG = [
    uniform,
    log10_bounds_natural_exp,
    natural_bounds_base_10,
    returns_the_exponent,
    from_one,
    upper_decade_lost,
    global_numpy_random,
    fresh_generator,
    no_validation,
    python_list,
    float32,
    mean_of_exp_rates,
]


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


# --- the hidden tests, make grade's spec, and the references ---------------------------------

import inspect  # noqa: E402

import nbformat  # noqa: E402
from exercise_testing import hidden_tests_pass, nbgrader_cells, spec_failures  # noqa: E402

from course_utils import references, tuning  # noqa: E402


@pytest.fixture(scope="module")
def cells():
    return nbgrader_cells(nbformat.read(NOTEBOOK, as_version=4))


def _source(answer):
    """Source defining ``sample_log_uniform`` as ``answer`` (with its helper), for the grader."""
    return (
        "import numpy as np\n\n"
        + inspect.getsource(_checked)
        + "\n"
        + inspect.getsource(answer)
        + f"\nsample_log_uniform = {answer.__name__}\n"
    )


@pytest.mark.parametrize("answer", WRONG, ids=[f.__name__ for f in WRONG])
def test_plausible_wrong_answers_fail_the_hidden_tests_and_the_spec(answer, cells):
    source = _source(answer)
    with np.errstate(all="ignore"):
        assert not hidden_tests_pass(source, cells["log_uniform_tests"].source)
        assert spec_failures(source, "log_uniform_tests")


# mistake -> a word of the visible check's hint for it
HINTS = {
    "uniform": "uniform draws",
    "log10_bounds_natural_exp": "same base",
    "natural_bounds_base_10": "same base",
    "returns_the_exponent": "logarithms",
    "from_one": "range is empty",
    "upper_decade_lost": "top decade is missing",
    "global_numpy_random": "same seed gave different draws",
    "fresh_generator": "different seeds gave the same draws",
    "no_validation": "raise ValueError",
    "python_list": "not a Python list",
    "float32": "float64",
    "mean_of_exp_rates": "same share",
}


@pytest.mark.parametrize("answer", WRONG, ids=[f.__name__ for f in WRONG])
def test_the_visible_check_names_each_mistake(answer, capsys):
    with np.errstate(all="ignore"):
        with pytest.raises(AssertionError) as failure:
            check_log_uniform(answer)
    assert HINTS[answer.__name__] in str(failure.value)


def test_the_spec_names_the_mistake():
    failures = spec_failures(_source(log10_bounds_natural_exp), "log_uniform_tests")
    assert failures and "same base" in failures[0]
    failures = spec_failures(_source(uniform), "log_uniform_tests")
    assert failures and "top decade" in failures[0]


def test_reference_solution_passes_the_spec(cells):
    assert spec_failures(cells["log_uniform_solution"].source, "log_uniform_tests") == []


def test_other_correct_answers_pass_the_hidden_tests_and_the_spec(cells):
    sources = [
        "import numpy as np\n\ndef sample_log_uniform(low, high, size, rng):\n"
        "    if not 0 < low < high:\n        raise ValueError('need 0 < low < high')\n"
        "    return 10.0 ** rng.uniform(np.log10(low), np.log10(high), size)\n",
        "import numpy as np\n\ndef sample_log_uniform(low, high, size, rng):\n"
        "    if not 0 < low < high:\n        raise ValueError('need 0 < low < high')\n"
        "    return low * (high / low) ** rng.random(size)\n",
    ]
    for source in sources:
        assert hidden_tests_pass(source, cells["log_uniform_tests"].source)
        assert spec_failures(source, "log_uniform_tests") == []


ONE_IMPORT = {
    "log_uniform": "    return tuning.log_uniform(low, high, size, rng)\n",
    "Param.from_unit": "    return tuning.Param(low, high, log=True).from_unit(rng.random(size))\n",
    "random_configs": (
        "    configs = tuning.random_configs({'v': tuning.Param(low, high, log=True)},"
        " max(size, 1), rng)\n"
        "    return np.array([c['v'] for c in configs])[:size]\n"
    ),
}


@pytest.mark.parametrize("reference", ONE_IMPORT)
def test_one_import_answers_fail_all_three(reference, cells, capsys):
    source = (
        "import numpy as np\nfrom course_utils import tuning\n\n"
        "def sample_log_uniform(low, high, size, rng):\n" + ONE_IMPORT[reference]
    )
    namespace = {}
    exec(source, namespace)
    with pytest.raises(AssertionError, match="ReferenceUnavailable"):
        check_log_uniform(namespace["sample_log_uniform"])
    assert "WRONG" in capsys.readouterr().out
    assert not hidden_tests_pass(source, cells["log_uniform_tests"].source)
    failures = spec_failures(source, "log_uniform_tests")
    assert any("ReferenceUnavailable" in f for f in failures)
    # outside the exercise the same answer works: it is the hiding that makes it fail
    assert namespace["sample_log_uniform"](1e-3, 1.0, 4, np.random.default_rng(0)).shape == (4,)


@pytest.mark.parametrize(
    "call",
    [
        lambda: tuning.log_uniform(1e-3, 1.0, 4, np.random.default_rng(0)),
        lambda: tuning.Param(1e-3, 1.0, log=True).from_unit([0.0, 0.5, 1.0]),
    ],
    ids=["log_uniform", "Param.from_unit"],
)
def test_references_are_hidden_during_the_exercise_only(call):
    call()
    with references.hidden("log_uniform"):
        with pytest.raises(references.ReferenceUnavailable, match="log_uniform"):
            call()
    with references.hidden("bn_forward"):
        call()  # another exercise's block leaves them alone
    call()
    assert {"course_utils.tuning.log_uniform", "course_utils.tuning.Param.from_unit"} <= set(
        references.references_of("log_uniform")
    )


def test_no_cell_before_the_exercise_shows_the_sampler_as_code():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in notebook.cells]
    for cell in notebook.cells[: ids.index("log_uniform_solution")]:
        for code in ("np.exp(rng.uniform", "np.exp(np.random", "getsource"):
            assert code not in cell.source
