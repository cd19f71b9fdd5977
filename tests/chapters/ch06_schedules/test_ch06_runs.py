"""Chapter 06's printed claims and runs, asserted on the package functions the notebook calls
(the exercise is tested in test_ch06_checks.py, the explorer in test_ch06_explorer.py)."""

import numpy as np
import pytest

from course_utils import schedules
from course_utils.chapters.ch06_schedules import parity, runs_warmup, seed_runs
from course_utils.chapters.ch06_schedules import runs as ch06_runs

SEED = 0


def test_noise_floor_table():
    lr = schedules.step_decay(1.0, steps=900, step_size=300, gamma=0.1)
    loss = ch06_runs.noisy_quadratic(lr, curvature=1.0, noise=1.0, walkers=2000, seed=SEED)
    plateau = [loss[end - 50 : end].mean() for end in (300, 600, 900)]
    np.testing.assert_allclose(plateau, [0.5007, 0.0263, 0.0026], atol=5e-5)
    np.testing.assert_allclose(
        ch06_runs.stationary_loss(np.array([1.0, 0.1, 0.01])), [0.5, 0.02632, 0.002513], rtol=1e-3
    )
    # NumPy's generator is scalar code (the same numbers on every CPU); at the crossings the loss
    # is 6e-4 (relative) away from the level, so last-bit differences in the means cannot move it
    settle = [
        ch06_runs.steps_within(loss, start, 1.1 * ch06_runs.stationary_loss(eta))
        for start, eta in ((300, 0.1), (600, 0.01))
    ]
    assert settle == [26, 219]  # the variance contracts by (1 - eta h)^2 per step: 0.81 vs 0.98
    assert [ch06_runs.settle_steps(1.0, 0.1), ch06_runs.settle_steps(0.1, 0.01)] == [25, 227]
    # each division by 10 divides the floor by about 10, within 5% of the formula
    np.testing.assert_allclose(
        plateau, ch06_runs.stationary_loss(np.array([1.0, 0.1, 0.01])), rtol=0.05
    )


def test_settling_steps_over_seeds_as_the_text_says():
    # "26 and 219 steps (seed 0; 22 to 28 and 198 to 253 over seeds 0-19)", expectation 25 and 227
    lr = schedules.step_decay(1.0, steps=900, step_size=300, gamma=0.1)
    settle = np.array(
        [
            [
                ch06_runs.steps_within(loss, start, 1.1 * ch06_runs.stationary_loss(eta))
                for start, eta in ((300, 0.1), (600, 0.01))
            ]
            for loss in (
                ch06_runs.noisy_quadratic(lr, walkers=2000, seed=seed) for seed in range(20)
            )
        ]
    )
    assert settle[:, 0].min() == 22 and settle[:, 0].max() == 28
    assert settle[:, 1].min() == 198 and settle[:, 1].max() == 253
    assert abs(np.median(settle[:, 0]) - 25) <= 2 and abs(np.median(settle[:, 1]) - 227) <= 5


def test_parity_table_every_schedule_within_1e_12_of_torch():
    cases = [
        ("step", schedules.step_decay, dict(step_size=150, gamma=0.1), True),
        ("multistep", schedules.multistep, dict(milestones=[250, 375]), True),
        ("exponential", schedules.exponential, dict(gamma=0.995), False),
        ("cosine", schedules.cosine, dict(t_max=500), False),
        ("cosine", schedules.cosine, dict(t_max=50, eta_min=0.001), False),
        ("linear_warmup", schedules.linear_warmup, dict(warmup_steps=100), False),
        (
            "warmup_cosine",
            schedules.warmup_cosine,
            dict(warmup_steps=100, t_max=400, start_factor=0.1),
            False,
        ),
        ("warmup_step", schedules.warmup_step, dict(warmup_steps=100, step_size=150), False),
    ]
    for name, ours, kwargs, exact in cases:
        gap = np.abs(
            ours(0.1, 500, **kwargs) - parity.torch_schedule(name, 0.1, 500, **kwargs)
        ).max()
        assert gap < 1e-12, name
        if exact:  # exact by construction: the same products gamma * gamma ... as torch's
            assert gap == 0, name


def test_cosine_climbs_back_after_t_max():
    lr = schedules.cosine(0.1, 41, t_max=20)
    np.testing.assert_allclose(lr[[0, 10, 20, 30, 40]], [0.1, 0.05, 0.0, 0.05, 0.1], atol=1e-15)


