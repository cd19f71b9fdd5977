"""Chapter 07's exercises (inverted dropout; dropout inside a two-layer network, forward and
backward): nbgrader metadata, the reference solutions, the student stubs, other right answers,
and plausible wrong answers, each caught by the visible check (with a hint naming the
mistake), the hidden tests and the grading spec."""

import textwrap
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_utils import references
from course_utils import regularization as R
from course_utils.chapters.ch07_regularization import runs
from course_utils.chapters.ch07_regularization.checks import (
    check_dropout_network,
    check_inverted_dropout,
)

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "notebooks" / "07_regularization.ipynb"

pytest.importorskip("nbgrader")
from exercise_testing import (  # noqa: E402
    hidden_tests_pass,
    nbgrader_cells,
    spec_failures,
    standard_exercise_tests,
)


@pytest.fixture(scope="module")
def cells():
    return nbgrader_cells(nbformat.read(NOTEBOOK, as_version=4))


(
    test_dropout_cells_carry_nbgrader_metadata,
    test_dropout_reference_passes_visible_and_hidden_tests,
    test_dropout_student_version_has_a_stub_and_no_hidden_tests,
) = standard_exercise_tests(NOTEBOOK, "dropout", check="check_inverted_dropout", points=2)

(
    test_network_cells_carry_nbgrader_metadata,
    test_network_reference_passes_visible_and_hidden_tests,
    test_network_student_version_has_a_stub_and_no_hidden_tests,
) = standard_exercise_tests(NOTEBOOK, "dropout_network", check="check_dropout_network", points=3)


def run_check(check, name, source):
    namespace = {}
    exec(compile(source, "<answer>", "exec"), namespace)
    check(namespace[name])


# ================================================================== exercise 1: inverted dropout
def dropout_answer(body: str) -> str:
    return (
        "import numpy as np\n\n\ndef inverted_dropout(x, p, train, rng):\n"
        + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
        + "\n"
    )


def with_mask(mask: str, train_out: str = "x * mask / (1 - p)", test_out: str = "x.copy()"):
    return dropout_answer(f"""
        x = np.asarray(x, dtype=np.float64)
        if not train:
            return {test_out}
        mask = {mask}
        return {train_out}
        """)


DROPOUT_RIGHT = {
    "strict >": with_mask("rng.random(x.shape) > p"),
    "binomial": with_mask("rng.binomial(1, 1 - p, x.shape)"),
    "uniform < 1 - p": with_mask("rng.uniform(size=x.shape) < 1 - p"),
}

#: name -> (answer source, a word of the visible check's hint)
DROPOUT_WRONG = {
    "version 1 (no scaling)": (with_mask("rng.random(x.shape) >= p", "x * mask"), "version 1"),
    "scaled by 1/p": (with_mask("rng.random(x.shape) >= p", "x * mask / p"), "divided by p"),
    "p as keep probability": (with_mask("rng.random(x.shape) < p"), "DROPPING"),
    "p as keep probability, scaled by 1/p": (
        with_mask("rng.random(x.shape) < p", "x * mask / p"),
        "DROPPING",
    ),
    "scales at test time": (
        with_mask("rng.random(x.shape) >= p", test_out="(1 - p) * x"),
        "version 1's test rule",
    ),
    "drops at test time": (
        dropout_answer("""
        return x * (rng.random(x.shape) >= p) / (1 - p)
        """),
        "test time",
    ),
    "global np.random": (with_mask("np.random.random(x.shape) >= p"), "rng"),
    "one mask for all rows": (with_mask("rng.random(x.shape[-1]) >= p"), "same mask"),
    "in place": (
        dropout_answer("""
        if train:
            x *= (rng.random(x.shape) >= p) / (1 - p)
        return x
        """),
        "in place",
    ),
    "float32": (
        with_mask("rng.random(x.shape) >= p", "(x * mask / (1 - p)).astype(np.float32)"),
        "float64",
    ),
    "list": (
        with_mask("rng.random(x.shape) >= p", "list((x * mask / (1 - p)).ravel())"),
        "NumPy array",
    ),
    "flattened": (with_mask("rng.random(x.shape) >= p", "(x * mask / (1 - p)).ravel()"), "shape"),
    "new generator seeded inside": (
        with_mask("np.random.default_rng(0).random(x.shape) >= p"),
        "seeded inside",
    ),
    "one-import answer": (
        dropout_answer("""
        from course_utils import regularization
        return regularization.dropout(x, p, train, version=2, seed=rng)
        """),
        "ReferenceUnavailable",
    ),
    "one-import answer, mask helpers": (
        dropout_answer("""
        from course_utils import regularization as R
        if not train:
            return np.array(x, dtype=np.float64)
        return R.apply_dropout(x, R.dropout_mask(x.shape, p, rng), p, 2)
        """),
        "ReferenceUnavailable",
    ),
    "one-import answer, DropoutStep": (
        dropout_answer("""
        from course_utils import regularization as R
        return R.DropoutStep(p, train, 2, rng).forward(np.array(x, dtype=np.float64), 0)[0]
        """),
        "ReferenceUnavailable",
    ),
    "one-import answer, Monte Carlo with one mask": (
        dropout_answer("""
        from course_utils.chapters.ch07_regularization import runs
        if not train:
            return np.array(x, dtype=np.float64)
        return runs.monte_carlo_dropout(x, p, 2, n_masks=1, seed=rng).mean_train
        """),
        "ReferenceUnavailable",
    ),
}


