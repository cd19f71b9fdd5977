"""Chapter 08, sections 3.5 and 4.1-4.2, and "In practice": the claims the notebook prints.

Section 3.5: a correct gradient's relative error grows with depth as the gradient vanishes,
within a factor 2 of eps |L| / (h |grad|). Section 4.1: zeroed inputs do worse (label entropy,
chance); shuffled labels stay at chance on validation. Section 4.2: backprop charts which
inputs each output depends on.
"""

import copy
import math

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from course_utils import sanity
from course_utils.chapters.ch08_sanity_checks import depth_check, recipe
from course_utils.chapters.ch08_sanity_checks.figures import decade_ticks
from course_utils.seed_runs import median_range

SEED = 0


@pytest.fixture(scope="module")
def data(digits_dataset):
    return digits_dataset


# ---------------------------------------------------------------- 3.5 depth
@pytest.fixture(scope="module")
def deep():
    return {
        name: depth_check.input_gradient_errors((1, 3, 6, 9, 12), name, seeds=range(3))
        for name in ("sigmoid", "tanh")
    }


def test_depth_table_as_printed(deep):
    sig, tanh = deep["sigmoid"], deep["tanh"]
    assert [f"{v:.0e}" for v in np.median(sig.grad_norm, axis=1)] == [
        "1e-01",
        "6e-03",
        "9e-05",
        "8e-07",
        "1e-08",
    ]
    assert [f"{v:.0e}" for v in np.median(sig.roundoff_floor / sig.grad_norm, axis=1)] == [
        "4e-10",
        "9e-09",
        "5e-07",
        "7e-05",
        "4e-03",
    ]
    assert [f"{v:.0e}" for v in np.median(tanh.grad_norm, axis=1)] == [
        "4e-01",
        "2e-01",
        "2e-01",
        "1e-01",
        "1e-01",
    ]
    assert [f"{v:.0e}" for v in np.median(tanh.roundoff_floor / tanh.grad_norm, axis=1)] == [
        "1e-10",
        "2e-10",
        "2e-10",
        "4e-10",
        "3e-10",
    ]


def test_depth_claims(deep):
    sig, tanh = deep["sigmoid"], deep["tanh"]
    # measured within a factor 2 of eps |L| / (h |grad|) in all 30 checks (seen: 0.57 to 1.62
    # over 240 checks of 10 seeds and 12 depths)
    for r in (sig, tanh):
        ratio = r.errors * r.grad_norm / r.roundoff_floor
        assert np.all((ratio > 0.5) & (ratio < 2))
    # sigmoid: the error grows with depth, from below 1e-9 to a few 1e-3; past ~6 layers it
    # fails 1e-7; at 12 it is near CS231n's 1e-2
    assert np.all(np.diff(sig.median_error) > 0)
    assert sig.median_error[0] < 1e-9 and 1e-3 < sig.median_error[-1] < 1e-2
    assert sig.errors[1].max() < 1e-7 < sig.errors[2].min()
    # the gradient: from about 1e-1 to 1e-8
    assert 0.05 < np.median(sig.grad_norm[0]) < 0.3 and np.median(sig.grad_norm[-1]) < 1e-7
    # tanh keeps its gradient and its error stays near 1e-10
    assert np.all(tanh.grad_norm > 0.05) and np.all(tanh.errors < 2e-9)


def test_depth_check_bad_input():
    with pytest.raises(ValueError, match="activation must be one of"):
        depth_check.input_gradient_errors((1,), "gelu")
    with pytest.raises(ValueError, match=r"depths\[0\] must be between 1 and 30"):
        depth_check.input_gradient_errors((0,))


# ---------------------------------------------------------------- 4.1 baselines
@pytest.fixture(scope="module")
def baselines(data):
    return recipe.recipe_baselines(data, seeds=range(4), epochs=6, batch_size=128, lr=0.1)


def test_baselines_table_as_printed(baselines):
    assert f"{baselines.label_entropy:.3f}" == "2.302"
    loss, acc, val = (baselines.final(k) for k in ("train_loss", "train_acc", "val_acc"))
    assert [median_range(v, ".2f") for v in loss] == [
        "0.15 (0.14 to 0.16)",
        "2.30 (2.30 to 2.30)",
        "2.26 (2.25 to 2.27)",
    ]
    assert [median_range(v, ".0f", percent=True) for v in acc] == [
        "96% (95% to 96%)",
        "10% (10% to 10%)",
        "15% (15% to 16%)",
    ]
    assert [median_range(v, ".0f", percent=True) for v in val] == [
        "95% (94% to 97%)",
        "10% (10% to 10%)",
        "11% (6% to 15%)",
    ]


