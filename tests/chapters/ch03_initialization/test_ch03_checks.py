"""Chapter 03's exercises: the visible checks, the hidden tests, the grading specs and the
student version.

Each grading test cell of the instructor notebook is run against the reference solution
(passes), the student stub (fails with the stub's message), and plausible wrong answers,
which must already fail the *visible* check, with a hint specific to the mistake: the visible
check catches what the hidden tests and ``make grade`` 's spec grade. ``init.init_std`` is
hidden while an answer to the first exercise runs; the second has no reference to hide (the
student is meant to call ``runs.forward_activations``).
"""

import math
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_utils import init, references
from course_utils.chapters.ch03_initialization import runs
from course_utils.chapters.ch03_initialization.checks import (
    check_init_std_functions,
    check_std_search,
)
from course_utils.checking import check_cases

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "notebooks" / "03_weight_initialization.ipynb"

pytest.importorskip("nbgrader")
from exercise_testing import grade, hidden_tests_pass, nbgrader_cells, spec_failures, visible_part  # noqa: E402

from tools.make_student_versions import STUB, student_version  # noqa: E402


@pytest.fixture(scope="module")
def instructor():
    return nbformat.read(NOTEBOOK, as_version=4)


@pytest.fixture(scope="module")
def student():
    return student_version(NOTEBOOK)


EXERCISES = {"init_std": 2, "std_search": 1}  # exercise -> number of stubs in its solution cell


@pytest.mark.parametrize("exercise", EXERCISES)
def test_exercise_cells_carry_nbgrader_metadata(instructor, exercise):
    cells = nbgrader_cells(instructor)
    assert set(cells) == {f"{name}_{kind}" for name in EXERCISES for kind in ("solution", "tests")}
    solution = cells[f"{exercise}_solution"].metadata["nbgrader"]
    assert solution["solution"] is True and solution["grade"] is False
    assert solution["locked"] is False and solution["schema_version"] == 3
    tests = cells[f"{exercise}_tests"].metadata["nbgrader"]
    assert tests["grade"] is True and tests["locked"] is True and tests["points"] > 0
    assert tests["solution"] is False and tests["schema_version"] == 3
    source = cells[f"{exercise}_tests"].source
    assert "### BEGIN HIDDEN TESTS" in source and "### END HIDDEN TESTS" in source
    # the grade cell follows its solution cell
    order = [c.metadata.get("nbgrader", {}).get("grade_id") for c in instructor.cells]
    assert order.index(f"{exercise}_tests") == order.index(f"{exercise}_solution") + 1


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_solution_passes_visible_and_hidden_tests(instructor, capsys, exercise):
    cells = nbgrader_cells(instructor)
    grade(cells[f"{exercise}_solution"].source, cells[f"{exercise}_tests"].source)
    assert "All visible checks passed" in capsys.readouterr().out


def test_reference_search_rediscovers_kaiming_for_relu(instructor, capsys):
    # The text after exercise 2: "for ReLU it lands close to Kaiming's sqrt(2) ~ 1.41"
    cells = nbgrader_cells(instructor)
    grade(cells["std_search_solution"].source, visible_part(cells["std_search_tests"].source))
    out = capsys.readouterr().out
    assert "= 0.0569 = 1.287/sqrt(512): last-layer std 0.4999, target 0.5" in out
    assert "= 0.08765 = 1.402/sqrt(256): last-layer std 0.8009, target 0.8" in out
    assert "= 0.1581 = 1.789/sqrt(128): last-layer std 1.5002, target 1.5" in out
    assert round(1.402, 1) == round(math.sqrt(2), 1)


def test_student_version_has_stubs_and_no_hidden_tests(student):
    cells = nbgrader_cells(student)
    text = "\n".join(c.source for c in student.cells)
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert "gain * math.sqrt" not in text  # the answers are gone
    assert "hi / lo" not in text and "last_layer_std(sigma" not in text
    for exercise, stubs in EXERCISES.items():
        assert cells[f"{exercise}_solution"].source.count(STUB) == stubs
    # what the student needs stays: the imports and the signature
    assert 'def std_for_last_layer(target, activation="tanh", depth=6, width=512, seed=0):' in (
        cells["std_search_solution"].source
    )
    assert (
        "from course_utils.chapters.ch03_initialization import runs"
        in cells["std_search_solution"].source
    )
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code")
    # The static figures and the rest of the notebook are still there for the student.
    assert len(student.cells) == len(nbformat.read(NOTEBOOK, as_version=4).cells)


