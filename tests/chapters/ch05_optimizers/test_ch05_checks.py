"""Chapter 05's exercises (Nesterov's step, Adam's step): nbgrader metadata, the reference
solutions, the student stubs, and the usual wrong answers, which the visible check (with a hint
naming the mistake), the hidden tests and the grading spec must all reject; the answers that
call the course's references fail too, and the references are switched off only while an
answer runs."""

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_utils import optim, references
from course_utils.chapters.ch05_optimizers import checks as checks_ch05
from course_utils.chapters.ch05_optimizers.checks import check_adam_step, check_nesterov_step
from course_utils.references import ReferenceUnavailable

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "notebooks" / "05_optimizers.ipynb"

pytest.importorskip("nbgrader")
from exercise_testing import (  # noqa: E402
    hidden_tests_pass,
    nbgrader_cells,
    spec_failures,
    standard_exercise_tests,
)

(
    test_nesterov_cells_carry_nbgrader_metadata,
    test_nesterov_reference_solution_passes_visible_and_hidden_tests,
    test_nesterov_student_version_has_a_stub_and_no_hidden_tests,
) = standard_exercise_tests(NOTEBOOK, "nesterov_step", check="check_nesterov_step", points=2)

(
    test_adam_cells_carry_nbgrader_metadata,
    test_adam_reference_solution_passes_visible_and_hidden_tests,
    test_adam_student_version_has_a_stub_and_no_hidden_tests,
) = standard_exercise_tests(NOTEBOOK, "adam_step", check="check_adam_step", points=3)


def _cells():
    return nbgrader_cells(nbformat.read(NOTEBOOK, as_version=4))


def _define(source, name):
    namespace = {}
    exec(compile(source, f"<{name}>", "exec"), namespace)
    return namespace[name]


def _mutate(source, *replacements):
    for old, new in replacements:
        assert old in source, old
        source = source.replace(old, new)
    return source


# --- Nesterov ---------------------------------------------------------------------------------

NESTEROV = """import numpy as np


def nesterov_step(grad, x, v, lr, momentum):
    v_next = momentum * v - lr * grad(x + momentum * v)
    return x + v_next, v_next
"""


def _nesterov(*replacements):
    return _mutate(NESTEROV, *replacements)


def _nesterov_body(body):
    return (
        "import numpy as np\nfrom course_utils import optim\n\n\n"
        "def nesterov_step(grad, x, v, lr, momentum):\n" + body
    )


#: mistake -> (answer's source, a word of the visible check's hint)
NESTEROV_WRONG = {
    "plain momentum (gradient at x)": (
        _nesterov(("grad(x + momentum * v)", "grad(x)")),
        "heavy-ball",
    ),
    "look-ahead x - momentum * v": (
        _nesterov(("grad(x + momentum * v)", "grad(x - momentum * v)")),
        "x - momentum * v",
    ),
    "look-ahead x + v": (_nesterov(("grad(x + momentum * v)", "grad(x + v)")), "x + v"),
    "ascent": (_nesterov(("momentum * v - lr", "momentum * v + lr")), "Wrong sign"),
    "x - v_next": (_nesterov(("return x + v_next", "return x - v_next")), "position update"),
    "x from the look-ahead point": (
        _nesterov(("return x + v_next", "return x + momentum * v + v_next")),
        "not from the look-ahead point",
    ),
    "old velocity returned": (
        _nesterov(("return x + v_next, v_next", "return x + v_next, v")),
        "new velocity",
    ),
    "outputs swapped": (
        _nesterov(("return x + v_next, v_next", "return v_next, x + v_next")),
        "in that order",
    ),
    "no lr": (_nesterov(("- lr * grad", "- grad")), "lr * g"),
    "lr on the position": (
        _nesterov(("- lr * grad", "- grad"), ("return x + v_next", "return x + lr * v_next")),
        "already contains the learning rate",
    ),
    "PyTorch's buffer form": (
        _nesterov_body(
            "    g = grad(x)\n    b = momentum * v + g\n    return x - lr * (g + momentum * b), b\n"
        ),
        "PyTorch's buffer",
    ),
    "in place": (
        _nesterov_body(
            "    g = grad(x + momentum * v)\n    v *= momentum\n    v -= lr * g\n    x += v\n"
            "    return x, v\n"
        ),
        "changed in place",
    ),
    "returns a list": (
        _nesterov(("return x + v_next, v_next", "return [x + v_next, v_next]")),
        "tuple",
    ),
    "one import": (
        _nesterov_body("    return optim.nesterov_step(grad, x, v, lr, momentum)\n"),
        "ReferenceUnavailable",
    ),
    "optim.SGD(nesterov=True)": (
        _nesterov_body(
            "    phi = np.array(x + momentum * v, dtype=np.float64)\n"
            "    opt = optim.SGD([phi], lr=lr, momentum=momentum, nesterov=momentum > 0)\n"
            "    if momentum > 0:\n"
            "        opt.state[0]['momentum_buffer'] = -v / lr\n"
            "    opt.step([grad(phi)])\n"
            "    v_next = -lr * opt.state[0]['momentum_buffer'] if momentum > 0 else phi - x\n"
            "    return x + v_next, v_next\n"
        ),
        "ReferenceUnavailable",
    ),
}


