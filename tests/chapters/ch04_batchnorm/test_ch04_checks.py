"""Chapter 04's exercises (Batch Norm in training mode: the forward pass, and the backward pass
from the chapter's derivation): nbgrader metadata, the reference solutions, the student stubs,
and for each exercise a table of the wrong answers students really write, each of which must
fail the visible check (with the hint for that mistake), the hidden tests and ``make grade``'s
spec; answers that change their inputs in place or call the course's references fail all three.
"""

from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_utils import batchnorm as bn
from course_utils import references
from course_utils.chapters.ch04_batchnorm import checks
from course_utils.chapters.ch04_batchnorm.checks import check_bn_backward, check_bn_forward

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "notebooks" / "04_batch_norm.ipynb"

pytest.importorskip("nbgrader")
from exercise_testing import (  # noqa: E402
    hidden_tests_pass,
    nbgrader_cells,
    spec_failures,
    standard_exercise_tests,
)

(
    test_forward_cells_carry_nbgrader_metadata,
    test_forward_reference_solution_passes_visible_and_hidden_tests,
    test_forward_student_version_has_a_stub_and_no_hidden_tests,
) = standard_exercise_tests(NOTEBOOK, "bn_forward", check="check_bn_forward", points=2)

(
    test_backward_cells_carry_nbgrader_metadata,
    test_backward_reference_solution_passes_visible_and_hidden_tests,
    test_backward_student_version_has_a_stub_and_no_hidden_tests,
) = standard_exercise_tests(NOTEBOOK, "bn_backward", check="check_bn_backward", points=3)


@pytest.fixture(scope="module")
def cells():
    return nbgrader_cells(nbformat.read(NOTEBOOK, as_version=4))


def _function(source, name):
    namespace = {}
    exec(compile(source, "<answer>", "exec"), namespace)
    return namespace[name]


def _visible_failure(check, source, name, capsys):
    """The visible check's AssertionError message for the answer ``source`` (it must fail)."""
    with np.errstate(all="ignore"):
        with pytest.raises(AssertionError) as failure:
            check(_function(source, name))
    assert "WRONG" in capsys.readouterr().out
    return str(failure.value)


# ----------------------------------------------------------------------------- forward pass
FORWARD = """import numpy as np


def _bn(x, gamma, beta, eps, axis=0, ddof=0, eps_outside=False, order="scale-shift"):
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, ddof=ddof, keepdims=True)
    x_hat = (x - mean) / (np.sqrt(var) + eps if eps_outside else np.sqrt(var + eps))
    if order == "shift-scale":
        return gamma * (x_hat + beta)
    return gamma * x_hat + beta


def _in_place(x, g, b, eps):
    x -= x.mean(0)
    x /= np.sqrt(x.var(0) + eps)
    x *= g
    x += b
    return x

"""

# mistake -> (the answer's body, a word of the hint the visible check must give)
FORWARD_WRONG = {
    "unbiased variance": ("_bn(x, g, b, eps, ddof=1)", "unbiased"),
    "over the features (axis=1)": ("_bn(x, g, b, eps, axis=1)", "Layer Norm"),
    "eps outside the square root": (
        "_bn(x, g, b, eps, eps_outside=True)",
        "inside the square root",
    ),
    "no eps": ("_bn(x, g, b, 0.0)", "eps is missing"),
    "gamma and beta ignored": ("_bn(x, 1.0, 0.0, eps)", "not applied"),
    "gamma ignored": ("_bn(x, 1.0, b, eps)", "gamma is not applied"),
    "beta ignored": ("_bn(x, g, 0.0, eps)", "beta is not added"),
    "gamma and beta swapped": ("_bn(x, b, g, eps)", "swapped"),
    "shift before scale": ('_bn(x, g, b, eps, order="shift-scale")', "shift comes after"),
    "divided by the variance": ("g * (x - x.mean(0)) / (x.var(0) + eps) + b", "standard deviation"),
    "only centred": ("g * (x - x.mean(0)) + b", "centred but not scaled"),
    "not centred": ("g * x / np.sqrt(x.var(0) + eps) + b", "mean is not subtracted"),
    "default eps 1e-3": ("_bn(x, g, b, eps)", "default eps"),
    "in place": ("_in_place(x, g, b, eps)", "in place"),
    "returns (out, cache)": ("(_bn(x, g, b, eps), None)", "no cache"),
    "flattened": ("_bn(x, g, b, eps).ravel()", "Keep x's shape"),
    "a Python list": ("_bn(x, g, b, eps).tolist()", "NumPy"),
}


