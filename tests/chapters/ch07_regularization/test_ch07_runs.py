"""Chapter 07: every number the notebook prints or its text states, beyond
tests/test_regularization.py (which asserts the Monte-Carlo, torch-scaling, network-table,
stochastic-depth and expectation-gap claims).

The assertions are on the package's functions, not on the notebook (nbval compares the
notebook's outputs with the stored ones; these tests say why those outputs are right).
"""

import math
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from course_utils import regularization as R
from course_utils.chapters.ch07_regularization import runs, runs_explorer, runs_gap, runs_single

ROOT = Path(__file__).resolve().parents[3]
NOTEBOOK = ROOT / "notebooks" / "07_regularization.ipynb"
SEED = 0
PRINTED = dict(abs=5e-4)  # printed with 3 decimals
SETTINGS = {"none": {}, "dropout 0.5": {"dropout": 0.5}, "L2 0.03": {"l2": 0.03}}


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ---------------------------------------------------------------- 1. L1 vs L2
def test_l1_leaves_far_more_near_zero_weights_than_l2():
    trained = {
        kind: runs_single.penalty_weights(kind, 2e-3, epochs=5, seed=SEED) for kind in ("l1", "l2")
    }
    shares = {k: [runs.near_zero_share(w, t) for t in (1e-3, 1e-2)] for k, w in trained.items()}
    np.testing.assert_allclose(shares["l1"], [0.0625, 0.1131], atol=5e-4)  # printed 6.2%, 11.3%
    np.testing.assert_allclose(shares["l2"], [0.0046, 0.0393], atol=5e-4)  # printed 0.5%, 3.9%
    assert shares["l1"][0] > 10 * shares["l2"][0]  # "far more"


