"""course_utils.surfaces: gradients, the race, divergence as a result, and the chapter's claims."""

import math

import numpy as np
import pytest
import torch

from course_utils import optim
from course_utils.chapters.ch05_optimizers import runs as R
from course_utils.chapters.ch05_optimizers import surfaces as S


@pytest.mark.parametrize("name", S.SURFACES)
def test_gradient_is_the_autograd_gradient_of_the_value(name):
    surface = S.SURFACES[name]
    for point in [surface.start, (0.3, -0.7), (1.5, 2.0)]:
        p = torch.tensor(point, dtype=torch.float64, requires_grad=True)
        value = surface.value(p.detach().numpy())
        # the value functions are NumPy; re-express them on the tensor for autograd
        x, y = p[0], p[1]
        f = {
            "quadratic": 0.5 * (0.1 * x**2 + 10 * y**2),
            "saddle": 0.5 * x**2 - 0.5 * y**2 + 0.25 * y**4,
            "rosenbrock": (1 - x) ** 2 + 100 * (y - x**2) ** 2,
        }[name]
        assert math.isclose(float(value), f.item(), rel_tol=1e-12)
        f.backward()
        np.testing.assert_allclose(surface.grad(np.array(point)), p.grad.numpy(), rtol=1e-12)
    assert math.isclose(
        float(surface.value(np.array(surface.minimum))), surface.f_min, abs_tol=1e-15
    )
    np.testing.assert_allclose(surface.grad(np.array(surface.minimum)), 0.0, atol=1e-15)


def test_run_matches_a_hand_written_gd_loop():
    tr = S.run("quadratic", "SGD", lr=0.1, steps=50)
    x = np.array(S.SURFACES["quadratic"].start)
    path = [x.copy()]
    for _ in range(50):
        x = x - 0.1 * np.array([0.1, 10.0]) * x
        path.append(x)
    np.testing.assert_allclose(tr.points, path, rtol=1e-12)
    assert tr.status == "completed" and tr.values.shape == (51,)