def _forward_source(body, default_eps="1e-5"):
    return FORWARD + f"def bn_forward_train(x, g, b, eps={default_eps}):\n    return {body}\n"


def _forward_wrong(mistake):
    body, _ = FORWARD_WRONG[mistake]
    return _forward_source(body, "1e-3" if mistake == "default eps 1e-3" else "1e-5")


@pytest.mark.parametrize("mistake", FORWARD_WRONG)
def test_forward_wrong_answers_fail_the_visible_check_with_their_hint(mistake, capsys):
    message = _visible_failure(
        check_bn_forward, _forward_wrong(mistake), "bn_forward_train", capsys
    )
    assert FORWARD_WRONG[mistake][1] in message


@pytest.mark.parametrize("mistake", FORWARD_WRONG)
def test_forward_wrong_answers_fail_the_hidden_tests_and_the_spec(mistake, cells):
    source = _forward_wrong(mistake)
    with np.errstate(all="ignore"):
        assert not hidden_tests_pass(source, cells["bn_forward_tests"].source)
        assert spec_failures(source, "bn_forward_tests")


def test_forward_reference_solution_passes_the_spec(cells):
    assert spec_failures(cells["bn_forward_solution"].source, "bn_forward_tests") == []


def test_forward_in_place_answer_is_named_in_the_spec(cells):
    failures = spec_failures(_forward_wrong("in place"), "bn_forward_tests")
    assert any("in place" in f for f in failures)


def test_forward_other_correct_answer_passes_all_three(cells, capsys):
    # np.std and a two-step normalisation: the same numbers up to rounding
    source = (
        "import numpy as np\n\ndef bn_forward_train(x, gamma, beta, eps=1e-5):\n"
        "    centred = x - np.mean(x, axis=0, keepdims=True)\n"
        "    std = np.sqrt(np.mean(centred**2, axis=0) + eps)\n"
        "    return centred / std * gamma + beta\n"
    )
    check_bn_forward(_function(source, "bn_forward_train"))
    assert "All visible checks passed" in capsys.readouterr().out
    assert hidden_tests_pass(source, cells["bn_forward_tests"].source)
    assert spec_failures(source, "bn_forward_tests") == []


FORWARD_ONE_IMPORT = {
    "batchnorm_forward": (
        "from course_utils import batchnorm as bn\n\n"
        "def bn_forward_train(x, gamma, beta, eps=1e-5):\n"
        "    return bn.batchnorm_forward(x, gamma, beta, eps=eps)[0]\n"
    ),
    "BatchNormStep.forward": (
        "from course_utils import batchnorm as bn\n\n"
        "def bn_forward_train(x, gamma, beta, eps=1e-5):\n"
        "    step = bn.BatchNormStep([gamma], [beta], eps=eps)\n"
        "    return step.forward(x, 0)[0]\n"
    ),
}


@pytest.mark.parametrize("reference", FORWARD_ONE_IMPORT)
def test_forward_one_import_answers_fail_all_three(reference, cells, capsys):
    source = FORWARD_ONE_IMPORT[reference]
    message = _visible_failure(check_bn_forward, source, "bn_forward_train", capsys)
    assert "ReferenceUnavailable" in message
    assert not hidden_tests_pass(source, cells["bn_forward_tests"].source)
    failures = spec_failures(source, "bn_forward_tests")
    assert failures and all("ReferenceUnavailable" in f for f in failures)
    # outside the exercise the same answer works: it is the hiding that makes it fail
    x, g, b = np.arange(6.0).reshape(3, 2), np.ones(2), np.zeros(2)
    assert np.allclose(
        _function(source, "bn_forward_train")(x, g, b), bn.batchnorm_forward(x, g, b)[0]
    )


def test_forward_check_refuses_non_functions():
    with pytest.raises(TypeError, match="bn_forward_train must be a function"):
        check_bn_forward(0.5)


