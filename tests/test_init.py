"""course_utils.init, the lesson: the stds and samplers, torch.nn.init parity, bad input.

The chapter's experiments (the lecture's network) are tested in tests/chapters/ch03_initialization/.
"""

import math

import numpy as np
import pytest
import torch

from course_utils import init


@pytest.mark.parametrize("fan_in, fan_out", [(4096, 4096), (300, 100), (64, 1000)])
def test_init_std_formulas(fan_in, fan_out):
    assert init.init_std("xavier", fan_in, fan_out) == pytest.approx(
        math.sqrt(2 / (fan_in + fan_out))
    )
    assert init.init_std("kaiming", fan_in, fan_out) == pytest.approx(math.sqrt(2 / fan_in))
    assert init.init_std("normal", fan_in, fan_out, std=0.01) == 0.01  # passed through: exact
    assert init.init_std("xavier", fan_in, fan_out, gain=5 / 3) == pytest.approx(
        5 / 3 * math.sqrt(2 / (fan_in + fan_out))
    )


TORCH_INIT = {
    ("xavier", "normal"): lambda w, gain: torch.nn.init.xavier_normal_(w, gain=gain),
    ("xavier", "uniform"): lambda w, gain: torch.nn.init.xavier_uniform_(w, gain=gain),
    ("kaiming", "normal"): lambda w, gain: torch.nn.init.kaiming_normal_(
        w, a=math.sqrt(max(2 / gain**2 - 1, 0)), mode="fan_in", nonlinearity="leaky_relu"
    ),
    ("kaiming", "uniform"): lambda w, gain: torch.nn.init.kaiming_uniform_(
        w, a=math.sqrt(max(2 / gain**2 - 1, 0)), mode="fan_in", nonlinearity="leaky_relu"
    ),
}


@pytest.mark.parametrize("scheme, distribution", list(TORCH_INIT))
@pytest.mark.parametrize("fan_in, fan_out, gain", [(1500, 700, None), (800, 2000, 1.2)])
def test_sampler_matches_torch_nn_init(scheme, distribution, fan_in, fan_out, gain):
    gain_used = init.default_gain(scheme) if gain is None else gain
    ours = init.sample_weights(
        scheme, fan_in, fan_out, distribution=distribution, gain=gain, seed=0
    )
    torch.manual_seed(0)
    theirs = torch.empty(fan_out, fan_in, dtype=torch.float64)  # torch: (out, in)
    TORCH_INIT[scheme, distribution](theirs, gain_used)
    theirs = theirs.numpy()
    sigma = init.init_std(scheme, fan_in, fan_out, gain=gain)
    assert ours.shape == (fan_in, fan_out)
    # ~1e6 samples: the empirical std is within 0.5% of sigma for both
    assert ours.std() == pytest.approx(sigma, rel=5e-3)
    assert theirs.std() == pytest.approx(sigma, rel=5e-3)
    assert ours.std() == pytest.approx(theirs.std(), rel=7e-3)
    if distribution == "uniform":
        bound = math.sqrt(3) * sigma
        assert np.abs(ours).max() <= bound and np.abs(theirs).max() <= bound
        assert np.abs(ours).max() == pytest.approx(bound, rel=1e-3)
        assert np.abs(theirs).max() == pytest.approx(bound, rel=1e-3)


def test_default_gains_are_torchs():
    assert init.default_gain("xavier") == 1.0  # a constant: exact
    assert init.default_gain("kaiming") == pytest.approx(torch.nn.init.calculate_gain("relu"))


def test_sample_weights_refuses_huge_matrices():
    with pytest.raises(ValueError, match="would have 10000000000 entries.*at most 67108864"):
        init.sample_weights("xavier", 10**5, 10**5)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: init.init_std("normal", 10, 10), "scheme 'normal' needs an explicit std"),
        (lambda: init.init_std("xavier", 0, 10), "fan_in must be between 1 and 100000000; got 0"),
        (
            lambda: init.init_std("kaiming", 10, -3),
            "fan_out must be between 1 and 100000000; got -3",
        ),
        (lambda: init.init_std("kaiming", 10, 10, gain=0), "gain must be > 0; got 0"),
        (lambda: init.init_std("lecun", 10, 10), "scheme must be one of"),
        (
            lambda: init.sample_weights("xavier", 10, 10, distribution="cauchy"),
            "distribution must be one of 'normal', 'uniform'; got 'cauchy'",
        ),
        (
            lambda: init.sample_weights("normal", 10, 10, std=0.1, distribution="uniform"),
            "scheme 'normal' samples from a normal distribution only",
        ),
        (lambda: init.default_gain("normal"), "scheme 'normal' has no gain"),
    ],
)
def test_helpers_reject_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_truncated_normal_std_matches_scipy_and_torch():
    from scipy.stats import truncnorm

    for a, b in [(-2, 2), (-3, 3), (-1, 1), (0, 10), (-0.5, 2.5)]:
        assert init.truncated_normal_std(a, b) == pytest.approx(truncnorm(a, b).std(), rel=1e-9)
    torch = pytest.importorskip("torch")
    w = torch.empty(1000, 1000, dtype=torch.float64)
    torch.manual_seed(0)
    torch.nn.init.trunc_normal_(w, std=1.0, a=-2.0, b=2.0)
    assert w.std().item() == pytest.approx(init.truncated_normal_std(-2, 2), rel=0.01)


def test_truncated_normal_std_rejects_bad_bounds():
    with pytest.raises(ValueError, match="a must be smaller than b"):
        init.truncated_normal_std(1.0, 1.0)
    with pytest.raises(ValueError, match="almost no probability"):
        init.truncated_normal_std(9.0, 10.0)
