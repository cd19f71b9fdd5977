"""Chapter 06's claims on choosing and scaling the rate (runs_rates): Robbins-Monro on the noisy
quadratic, the LR range test and the linear scaling rule, asserted on the functions the notebook
calls."""

import numpy as np
import pytest

from course_utils import schedules
from course_utils.chapters.ch06_schedules import runs as ch06_runs
from course_utils.chapters.ch06_schedules import runs_rates


def test_expected_loss_is_the_limit_of_the_walkers():
    lr = schedules.step_decay(1.0, steps=900, step_size=300, gamma=0.1)
    exact = ch06_runs.expected_loss(lr)
    sampled = ch06_runs.noisy_quadratic(lr, walkers=10_000, seed=3)
    # 10,000 walkers: a relative standard error of about sqrt(2 / 10,000) = 1.4% on E w^2
    assert np.max(np.abs(sampled[50:] / exact[50:] - 1)) < 0.08
    # at a constant rate it is the floor, to rounding
    flat = ch06_runs.expected_loss(schedules.constant(0.1, 2000))
    assert flat[-1] == pytest.approx(ch06_runs.stationary_loss(0.1), rel=1e-12)
    # several schedules at once: the same as one by one
    both = ch06_runs.expected_loss(np.stack([lr, lr * 0.5]))
    np.testing.assert_array_equal(both[0], exact)


def test_robbins_monro_table_as_printed_and_its_claims():
    rm = runs_rates.robbins_monro(lr=0.1, steps=10_000, gamma=0.95, decay_steps=100)
    table = runs_rates.robbins_monro_table(rm)
    assert table.splitlines()[2:] == [
        "constant      1e+03      100         2.63e-02           2.63e-02            2.63e-02",
        "exponential       2    0.103         8.19e-02           8.00e-02            8.00e-02",
        "1/t            46.2    0.995         1.35e-02           2.40e-03            2.61e-04",
        "1/t theory                           2.63e-02           2.63e-03            2.63e-04",
    ]
    loss = rm["loss"]
    # constant: at its floor from step 100 on (the second condition fails)
    assert np.allclose(loss["constant"][99:], rm["floor"], rtol=1e-6)
    # exponential: sum of rates 2, frozen (the first condition fails), above the constant's floor
    assert rm["sum"]["exponential"] == pytest.approx(2.0, rel=1e-6)
    assert loss["exponential"][-1] == pytest.approx(loss["exponential"][999], rel=1e-9)
    assert loss["exponential"][-1] > 3 * rm["floor"]
    assert f"{3 * np.prod(1 - rm['lr']['exponential']):.3f}" == "0.385"
    assert f"{rm['bias']['exponential']:.3f}" == "0.074"
    # 1/t: falls 10x per 10x steps and approaches the theory c / t from below
    assert loss["1/t"][999] / loss["1/t"][9999] == pytest.approx(10, rel=0.1)
    assert 0.9 < loss["1/t"][999] / rm["limit"][999] < 1.0
    assert 0.98 < loss["1/t"][9999] / rm["limit"][9999] < 1.0
    # the sums: both conditions hold for 1/t over the steps shown (sum of squares -> 1)
    assert rm["sum_sq"]["1/t"] < 1.0 and rm["sum"]["1/t"] > 40


def test_inverse_time_limit_formula():
    # h a^2 s^2 / (2 (2 a h - 1) t) for a = 10, h = s = 1: 100 / (38 t)
    assert ch06_runs.inverse_time_limit(10.0, 1000) == pytest.approx(100 / 38 / 1000)
    with pytest.raises(ValueError, match="a"):
        ch06_runs.inverse_time_limit(0.4, 10)  # a h must be above 1/2
    with pytest.raises(ValueError, match="t must be > 0"):
        ch06_runs.inverse_time_limit(1.0, 0.0)


@pytest.fixture(scope="module")
def range_result():
    return runs_rates.range_test(start_lr=1e-4, end_lr=10.0, epochs=2, batch_size=32, smooth=5)


def test_range_table_as_printed(range_result):
    assert runs_rates.range_table(range_result) == (
        "LR range test, 10 seeds, lr from 0.0001 to 10 over 86 steps; median [min, max] over the "
        "seeds:\n"
        "  starts to learn (smoothed loss < 90% of its start) at lr 0.011 [0.0051, 0.03]\n"
        "  lowest smoothed loss at lr                          0.2 [0.13, 0.51]\n"
        "  diverges (4x its lowest) at lr                      1.2 [0.58, 10]"
    )