# The runs below are float64, from NumPy-drawn weights (seed_runs.train_seeds): the same seed
# gives the same numbers on every CPU to ~1e-10 (measured native against SSE4), and every
# printed number is at least 4e-5 (relative) away from a rounding boundary.


@pytest.fixture(scope="module")
def decay():
    return ch06_runs.decay_runs(
        lr=0.1, epochs=8, milestones=(4, 6), gamma=0.1, width=32, seeds=range(10)
    )


def test_decay_table_as_printed(decay):
    assert decay["steps_per_epoch"] == 43
    np.testing.assert_array_equal(schedules.drop_steps(decay["decay"].lr), [172, 258])
    assert (
        ch06_runs.decay_table(decay)
        == """\
10 seeds (0-9), median [min, max] over the seeds
loss after epoch           constant lr            step decay   decay / constant  decay lower
----------------  --------------------  --------------------  -----------------  -----------
4 (decay 1)       0.174 [0.081, 0.281]  0.174 [0.081, 0.281]  1.00 [1.00, 1.00]      0 of 10
5                 0.157 [0.063, 0.348]  0.064 [0.043, 0.112]  0.38 [0.25, 0.81]     10 of 10
6 (decay 2)       0.143 [0.050, 0.342]  0.054 [0.036, 0.089]  0.42 [0.14, 0.82]     10 of 10
7                 0.106 [0.036, 0.283]  0.052 [0.036, 0.087]  0.51 [0.19, 0.99]     10 of 10
8 (end)           0.079 [0.045, 0.233]  0.050 [0.035, 0.085]  0.50 [0.21, 1.59]      7 of 10
final validation accuracy: constant lr 94.9% [88.9%, 97.3%], step decay 96.3% [95.6%, 97.3%]; \
step decay higher in 7 of 10 seeds (1 tied)"""
    )


def test_one_epoch_after_the_decay_the_decayed_run_is_lower_in_every_seed(decay):
    const, dec = decay["constant"], decay["decay"]
    # exact by construction: until the first decay both runs do the same float64 operations on
    # the same numbers (same weights, minibatches and rates)
    np.testing.assert_array_equal(const.train_loss[:, :5], dec.train_loss[:, :5])
    first, second = decay["after_decay"]
    assert (first["epoch"], second["epoch"]) == (5, 7)
    assert np.all(first["ratio"] < 0.85) and np.median(first["ratio"]) < 0.4
    assert np.all(second["ratio"] < 1)
    # the second decay adds little to the decayed run itself (medians 0.054 -> 0.052)
    assert np.median(dec.train_loss[:, 7]) > 0.95 * np.median(dec.train_loss[:, 6])
    # by the end the constant run has caught up in 3 seeds; the decayed run's accuracy is
    # higher in 7 and its spread much narrower
    assert np.sum(dec.train_loss[:, 8] < const.train_loss[:, 8]) == 7
    va_c, va_d = const.val_acc[:, -1], dec.val_acc[:, -1]
    assert (np.sum(va_d > va_c), np.sum(va_d == va_c)) == (7, 1)
    assert np.ptp(va_d) < 0.5 * np.ptp(va_c)


def test_train_seeds_trains_as_training_train_does(digits):
    """Seed for seed the same steps as training.train (same init, minibatches, torch optimiser)."""
    import torch

    from course_utils import training

    data, seeds = digits, [0, 3]
    for optimizer, lr, kwargs in (("momentum", 0.05, dict(weight_decay=1e-3)), ("adam", 1e-3, {})):
        models = [training.build_mlp(64, 10, depth=2, width=32, seed=s) for s in seeds]
        linears = [[m for m in model if isinstance(m, torch.nn.Linear)] for model in models]
        init = [
            (
                np.stack([ls[k].weight.detach().numpy().T for ls in linears]).astype(np.float64),
                np.stack([ls[k].bias.detach().numpy() for ls in linears]).astype(np.float64),
            )
            for k in range(3)
        ]
        lr_schedule = schedules.constant(lr, 2 * 43)
        runs = seed_runs.train_seeds(
            data,
            {"run": lr_schedule},
            optimizer,
            seeds=seeds,
            width=32,
            epochs=2,
            init=init,
            **kwargs,
        )["run"]
        for i, seed in enumerate(seeds):
            history = training.train(
                models[i],
                data,
                optimizer,
                lr=lr,
                epochs=2,
                batch_size=32,
                seed=seed,
                lr_schedule=lr_schedule,
                progress=False,
                **kwargs,
            )
            # float32 (train) against float64: rounding of 1e-7 per operation, grown over 86
            # stable steps to ~3e-6 (measured)
            np.testing.assert_allclose(runs.step_loss[i], history.step_loss, rtol=3e-5)
            np.testing.assert_allclose(runs.train_loss[i], history.train_loss, rtol=3e-5)
            np.testing.assert_array_equal(runs.val_acc[i], history.val_acc)  # no argmax that close
            np.testing.assert_array_equal(runs.lr, history.lr)


