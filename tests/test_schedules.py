"""course_utils.schedules: every schedule against torch.optim.lr_scheduler, bad arguments,
and the noise-floor formula against simulation."""

import numpy as np
import pytest

from course_utils import schedules as S
from course_utils import schedules_beyond as B
from course_utils.chapters.ch06_schedules import parity

TOL = 1e-12  # absolute, on learning rates up to 3

CASES = [
    ("step", S.step_decay, dict(step_size=30, gamma=0.1)),
    ("step", S.step_decay, dict(step_size=7, gamma=0.5)),
    ("step", S.step_decay, dict(step_size=1, gamma=1.0)),
    ("multistep", S.multistep, dict(milestones=[100, 150], gamma=0.1)),
    ("multistep", S.multistep, dict(milestones=[1, 5, 9, 400], gamma=0.3)),
    ("multistep", S.multistep, dict(milestones=[], gamma=0.1)),
    ("exponential", S.exponential, dict(gamma=0.99)),
    ("exponential", S.exponential, dict(gamma=0.9)),
    ("cosine", S.cosine, dict(t_max=200)),
    ("cosine", S.cosine, dict(t_max=199)),
    ("cosine", S.cosine, dict(t_max=50, eta_min=0.01)),  # 10 or more periods: torch recurses
    ("cosine", S.cosine, dict(t_max=1)),
    ("linear_warmup", S.linear_warmup, dict(warmup_steps=20)),
    ("linear_warmup", S.linear_warmup, dict(warmup_steps=7, start_factor=0.01)),
    ("warmup_cosine", S.warmup_cosine, dict(warmup_steps=20, t_max=180)),
    (
        "warmup_cosine",
        S.warmup_cosine,
        dict(warmup_steps=5, t_max=50, start_factor=0.1, eta_min=0.001),
    ),
    ("warmup_cosine", S.warmup_cosine, dict(warmup_steps=300, t_max=100)),  # longer than steps
    ("warmup_step", S.warmup_step, dict(warmup_steps=10, step_size=60, gamma=0.1)),
    ("warmup_step", S.warmup_step, dict(warmup_steps=1, step_size=3, gamma=0.5, start_factor=0.5)),
    ("inverse_time", B.inverse_time, dict(decay_steps=1)),
    ("inverse_time", B.inverse_time, dict(decay_steps=100)),
    ("inverse_sqrt", B.inverse_sqrt, dict(warmup_steps=1)),
    ("inverse_sqrt", B.inverse_sqrt, dict(warmup_steps=40)),
    ("inverse_sqrt", B.inverse_sqrt, dict(warmup_steps=5000)),  # longer than steps
    ("cosine_restarts", B.cosine_restarts, dict(t_0=50)),
    ("cosine_restarts", B.cosine_restarts, dict(t_0=7, t_mult=2, eta_min=0.001)),
    ("cosine_restarts", B.cosine_restarts, dict(t_0=1, t_mult=3)),
    ("one_cycle", B.one_cycle, dict()),
    ("one_cycle", B.one_cycle, dict(pct_start=0.25, div_factor=10.0, final_div_factor=100.0)),
    ("one_cycle", B.one_cycle, dict(pct_start=0.5, div_factor=1.0, final_div_factor=1.0)),
    ("cyclic", B.cyclic, dict(max_lr=5.0, step_size_up=30)),
    ("cyclic", B.cyclic, dict(max_lr=5.0, step_size_up=1)),
]


@pytest.mark.parametrize("name, func, kwargs", CASES)
@pytest.mark.parametrize("base_lr", [0.1, 1.0, 3.0])
@pytest.mark.parametrize("steps", [200, 1000])
def test_equals_torch_lr_scheduler(name, func, kwargs, base_lr, steps):
    ours = func(base_lr, steps, **kwargs)
    theirs = parity.torch_schedule(name, base_lr, steps, **kwargs)
    assert ours.shape == (steps,) and ours.dtype == np.float64
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOL)


