"""course_utils.seed_runs: one_torch_thread, train_seeds (each seed's run as train and Monitor
give it), and LeanSGD still offered to chapter 09."""

import numpy as np
import pytest
import torch

from course_utils import lean_sgd
from course_utils import seed_runs as S
from course_utils.chapters.ch09_monitoring.runs import run_diagnosis
from course_utils.training import build_mlp, train


def small_data(n=120, d=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = np.argmax(x[:, :classes], axis=1)

    class Data:
        x_train, y_train, x_val, y_val = x[:90], y[:90], x[90:], y[90:]
        num_classes = classes

    return Data


def test_one_torch_thread_restores_the_setting():
    before = torch.get_num_threads()
    with S.one_torch_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before


# ------------------------------------------------------------------ many seeds at once
def test_train_seeds_gives_each_seed_the_run_train_and_monitor_give(digits_dataset):
    runs = S.train_seeds(digits_dataset, seeds=(3, 5), lr=0.02, epochs=2)
    assert runs.step_loss.shape == (2, 44) and runs.ratios.shape == (2, 44, 5)
    assert runs.eval_step.tolist() == [0, 22, 44] and not runs.diverged.any()
    for i, seed in enumerate((3, 5)):
        reference = run_diagnosis(digits_dataset, lr=0.02, epochs=2, seed=seed)
        h = runs.history(i)
        # float32 in another order (batched products): equal to rounding, not bit for bit
        np.testing.assert_allclose(h.step_loss, reference.history.step_loss, rtol=1e-5)
        np.testing.assert_allclose(h.val_acc, reference.history.val_acc, atol=1 / 450 + 1e-12)
        np.testing.assert_allclose(runs.ratios[i], reference.monitor.ratio_array(), rtol=1e-4)
        # the trained weights are handed back in one nn.Module per seed
        for p, q in zip(runs.models[i].parameters(), reference.model.parameters()):
            torch.testing.assert_close(p, q, rtol=1e-4, atol=1e-6)


def test_train_seeds_per_seed_data_build_and_plain_sgd():
    data = [small_data(seed=s) for s in (0, 1)]
    runs = S.train_seeds(
        data,
        seeds=(0, 1),
        lr=0.1,
        optimizer="sgd",
        batch_size=None,
        epochs=5,
        eval_every="end",
        build=lambda s: build_mlp(6, 3, depth=1, width=8, seed=s),
    )
    assert runs.eval_step.tolist() == [0, 5] and runs.ratios.shape == (2, 5, 2)
    for i, s in enumerate((0, 1)):
        model = build_mlp(6, 3, depth=1, width=8, seed=s)
        h = train(model, data[i], "sgd", lr=0.1, epochs=5, batch_size=90, seed=s, progress=False)
        np.testing.assert_allclose(runs.history(i).step_loss, h.step_loss, rtol=1e-5)


def test_train_seeds_stops_only_the_seeds_that_diverge():
    calm, wild = small_data(seed=0), small_data(seed=0)
    wild.x_train = calm.x_train * 1e20  # the same problem, inputs 10^20 times larger
    runs = S.train_seeds(
        [calm, wild],
        seeds=(0, 0),
        lr=1.0,
        optimizer="sgd",
        epochs=3,
        build=lambda s: build_mlp(6, 3, depth=0, seed=s),
    )
    assert runs.diverged.tolist() == [False, True]
    stop = runs.diverged_at[1]
    assert np.isnan(runs.step_loss[1, stop:]).all() and np.isfinite(runs.step_loss[0]).all()
    h = runs.history(1)
    assert (
        h.status == "diverged"
        and h.steps == stop
        and h.message.startswith(f"diverged at step {stop}")
    )
    assert all(step < stop for step in h.eval_step)


def test_train_seeds_checks_its_arguments(digits_dataset):
    with pytest.raises(ValueError, match="optimizer must be one of 'sgd', 'momentum'"):
        S.train_seeds(digits_dataset, optimizer="adam")
    with pytest.raises(ValueError, match="seeds must have between 1 and 200 items"):
        S.train_seeds(digits_dataset, seeds=())
    with pytest.raises(ValueError, match="unknown settings"):
        S.train_seeds(digits_dataset, momentum=0.5)
    with pytest.raises(ValueError, match="data gives 2 data sets for 3 seeds"):
        S.train_seeds([digits_dataset, digits_dataset], seeds=(0, 1, 2))
    with pytest.raises(ValueError, match="either build or network settings"):
        S.train_seeds(digits_dataset, depth=2, build=lambda s: build_mlp(64, 10, seed=s))
    with pytest.raises(ValueError, match="no Batch Norm, no dropout"):
        S.train_seeds(digits_dataset, seeds=(0,), build=lambda s: build_mlp(64, 10, dropout=0.5))


def test_seed_runs_still_offers_lean_sgd_to_chapter_09():
    assert S.LeanSGD is lean_sgd.LeanSGD and S.lean_optimizer is lean_sgd.lean_optimizer


FIELDS = ("step_loss", "eval_step", "train_loss", "train_acc", "val_loss", "val_acc", "ratios")


def _mixed_data():
    """Six seeds' data, seeds 1 and 4 made to diverge at once (inputs 10^20 times larger)."""
    data = [small_data(seed=s) for s in range(6)]
    for i in (1, 4):
        data[i].x_train = data[i].x_train * 1e20
    return data


def _run(data, seeds):
    return S.train_seeds(
        data,
        seeds=seeds,
        lr=0.3,  # not a power of 2: lr * u rounds
        optimizer="momentum",
        batch_size=30,
        epochs=3,
        build=lambda s: build_mlp(6, 3, depth=1, width=8, seed=s),
    )


def test_a_network_takes_its_own_steps_whatever_its_group_mates_do():
    """Each seed's numbers are those of its run alone, bit for bit, also when other seeds of
    its group diverged (their weights stay as they were; the others' updates are unchanged)."""
    data, seeds = _mixed_data(), (0, 1, 2, 3, 4, 5)
    together = _run(data, seeds)
    assert together.diverged.tolist() == [False, True, False, False, True, False]
    for i, s in enumerate(seeds):
        alone = _run([data[i]], (s,))
        if not alone.diverged[0]:  # evaluated at the same steps, with the same numbers
            np.testing.assert_array_equal(together.eval_step, alone.eval_step)
            same = [f for f in FIELDS if f != "eval_step"] + ["dead_share"]
        else:  # alone, its loop ended where it diverged
            same = ["step_loss", "ratios"]
        for field in same + ["diverged_at"]:
            np.testing.assert_array_equal(getattr(together, field)[i], getattr(alone, field)[0])
        for p, q in zip(together.models[i].parameters(), alone.models[0].parameters()):
            assert (p == q).all()


def test_one_setting_on_two_cores_gives_the_one_core_numbers(monkeypatch):
    """Issue 20: train_settings splits the networks over two cores, the cut falling inside a
    setting's group (here between diverging and calm seeds); the numbers are one stack's, bit
    for bit."""
    import course_utils._seed_loop as loop

    data, runs = _mixed_data(), {}
    for cores in (1, 2):
        monkeypatch.setattr(loop, "_cores", lambda: cores)
        runs[cores] = S.train_settings(
            data,
            {"a": dict(lr=0.3, depth=1, width=8)},
            seeds=tuple(range(6)),
            epochs=3,
            batch_size=30,
        )["a"]
    one, two = runs[1], runs[2]
    assert one.diverged.tolist() == [False, True, False, False, True, False]
    assert loop._halves([(0, 6, 0.3)]) == [(0, 3), (3, 6)]
    for field in FIELDS + ("diverged_at", "dead_share"):
        np.testing.assert_array_equal(getattr(two, field), getattr(one, field))
    for a, b in zip(two.models, one.models):
        for p, q in zip(a.parameters(), b.parameters()):
            assert (p == q).all()
