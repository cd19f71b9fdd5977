"""course_utils.torch_state: a block that leaves torch's global state as it found it."""

import pytest
import torch

from course_utils.torch_state import global_torch_state, torch_state


def test_torch_state_restores_everything():
    before = global_torch_state()
    with torch_state(seed=3):
        first = torch.nn.Linear(4, 2).weight.detach().clone()
        torch.set_num_threads(1)
        torch.set_default_dtype(torch.float64)
        torch.set_grad_enabled(False)
    assert global_torch_state() == before
    with torch_state(seed=3):
        again = torch.nn.Linear(4, 2).weight.detach().clone()
    assert torch.equal(first, again)  # seeded: the same layer every time
    with pytest.raises(RuntimeError), torch_state(seed=1):
        torch.set_default_dtype(torch.float64)
        raise RuntimeError("the state is restored on errors too")
    assert global_torch_state() == before


def test_torch_state_rejects_bad_seed():
    with pytest.raises(ValueError, match="seed must be between 0 and"):
        torch_state(seed=-1)  # checked at the call, before the block


def test_torch_state_restores_threads_dtype_and_generator():
    threads, dtype = torch.get_num_threads(), torch.get_default_dtype()
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    with torch_state(threads=2, seed=0, dtype="float64"):
        assert torch.get_num_threads() == 2 and torch.get_default_dtype() == torch.float64
        first = torch.rand(2)
        torch.set_num_threads(3)  # whatever the block does, it is undone
    assert torch.get_num_threads() == threads and torch.get_default_dtype() == dtype
    torch.testing.assert_close(torch.rand(3), expected)  # the generator continues as before
    torch.manual_seed(0)
    torch.testing.assert_close(first, torch.rand(2, dtype=torch.float64))
    with pytest.raises(RuntimeError), torch_state(seed=1):
        raise RuntimeError("inside")
    assert torch.get_num_threads() == threads
    with pytest.raises(ValueError, match="dtype must be one of"):
        with torch_state(dtype="int8"):
            pass


def test_seed_cpu_is_torch_manual_seed_on_the_cpu():
    from course_utils.torch_state import seed_cpu

    with torch_state():
        torch.manual_seed(123)
        expected = torch.randn(5)
        seed_cpu(123)
        assert torch.equal(torch.randn(5), expected)
        seed_cpu(2**64 - 1)  # as torch accepts
    for bad in (-1, 2**64, 1.5, "1"):
        with pytest.raises(ValueError, match="seed"):
            seed_cpu(bad)
