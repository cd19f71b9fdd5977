"""The shared training infrastructure (chapters 04-10): builder, loop, history, divergence."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from course_utils import training
from course_utils.data import load_digits


@pytest.fixture(scope="module")
def digits():
    return load_digits()


def small_data(n=200, d=8, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = np.argmax(x[:, :classes], axis=1)

    class Data:
        x_train, y_train, x_val, y_val = x[:150], y[:150], x[150:], y[150:]

    return Data


def test_build_mlp_blocks_in_the_lecture_order():
    model = training.build_mlp(
        64, 10, depth=2, width=32, activation="tanh", batchnorm=True, dropout=0.5
    )
    kinds = [type(m).__name__ for m in model]
    assert kinds == [
        "Linear",
        "BatchNorm1d",
        "Tanh",
        "Dropout",
        "Linear",
        "BatchNorm1d",
        "Tanh",
        "Dropout",
        "Linear",
    ]
    assert model[0].bias is None and model[-1].bias is not None  # BN's beta replaces the bias
    assert model[3].p == 0.5
    assert [m.out_features for m in model if isinstance(m, nn.Linear)] == [32, 32, 10]
    assert len(training.build_mlp(64, 10, depth=0)) == 1  # softmax classifier


@pytest.mark.parametrize(
    "init, activation, expected",
    [
        ("kaiming", "relu", math.sqrt(2 / 256)),
        ("xavier", "tanh", 5 / 3 * math.sqrt(2 / (256 + 256))),
        ("normal", "relu", 0.05),
    ],
)
def test_init_sets_the_weight_std(init, activation, expected):
    std = 0.05 if init == "normal" else None
    model = training.build_mlp(
        256, 10, depth=3, width=256, activation=activation, init=init, std=std, seed=1
    )
    hidden = model[2].weight.detach().numpy()  # the second Linear: 256 -> 256
    assert hidden.std() == pytest.approx(expected, rel=0.02)
    assert np.all(model[2].bias.detach().numpy() == 0)


def test_same_seed_same_weights_and_global_rng_untouched():
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    a = training.build_mlp(10, 3, seed=4)
    after = torch.rand(3)
    b = training.build_mlp(10, 3, seed=4)
    c = training.build_mlp(10, 3, seed=5)
    assert torch.equal(before, after)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not torch.equal(a[0].weight, c[0].weight)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"depth": -1}, "depth"),
        ({"width": 0}, "width"),
        ({"activation": "swish"}, "activation"),
        ({"init": "he"}, "init"),
        ({"init": "normal"}, "needs std"),
        ({"std": 0.1}, "only used"),
        ({"init": "normal", "std": -1.0}, "std"),
        ({"dropout": 1.0}, "dropout"),
        ({"dropout": -0.1}, "dropout"),
        ({"batchnorm": 1}, "batchnorm"),
        ({"seed": -1}, "seed"),
        ({"depth": 100, "width": 8192}, "parameters"),
    ],
)
def test_build_mlp_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        training.build_mlp(64, 10, **kwargs)


def test_training_learns_the_digits_and_records_history(digits):
    model = training.build_mlp(64, 10, depth=1, width=64, seed=0)
    history = training.train(
        model, digits, "momentum", lr=0.1, epochs=5, batch_size=64, progress=False
    )
    steps_per_epoch = math.ceil(len(digits.x_train) / 64)
    assert history.status == "completed" and history.diverged_at is None
    assert history.steps == 5 * steps_per_epoch == len(history.lr)
    assert history.eval_step == [0] + [steps_per_epoch * e for e in range(1, 6)]
    assert history.val_acc[0] < 0.3 < 0.9 < history.val_acc[-1]
    assert history.final()["val_acc"] == history.val_acc[-1]
    assert "completed" in history.message
    # the recorded full-set numbers are what evaluate() gives for the trained model
    assert training.evaluate(model, digits.x_val, digits.y_val) == pytest.approx(
        (history.val_loss[-1], history.val_acc[-1])
    )


def test_two_runs_with_the_same_seed_are_identical(digits):
    def run(seed):
        model = training.build_mlp(64, 10, depth=2, width=32, dropout=0.3, batchnorm=True)
        return training.train(model, digits, "adam", lr=1e-3, epochs=2, seed=seed, progress=False)

    a, b, c = run(0), run(0), run(1)
    assert a.step_loss == b.step_loss and a.val_acc == b.val_acc
    assert a.step_loss != c.step_loss


def test_divergence_is_a_result_not_a_crash():
    data = small_data()
    model = training.build_mlp(8, 3, depth=2, width=16, init="normal", std=3.0)
    history = training.train(model, data, "sgd", lr=1e4, epochs=20, progress=False)
    assert history.status == "diverged" and history.diverged
    k = history.diverged_at
    assert k == history.steps and not math.isfinite(history.step_loss[-1])
    assert all(math.isfinite(v) for v in history.step_loss[:-1])
    assert history.message.startswith(f"diverged at step {k}")


def test_lr_schedule_and_scheduler_set_every_step():
    data = small_data()
    steps = 3 * math.ceil(150 / 50)
    schedule = np.linspace(0.1, 0.01, steps)
    history = training.train(
        training.build_mlp(8, 3),
        data,
        lr=1.0,
        epochs=3,
        batch_size=50,
        lr_schedule=schedule,
        progress=False,
    )
    assert history.lr == pytest.approx(schedule)
    history = training.train(
        training.build_mlp(8, 3),
        data,
        lr=1.0,
        epochs=3,
        batch_size=50,
        progress=False,
        scheduler=lambda opt: torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5),
    )
    assert history.lr == pytest.approx([1.0] * 3 + [0.5] * 3 + [0.25] * 3)
    with pytest.raises(ValueError, match="lr_schedule"):
        training.train(
            training.build_mlp(8, 3),
            data,
            epochs=3,
            batch_size=50,
            lr_schedule=schedule[:-1],
            progress=False,
        )


def test_penalty_callback_eval_every_and_callable_optimizer():
    data = small_data()
    seen = []
    l2 = lambda m: 0.5 * sum((p**2).sum() for p in m.parameters())  # noqa: E731
    plain = training.train(training.build_mlp(8, 3), data, epochs=1, batch_size=50, progress=False)
    history = training.train(
        training.build_mlp(8, 3),
        data,
        optimizer=lambda p: torch.optim.SGD(p, lr=0.1),
        epochs=2,
        batch_size=50,
        penalty=l2,
        eval_every=2,
        progress=False,
        callback=lambda h, m: seen.append(h.steps),
    )
    assert history.step_loss[0] > plain.step_loss[0]  # the penalty is in the objective
    assert seen == list(range(1, 7))
    assert history.eval_step == [0, 2, 4, 6]


def test_eval_every_end_evaluates_once_after_the_last_step_and_trains_the_same():
    data = small_data()
    runs = [
        training.train(
            training.build_mlp(8, 3), data, epochs=2, batch_size=50, progress=False, **kw
        )
        for kw in ({}, {"eval_every": "end"})
    ]
    assert runs[0].eval_step == [0, 3, 6] and runs[1].eval_step == [6]
    assert runs[1].step_loss == runs[0].step_loss and runs[1].final() == runs[0].final()
    with pytest.raises((ValueError, TypeError), match="eval_every"):
        training.train(training.build_mlp(8, 3), data, eval_every="start", progress=False)


def test_progress_bar_can_be_turned_off(capsys):
    training.train(training.build_mlp(8, 3), small_data(), epochs=1, progress=False)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"lr": -1.0}, "lr"),
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"optimizer": 3}, "optimizer"),
        ({"epochs": 10**6}, "steps"),
        ({"eval_every": 0}, "eval_every"),
    ],
)
def test_train_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        training.train(training.build_mlp(8, 3), small_data(), progress=False, **kwargs)


def test_train_rejects_bad_data():
    class Bad:
        x_train = np.full((4, 8), np.nan)
        y_train = np.zeros(4, dtype=int)
        x_val, y_val = np.zeros((2, 8)), np.zeros(2, dtype=int)

    with pytest.raises(ValueError, match="NaN"):
        training.train(training.build_mlp(8, 3), Bad, progress=False)
    with pytest.raises(ValueError, match="x_train"):
        training.train(training.build_mlp(8, 3), object(), progress=False)


def test_named_optimizers_are_torchs():
    params = list(training.build_mlp(8, 3).parameters())
    sgd = training.make_optimizer("nesterov", params, lr=0.1)
    assert isinstance(sgd, torch.optim.SGD)
    assert sgd.defaults["momentum"] == 0.9 and sgd.defaults["nesterov"] is True
    adamw = training.make_optimizer("adamw", params, lr=1e-3, weight_decay=0.1)
    assert isinstance(adamw, torch.optim.AdamW) and adamw.defaults["weight_decay"] == 0.1


def test_hidden_activations_eval_and_batch_statistics():
    model = training.build_mlp(8, 3, depth=3, width=16, batchnorm=True, activation="identity")
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(64, 8))
    before = [b.clone() for b in model.buffers()]
    eval_out = training.hidden_activations(model, x)
    batch_out = training.hidden_activations(model, x, batch_statistics=True)
    assert len(eval_out) == len(batch_out) == 3
    # with batch statistics BN normalises each feature of this batch (gamma 1, beta 0)
    assert np.allclose(batch_out[0].mean(axis=0), 0, atol=1e-5)
    assert np.allclose(batch_out[0].std(axis=0), 1, atol=1e-3)
    assert not np.allclose(eval_out[0].std(axis=0), 1, atol=1e-2)
    assert all(torch.equal(a, b) for a, b in zip(before, model.buffers()))
    assert model.training


def test_training_runs_on_one_torch_thread_and_restores_the_setting():
    before = torch.get_num_threads()
    seen = []
    training.train(
        training.build_mlp(8, 3),
        small_data(),
        epochs=1,
        progress=False,
        callback=lambda h, m: seen.append(torch.get_num_threads()),
    )
    assert set(seen) == {1} and torch.get_num_threads() == before
    seen.clear()
    training.train(
        training.build_mlp(8, 3),
        small_data(),
        epochs=1,
        progress=False,
        threads=None,
        callback=lambda h, m: seen.append(torch.get_num_threads()),
    )
    assert set(seen) == {before}
    with pytest.raises(ValueError, match="threads"):
        training.train(training.build_mlp(8, 3), small_data(), progress=False, threads=0)