@pytest.mark.parametrize("exercise", EXERCISES)
def test_student_stub_fails_the_grading_cell_with_the_exercise_message(
    student, instructor, exercise
):
    solution = nbgrader_cells(student)[f"{exercise}_solution"].source
    tests = nbgrader_cells(instructor)[f"{exercise}_tests"].source
    with pytest.raises(NotImplementedError, match="Exercise: replace this line"):
        grade(solution, tests)


IGNORES_GAIN = (
    "import math\n"
    "def xavier_std(fan_in, fan_out, gain=1.0):\n"
    "    return math.sqrt(2.0 / (fan_in + fan_out))\n"
    "def kaiming_std(fan_in, gain=math.sqrt(2.0)):\n"
    "    return math.sqrt(2.0 / fan_in)\n"
)
IGNORES_ACTIVATION = (  # searches the tanh network whatever the activation
    "import math\n"
    "from course_utils import init\n"
    "from course_utils.chapters.ch03_initialization import runs\n"
    "from course_utils.stats import layer_stats\n"
    "def std_for_last_layer(target, activation='tanh', depth=6, width=512, seed=0):\n"
    "    if not 0 < target < 1:\n"
    "        raise ValueError(target)\n"
    "    lo, hi = 0.01 / math.sqrt(width), 100 / math.sqrt(width)\n"
    "    while hi / lo > 1.0001:\n"
    "        mid = math.sqrt(lo * hi)\n"
    "        acts = runs.forward_activations(depth, width, 16, 'tanh', 'normal', mid, seed)\n"
    "        lo, hi = (mid, hi) if layer_stats(acts).std[-1] < target else (lo, mid)\n"
    "    return math.sqrt(lo * hi)\n"
)
NEVER_RAISES = (  # a correct search, but an unreachable target returns the search's edge
    "import math\n"
    "from course_utils import init\n"
    "from course_utils.chapters.ch03_initialization import runs\n"
    "from course_utils.stats import layer_stats\n"
    "def std_for_last_layer(target, activation='tanh', depth=6, width=512, seed=0):\n"
    "    lo, hi = 0.01 / math.sqrt(width), 100 / math.sqrt(width)\n"
    "    while hi / lo > 1.0001:\n"
    "        mid = math.sqrt(lo * hi)\n"
    "        acts = runs.forward_activations(depth, width, 16, activation, 'normal', mid, seed)\n"
    "        lo, hi = (mid, hi) if layer_stats(acts).std[-1] < target else (lo, mid)\n"
    "    return math.sqrt(lo * hi)\n"
)
FIRST_LAYER = (  # checks the targets, but aims the first layer's std at the target
    "import math\n"
    "from course_utils import init\n"
    "from course_utils.chapters.ch03_initialization import runs\n"
    "from course_utils.stats import layer_stats\n"
    "def std_for_last_layer(target, activation='tanh', depth=6, width=512, seed=0):\n"
    "    if not target > 0 or (activation == 'tanh' and target >= 1):\n"
    "        raise ValueError(target)\n"
    "    lo, hi = 0.01 / math.sqrt(width), 100 / math.sqrt(width)\n"
    "    while hi / lo > 1.0001:\n"
    "        mid = math.sqrt(lo * hi)\n"
    "        acts = runs.forward_activations(depth, width, 16, activation, 'normal', mid, seed)\n"
    "        lo, hi = (mid, hi) if layer_stats(acts).std[0] < target else (lo, mid)\n"
    "    return math.sqrt(lo * hi)\n"
)


@pytest.mark.parametrize(
    "exercise, wrong",
    [
        ("init_std", IGNORES_GAIN),
        ("std_search", IGNORES_ACTIVATION),
        ("std_search", NEVER_RAISES),
        ("std_search", FIRST_LAYER),
    ],
    ids=["ignores gain", "ignores activation", "never raises", "measures layer 1"],
)
def test_plausible_wrong_answer_fails_the_visible_check(instructor, exercise, wrong, capsys):
    tests = nbgrader_cells(instructor)[f"{exercise}_tests"].source
    with pytest.raises(AssertionError):
        grade(wrong, visible_part(tests))  # the student sees it before grading...
    assert "WRONG" in capsys.readouterr().out
    with pytest.raises(AssertionError):
        grade(wrong, tests)  # ...and the grader agrees


