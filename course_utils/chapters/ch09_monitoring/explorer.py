"""Chapter 09's explorer: a live training dashboard.

Choose a learning rate (log slider) and a number of epochs, press **Start**: the MLP trains
with :func:`course_utils.training.train`, and its curves (minibatch loss and its smoothed
line, training and validation accuracy, each layer's update-to-weight ratio) redraw in place
at every evaluation while a ``tqdm.auto`` progress bar counts the steps.

It follows the explorer contract of :mod:`course_utils.widgets.base`, with one difference a
training run forces: setting ``lr`` or ``epochs`` does not retrain (a run costs seconds); it
updates the readout ("press Start to train with lr=...") before returning, and
``start_button.click()`` (or ``start()``) trains. ``.result`` is a :class:`DashboardState`
(the settings on the sliders and the run shown); ``.history`` the last run's
:class:`~course_utils.training.History` (``None`` before the first run); ``.monitor`` its
:class:`~course_utils.monitoring.Monitor`; ``.progress`` its progress bar. The panels are
:class:`~course_utils.chapters.ch09_monitoring.figures.TrainingCurves`, the run
:func:`~course_utils.chapters.ch09_monitoring.runs.monitored_run`.
"""

from __future__ import annotations

import concurrent.futures
import math
from dataclasses import dataclass

import ipywidgets
import numpy as np

from course_utils.chapters.ch09_monitoring.figures import TrainingCurves
from course_utils.chapters.ch09_monitoring.runs import evaluation_interval, monitored_run
from course_utils.lean_sgd import lean_optimizer
from course_utils.seed_runs import base_model
from course_utils.training import OPTIMIZERS, check_data_arrays
from course_utils.validation import (
    MAX_SEED,
    check_choice,
    check_int,
    check_real,
)
from course_utils.widgets.base import (
    Explorer,
    check_start,
    log_range,
    make_controls,
    new_figure,
)

__all__ = [
    "DashboardState",
    "TrainingDashboard",
    "training_dashboard",
    "LR_RANGE",
    "MAX_EPOCHS",
    "MIN_DPI",
]

#: Learning rates the slider offers (a log scale: each notch multiplies by 10^0.25).
LR_RANGE = (1e-4, 10.0)
#: Most epochs the slider offers (the default MLP on the digits: ~22 steps an epoch).
MAX_EPOCHS = 30
#: Smallest dpi: below it the labels' fonts are under a pixel and FreeType refuses them.
MIN_DPI = 20


def _epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def _progress_bar(total: int):
    """A ``tqdm.auto`` bar: a widget kept out of the cell's output in a kernel (the dashboard
    shows it), text on stderr elsewhere."""
    from tqdm.auto import tqdm
    from tqdm.notebook import tqdm as notebook_tqdm

    if issubclass(tqdm, notebook_tqdm):
        return tqdm(total=total, desc="training", unit="step", display=False)
    return tqdm(total=total, desc="training", unit="step")


@dataclass(frozen=True)
class DashboardState:
    """What the dashboard shows: the settings on the sliders (``lr``, ``epochs``), and the last
    run (its :class:`~course_utils.training.History` and settings; ``None`` before Start)."""

    lr: float
    epochs: int
    history: object = None
    run_values: dict | None = None

    @property
    def shown(self) -> bool:
        """True if the run shown used the sliders' settings."""
        return self.history is not None and self.run_values == {
            "lr": self.lr,
            "epochs": self.epochs,
        }