def test_baselines_claims(baselines):
    real, zero, shuffled = (baselines.final("train_loss")[k] for k in range(3))
    val = baselines.final("val_acc")
    acc = baselines.final("train_acc")
    h = baselines.label_entropy
    # zeroed inputs: the loss stops at the label entropy, accuracy at chance (every seed)
    assert np.all(np.abs(zero - h) < 0.005)
    assert np.all(np.abs(val[1] - 0.1) < 0.02)
    # real inputs do far better: the model uses its input
    assert np.all(real < 0.3) and np.all(val[0] > 0.9)
    # shuffled labels: validation at chance, training loss below the entropy (memorising)
    assert np.all(val[2] < 0.2)
    assert np.all(shuffled < h - 0.02) and np.all(acc[2] > acc[1] + 0.03)
    assert np.all(shuffled > real + 1)
    # every run starts at ln C (output layer std 1e-3)
    np.testing.assert_allclose(baselines.train_loss[:, :, 0], math.log(10), atol=0.01)


def test_label_entropy():
    assert recipe.label_entropy([0, 1, 2, 3]) == pytest.approx(math.log(4))
    assert recipe.label_entropy([0, 0, 0, 1]) == pytest.approx(
        -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    )
    assert recipe.label_entropy([2, 2]) == 0.0
    with pytest.raises(ValueError, match="y must hold class indices >= 0"):
        recipe.label_entropy([0, -1])


def test_recipe_final_rejects_unknown(baselines):
    with pytest.raises(ValueError, match="name must be one of"):
        baselines.final("loss")


# ---------------------------------------------------------------- 4.2 dependencies
def test_batch_dependency_table_as_printed():
    x_batch = np.random.default_rng(SEED).standard_normal((16, 64))
    net = sanity.fresh_classifier(64, 10, seed=SEED)
    with_bn = torch.nn.Sequential(net[0], torch.nn.BatchNorm1d(64), *net[1:])
    wiring = [
        net,
        torch.nn.Sequential(recipe.TransposeByView(), *net),
        copy.deepcopy(with_bn).eval(),
        with_bn,
    ]
    reach = [recipe.batch_dependency(m, x_batch, i=0) for m in wiring]
    assert [int(np.count_nonzero(g)) for g in reach] == [1, 16, 1, 16]
    assert [f"{g[1:].max() / g[0]:.0%}" for g in reach] == ["0%", "257%", "0%", "13%"]
    # exactly 0, not merely small, for the correct wiring
    assert not reach[0][1:].any() and not reach[2][1:].any()
    assert reach[0][0] > 0


@pytest.mark.parametrize("i", [0, 5, 15])
def test_batch_dependency_any_example(i):
    x = np.random.default_rng(1).standard_normal((16, 8))
    net = sanity.fresh_classifier(8, 3, depth=1, width=6, activation="tanh", seed=1)
    g = recipe.batch_dependency(net, x, i=i)
    assert np.flatnonzero(g).tolist() == [i]
    bug = recipe.batch_dependency(torch.nn.Sequential(recipe.TransposeByView(), *net), x, i=i)
    assert np.count_nonzero(bug) > 1


def test_transpose_by_view_keeps_the_shape_and_mixes():
    x = torch.arange(12.0).reshape(3, 4)
    out = recipe.TransposeByView()(x)
    assert out.shape == x.shape and not torch.equal(out, x)
    assert torch.equal(x.t().t(), x)  # what was meant


def test_batch_dependency_bad_input():
    net = sanity.fresh_classifier(8, 3, depth=1, width=6, seed=1)
    with pytest.raises(ValueError, match="model must be a torch.nn.Module"):
        recipe.batch_dependency("net", np.zeros((4, 8)))
    with pytest.raises(ValueError, match="x must have between 2 and 4096 examples"):
        recipe.batch_dependency(net, np.zeros((1, 8)))
    with pytest.raises(ValueError, match="i must be between 0 and 3"):
        recipe.batch_dependency(net, np.zeros((4, 8)), i=4)


# ---------------------------------------------------------------- In practice
def test_torch_autograd_gradcheck_as_quoted():
    """The call the "In practice" section quotes returns True (the notebook does not run it:
    its first use imports SymPy)."""
    from course_utils.torch_state import torch_state

    with torch_state(seed=SEED):
        layer = torch.nn.Linear(5, 3).double()
        inputs = torch.randn(4, 5, dtype=torch.float64, requires_grad=True)
        assert torch.autograd.gradcheck(layer, (inputs,))


def test_decade_ticks():
    fig = Figure()
    ax = fig.add_subplot()
    ax.plot([1e-6, 1.0], [1e-3, 10.0])
    ax.set(xscale="log", yscale="log")
    decade_ticks(ax)
    fig.canvas.draw() if hasattr(fig.canvas, "draw") else None
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert "1e-05" in labels and not any("$" in t for t in labels)
    assert len(ax.xaxis.get_minorticklocs()) == 0
    with pytest.raises(ValueError, match="axis must be"):
        decade_ticks(ax, "z")
