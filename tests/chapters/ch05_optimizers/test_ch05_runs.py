"""Chapter 05: every number the notebook prints or its text states, beyond test_optim.py and
test_ch05_surfaces.py (which assert the rates, escape steps, step sizes, weight norms and the digits
race). Assertions are on the package's functions, not on the notebook (nbval compares the
stored outputs; these tests say why they are right)."""

import math

import numpy as np
import pytest

from course_utils import optim
from course_utils.chapters.ch05_optimizers import figures as ch05_figures
from course_utils.chapters.ch05_optimizers import runs as ch05_runs
from course_utils.chapters.ch05_optimizers import surfaces

QUAD = surfaces.SURFACES["quadratic"]


def test_optimum_table_as_printed():
    best = surfaces.quadratic_optimum()
    np.testing.assert_allclose(
        [
            best["gd_lr"],
            best["momentum_lr"],
            best["momentum"],
            best["gd_rate"],
            best["momentum_rate"],
        ],
        [0.198, 0.331, 0.669, 0.980, 0.818],
        atol=5e-4,
    )
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
    heavy = surfaces.run(
        "quadratic", "SGD", lr=best["momentum_lr"], momentum=best["momentum"], steps=300
    )
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
    "quadratic": (
        {
            "GD": ("SGD", dict(lr=2 / 10.1)),
            "momentum": ("SGD", dict(lr=4 / 12.1, momentum=(9 / 11) ** 2)),
            "RMSprop": ("RMSprop", dict(lr=0.1)),
            "Adam": ("Adam", dict(lr=0.5)),
        },
        100,
    ),
    "saddle": (
        {
            "GD": ("SGD", dict(lr=0.1)),
            "momentum": ("SGD", dict(lr=0.1, momentum=0.9)),
            "RMSprop": ("RMSprop", dict(lr=0.1)),
            "Adam": ("Adam", dict(lr=0.1)),
        },
        100,
    ),
    "rosenbrock": (
        {
            "GD": ("SGD", dict(lr=1e-3)),
            "momentum": ("SGD", dict(lr=1e-3, momentum=0.9)),
            "RMSprop": ("RMSprop", dict(lr=1e-3)),
            "Adam": ("Adam", dict(lr=0.02)),
        },
        2000,
    ),
}
PRINTED = {
    "quadratic": ["2.8e-01", "1.4e-12", "9.8e-05", "2.2e-04"],
    "saddle": ["1.2e-06", "8.9e-05", "0.0e+00", "3.7e-05"],
    "rosenbrock": ["7.8e-02", "6.0e-09", "6.1e-01", "7.8e-04"],
}


@pytest.mark.parametrize("name", RACES)
def test_race_table_as_printed(name):
    contenders, steps = RACES[name]
    out = ch05_runs.race(name, contenders, steps)
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
    uncorrected, _, _ = optim.adam_step(
        np.zeros(2), g, np.zeros(2), np.zeros(2), 10**6, lr=1.0, eps=0.0
    )
    np.testing.assert_allclose(np.abs(uncorrected), 3.162, atol=1e-3)
    x, _, _ = optim.adam_step(np.zeros(2), g, np.zeros(2), np.zeros(2), 1, lr=1.0, eps=0.0)
    np.testing.assert_allclose(np.abs(x), 1.0)
    # after 100 steps of a constant gradient 1, v is still only 1 - 0.999**100 = 0.095 of g^2
    theta = np.zeros(1)
    adam = optim.Adam([theta], lr=1e-3)
    for _ in range(100):
        adam.step([np.ones(1)])
    assert adam.state[0]["exp_avg_sq"][0] == pytest.approx(0.095, abs=5e-4)