@pytest.mark.parametrize("answer", DROPOUT_RIGHT)
def test_other_right_dropout_answers_pass_all_three(cells, answer, capsys):
    source = DROPOUT_RIGHT[answer]
    run_check(check_inverted_dropout, "inverted_dropout", source)
    assert "All visible checks passed" in capsys.readouterr().out
    assert hidden_tests_pass(source, cells["dropout_tests"].source)
    assert spec_failures(source, "dropout_tests") == []


def test_dropout_reference_passes_the_spec(cells):
    assert spec_failures(cells["dropout_solution"].source, "dropout_tests") == []


@pytest.mark.parametrize("mistake", DROPOUT_WRONG)
def test_wrong_dropout_answers_fail_the_visible_check_with_a_specific_hint(mistake, capsys):
    source, word = DROPOUT_WRONG[mistake]
    with pytest.raises(AssertionError) as failure:
        run_check(check_inverted_dropout, "inverted_dropout", source)
    assert "WRONG" in capsys.readouterr().out
    assert word in str(failure.value)


@pytest.mark.parametrize("mistake", DROPOUT_WRONG)
def test_wrong_dropout_answers_fail_the_hidden_tests_and_the_spec(cells, mistake):
    source, _ = DROPOUT_WRONG[mistake]
    assert not hidden_tests_pass(source, cells["dropout_tests"].source)
    assert spec_failures(source, "dropout_tests")


def test_check_refuses_non_functions():
    with pytest.raises(TypeError, match="inverted_dropout must be a function"):
        check_inverted_dropout(0.5)
    with pytest.raises(TypeError, match="dropout_net_loss must be a function"):
        check_dropout_network(0.5)


# ================================================================== exercise 2: the network
NETWORK = """
z = X @ W1 + b1
h = np.maximum(z, 0.0)
mask = rng.random(h.shape) >= p if train else np.ones(h.shape, dtype=bool)
scale = 1 / (1 - p) if train else 1.0
h_tilde = h * mask * scale
scores = h_tilde @ W2 + b2
n = X.shape[0]
diff = scores - Y
loss = float(np.sum(diff ** 2) / (2 * n))
dscores = diff / n
dh_tilde = dscores @ W2.T
dh = dh_tilde * mask * scale
dz = dh * (z > 0)
return loss, {"W1": X.T @ dz, "b1": dz.sum(axis=0), "W2": h_tilde.T @ dscores,
              "b2": dscores.sum(axis=0)}
"""


def network_answer(*replacements, body=NETWORK) -> str:
    for old, new in replacements:
        assert old in body, old
        body = body.replace(old, new)
    return (
        "import numpy as np\n\n\ndef dropout_net_loss(X, Y, W1, b1, W2, b2, p, train, rng):\n"
        + textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
        + "\n"
    )


NETWORK_RIGHT = {
    "mask and scale kept apart": network_answer(),
    "relu derivative from h": network_answer(("dz = dh * (z > 0)", "dz = dh * (h > 0)")),
    "loss as a mean over examples": network_answer(
        (
            "loss = float(np.sum(diff ** 2) / (2 * n))",
            "loss = float(0.5 * np.mean(np.sum(diff ** 2, axis=1)))",
        )
    ),
}

#: The loss as numpy computes it, without float(): a right answer too.
NUMPY_SCALAR_LOSS = network_answer(
    ("loss = float(np.sum(diff ** 2) / (2 * n))", "loss = np.sum(diff ** 2) / (2 * n)")
)