def test_the_closed_forms_by_hand():
    # exact by construction: powers of 0.5 are exact, and step decay multiplies the rate by
    # gamma once per decay (1.0 * 0.1 * 0.1), each product correctly rounded on every CPU
    np.testing.assert_array_equal(S.step_decay(1.0, 7, 3, 0.5), [1, 1, 1, 0.5, 0.5, 0.5, 0.25])
    np.testing.assert_array_equal(
        S.multistep(1.0, 6, [2, 5], 0.1)[[0, 1, 2, 4, 5]], [1, 1, 0.1, 0.1, 1.0 * 0.1 * 0.1]
    )
    np.testing.assert_allclose(
        S.cosine(2.0, 5, 4), [2, 1 + np.sqrt(0.5), 1, 1 - np.sqrt(0.5), 0], atol=1e-15
    )
    np.testing.assert_allclose(
        S.linear_warmup(0.3, 5, 3, 1 / 3), [0.1, 0.1 + 2 / 30, 0.1 + 4 / 30, 0.3, 0.3], atol=1e-15
    )
    lr = S.warmup_cosine(1.0, 10, 4, 6, start_factor=0.25)
    np.testing.assert_allclose(lr[:5], [0.25, 0.4375, 0.625, 0.8125, 1.0])
    assert lr[4] == lr.max() and lr[-1] == pytest.approx(0.5 * (1 + np.cos(np.pi * 5 / 6)))


@pytest.mark.parametrize("name, func, kwargs", [c for c in CASES if c[0] in ("step", "multistep")])
@pytest.mark.parametrize("base_lr", [0.1, 0.3, 3.0])
def test_step_and_multistep_equal_torch_bit_for_bit(name, func, kwargs, base_lr):
    # exact by construction: both multiply the rate by gamma once per decay, in the same order
    # (base_lr * gamma * gamma ...), and an IEEE product is correctly rounded on every CPU
    np.testing.assert_array_equal(
        func(base_lr, 1000, **kwargs), parity.torch_schedule(name, base_lr, 1000, **kwargs)
    )


def test_decay_levels_are_repeated_products_not_a_vectorised_power():
    lr = S.step_decay(0.3, 60, 1, 0.7)
    level = 0.3
    for t in range(60):  # the same products in Python floats: exact by construction, as above
        assert lr[t] == level, t
        level *= 0.7


def test_torch_cosine_climbs_back_after_t_max_and_so_does_ours():
    lr = S.cosine(1.0, 30, 10)
    assert lr[10] == 0.0 and lr[20] == pytest.approx(1.0) and lr[15] == pytest.approx(0.5)
    np.testing.assert_allclose(lr, parity.torch_schedule("cosine", 1.0, 30, t_max=10), atol=TOL)


def test_empty_schedule_and_drop_steps():
    assert S.cosine(0.1, 0, 5).shape == (0,)
    np.testing.assert_array_equal(S.drop_steps(S.multistep(1.0, 100, [30, 60])), [30, 60])
    np.testing.assert_array_equal(S.drop_steps(S.warmup_step(1.0, 50, 10, 15)), [25, 40])
    assert S.drop_steps(S.constant(0.1, 10)).size == 0


BAD = [
    (S.step_decay, (0.1, -1, 10), "steps"),
    (S.step_decay, (0.1, 10, 0), "step_size"),
    (S.step_decay, (0.1, 10, 5, 0.0), "gamma"),
    (S.step_decay, (0.1, 10, 5, 1.5), "gamma"),
    (S.step_decay, (0.0, 10, 5), "base_lr"),
    (S.step_decay, (float("nan"), 10, 5), "base_lr"),
    (S.step_decay, (0.1, 2.5, 5), "steps"),
    (S.step_decay, (0.1, True, 5), "steps"),
    (S.step_decay, (0.1, S.MAX_SCHEDULE_STEPS + 1, 5), "steps"),
    (S.multistep, (0.1, 10, [5, 3]), "strictly increasing"),
    (S.multistep, (0.1, 10, [5, 5]), "strictly increasing"),
    (S.multistep, (0.1, 10, [0, 3]), "milestone"),
    (S.multistep, (0.1, 10, 5), "milestones"),
    (S.multistep, (0.1, 10, [2], -0.1), "gamma"),
    (S.exponential, (0.1, 10, 1.01), "gamma"),
    (S.cosine, (0.1, 10, 0), "t_max"),
    (S.cosine, (0.1, 10, 5, 0.2), "eta_min"),
    (S.cosine, (0.1, 10, 5, -0.1), "eta_min"),
    (S.linear_warmup, (0.1, 10, 0), "warmup_steps"),
    (S.linear_warmup, (0.1, 10, 3, 0.0), "start_factor"),
    (S.linear_warmup, (0.1, 10, 3, 1.5), "start_factor"),
    (S.warmup_cosine, (0.1, 10, 3, 0), "t_max"),
    (S.warmup_cosine, (0.1, 10, -3, 5), "warmup_steps"),
    (S.warmup_step, (0.1, 10, 3, 5, 2.0), "gamma"),
    (B.inverse_time, (0.1, 10, 0), "decay_steps"),
    (B.inverse_sqrt, (0.1, 10, 0), "warmup_steps"),
    (B.cosine_restarts, (0.1, 10, 0), "t_0"),
    (B.cosine_restarts, (0.1, 10, 5, 11), "t_mult"),
    (B.cosine_restarts, (0.1, 10, 5, 2, 0.5), "eta_min"),
    (B.one_cycle, (0.1, 1), "steps"),
    (B.one_cycle, (0.1, 10, 0.05), "pct_start"),
    (B.one_cycle, (0.1, 10, 1.0), "pct_start"),
    (B.one_cycle, (0.1, 10, 0.3, 0.5), "div_factor"),
    (B.cyclic, (0.1, 10, 0.05, 5), "max_lr"),
    (B.cyclic, (0.1, 10, 0.5, 0), "step_size_up"),
    (B.lr_range, (0.0, 1.0, 10), "start_lr"),
    (B.lr_range, (1.0, 0.5, 10), "end_lr"),
    (B.lr_range, (1e-3, 1.0, 1), "steps"),
    (S.explorer_schedule, ("linear", 0.1, 10), "schedule must be one of"),
    (S.explorer_schedule, ("step", 0.1, 10, 0, 0), "decay_steps"),
]