def test_the_solution_cell_is_the_reference_here():
    assert (
        "v_next = momentum * v - lr * grad(x + momentum * v)"
        in _cells()["nesterov_step_solution"].source
    )


def test_nesterov_reference_passes_the_spec():
    assert spec_failures(_cells()["nesterov_step_solution"].source, "nesterov_step_tests") == []


@pytest.mark.parametrize("mistake", NESTEROV_WRONG)
def test_wrong_nesterov_answers_fail_check_hidden_tests_and_spec(mistake, capsys):
    source, hint = NESTEROV_WRONG[mistake]
    with pytest.raises(AssertionError, match=re.escape(hint)):
        check_nesterov_step(_define(source, "nesterov_step"))
    assert "WRONG" in capsys.readouterr().out
    assert not hidden_tests_pass(source, _cells()["nesterov_step_tests"].source)
    assert spec_failures(source, "nesterov_step_tests")


@pytest.mark.parametrize("answer", ["one import", "optim.SGD(nesterov=True)"])
def test_the_reference_calling_answers_are_right_outside_the_exercise(answer):
    """They would pass if the references were not hidden: the test above is not vacuous."""
    cheat = _define(NESTEROV_WRONG[answer][0], "nesterov_step")
    lam = np.array([0.5, 4.0])
    for v in (np.zeros(2), np.array([0.3, -0.5])):
        got = cheat(lambda z: lam * z, np.array([1.0, -2.0]), v, 0.1, 0.9)
        want = optim.nesterov_step(lambda z: lam * z, np.array([1.0, -2.0]), v, 0.1, 0.9)
        np.testing.assert_allclose(got, want, rtol=1e-12)  # rounding of -v / lr * -lr


def test_nesterov_step_is_sgds_nesterov_on_the_look_ahead_point():
    """The reference's docstring: with phi = x + momentum * v and b = -v / lr, the velocity form's
    step is SGD(nesterov=True)'s (so SGD._update is marked as a reference too)."""
    lam = np.array([0.1, 10.0])
    x, v, lr, mu = np.array([3.0, 1.0]), np.zeros(2), 0.05, 0.9
    phi = x + mu * v
    opt = optim.SGD([phi], lr=lr, momentum=mu, nesterov=True)
    for _ in range(30):
        x, v = optim.nesterov_step(lambda z: lam * z, x, v, lr, mu)
        opt.step([lam * phi])
        np.testing.assert_allclose(phi, x + mu * v, rtol=1e-12, atol=1e-15)  # rounding only