#: name -> (answer source, a word of the visible check's hint)
NETWORK_WRONG = {
    "a new mask in the backward pass": (
        network_answer(
            (
                "dh = dh_tilde * mask * scale",
                "dh = dh_tilde * ((rng.random(h.shape) >= p) if train else 1.0) * scale",
            )
        ),
        "new mask",
    ),
    "the scale missing in the backward pass": (
        network_answer(("dh = dh_tilde * mask * scale", "dh = dh_tilde * mask")),
        "1/(1 - p)",
    ),
    "the mask missing in the backward pass": (
        network_answer(("dh = dh_tilde * mask * scale", "dh = dh_tilde * scale")),
        "forgets the mask",
    ),
    "no dropout in the backward pass": (
        network_answer(("dh = dh_tilde * mask * scale", "dh = dh_tilde")),
        "ignores dropout",
    ),
    "dropout applied at test time": (
        network_answer(
            ("if train else np.ones(h.shape, dtype=bool)", ""),
            ("scale = 1 / (1 - p) if train else 1.0", "scale = 1 / (1 - p)"),
        ),
        "test time",
    ),
    "(1 - p) at test time": (
        network_answer(
            ("scale = 1 / (1 - p) if train else 1.0", "scale = 1 / (1 - p) if train else 1 - p")
        ),
        "version 1's test rule",
    ),
    "p as the keep probability": (
        network_answer(
            ("rng.random(h.shape) >= p if train", "rng.random(h.shape) < p if train"),
            ("scale = 1 / (1 - p) if train", "scale = 1 / p if train"),
        ),
        "DROPPING",
    ),
    "no scale in training (version 1)": (
        network_answer(("scale = 1 / (1 - p) if train else 1.0", "scale = 1.0")),
        "version 1",
    ),
    "dW2 from h instead of h_tilde": (
        network_answer(('"W2": h_tilde.T @ dscores', '"W2": h.T @ dscores')),
        "AFTER dropout",
    ),
    "gradient without 1/N": (
        network_answer(("dscores = diff / n", "dscores = diff")),
        "(scores - Y) / N",
    ),
    "no ReLU in the backward pass": (network_answer(("dz = dh * (z > 0)", "dz = dh")), "ReLU"),
    "b1 gradient with keepdims": (
        network_answer(('"b1": dz.sum(axis=0)', '"b1": dz.sum(axis=0, keepdims=True)')),
        "axis 0",
    ),
    "loss without the 1/2": (
        network_answer(
            ("loss = float(np.sum(diff ** 2) / (2 * n))", "loss = float(np.sum(diff ** 2) / n)")
        ),
        "forward",
    ),
    "mask from np.random": (
        network_answer(
            ("rng.random(h.shape) >= p if train", "np.random.random(h.shape) >= p if train")
        ),
        "not from np.random",
    ),
    "residual computed in place of Y": (
        network_answer(("diff = scores - Y", "diff = Y\ndiff -= scores\ndiff *= -1")),
        "in place",
    ),
    "grads as a tuple": (
        network_answer(
            (
                'return loss, {"W1": X.T @ dz, "b1": dz.sum(axis=0), "W2": h_tilde.T @ dscores,\n'
                '              "b2": dscores.sum(axis=0)}',
                "return loss, (X.T @ dz, dz.sum(axis=0), h_tilde.T @ dscores, dscores.sum(axis=0))",
            )
        ),
        "dict",
    ),
    "one-import answer": (
        network_answer(
            body="""
        from course_utils import regularization
        return regularization.dropout_net_loss(X, Y, W1, b1, W2, b2, p, train, rng)
        """
        ),
        "ReferenceUnavailable",
    ),
    "one-import answer, DropoutStep": (
        network_answer(
            body="""
        from course_utils import regularization as R
        step = R.DropoutStep(p, train, 2, rng)
        z = X @ W1 + b1
        h_tilde, cache = step.forward(np.maximum(z, 0.0), 0)
        scores = h_tilde @ W2 + b2
        dscores = (scores - Y) / len(X)
        dz = step.backward(dscores @ W2.T, cache, 0) * (z > 0)
        return (float(np.sum((scores - Y) ** 2) / (2 * len(X))),
                {"W1": X.T @ dz, "b1": dz.sum(axis=0), "W2": h_tilde.T @ dscores,
                 "b2": dscores.sum(axis=0)})
        """
        ),
        "ReferenceUnavailable",
    ),
    "one-import answer, dropout for the forward": (
        network_answer(
            body="""
        from course_utils import regularization as R
        z = X @ W1 + b1
        h = np.maximum(z, 0.0)
        h_tilde = R.dropout(h, p, train, 2, rng)
        factor = np.divide(h_tilde, h, out=np.zeros_like(h), where=h > 0)
        scores = h_tilde @ W2 + b2
        dscores = (scores - Y) / len(X)
        dz = dscores @ W2.T * factor * (z > 0)
        return (float(np.sum((scores - Y) ** 2) / (2 * len(X))),
                {"W1": X.T @ dz, "b1": dz.sum(axis=0), "W2": h_tilde.T @ dscores,
                 "b2": dscores.sum(axis=0)})
        """
        ),
        "ReferenceUnavailable",
    ),
}


