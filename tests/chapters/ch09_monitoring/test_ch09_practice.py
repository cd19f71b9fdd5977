"""Chapter 09 in practice: early stopping, the first layer's filters, TensorBoard."""

import numpy as np
import pytest
import torch

from course_utils.chapters.ch09_monitoring import figures
from course_utils.chapters.ch09_monitoring import runs as ch09
from course_utils.chapters.ch09_monitoring import runs_practice as practice
from course_utils.data import load_dataset
from course_utils.sanity import tiny_subset

SEED = 0


@pytest.fixture(scope="module")
def data():
    return load_dataset("digits")


def test_roughness_of_noise_is_two_and_of_smooth_images_near_zero():
    rng = np.random.default_rng(0)
    assert practice.roughness(rng.normal(size=(200, 64))) == pytest.approx(2.0, abs=0.05)
    x = np.linspace(0, 1, 8)
    smooth = (
        np.outer(np.sin(x), np.cos(x)).ravel()[None, :] * np.ones((3, 1)) + np.arange(3)[:, None]
    )
    assert practice.roughness(smooth) < 0.1
    assert practice.roughness(5 * rng.normal(size=(50, 64))) == pytest.approx(
        practice.roughness(rng.normal(size=(50, 64))), abs=0.2
    )  # scale-free
    with pytest.raises(ValueError, match="columns"):
        practice.roughness(np.ones((2, 10)))
    with pytest.raises(ValueError, match="constant"):
        practice.roughness(np.ones((2, 64)))


def test_early_stopping_as_printed_and_its_checkpoint(data):
    stopping = practice.early_stopping(
        tiny_subset(data, 100, seed=SEED), epochs=40, patience=10, lr=0.03, seed=SEED
    )
    assert (stopping.best, stopping.stopped) == (18, 28)
    assert round(stopping.val_loss[17], 3) == 0.437 and round(stopping.val_loss[-1], 3) == 0.475
    assert round(stopping.val_acc[17], 3) == 0.864 and round(stopping.val_acc[-1], 3) == 0.884
    # the property: the checkpoint has the lowest validation loss up to the stop, and the loss
    # rose after it while the accuracy did not fall
    assert stopping.val_loss[17] == stopping.val_loss[: stopping.stopped].min()
    assert (
        stopping.val_loss[-1] > stopping.val_loss[17]
        and stopping.val_acc[-1] >= stopping.val_acc[17]
    )
    # the checkpoint really holds the weights of epoch 18: loaded, they give its validation loss
    model = ch09.base_model(data, seed=SEED)
    model.load_state_dict(stopping.checkpoint)
    from course_utils.training import evaluate

    small = tiny_subset(data, 100, seed=SEED)
    assert evaluate(model, small.x_val, small.y_val)[0] == pytest.approx(
        stopping.val_loss[17], rel=1e-6
    )
    assert "trained on to the end" in stopping.table()


def test_early_stopping_on_other_seeds_stops_before_the_end(data):
    for seed in (1, 2, 3):
        s = practice.early_stopping(tiny_subset(data, 100, seed=seed), 40, 10, 0.03, seed)
        assert s.best < s.stopped < 40 and s.val_loss[-1] > s.val_loss[s.best - 1]


def test_first_layer_roughness_table(data, ch09_trained):
    runs = {name: ch09_trained[name] for name in ("lr too low", "good lr", "bad init")}
    table = practice.first_layer_change(runs, data).splitlines()
    assert table[2:] == [
        "lr too low          1.99  1.99    0.71                 0.02",
        "good lr             1.99  1.92    1.20                 0.20",
        "bad init            1.99  1.85    1.02                 0.31",
    ]
    trained, initial = runs["good lr"].models[0], ch09.base_model(data, seed=SEED)
    figure = figures.plot_first_layer(trained, initial)
    assert len(figure.axes) == 2 and figure.axes[0].get_ylabel() == "W (trained)"
    # each row: units 1-8 as 8 x 8 images, one blank column apart, each scaled to |max| = 1
    w, w0 = (next(iter(m.parameters())).detach().double().numpy() for m in (trained, initial))
    for ax, values in zip(figure.axes, (w, w - w0)):
        mosaic = ax.get_images()[0].get_array()
        assert mosaic.shape == (8, 8 * 9 - 1)
        for u in range(8):
            unit = values[u].reshape(8, 8)
            np.testing.assert_allclose(mosaic[:, 9 * u : 9 * u + 8], unit / np.abs(unit).max())
            assert u == 7 or mosaic.mask[:, 9 * u + 8].all()  # the blank column
    assert [t.get_text() for t in figure.axes[0].get_xticklabels()][:2] == ["unit 1", "unit 2"]


def test_the_tensorboard_event_file_holds_the_run(data, tmp_path):
    history = ch09.train_seeds(data, seeds=(SEED,), lr=0.01, epochs=1).history(0)
    event = practice.log_to_tensorboard(history, tmp_path)
    assert event.exists() and event.parent == tmp_path
    scalars = practice.read_scalars(tmp_path)
    assert set(scalars) == {"loss/step", "loss/train", "loss/val", "accuracy/train", "accuracy/val"}
    steps, values = scalars["loss/step"]
    np.testing.assert_array_equal(steps, np.arange(1, len(history.step_loss) + 1))
    np.testing.assert_allclose(values, history.step_loss, rtol=1e-6)  # stored as float32
    steps, values = scalars["accuracy/val"]
    np.testing.assert_array_equal(steps, history.eval_step)
    np.testing.assert_allclose(values, history.val_acc, rtol=1e-6)


def ch09_history_stub():
    from course_utils.training import History

    return History()


def test_bad_arguments(tmp_path, data):
    with pytest.raises(ValueError, match="History"):
        practice.log_to_tensorboard("not a history", tmp_path)
    with pytest.raises(ValueError, match="logdir"):
        practice.read_scalars(tmp_path / "missing")
    for empty in ("", "  "):  # Path("") is the current directory: never written into
        with pytest.raises(ValueError, match="logdir must be the path"):
            practice.log_to_tensorboard(ch09_history_stub(), empty)
    with pytest.raises(ValueError, match="patience"):
        practice.early_stopping(data, epochs=3, patience=4)
    with pytest.raises(ValueError, match="runs must be"):
        practice.first_layer_change({"x": 1}, data)
    with pytest.raises(ValueError, match="nn.Module"):
        figures.plot_first_layer("a", torch.nn.Linear(64, 8))