def test_adams_first_step_moves_every_weight_by_lr_or_not_at_all():
    rows = runs_warmup.first_adam_step(lr=0.2, depth=2, width=32, seed=SEED)
    assert [r["weights"] for r in rows] == [2048, 1024, 320]
    for r in rows:
        assert r["max_change"] == pytest.approx(0.2, rel=1e-6)  # float32 weights
        # shares are counts of weights / their number: exact, and at seed 0 they add up to all
        assert r["moved_by_lr"] + r["unchanged"] == 1.0
    assert [f"{r['moved_by_lr']:.0%}" for r in rows] == ["68%", "74%", "94%"]
    assert [f"{r['rms']:.3f}" for r in rows] == ["0.177", "0.247", "0.270"]
    ratio = [0.2 / r["rms"] for r in rows]
    assert f"{min(ratio):.0%}" == "74%" and f"{max(ratio):.0%}" == "113%"
    # the text: over seeds 0-4 all but at most 0.2% of a layer; 63% to 94% moved
    other = [r for seed in range(5) for r in runs_warmup.first_adam_step(seed=seed)]
    assert min(r["moved_by_lr"] + r["unchanged"] for r in other) >= 0.998
    moved = [r["moved_by_lr"] for r in other]
    assert f"{min(moved):.0%}" == "63%" and f"{max(moved):.0%}" == "94%"
    small = runs_warmup.first_adam_step(lr=0.001, seed=SEED)
    assert max(0.001 / r["rms"] for r in small) < 0.01
    # the text: at 0.001 the first step is 0.4% to 0.6% of the layer's RMS weight (any seed 0-4)
    share = runs_warmup.step_over_rms(rows, lr=0.001)
    np.testing.assert_allclose(share, [0.001 / r["rms"] for r in small], rtol=1e-12)
    assert f"{share.min():.1%}" == "0.4%" and f"{share.max():.1%}" == "0.6%"
    for seed in range(5):
        other_share = runs_warmup.step_over_rms(runs_warmup.first_adam_step(seed=seed), lr=0.001)
        assert 0.003 < other_share.min() and other_share.max() < 0.008


def test_step_over_rms_checks_its_arguments():
    with pytest.raises(ValueError, match="rows must be"):
        runs_warmup.step_over_rms([{"weights": 3}], lr=0.001)
    with pytest.raises(ValueError, match="lr"):
        runs_warmup.step_over_rms([{"rms": 0.2}], lr=0.0)


@pytest.fixture(scope="module")
def warm():
    return runs_warmup.warmup_runs(
        lr=0.2, epochs=5, warmup_epochs=2, start_factor=0.01, depth=2, width=32, seeds=range(10)
    )


def test_warmup_table_as_printed(warm):
    assert (warm["steps_per_epoch"], warm["warmup_steps"]) == (22, 44)
    assert (
        runs_warmup.warmup_table(warm)
        == """\
10 seeds (0-9), median [min, max] over the seeds
Adam        largest minibatch loss  at steps  final val accuracy
----------  ----------------------  --------  ------------------
no warm-up        12.3 [7.9, 33.7]       2-4      28% [10%, 56%]
warm-up             2.6 [2.4, 5.5]      1-66      93% [82%, 96%]
loss of step 1 (both runs): 2.50 [2.23, 2.62]
with warm-up (steps 1-44), the loss climbs back above its step-1 value after the warm-up in \
3 of 10 seeds (at steps 45, 45, 66)
warm-up ends with the higher validation accuracy in 10 of 10 seeds"""
    )


