"""Chapter 09's exercises (the update-to-weight ratio of an SGD step; the per-layer ratios of one
step of SGD with momentum): nbgrader metadata, the reference solutions, the student stubs, and
plausible wrong answers, each caught by the visible check (with a hint naming the mistake), the
hidden tests and the grading spec; the one-import answers fail all three."""

import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_utils import monitoring, references, seed_runs
from course_utils.chapters.ch09_monitoring.checks import (
    check_momentum_update_ratios,
    check_update_ratio,
)

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "notebooks" / "09_monitoring.ipynb"

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
) = standard_exercise_tests(NOTEBOOK, "update_ratio", check="check_update_ratio", points=2)

(
    test_momentum_cells_carry_nbgrader_metadata,
    test_momentum_reference_solution_passes_visible_and_hidden_tests,
    test_momentum_student_version_has_a_stub_and_no_hidden_tests,
) = standard_exercise_tests(
    NOTEBOOK, "momentum_update_ratios", check="check_momentum_update_ratios", points=3
)


@pytest.fixture(scope="module")
def cells():
    return nbgrader_cells(nbformat.read(NOTEBOOK, as_version=4))


def _source(signature: str, body: str) -> str:
    return (
        "import numpy as np\n\n\n"
        + signature
        + "\n"
        + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
        + "\n"
    )


# ------------------------------------------------------------------ exercise 1: update_ratio
def ratio_answer(body: str) -> str:
    """A solution cell defining update_ratio(w, dw, lr) with ``body``."""
    return _source("def update_ratio(w, dw, lr):", body)


def ratio_of(expression: str, raw: bool = False) -> str:
    """An answer returning ``float(expression)`` (``expression`` itself if ``raw``)."""
    return ratio_answer(f"return {expression}" if raw else f"return float({expression})")


RATIO_RIGHT = {
    "norms of ravel": ratio_of(
        "np.linalg.norm(lr * np.ravel(dw)) / np.linalg.norm(np.ravel(w))", raw=True
    ),
    "sums of squares": ratio_of("float(np.sqrt(np.sum((lr * dw) ** 2) / np.sum(w ** 2)))"),
    "from snapshots": ratio_answer("""
        after = w - lr * dw
        return float(np.linalg.norm(after - w) / np.linalg.norm(w))
        """),
    "abs(lr) outside": ratio_of("abs(lr) * np.linalg.norm(dw) / np.linalg.norm(w)", raw=True),
}

#: name -> (answer source, a word of the visible check's hint for it)
RATIO_WRONG = {
    "forgot the lr": (ratio_of("np.linalg.norm(dw) / np.linalg.norm(w)"), "learning rate"),
    "squared norms": (ratio_of("np.sum((lr * dw) ** 2) / np.sum(w ** 2)"), "squared"),
    "divided by the new weights": (
        ratio_of("np.linalg.norm(lr * dw) / np.linalg.norm(w - lr * dw)"),
        "after the step",
    ),
    "divided by w + step": (
        ratio_of("np.linalg.norm(lr * dw) / np.linalg.norm(w + lr * dw)"),
        "w + lr * dw",
    ),
    "lr applied twice": (ratio_of("np.linalg.norm(lr ** 2 * dw) / np.linalg.norm(w)"), "twice"),
    "spectral norm": (
        ratio_answer("""
        def norm(a):
            return np.linalg.norm(a, 2) if a.ndim == 2 else np.linalg.norm(a)
        return float(norm(lr * dw) / norm(w))
        """),
        "spectral",
    ),
    "mean absolute values": (
        ratio_of("np.mean(np.abs(lr * dw)) / np.mean(np.abs(w))"),
        "mean absolute",
    ),
    "mean of element-wise ratios": (
        ratio_of("np.mean(np.abs(lr * dw) / np.abs(w))"),
        "element-wise",
    ),
    "inverted": (ratio_of("np.linalg.norm(w) / np.linalg.norm(lr * dw)"), "upside down"),
    "divided by the number of entries": (
        ratio_of("np.linalg.norm(lr * dw) / np.linalg.norm(w) / w.size"),
        "times the expected",
    ),
    "step taken in place": (
        ratio_answer("""
        w -= lr * dw
        return float(np.linalg.norm(lr * dw) / np.linalg.norm(w))
        """),
        "in place",
    ),
    "returns a rounded string": (
        ratio_of('f"{np.linalg.norm(lr * dw) / np.linalg.norm(w):.3g}"', raw=True),
        "one number",
    ),
    "returns the element-wise array": (
        ratio_of("np.abs(lr * dw) / np.abs(w)", raw=True),
        "one number",
    ),
    "returns None": (ratio_answer("np.linalg.norm(lr * dw) / np.linalg.norm(w)"), "one number"),
}

