"""Chapter 05: every number the notebook prints or its text states, beyond test_optim.py and
test_surfaces.py (which assert the rates, escape steps, step sizes, weight norms and the digits
race). Assertions are on the package's functions, not on the notebook (nbval compares the
stored outputs; these tests say why they are right)."""

import numpy as np
import pytest

from course_utils import optim
from course_utils.chapters.ch05_optimizers import surfaces

QUAD = surfaces.SURFACES["quadratic"]


def test_optimum_table_as_printed():
    best = surfaces.quadratic_optimum()
    np.testing.assert_allclose([best["gd_lr"], best["momentum_lr"], best["momentum"],
                                best["gd_rate"], best["momentum_rate"]],
                               [0.198, 0.331, 0.669, 0.980, 0.818], atol=5e-4)
    # "about 690 steps to cut the error by 10^6"
    assert np.log(1e-6) / np.log(best["gd_rate"]) == pytest.approx(690.8, abs=0.1)


def test_momentum_forms_as_printed():
    lecture = optim.lecture_momentum(QUAD.grad, QUAD.start, lr=0.1, momentum=0.9, steps=200)
    pytorch = optim.pytorch_momentum(QUAD.grad, QUAD.start, lr=0.1, momentum=0.9, steps=200)
    assert np.abs(lecture - pytorch).max() < 1e-14
    lr_drop = np.where(np.arange(200) < 100, 0.1, 0.01)
    lecture = optim.lecture_momentum(QUAD.grad, QUAD.start, lr=lr_drop, momentum=0.9, steps=200)
    pytorch = optim.pytorch_momentum(QUAD.grad, QUAD.start, lr=lr_drop, momentum=0.9, steps=200)
    a = np.abs(lecture[101] - lecture[100]).max()
    b = np.abs(pytorch[101] - pytorch[100]).max()
    assert (round(a, 4), round(b, 4)) == (0.0064, 0.0008)
    assert a / b > 7  # "the very next step is 10 times shorter" (gradient term aside)


def test_rates_table_as_printed():
    best = surfaces.quadratic_optimum()
    gd = surfaces.run("quadratic", "SGD", lr=best["gd_lr"], steps=1000)
    heavy = surfaces.run("quadratic", "SGD", lr=best["momentum_lr"], momentum=best["momentum"],
                         steps=300)
    assert f"{surfaces.contraction_rate(gd, first=100):.3f}" == "0.980"
    assert f"{surfaces.contraction_rate(heavy, first=100):.3f}" == "0.818"
    assert (surfaces.steps_to(gd, 1e-6), surfaces.steps_to(heavy, 1e-6)) == (691, 86)
    slow = surfaces.run("quadratic", "SGD", lr=best["gd_lr"], momentum=best["momentum"], steps=1000)
    assert f"{surfaces.contraction_rate(slow, first=100):.3f}" == "0.929"
    assert surfaces.steps_to(slow, 1e-6) == 191  # momentum beats GD at GD's own best lr
    fast = surfaces.run("quadratic", "SGD", lr=best["momentum_lr"], steps=300)
    assert fast.message.split(":")[0] == "diverged at step 8"
    assert best["momentum_lr"] > 2 / 10  # above plain GD's stability limit


RACES = {
    "quadratic": ({"GD": ("SGD", dict(lr=2 / 10.1)),
                   "momentum": ("SGD", dict(lr=4 / 12.1, momentum=(9 / 11) ** 2)),
                   "RMSprop": ("RMSprop", dict(lr=0.1)), "Adam": ("Adam", dict(lr=0.5))}, 100),
    "saddle": ({"GD": ("SGD", dict(lr=0.1)), "momentum": ("SGD", dict(lr=0.1, momentum=0.9)),
                "RMSprop": ("RMSprop", dict(lr=0.1)), "Adam": ("Adam", dict(lr=0.1))}, 100),
    "rosenbrock": ({"GD": ("SGD", dict(lr=1e-3)), "momentum": ("SGD", dict(lr=1e-3, momentum=0.9)),
                    "RMSprop": ("RMSprop", dict(lr=1e-3)), "Adam": ("Adam", dict(lr=0.02))}, 2000),
}
PRINTED = {"quadratic": ["2.8e-01", "1.4e-12", "9.8e-05", "2.2e-04"],
           "saddle": ["1.2e-06", "8.9e-05", "0.0e+00", "3.7e-05"],
           "rosenbrock": ["7.8e-02", "6.0e-09", "6.1e-01", "7.8e-04"]}


@pytest.mark.parametrize("name", RACES)
def test_race_table_as_printed(name):
    contenders, steps = RACES[name]
    out = surfaces.race(name, contenders, steps)
    f_min = surfaces.SURFACES[name].f_min
    assert [f"{t.values[-1] - f_min:.1e}" for t in out.values()] == PRINTED[name]
    assert not any(t.diverged for t in out.values())
    if name == "saddle":  # "all four end in a minimum"
        assert all(abs(t.points[-1, 1]) == pytest.approx(1.0, abs=0.01) for t in out.values())
    if name == "rosenbrock":  # "only about 2 units along the valley"
        rms = out["RMSprop"].points
        assert np.abs(np.diff(rms, axis=0)).sum(axis=0).max() < 2000 * 1e-3 * 1.2


def test_text_claims_about_adam_bias_correction():
    # first step without the correction: lr (1 - beta1) / sqrt(1 - beta2) = 3.16 lr
    g = np.array([0.3, -2.0])
    # at a late t the correction is ~1, so the same first moments give the uncorrected step
    uncorrected, _, _ = optim.adam_step(np.zeros(2), g, np.zeros(2), np.zeros(2), 10**6, lr=1.0,
                                        eps=0.0)
    np.testing.assert_allclose(np.abs(uncorrected), 3.162, atol=1e-3)
    x, _, _ = optim.adam_step(np.zeros(2), g, np.zeros(2), np.zeros(2), 1, lr=1.0, eps=0.0)
    np.testing.assert_allclose(np.abs(x), 1.0)
    # after 100 steps of a constant gradient 1, v is still only 1 - 0.999**100 = 0.095 of g^2
    theta = np.zeros(1)
    adam = optim.Adam([theta], lr=1e-3)
    for _ in range(100):
        adam.step([np.ones(1)])
    assert adam.state[0]["exp_avg_sq"][0] == pytest.approx(0.095, abs=5e-4)
