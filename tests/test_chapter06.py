"""Chapter 06's printed claims, asserted on the package functions the notebook calls (the
exercise is tested in tests/test_exercises_06.py, the explorer in test_schedule_explorer.py)."""

import numpy as np
import pytest

from course_utils import schedules

SEED = 0


def test_noise_floor_table():
    lr = schedules.step_decay(1.0, steps=900, step_size=300, gamma=0.1)
    loss = schedules.noisy_quadratic(lr, curvature=1.0, noise=1.0, walkers=2000, seed=SEED)
    plateau = [loss[end - 50:end].mean() for end in (300, 600, 900)]
    np.testing.assert_allclose(plateau, [0.5007, 0.0263, 0.0026], atol=5e-5)
    np.testing.assert_allclose(schedules.stationary_loss(np.array([1.0, 0.1, 0.01])),
                               [0.5, 0.02632, 0.002513], rtol=1e-3)
    settle = [int(np.argmax(loss[start:start + 300] < 1.1 * schedules.stationary_loss(eta)))
              for start, eta in ((300, 0.1), (600, 0.01))]
    assert settle == [25, 218]  # the variance contracts by (1 - eta h)^2 per step: 0.81 vs 0.98
    # each division by 10 divides the floor by about 10, within 5% of the formula
    np.testing.assert_allclose(plateau, schedules.stationary_loss(np.array([1.0, 0.1, 0.01])),
                               rtol=0.05)


def test_parity_table_every_schedule_within_1e_12_of_torch():
    cases = [("step", schedules.step_decay, dict(step_size=150, gamma=0.1), True),
             ("multistep", schedules.multistep, dict(milestones=[250, 375]), True),
             ("exponential", schedules.exponential, dict(gamma=0.995), False),
             ("cosine", schedules.cosine, dict(t_max=500), False),
             ("cosine", schedules.cosine, dict(t_max=50, eta_min=0.001), False),
             ("linear_warmup", schedules.linear_warmup, dict(warmup_steps=100), False),
             ("warmup_cosine", schedules.warmup_cosine,
              dict(warmup_steps=100, t_max=400, start_factor=0.1), False),
             ("warmup_step", schedules.warmup_step, dict(warmup_steps=100, step_size=150), False)]
    for name, ours, kwargs, exact in cases:
        gap = np.abs(ours(0.1, 500, **kwargs) - schedules.torch_schedule(name, 0.1, 500, **kwargs)).max()
        assert gap < 1e-12, name
        if exact:  # exact by construction: the same products gamma * gamma ... as torch's
            assert gap == 0, name


def test_cosine_climbs_back_after_t_max():
    lr = schedules.cosine(0.1, 41, t_max=20)
    np.testing.assert_allclose(lr[[0, 10, 20, 30, 40]], [0.1, 0.05, 0.0, 0.05, 0.1], atol=1e-15)


@pytest.fixture(scope="module")
def decay():
    return schedules.decay_runs(lr=0.2, epochs=8, milestones=(4, 6), gamma=0.1, seed=SEED)


def test_step_decay_drops_the_loss_right_after_each_decay(decay):
    assert decay["steps_per_epoch"] == 43
    np.testing.assert_array_equal(schedules.drop_steps(decay["decay"].lr), [172, 258])
    (e1, before1, after1), (e2, before2, after2) = decay["drops"]
    assert (e1, e2) == (4, 6)
    assert (round(before1, 4), round(after1, 4)) == (0.3258, 0.1005)
    assert (round(before2, 4), round(after2, 4)) == (0.0830, 0.0766)
    assert after1 < 0.4 * before1        # the first drop: a factor of 3 in one epoch
    assert after2 < 0.95 * before2       # the second: real, but small
    assert before1 - after1 > 10 * (before2 - after2)


def test_constant_rate_bounces_and_ends_worse(decay):
    const, dec = decay["constant"], decay["decay"]
    np.testing.assert_array_equal(const.train_loss[:5], dec.train_loss[:5])  # same run until the decay
    assert [round(const.train_loss[e], 4) for e in (4, 5, 6, 7)] == [0.3258, 0.1454, 0.4502, 0.2651]
    later = np.array(const.train_loss[4:])
    assert round(later.min(), 2) == 0.15 and round(later.max(), 2) == 0.45
    assert round(const.train_loss[-1], 4) == 0.2015 and round(dec.train_loss[-1], 4) == 0.0748
    assert round(const.val_acc[-1], 3) == 0.916 and round(dec.val_acc[-1], 3) == 0.958
    assert (round(1 - dec.val_acc[4], 3), round(1 - dec.val_acc[5], 3)) == (0.127, 0.044)


def test_adams_first_step_moves_every_weight_by_lr_or_not_at_all():
    rows = schedules.first_adam_step(lr=0.1, depth=3, width=128, seed=SEED)
    assert [r["weights"] for r in rows] == [8192, 16384, 16384, 1280]
    for r in rows:
        assert r["max_change"] == pytest.approx(0.1, rel=1e-6)
        assert r["moved_by_lr"] + r["unchanged"] > 0.998  # the rest: |g| near eps = 1e-8
    assert [round(r["moved_by_lr"], 3) for r in rows] == [0.734, 0.740, 0.630, 0.828]
    ratio = [0.1 / r["rms"] for r in rows]
    assert round(min(ratio), 2) == 0.57 and round(max(ratio), 2) == 0.80
    small = schedules.first_adam_step(lr=0.001, depth=3, width=128, seed=SEED)
    assert max(0.001 / r["rms"] for r in small) < 0.01


def test_warm_up_rescues_adam_at_a_high_rate():
    warm = schedules.warmup_runs(lr=0.1, epochs=5, warmup_epochs=2, start_factor=0.01, seed=SEED)
    assert (warm["steps_per_epoch"], warm["warmup_steps"]) == (22, 44)
    no, yes = warm["no warm-up"], warm["warm-up"]
    assert no.status == yes.status == "completed"
    assert round(max(no.step_loss), 2) == 58.37 and int(np.argmax(no.step_loss)) + 1 == 2
    assert round(max(yes.step_loss), 2) == 2.46 and int(np.argmax(yes.step_loss)) + 1 == 1
    assert round(no.val_acc[-1], 3) == 0.407 and round(yes.val_acc[-1], 3) == 0.942
    assert round(no.train_loss[-1], 3) == 1.473 and round(yes.train_loss[-1], 3) == 0.110
    np.testing.assert_allclose(yes.lr[:44], schedules.linear_warmup(0.1, 44, 44, 0.01))
    assert yes.lr[44] == 0.1


@pytest.mark.parametrize("kwargs, match", [
    (dict(milestones=(4, 8)), "milestones must be epochs before the last"),
    (dict(milestones=(8, 4)), "strictly increasing"), (dict(epochs=0), "epochs")])
def test_decay_runs_checks_its_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        schedules.decay_runs(**kwargs)


def test_warmup_runs_checks_its_arguments():
    with pytest.raises(ValueError, match="warmup_epochs"):
        schedules.warmup_runs(epochs=3, warmup_epochs=3)