@pytest.mark.parametrize("func, args, match", BAD)
def test_bad_arguments_raise_value_error_naming_them(func, args, match):
    with pytest.raises(ValueError, match=match):
        func(*args)


def test_check_milestones_gives_increasing_int64_steps():
    np.testing.assert_array_equal(S.check_milestones((3, 7)), [3, 7])
    assert S.check_milestones([]).dtype == np.int64
    with pytest.raises(ValueError, match=r"milestones\[1\] must be between 1 and 1000000"):
        S.check_milestones([3, 10**7])


def test_error_messages_give_value_and_allowed_range():
    with pytest.raises(ValueError, match=r"gamma must be in \(0, 1\].*got 1.5"):
        S.step_decay(0.1, 10, 5, 1.5)
    with pytest.raises(ValueError, match=r"steps must be an integer between 0 and 1000000; got -1"):
        S.cosine(0.1, -1, 5)


def test_the_public_checks_give_the_schedules_messages_and_check_their_bounds():
    assert S.check_steps(5) == 5 and S.check_base_lr(1) == 1.0
    assert S.check_count("t_0", 3, 1) == 3 and S.check_number("f", 1.0, 0.0, 1.0) == 1.0
    with pytest.raises(ValueError, match=r"t_0 must be an integer >= 1; got 0"):
        S.check_count("t_0", 0, 1)
    with pytest.raises(ValueError, match=r"t_0 must be at most 1000000"):
        S.check_count("t_0", 10**7, 1)
    with pytest.raises(ValueError, match=r"eta_min must be in \[0, 0.1\] \(0 to base_lr\)"):
        S.check_number("eta_min", 0.5, 0.0, 0.1, low_open=False, what=" (0 to base_lr)")
    with pytest.raises(ValueError, match="the bounds of t_0 must be integers"):
        S.check_count("t_0", 3, 1.5)
    with pytest.raises(ValueError, match="the bounds of f must be numbers"):
        S.check_number("f", 0.5, 0.0, float("nan"))
    with pytest.raises(ValueError, match="low_open must be True or False"):
        S.check_number("f", 0.5, 0.0, 1.0, low_open="no")


@pytest.mark.parametrize("schedule", S.SCHEDULES)
@pytest.mark.parametrize("warmup", [0, 100])
def test_explorer_schedule_is_the_named_schedule_after_a_warm_up(schedule, warmup):
    lr = S.explorer_schedule(schedule, 0.5, 1000, warmup, 300, 0.2)
    rest = {
        "constant": S.constant(0.5, 1000 - warmup),
        "step": S.step_decay(0.5, 1000 - warmup, 300, 0.2),
        "multistep": S.multistep(0.5, 1000 - warmup, [300, 450], 0.2),
        "exponential": S.exponential(0.5, 1000 - warmup, 0.2 ** (1 / 300)),
        "cosine": S.cosine(0.5, 1000 - warmup, 300),
    }[schedule]
    np.testing.assert_allclose(lr[warmup:], rest, rtol=1e-12)
    if warmup:
        np.testing.assert_allclose(lr[:warmup], S.linear_warmup(0.5, warmup, warmup, 0.1))
        lr_torch = parity.torch_schedule(
            "warmup_step",
            0.5,
            1000,
            warmup_steps=warmup,
            step_size=300,
            gamma=0.2,
            start_factor=0.1,
        )
        if schedule == "step":
            np.testing.assert_allclose(lr, lr_torch, atol=TOL)