def test_divergence_is_a_result_with_the_step():
    tr = S.run("quadratic", "SGD", lr=0.33, steps=300)  # > 2 / lambda_max = 0.2
    assert tr.diverged and tr.diverged_at == 8
    assert tr.message.startswith("diverged at step 8")
    assert len(tr.points) == 8 and np.all(np.isfinite(tr.points))


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (("bowl", "SGD"), dict(lr=0.1), "surface must be one of"),
        (("quadratic", "LBFGS"), dict(lr=0.1), "optimizer must be one of"),
        (("quadratic", "SGD"), dict(lr=0.1, steps=0), "steps must be between 1 and"),
        (("quadratic", "SGD"), dict(lr=0.1, steps=10**6), "steps must be between 1 and"),
        (("quadratic", "SGD"), dict(lr=-0.1), "Invalid learning rate"),
        (("quadratic", "SGD"), dict(lr=0.1, start=(np.nan, 0)), "start must hold finite numbers"),
    ],
)
def test_run_checks_its_arguments(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        S.run(*args, **kwargs)


def test_race_runs_every_contender_from_the_same_start():
    out = R.race("saddle", {"GD": ("SGD", dict(lr=0.1)), "Adam": ("Adam", dict(lr=0.1))}, steps=30)
    assert list(out) == ["GD", "Adam"]
    assert all(np.array_equal(t.points[0], (2.0, 1e-3)) for t in out.values())
    with pytest.raises(ValueError, match="needs an lr"):
        R.race("saddle", {"GD": ("SGD", {})})


# ------------------------------------------------------------------ the chapter's claims
def test_quadratic_optimum_formulas():
    o = S.quadratic_optimum()
    assert o["kappa"] == pytest.approx(100)
    assert round(o["gd_rate"], 3) == 0.980 and round(o["momentum_rate"], 3) == 0.818
    assert o["gd_lr"] == pytest.approx(2 / 10.1) and o["momentum_lr"] == pytest.approx(4 / 12.1)
    assert o["momentum"] == pytest.approx((9 / 11) ** 2)
    with pytest.raises(ValueError, match="eigenvalues"):
        S.quadratic_optimum((1.0, -1.0))


def rate_runs():
    o = S.quadratic_optimum()
    gd = S.run("quadratic", "SGD", lr=o["gd_lr"], steps=1000)
    hb = S.run("quadratic", "SGD", lr=o["momentum_lr"], momentum=o["momentum"], steps=300)
    return o, gd, hb


def test_measured_contraction_rates_are_gohs():
    o, gd, hb = rate_runs()
    gd_rate = S.contraction_rate(gd, first=100, last=1000)
    hb_rate = S.contraction_rate(hb, first=100, last=300)
    assert round(gd_rate, 3) == 0.980 and gd_rate == pytest.approx(o["gd_rate"], abs=1e-4)
    assert round(hb_rate, 3) == 0.818 and hb_rate == pytest.approx(o["momentum_rate"], abs=1e-4)
    # the plain ratio over a window carries the factor t of critical damping
    e = np.linalg.norm(hb.points, axis=1)
    assert round((e[300] / e[200]) ** (1 / 100), 3) == 0.821
    assert (S.steps_to(gd, 1e-6), S.steps_to(hb, 1e-6)) == (691, 86)


def test_gd_at_momentums_learning_rate_diverges_and_off_optimum_settings_are_slower():
    o = S.quadratic_optimum()
    assert S.run("quadratic", "SGD", lr=o["momentum_lr"], steps=300).diverged_at == 8
    slow = S.run("quadratic", "SGD", lr=0.1, momentum=0.9, steps=1000)
    assert S.contraction_rate(slow, first=100) > o["momentum_rate"]
    with pytest.raises(ValueError, match="first must be >= 1"):
        S.contraction_rate(slow, first=0)


SADDLE = {
    "GD": ("SGD", dict(lr=0.1)),
    "momentum 0.9": ("SGD", dict(lr=0.1, momentum=0.9)),
    "Nesterov 0.9": ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    "RMSprop": ("RMSprop", dict(lr=0.1)),
    "Adam": ("Adam", dict(lr=0.1)),
}


def test_gd_escapes_the_saddle_far_slower_than_momentum_or_adam():
    out = R.race("saddle", SADDLE, steps=300)
    steps = {label: S.escape_step(tr) for label, tr in out.items()}
    assert steps == {"GD": 67, "momentum 0.9": 25, "Nesterov 0.9": 22, "RMSprop": 1, "Adam": 6}
    # GD's growth factor near the saddle is 1 + lr per step: from y0 = 1e-3 that is
    # ln(0.5 / y0) / ln(1.1) = 65.2 steps to |y| > 0.5; the -y^3 term slows the last few
    predicted = math.log(0.5 / S.SURFACES["saddle"].start[1]) / math.log(1 + 0.1)
    assert predicted == pytest.approx(65.2, abs=0.05)
    assert math.ceil(predicted) <= steps["GD"] <= math.ceil(predicted) + 2
    # RMSprop's first step: v_1 = (1 - alpha) g^2, so |step| = lr / sqrt(1 - alpha) = 1.0
    assert abs(out["RMSprop"].points[1, 1] - 1e-3) == pytest.approx(1.0, rel=1e-3)  # eps: 1e-4
    assert all(tr.points[-1, 1] == pytest.approx(1.0, abs=1e-3) for tr in out.values())
    assert S.escape_step(S.run("saddle", "SGD", lr=0.1, steps=10)) is None


def test_explore_maps_the_controls():
    assert S.optimizer_settings("Adam", 0.1, 0.8, 0.99) == ("Adam", dict(lr=0.1, betas=(0.8, 0.99)))
    assert S.optimizer_settings("RMSprop", 0.1, 0.5, 0.9) == (
        "RMSprop",
        dict(lr=0.1, alpha=0.9, momentum=0.5),
    )
    assert S.optimizer_settings("Nesterov", 0.1, 0.9, 0.9)[1]["nesterov"] is True
    tr = S.explore("rosenbrock", "Adam", 0.05, 0.9, 0.999, 100)
    np.testing.assert_array_equal(tr.points, S.run("rosenbrock", "Adam", lr=0.05, steps=100).points)
    with pytest.raises(ValueError, match="Nesterov needs momentum > 0"):
        S.explore(optimizer="Nesterov", momentum=0.0)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        S.explore(optimizer="LBFGS")


@pytest.mark.parametrize("surface", sorted(S.SURFACES))
@pytest.mark.parametrize(
    "optimizer, kwargs",
    [
        ("SGD", dict(lr=1e-3, momentum=0.9, nesterov=True)),
        ("SGD", dict(lr=0.5)),  # diverges on every surface
        ("Adam", dict(lr=0.02)),
        ("Adadelta", dict(lr=1.0)),
        ("AdamW", dict(lr=0.02, weight_decay=0.1)),
    ],
)
def test_run_steps_exactly_as_the_checked_optimizer_step(surface, optimizer, kwargs):
    # run() skips Optimizer.step's input checks for its own gradients: the same points
    own = S.SURFACES[surface]
    x = np.array(own.start, dtype=float)
    opt = optim.OPTIMIZERS[optimizer]([x], **kwargs)
    points = [x.copy()]
    with np.errstate(all="ignore"):
        for _ in range(300):
            opt.step([own.grad(x)])
            if not (abs(x[0]) <= own.bound and abs(x[1]) <= own.bound):
                break
            points.append(x.copy())
    np.testing.assert_array_equal(S.run(surface, optimizer, steps=300, **kwargs).points, points)
