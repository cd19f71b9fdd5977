"""Chapter 05's claims on quadratics, noise, preconditioning, second order and torch parity:
each a property of the package function with a margin (the notebook prints the numbers)."""

import math

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.figure import Figure

from course_utils.chapters.ch05_optimizers import (
    figures,
    parity,
    quadratic,
    runs,
    second_order,
    stochastic,
    surfaces,
)

LAM = np.array(surfaces.QUADRATIC_EIGENVALUES)
BEST = surfaces.quadratic_optimum()
KAPPA = 100.0
Q = (math.sqrt(KAPPA) - 1) / (math.sqrt(KAPPA) + 1)


# ---------------------------------------------------------------- rates
def test_iteration_rate_gives_gd_and_heavy_ball_optima():
    assert quadratic.iteration_rate(LAM, BEST["gd_lr"], 0.0) == pytest.approx(99 / 101, abs=1e-9)
    hb = quadratic.iteration_rate(LAM, BEST["momentum_lr"], BEST["momentum"])
    assert hb == pytest.approx(Q, abs=1e-6)  # a double root: sqrt of round-off


def test_nesterov_rates_theory_grid_and_measured():
    nest = quadratic.nesterov_settings(LAM)
    assert nest["textbook_rate"] == pytest.approx(1 - 1 / math.sqrt(KAPPA))
    assert nest["tuned_rate"] == pytest.approx(1 - 2 / math.sqrt(3 * KAPPA + 1))
    for key in ("textbook", "tuned"):
        lr, mu = nest[f"{key}_lr"], nest[f"{key}_momentum"]
        theory = quadratic.iteration_rate(LAM, lr, mu, nesterov=True)
        assert theory == pytest.approx(nest[f"{key}_rate"], abs=1e-6)
        path = surfaces.run("quadratic", "SGD", lr=lr, momentum=mu, nesterov=True, steps=300)
        assert surfaces.contraction_rate(path, first=100) == pytest.approx(theory, abs=0.003)
    # the tuned setting is (close to) the best on a grid, and worse than the heavy ball's
    grid = quadratic.iteration_rate(
        LAM, np.linspace(0.01, 0.2, 200)[:, None], np.linspace(0, 0.99, 200)[None], nesterov=True
    )
    assert grid.min() > nest["tuned_rate"] - 1e-3
    assert nest["tuned_rate"] > BEST["momentum_rate"] + 0.05


def test_phase_diagram_regimes():
    codes, rates = quadratic.momentum_regimes(
        np.array([0.01, 1.0, 1.9, 2.5, 4.5]), np.array([0.5, 0.5, 0.0, 0.2, 0.5])
    )
    assert [quadratic.REGIMES[c] for c in codes] == [
        "monotone",
        "oscillates",
        "flips sign",
        "diverges",
        "diverges",
    ]
    assert rates[1] == pytest.approx(math.sqrt(0.5))  # complex roots: modulus sqrt(mu)


def test_lower_bound_is_chebyshev_and_below_every_method():
    bound = quadratic.lower_bound(KAPPA, 800)
    t = np.arange(801)
    x = (KAPPA + 1) / (KAPPA - 1)
    np.testing.assert_allclose(bound[:300], 1 / np.cosh(t[:300] * np.arccosh(x)), rtol=1e-9)
    methods = {
        "gd": quadratic.worst_case_error(LAM, BEST["gd_lr"], 0.0, 800),
        "hb": quadratic.worst_case_error(LAM, BEST["momentum_lr"], BEST["momentum"], 800),
    }
    nest = quadratic.nesterov_settings(LAM)
    methods["nesterov"] = quadratic.worst_case_error(
        LAM, nest["tuned_lr"], nest["tuned_momentum"], 800, nesterov=True
    )
    for curve in methods.values():
        assert np.all(curve >= bound * (1 - 1e-9))
    steps = {k: quadratic.steps_to_tolerance(c, 1e-6) for k, c in methods.items()}
    lower = quadratic.steps_to_tolerance(bound, 1e-6)
    assert 70 <= lower < steps["hb"] < 1.4 * lower < steps["nesterov"] < steps["gd"]
    assert 680 < steps["gd"] < 700


