"""Chapter 04, issue 18's additions: every number the notebook prints or its text states
about BN's noise, learning rates and weight decay, convolutions and folding."""

import numpy as np
import pytest
import torch

from course_utils.chapters.ch04_batchnorm import figures, runs_batch_size, runs_conv, runs_lr
from course_utils.data import load_digits

SEED = 0


@pytest.fixture(scope="module")
def digits():
    return load_digits(seed=SEED)


@pytest.fixture(scope="module")
def lrc(digits):
    return runs_lr.lr_comparison(
        lrs=(0.3, 1.0, 3.0, 10.0), seeds=(0, 1, 2), decays=(0.01, 0.03), decay_lr=1.0, data=digits
    )


# ---------------------------------------------------------------- the regulariser
def test_batch_noise_as_printed_and_its_shape(digits):
    n = runs_batch_size.batch_noise(digits.x_train, (4, 16, 64), probes=8, n_batches=200, seed=SEED)
    np.testing.assert_allclose(n.noise, [0.426, 0.236, 0.128], atol=5e-4)
    np.testing.assert_allclose(n.bias, [0.211, 0.079, 0.033], atol=5e-4)
    # "the noise shrinks like 1/sqrt(N)": about halves per 4x
    np.testing.assert_allclose(n.noise[:-1] / n.noise[1:], 2.0, rtol=0.15)
    # "a bias that shrinks faster than the noise but is not 0"
    assert np.all(np.diff(n.bias / n.noise) < 0) and np.all(n.bias > 0.02)
    assert "batch size" in n.table()


def test_batch_noise_other_seeds_agree(digits):
    for seed in (1, 2):
        n = runs_batch_size.batch_noise(digits.x_train, (4, 16, 64), n_batches=200, seed=seed)
        np.testing.assert_allclose(n.noise, [0.426, 0.236, 0.128], atol=0.01)
        np.testing.assert_allclose(n.bias, [0.211, 0.079, 0.033], atol=0.01)


def test_batch_noise_bias_vanishes_for_a_linear_statistic():
    # with the probe's own value subtracted by a mean over batches, no variance: the noise
    # of a feature is 0 when the data are constant apart from the probe's row
    x = np.zeros((50, 2))
    x[:, 0] = np.arange(50.0)
    x[:, 1] = np.arange(50.0) ** 2
    n = runs_batch_size.batch_noise(x, (2, 8), probes=3, n_batches=50)
    assert np.all(n.noise > 0) and np.all(np.isfinite(n.bias))