#: the one-import answers: each calls a reference marked for "update_ratio"
RATIO_ONE_IMPORT = {
    "sgd_update_ratio": ratio_answer("""
        from course_utils import monitoring
        return monitoring.sgd_update_ratio(w, dw, lr)
        """),
    "update_ratio": ratio_answer("""
        from course_utils import monitoring
        return monitoring.update_ratio(w, w - lr * dw)
        """),
    "update_ratios": ratio_answer("""
        from course_utils import monitoring
        return monitoring.update_ratios({"W": w}, {"W": w - lr * dw})["W"]
        """),
    "gradient_stats": ratio_answer("""
        import torch
        from course_utils import monitoring
        layer = torch.nn.Linear(w.shape[1], w.shape[0], bias=False)
        with torch.no_grad():
            layer.weight.copy_(torch.as_tensor(w))
        layer.weight.grad = torch.as_tensor(dw, dtype=torch.float32)
        return lr * float(monitoring.gradient_stats(torch.nn.Sequential(layer))["|dW|/|W|"][0])
        """),
}


def run_check(check, name, source):
    namespace = {}
    exec(compile(source, "<answer>", "exec"), namespace)
    check(namespace[name])


#: answers that return a NumPy scalar (np.float64), not a float: make grade's codec cannot carry
#: one yet (it encodes it by repr, "np.float64(0.5)", which it cannot read back)


@pytest.mark.parametrize("name", RATIO_RIGHT)
def test_other_right_ratios_pass_the_visible_check_and_the_hidden_tests(cells, name, capsys):
    run_check(check_update_ratio, "update_ratio", RATIO_RIGHT[name])
    assert "All visible checks passed" in capsys.readouterr().out
    assert hidden_tests_pass(RATIO_RIGHT[name], cells["update_ratio_tests"].source)


@pytest.mark.parametrize("name", list(RATIO_RIGHT))
def test_other_right_ratios_pass_the_spec(name):
    assert spec_failures(RATIO_RIGHT[name], "update_ratio_tests") == []


def test_reference_ratio_passes_the_spec(cells):
    assert spec_failures(cells["update_ratio_solution"].source, "update_ratio_tests") == []


@pytest.mark.parametrize("mistake", RATIO_WRONG)
def test_wrong_ratios_fail_the_visible_check_with_a_specific_hint(mistake, capsys):
    source, word = RATIO_WRONG[mistake]
    with np.errstate(all="ignore"), pytest.raises(AssertionError) as failure:
        run_check(check_update_ratio, "update_ratio", source)
    out = capsys.readouterr().out
    assert "WRONG" in out and word in out
    assert word in str(failure.value)


@pytest.mark.parametrize("mistake", RATIO_WRONG)
def test_wrong_ratios_fail_the_hidden_tests_and_the_spec(cells, mistake):
    source, _ = RATIO_WRONG[mistake]
    with np.errstate(all="ignore"):
        assert not hidden_tests_pass(source, cells["update_ratio_tests"].source)
        assert spec_failures(source, "update_ratio_tests")


