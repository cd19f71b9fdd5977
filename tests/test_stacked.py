"""course_utils.stacked: minibatch_orders gives each seed the order training.train shuffles."""

import pytest
import torch

from course_utils.stacked import minibatch_orders


def test_minibatch_orders_are_trains_orders():
    orders = list(minibatch_orders([3, 7], 20, 2))
    assert len(orders) == 2 and orders[0].shape == (2, 20)
    for row, seed in enumerate((3, 7)):
        g = torch.Generator().manual_seed(seed)  # as training.train shuffles for this seed
        for order in orders:
            assert torch.equal(order[row], torch.randperm(20, generator=g))
    with pytest.raises(ValueError, match="n_examples"):
        minibatch_orders([0], 0, 1)
    with pytest.raises(ValueError, match="seeds"):
        minibatch_orders([-1], 10, 1)