# ---------------------------------------------------------------- eigenbasis, transient
def test_gd_at_balanced_rate_keeps_most_of_f_in_the_steep_direction():
    gd = surfaces.run("quadratic", "SGD", lr=BEST["gd_lr"], steps=100)
    e = quadratic.eigen_error(gd.points, np.diag(LAM))
    x, y = e["components"][-1]
    assert abs(x) / 9 == pytest.approx(abs(y) / 1.5, rel=1e-9)  # the same factor 0.98^100
    assert 0.7 < e["f_share"][-1, 1] < 0.78
    assert gd.values[-1] == pytest.approx(0.28, abs=0.01)
    # at lr 0.1 the steep direction is gone and the flat one crawls
    small = surfaces.run("quadratic", "SGD", lr=0.1, steps=50)
    assert quadratic.eigen_error(small.points, np.diag(LAM))["f_share"][-1, 0] > 0.999


def test_heavy_ball_transient_hump():
    heavy = surfaces.run(
        "quadratic", "SGD", lr=BEST["momentum_lr"], momentum=BEST["momentum"], steps=100
    )
    step, peak = quadratic.transient_peak(heavy.points)
    r = BEST["momentum_rate"]
    assert 3 <= step <= math.ceil(r / (1 - r))
    assert 5.0 < peak < 6.0


# ---------------------------------------------------------------- noise
def test_noise_floor_closed_form_matches_simulation_and_effective_step():
    runs_ = {
        (lr, mu): stochastic.noise_floor_run(LAM, (-9.0, 1.5), lr, mu, 1.0, 600, 100, seed=0)
        for lr, mu in ((0.1, 0.0), (0.01, 0.9), (0.1, 0.9))
    }
    for r in runs_.values():
        assert r["measured"] == pytest.approx(r["floor"], rel=0.15)
    same_a, same_b, big = runs_[(0.1, 0.0)], runs_[(0.01, 0.9)], runs_[(0.1, 0.9)]
    assert 0.5 < same_b["floor"] / same_a["floor"] < 1.0
    assert 0.8 < same_b["settled"] / same_a["settled"] < 1.3
    assert big["floor"] > 6 * same_a["floor"] and big["settled"] < same_a["settled"] / 5


def test_noisy_race_heavy_ball_last_on_quadratic_and_adaptive_first():
    contenders = {
        "GD": ("SGD", dict(lr=BEST["gd_lr"])),
        "momentum": ("SGD", dict(lr=BEST["momentum_lr"], momentum=BEST["momentum"])),
        "RMSprop": ("RMSprop", dict(lr=0.1)),
        "Adam": ("Adam", dict(lr=0.5)),
    }
    finals = stochastic.noisy_race("quadratic", contenders, 100, noise=1.0, seeds=20, seed=0)
    med = {k: float(np.median(v)) for k, v in finals.items()}
    assert med["momentum"] > 3 * med["GD"] > 3 * 3 * max(med["RMSprop"], med["Adam"])


def test_batch_grad_matches_the_surfaces():
    rng = np.random.default_rng(0)
    pts = rng.standard_normal((5, 2))
    for name, s in surfaces.SURFACES.items():
        np.testing.assert_allclose(
            stochastic.batch_grad(name, pts), np.array([s.grad(p) for p in pts])
        )


def test_sparse_features_adagrad_keeps_rare_steps_large():
    kw = dict(frequencies=(1.0, 0.02), steps=500, seeds=100, seed=0)
    sgd = stochastic.sparse_features("SGD", 0.1, **kw)
    ada = stochastic.sparse_features("Adagrad", 0.5, **kw)
    assert ada["error"][0] < 1.5 * sgd["error"][0]  # about the same on the frequent feature
    assert ada["error"][1] < sgd["error"][1] / 3  # far better on the rare one
    assert ada["step_size"][1] > 3 * ada["step_size"][0]