@pytest.mark.parametrize("reference", RATIO_ONE_IMPORT)
def test_one_import_ratios_fail_all_three(cells, reference, capsys):
    source = RATIO_ONE_IMPORT[reference]
    with pytest.raises(AssertionError, match="ReferenceUnavailable"):
        run_check(check_update_ratio, "update_ratio", source)
    assert "WRONG" in capsys.readouterr().out
    assert not hidden_tests_pass(source, cells["update_ratio_tests"].source)
    failures = spec_failures(source, "update_ratio_tests")
    assert any("ReferenceUnavailable" in f for f in failures)


def test_the_spec_names_the_in_place_step():
    failures = spec_failures(RATIO_WRONG["step taken in place"][0], "update_ratio_tests")
    assert any("in place" in f for f in failures)


# ------------------------------------------------------------------ exercise 2: momentum
SIGNATURE = "def momentum_update_ratios(weights, grads, velocities, lr, momentum=0.9):"
VALIDATE = """
if not set(weights) == set(grads) == set(velocities):
    raise ValueError("layer names differ")
for k in weights:
    if not weights[k].shape == grads[k].shape == velocities[k].shape:
        raise ValueError("shapes differ")
"""


def momentum_answer(body: str, validate: bool = True) -> str:
    """A solution cell defining momentum_update_ratios with ``body`` (after the validation)."""
    body = textwrap.dedent(body).strip("\n")
    return _source(SIGNATURE, (VALIDATE if validate else "") + "\n" + body)


def momentum_of(
    step: str,
    denominator: str = "np.linalg.norm(weights[k])",
    value: str = "float({step_norm} / {denominator})",
) -> str:
    """An answer whose ratio of layer ``k`` is ``value`` with the step ``step`` (in terms of
    ``w, g, v, lr, momentum`` of that layer)."""
    expression = value.format(step_norm=f"np.linalg.norm({step})", denominator=denominator)
    return momentum_answer(f"""
        out = {{}}
        for k in weights:
            w, g, v = weights[k], grads[k], velocities[k]
            out[k] = {expression}
        return out
        """)


MOMENTUM_RIGHT = {
    "lr outside the norm": momentum_of(
        "momentum * v + g", value="lr * float({step_norm} / {denominator})"
    ),
    "from snapshots": momentum_of("(w - lr * (momentum * v + g)) - w"),
    "dict comprehension": momentum_answer("""
        return {k: float(np.sqrt(np.sum((lr * (momentum * velocities[k] + grads[k])) ** 2))
                         / np.sqrt(np.sum(weights[k] ** 2))) for k in weights}
        """),
}