@pytest.mark.parametrize("answer", NETWORK_RIGHT)
def test_other_right_network_answers_pass_all_three(cells, answer, capsys):
    source = NETWORK_RIGHT[answer]
    run_check(check_dropout_network, "dropout_net_loss", source)
    assert "All visible checks passed" in capsys.readouterr().out
    assert hidden_tests_pass(source, cells["dropout_network_tests"].source)
    assert spec_failures(source, "dropout_network_tests") == []


def test_a_numpy_scalar_loss_passes_the_visible_check_and_the_hidden_tests(cells, capsys):
    run_check(check_dropout_network, "dropout_net_loss", NUMPY_SCALAR_LOSS)
    assert "All visible checks passed" in capsys.readouterr().out
    assert hidden_tests_pass(NUMPY_SCALAR_LOSS, cells["dropout_network_tests"].source)


def test_a_numpy_scalar_loss_passes_the_spec():
    assert spec_failures(NUMPY_SCALAR_LOSS, "dropout_network_tests") == []


def test_network_reference_passes_the_spec(cells):
    assert spec_failures(cells["dropout_network_solution"].source, "dropout_network_tests") == []


@pytest.mark.parametrize("mistake", NETWORK_WRONG)
def test_wrong_network_answers_fail_the_visible_check_with_a_specific_hint(mistake, capsys):
    source, word = NETWORK_WRONG[mistake]
    with np.errstate(all="ignore"), pytest.raises(AssertionError) as failure:
        run_check(check_dropout_network, "dropout_net_loss", source)
    assert "WRONG" in capsys.readouterr().out
    assert word in str(failure.value)


@pytest.mark.parametrize("mistake", NETWORK_WRONG)
def test_wrong_network_answers_fail_the_hidden_tests_and_the_spec(cells, mistake):
    source, _ = NETWORK_WRONG[mistake]
    with np.errstate(all="ignore"):
        assert not hidden_tests_pass(source, cells["dropout_network_tests"].source)
        assert spec_failures(source, "dropout_network_tests")


def test_the_spec_names_the_backward_mistakes():
    failures = spec_failures(
        NETWORK_WRONG["a new mask in the backward pass"][0], "dropout_network_tests"
    )
    assert any("new mask" in f for f in failures)
    failures = spec_failures(
        NETWORK_WRONG["the scale missing in the backward pass"][0], "dropout_network_tests"
    )
    assert any("1/(1 - p)" in f for f in failures)


def test_the_check_uses_the_numerical_gradient_of_the_answers_own_loss(capsys):
    """The backward bug is reported against the numerical gradient with the mask held fixed."""
    with pytest.raises(AssertionError, match="numerical gradient of your own loss"):
        run_check(
            check_dropout_network,
            "dropout_net_loss",
            NETWORK_WRONG["a new mask in the backward pass"][0],
        )
    assert "WRONG" in capsys.readouterr().out


# ================================================================== the references
def test_the_references_are_hidden_only_while_an_answer_runs():
    x = np.ones((4, 5))
    problem = [
        np.ones((2, 3)),
        np.ones((2, 2)),
        np.ones((3, 4)),
        np.zeros(4),
        np.ones((4, 2)),
        np.zeros(2),
    ]
    calls = {
        "dropout": [
            lambda: R.dropout(x, 0.5, True, seed=np.random.default_rng(0)),
            lambda: R.apply_dropout(x, x > 0, 0.5),
            lambda: R.dropout_mask(x.shape, 0.5, np.random.default_rng(0)),
            lambda: runs.monte_carlo_dropout(x, 0.5, n_masks=1),
            lambda: R.DropoutStep(0.5).forward(x, 0),
        ],
        "dropout_network": [
            lambda: R.dropout_net_loss(*problem, 0.5, True),
            lambda: R.DropoutStep(0.5).backward(x, x, 0),
            lambda: R.dropout(x, 0.5, True),
        ],
    }
    for exercise, functions in calls.items():
        with references.hidden(exercise):
            for call in functions:
                with pytest.raises(references.ReferenceUnavailable, match=exercise):
                    call()
        for call in functions:  # outside the block they work as usual
            call()
    assert set(references.references_of("dropout_network")) >= {
        "course_utils.regularization.dropout_net_loss",
        "course_utils.regularization.DropoutStep.backward",
    }
