"""The pieces of ``make grade`` that need no kernel: the codec, the spec's generic checks, the
submission checks, the assembled notebook, the sandbox command and the reference guard."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from course_utils import references  # noqa: E402
from tools.grading import codec, runner, sandbox  # noqa: E402
from tools.grading.exercises import SPECS, spec_for  # noqa: E402
from tools.grading.spec import Call, Exercise, Outcome, close, judge_all  # noqa: E402

# --- codec ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        3,
        -(2**70),
        1.5,
        float("inf"),
        "text",
        (1, 2.5),
        [1, [2, 3]],
        {"a": (1, None)},
        np.arange(6.0).reshape(2, 3),
        np.array([True, False]),
        np.float64(0.25),
        np.int32(7),
        np.array(3.0),
        np.zeros((0, 4)),
    ],
)
def test_codec_round_trips_plain_values(value):
    back = codec.decode(json.loads(json.dumps(codec.encode(value))))
    if isinstance(value, np.ndarray):
        assert isinstance(back, np.ndarray) and back.dtype == value.dtype
        np.testing.assert_array_equal(back, value)
    elif isinstance(value, np.generic):
        assert back == value and type(back) is type(value)  # a numpy scalar stays one
    else:
        assert back == value and type(back) is type(value)


def test_codec_keeps_nan():
    assert np.isnan(codec.decode(codec.encode(float("nan"))))


def test_codec_never_evaluates_or_unpickles_what_comes_back():
    expr = codec.encode(codec.Expr("__import__('os').getpid()"))
    assert isinstance(codec.decode(expr), codec.Unsupported)  # grader side
    assert codec.decode(expr, trusted=True) > 0  # kernel side
    objects = np.array([{"a": 1}], dtype=object)
    assert codec.encode(objects) == {"unsupported": "numpy array of dtype object"}
    pickled = {"ndarray": "gASVAAAAAAAAAAA=", "scalar": False}  # not an .npy file
    assert isinstance(codec.decode(pickled), codec.Unsupported)
    assert isinstance(codec.decode({"rng": 3}), codec.Rng)
    assert isinstance(codec.decode({"rng": 3}, trusted=True), np.random.Generator)


def test_codec_turns_other_objects_into_their_type_name():
    assert codec.decode(codec.encode(object())) == codec.Unsupported("object")
    assert codec.decode({"weird": 1}) == codec.Unsupported("unknown")
    assert codec.decode(["bare"]) == codec.Unsupported("bare list")
    deep = [1]
    for _ in range(20):
        deep = [deep]
    assert "deeper" in json.dumps(codec.encode(deep))


# --- spec -----------------------------------------------------------------------------------


def test_in_place_changes_fail_generically_and_judge_errors_are_caught():
    x = np.ones(3)
    call = Call("f", (x,))
    exercise = Exercise(
        "f_tests", hides=("f",), calls=lambda: [call], judge=lambda calls, outcomes: [1 / 0]
    )
    outcome = Outcome(value=1.0, args_after=(np.zeros(3),))
    failures = judge_all(exercise, [call], [outcome])
    assert "changed its argument 1 in place" in failures[0]
    assert "could not be checked (ZeroDivisionError" in failures[1]
    assert judge_all(exercise, [call], []) == ["only 0 of 1 calls came back"]


def test_close_explains_the_difference():
    assert close(np.ones(2), np.ones(2)) is None
    assert "shape (3,)" in close(np.ones(3), np.ones(2))
    assert "NaN" in close(np.array([np.nan, 1.0]), np.ones(2))
    assert "off by up to 0.5" in close(np.array([1.5, 1.0]), np.ones(2))
    assert "not a number" in close(codec.Unsupported("dict"), np.ones(2))


def test_every_spec_names_a_test_cell_and_hides_its_exercise():
    import importlib
    import pkgutil

    import course_utils

    for info in pkgutil.walk_packages(course_utils.__path__, "course_utils."):
        importlib.import_module(info.name)
    assert SPECS
    for grade_id, spec in SPECS.items():
        assert grade_id.endswith("_tests")
        # its own exercise (which may have no package reference, e.g. chapter 03's search), or
        # another exercise whose references would answer it: a typo here would hide nothing
        assert grade_id.removesuffix("_tests") in spec.hides, grade_id
        for exercise in spec.hides:
            assert exercise == grade_id.removesuffix("_tests") or references.references_of(
                exercise
            ), f"{grade_id} hides {exercise!r}, which no package function is marked for"
    with pytest.raises(ValueError, match="no grading spec"):
        spec_for("nothing_tests")


# --- the reference guard ----------------------------------------------------------------------


def test_a_marked_reference_refuses_only_inside_hidden():
    @references.reference_answer("demo_exercise")
    def answer(x):
        return 2 * x

    assert answer(2) == 4
    with references.hidden("demo_exercise"):
        with pytest.raises(references.ReferenceUnavailable, match="reference answer"):
            answer(2)
        with references.hidden("other"):
            with pytest.raises(references.ReferenceUnavailable):
                answer(2)
    assert answer(3) == 6
    assert not hasattr(answer, "__wrapped__")
    assert references.guard_holds("demo_exercise", answer)
    assert not references.guard_holds("demo_exercise", lambda: 1)
    with pytest.raises(ValueError):
        references.reference_answer()
    with pytest.raises(ValueError):
        with references.hidden():
            pass


# --- submissions and the assembled notebook -------------------------------------------------


def _notebook(*cells):
    notebook = nbformat.v4.new_notebook()
    notebook.cells = list(cells)
    return notebook


def _solution(source, grade_id="f_solution", cell_id=None):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": False,
        "grade_id": grade_id,
        "locked": False,
        "schema_version": 3,
        "solution": True,
        "task": False,
    }
    if cell_id:
        cell.id = cell_id
    return cell


def _test(grade_id="f_tests", points=2):
    cell = nbformat.v4.new_code_cell("check(f)\n### BEGIN HIDDEN TESTS\nassert f(1)\n")
    cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": grade_id,
        "locked": True,
        "points": points,
        "schema_version": 3,
        "solution": False,
        "task": False,
    }
    return cell


def test_assemble_takes_the_instructors_cells_the_students_solutions_and_never_the_tests():
    intro = nbformat.v4.new_code_cell("import numpy as np")
    instructor = _notebook(intro, _solution("def f(x): return x  # reference"), _test())
    student = nbformat.from_dict(json.loads(json.dumps(instructor)))
    student.cells[1].source = "def f(x): return 2 * x"
    student.cells[2].source = "pass  # the student edited the test"
    added = nbformat.v4.new_code_cell("print('mine')")
    student.cells.insert(2, added)
    notebook, notes = runner.assemble(instructor, student)
    sources = [c.source for c in notebook.cells]
    assert sources == ["import numpy as np", "def f(x): return 2 * x", "print('mine')", ""]
    assert notebook.cells[-1].metadata["grader_probe"] == "f_tests"
    assert [c.metadata["grader_origin"] for c in notebook.cells] == [
        "instructor",
        "solution",
        "added",
        "test",
    ]
    assert notes == []
    assert runner.exercises_of(instructor) == [("f_tests", 2.0)]


def test_assemble_grades_the_last_of_two_solutions_and_says_so():
    instructor = _notebook(_solution("def f(x): return x"), _test())
    student = _notebook(
        _solution("def f(x): return 1", cell_id="a"),
        _solution("def f(x): return 2", cell_id="b"),
        _test(),
    )
    notebook, notes = runner.assemble(instructor, student)
    assert notebook.cells[0].source == "def f(x): return 2"
    assert "two cells have grade_id 'f_solution'" in notes[0]


def test_an_instructor_notebook_with_duplicate_ids_is_refused():
    with pytest.raises(ValueError, match="two cells with grade_id"):
        runner.exercises_of(_notebook(_solution("a"), _solution("b"), _test()))


@pytest.mark.parametrize(
    "content, reason",
    [
        (None, "not submitted"),
        (b"", "empty file"),
        (b"   \n", "empty file"),
        (b"{ nope", "not a readable notebook"),
        (b'{"cells": 3, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}', "not a readable"),
    ],
)
def test_unusable_submissions_score_zero_with_the_reason(tmp_path, content, reason):
    path = tmp_path / "nb.ipynb"
    if content is not None:
        path.write_bytes(content)
    job = runner.Job("s", "x", None if content is None else str(path), str(tmp_path))
    with pytest.raises(ValueError, match=reason):
        runner.read_submission(job)


def test_links_and_paths_outside_the_students_folder_are_refused(tmp_path):
    target = tmp_path / "instructor.ipynb"
    nbformat.write(_notebook(), target)
    folder = tmp_path / "student"
    folder.mkdir()
    (folder / "nb.ipynb").symlink_to(target)
    with pytest.raises(ValueError, match="symbolic link"):
        runner.read_submission(runner.Job("s", "x", str(folder / "nb.ipynb"), str(folder)))
    with pytest.raises(ValueError, match="outside the student's folder"):
        runner.read_submission(runner.Job("s", "x", str(target), str(folder)))
    (folder / "big.ipynb").write_bytes(b"x" * (runner.MAX_NOTEBOOK_BYTES + 10))
    with pytest.raises(ValueError, match="larger than"):
        runner.read_submission(runner.Job("s", "x", str(folder / "big.ipynb"), str(folder)))


# --- the sandbox ----------------------------------------------------------------------------


def test_the_sandbox_binds_no_instructor_file_and_the_work_folder_read_write(tmp_path):
    command = sandbox.bwrap_command("/usr/bin/bwrap", tmp_path, tmp_path / "notebook")
    text = " ".join(command)
    assert "--unshare-all" in command and "--die-with-parent" in command
    assert f"--bind {tmp_path} {tmp_path}" in text
    assert str(ROOT / "notebooks") not in text and str(ROOT / "tools") not in text
    assert f"--ro-bind {ROOT} " not in text + " "
    binds = [command[i + 1] for i, c in enumerate(command) if c == "--ro-bind"]
    assert str(ROOT / "course_utils") in binds or any(
        str(ROOT / "course_utils").startswith(b + "/") for b in binds
    )


def test_isolation_modes_say_what_they_give():
    bwrap, line = sandbox.isolation("none")
    assert bwrap is None and "NOT ISOLATED" in line
    with pytest.raises(ValueError):
        sandbox.isolation("docker")
    bwrap, line = sandbox.isolation("auto")
    assert ("bubblewrap" in line) if bwrap else ("NOT ISOLATED" in line)


def test_the_kernel_environment_carries_nothing_of_the_graders(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_TOKEN", "do-not-leak")
    env = sandbox.kernel_env(tmp_path, "t0k")
    assert "SECRET_TOKEN" not in env and env["GRADING_TOKEN"] == "t0k"
    assert env["HOME"].startswith(str(tmp_path))
