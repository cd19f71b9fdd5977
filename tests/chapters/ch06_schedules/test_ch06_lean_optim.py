"""SeedOptimizer equals torch.optim's SGD (momentum 0.9) and Adam bit for bit (torch the oracle)."""

import numpy as np
import pytest
import torch

from course_utils.chapters.ch06_schedules.lean_optim import SeedOptimizer


def _run(make, kind, weight_decay, steps=30, branch_at=12):
    gen = torch.Generator().manual_seed(3)
    shapes = [(3, 5, 4), (3, 1, 4), (3, 4, 2)]
    start = [torch.randn(s, generator=gen, dtype=torch.float64) for s in shapes]
    trunk = [t.clone().requires_grad_() for t in start]
    opt = make(trunk, kind, weight_decay)
    groups, params = [opt.param_groups[0]], [trunk]
    rates = np.abs(np.sin(np.arange(steps) + 1.0)) * 0.3
    for step in range(steps):
        if step == branch_at:  # a second group branches off, with a copy of the state
            new = [p.detach().clone().requires_grad_() for p in trunk]
            opt.add_param_group({"params": new})
            for old, p in zip(trunk, new):
                opt.state[p] = {
                    k: v.clone() if torch.is_tensor(v) else v for k, v in opt.state[old].items()
                }
            groups.append(opt.param_groups[-1])
            params.append(new)
        x = torch.randn(3, 7, 5, generator=gen, dtype=torch.float64)
        total = 0.0
        for k, (g, ps) in enumerate(zip(groups, params)):
            g["lr"] = float(rates[step]) * (1 + k)
            h = torch.relu(torch.baddbmm(ps[1], x, ps[0]))
            total = total + torch.bmm(h, ps[2]).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        total.backward()
        opt.step()
    return [p.detach() for ps in params for p in ps]


def _torch(params, kind, weight_decay):
    if kind == "momentum":
        return torch.optim.SGD(
            params, lr=1.0, momentum=0.9, weight_decay=weight_decay, foreach=True
        )
    return torch.optim.Adam(params, lr=1.0, weight_decay=weight_decay, foreach=True)


@pytest.mark.parametrize("kind", ["momentum", "adam"])
@pytest.mark.parametrize("weight_decay", [0.0, 1e-3])
def test_seed_optimizer_equals_torch_bit_for_bit(kind, weight_decay):
    ours = _run(lambda p, k, wd: SeedOptimizer(p, k, lr=1.0, weight_decay=wd), kind, weight_decay)
    theirs = _run(_torch, kind, weight_decay)
    for a, b in zip(ours, theirs):
        assert torch.equal(a, b)


def test_seed_optimizer_checks_its_arguments():
    p = [torch.zeros(2, requires_grad=True)]
    with pytest.raises(ValueError, match="kind must be one of"):
        SeedOptimizer(p, "sgd")
    with pytest.raises(ValueError, match="weight_decay"):
        SeedOptimizer(p, "adam", weight_decay=-1.0)
    with pytest.raises(ValueError, match="params is empty"):
        SeedOptimizer([], "adam")


@pytest.mark.parametrize("kind", ["momentum", "adam"])
def test_one_rate_per_stacked_network_equals_separate_torch_optimizers(kind):
    gen = torch.Generator().manual_seed(5)
    start = torch.randn(4, 3, 2, generator=gen, dtype=torch.float64)
    rates = np.array([0.1, 0.1, 0.03, 0.5])
    stacked = start.clone().requires_grad_()
    ours = SeedOptimizer([stacked], kind, lr=1.0, weight_decay=1e-3)
    alone = [start[i : i + 1].clone().requires_grad_() for i in range(4)]
    theirs = [_torch([p], kind, 1e-3) for p in alone]
    for step in range(15):
        x = torch.randn(4, 5, 3, generator=gen, dtype=torch.float64)
        ours.param_groups[0]["lr"] = rates * (1 + step % 3)
        ours.zero_grad()
        torch.bmm(x, stacked).pow(2).sum().backward()
        ours.step()
        for i, (p, opt) in enumerate(zip(alone, theirs)):
            opt.param_groups[0]["lr"] = float(rates[i] * (1 + step % 3))
            opt.zero_grad()
            torch.bmm(x[i : i + 1], p).pow(2).sum().backward()
            opt.step()
    assert torch.equal(stacked.detach(), torch.cat([p.detach() for p in alone]))