def test_nesterov_step_validates_its_arguments():
    grad = lambda z: z  # noqa: E731
    with pytest.raises(ValueError, match="grad must be a function"):
        optim.nesterov_step(1.0, np.zeros(2), np.zeros(2), 0.1, 0.9)
    with pytest.raises(ValueError, match=r"v must have shape \(2\)"):
        optim.nesterov_step(grad, np.zeros(2), np.zeros(3), 0.1, 0.9)
    with pytest.raises(ValueError, match="lr must be >= 0"):
        optim.nesterov_step(grad, np.zeros(2), np.zeros(2), -0.1, 0.9)
    with pytest.raises(ValueError, match="momentum must be >= 0 and < 1"):
        optim.nesterov_step(grad, np.zeros(2), np.zeros(2), 0.1, 1.0)
    with pytest.raises(ValueError, match="grad returned shape"):
        optim.nesterov_step(lambda z: z[:1], np.zeros(2), np.zeros(2), 0.1, 0.9)


def test_nesterov_check_refuses_non_functions():
    with pytest.raises(TypeError, match="nesterov_step must be a function"):
        check_nesterov_step(0.9)


def test_nesterov_check_survives_odd_return_values(capsys):
    for odd in (
        None,
        (None, None),
        (np.zeros(3), np.zeros(3)),
        (np.full(2, np.nan),) * 2,
        ("a", "b"),
    ):
        with pytest.raises(AssertionError):
            check_nesterov_step(lambda grad, x, v, lr, momentum, odd=odd: odd)
    assert capsys.readouterr().out.count("WRONG") == 5


# --- Adam -------------------------------------------------------------------------------------

ADAM = """import numpy as np


def adam_step(x, dx, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * dx
    v = beta2 * v + (1 - beta2) * dx**2
    m_hat = m / (1 - beta1**t)
    v_hat = v / (1 - beta2**t)
    x_next = x - lr * m_hat / (np.sqrt(v_hat) + eps)
    return x_next, m, v
"""


def _adam(*replacements):
    return _mutate(ADAM, *replacements)


def _adam_body(body):
    return (
        "import numpy as np\nfrom course_utils import optim\n\n\n"
        "def adam_step(x, dx, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):\n" + body
    )


_NO_M_HAT = ("m_hat = m / (1 - beta1**t)", "m_hat = m")
_NO_V_HAT = ("v_hat = v / (1 - beta2**t)", "v_hat = v")