# ----------------------------------------------------------------------------- backward pass
BACKWARD = """import numpy as np


def _bw(dout, x, gamma, eps, ddof=0, n_var=None, mean_term=True, var_term=True, g=True,
        s_on=True, axis=0, sign=-1, eps_mode="in", n_dout=True, n_front=True):
    n = x.shape[axis]
    mean = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, ddof=ddof, keepdims=True)
    std = {"in": np.sqrt(var + eps), "out": np.sqrt(var) + eps, "none": np.sqrt(var)}[eps_mode]
    x_hat = (x - mean) / std
    dbeta, dgamma = dout.sum(axis=0), (dout * x_hat).sum(axis=0)
    dx_hat = (gamma if g else 1.0) * dout
    bracket = (n if n_dout else 1) * dx_hat
    if mean_term:
        bracket = bracket + sign * dx_hat.sum(axis=axis, keepdims=True)
    if var_term:
        bracket = bracket + sign * x_hat * (dx_hat * x_hat).sum(axis=axis, keepdims=True) * (
            n / n_var if n_var else 1)
    dx = (1 / std if s_on else 1.0) / (n if n_front else 1) * bracket
    return dx, dgamma, dbeta


def _right(dout, x, gamma, eps):
    return _bw(dout, x, gamma, eps)


def _parts(dout, x, gamma, eps):
    x_hat = (x - x.mean(0)) / np.sqrt(x.var(0) + eps)
    return _right(dout, x, gamma, eps), x_hat


def _in_place_x(dout, x, gamma, eps):
    n = x.shape[0]
    inv_std = 1 / np.sqrt(x.var(0) + eps)
    x -= x.mean(0)
    x *= inv_std                      # x now holds x_hat: the caller's batch is gone
    dbeta, dgamma = dout.sum(0), (dout * x).sum(0)
    return gamma * inv_std / n * (n * dout - dbeta - x * dgamma), dgamma, dbeta


def _in_place_dout(dout, x, gamma, eps):
    result = _right(dout.copy(), x, gamma, eps)
    dout *= gamma                     # "dx_hat = dout * gamma" written in place
    return result

"""

# mistake -> (the answer's return expression, a word of the hint the visible check must give)
BACKWARD_WRONG = {
    "mean and variance as constants": (
        "(gamma * dout / np.sqrt(x.var(0) + eps),) + _right(dout, x, gamma, eps)[1:]",
        "constants",
    ),
    "no term through the mean": (
        "_bw(dout, x, gamma, eps, mean_term=False)",
        "through the mean is missing",
    ),
    "no term through the variance": (
        "_bw(dout, x, gamma, eps, var_term=False)",
        "through the variance is missing",
    ),
    "unbiased variance": ("_bw(dout, x, gamma, eps, ddof=1)", "unbiased"),
    "N - 1 in the variance's derivative": (
        "_bw(dout, x, gamma, eps, n_var=x.shape[0] - 1)",
        "not N - 1",
    ),
    "no factor gamma": ("_bw(dout, x, gamma, eps, g=False)", "factor gamma is missing"),
    "no factor s": ("_bw(dout, x, gamma, eps, s_on=False)", "factor s"),
    "no 1/N": ("_bw(dout, x, gamma, eps, n_front=False)", "N times too large"),
    "dout not times N": ("_bw(dout, x, gamma, eps, n_dout=False)", "N * dout_i"),
    "no eps": ('_bw(dout, x, gamma, eps, eps_mode="none")', "eps is missing"),
    "eps outside the square root": (
        '_bw(dout, x, gamma, eps, eps_mode="out")',
        "inside the square root",
    ),
    "both terms added": ("_bw(dout, x, gamma, eps, sign=+1)", "Both terms are subtracted"),
    "statistics over axis=1": ("_bw(dout, x, gamma, eps, axis=1)", "axis=1"),
    "dgamma and dbeta over axis=1": (
        "(_right(dout, x, gamma, eps)[0], (dout * _parts(dout, x, gamma, eps)[1]).sum(1), "
        "dout.sum(1))",
        "summed over the features",
    ),
    "dgamma and dbeta not summed": (
        "(_right(dout, x, gamma, eps)[0], dout * _parts(dout, x, gamma, eps)[1], dout)",
        "sum over the batch",
    ),
    "dbeta summed over everything": (
        "_right(dout, x, gamma, eps)[:2] + (dout.sum(),)",
        "single number",
    ),
    "dgamma with x instead of x_hat": (
        "(_right(dout, x, gamma, eps)[0], (dout * x).sum(0), dout.sum(0))",
        "not the raw x",
    ),
    "dgamma without the division": (
        "(_right(dout, x, gamma, eps)[0], (dout * (x - x.mean(0))).sum(0), dout.sum(0))",
        "division is missing",
    ),
    "dgamma and dbeta swapped": (
        "(_right(dout, x, gamma, eps)[0],) + _right(dout, x, gamma, eps)[:0:-1]",
        "swapped",
    ),
    "dbeta a mean": ("_right(dout, x, gamma, eps)[:2] + (dout.mean(0),)", "a mean"),
    "dgamma times gamma": (
        "(_right(dout, x, gamma, eps)[0], gamma * _right(dout, x, gamma, eps)[1], dout.sum(0))",
        "no factor gamma",
    ),
    "default eps 1e-3": ("_right(dout, x, gamma, eps)", "default eps"),
    "returns dx only": ("_right(dout, x, gamma, eps)[0]", "all three"),
    "returns (dx, dgamma)": ("_right(dout, x, gamma, eps)[:2]", "all three"),
    "returns None": ("None", "all three"),
    "x changed in place": ("_in_place_x(dout, x, gamma, eps)", "in place"),
    "dout changed in place": ("_in_place_dout(dout, x, gamma, eps)", "in place"),
}


