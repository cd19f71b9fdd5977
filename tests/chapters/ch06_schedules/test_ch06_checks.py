"""Chapter 06's exercise (linear warm-up, then cosine): nbgrader metadata, the reference
solution, the student stub, and the usual wrong answers, which the visible check (with a hint
naming the mistake), the hidden tests and the grading spec must all reject; the answers that
call the course's schedules fail too, and those are switched off only while an answer runs."""

from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_utils import references, schedules
from course_utils.chapters.ch06_schedules import checks as checks_ch06
from course_utils.chapters.ch06_schedules import parity
from course_utils.chapters.ch06_schedules.checks import check_warmup_cosine
from course_utils.references import ReferenceUnavailable

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "notebooks" / "06_learning_rate_schedules.ipynb"

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
) = standard_exercise_tests(NOTEBOOK, "warmup_cosine", check="check_warmup_cosine", points=2)


def _cells():
    return nbgrader_cells(nbformat.read(NOTEBOOK, as_version=4))


def _define(source):
    namespace = {}
    exec(compile(source, "<warmup_cosine>", "exec"), namespace)
    return namespace["warmup_cosine"]


RIGHT = """import numpy as np


def warmup_cosine(base_lr, steps, warmup_steps, t_max, start_factor=1 / 3, eta_min=0.0):
    t = np.arange(steps, dtype=np.float64)
    warm = base_lr * (start_factor + (1.0 - start_factor) * t / warmup_steps)
    cos = eta_min + (base_lr - eta_min) * (1.0 + np.cos(np.pi * (t - warmup_steps) / t_max)) / 2.0
    return np.where(t < warmup_steps, warm, cos)
"""


def _wrong(*replacements):
    source = RIGHT
    for old, new in replacements:
        assert old in source, old
        source = source.replace(old, new)
    return source


def _body(body):
    return (
        "import numpy as np\nfrom course_utils import schedules\n\n\n"
        "def warmup_cosine(base_lr, steps, warmup_steps, t_max, start_factor=1 / 3, "
        "eta_min=0.0):\n" + body
    )


_WARM = "(start_factor + (1.0 - start_factor) * t / warmup_steps)"
_RETURN = "return np.where(t < warmup_steps, warm, cos)"

#: mistake -> (answer's source, a word of the visible check's hint)
WRONG = {
    "warm-up from 0 (start_factor ignored)": (_wrong((_WARM, "(t / warmup_steps)")), "not at 0"),
    "no warm-up (start_factor ignored)": (
        _wrong((_WARM, "(1.0 + 0.0 * t)")),
        "start_factor is ignored",
    ),
    "start_factor always 1/3": (
        _wrong((_WARM, "(1 / 3 + (1.0 - 1 / 3) * t / warmup_steps)")),
        "start_factor is ignored",
    ),
    "default start_factor 0.1": (
        _wrong(("start_factor=1 / 3", "start_factor=0.1")),
        "your default looks like 0.1",
    ),
    "warm-up divides by W - 1": (
        _wrong(("t / warmup_steps)", "t / max(warmup_steps - 1, 1))")),
        "Off by one in the warm-up",
    ),
    "warm-up divides by W + 1": (
        _wrong(("t / warmup_steps)", "t / (warmup_steps + 1))")),
        "Off by one in the warm-up",
    ),
    "t counted from 1": (
        _wrong(("np.arange(steps, dtype", "np.arange(1, steps + 1, dtype")),
        "t counts from 0",
    ),
    "cosine starts at t = 0": (
        _wrong(("(t - warmup_steps) / t_max", "t / t_max")),
        "cosine starts at t = 0 instead of after the warm-up",
    ),
    "cosine shifted by W - 1": (
        _wrong(("(t - warmup_steps) / t_max", "(t - warmup_steps + 1) / t_max")),
        "Off by one in the cosine",
    ),
    "cosine shifted by W + 1": (
        _wrong(("(t - warmup_steps) / t_max", "(t - warmup_steps - 1) / t_max")),
        "Off by one in the cosine",
    ),
    "cosine over steps - W, not t_max": (
        _wrong(("/ t_max)", "/ max(steps - warmup_steps, 1))")),
        "not steps - warmup_steps",
    ),
    "eta_min ignored": (
        _wrong(("cos = eta_min + (base_lr - eta_min) *", "cos = base_lr *")),
        "eta_min is ignored",
    ),
    "eta_min added on top": (_wrong(("(base_lr - eta_min) *", "base_lr *")), "on top"),
    "cosine rising": (_wrong(("(1.0 + np.cos", "(1.0 - np.cos")), "goes down"),
    "float32": (_wrong((_RETURN, _RETURN + ".astype(np.float32)")), "float64"),
    "list": (_wrong((_RETURN, _RETURN + ".tolist()")), "ndarray"),
    "length steps + 1": (
        _wrong(("np.arange(steps, dtype", "np.arange(steps + 1, dtype")),
        "One learning rate per step",
    ),
    "always the full warm-up": (
        _wrong(("np.arange(steps, dtype", "np.arange(max(steps, warmup_steps), dtype")),
        "One learning rate per step",
    ),
    "one import": (
        _body(
            "    return schedules.warmup_cosine(base_lr, steps, warmup_steps, t_max, "
            "start_factor, eta_min)\n"
        ),
        "ReferenceUnavailable",
    ),
    "torch_schedule": (
        _body(
            "    from course_utils.chapters.ch06_schedules import parity\n\n"
            "    return parity.torch_schedule('warmup_cosine', base_lr, steps, "
            "warmup_steps=warmup_steps,\n"
            "                                 t_max=t_max, start_factor=start_factor, "
            "eta_min=eta_min)\n"
        ),
        "ReferenceUnavailable",
    ),
    "explorer_schedule": (
        _body(
            "    e = schedules.explorer_schedule('cosine', base_lr, steps, warmup_steps, t_max,\n"
            "                                    start_factor=start_factor)\n"
            "    t = np.arange(steps)\n"
            "    return np.where(t < warmup_steps, e, eta_min + (base_lr - eta_min) * e / base_lr)\n"
        ),
        "ReferenceUnavailable",
    ),
    "_then": (
        _body(
            "    return schedules._then(base_lr, steps, warmup_steps, start_factor,\n"
            "                           lambda n: schedules.cosine(base_lr, n, t_max, eta_min))\n"
        ),
        "ReferenceUnavailable",
    ),
}