# ---------------------------------------------------------------- moved from tests/test_optim.py (runs, figures)
def test_family_graph_has_the_lectures_edges():
    import matplotlib
    from matplotlib.figure import Figure

    assert set(ch05_figures.FAMILY_EDGES) == {
        ("SGD", "Momentum"),
        ("SGD", "AdaGrad"),
        ("AdaGrad", "RMSProp"),
        ("AdaGrad", "AdaDelta"),
        ("Momentum", "Adam"),
        ("RMSProp", "Adam"),
        ("Adam", "AdamW"),
    }
    fig = Figure()
    artists = ch05_figures.plot_family_graph(fig.add_subplot())
    names = [
        a.get_text()
        for a in artists
        if isinstance(a, matplotlib.text.Text) and a.get_text() in ch05_figures._FAMILY_POSITIONS
    ]
    assert sorted(names) == sorted(ch05_figures._FAMILY_POSITIONS)
    assert math.isclose(len(artists), 2 * 7 + 7)


# ---------------------------------------------------------------- the chapter's other functions
def test_step_sizes_as_printed():
    rows = {
        "SGD": (dict(lr=0.01, momentum=0.9), [0.01, 0.019, 0.06513, 0.1, 0.1]),
        "Adagrad": (dict(lr=0.01), [0.01, 0.00707, 0.00316, 0.001, 0.00032]),
        "RMSprop": (dict(lr=0.01), [0.1, 0.07089, 0.03234, 0.01256, 0.01]),
        "Adadelta": ({}, [0.00316, 0.00324, 0.00351, 0.00466, 0.01057]),
        "Adam": (dict(lr=0.01), [0.01] * 5),
    }
    for name, (kwargs, printed) in rows.items():
        sizes = ch05_runs.step_sizes(name, 1000, **kwargs)
        np.testing.assert_allclose(sizes[[0, 1, 9, 99, 999]], printed, atol=5e-6, rtol=0)
    # Adagrad: lr / sqrt(t); RMSprop's first step lr / sqrt(1 - alpha)
    np.testing.assert_allclose(
        ch05_runs.step_sizes("Adagrad", 100, lr=0.01), 0.01 / np.sqrt(np.arange(1, 101)), rtol=1e-6
    )
    with pytest.raises(ValueError, match="optimizer must be one of"):
        ch05_runs.step_sizes("LBFGS")


def test_decay_only_as_printed():
    paths = ch05_runs.decay_only(theta0=1.0, lr=0.01, weight_decay=0.1, steps=100)
    np.testing.assert_allclose(
        paths["Adam + L2"][[0, 10, 50, 100]], [1, 0.900, 0.537, 0.224], atol=5e-4
    )
    np.testing.assert_allclose(
        paths["AdamW"][[0, 10, 50, 100]], [1, 0.990, 0.951, 0.905], atol=5e-4
    )
    np.testing.assert_allclose(paths["AdamW"], 0.999 ** np.arange(101), rtol=1e-12)
    # Adam + L2 is (almost) independent of lambda over the first steps
    other = ch05_runs.decay_only(theta0=1.0, lr=0.01, weight_decay=10.0, steps=10)["Adam + L2"]
    np.testing.assert_allclose(other, paths["Adam + L2"][:11], atol=1e-6)


@pytest.mark.parametrize(
    "numpy_name, kwargs, torch_name, torch_kwargs",
    [
        ("Adam", dict(lr=3e-3, weight_decay=0.01), "adam", dict(lr=3e-3, weight_decay=0.01)),
        ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True), "nesterov", dict(lr=0.1)),
        ("AdamW", dict(lr=3e-3, weight_decay=0.1), "adamw", dict(lr=3e-3, weight_decay=0.1)),
        ("Adagrad", dict(lr=0.05), "adagrad", dict(lr=0.05)),
    ],
)
def test_torch_adapter_trains_as_torch_optim(digits, numpy_name, kwargs, torch_name, torch_kwargs):
    from course_utils.training import build_mlp, train

    histories = []
    for optimizer, extra in (
        (lambda params: ch05_runs.TorchAdapter(numpy_name, params, **kwargs), {}),
        (torch_name, torch_kwargs),
    ):
        model = build_mlp(64, 10, depth=1, width=32, seed=1)
        histories.append(
            train(
                model,
                digits,
                optimizer=optimizer,
                epochs=1,
                batch_size=64,
                seed=1,
                progress=False,
                **extra,
            )
        )
    ours, theirs = histories
    np.testing.assert_allclose(ours.step_loss, theirs.step_loss, rtol=1e-4)
    np.testing.assert_allclose(ours.val_acc, theirs.val_acc, atol=1 / 450 + 1e-9)