def test_warm_up_rescues_adam_at_a_high_rate_but_the_peak_can_spike(warm):
    no, yes = warm["summary"]["no warm-up"], warm["summary"]["warm-up"]
    np.testing.assert_array_equal(no["initial"], yes["initial"])  # same weights, same batch
    # without warm-up: the spike right after the first, sign-sized steps, in every seed
    assert np.all(no["at_step"] <= 4) and np.all(no["largest"] > 3 * no["initial"])
    assert np.all(yes["final_val_acc"] > no["final_val_acc"])
    assert np.median(no["final_val_acc"]) < 0.3 < 0.9 < np.median(yes["final_val_acc"])
    # with warm-up: a climb above the start after the warm-up in 3 of 10 seeds
    assert np.sum(yes["back_above_at"] > 0) == 3
    assert np.all(yes["back_above_at"][yes["back_above_at"] > 0] > warm["warmup_steps"])
    lr = warm["warm-up"].lr
    np.testing.assert_allclose(lr[:44], schedules.linear_warmup(0.2, 44, 44, 0.01))
    assert lr[44] == 0.2  # cos(0) = 1 exactly


def test_warm_up_wins_in_every_one_of_30_more_seeds():
    # the text: "higher than without warm-up in every seed (in all 40 of seeds 0-39)"
    more = runs_warmup.warmup_runs(seeds=range(10, 40))["summary"]
    assert np.all(more["warm-up"]["final_val_acc"] > more["no warm-up"]["final_val_acc"])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(milestones=(4, 8)), "milestones must be epochs before the last"),
        (dict(milestones=(8, 4)), "strictly increasing"),
        (dict(epochs=0), "epochs"),
    ],
)
def test_decay_runs_checks_its_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ch06_runs.decay_runs(**kwargs)


def test_warmup_runs_checks_its_arguments():
    with pytest.raises(ValueError, match="warmup_epochs"):
        runs_warmup.warmup_runs(epochs=3, warmup_epochs=3)


# ---------------------------------------------------------------- moved from tests/test_schedules.py (runs, seed runs)
# ----------------------------------------------------------------- the noise floor
def test_stationary_loss_formula_matches_simulation_at_three_rates():
    lr = schedules.step_decay(1.0, 900, 300, 0.1)
    loss = ch06_runs.noisy_quadratic(lr, curvature=1.0, noise=1.0, walkers=2000, seed=0)
    plateaus = [loss[end - 50 : end].mean() for end in (300, 600, 900)]
    np.testing.assert_allclose(
        plateaus, ch06_runs.stationary_loss(np.array([1.0, 0.1, 0.01])), rtol=0.05
    )
    assert ch06_runs.stationary_loss(0.1) == pytest.approx(0.1 / (2 * 1.9))
    assert ch06_runs.stationary_loss(0.01, curvature=2.0, noise=3.0) == pytest.approx(
        0.01 * 9 / (2 * 1.98)
    )


def test_noisy_quadratic_without_noise_is_plain_gradient_descent():
    loss = ch06_runs.noisy_quadratic(
        schedules.constant(0.1, 5), curvature=2.0, noise=0.0, w0=1.0, walkers=3
    )
    np.testing.assert_allclose(loss, [0.5 * 2 * 0.8 ** (2 * k) for k in range(1, 6)])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(lr=[2.0]), "lr values"),
        (dict(lr=[[0.1]]), "lr must have 1 dimension"),
        (dict(lr=[0.1], walkers=0), "walkers"),
        (dict(lr=np.full(10_000, 0.1), walkers=2000), "steps x walkers"),
        (dict(lr=[0.1], curvature=0.0), "curvature"),
    ],
)
def test_noisy_quadratic_rejects_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ch06_runs.noisy_quadratic(**kwargs)


@pytest.mark.parametrize("lr", [0.0, 2.0, -1.0, float("inf")])
def test_stationary_loss_needs_a_stable_rate(lr):
    with pytest.raises(ValueError, match=r"lr must be in \(0, 2 / curvature\)"):
        ch06_runs.stationary_loss(lr)


# ----------------------------------------------------------------- several seeds at once
def test_settle_steps_is_the_first_step_the_expected_loss_is_within_the_band():
    for before, after in ((1.0, 0.1), (0.1, 0.01), (1.5, 0.3)):
        k = ch06_runs.settle_steps(before, after)
        f0, floor, a = (
            ch06_runs.stationary_loss(before),
            ch06_runs.stationary_loss(after),
            (1 - after) ** 2,
        )
        expected = lambda j: floor + (f0 - floor) * a**j  # noqa: E731
        assert expected(k) <= 1.1 * floor < expected(k - 1)
    assert ch06_runs.settle_steps(0.1, 0.1) == 0


