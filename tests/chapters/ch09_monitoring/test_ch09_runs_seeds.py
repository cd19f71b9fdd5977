"""Chapter 09, section 2's fifth curve (CS231n's "high learning rate") and the dead units
tracked during training: the claims the notebook prints, asserted at the strength it prints
them (the lr 0.1 and lr 1.0 runs are chaotic after a few dozen steps, so what is asserted of
them is a property over the seeds; the early steps and the stable runs are asserted exactly, at
their printed precision)."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from course_utils.chapters.ch09_monitoring import figures
from course_utils.chapters.ch09_monitoring import runs as ch09
from course_utils.chapters.ch09_monitoring import runs_seeds as ch09_seeds
from course_utils.seed_runs import train_seeds
from course_utils.training import build_mlp

FIELDS = (
    "step_loss",
    "eval_step",
    "train_loss",
    "train_acc",
    "val_loss",
    "val_acc",
    "ratios",
    "diverged_at",
    "dead_share",
)


@pytest.fixture(scope="module")
def runs(ch09_trained):
    names = ("good lr", "lr too high", "lr too low", "bad init")
    return {name: ch09_trained[name] for name in names}


@pytest.fixture(scope="module")
def high(ch09_trained):
    return ch09_trained["lr 0.1"]


def test_train_settings_gives_each_setting_its_own_train_seeds_run(digits_dataset):
    """Several settings in one loop, one of them diverging: each setting's numbers are those of
    its own train_seeds call, bit for bit (the notebook trains its five settings this way)."""
    settings = {
        "good": dict(lr=0.01),
        "nan": dict(lr=10.0),
        "bad init": dict(lr=0.05, std=0.1, init="normal"),
    }
    together = ch09.train_settings(digits_dataset, settings, seeds=(0, 3), epochs=2)
    assert together["nan"].diverged.all() and not together["good"].diverged.any()
    for name, setting in settings.items():
        alone = train_seeds(digits_dataset, seeds=(0, 3), epochs=2, **setting)
        assert together[name].settings == alone.settings
        same = FIELDS if name != "nan" else ("step_loss", "ratios", "diverged_at")
        for field in same:
            np.testing.assert_array_equal(getattr(together[name], field), getattr(alone, field))
        for a, b in zip(together[name].models, alone.models):
            for p, q in zip(a.parameters(), b.parameters()):
                assert (p == q).all()
    # alone, a setting whose every run diverged stops there; with the others it is evaluated
    # when they are, and has no numbers after step 0 (as a diverged seed of any run)
    nan = together["nan"]
    np.testing.assert_array_equal(nan.eval_step, together["good"].eval_step)
    assert np.isnan(nan.val_acc[:, 1:]).all() and not np.isnan(nan.val_acc[:, 0]).any()


@pytest.mark.parametrize("order", [("nan", "good"), ("good", "nan"), ("good", "nan", "good2")])
def test_train_settings_on_two_cores_gives_the_one_core_numbers(digits_dataset, monkeypatch, order):
    """Issue 20: on two cores the settings are split in two stacks trained side by side; the
    numbers are those of one stack, bit for bit, also when one half's every run diverged
    early (its loop ends there, the other goes on)."""
    import course_utils._seed_loop as loop

    every = {"good": dict(lr=0.01), "nan": dict(lr=10.0), "good2": dict(lr=0.02)}
    settings = {name: every[name] for name in order}
    assert loop._halves([(0, 2, 0.1), (2, 4, 0.1)]) == [(0, 2), (2, 4)]
    monkeypatch.setattr(loop, "_cores", lambda: 2)
    two = ch09.train_settings(digits_dataset, settings, seeds=(0, 3), epochs=2)
    monkeypatch.setattr(loop, "_cores", lambda: 1)
    one = ch09.train_settings(digits_dataset, settings, seeds=(0, 3), epochs=2)
    assert two["nan"].diverged.all() and len(two["nan"].eval_step) == 3
    for name in settings:
        for field in FIELDS:
            np.testing.assert_array_equal(getattr(two[name], field), getattr(one[name], field))
        for a, b in zip(two[name].models, one[name].models):
            for p, q in zip(a.parameters(), b.parameters()):
                assert (p == q).all()


def test_halves_cut_the_networks_in_the_middle_even_inside_a_group():
    import course_utils._seed_loop as loop

    groups = [(0, 10, 1), (10, 20, 1), (20, 30, 1), (30, 40, 1), (40, 50, 1)]
    assert loop._halves(groups) == [(0, 25), (25, 50)]
    assert loop._halves([(0, 7, 1)]) == [(0, 4), (4, 7)]
    assert loop._halves([(0, 1, 1), (1, 9, 1)]) == [(0, 5), (5, 9)]
    assert loop._halves([(0, 1, 1)]) == [(0, 1)]


def test_train_settings_checks_its_arguments(digits_dataset):
    with pytest.raises(ValueError, match="settings must be a dict of 1 to"):
        ch09.train_settings(digits_dataset, {})
    with pytest.raises(ValueError, match="must give lr"):
        ch09.train_settings(digits_dataset, {"a": dict(std=0.1)})
    with pytest.raises(ValueError, match="one shape"):
        ch09.train_settings(digits_dataset, {"a": dict(lr=0.1), "b": dict(lr=0.1, width=8)})
    with pytest.raises(ValueError, match="too many networks"):
        ch09.train_settings(digits_dataset, {str(i): dict(lr=0.1) for i in range(21)})


def test_high_lr_is_ten_times_the_good_rate():
    assert ch09_seeds.HIGH_LR == {"lr": 0.1}
    assert ch09.DIAGNOSES["good lr"]["lr"] * 10 == pytest.approx(ch09_seeds.HIGH_LR["lr"])


def test_high_lr_is_faster_at_first_in_every_seed(high, runs):
    claims = ch09_seeds.high_lr_claims(high, runs["good lr"], early=10)
    assert claims.faster.all()
    assert f"{np.median(claims.early_high):.2f}" == "1.86"
    assert f"{np.median(claims.early_good):.2f}" == "2.25"
    # with a margin: rounding cannot reorder a single seed at step 10
    assert (claims.early_good - claims.early_high).min() > 0.2


def test_high_lr_gets_stuck_higher_and_ends_worse(high, runs):
    claims = ch09_seeds.high_lr_claims(high, runs["good lr"])
    assert claims.holds() == {"faster": True, "stuck higher": True, "worse on validation": True}
    assert claims.stuck_higher.sum() >= 8
    assert np.median(claims.last_high) >= 1.5 * np.median(claims.last_good)
    assert np.median(claims.val_high) <= np.median(claims.val_good) - 0.01
    table = claims.table()
    assert table.count("holds") == 3 and "FAILS" not in table
    assert "holds: 10 of 10, median 1.86 vs 2.25" in table


def test_the_claims_table_says_when_a_claim_fails(runs):
    # the good run against itself is not faster and not stuck higher
    claims = ch09_seeds.high_lr_claims(runs["good lr"], runs["good lr"])
    assert claims.holds() == {"faster": False, "stuck higher": False, "worse on validation": False}
    assert claims.table().count("FAILS") == 3


def test_a_diverged_run_counts_as_stuck_higher(runs):
    too_high, good = runs["lr too high"], runs["good lr"]
    claims = ch09_seeds.high_lr_claims(too_high, good)
    diverged = too_high.diverged
    assert diverged.any()
    assert np.isinf(claims.last_high[diverged]).all()
    assert (claims.val_high[diverged] == 0).all()


def test_dead_units_of_the_stable_runs_as_printed(runs):
    table = ch09_seeds.dead_units(
        {name: runs[name] for name in ("good lr", "lr too low", "bad init")}
    )
    lines = table.splitlines()
    assert lines[2].split() == [
        "good",
        "lr",
        "3%",
        "(0%",
        "to",
        "8%)",
        "3%",
        "(0%",
        "to",
        "8%)",
        "4%",
        "(0%",
        "to",
        "8%)",
    ]
    assert "5% (0% to 8%)" in lines[4]
    # a good rate leaves the first layer as it started: at most 8% dead in any seed
    assert np.nanmax(runs["good lr"].dead_share[:, -1, 0]) == pytest.approx(5 / 64)


def test_dead_unit_claims_hold(high, runs):
    text = ch09_seeds.dead_unit_claims(high, runs["good lr"], runs["lr too high"])
    assert text.count("holds") == 2 and "FAILS" not in text
    assert "at most 8%" in text
    assert (high.dead_share[:, -1, 0] > ch09_seeds.HIGH_DEAD).all()
    alive = ~runs["lr too high"].diverged
    assert (runs["lr too high"].dead_share[alive, -1].max(axis=1) == 1.0).all()


def test_dead_unit_claims_fail_for_a_good_run(runs):
    good = runs["good lr"]
    text = ch09_seeds.dead_unit_claims(good, good, runs["good lr"])
    assert text.count("FAILS") == 2


def test_dead_share_counts_units_silent_on_every_example(digits_dataset):
    """A first layer with every unit's bias very negative is 100% dead from step 0."""

    def build(seed):
        model = build_mlp(64, 10, 2, 8, "relu", seed=seed)
        model[0].bias.data.fill_(-1e3)
        return model

    r = train_seeds(digits_dataset, seeds=(0, 1), epochs=1, build=build)
    assert r.dead_share.shape == (2, len(r.eval_step), 2)
    assert (r.dead_share[:, :, 0] == 1.0).all()  # no gradient reaches it: it stays dead
    assert (r.dead_share[:, :, 1] == 1.0).all()  # and everything after it outputs its bias