# ---------------------------------------------------------------- the visible check
def test_check_names_the_wrong_case(capsys):
    lecture_xavier = lambda fan_in, fan_out, gain=1.0: 1 / math.sqrt(fan_in)  # noqa: E731
    with pytest.raises(
        AssertionError,
        match=r"xavier_std\(512, 2048\) = 0.0441942, expected "
        r"0.0279508 \(relative tolerance 1e-06\)\. "
        r"that is the forward condition alone",
    ):
        check_init_std_functions(lecture_xavier, lambda fan_in, gain=1.0: 0.0)
    out = capsys.readouterr().out
    assert "ok  xavier_std(4096, 4096)" in out and "WRONG xavier_std(512, 2048)" in out


def test_check_names_the_ignored_gain():
    def xavier(fan_in, fan_out, gain=1.0):
        return gain * math.sqrt(2 / (fan_in + fan_out))

    def kaiming(fan_in, gain=math.sqrt(2)):
        return gain / math.sqrt(fan_in)

    with pytest.raises(
        AssertionError,
        match=r"xavier_std\(512, 2048, gain=1.66667\) = "
        r"0.0279508, expected 0.0465847",
    ):
        check_init_std_functions(lambda fan_in, fan_out, gain=1.0: xavier(fan_in, fan_out), kaiming)
    with pytest.raises(
        AssertionError,
        match=r"kaiming_std\(512, gain=1\) = 0.0625, "
        r"expected 0.0441942",
    ):
        check_init_std_functions(xavier, lambda fan_in, gain=math.sqrt(2): kaiming(fan_in))


def test_check_rejects_non_numbers_and_non_functions():
    with pytest.raises(AssertionError, match="returned None: expected a number"):
        check_cases("f", lambda x: None, [((1,), {})], lambda x: 1.0)
    with pytest.raises(TypeError, match="f must be a function; got int"):
        check_cases("f", 3, [((1,), {})], lambda x: 1.0)
    with pytest.raises(TypeError, match="std_for_last_layer must be a function; got float"):
        check_std_search(0.05)
    for bad in (None, -0.1, "a lot", math.nan):
        with pytest.raises(AssertionError, match="expected a positive number"):
            check_std_search(lambda target, activation="tanh", depth=6, width=512, seed=0: bad)


def test_std_search_check_states_what_is_wrong(capsys):
    def xavier(target, activation="tanh", depth=6, width=512, seed=0):
        return 1 / math.sqrt(width)

    with pytest.raises(
        AssertionError,
        match=r"gives a last-layer std of 0.2\d+, not 0.5 "
        r"\(relative tolerance 0.01\)\. Your σ = 1/sqrt\(512\) is 22% below the σ that "
        r"reaches the target, about 1.29/sqrt\(512\)",
    ):
        check_std_search(xavier)
    assert "WRONG std_for_last_layer(0.5, 'tanh', depth=6, width=512) = 0.04419" in (
        capsys.readouterr().out
    )


# ---------------------------------------------------------------- mutants: check, hidden tests, spec
def _stds(xavier, kaiming):
    return (
        "import math\n"
        "from course_utils import init\n"
        "from course_utils.chapters.ch03_initialization import runs\n"
        "from course_utils.stats import layer_stats\n"
        "def xavier_std(fan_in, fan_out, gain=1.0):\n"
        f"    return {xavier}\n"
        "def kaiming_std(fan_in, gain=math.sqrt(2.0)):\n"
        f"    return {kaiming}\n"
    )


RIGHT_XAVIER = "gain * math.sqrt(2.0 / (fan_in + fan_out))"
RIGHT_KAIMING = "gain / math.sqrt(fan_in)"