class TrainingDashboard(Explorer):
    """Train an MLP live: ``lr`` and ``epochs`` set the run, ``start_button`` runs it.

    ``history`` is the last run's :class:`~course_utils.training.History` (``None`` before
    the first; ``result`` a :class:`DashboardState`); ``monitor`` its
    :class:`~course_utils.monitoring.Monitor`; ``run_values`` the ``lr`` and ``epochs`` it used. The network (``depth``, ``width``, ReLU, Kaiming init),
    the optimiser (SGD with momentum 0.9 by default), the batch size and the seed are fixed
    at construction, as in :data:`course_utils.seed_runs.BASE_RUN`.
    """

    def __init__(
        self,
        lr=0.01,
        epochs=5,
        data=None,
        dataset="digits",
        depth=4,
        width=64,
        optimizer="momentum",
        batch_size=64,
        seed=0,
        figsize=(9.0, 3.0),
        dpi=96,
    ):
        controls = make_controls(
            continuous=(),  # a setting for the next run: nothing to redraw while dragging
            lr=log_range(*LR_RANGE, 0.25),
            epochs=(1, MAX_EPOCHS, 1),
        )
        # every argument checked before anything is built: a bad one is a ValueError here,
        # never a traceback out of Start's click handler later
        check_start(controls, dict(lr=lr, epochs=epochs))
        check_real("dpi", dpi, MIN_DPI)
        figure = new_figure(figsize, dpi)  # no axes yet: cheap
        check_choice("optimizer", optimizer, OPTIMIZERS)
        seed = check_int("seed", seed, 0, MAX_SEED)  # torch's generator takes an int
        if data is None:
            from course_utils.data import load_dataset

            data = load_dataset(dataset)
        # checked now without torch (its import takes seconds: prepare() does it in the
        # background and builds the network once, with the rest of its checks)
        try:
            y_train = check_data_arrays(data)[1]
        except ValueError as error:
            raise ValueError(f"data: {error}") from None
        depth = check_int("depth", depth, 0, 100)  # build_mlp's ranges
        width = check_int("width", width, 1, 8192)
        layers = tuple(f"W{i}" for i in range(1, depth + 2))  # monitoring.linear_layers' names
        n_train = len(y_train)
        batch_size = check_int("batch_size", batch_size, 1, n_train)
        self.data = data
        self.num_classes = int(getattr(data, "num_classes", 0) or np.max(y_train) + 1)
        self.settings = dict(
            depth=depth, width=width, optimizer=optimizer, batch_size=batch_size, seed=seed
        )
        self.steps_per_epoch = math.ceil(n_train / batch_size)
        self.monitor = None
        self.progress = None
        self.run_values = None
        self._history = None
        self._running = False
        self.view = TrainingCurves(figure, tuple(layers), self.num_classes, animated=True)
        # the axes span the planned run: its Start then blits instead of a full draw
        self.view.set_steps(int(epochs) * self.steps_per_epoch)  # epochs: checked above
        self._bar_slot = ipywidgets.Box()
        #: Trains with the sliders' settings (not a control: it has no value).
        self.start_button = ipywidgets.Button(
            description="Start",
            button_style="success",
            icon="play",
            tooltip="train with these settings",
        )
        super().__init__(controls, figure, lr=lr, epochs=epochs)
        self.start_button.on_click(self.start)
        box, *rest = self.widget.children
        self.widget.children = (ipywidgets.HBox([box, self.start_button]), self._bar_slot, *rest)

    preparing_message = "preparing: importing torch (Start waits for it)"
    result_needs_preparation = False  # the sliders only plan the next run

    def prepare(self):
        # torch's import and the network (its remaining checks), off the cell's thread
        base_model(self.data, **self.settings)
        from tqdm.auto import tqdm  # noqa: F401 - the progress bar's import, warmed

    @property
    def history(self):
        """The last run's :class:`~course_utils.training.History` (``None`` before Start)."""
        return self._history

    # ------------------------------------------------------------------ contract
    def compute(self, lr, epochs) -> DashboardState:
        """Check the settings; no training here (Start trains)."""
        lr = check_real("lr", lr, 0.0, low_open=True)
        return DashboardState(lr, epochs, self._history, self.run_values)

    def render(self, result, lr, epochs) -> list:
        history = result.history
        artists = self.view.update(history, self.monitor)
        if result.shown:
            self.view.plan.set_text(f"shown: lr = {lr:.3g}, {_epochs(epochs)} ({history.status})")
        else:
            self.view.plan.set_text(f"press Start to train with lr = {lr:.3g}, {_epochs(epochs)}")
        return artists

    def describe(self, result, lr, epochs) -> str:
        planned = f"lr={lr:.3g}, epochs={epochs}"
        history = result.history
        if history is None:
            return f"press Start to train with {planned}"
        last = f"lr={result.run_values['lr']:.3g}, epochs={result.run_values['epochs']}"
        text = f"{last}: {history.message}"
        if not history.diverged and self.monitor is not None and self.monitor.steps:
            median = float(np.median(self.monitor.ratio_array()))
            text += f"; median update ratio {median:.1e} (healthy ~1e-3)"
        if not result.shown:
            text = f"press Start to train with {planned} (shown: {text})"
        return text

    def warning(self, result) -> str:
        history = result.history
        if history is not None and history.diverged:
            return (
                f"The run with lr={result.run_values['lr']:.3g} diverged: the loss became "
                f"{history.step_loss[-1]} at step {history.diverged_at}. The learning rate "
                "is too high: lower it (try 10x smaller) and press Start."
            )
        return ""

    # ------------------------------------------------------------------ training
    def _show_error(self, error: BaseException) -> None:
        """A refused value (ValueError) as its message; anything else with its type."""
        text = str(error) if isinstance(error, ValueError) else f"{type(error).__name__}: {error}"
        self._set_message(text, "error")

    def start(self, button=None):
        """Train with the controls' settings, redrawing at every evaluation; return the
        History (``None`` if the settings were rejected: see ``.message``)."""
        if self._running:
            return None
        concurrent.futures.wait([self._preparation])  # torch and the network's checks
        if self._preparation.exception() is not None:
            error = self._preparation.exception()
            self._show_error(error)
            return None
        values = self.values
        try:
            self.compute(**values)
        except ValueError as error:
            self._set_message(str(error), "error")
            return None
        total = values["epochs"] * self.steps_per_epoch
        self._running = True
        self.start_button.disabled = True
        try:
            bar = self._clear_for_run(values, total)
            drawn = [0]  # evaluations drawn so far

            def redraw(history, monitor):
                bar.update(1)
                if len(history.eval_step) > drawn[0]:
                    drawn[0] = len(history.eval_step)
                    self._animated = self.view.update(history, monitor)
                    self._blit()

            run = monitored_run(
                self.data,
                {**self.settings, **values},
                eval_every=evaluation_interval(total),
                # SGD and momentum without torch.optim (its import costs ~2 s), same steps
                optimizer=lean_optimizer(self.settings["optimizer"], values["lr"]),
                callback=redraw,
            )
            bar.close()
        except Exception as error:  # noqa: BLE001 - a click handler shows, never raises
            self._show_error(error)
            return None
        finally:
            self._running = False
            self.start_button.disabled = False
        self.monitor, self._history, self.run_values = run.monitor, run.history, values
        self.update()
        return run.history

    def _clear_for_run(self, values, total: int):
        """Empty the panels for a run of ``total`` steps; return its new progress bar."""
        new_axes = self.view.set_steps(total)
        self._history = None
        self._set_message("", "warning")
        self.summary = f"training with lr={values['lr']:.3g}, epochs={values['epochs']}"
        self._summary.value = f"<code>{self.summary}</code>"
        self._animated = self.view.update(None)
        self.view.plan.set_text(f"training: lr = {values['lr']:.3g}, {_epochs(values['epochs'])}")
        if new_axes:
            self.canvas.draw()  # new x limits: a full draw (keeps the background)
        else:
            self._blit()  # same axes as the background: only the (emptied) curves change
        self.progress = bar = _progress_bar(total)
        if hasattr(bar, "container"):
            self._bar_slot.children = (bar.container,)
        return bar


def training_dashboard(**start) -> TrainingDashboard:
    """Build chapter 09's dashboard; keyword arguments set the starting values.

    Accepted: ``lr``, ``epochs`` (controls), and ``data`` (an object with ``x_train``,
    ``y_train``, ``x_val``, ``y_val``) or ``dataset`` (a name for
    :func:`course_utils.data.load_dataset`), ``depth``, ``width``, ``optimizer``,
    ``batch_size``, ``seed``, ``figsize``, ``dpi``. See :class:`TrainingDashboard`.
    """
    return TrainingDashboard(**start)