#: name -> (answer source, a word of the visible check's hint for it)
MOMENTUM_WRONG = {
    "plain SGD step lr * g": (momentum_of("lr * g"), "plain SGD"),
    "the velocity before the step": (momentum_of("lr * v"), "before the step"),
    "forgot the lr": (momentum_of("momentum * v + g"), "learning rate"),
    "averaged velocity (dampening)": (
        momentum_of("lr * (momentum * v + (1 - momentum) * g)"),
        "average",
    ),
    "lecture's convention": (momentum_of("momentum * v - lr * g"), "lecture"),
    "gradient sign flipped": (momentum_of("lr * (momentum * v - g)"), "sign"),
    "Nesterov's step": (momentum_of("lr * (g + momentum * (momentum * v + g))"), "Nesterov"),
    "divided by the new weights": (
        momentum_of(
            "lr * (momentum * v + g)", denominator="np.linalg.norm(w - lr * (momentum * v + g))"
        ),
        "after the step",
    ),
    "squared norms": (
        momentum_of("lr * (momentum * v + g)", value="float(({step_norm} / {denominator}) ** 2)"),
        "squared",
    ),
    "one ratio for the whole network": (
        momentum_answer("""
        step = np.sqrt(sum(np.sum((lr * (momentum * velocities[k] + grads[k])) ** 2)
                           for k in weights))
        scale = np.sqrt(sum(np.sum(weights[k] ** 2) for k in weights))
        return {k: float(step / scale) for k in weights}
        """),
        "whole network",
    ),
    "off by a factor": (
        momentum_of("lr * (momentum * v + g)", value="float({step_norm} / {denominator}) / 2"),
        "the step of SGD with momentum is lr * v_new",
    ),
    "velocity updated in place": (
        momentum_answer("""
        out = {}
        for k in weights:
            velocities[k] *= momentum
            velocities[k] += grads[k]
            out[k] = float(np.linalg.norm(lr * velocities[k]) / np.linalg.norm(weights[k]))
        return out
        """),
        "in place",
    ),
    "step taken in place": (
        momentum_answer("""
        out = {}
        for k in weights:
            before = np.linalg.norm(weights[k])
            weights[k] -= lr * (momentum * velocities[k] + grads[k])
            out[k] = float(np.linalg.norm(lr * (momentum * velocities[k] + grads[k])) / before)
        return out
        """),
        "in place",
    ),
    "no validation": (
        momentum_answer(
            """
        return {k: float(np.linalg.norm(lr * (momentum * velocities[k] + grads[k]))
                         / np.linalg.norm(weights[k])) for k in weights}
        """,
            validate=False,
        ),
        "ValueError",
    ),
    "names checked, shapes not": (
        _source(
            SIGNATURE,
            """
        if not set(weights) == set(grads) == set(velocities):
            raise ValueError("layer names differ")
        return {k: float(np.linalg.norm(lr * (momentum * velocities[k] + grads[k]))
                         / np.linalg.norm(weights[k])) for k in weights}
        """,
        ),
        "ValueError",
    ),
    "returns a list": (
        momentum_answer("""
        return [float(np.linalg.norm(lr * (momentum * velocities[k] + grads[k]))
                      / np.linalg.norm(weights[k])) for k in weights]
        """),
        "dict",
    ),
    "renames the layers": (
        momentum_answer("""
        return {k + "_ratio": float(np.linalg.norm(lr * (momentum * velocities[k] + grads[k]))
                                    / np.linalg.norm(weights[k])) for k in weights}
        """),
        "keys",
    ),
    "element-wise ratios": (
        momentum_answer("""
        return {k: np.abs(lr * (momentum * velocities[k] + grads[k])) / np.abs(weights[k])
                for k in weights}
        """),
        "one number",
    ),
}

#: the one-import answers: each calls a reference marked for "momentum_update_ratios"
MOMENTUM_ONE_IMPORT = {
    "momentum_update_ratios": momentum_answer("""
        from course_utils import monitoring
        return monitoring.momentum_update_ratios(weights, grads, velocities, lr, momentum)
        """),
    "sgd_update_ratio": momentum_answer("""
        from course_utils import monitoring
        return {k: monitoring.sgd_update_ratio(weights[k], momentum * velocities[k] + grads[k], lr)
                for k in weights}
        """),
    "update_ratio": momentum_answer("""
        from course_utils import monitoring
        return {k: monitoring.update_ratio(
            weights[k], weights[k] - lr * (momentum * velocities[k] + grads[k])) for k in weights}
        """),
    "update_ratios": momentum_answer("""
        from course_utils import monitoring
        after = {k: weights[k] - lr * (momentum * velocities[k] + grads[k]) for k in weights}
        return monitoring.update_ratios(weights, after)
        """),
    "LeanSGD.step": momentum_answer("""
        import torch
        from course_utils import seed_runs
        out = {}
        for k in weights:
            p = torch.tensor(weights[k], requires_grad=True)
            p.grad = torch.tensor(grads[k])
            optimizer = seed_runs.LeanSGD([p], lr, momentum=momentum)
            if np.any(velocities[k]):
                optimizer.state[p] = torch.tensor(velocities[k])
            optimizer.step()
            step = p.detach().numpy() - weights[k]
            out[k] = float(np.linalg.norm(step) / np.linalg.norm(weights[k]))
        return out
        """),
    "the exercise-1 answer calling a reference": (
        momentum_answer("""
        return {k: update_ratio(weights[k], momentum * velocities[k] + grads[k], lr)
                for k in weights}
        """)
        + "\n\n"
        + RATIO_ONE_IMPORT["sgd_update_ratio"].split("\n\n\n", 1)[1]
    ),
}