# mistake -> (solution source, a word of the visible check's hint)
INIT_STD_WRONG = {
    "gain ignored": (IGNORES_GAIN, "gain is ignored"),
    "Xavier as 1/n_in": (_stds("gain / math.sqrt(fan_in)", RIGHT_KAIMING), "forward condition"),
    "Xavier as 1/n_out": (_stds("gain / math.sqrt(fan_out)", RIGHT_KAIMING), "backward condition"),
    "Xavier's variance": (_stds("gain * 2.0 / (fan_in + fan_out)", RIGHT_KAIMING), "variance"),
    "Xavier's uniform bound": (
        _stds("gain * math.sqrt(6.0 / (fan_in + fan_out))", RIGHT_KAIMING),
        "uniform",
    ),
    "Xavier without the 2": (
        _stds("gain * math.sqrt(1.0 / (fan_in + fan_out))", RIGHT_KAIMING),
        "factor 2 is missing",
    ),
    "gain squared": (
        _stds("gain**2 * math.sqrt(2.0 / (fan_in + fan_out))", RIGHT_KAIMING),
        "not the variance",
    ),
    "Kaiming's 2 counted twice": (
        _stds(RIGHT_XAVIER, "gain * math.sqrt(2.0 / fan_in)"),
        "counted twice",
    ),
    "Kaiming without the root": (_stds(RIGHT_XAVIER, "gain / fan_in"), "divides by sqrt"),
    "Kaiming's variance": (_stds(RIGHT_XAVIER, "gain**2 / fan_in"), "square root"),
    "Kaiming's uniform bound": (_stds(RIGHT_XAVIER, "gain * math.sqrt(3.0 / fan_in)"), "uniform"),
    "Kaiming gain inside the root": (_stds(RIGHT_XAVIER, "math.sqrt(gain / fan_in)"), "once"),
    "returns a string": (_stds(f"str({RIGHT_XAVIER})", RIGHT_KAIMING), "expected a number"),
    "returns a list": (_stds(f"[{RIGHT_XAVIER}]", RIGHT_KAIMING), "expected a number"),
    "one import": (
        _stds(
            "init.init_std('xavier', fan_in, fan_out, gain=gain)",
            "init.init_std('kaiming', fan_in, 1, gain=gain)",
        ),
        "ReferenceUnavailable",
    ),
    "one import via an experiment": (
        _stds(
            RIGHT_XAVIER,
            "runs.Experiment(depth=1, width=fan_in, n_samples=1, scheme='kaiming')"
            ".weight_std * gain / math.sqrt(2)",
        ),
        "ReferenceUnavailable",
    ),
}


def _search(
    check_target,
    measure="layer_stats(acts).std[-1]",
    activation="activation",
    shape="depth, width",
    scale="1",
    result="math.sqrt(lo * hi)",
):
    return (
        "import math\n"
        "from course_utils import init\n"
        "from course_utils.chapters.ch03_initialization import runs\n"
        "from course_utils.stats import layer_stats\n"
        "def std_for_last_layer(target, activation='tanh', depth=6, width=512, seed=0):\n"
        f"    if {check_target}:\n"
        "        raise ValueError(target)\n"
        "    lo, hi = 0.1 / math.sqrt(width), 10 / math.sqrt(width)\n"
        "    while hi / lo > 1.001:\n"
        "        mid = math.sqrt(lo * hi)\n"
        f"        acts = runs.forward_activations({shape}, 16, {activation}, 'normal', mid, seed)\n"
        f"        lo, hi = (mid, hi) if {measure} < target else (lo, mid)\n"
        f"    return {result}\n"
    )


RIGHT_TARGETS = "not target > 0 or (activation == 'tanh' and target >= 1)"

STD_SEARCH_WRONG = {
    "ignores the activation": (IGNORES_ACTIVATION, "tanh network"),
    "ignores the activation, bounds right": (_search(RIGHT_TARGETS, activation="'tanh'"), "relu"),
    "never raises": (NEVER_RAISES, "must raise ValueError"),
    "measures layer 1": (FIRST_LAYER, "FIRST layer"),
    "bounds every target by 1": (_search("not 0 < target < 1"), "every target > 0"),
    "depth and width fixed": (_search(RIGHT_TARGETS, shape="6, 512"), "depth and width given"),
    "width is the batch": (_search(RIGHT_TARGETS, shape="depth, 16"), "16 is the batch"),
    "returns sigma * sqrt(width)": (
        _search(RIGHT_TARGETS, result="math.sqrt(lo * hi) * math.sqrt(width)"),
        "σ itself",
    ),
    "returns the variance": (_search(RIGHT_TARGETS, result="lo * hi"), "σ²"),
    "stops too early": (_search(RIGHT_TARGETS).replace("1.001", "1.3"), "narrow the search"),
    "searches only [0.3, 3] / sqrt(width)": (
        _search(RIGHT_TARGETS).replace("0.1 / math", "0.3 / math").replace("10 / math", "3 / math"),
        "If your search range does not reach it, widen it",
    ),
    "searches only [0.4, 10] / sqrt(width)": (
        _search(RIGHT_TARGETS).replace("0.1 / math", "0.4 / math"),
        "If your search range does not reach it, widen it",
    ),
    "searches only [0.1, 3] / sqrt(width)": (
        _search(RIGHT_TARGETS).replace("10 / math", "3 / math"),
        "If your search range does not reach it, widen it",
    ),
    "returns a string": (
        _search(RIGHT_TARGETS, result="str(math.sqrt(lo * hi))"),
        "positive number",
    ),
}