def _backward_source(expression, default_eps="1e-5"):
    return (
        BACKWARD + f"def bn_backward_train(dout, x, gamma, eps={default_eps}):\n"
        f"    return {expression}\n"
    )


def _backward_wrong(mistake):
    expression, _ = BACKWARD_WRONG[mistake]
    return _backward_source(expression, "1e-3" if mistake == "default eps 1e-3" else "1e-5")


@pytest.mark.parametrize("mistake", BACKWARD_WRONG)
def test_backward_wrong_answers_fail_the_visible_check_with_their_hint(mistake, capsys):
    message = _visible_failure(
        check_bn_backward, _backward_wrong(mistake), "bn_backward_train", capsys
    )
    assert BACKWARD_WRONG[mistake][1] in message


@pytest.mark.parametrize("mistake", BACKWARD_WRONG)
def test_backward_wrong_answers_fail_the_hidden_tests_and_the_spec(mistake, cells):
    source = _backward_wrong(mistake)
    with np.errstate(all="ignore"):
        assert not hidden_tests_pass(source, cells["bn_backward_tests"].source)
        assert spec_failures(source, "bn_backward_tests")


def test_the_spec_names_the_mistake(cells):
    failures = spec_failures(_backward_wrong("mean and variance as constants"), "bn_backward_tests")
    assert failures and all("constants" in f for f in failures)
    failures = spec_failures(_backward_wrong("dout changed in place"), "bn_backward_tests")
    assert any("in place" in f for f in failures)


def test_backward_reference_solution_passes_the_spec(cells):
    assert spec_failures(cells["bn_backward_solution"].source, "bn_backward_tests") == []


def test_backward_step_by_step_answer_passes_all_three(cells, capsys):
    # CS231n's staged graph (dvar, dmean): another correct answer, equal up to rounding
    source = """import numpy as np

def bn_backward_train(dout, x, gamma, eps=1e-5):
    n = x.shape[0]
    mu = x.mean(0)
    xc = x - mu
    std = np.sqrt((xc**2).mean(0) + eps)
    x_hat = xc / std
    dbeta, dgamma = dout.sum(0), (dout * x_hat).sum(0)
    dx_hat = dout * gamma
    dvar = np.sum(dx_hat * xc, 0) * -0.5 * std**-3
    dmu = np.sum(-dx_hat / std, 0) + dvar * np.mean(-2 * xc, 0)
    return dx_hat / std + dvar * 2 * xc / n + dmu / n, dgamma, dbeta
"""
    check_bn_backward(_function(source, "bn_backward_train"))
    assert "All visible checks passed" in capsys.readouterr().out
    assert hidden_tests_pass(source, cells["bn_backward_tests"].source)
    assert spec_failures(source, "bn_backward_tests") == []


def test_a_list_of_three_arrays_is_accepted(capsys):
    source = _backward_source("list(_right(dout, x, gamma, eps))")
    check_bn_backward(_function(source, "bn_backward_train"))
    assert "All visible checks passed" in capsys.readouterr().out


BACKWARD_ONE_IMPORT = {
    "batchnorm_backward": (
        "import numpy as np\nfrom course_utils import batchnorm as bn\n\n"
        "def bn_backward_train(dout, x, gamma, eps=1e-5):\n"
        "    _, cache = bn.batchnorm_forward(x, gamma, np.zeros_like(gamma), eps=eps)\n"
        "    return bn.batchnorm_backward(dout, cache)\n"
    ),
    "BatchNormStep.backward": (
        "import numpy as np\nfrom course_utils import batchnorm as bn\n\n"
        "def bn_backward_train(dout, x, gamma, eps=1e-5):\n"
        "    step = bn.BatchNormStep([gamma], [np.zeros_like(gamma)], eps=eps)\n"
        "    _, cache = step.forward(x, 0)\n"
        "    dx = step.backward(dout, cache, 0)\n"
        "    return (dx, *step.grads[0])\n"
    ),
}