def test_train_uses_the_schedule_step_by_step(digits):
    from course_utils import training

    data = digits
    lr = S.warmup_cosine(0.05, 3 * 43, 20, 3 * 43 - 20)
    model = training.build_mlp(64, 10, depth=1, width=16, seed=0)
    history = training.train(
        model, data, "sgd", lr=1.0, epochs=3, batch_size=32, lr_schedule=lr, progress=False
    )
    np.testing.assert_array_equal(history.lr, lr)


def test_largest_gap_to_torch_is_about_1e_13_relative():
    # the notebook's sentence: torch's recursion drifts from the closed form by ~1e-13 at most
    worst = max(
        np.abs(func(base, 1000, **kw) - parity.torch_schedule(name, base, 1000, **kw)).max() / base
        for name, func, kw in CASES
        for base in (0.1, 1.0, 3.0)
    )
    assert 1e-14 < worst < 2e-13


def test_the_new_closed_forms_by_hand():
    # 1/t: halved at t = tau, a third at 2 tau
    lr = B.inverse_time(0.3, 201, decay_steps=100)
    assert lr[0] == 0.3 and np.isclose(lr[100], 0.15) and np.isclose(lr[200], 0.1)
    # inverse sqrt: linear to the peak at n = W (t = W - 1), then sqrt(W / n)
    lr = B.inverse_sqrt(1.0, 400, warmup_steps=100)
    assert np.isclose(lr[0], 0.01) and lr.argmax() == 99 and lr[99] == 1.0
    assert np.isclose(lr[399], 0.5)  # n = 400 = 4 W
    # Vaswani et al.'s d_model^-1/2 min(n^-1/2, n W^-3/2) is base_lr = (d_model W)^-1/2 times it
    n = np.arange(1, 20_001)
    vaswani = 512**-0.5 * np.minimum(n**-0.5, n * 4000**-1.5)
    np.testing.assert_allclose(
        B.inverse_sqrt((512 * 4000) ** -0.5, 20_000, 4000), vaswani, rtol=1e-12
    )
    assert f"{(512 * 4000) ** -0.5:.1e}" == "7.0e-04"
    # SGDR: restarts at 0, 10, 30, 70 for T0 = 10, Tmult = 2
    lr = B.cosine_restarts(0.1, 80, t_0=10, t_mult=2)
    assert [int(t) for t in np.flatnonzero(lr == 0.1)] == [0, 10, 30, 70]
    assert np.isclose(lr[5], 0.05) and np.isclose(lr[20], 0.05) and np.isclose(lr[50], 0.05)
    # one-cycle: starts at base / 25, peaks at base, ends at base / 25e4
    lr = B.one_cycle(0.5, 1000)
    assert np.isclose(lr[0], 0.02) and np.isclose(lr.max(), 0.5) and np.isclose(lr[-1], 0.5 / 25e4)
    assert lr.argmax() in (298, 299)
    # triangular: low at 0, high at S, low at 2 S
    lr = B.cyclic(0.01, 101, max_lr=0.1, step_size_up=25)
    assert np.isclose(lr[0], 0.01) and np.isclose(lr[25], 0.1) and np.isclose(lr[50], 0.01)
    assert np.isclose(lr[100], 0.01) and np.isclose(lr[75], 0.1)
    # range test: geometric, the ends exact
    lr = B.lr_range(1e-4, 10.0, 86)
    assert np.isclose(lr[0], 1e-4) and np.isclose(lr[-1], 10.0)
    np.testing.assert_allclose(lr[1:] / lr[:-1], (1e5) ** (1 / 85), rtol=1e-12)


def test_torch_schedule_builds_no_torch_optim_optimizer():
    import subprocess
    import sys

    code = (
        "import sys; from course_utils.chapters.ch06_schedules import parity; "
        "parity.torch_schedule('one_cycle', 0.1, 50); "
        "parity.torch_schedule('cosine', 0.1, 50, t_max=50); "
        "print('torch._dynamo' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"  # torch.optim's optimisers import it (~1.7 s)