#: mistake -> (answer's source, a word of the visible check's hint)
ADAM_WRONG = {
    "no bias correction": (_adam(_NO_M_HAT, _NO_V_HAT), "Bias correction missing"),
    "only m corrected": (_adam(_NO_V_HAT), "v is not bias-corrected"),
    "only v corrected": (_adam(_NO_M_HAT), "m is not bias-corrected"),
    "eps inside the sqrt": (
        _adam(("np.sqrt(v_hat) + eps", "np.sqrt(v_hat + eps)")),
        "after the square root",
    ),
    "eps before the bias correction": (
        _adam(
            (
                "x_next = x - lr * m_hat / (np.sqrt(v_hat) + eps)",
                "x_next = x - lr * m_hat / ((np.sqrt(v) + eps) / np.sqrt(1 - beta2**t))",
            )
        ),
        "corrected moment",
    ),
    "the paper's efficient form": (
        _adam(
            (
                "x_next = x - lr * m_hat / (np.sqrt(v_hat) + eps)",
                "x_next = x - lr * np.sqrt(1 - beta2**t) / (1 - beta1**t) * m / (np.sqrt(v) + eps)",
            )
        ),
        "efficient",
    ),
    "betas swapped": (
        _adam(
            ("m = beta1 * m + (1 - beta1)", "m = beta2 * m + (1 - beta2)"),
            ("v = beta2 * v + (1 - beta2)", "v = beta1 * v + (1 - beta1)"),
            ("(1 - beta1**t)", "(1 - beta2**t)"),
            ("v / (1 - beta2**t)", "v / (1 - beta1**t)"),
        ),
        "beta1 belongs to m",
    ),
    "m averaged with beta2": (
        _adam(
            ("m = beta1 * m + (1 - beta1)", "m = beta2 * m + (1 - beta2)"),
            ("m / (1 - beta1**t)", "m / (1 - beta2**t)"),
        ),
        "other beta",
    ),
    "v averaged with beta1": (
        _adam(
            ("v = beta2 * v + (1 - beta2)", "v = beta1 * v + (1 - beta1)"),
            ("v / (1 - beta2**t)", "v / (1 - beta1**t)"),
        ),
        "other beta",
    ),
    "returns m_hat": (_adam(("return x_next, m, v", "return x_next, m_hat, v")), "raw m"),
    "no square root": (_adam(("np.sqrt(v_hat) + eps", "v_hat + eps")), "square root"),
    "returns m_hat, v_hat": (
        _adam(("return x_next, m, v", "return x_next, m_hat, v_hat")),
        "raw moments",
    ),
    "ascent": (_adam(("x_next = x - lr", "x_next = x + lr")), "Wrong sign"),
    "t from 0": (
        _adam(("beta1**t", "beta1**(t - 1)"), ("beta2**t", "beta2**(t - 1)")),
        "not t - 1",
    ),
    "t one too many": (
        _adam(("beta1**t", "beta1**(t + 1)"), ("beta2**t", "beta2**(t + 1)")),
        "one step ahead",
    ),
    "|g| instead of g²": (_adam(("dx**2", "np.abs(dx)")), "squared gradient"),
    "m without (1 - beta1)": (_adam(("(1 - beta1) * dx", "dx")), "(1 - beta1)"),
    "updates m, v in place": (
        _adam_body(
            "    m *= beta1\n    m += (1 - beta1) * dx\n    v *= beta2\n    v += (1 - beta2) * dx**2\n"
            "    return x - lr * (m / (1 - beta1**t)) / (np.sqrt(v / (1 - beta2**t)) + eps), m, v\n"
        ),
        "changed in place",
    ),
    "returns two values": (_adam(("return x_next, m, v", "return x_next, m")), "tuple"),
    "one import": (
        _adam_body("    return optim.adam_step(x, dx, m, v, t, lr, beta1, beta2, eps)\n"),
        "ReferenceUnavailable",
    ),
    "optim.Adam": (
        _adam_body(
            "    p = np.array(x, dtype=np.float64)\n"
            "    opt = optim.Adam([p], lr=lr, betas=(beta1, beta2), eps=eps)\n"
            "    opt.state[0] = {'step': t - 1, 'exp_avg': np.array(m, dtype=np.float64),\n"
            "                    'exp_avg_sq': np.array(v, dtype=np.float64)}\n"
            "    opt.step([dx])\n"
            "    return p, opt.state[0]['exp_avg'], opt.state[0]['exp_avg_sq']\n"
        ),
        "ReferenceUnavailable",
    ),
}


def test_adam_reference_passes_the_spec():
    assert spec_failures(_cells()["adam_step_solution"].source, "adam_step_tests") == []


@pytest.mark.parametrize("mistake", ADAM_WRONG)
def test_wrong_adam_answers_fail_check_hidden_tests_and_spec(mistake, capsys):
    source, hint = ADAM_WRONG[mistake]
    with np.errstate(all="ignore"):
        with pytest.raises(AssertionError) as failure:
            check_adam_step(_define(source, "adam_step"))
        assert hint in str(failure.value)
        assert "WRONG" in capsys.readouterr().out
        assert not hidden_tests_pass(source, _cells()["adam_step_tests"].source)
        assert spec_failures(source, "adam_step_tests")