# ---------------------------------------------------------------- learning rates, weight decay
def test_train_stack_takes_torch_sgds_steps(digits):
    """Network s of the stack, step by step, equals an nn.Sequential trained by torch.optim.SGD
    (with weight decay) on the minibatches train() would visit for its seed."""
    from course_utils.stacked import minibatch_orders

    for bn in (False, True):
        runs_ = runs_lr.train_stack(
            [0.5, 0.2], [0.0, 0.01], [3, 4], bn, epochs=1, batch_size=256, data=digits
        )
        for s in range(2):
            model = runs_lr.stack_to_torch(runs_, s)
            opt = torch.optim.SGD(
                model.parameters(), lr=runs_.lrs[s], weight_decay=runs_.weight_decays[s]
            )
            x = torch.tensor(digits.x_train, dtype=torch.float32)
            y = torch.tensor(digits.y_train)
            order = next(iter(minibatch_orders([runs_.seeds[s]], len(x), 1)))[0]
            col_sq = []
            linears = [m for m in model if isinstance(m, torch.nn.Linear)][:-1]
            for start in range(0, len(x), 256):
                col_sq.append([float((m.weight.detach() ** 2).sum(1).mean()) for m in linears])
                idx = order[start : start + 256]
                model.train()
                loss = torch.nn.functional.cross_entropy(model(x[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
            col_sq.append([float((m.weight.detach() ** 2).sum(1).mean()) for m in linears])
            np.testing.assert_allclose(runs_.col_sq[:, s], col_sq, rtol=2e-5)


def test_lr_table_as_printed(lrc):
    table = lrc.table()
    lines = {line.split()[0]: line.split()[1:] for line in table.splitlines()[2:]}
    # no BN: train / fail; with BN: train / fail; |w| growth in 3 steps
    assert lines["0.3"] == ["0", "of", "3", "0", "of", "3", "3", "of", "3", "0", "of", "3", "1.0"]
    assert lines["1"] == ["0", "of", "3", "3", "of", "3", "3", "of", "3", "0", "of", "3", "1.0"]
    assert lines["3"] == ["0", "of", "3", "3", "of", "3", "3", "of", "3", "0", "of", "3", "1.0"]
    assert lines["10"] == ["0", "of", "3", "3", "of", "3", "0", "of", "3", "3", "of", "3", "3.6"]
    assert lrc.median_accuracy(0.3, False) == pytest.approx(0.63, abs=0.005)
    assert lrc.median_accuracy(1.0, True) == pytest.approx(0.97, abs=0.005)


def test_lr_claims_with_margins(lrc):
    plain, bn = lrc.accuracies(False), np.nan_to_num(lrc.accuracies(True))
    # "without BN no run reaches 0.9"; with BN every run at 0.3, 1 and 3 trains
    assert np.all(np.nan_to_num(plain) < 0.85) and np.all(bn[:3] > 0.92)
    # "from 1 on every plain run fails"; BN at 10 fails too (the output layer)
    assert np.all(np.nan_to_num(plain[1:]) < 0.25) and np.all(bn[3] < 0.25)
    growth = lrc.weight_growth()
    assert 1.02 < np.median(growth[2]) < 1.06  # "grew by 4% in the first 3 steps"
    assert 3.3 < np.median(growth[3]) < 3.9  # "by a factor of 3.6"
    eff = lrc.effective_lr_curves()[0][2]  # lr 10, no decay
    assert eff[0] > 4.9 and eff[-1] < 0.5  # "falls from 5 to below 0.5"
    assert 10 < eff[0] / eff[3] < 16  # "cut their effective rate by about 13"


def test_gradients_are_orthogonal_to_the_weights(lrc):
    no_decay = lrc.bn.weight_decays == 0
    assert lrc.bn.max_cos[no_decay].max() < 5e-4
    assert lrc.plain.max_cos.max() == 0.0  # not measured without BN (not scale-invariant)


def test_decay_table_as_printed(lrc):
    curves = {(lr, wd): c for lr, wd, c in lrc.effective_lr_curves()}
    np.testing.assert_allclose([curves[(1.0, wd)][0] for wd in (0.0, 0.01, 0.03)], 0.50, atol=0.005)
    np.testing.assert_allclose(
        [curves[(1.0, wd)][-1] for wd in (0.0, 0.01, 0.03)], [0.49, 0.94, 3.29], atol=0.005
    )
    # "doubles in 33 steps, close to (1 - 0.01)^-66 = 1.94"
    ratio = curves[(1.0, 0.01)][-1] / curves[(1.0, 0.01)][0]
    assert ratio == pytest.approx(0.99**-66, rel=0.05)
    table = lrc.decay_table()
    assert "lr 10" not in table
    accs = [float(line.split()[-1]) for line in table.splitlines()[2:]]
    assert accs == [0.97, 0.98, 0.86]


def test_effective_lr_figure(lrc):
    fig = figures.effective_lr_figure(lrc.effective_lr_curves())
    (ax,) = fig.get_axes()
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    lo, hi = ax.get_ylim()
    for line in ax.lines:
        y = line.get_ydata()
        if len(y) > 2:
            assert lo < y.min() and y.max() < hi
    assert len(ax.get_legend().get_texts()) == 4
    with pytest.raises(ValueError, match="> 0"):
        figures.effective_lr_figure([(1.0, 0.0, np.array([1.0, 0.0]))])


def test_lr_functions_check_their_arguments(digits):
    with pytest.raises(ValueError, match="decay_lr"):
        runs_lr.lr_comparison(lrs=(0.1,), seeds=(0,), decay_lr=1.0, data=digits)
    with pytest.raises(ValueError, match="weight_decays"):
        runs_lr.train_stack([0.1, 0.2], [0.0], [0, 1], True, data=digits)
    with pytest.raises(ValueError, match="data"):
        runs_lr.train_stack([0.1], [0.0], [0], True, data=object())


# ---------------------------------------------------------------- convolutions and folding
def test_conv_check_as_printed(digits):
    c = runs_conv.conv_batchnorm_check(channels=8, batch_size=32, steps=3, seed=SEED, data=digits)
    assert c.input_shape == (32, 1, 8, 8) and c.feature_shape == (32, 8, 6, 6)
    assert c.stats_shape == (8,) and c.values_per_channel == 32 * 6 * 6 == 1152
    assert set(c.worst) == {"train output", "running mean", "running var", "dx", "dgamma"}
    assert all(v < 1e-10 for v in c.worst.values())
    assert c.folded_vs_pair < 1e-12 and c.folded_vs_torch_fuse < 1e-12


def test_conv_check_refuses_too_few_images():
    class Tiny:
        x_train = np.zeros((4, 64))

    with pytest.raises(ValueError, match="batch_size"):
        runs_conv.conv_batchnorm_check(batch_size=8, data=Tiny())
