"""Chapter 06's exercise (linear warm-up, then cosine): nbgrader metadata, the reference
solution, the student stub, and plausible wrong answers that the visible check must catch."""

from pathlib import Path

import numpy as np
import pytest

from course_utils.checks import check_warmup_cosine

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "06_learning_rate_schedules.ipynb"

pytest.importorskip("nbgrader")
from exercise_testing import standard_exercise_tests  # noqa: E402


(test_exercise_cells_carry_nbgrader_metadata,
 test_reference_solution_passes_visible_and_hidden_tests,
 test_student_version_has_a_stub_and_no_hidden_tests) = standard_exercise_tests(
    NOTEBOOK, "warmup_cosine", check="check_warmup_cosine", points=2)


def _pieces(base_lr, steps, warmup_steps, t_max, start_factor, eta_min, warm_den=None,
            cos_shift=None, start=None, cos_len=None, eta=True):
    t = np.arange(steps, dtype=np.float64)
    f = start_factor if start is None else start
    den = warmup_steps if warm_den is None else warm_den(warmup_steps)
    warm = base_lr * (f + (1 - f) * t / den)
    shift = warmup_steps if cos_shift is None else cos_shift(warmup_steps)
    T = t_max if cos_len is None else cos_len(steps, warmup_steps, t_max)
    low = eta_min if eta else 0.0
    cos = low + (base_lr - low) * (1 + np.cos(np.pi * (t - shift) / T)) / 2
    return np.where(t < warmup_steps, warm, cos)


def wrong(**how):
    def f(base_lr, steps, warmup_steps, t_max, start_factor=1 / 3, eta_min=0.0):
        return _pieces(base_lr, steps, warmup_steps, t_max, start_factor, eta_min, **how)
    return f


def _right(base_lr, steps, warmup_steps, t_max, start_factor=1 / 3, eta_min=0.0):
    return _pieces(base_lr, steps, warmup_steps, t_max, start_factor, eta_min)


def named(fn):
    """fn(base_lr, steps, warmup_steps, t_max, start_factor, eta_min) with the exercise's names."""
    def f(base_lr, steps, warmup_steps, t_max, start_factor=1 / 3, eta_min=0.0):
        return fn(base_lr, steps, warmup_steps, t_max, start_factor, eta_min)
    return f


def default_start_factor_0_1(base_lr, steps, warmup_steps, t_max, start_factor=0.1, eta_min=0.0):
    return _right(base_lr, steps, warmup_steps, t_max, start_factor, eta_min)


WRONG = {
    "warm-up from 0": wrong(start=0.0),
    "warm-up divides by W - 1": wrong(warm_den=lambda w: max(w - 1, 1)),
    "cosine not shifted": wrong(cos_shift=lambda w: 0),
    "cosine shifted by W - 1": wrong(cos_shift=lambda w: w - 1),
    "cosine over steps - W, not t_max": wrong(cos_len=lambda s, w, t: max(s - w, 1)),
    "eta_min ignored": wrong(eta=False),
    "default start_factor 0.1": default_start_factor_0_1,
    "float32": named(lambda *a: _right(*a).astype(np.float32)),
    "list": named(lambda *a: _right(*a).tolist()),
    "length steps + 1": named(lambda b, s, w, t, f, e: _right(b, s + 1, w, t, f, e)),
    "always the full warm-up": named(lambda b, s, w, t, f, e: _right(b, max(s, w), w, t, f, e)),
}


@pytest.mark.parametrize("mistake", WRONG)
def test_plausible_wrong_answers_fail_the_visible_check(mistake, capsys):
    with pytest.raises(AssertionError):
        check_warmup_cosine(WRONG[mistake])
    assert "WRONG" in capsys.readouterr().out


def test_the_right_answer_written_differently_passes(capsys):
    check_warmup_cosine(_right)
    assert "All visible checks passed (absolute tolerance 1e-12)." in capsys.readouterr().out


def test_hints_name_the_phase(capsys):
    with pytest.raises(AssertionError, match="in the warm-up"):
        check_warmup_cosine(WRONG["warm-up from 0"])
    with pytest.raises(AssertionError, match="in the cosine phase"):
        check_warmup_cosine(WRONG["cosine not shifted"])


def test_check_refuses_non_functions():
    with pytest.raises(TypeError, match="warmup_cosine must be a function"):
        check_warmup_cosine(0.1)