@pytest.mark.parametrize("answer", ["one import", "optim.Adam"])
def test_the_adam_reference_calling_answers_are_right_outside_the_exercise(answer):
    cheat = _define(ADAM_WRONG[answer][0], "adam_step")
    rng = np.random.default_rng(0)
    x, g, m, v = rng.standard_normal((4, 3))
    v = np.abs(v)
    for t in (1, 7):
        np.testing.assert_allclose(
            cheat(x, g, m, v, t, 0.01), optim.adam_step(x, g, m, v, t, 0.01), rtol=1e-12
        )  # torch's arrangement of the same step: rounding


def test_the_first_step_hint_says_how_much_too_large(capsys):
    """An unrecognised wrong step is measured against the expected one."""
    source = _adam(("x_next = x - lr", "x_next = x - 2 * lr"))
    with pytest.raises(AssertionError, match="Your step is 2 times the expected one"):
        check_adam_step(_define(source, "adam_step"))


def test_adam_check_refuses_non_functions():
    with pytest.raises(TypeError, match="adam_step must be a function"):
        check_adam_step(0.9)


def test_adam_check_survives_odd_return_values(capsys):
    for odd in (None, (1, 2, 3), (np.zeros(3),) * 3, (np.full(3, np.nan),) * 3, [0, 0, 0]):
        with pytest.raises(AssertionError):
            check_adam_step(
                lambda x, dx, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, odd=odd: odd
            )
    assert capsys.readouterr().out.count("WRONG") == 5


# --- the references -----------------------------------------------------------------------------


def _calls_of(exercise):
    """Each marked reference of ``exercise``, called with arguments that work."""
    lam = np.array([0.5, 4.0])
    if exercise == "nesterov_step":

        def sgd_step():
            optim.SGD([np.ones(2)], lr=0.1, momentum=0.9, nesterov=True).step([np.ones(2)])

        return {
            "course_utils.optim.sgd.nesterov_step": lambda: optim.nesterov_step(
                lambda z: lam * z, np.ones(2), np.ones(2), 0.1, 0.9
            ),
            "course_utils.optim.sgd.SGD._update": sgd_step,
            "course_utils.chapters.ch05_optimizers.checks._nesterov_variants": lambda: (
                checks_ch05._nesterov_variants(lambda z: lam * z, np.ones(2), np.ones(2), 0.1, 0.9)
            ),
        }
    return {
        "course_utils.optim.adaptive.adam_step": lambda: optim.adam_step(
            np.ones(2), np.ones(2), np.zeros(2), np.zeros(2), 1
        ),
        "course_utils.optim.adaptive.Adam._update": lambda: optim.AdamW([np.ones(2)], lr=0.1).step(
            [np.ones(2)]
        ),
        "course_utils.optim.adaptive.adam_update": lambda: optim.adam_update(
            np.ones(2), np.ones(2), np.zeros(2), np.zeros(2), 1, 1e-3, 0.9, 0.999, 1e-8
        ),
        "course_utils.chapters.ch05_optimizers.checks._adam_variants": lambda: (
            checks_ch05._adam_variants(np.ones(2), np.ones(2), np.zeros(2), np.zeros(2), 1)
        ),
    }


@pytest.mark.parametrize("exercise", ["nesterov_step", "adam_step"])
def test_every_reference_is_unavailable_inside_the_exercise_and_works_outside(exercise):
    calls = _calls_of(exercise)
    assert sorted(references.references_of(exercise)) == sorted(calls)
    for name, call in calls.items():
        call()  # outside: as usual
        with references.hidden(exercise):
            with pytest.raises(ReferenceUnavailable, match=exercise):
                call()
        call()


def test_hiding_one_exercise_leaves_the_other_ones_references_alone():
    with references.hidden("nesterov_step"):
        optim.adam_step(np.ones(2), np.ones(2), np.zeros(2), np.zeros(2), 1)
    with references.hidden("adam_step"):
        optim.nesterov_step(lambda z: z, np.ones(2), np.ones(2), 0.1, 0.9)
