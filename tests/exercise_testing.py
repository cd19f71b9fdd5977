"""Helpers shared by the exercise tests: what nbgrader's autograder does, in one process."""


def nbgrader_cells(notebook):
    """The notebook's nbgrader cells by grade_id."""
    return {c.metadata["nbgrader"]["grade_id"]: c for c in notebook.cells
            if "nbgrader" in c.metadata}


def grade(solution_source, test_source):
    """Run a solution cell, then a test cell, in one namespace (raises what the tests raise)."""
    namespace = {}
    exec(compile(solution_source, "<solution>", "exec"), namespace)
    exec(compile(test_source, "<tests>", "exec"), namespace)


def visible_part(test_source):
    """What a student sees of a test cell: everything before the hidden tests."""
    return test_source.split("### BEGIN HIDDEN TESTS")[0]