# ---------------------------------------------------------------- second order
def _torch_lbfgs_points(name, steps, history_size=10):
    torch = pytest.importorskip("torch")
    s = surfaces.SURFACES[name]
    x = torch.tensor(s.start, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([x], lr=1, max_iter=1, history_size=history_size)

    def closure():
        opt.zero_grad()
        x.grad = torch.from_numpy(s.grad(x.detach().numpy()))
        return float(s.value(x.detach().numpy()))

    pts = [x.detach().numpy().copy()]
    for _ in range(steps):
        opt.step(closure)
        p = x.detach().numpy().copy()
        if np.array_equal(p, pts[-1]):
            break
        pts.append(p)
    return np.array(pts)


@pytest.mark.parametrize(
    "name, compare", [("quadratic", None), ("saddle", None), ("rosenbrock", 40)]
)
def test_lbfgs_is_torch_optim_lbfgs(name, compare):
    ours = second_order.lbfgs_run(name, 150).points
    theirs = _torch_lbfgs_points(name, 150)
    if compare is None:
        assert ours.shape == theirs.shape
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)
    else:  # fixed-step L-BFGS on Rosenbrock amplifies round-off after ~50 steps
        np.testing.assert_allclose(ours[:compare], theirs[:compare], rtol=0, atol=1e-9)


def test_newton_and_lbfgs_outcomes():
    newton = {n: second_order.newton_run(n) for n in surfaces.SURFACES}
    assert second_order.steps_below(newton["quadratic"], 1e-8) == 1
    assert np.allclose(newton["saddle"].points[-1], 0.0)  # Newton goes to the saddle
    assert 3 <= second_order.steps_below(newton["rosenbrock"], 1e-8) <= 7
    lbfgs = {n: second_order.lbfgs_run(n, 200) for n in surfaces.SURFACES}
    assert second_order.steps_below(lbfgs["quadratic"], 1e-8) <= 12
    assert abs(lbfgs["saddle"].points[-1, 1]) == pytest.approx(1.0, abs=1e-4)  # a minimum
    assert 60 <= second_order.steps_below(lbfgs["rosenbrock"], 1e-8) <= 120
    assert second_order.outcome(newton["saddle"]).startswith("not in")


def test_hessians_match_finite_differences():
    for name, s in surfaces.SURFACES.items():
        p, h = np.array([0.3, -0.7]), 1e-6
        fd = np.column_stack([(s.grad(p + h * e) - s.grad(p - h * e)) / (2 * h) for e in np.eye(2)])
        np.testing.assert_allclose(second_order.hessian(name, p), fd, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------- parity
def test_every_rule_matches_torch_optim_functional_update():
    pytest.importorskip("torch")
    result = parity.torch_parity(steps=50)
    assert set(result) == set(parity.PARITY_SETTINGS)
    assert max(result.values()) < 1e-10


# ---------------------------------------------------------------- figures
def _race_results():
    best = BEST
    contenders = {
        "GD": ("SGD", dict(lr=best["gd_lr"])),
        "momentum": ("SGD", dict(lr=best["momentum_lr"], momentum=best["momentum"])),
    }
    return {"quadratic": runs.race("quadratic", contenders, 100)}


def test_race_figure_keeps_every_point_in_frame_and_the_wide_path_below():
    results = _race_results()
    ax = Figure().add_subplot()
    lines = figures.plot_race([ax], results)
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    for tr in results["quadratic"].values():
        assert np.all((tr.points[:, 0] >= x0) & (tr.points[:, 0] <= x1))
        assert np.all((tr.points[:, 1] >= y0) & (tr.points[:, 1] <= y1))
    gd, heavy = lines
    assert heavy.get_zorder() < gd.get_zorder() and heavy.get_linewidth() < gd.get_linewidth()
    assert ax.get_xlabel() == "x" and ax.get_ylabel() == "y"


def test_phase_diagram_and_eigen_figures_are_labelled():
    fig = Figure()
    a, b = fig.subplots(1, 2)
    figures.plot_phase_diagram(a, {"GD": (np.array([0.02, 1.98]), 0.0)}, n=50)
    gd = surfaces.run("quadratic", "SGD", lr=0.1, steps=50)
    figures.plot_eigen_errors(b, {"GD": quadratic.eigen_error(gd.points, np.diag(LAM))})
    for ax in (a, b):
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