def test_dead_share_of_a_smooth_activation_is_zero(digits_dataset):
    r = train_seeds(digits_dataset, seeds=(0,), epochs=1, activation="tanh")
    assert (r.dead_share == 0).all()


def test_plot_high_lr_labels_both_rates(high, runs):
    fig = figures.plot_high_lr(high, runs["good lr"])
    assert isinstance(fig, Figure)
    left, right = fig.axes
    assert left.get_xlabel() == right.get_xlabel() == "step"
    assert left.get_ylabel() == "smoothed minibatch loss"
    assert [t.get_text() for t in left.get_legend().get_texts()] == [
        "lr 0.01 (good)",
        "lr 0.1 (high)",
    ]
    assert right.get_xlim() == (88, 176)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda r, h: ch09_seeds.high_lr_claims(h, "good"), "good must be a SeedRuns"),
        (lambda r, h: ch09_seeds.high_lr_claims(h, r["good lr"], early=0), "early"),
        (lambda r, h: ch09_seeds.high_lr_claims(h, r["good lr"], smoothing=1.0), "smoothing"),
        (lambda r, h: ch09_seeds.dead_units({"x": h}, layer=5), "layer"),
        (lambda r, h: ch09_seeds.dead_units({}), "runs"),
        (lambda r, h: ch09_seeds.dead_unit_claims(h, r["good lr"], None), "too_high"),
        (lambda r, h: figures.plot_high_lr(h, None), "good must be a SeedRuns"),
    ],
)
def test_bad_arguments_are_refused(runs, high, call, message):
    with pytest.raises(ValueError, match=message):
        call(runs, high)


def test_runs_on_other_seeds_are_not_paired(digits_dataset, runs):
    other = ch09.train_seeds(digits_dataset, seeds=(1, 2), epochs=1, lr=0.1)
    with pytest.raises(ValueError, match="same seeds"):
        ch09_seeds.high_lr_claims(other, runs["good lr"])