def test_torch_adapter_follows_an_lr_schedule(digits):
    from course_utils.training import build_mlp, train

    model = build_mlp(64, 10, depth=1, width=16, seed=0)
    made = []

    def make(params):
        made.append(ch05_runs.TorchAdapter(optim.SGD, params, lr=0.1))
        return made[-1]

    schedule = np.linspace(0.1, 0.02, 22)
    history = train(model, digits, optimizer=make, epochs=1, lr_schedule=schedule, progress=False)
    assert history.status == "completed"
    np.testing.assert_allclose(history.lr, schedule)
    assert made[0].optimizer.lr == pytest.approx(0.02)  # the last step used the last value
    with pytest.raises(ValueError, match="optimizer_class must be one of"):
        ch05_runs.TorchAdapter("LBFGS", model.parameters())


DECAY = {
    "Adam, no decay": ("Adam", dict(lr=3e-3)),
    "Adam + L2, λ = 0.01": ("Adam", dict(lr=3e-3, weight_decay=0.01)),
    "AdamW, λ = 0.01": ("AdamW", dict(lr=3e-3, weight_decay=0.01)),
    "AdamW, λ = 1": ("AdamW", dict(lr=3e-3, weight_decay=1.0)),
}
CONTENDERS = {
    "SGD, lr 0.1": ("SGD", dict(lr=0.1)),
    "momentum 0.9, lr 0.1": ("SGD", dict(lr=0.1, momentum=0.9)),
    "Nesterov 0.9, lr 0.1": ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    "Adagrad, lr 0.05": ("Adagrad", dict(lr=0.05)),
    "RMSprop, lr 0.001": ("RMSprop", dict(lr=1e-3)),
    "Adadelta, lr 1": ("Adadelta", dict(lr=1.0)),
    "Adam, lr 0.003": ("Adam", dict(lr=3e-3)),
}


def test_weight_norms_adam_l2_vs_adamw_as_printed(digits):
    runs = ch05_runs.digits_race(digits, DECAY, seed=0)
    printed = {
        "Adam, no decay": (14.155, 0.348, 0.922),
        "Adam + L2, λ = 0.01": (9.738, 0.443, 0.913),
        "AdamW, λ = 0.01": (14.124, 0.349, 0.922),
        "AdamW, λ = 1": (11.445, 0.473, 0.916),
    }
    for label, (norm, loss, acc) in printed.items():
        history, got = runs[label]
        assert history.steps == 88
        np.testing.assert_allclose(
            [got, history.final()["train_loss"], history.final()["val_acc"]],
            [norm, loss, acc],
            atol=5e-4,
        )
    # the claim: L2 inside Adam shrinks the weights far more than AdamW at the same lambda
    assert runs["Adam + L2, λ = 0.01"][1] < 0.75 * runs["AdamW, λ = 0.01"][1]


def test_digits_race_as_printed(digits):
    runs = ch05_runs.digits_race(digits, CONTENDERS, seed=0)
    printed = [
        (0.783, 0.816),
        (0.128, 0.960),
        (0.101, 0.962),
        (0.151, 0.951),
        (0.520, 0.909),
        (0.387, 0.911),
        (0.348, 0.922),
    ]
    got = [(h.final()["train_loss"], h.final()["val_acc"]) for h, _ in runs.values()]
    np.testing.assert_allclose(got, printed, atol=5e-4)
    with pytest.raises(ValueError, match="needs an lr"):
        ch05_runs.digits_race(digits, {"x": ("SGD", {})})
    with pytest.raises(ValueError, match="optimizer must be one of"):
        ch05_runs.digits_race(digits, {"x": ("sgd", dict(lr=0.1))})
