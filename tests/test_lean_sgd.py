"""course_utils.lean_sgd: LeanSGD takes torch.optim.SGD's steps bit for bit; lean_optimizer."""

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.lean_sgd import LeanSGD, lean_optimizer
from course_utils.training import build_mlp, train


def small_data(n=120, d=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = np.argmax(x[:, :classes], axis=1)

    class Data:
        x_train, y_train, x_val, y_val = x[:90], y[:90], x[90:], y[90:]
        num_classes = classes

    return Data


@pytest.mark.parametrize(
    "momentum, weight_decay", [(0.0, 0.0), (0.9, 0.0), (0.0, 0.01), (0.9, 0.3)]
)
def test_lean_sgd_steps_are_torch_sgds_bit_for_bit(momentum, weight_decay):
    # exact by construction: the same float32 operations as torch.optim.SGD's single-tensor
    # path, in the same order (clone, mul_, add_, add_ with alpha=-lr)
    a, b = build_mlp(6, 3, depth=2, width=8, seed=4), build_mlp(6, 3, depth=2, width=8, seed=4)
    mine = LeanSGD(a.parameters(), lr=0.05, momentum=momentum, weight_decay=weight_decay)
    theirs = torch.optim.SGD(b.parameters(), lr=0.05, momentum=momentum, weight_decay=weight_decay)
    x = torch.tensor(small_data().x_train, dtype=torch.float32)
    y = torch.tensor(small_data().y_train)
    for step in range(6):
        for model, opt in ((a, mine), (b, theirs)):
            if step == 3:
                opt.param_groups[0]["lr"] = 0.02  # a schedule changes lr between steps
            opt.zero_grad(set_to_none=True)
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
        assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_lean_optimizer_gives_train_the_same_run_as_the_name(digits_dataset):
    for name in ("sgd", "momentum"):
        a, b = (
            build_mlp(64, 10, depth=1, width=16, seed=1),
            build_mlp(64, 10, depth=1, width=16, seed=1),
        )
        ha = train(a, digits_dataset, lean_optimizer(name, 0.05, 1e-3), epochs=1, progress=False)
        hb = train(b, digits_dataset, name, lr=0.05, epochs=1, progress=False, weight_decay=1e-3)
        assert ha.step_loss == hb.step_loss  # bit for bit, as above
    assert lean_optimizer("adam", 1e-3) == "adam"
    with pytest.raises(ValueError, match="lr must be"):
        lean_optimizer("sgd", 0.0)
    with pytest.raises(ValueError, match="weight_decay must be"):
        lean_optimizer("sgd", 0.1, weight_decay=-1.0)
    with pytest.raises(ValueError, match="momentum must be"):
        LeanSGD(build_mlp(6, 3, depth=0).parameters(), lr=0.1, momentum=1.0)