@pytest.mark.parametrize(
    "exercise, mistake",
    [("init_std", m) for m in INIT_STD_WRONG] + [("std_search", m) for m in STD_SEARCH_WRONG],
)
def test_wrong_answers_fail_the_visible_check_with_a_specific_hint(
    instructor, exercise, mistake, capsys
):
    source, hint = (INIT_STD_WRONG if exercise == "init_std" else STD_SEARCH_WRONG)[mistake]
    tests = nbgrader_cells(instructor)[f"{exercise}_tests"].source
    with pytest.raises(AssertionError) as failure:
        grade(source, visible_part(tests))
    assert hint in str(failure.value)
    assert "WRONG" in capsys.readouterr().out


@pytest.mark.parametrize(
    "exercise, mistake",
    [("init_std", m) for m in INIT_STD_WRONG] + [("std_search", m) for m in STD_SEARCH_WRONG],
)
def test_wrong_answers_fail_the_hidden_tests_and_the_grading_spec(instructor, exercise, mistake):
    source, _ = (INIT_STD_WRONG if exercise == "init_std" else STD_SEARCH_WRONG)[mistake]
    assert not hidden_tests_pass(source, nbgrader_cells(instructor)[f"{exercise}_tests"].source)
    assert spec_failures(source, f"{exercise}_tests")


@pytest.mark.parametrize("exercise", EXERCISES)
def test_reference_solutions_pass_the_grading_spec(instructor, exercise):
    assert (
        spec_failures(
            nbgrader_cells(instructor)[f"{exercise}_solution"].source, f"{exercise}_tests"
        )
        == []
    )


def test_the_search_may_use_the_lesson_tools_and_a_homogeneity_shortcut(instructor):
    # ReLU's shortcut of the text after exercise 2: one forward pass, sigma scaled by
    # (target / s0)^(1/L); tanh searched. Not the reference's method, still right everywhere.
    shortcut = (
        "import math\n"
        "from course_utils import init\n"
        "from course_utils.chapters.ch03_initialization import runs\n"
        "from course_utils.stats import layer_stats\n"
        "from course_utils.chapters.ch03_initialization.checks import last_layer_std\n"
        "def std_for_last_layer(target, activation='tanh', depth=6, width=512, seed=0):\n"
        "    if not target > 0 or (activation == 'tanh' and target >= 1):\n"
        "        raise ValueError(target)\n"
        "    s0 = 1 / math.sqrt(width)\n"
        "    if activation == 'relu':\n"
        "        return s0 * (target / last_layer_std(s0, 'relu', depth, width, seed)) ** (1 / depth)\n"
        "    lo, hi = 0.1 * s0, 10 * s0\n"
        "    for _ in range(40):\n"
        "        mid = math.sqrt(lo * hi)\n"
        "        lo, hi = (mid, hi) if last_layer_std(mid, activation, depth, width, seed) < target else (lo, mid)\n"
        "    return math.sqrt(lo * hi)\n"
    )
    assert hidden_tests_pass(shortcut, nbgrader_cells(instructor)["std_search_tests"].source)
    assert spec_failures(shortcut, "std_search_tests") == []


def test_init_std_is_hidden_only_inside_its_exercise():
    assert references.references_of("init_std") == ["course_utils.init.init_std"]
    with references.hidden("init_std"):
        with pytest.raises(references.ReferenceUnavailable, match="'init_std'"):
            init.init_std("xavier", 300, 100)
        with pytest.raises(references.ReferenceUnavailable):
            runs.Experiment(scheme="xavier").weight_std  # through the lesson's objects too
        assert init.calculate_gain("tanh") == 5 / 3  # not an answer: stays available
    with references.hidden("std_search"):  # the second exercise's tools stay available
        acts = runs.forward_activations(2, 64, 4, "relu", "kaiming", seed=0)
    assert len(acts) == 2 and acts[-1].shape == (4, 64)
    assert init.init_std("xavier", 300, 100) == math.sqrt(2 / 400)  # same expression
    assert references.guard_holds("init_std", init.init_std)
    assert references.references_of("std_search") == []  # nothing answers it directly


def test_std_search_check_rejects_odd_values():
    for odd in ([0.05], np.array([0.05, 0.06]), complex(0.05, 0), math.inf, True):
        with pytest.raises(AssertionError, match="expected a positive number"):
            check_std_search(
                lambda target, activation="tanh", depth=6, width=512, seed=0, odd=odd: odd
            )