def test_steps_within_counts_steps_after_start():
    loss = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    assert ch06_runs.steps_within(loss, 1, 2.5) == 3 and ch06_runs.steps_within(loss, 0, 0.5) == -1


def test_median_range_formats_median_and_extremes():
    assert ch06_runs.median_range([3.0, 1.0, 2.0, 10.0], 1) == "2.5 [1.0, 10.0]"
    assert ch06_runs.median_range([0.953, 0.5, 0.96], 2, percent=True) == "95% [50%, 96%]"
    with pytest.raises(ValueError, match="values must have at least 1 entries"):
        ch06_runs.median_range([])


def test_kaiming_weights_are_drawn_per_seed_with_std_sqrt_2_over_fan_in():
    layers = seed_runs.kaiming_weights([0, 1, 2], [64, 32, 10])
    assert [(w.shape, b.shape) for w, b in layers] == [
        ((3, 64, 32), (3, 32)),
        ((3, 32, 10), (3, 10)),
    ]
    w = layers[0][0]
    assert abs(w.std() / np.sqrt(2 / 64) - 1) < 0.05 and not np.array_equal(w[0], w[1])
    # a seed's weights do not depend on the other seeds it is drawn with
    np.testing.assert_array_equal(seed_runs.kaiming_weights([2], [64, 32, 10])[0][0][0], w[2])
    assert all(np.all(b == 0) for _, b in layers)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(optimizer="sgd"), "optimizer must be one of"),
        (dict(seeds=[1, 1]), "distinct"),
        (dict(seeds=[]), "seeds must have between 1 and"),
        (dict(seeds=[-1]), "seed"),
        (dict(seeds=range(300)), "256"),
        (dict(epochs=0), "epochs"),
        (dict(weight_decay=-1.0), "weight_decay"),
        (dict(lr_schedules={}), "non-empty dict"),
        (dict(lr_schedules={"a": np.full(10, 0.1)}), "one rate per step"),
        (dict(lr_schedules={"a": np.full(43, -0.1)}), "finite rates >= 0"),
        (dict(init=[(np.zeros((1, 64, 32)), np.zeros((1, 32)))]), "init must hold"),
    ],
)
def test_train_seeds_rejects_bad_input(digits, kwargs, match):
    args = dict(lr_schedules={"a": schedules.constant(0.1, 43)}, seeds=[0], epochs=1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        seed_runs.train_seeds(digits, **args)


def test_train_seeds_shapes_and_seed_independence(digits):
    lr = {"a": schedules.constant(0.05, 43), "b": schedules.constant(0.01, 43)}
    both = seed_runs.train_seeds(digits, lr, seeds=[0, 5], epochs=1)
    alone = seed_runs.train_seeds(digits, lr, seeds=[5], epochs=1)
    assert both["a"].step_loss.shape == (2, 43) and both["a"].val_acc.shape == (2, 2)
    # seed 5 alone and beside seed 0: the same networks; batched products may round differently
    np.testing.assert_allclose(both["b"].step_loss[1], alone["b"].step_loss[0], rtol=1e-12)
    np.testing.assert_array_equal(both["a"].step_loss[:, 0], both["b"].step_loss[:, 0])


def test_schedules_trained_side_by_side_give_the_numbers_of_each_trained_alone(digits):
    steps = 2 * 43
    decay = schedules.multistep(0.1, steps, [43])
    both = seed_runs.train_seeds(
        digits,
        {
            "constant": schedules.constant(0.1, steps),
            "decay": decay,
            "same": schedules.constant(0.1, steps),
        },
        seeds=[0, 1],
        epochs=2,
    )
    alone = seed_runs.train_seeds(digits, {"decay": decay}, seeds=[0, 1], epochs=2)["decay"]
    # exact: the stacked networks do, element for element, the operations of a run trained
    # alone (per-network rates by the same fused multiply-add; one evaluation GEMM per schedule)
    for key in ("step_loss", "train_loss", "val_acc"):
        np.testing.assert_array_equal(getattr(both["decay"], key), getattr(alone, key))
        np.testing.assert_array_equal(getattr(both["same"], key), getattr(both["constant"], key))