@pytest.mark.parametrize("name", MOMENTUM_RIGHT)
def test_other_right_momentum_answers_pass_all_three(cells, name, capsys):
    run_check(check_momentum_update_ratios, "momentum_update_ratios", MOMENTUM_RIGHT[name])
    assert "All visible checks passed" in capsys.readouterr().out
    assert hidden_tests_pass(MOMENTUM_RIGHT[name], cells["momentum_update_ratios_tests"].source)
    assert spec_failures(MOMENTUM_RIGHT[name], "momentum_update_ratios_tests") == []


REUSING_UPDATE_RATIO = (
    momentum_answer("""
    return {k: update_ratio(weights[k], momentum * velocities[k] + grads[k], lr)
            for k in weights}
    """)
    + "\n\n"
    + RATIO_RIGHT["norms of ravel"].split("\n\n\n", 1)[1]
)


def test_an_answer_reusing_a_right_update_ratio_passes(cells, capsys):
    run_check(check_momentum_update_ratios, "momentum_update_ratios", REUSING_UPDATE_RATIO)
    assert "All visible checks passed" in capsys.readouterr().out
    assert hidden_tests_pass(REUSING_UPDATE_RATIO, cells["momentum_update_ratios_tests"].source)


def test_an_answer_reusing_a_right_update_ratio_passes_the_spec():
    assert spec_failures(REUSING_UPDATE_RATIO, "momentum_update_ratios_tests") == []


def test_reference_momentum_answer_passes_the_spec(cells):
    assert (
        spec_failures(
            cells["momentum_update_ratios_solution"].source, "momentum_update_ratios_tests"
        )
        == []
    )


@pytest.mark.parametrize("mistake", MOMENTUM_WRONG)
def test_wrong_momentum_answers_fail_the_visible_check_with_a_specific_hint(mistake, capsys):
    source, word = MOMENTUM_WRONG[mistake]
    with np.errstate(all="ignore"), pytest.raises(AssertionError) as failure:
        run_check(check_momentum_update_ratios, "momentum_update_ratios", source)
    out = capsys.readouterr().out
    assert "WRONG" in out and word in out
    assert word in str(failure.value)


@pytest.mark.parametrize("mistake", MOMENTUM_WRONG)
def test_wrong_momentum_answers_fail_the_hidden_tests_and_the_spec(cells, mistake):
    source, _ = MOMENTUM_WRONG[mistake]
    with np.errstate(all="ignore"):
        assert not hidden_tests_pass(source, cells["momentum_update_ratios_tests"].source)
        assert spec_failures(source, "momentum_update_ratios_tests")


@pytest.mark.parametrize("reference", MOMENTUM_ONE_IMPORT)
def test_one_import_momentum_answers_fail_all_three(cells, reference, capsys):
    source = MOMENTUM_ONE_IMPORT[reference]
    with pytest.raises(AssertionError, match="ReferenceUnavailable"):
        run_check(check_momentum_update_ratios, "momentum_update_ratios", source)
    assert "WRONG" in capsys.readouterr().out
    assert not hidden_tests_pass(source, cells["momentum_update_ratios_tests"].source)
    failures = spec_failures(source, "momentum_update_ratios_tests")
    assert failures and any("ReferenceUnavailable" in f for f in failures)


def test_the_spec_names_the_in_place_velocity_and_the_missing_error():
    failures = spec_failures(
        MOMENTUM_WRONG["velocity updated in place"][0], "momentum_update_ratios_tests"
    )
    assert any("changed velocities in place" in f for f in failures)
    failures = spec_failures(
        MOMENTUM_WRONG["names checked, shapes not"][0], "momentum_update_ratios_tests"
    )
    assert any("must raise ValueError" in f and "shape" in f for f in failures)