def test_l1_pull_per_step_bounds_how_far_weights_travel():
    """The text: the L1 pull moves a weight by lr * lam = 2e-4 per step, 0.022 in 110 steps."""
    from course_utils.data import load_digits

    steps = 5 * -(-len(load_digits(seed=SEED).x_train) // 64)
    assert steps == 110 and 0.1 * 2e-3 * steps == pytest.approx(0.022)


PENALTIES = {
    "none": {},
    "L1": {"l1": 2e-3},
    "L2": {"l2": 2e-3},
    "elastic": {"l1": 1e-3, "l2": 1e-3},
    "max-norm": {"max_norm": 1.5},
}


@pytest.fixture(scope="module")
def penalty_runs():
    return runs_gap.penalty_study(PENALTIES, epochs=5, seed=SEED)


def test_penalty_table_as_printed(penalty_runs):
    w = penalty_runs.weights
    shares = {k: [runs.near_zero_share(w[k], t) for t in (1e-3, 1e-2)] for k in w}
    printed = {  # percent with one decimal
        "none": [0.005, 0.038],
        "L1": [0.062, 0.113],
        "L2": [0.005, 0.039],
        "elastic": [0.031, 0.077],
        "max-norm": [0.005, 0.041],
    }
    for name, values in printed.items():
        np.testing.assert_allclose(shares[name], values, atol=5e-4 + 1e-9, err_msg=name)
    longest = {k: max(np.linalg.norm(m, axis=1).max() for m in w[k]) for k in w}
    assert longest["none"] == pytest.approx(1.98, abs=5e-3)
    assert longest["max-norm"] == pytest.approx(1.5, abs=1e-5)  # the bound, reached
    val = {k: round(v, 2) for k, v in penalty_runs.val_acc.items()}
    assert val == {"none": 0.82, "L1": 0.80, "L2": 0.81, "elastic": 0.80, "max-norm": 0.79}


def test_l2_at_this_strength_is_effectively_no_penalty_and_l1_is_not(penalty_runs):
    w = penalty_runs.weights
    share = {k: runs.near_zero_share(w[k], 1e-3) for k in w}
    assert abs(share["L2"] - share["none"]) < 0.002  # 0.5% and 0.5%
    assert share["L1"] > 10 * share["none"]  # "twelve times as many"
    assert share["L2"] < share["elastic"] < share["L1"]  # the elastic net lands between
    assert (1 - 0.1 * 2e-3) ** 110 == pytest.approx(0.978, abs=5e-4)  # the 2% shrink
    # every unit's incoming vector within the bound; without it the longest is ~2
    for m in w["max-norm"]:
        assert np.linalg.norm(m, axis=1).max() <= 1.5 + 1e-5
    acc = penalty_runs.val_acc
    assert acc["none"] - acc["max-norm"] > 0.02  # "costs 3 points"
    assert max(abs(acc[k] - acc["none"]) for k in ("L1", "L2", "elastic")) < 0.025  # "at most 2"


@pytest.mark.parametrize("kind", ["l1", "l2"])
def test_penalty_study_makes_the_steps_train_makes(penalty_runs, kind):
    """The side-by-side runs equal course_utils.training.train's, run by run."""
    alone = runs_single.penalty_weights(kind, 2e-3, epochs=5, seed=SEED)
    for ours, theirs in zip(penalty_runs.weights[kind.upper()], alone):
        np.testing.assert_allclose(ours, theirs, atol=1e-5)


def test_penalty_study_runs_on_any_feature_count():
    """The CIFAR-10 switch: 3,072 features work as 64 do (synthetic stand-in, no download)."""
    from course_utils.data import Dataset

    rng = np.random.default_rng(0)
    data = Dataset(
        rng.random((60, 3072)),
        rng.integers(0, 10, 60),
        rng.random((20, 3072)),
        rng.integers(0, 10, 20),
        tuple("0123456789"),
        "cifar10",
    )
    study = runs_gap.penalty_study(
        {"none": {}, "L1": {"l1": 1e-3}}, data=data, epochs=1, batch_size=20
    )
    assert study.weights["none"][0].shape == (64, 3072)
    gap = runs_gap.gap_over_seeds(
        {0.2: {"none": {}}}, seeds=(0, 1), n_train=30, epochs=1, batch_size=10, data=data
    )
    assert gap.settings["n_val"] == 20


# ---------------------------------------------------------------- 4. the gap
SWEEP = (0.1, 0.3, 0.5, 0.7)
EXPERIMENTS = {
    0.2: {
        "none": {},
        **{f"dropout {p}": {"dropout": p} for p in SWEEP},
        "L2 0.03": {"l2": 0.03},
    },
    0.0: {"none": {}, "dropout 0.5": {"dropout": 0.5}},
}
MEAN = dict(abs=5e-3 + 1e-12)  # printed as a mean with 2 decimals (0.905 shows as 0.91)


@pytest.fixture(scope="module")
def study():
    return runs_gap.gap_over_seeds(EXPERIMENTS, seeds=range(8), val_every=5, track=["none"])


def _mean(study, noise, name, what):
    return getattr(study, what)[study.rows.index((noise, name))].mean()


def test_gap_table_as_printed(study):
    """The means over 8 seeds the notebook prints (mean ± SD, two decimals)."""
    printed = {
        (0.2, "none"): (0.91, 0.69, 0.23),
        (0.2, "dropout 0.1"): (0.89, 0.73, 0.15),
        (0.2, "dropout 0.3"): (0.84, 0.76, 0.08),
        (0.2, "dropout 0.5"): (0.80, 0.74, 0.06),
        (0.2, "dropout 0.7"): (0.71, 0.64, 0.07),
        (0.2, "L2 0.03"): (0.75, 0.70, 0.06),
        (0.0, "none"): (1.00, 0.88, 0.12),
        (0.0, "dropout 0.5"): (0.98, 0.84, 0.14),
    }
    assert study.rows == tuple(printed) and study.seeds == tuple(range(8))
    for (noise, name), (train_acc, val_acc, gap) in printed.items():
        assert _mean(study, noise, name, "train_acc") == pytest.approx(train_acc, **MEAN)
        assert _mean(study, noise, name, "val_acc") == pytest.approx(val_acc, **MEAN)
        assert _mean(study, noise, name, "gap") == pytest.approx(gap, **MEAN)
    assert "none         0.91 ± 0.03  0.69 ± 0.03  0.23 ± 0.04" in study.table(0.2)


def test_with_wrong_labels_dropout_and_l2_shrink_the_gap_in_every_seed(study):
    for name in ("dropout 0.5", "L2 0.03"):
        shrink = -study.fewer(0.2, name)  # the same seed, data, start and step
        assert np.all(shrink > 0.05), (name, shrink)  # printed: "in 8 of 8 seeds"
        assert shrink.mean() > 0.1
    for p in SWEEP:  # printed: every dropout strength shrinks the gap in 8 of 8 seeds
        assert np.all(study.fewer(0.2, f"dropout {p}") < 0), p
    none_train = _mean(study, 0.2, "none", "train_acc")
    assert none_train > 0.85  # most of the 20 wrong labels are memorised
    assert _mean(study, 0.2, "L2 0.03", "train_acc") < 0.8  # L2 no longer fits them
    assert study.fewer(0.2, "dropout 0.5", what="val_acc").mean() > 0.03  # "5 points"
    assert (study.fewer(0.2, "dropout 0.5", what="val_acc") > 0).sum() >= 6  # "7 of 8"


def test_the_dropout_sweep_rises_then_falls(study):
    """The sweep: validation accuracy peaks at a middle p; p = 0.7 underfits below none."""
    val = [_mean(study, 0.2, "none", "val_acc")] + [
        _mean(study, 0.2, f"dropout {p}", "val_acc") for p in SWEEP
    ]
    assert int(np.argmax(val)) in (2, 3)  # p = 0.3 (printed) or 0.5
    assert val[2] > val[0] + 0.04  # 0.69 -> 0.76
    assert val[4] < val[0] - 0.02  # 0.64 at p = 0.7, below no dropout
    assert (study.fewer(0.2, "dropout 0.7", what="val_acc") > 0).sum() <= 3  # "2 of 8"
    assert _mean(study, 0.2, "dropout 0.7", "train_acc") < 0.78  # fewer than the right 80%
    gaps = [_mean(study, 0.2, "none", "gap")] + [
        _mean(study, 0.2, f"dropout {p}", "gap") for p in SWEEP
    ]
    assert gaps[0] > gaps[1] > gaps[2] > max(gaps[3], gaps[4]) - 0.02


def test_early_stopping_beats_the_last_epoch_without_regularisation(study):
    assert study.history_epochs == tuple(range(5, 61, 5))
    np.testing.assert_array_equal(study.val_history[..., -1], study.val_acc)
    tracked = [i for i, (_, name) in enumerate(study.rows) if name == "none"]
    assert not np.isnan(study.val_history[tracked]).any()
    others = [i for i in range(len(study.rows)) if i not in tracked]
    assert np.isnan(study.val_history[others][..., :-1]).all()
    with pytest.raises(ValueError, match="was not tracked"):
        study.best_epoch(0.2, "dropout 0.5")
    epoch, best = study.best_epoch(0.2, "none")
    assert (epoch, round(best, 2)) == (35, 0.74)  # printed
    assert best > _mean(study, 0.2, "none", "val_acc") + 0.03  # 0.74 vs 0.69 at epoch 60
    # "as good as dropout at p = 0.5 (0.74), below p = 0.3 (0.76)"
    assert abs(best - _mean(study, 0.2, "dropout 0.5", "val_acc")) < 0.01
    assert best < _mean(study, 0.2, "dropout 0.3", "val_acc")


def test_no_seed_validates_on_digits_it_trains_on():
    """The split is fixed: seed s draws its 100 digits from the training part only."""
    val = {row.tobytes() for row in runs_gap.small_digits(100, 0.2, 0).x_val}
    for seed in range(8):
        small = runs_gap.small_digits(100, 0.2, seed)
        assert not any(row.tobytes() in val for row in small.x_train), seed


def test_with_correct_labels_dropout_does_not_shrink_the_gap(study):
    """The nuance the notebook states: on 100 clean digits dropout does not help here."""
    assert study.fewer(0.0, "dropout 0.5").mean() > 0  # 0.12 -> 0.14
    assert study.fewer(0.0, "dropout 0.5", what="val_acc").mean() < -0.02  # 0.88 -> 0.84


@pytest.mark.parametrize("seed", [0, 3])
def test_the_stacked_runs_are_the_runs_train_makes(seed):
    """gap_over_seeds trains all networks at once; each gets train()'s steps for it alone.

    Without dropout (whose masks come from another generator) the final accuracies agree
    within one validation digit: bmm and mm round differently in the last bit, and these
    smooth (GELU) runs do not amplify that.
    """
    settings = {"none": {}, "L2 0.03": {"l2": 0.03}}
    stacked = runs_gap.gap_over_seeds({0.2: settings}, seeds=(seed, 7), epochs=20)
    alone = runs_single.gap_runs(
        runs_gap.small_digits(100, label_noise=0.2, seed=seed),
        settings,
        width=64,
        depth=2,
        lr=0.2,
        epochs=20,
        batch_size=50,
        seed=seed,
        activation="gelu",
    )
    for row, run in enumerate(alone):
        assert stacked.train_acc[row, 0] == pytest.approx(run.train_acc, abs=0.011)
        assert stacked.val_acc[row, 0] == pytest.approx(run.val_acc, abs=1 / 450 + 1e-9)


def test_gap_over_seeds_checks_its_arguments():
    with pytest.raises(ValueError, match="unknown keys"):
        runs_gap.gap_over_seeds({0.2: {"x": {"dropuot": 0.5}}})
    with pytest.raises(ValueError, match="seeds must be different from each other"):
        runs_gap.gap_over_seeds({0.2: {"none": {}}}, seeds=(1, 1))
    with pytest.raises(ValueError, match="activation must be one of 'relu', 'gelu'"):
        runs_gap.gap_over_seeds({0.2: {"none": {}}}, activation="tanh")
    with pytest.raises(ValueError, match="experiments must be a dict"):
        runs_gap.gap_over_seeds({})
    with pytest.raises(ValueError, match="lr must be > 0 and <= 10; got 0.0"):
        runs_gap.gap_over_seeds({0.2: {"none": {}}}, lr=0)


def test_small_digits_replaces_exactly_the_share_of_labels():
    from course_utils.data import load_digits

    clean = runs_gap.small_digits(100, 0.0, seed=SEED)
    noisy = runs_gap.small_digits(100, 0.2, seed=SEED)
    np.testing.assert_array_equal(clean.x_train, noisy.x_train)
    assert (clean.y_train != noisy.y_train).sum() == 20
    assert len(noisy.x_val) == len(load_digits(seed=SEED).x_val) == 450
    with pytest.raises(ValueError, match="label_noise must be >= 0 and <= 1; got 1.5"):
        runs_gap.small_digits(100, 1.5)


def test_gap_runs_checks_settings():
    data = runs_gap.small_digits(20, seed=SEED)
    with pytest.raises(ValueError, match="unknown keys"):
        runs_single.gap_runs(data, {"x": {"dropuot": 0.5}})
    with pytest.raises(ValueError, match="unknown keys \\['max_norm'\\]"):
        runs_single.gap_runs(data, {"x": {"max_norm": 2.0}})


# ---------------------------------------------------------------- the notebook itself
def test_notebook_has_the_spine_and_its_title_carries_the_seed_title():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    # cells[0] holds the Binder / Colab badges (tools/launch_links.py); then the title
    assert nb.cells[1].source.startswith("# 07 · Regularisation · 七、正则")
    for heading in (
        "Learning goals",
        "## Explore",
        "## Exercise",
        "## Takeaways",
        "## References",
        "## Glossary",
    ):
        assert heading in text
    for citation in (
        "JMLR* 15, 2014",
        "ICML* 2013",
        "ECCV* 2016",
        "arXiv:1708.04552",
        "AAAI* 2020",
        "ICLR* 2019",
    ):
        assert citation in text
    # the browser test finds the explorer cell by how it starts; its text/plain is stable
    starts = [c for c in nb.cells if c.source.startswith("explorer = dropout_explorer(")]
    assert len(starts) == 1
    assert starts[0].outputs[0]["data"]["text/plain"] == (
        "DropoutExplorer(p=0.5, version=2, method='dropout', seed=0)"
    )


def test_sgd_weight_decay_is_l2_and_adam_weight_decay_is_not_adamw():
    gaps = runs.decay_equivalence(lam=0.01, lr=0.1, steps=20, seed=0)
    assert gaps["sgd: (a) vs (b)"] < 1e-12 and gaps["sgd: (a) vs (c)"] < 1e-12
    assert gaps["adam: (a) vs (b)"] < 1e-12
    assert gaps["adam: (a) vs (c)"] == pytest.approx(0.57, abs=5e-3)  # printed, 2 decimals


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_decay_equivalence_b_is_torch_optims_weight_decay(name):
    # (b) runs chapter 05's NumPy optimisers; torch.optim's own classes give the same weights
    x, y, w0 = runs.decay_problem(0)
    w = torch.tensor(w0, requires_grad=True)
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[name]
    opt = cls([w], lr=0.1, weight_decay=0.01)
    for _ in range(20):
        loss = torch.nn.functional.cross_entropy(torch.tensor(x) @ w, torch.tensor(y))
        opt.zero_grad()
        loss.backward()
        opt.step()
    from course_utils import optim

    ours = w0.copy()
    opt = {"sgd": optim.SGD, "adam": optim.Adam}[name]([ours], lr=0.1, weight_decay=0.01)
    for _ in range(20):
        opt.step([runs.softmax_loss_grad(x, y, ours)])
    np.testing.assert_allclose(ours, w.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_decoupled_decay_is_what_torch_adamw_does():
    # (c) of decay_equivalence, written out for Adam, against torch.optim.AdamW
    gen = torch.Generator().manual_seed(0)
    x, y = (
        torch.randn(32, 5, generator=gen, dtype=torch.float64),
        torch.randint(0, 3, (32,), generator=gen),
    )
    w0 = torch.randn(5, 3, generator=gen, dtype=torch.float64)
    runs = []
    for decoupled in (True, False):
        w = w0.clone().requires_grad_(True)
        opt = (
            torch.optim.Adam([w], lr=0.1)
            if decoupled
            else torch.optim.AdamW([w], lr=0.1, weight_decay=0.05)
        )
        for _ in range(10):
            loss = torch.nn.functional.cross_entropy(x @ w, y)
            opt.zero_grad()
            loss.backward()
            if decoupled:
                with torch.no_grad():
                    w.mul_(1 - 0.1 * 0.05)
            opt.step()
        runs.append(w.detach())
    torch.testing.assert_close(runs[0], runs[1], rtol=1e-12, atol=1e-12)


def test_near_zero_share_pools_all_arrays():
    assert (
        runs.near_zero_share([np.array([0.0, 1.0]), np.array([1e-4, 2.0, -5e-4, 3.0])], 1e-3) == 0.5
    )


@pytest.mark.parametrize("version", [1, 2])
@pytest.mark.parametrize("p", [0.2, 0.5])
def test_monte_carlo_mean_equals_test_output_within_one_percent(p, version):
    units = np.maximum(np.random.default_rng(1).standard_normal(64), 0.0)  # the notebook's
    result = runs.monte_carlo_dropout(units, p, version, n_masks=10_000, seed=0)
    assert result.rel_error < 0.01
    assert result.predicted_rel_error == pytest.approx(math.sqrt(p / ((1 - p) * 10_000)))
    expected = {0.2: 0.0038, 0.5: 0.0070}[p]  # printed, 2 decimals of a percentage
    assert result.rel_error == pytest.approx(expected, abs=5e-5)
    np.testing.assert_array_equal(result.test, R.dropout(units, p, False, version))


def test_monte_carlo_error_follows_its_standard_error_over_seeds():
    units = np.maximum(np.random.default_rng(1).standard_normal(64), 0.0)
    errors = [runs.monte_carlo_dropout(units, 0.5, 2, 10_000, s).rel_error for s in range(20)]
    assert 0.7 < np.mean(errors) / 0.01 < 1.3  # the predicted 1%: "< 1%" is not guaranteed
    errors = [runs.monte_carlo_dropout(units, 0.5, 2, 40_000, s).rel_error for s in range(5)]
    assert max(errors) < 0.01


# ------------------------------------------------------------------ the general pattern
def test_expectation_is_exact_for_linear_parts_and_biased_after_nonlinearities():
    gaps = runs.expectation_gaps(n_draws=10_000, p=0.5, seed=0)
    printed = {
        "dropout, linear layer": 0.0086,
        "DropConnect, linear layer": 0.0089,
        "dropout, then tanh": 0.2013,
        "stochastic depth, 1 block": 0.0004,
        "stochastic depth, 12 blocks": 0.1811,
    }
    for name, value in printed.items():
        assert gaps[name] == pytest.approx(value, abs=5e-5), name
    for name in ("dropout, linear layer", "DropConnect, linear layer", "stochastic depth, 1 block"):
        assert gaps[name] < 0.01
    for name in ("dropout, then tanh", "stochastic depth, 12 blocks"):
        assert gaps[name] > 0.1
    # noise shrinks with more draws, the bias does not
    more = runs.expectation_gaps(n_draws=40_000, p=0.5, seed=0)
    assert more["dropout, linear layer"] < 0.7 * gaps["dropout, linear layer"]
    assert more["dropout, then tanh"] == pytest.approx(gaps["dropout, then tanh"], rel=0.05)


# ------------------------------------------------------------------ the explorer's computation
@pytest.mark.parametrize("method", runs_explorer.METHODS)
@pytest.mark.parametrize("version", [1, 2])
def test_dropout_demo_matches_a_direct_computation(method, version):
    demo = runs_explorer.dropout_demo(0.4, version, method, seed=3, n_masks=500)
    scale = 1 / 0.6 if version == 2 else 1.0
    if method == "dropout":
        np.testing.assert_allclose(demo.train, (demo.a * demo.mask * scale) @ demo.W)
        assert demo.mask.shape == demo.a.shape
    else:
        np.testing.assert_allclose(demo.train, demo.a @ (demo.W * demo.mask * scale))
        assert demo.mask.shape == demo.W.shape
    np.testing.assert_allclose(demo.test, demo.a @ demo.W * (0.6 if version == 1 else 1.0))
    assert demo.rel_error < 0.1
    assert demo.kept == pytest.approx(demo.mask.mean())


def test_dropout_demo_checks_arguments():
    with pytest.raises(ValueError, match="method must be one of 'dropout', 'DropConnect'; got 'x'"):
        runs_explorer.dropout_demo(method="x")
    with pytest.raises(ValueError, match="seed must be an integer between 0 and 4294967295"):
        runs_explorer.dropout_demo(seed=-1)


# ---------------------------------------------------------------- 2.1 mask sets
UNITS = np.maximum(np.random.default_rng(SEED + 1).standard_normal(64), 0.0)  # the notebook's


def test_mask_set_errors_as_printed_under_one_percent_is_not_the_rule_at_half():
    low = runs.mask_set_errors(UNITS, 0.2, n_masks=10_000, n_sets=300, seed=SEED)
    half = runs.mask_set_errors(UNITS, 0.5, n_masks=10_000, n_sets=300, seed=SEED)
    assert low.shape == half.shape == (300,)
    assert round(low.mean(), 4) == 0.0051 and (low > 0.01).mean() == 0  # printed 0.51%, 0%
    assert round(half.mean(), 4) == 0.0095 and round((half > 0.01).mean(), 2) == 0.41
    assert round(np.quantile(low, 0.95), 4) == 0.0071
    assert round(np.quantile(half, 0.95), 4) == 0.0133
    # the property behind the numbers: RMS error = the standard error, within 10%
    assert np.sqrt((half**2).mean()) == pytest.approx(0.01, rel=0.1)
    assert 0.25 < (half > 0.01).mean() < 0.55  # a sizable share above 1%, not a rare seed


def test_mask_set_errors_has_the_distribution_of_real_mask_sets():
    """Binomial counts stand in for the masks: compare with monte_carlo_dropout's own draws."""
    counts = runs.mask_set_errors(UNITS, 0.5, n_masks=200, n_sets=400, seed=1)
    masks = np.array(
        [runs.monte_carlo_dropout(UNITS, 0.5, 2, 200, seed=s).rel_error for s in range(400)]
    )
    assert counts.mean() == pytest.approx(masks.mean(), rel=0.05)
    assert counts.std() == pytest.approx(masks.std(), rel=0.15)
    assert counts.mean() == pytest.approx(np.sqrt(0.5 / (0.5 * 200)), rel=0.08)


def test_mask_set_errors_checks_its_arguments():
    with pytest.raises(ValueError, match="x must not be all zero"):
        runs.mask_set_errors(np.zeros(4), 0.5)
    with pytest.raises(ValueError, match="n_sets"):
        runs.mask_set_errors(UNITS, 0.5, n_sets=0)


# ---------------------------------------------------------------- 2.4 noise injection
def test_noise_injection_as_printed_and_its_formulas_hold():
    noise = runs.noise_injection(p=0.5, sigma=0.5, n_draws=2000, seed=SEED)
    printed = {  # extra loss, formula, |corr|, |corr| formula: 3 decimals
        "Gaussian noise": (0.239, 0.239, 0.128, 0.126),
        "dropout": (0.428, 0.429, 0.294, 0.295),
        "DropConnect": (0.429, 0.429, 0.018, 0.000),
    }
    for name, values in printed.items():
        got = [noise[name][k] for k in ("extra loss", "formula", "|corr|", "|corr| formula")]
        np.testing.assert_allclose(got, values, atol=5e-4 + 1e-12, err_msg=name)
    for v in noise.values():  # "agree to within 0.5%"
        assert v["extra loss"] == pytest.approx(v["formula"], rel=0.005)
    assert noise["dropout"]["formula"] == noise["DropConnect"]["formula"]  # same per output
    assert noise["dropout"]["formula"] > 1.7 * noise["Gaussian noise"]["formula"]  # "about twice"
    assert noise["DropConnect"]["|corr|"] < 2 / np.sqrt(2000)  # Monte-Carlo noise only


def test_dropout_penalty_is_the_variance_dropout_adds():
    rng = np.random.default_rng(5)
    a, W = np.maximum(rng.standard_normal((3, 6)), 0), rng.standard_normal((6, 2))
    draws = np.stack([R.dropout(a, 0.3, True, 2, rng) @ W for _ in range(40_000)])
    np.testing.assert_allclose(draws.var(axis=0), R.dropout_penalty(a, W, 0.3), rtol=0.05)
    np.testing.assert_allclose(draws.mean(axis=0), a @ W, atol=0.02)
    with pytest.raises(ValueError, match="a must be"):
        R.dropout_penalty(a, W.T, 0.3)


# ---------------------------------------------------------------- global torch state
def test_notebook_leaves_torch_global_state_alone():
    """No cell sets threads, dtype or the seed except inside torch_state."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code" or "BEGIN HIDDEN TESTS" in cell.source:
            continue
        for call in ("set_num_threads", "set_default_dtype", "torch.manual_seed", "torch.seed("):
            assert call not in cell.source, (call, cell.source[:80])