@pytest.mark.parametrize("reference", BACKWARD_ONE_IMPORT)
def test_backward_one_import_answers_fail_all_three(reference, cells, capsys):
    source = BACKWARD_ONE_IMPORT[reference]
    message = _visible_failure(check_bn_backward, source, "bn_backward_train", capsys)
    assert "ReferenceUnavailable" in message and reference in message
    assert not hidden_tests_pass(source, cells["bn_backward_tests"].source)
    failures = spec_failures(source, "bn_backward_tests")
    assert failures and all("ReferenceUnavailable" in f for f in failures)
    rng = np.random.default_rng(0)
    dout, x, gamma = rng.standard_normal((5, 3)), rng.standard_normal((5, 3)), np.ones(3)
    _, cache = bn.batchnorm_forward(x, gamma, np.zeros(3))
    for got, want in zip(
        _function(source, "bn_backward_train")(dout, x, gamma), bn.batchnorm_backward(dout, cache)
    ):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)  # same arithmetic


def test_backward_check_refuses_non_functions():
    with pytest.raises(TypeError, match="bn_backward_train must be a function"):
        check_bn_backward(None)


def test_the_numerical_gradient_agrees_with_the_reference_far_below_the_tolerance():
    """The check's numerical gradients on its own batches are ~1e-9 of the gradient's size
    from the formula: a margin of 1000 under BN_NUMERICAL_TOL (so no correct answer fails on
    it, on any CPU)."""
    for _, dout, x, gamma, eps in checks.bn_backward_cases():
        eps = bn.EPS if eps is None else eps
        _, cache = bn.batchnorm_forward(x, gamma, np.zeros_like(gamma), eps=eps)
        want = bn.batchnorm_backward(dout, cache)
        numerical = checks.bn_numerical_gradients(dout, x, gamma, eps)
        scales = (
            np.max(np.abs(gamma * cache.inv_std * dout)),
            np.max(np.sum(np.abs(dout * cache.x_hat), axis=0)),
            np.max(np.sum(np.abs(dout), axis=0)),
        )
        for w, n, s in zip(want, numerical, scales):
            assert np.max(np.abs(w - n)) / s < checks.BN_NUMERICAL_TOL / 1000


# ----------------------------------------------------------------------------- references
_CACHE = bn.batchnorm_forward(np.eye(3), np.ones(3), np.zeros(3))[1]
REFERENCES = {
    "batchnorm_forward": (
        "bn_forward",
        lambda: bn.batchnorm_forward(np.eye(3), np.ones(3), np.zeros(3)),
    ),
    "BatchNormStep.forward": ("bn_forward", lambda: bn.BatchNormStep().forward(np.eye(3), 0)),
    "batchnorm_backward": ("bn_backward", lambda: bn.batchnorm_backward(np.eye(3), _CACHE)),
    "BatchNormStep.backward": (
        "bn_backward",
        lambda: bn.BatchNormStep().backward(np.eye(3), _CACHE, 0),
    ),
}


@pytest.mark.parametrize("name", REFERENCES)
def test_references_are_hidden_during_their_exercise_only(name):
    exercise, call = REFERENCES[name]
    call()  # works outside
    with references.hidden(exercise):
        with pytest.raises(references.ReferenceUnavailable, match=exercise):
            call()
    other = {"bn_forward": "bn_backward", "bn_backward": "bn_forward"}[exercise]
    with references.hidden(other):
        call()  # the other exercise's block leaves it alone
    call()  # and it works again afterwards


def test_the_marked_references_are_registered():
    assert {
        "course_utils.batchnorm.batchnorm_forward",
        "course_utils.batchnorm.BatchNormStep.forward",
    } <= set(references.references_of("bn_forward"))
    assert {
        "course_utils.batchnorm.batchnorm_backward",
        "course_utils.batchnorm.BatchNormStep.backward",
    } <= set(references.references_of("bn_backward"))


def test_no_cell_before_the_backward_exercise_shows_its_code():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in notebook.cells]
    before = notebook.cells[: ids.index("bn_backward_solution")]
    for cell in before:
        for line in (
            "dgamma = (dout * x_hat)",
            "dbeta = dout.sum",
            "n * dout - dbeta",
            "getsource",
        ):
            assert line not in cell.source, cell.source[:200]