# ------------------------------------------------------------------ the references
def _torch_step_ratio():
    """LeanSGD.step on one layer; the ratio of the step it took."""
    import torch

    w = torch.tensor([[0.5, -1.0], [2.0, 0.25]], dtype=torch.float64, requires_grad=True)
    w.grad = torch.tensor([[0.1, 0.2], [-0.3, 0.4]], dtype=torch.float64)
    before = w.detach().clone()
    seed_runs.LeanSGD([w], 0.1, momentum=0.9).step()
    return float(torch.linalg.vector_norm(w.detach() - before) / torch.linalg.vector_norm(before))


def _gradient_stats_ratio():
    import torch

    layer = torch.nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor([[0.5, -1.0], [2.0, 0.25]]))
    layer.weight.grad = torch.tensor([[0.1, 0.2], [-0.3, 0.4]])
    return float(monitoring.gradient_stats(torch.nn.Sequential(layer))["|dW|/|W|"][0])


W = np.array([[0.5, -1.0], [2.0, 0.25]])
G = np.array([[0.1, 0.2], [-0.3, 0.4]])
# expected values: ||0.1 G|| / ||W|| and, at lr 1, ||G|| / ||W||
RATIO = 0.1 * np.linalg.norm(G) / np.linalg.norm(W)

#: every marked reference -> (the exercises it answers, a call, its value outside hidden())
REFERENCES = {
    "update_ratio": (
        ("update_ratio", "momentum_update_ratios"),
        lambda: monitoring.update_ratio(W, W - 0.1 * G),
        RATIO,
    ),
    "sgd_update_ratio": (
        ("update_ratio", "momentum_update_ratios"),
        lambda: monitoring.sgd_update_ratio(W, G, 0.1),
        RATIO,
    ),
    "update_ratios": (
        ("update_ratio", "momentum_update_ratios"),
        lambda: monitoring.update_ratios({"W": W}, {"W": W - 0.1 * G})["W"],
        RATIO,
    ),
    "gradient_stats": (("update_ratio",), _gradient_stats_ratio, RATIO / 0.1),
    "momentum_update_ratios": (
        ("momentum_update_ratios",),
        lambda: monitoring.momentum_update_ratios({"W": W}, {"W": G}, {"W": np.zeros((2, 2))}, 0.1)[
            "W"
        ],
        RATIO,
    ),
    "LeanSGD.step": (("momentum_update_ratios",), _torch_step_ratio, RATIO),
}


@pytest.mark.parametrize("name", REFERENCES)
def test_each_reference_is_hidden_only_while_its_exercise_runs(name):
    exercises, call, value = REFERENCES[name]
    for exercise in exercises:
        with (
            references.hidden(exercise),
            pytest.raises(references.ReferenceUnavailable, match=exercise),
        ):
            call()
    # float32 weights (gradient_stats) hold the inputs to ~1e-7
    assert call() == pytest.approx(value, rel=1e-6)
    others = {"update_ratio", "momentum_update_ratios"} - set(exercises)
    for exercise in others:
        with references.hidden(exercise):
            assert call() == pytest.approx(value, rel=1e-6)


def test_the_marked_references_are_these():
    from course_utils import optim, seed_runs  # noqa: F401 - their SGD steps are marked too

    prefix = "course_utils.monitoring."
    assert set(references.references_of("update_ratio")) == {
        prefix + n for n in ("update_ratio", "sgd_update_ratio", "update_ratios", "gradient_stats")
    }
    assert set(references.references_of("momentum_update_ratios")) == {
        prefix + n
        for n in ("update_ratio", "sgd_update_ratio", "update_ratios", "momentum_update_ratios")
    } | {
        "course_utils.lean_sgd.LeanSGD.step",
        "course_utils.optim.sgd.SGD._update",
    }  # momentum SGD's step on numpy arrays


def test_checks_refuse_non_functions():
    with pytest.raises(TypeError, match="update_ratio must be a function"):
        check_update_ratio(1e-3)
    with pytest.raises(TypeError, match="momentum_update_ratios must be a function"):
        check_momentum_update_ratios({"W1": 1e-3})
