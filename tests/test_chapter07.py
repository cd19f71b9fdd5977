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
@pytest.fixture(scope="module")
def gap_results():
    return {0.2: R.gap_runs(R.small_digits(100, label_noise=0.2, seed=SEED), SETTINGS, seed=SEED),
            0.0: R.gap_runs(R.small_digits(100, label_noise=0.0, seed=SEED),
                            {"none": {}, "dropout 0.5": {"dropout": 0.5}}, seed=SEED)}


def test_gap_table_as_printed(gap_results):
    printed = {0.0: [(1.0, 0.920), (1.0, 0.902)],
               0.2: [(1.0, 0.693), (0.97, 0.740), (0.83, 0.716)]}
    for noise, rows in printed.items():
        assert len(gap_results[noise]) == len(rows)
        for run, (train_acc, val_acc) in zip(gap_results[noise], rows):
            assert run.train_acc == pytest.approx(train_acc, **PRINTED)
            assert run.val_acc == pytest.approx(val_acc, **PRINTED)


def test_with_wrong_labels_dropout_and_l2_shrink_the_gap(gap_results):
    none, drop, l2 = gap_results[0.2]
    assert none.train_acc == 1.0  # the wrong labels are memorised
    assert (round(none.gap, 2), round(drop.gap, 2), round(l2.gap, 2)) == (0.31, 0.23, 0.11)
    assert drop.val_acc > none.val_acc + 0.04 and l2.val_acc > none.val_acc + 0.02
    assert l2.train_acc < 0.85  # the L2 network no longer fits the wrong labels


@pytest.mark.parametrize("seed", [1, 2])
def test_the_wrong_label_claim_holds_for_other_seeds(seed):
    none, drop, l2 = R.gap_runs(R.small_digits(100, label_noise=0.2, seed=seed), SETTINGS,
                                seed=seed)
    assert drop.gap < none.gap - 0.05 and l2.gap < none.gap - 0.05


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_with_correct_labels_dropout_changes_the_gap_by_less_than_two_points(seed):
    """The nuance the notebook states: on 100 clean digits the gap barely moves."""
    none, drop = R.gap_runs(R.small_digits(100, label_noise=0.0, seed=seed),
                            {"none": {}, "dropout 0.5": {"dropout": 0.5}}, seed=seed)
    assert abs(drop.gap - none.gap) < 0.02


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