def test_reference_solution_passes_the_spec():
    assert spec_failures(_cells()["warmup_cosine_solution"].source, "warmup_cosine_tests") == []


def test_the_right_answer_written_differently_passes(capsys):
    source = _body(
        "    w = min(steps, warmup_steps)\n"
        "    warm = base_lr * (start_factor + (1 - start_factor) * np.arange(w) / warmup_steps)\n"
        "    k = np.arange(steps - w)\n"
        "    cos = eta_min + (base_lr - eta_min) * (1 + np.cos(np.pi * k / t_max)) / 2\n"
        "    return np.concatenate([warm, cos]).astype(np.float64)\n"
    )
    check_warmup_cosine(_define(source))
    assert "All visible checks passed (absolute tolerance 1e-12)." in capsys.readouterr().out
    assert hidden_tests_pass(source, _cells()["warmup_cosine_tests"].source)
    assert spec_failures(source, "warmup_cosine_tests") == []


@pytest.mark.parametrize("mistake", WRONG)
def test_wrong_answers_fail_check_hidden_tests_and_spec(mistake, capsys):
    source, hint = WRONG[mistake]
    with np.errstate(all="ignore"):
        with pytest.raises(AssertionError) as failure:
            check_warmup_cosine(_define(source))
        assert hint in str(failure.value)
        assert "WRONG" in capsys.readouterr().out
        assert not hidden_tests_pass(source, _cells()["warmup_cosine_tests"].source)
        assert spec_failures(source, "warmup_cosine_tests")


@pytest.mark.parametrize("answer", ["one import", "torch_schedule", "explorer_schedule", "_then"])
def test_the_reference_calling_answers_are_right_outside_the_exercise(answer):
    """They would pass if the references were not hidden: the test above is not vacuous."""
    cheat = _define(WRONG[answer][0])
    for case in checks_ch06.WARMUP_COSINE_CASES:
        np.testing.assert_allclose(
            cheat(**case), schedules.warmup_cosine(**case), rtol=0, atol=1e-12
        )  # torch's recursion: rounding only


def test_hints_name_the_phase():
    with pytest.raises(AssertionError, match="in the warm-up"):
        check_warmup_cosine(_define(WRONG["warm-up from 0 (start_factor ignored)"][0]))
    with pytest.raises(AssertionError, match="in the cosine phase"):
        check_warmup_cosine(_define(WRONG["cosine starts at t = 0"][0]))


def test_an_unrecognised_mistake_gets_the_phase_formula():
    source = _wrong(("cos = eta_min +", "cos = 1.01 * eta_min +"))
    with pytest.raises(AssertionError, match=r"It counts from the end of the warm-up"):
        check_warmup_cosine(_define(source))


def test_check_refuses_non_functions():
    with pytest.raises(TypeError, match="warmup_cosine must be a function"):
        check_warmup_cosine(0.1)


def test_check_survives_odd_return_values(capsys):
    for odd in (None, "lr", np.zeros((2, 2)), np.full(100, np.nan), np.zeros(100, dtype=object)):
        with pytest.raises(AssertionError):
            check_warmup_cosine(lambda *a, odd=odd, **k: odd)
    assert capsys.readouterr().out.count("WRONG") == 5


def test_every_reference_is_unavailable_inside_the_exercise_and_works_outside():
    calls = {
        "course_utils.schedules.warmup_cosine": lambda: schedules.warmup_cosine(0.1, 20, 5, 15),
        "course_utils.schedules._then": lambda: schedules._then(
            0.1, 20, 5, 0.5, lambda n: schedules.cosine(0.1, n, 15)
        ),
        "course_utils.schedules.explorer_schedule": lambda: schedules.explorer_schedule(
            "cosine", 0.1, 20, 5, 15
        ),
        "course_utils.chapters.ch06_schedules.parity.torch_schedule": lambda: parity.torch_schedule(
            "warmup_cosine", 0.1, 20, warmup_steps=5, t_max=15
        ),
        "course_utils.chapters.ch06_schedules.checks._variants": lambda: checks_ch06._variants(
            0.1, 20, 5, 15
        ),
    }
    assert sorted(references.references_of("warmup_cosine")) == sorted(calls)
    for call in calls.values():
        call()  # outside: as usual
        with references.hidden("warmup_cosine"):
            with pytest.raises(ReferenceUnavailable, match="warmup_cosine"):
                call()
        call()


def test_the_building_blocks_stay_available():
    """cosine and linear_warmup are the chapter's separate schedules, not the exercise's answer:
    composing them needs what the exercise asks (the cosine's clock restarts after W)."""
    with references.hidden("warmup_cosine"):
        schedules.cosine(0.1, 10, 10)
        schedules.linear_warmup(0.1, 10, 5)