def test_range_test_brackets_section_3s_rate_in_every_seed(range_result):
    # the text: 0.1 lies inside the falling range, in every seed: above where learning starts,
    # below the minimum, far below divergence
    assert np.all(range_result["starts"] < 0.1)
    assert np.all(range_result["lowest"] > 0.1)
    assert np.all(range_result["diverges"] > 0.5)
    assert np.all(range_result["starts"] < range_result["lowest"])
    assert np.all(range_result["lowest"] < range_result["diverges"])


@pytest.fixture(scope="module")
def scaling():
    return runs_rates.scaling_runs(lr=0.1, high_lr=0.5, k=8, batch_size=32, epochs=4)


def test_scaling_table_as_printed(scaling):
    lines = runs_rates.scaling_table(scaling).splitlines()
    assert lines[0].startswith("10 seeds, softmax regression, momentum 0.9, batch 32 (43 steps")
    assert [line.split("  ")[0] for line in lines[3:8]] == list(scaling["large"])
    rows = {line.split("  ")[0]: line for line in lines[3:8]}
    assert rows["unscaled"].endswith(
        "4.69 [4.48, 5.00]    5.30 [4.90, 5.52]    3.73 [3.60, 3.81]             0 of 10"
    )
    assert rows["scaled"].endswith(
        "2.05 [1.74, 2.19]    1.16 [1.11, 1.27]    0.92 [0.88, 0.99]             0 of 10"
    )
    assert "5.50 [3.80, 9.17]" in rows["scaled, high"] and rows["scaled, high"].endswith("10 of 10")
    assert "1.85 [1.57, 2.33]" in rows["scaled, high, warm-up"]
    assert "2.23 [1.76, 4.47]" in rows["scaled, high, constant warm-up"]
    assert lines[-1] == (
        "loss above 1.5x its last warm-up value within 3 steps of the warm-up's end: "
        "warm-up 5 of 10; constant warm-up 3 of 10"
    )


def test_linear_scaling_rule_holds_at_a_moderate_rate_and_breaks_at_a_high_one(scaling):
    ratio = scaling["ratio"]
    # batch x8 at the same rate: far behind in every seed; at rate x8: at or below the baseline
    assert np.all(ratio["unscaled"][:, -1] > 3)
    assert np.all(ratio["scaled"][:, -1] < 1)
    # rate 4 without warm-up: the loss rises in the first epoch in every seed
    high = scaling["large"]["scaled, high"].train_loss
    assert np.all(high[:, 1] > high[:, 0])
    # with either warm-up it falls in every seed, and ends ahead of no warm-up
    for name in ("scaled, high, warm-up", "scaled, high, constant warm-up"):
        run = scaling["large"][name].train_loss
        assert np.all(run[:, 1] < run[:, 0])
    assert np.all(ratio["scaled, high, warm-up"][:, -1] < ratio["scaled, high"][:, -1])
    assert (
        ratio["scaled, high, constant warm-up"][:, -1] < ratio["scaled, high"][:, -1]
    ).sum() == 9
    # gradual ahead of constant in 8 of 10 seeds; neither reaches the small batch (the limit)
    gradual, const = (
        ratio["scaled, high, warm-up"][:, -1],
        ratio["scaled, high, constant warm-up"][:, -1],
    )
    assert (gradual < const).sum() == 8 and np.median(gradual) < np.median(const)
    assert np.all(gradual > 1.2)


def test_the_spike_after_warm_up_ends(scaling):
    # the loss jumps above 1.5x its last warm-up value in the next 3 steps: 5 (gradual) and 3
    # (constant) of 10 seeds; the thresholds are more than 4% away from 1.5 in every seed
    for name, count in (("scaled, high, warm-up", 5), ("scaled, high, constant warm-up", 3)):
        jump = scaling["jump"][name]
        assert (jump > 1.5).sum() == count
        assert np.min(np.abs(jump / 1.5 - 1)) > 0.04


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(lr=0.0), "lr"),
        (dict(k=1), "k"),
        (dict(epochs=2, warmup_epochs=2), "warmup_epochs"),
        (dict(lr=2e5, k=8), "k \\* lr"),
        (dict(seeds=[1, 1]), "seeds"),
    ],
)
def test_scaling_runs_checks_its_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        runs_rates.scaling_runs(**kwargs)


def test_tables_refuse_other_dicts():
    for table in (runs_rates.robbins_monro_table, runs_rates.range_table, runs_rates.scaling_table):
        with pytest.raises(ValueError, match="must be the dict"):
            table({"x": 1})
