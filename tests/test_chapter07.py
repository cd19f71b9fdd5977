"""Chapter 07: every number the notebook prints or its text states, beyond
tests/test_regularization.py (which asserts the Monte-Carlo, torch-scaling, network-table,
stochastic-depth and expectation-gap claims).

The assertions are on the package's functions, not on the notebook (nbval compares the
notebook's outputs with the stored ones; these tests say why those outputs are right).
"""

from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch

from course_utils import regularization as R

ROOT = Path(__file__).resolve().parent.parent
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
    trained = {kind: R.penalty_weights(kind, 2e-3, epochs=5, seed=SEED) for kind in ("l1", "l2")}
    shares = {k: [R.near_zero_share(w, t) for t in (1e-3, 1e-2)] for k, w in trained.items()}
    np.testing.assert_allclose(shares["l1"], [0.0625, 0.1131], atol=5e-4)  # printed 6.2%, 11.3%
    np.testing.assert_allclose(shares["l2"], [0.0046, 0.0393], atol=5e-4)  # printed 0.5%, 3.9%
    assert shares["l1"][0] > 10 * shares["l2"][0]  # "far more"


def test_l1_pull_per_step_bounds_how_far_weights_travel():
    """The text: the L1 pull moves a weight by lr * lam = 2e-4 per step, 0.022 in 110 steps."""
    from course_utils.data import load_digits

    steps = 5 * -(-len(load_digits(seed=SEED).x_train) // 64)
    assert steps == 110 and 0.1 * 2e-3 * steps == pytest.approx(0.022)


# ---------------------------------------------------------------- 4. the gap
EXPERIMENTS = {0.2: SETTINGS, 0.0: {"none": {}, "dropout 0.5": {"dropout": 0.5}}}
MEAN = dict(abs=5e-3 + 1e-12)  # printed as a mean with 2 decimals (0.905 shows as 0.91)


@pytest.fixture(scope="module")
def study():
    return R.gap_over_seeds(EXPERIMENTS, seeds=range(8))


def _mean(study, noise, name, what):
    return getattr(study, what)[study.rows.index((noise, name))].mean()


def test_gap_table_as_printed(study):
    """The means over 8 seeds the notebook prints (mean ± SD, two decimals)."""
    printed = {(0.2, "none"): (0.91, 0.70, 0.20), (0.2, "dropout 0.5"): (0.81, 0.76, 0.06),
               (0.2, "L2 0.03"): (0.77, 0.71, 0.06),
               (0.0, "none"): (1.00, 0.88, 0.12), (0.0, "dropout 0.5"): (0.98, 0.85, 0.13)}
    assert study.rows == tuple(printed) and study.seeds == tuple(range(8))
    for (noise, name), (train_acc, val_acc, gap) in printed.items():
        assert _mean(study, noise, name, "train_acc") == pytest.approx(train_acc, **MEAN)
        assert _mean(study, noise, name, "val_acc") == pytest.approx(val_acc, **MEAN)
        assert _mean(study, noise, name, "gap") == pytest.approx(gap, **MEAN)
    assert "none         0.91 ± 0.03  0.70 ± 0.03  0.20 ± 0.04" in study.table(0.2)


def test_with_wrong_labels_dropout_and_l2_shrink_the_gap_in_every_seed(study):
    for name in ("dropout 0.5", "L2 0.03"):
        shrink = -study.fewer(0.2, name)  # the same seed, data, start and step
        assert np.all(shrink > 0.05), (name, shrink)  # printed: "in 8 of 8 seeds"
        assert shrink.mean() > 0.1
    none_train = _mean(study, 0.2, "none", "train_acc")
    assert none_train > 0.85  # most of the 20 wrong labels are memorised
    assert _mean(study, 0.2, "L2 0.03", "train_acc") < 0.8  # L2 no longer fits them
    assert study.fewer(0.2, "dropout 0.5", what="val_acc").mean() > 0.04  # "6 points"


def test_with_correct_labels_dropout_does_not_shrink_the_gap(study):
    """The nuance the notebook states: on 100 clean digits dropout does not help here."""
    assert study.fewer(0.0, "dropout 0.5").mean() > 0  # 0.12 -> 0.13
    assert study.fewer(0.0, "dropout 0.5", what="val_acc").mean() < -0.02  # 0.88 -> 0.85


@pytest.mark.parametrize("seed", [0, 3])
def test_the_stacked_runs_are_the_runs_train_makes(seed):
    """gap_over_seeds trains all networks at once; each gets train()'s steps for it alone.

    Without dropout (whose masks come from another generator) the final accuracies agree
    within one validation digit: bmm and mm round differently in the last bit, and these
    smooth (GELU) runs do not amplify that.
    """
    settings = {"none": {}, "L2 0.03": {"l2": 0.03}}
    stacked = R.gap_over_seeds({0.2: settings}, seeds=(seed, 7), epochs=20)
    alone = R.gap_runs(R.small_digits(100, label_noise=0.2, seed=seed), settings, width=64,
                       depth=2, lr=0.2, epochs=20, batch_size=50, seed=seed, activation="gelu")
    for row, run in enumerate(alone):
        assert stacked.train_acc[row, 0] == pytest.approx(run.train_acc, abs=0.011)
        assert stacked.val_acc[row, 0] == pytest.approx(run.val_acc, abs=1 / 450 + 1e-9)


def test_gap_over_seeds_checks_its_arguments():
    with pytest.raises(ValueError, match="unknown keys"):
        R.gap_over_seeds({0.2: {"x": {"dropuot": 0.5}}})
    with pytest.raises(ValueError, match="seeds must hold 1 to 32 different seeds"):
        R.gap_over_seeds({0.2: {"none": {}}}, seeds=(1, 1))
    with pytest.raises(ValueError, match="activation must be 'relu' or 'gelu'"):
        R.gap_over_seeds({0.2: {"none": {}}}, activation="tanh")
    with pytest.raises(ValueError, match="experiments must be a dict"):
        R.gap_over_seeds({})
    with pytest.raises(ValueError, match=r"lr must be a number in \(0, 10\]"):
        R.gap_over_seeds({0.2: {"none": {}}}, lr=0)


def test_small_digits_replaces_exactly_the_share_of_labels():
    from course_utils.data import load_digits

    clean = R.small_digits(100, 0.0, seed=SEED)
    noisy = R.small_digits(100, 0.2, seed=SEED)
    np.testing.assert_array_equal(clean.x_train, noisy.x_train)
    assert (clean.y_train != noisy.y_train).sum() == 20
    assert len(noisy.x_val) == len(load_digits(seed=SEED).x_val) == 450
    with pytest.raises(ValueError, match=r"label_noise must be a share in \[0, 1\]; got 1.5"):
        R.small_digits(100, 1.5)


def test_gap_runs_checks_settings():
    data = R.small_digits(20, seed=SEED)
    with pytest.raises(ValueError, match="unknown keys"):
        R.gap_runs(data, {"x": {"dropuot": 0.5}})
    with pytest.raises(ValueError, match="l1 or l2, not both"):
        R.gap_runs(data, {"x": {"l1": 0.1, "l2": 0.1}})


# ---------------------------------------------------------------- the notebook itself
def test_notebook_has_the_spine_and_its_title_carries_the_seed_title():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    # cells[0] holds the Binder / Colab badges (tools/launch_links.py); then the title
    assert nb.cells[1].source.startswith("# 07 · Regularisation · 七、正则")
    for heading in ("Learning goals", "## Explore", "## Exercise", "## Takeaways",
                    "## References", "## Glossary"):
        assert heading in text
    for citation in ("JMLR* 15, 2014", "ICML* 2013", "ECCV* 2016", "arXiv:1708.04552",
                     "AAAI* 2020", "ICLR* 2019"):
        assert citation in text
    # the browser test finds the explorer cell by how it starts; its text/plain is stable
    starts = [c for c in nb.cells if c.source.startswith("explorer = dropout_explorer(")]
    assert len(starts) == 1
    assert starts[0].outputs[0]["data"]["text/plain"] == (
        "DropoutExplorer(p=0.5, version=2, method='dropout', seed=0)")
