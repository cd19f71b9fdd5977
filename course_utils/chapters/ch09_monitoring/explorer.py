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
:class:`~course_utils.monitoring.Monitor`; ``.progress`` its progress bar.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import ipywidgets
import numpy as np
from matplotlib.figure import Figure

from course_utils import monitoring
from course_utils.plots import check_figure_size
from course_utils.seed_runs import _check_data, lean_optimizer
from course_utils.training import MAX_TRAIN_STEPS, OPTIMIZERS, single_torch_thread
from course_utils.validation import (
    MAX_SEED,
    check_bool,
    check_choice,
    check_int,
    check_real,
    check_sequence,
)
from course_utils.widgets.base import Explorer, IntSlider, LogSlider, check_start_value

__all__ = [
    "DashboardState",
    "TrainingCurves",
    "TrainingDashboard",
    "training_dashboard",
    "evaluation_interval",
    "LR_RANGE",
    "MAX_EPOCHS",
    "EVALUATIONS",
    "MIN_DPI",
    "MAX_LAYERS",
]

#: Learning rates the slider offers (a log scale: each notch multiplies by 10^0.25).
LR_RANGE = (1e-4, 10.0)
#: Most epochs the slider offers (the default MLP on the digits: ~22 steps an epoch).
MAX_EPOCHS = 30
#: About this many evaluations (and redraws) per run, whatever its length.
EVALUATIONS = 15
#: Smoothing of the loss and ratio curves (:func:`course_utils.monitoring.ema`).
SMOOTHING = 0.9
RATIO_YLIM = (1e-6, 10.0)
#: Smallest dpi: below it the labels' fonts are under a pixel and FreeType refuses them.
MIN_DPI = 20
#: Most layers the ratio panel draws (one line and legend entry each).
MAX_LAYERS = 50
_LAYER_COLOURS = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22")


class TrainingCurves:
    """Three panels with fixed limits: loss, accuracy, update-to-weight ratio per layer.

    Parameters
    ----------
    figure : matplotlib.figure.Figure
    layers : sequence of str
        The monitored layers (``W1`` ... ``WL``).
    num_classes : int
        Sets the loss axis: 0 to 1.5 ln C (a fresh classifier starts near ln C).
    animated : bool
        Mark the data artists animated (blitted by the explorer).
    """

    def __init__(self, figure: Figure, layers, num_classes: int = 10, animated: bool = False):
        if not isinstance(figure, Figure):
            raise ValueError(f"figure must be a matplotlib Figure; got {type(figure).__name__}")
        layers = check_sequence(
            "layers",
            layers,
            lambda n, v: v if isinstance(v, str) else check_choice(n, v, ("a layer name (str)",)),
            max_len=MAX_LAYERS,
        )
        num_classes = check_int("num_classes", num_classes, 2, 10**6)
        animated = check_bool("animated", animated)
        self.figure = figure
        self.layers = tuple(layers)
        self.loss_ax, self.acc_ax, self.ratio_ax = figure.subplots(1, 3)
        ax = self.loss_ax
        (self.step_loss,) = ax.plot(
            [], [], color="#d62728", alpha=0.25, lw=0.8, animated=animated, label="minibatch"
        )
        (self.smooth_loss,) = ax.plot(
            [], [], color="#d62728", lw=1.8, animated=animated, label=f"smoothed ({SMOOTHING:g})"
        )
        (self.val_loss,) = ax.plot(
            [], [], "o-", ms=3, color="#ff7f0e", lw=1, animated=animated, label="validation"
        )
        ax.set_ylim(0.0, 1.5 * math.log(num_classes))
        ax.set_title("loss", fontsize=10)
        ax.legend(loc="upper right", fontsize=7)
        ax = self.acc_ax
        (self.train_acc,) = ax.plot(
            [], [], "o-", ms=3, color="#1f77b4", animated=animated, label="train"
        )
        (self.val_acc,) = ax.plot(
            [], [], "o-", ms=3, color="#ff7f0e", animated=animated, label="validation"
        )
        ax.set_ylim(0.0, 1.02)
        ax.set_title("accuracy", fontsize=10)
        ax.legend(loc="lower right", fontsize=7)
        ax = self.ratio_ax
        self.ratios = [
            ax.plot(
                [],
                [],
                color=_LAYER_COLOURS[i % len(_LAYER_COLOURS)],
                lw=1.2,
                animated=animated,
                label=name,
            )[0]
            for i, name in enumerate(self.layers)
        ]
        ax.axhline(monitoring.HEALTHY_RATIO, color="k", ls="--", lw=0.8)
        ax.set_yscale("log")
        ax.set_ylim(*RATIO_YLIM)
        ax.set_title("||Δw|| / ||w|| per step", fontsize=10)
        ax.legend(loc="upper right", fontsize=7, ncol=2)
        for ax in (self.loss_ax, self.acc_ax, self.ratio_ax):
            ax.set_xlabel("step", fontsize=8)
            ax.tick_params(labelsize=8)
        #: One line above the panels: the run shown, or the one Start will train.
        # (an axes' child, not a figure text: savefig draws animated artists of axes only)
        self.plan = self.loss_ax.text(
            -0.12,
            1.13,
            "",
            transform=self.loss_ax.transAxes,
            va="bottom",
            fontsize=9,
            animated=animated,
            clip_on=False,
        )
        self.set_steps(100)
        figure.subplots_adjust(left=0.05, right=0.99, bottom=0.15, top=0.83, wspace=0.25)

    @property
    def artists(self) -> list:
        return [
            self.step_loss,
            self.smooth_loss,
            self.val_loss,
            self.train_acc,
            self.val_acc,
            *self.ratios,
            self.plan,
        ]

    def set_steps(self, total: int) -> None:
        """Fix the x axes to a run of ``total`` steps (changes the axes: a full draw)."""
        for ax in (self.loss_ax, self.acc_ax, self.ratio_ax):
            ax.set_xlim(0, max(int(total), 1))

    def update(self, history=None, monitor=None) -> list:
        """Show ``history`` (and ``monitor``'s ratios); ``None`` empties the panels."""
        if history is None:
            for line in self.artists[:-1]:
                line.set_data([], [])
            return self.artists
        loss = np.asarray(history.step_loss, dtype=np.float64)
        steps = np.arange(1, len(loss) + 1)
        self.step_loss.set_data(steps, np.where(np.isfinite(loss), loss, np.nan))
        self.smooth_loss.set_data(steps, monitoring.ema(loss, SMOOTHING, nonfinite="pass"))
        self.val_loss.set_data(history.eval_step, history.val_loss)
        self.train_acc.set_data(history.eval_step, history.train_acc)
        self.val_acc.set_data(history.eval_step, history.val_acc)
        for line, name in zip(self.ratios, self.layers):
            if monitor is None or not monitor.steps:
                line.set_data([], [])
                continue
            r = np.asarray(monitor.ratios[name], dtype=np.float64)
            line.set_data(monitor.steps, monitoring.ema(r, SMOOTHING, nonfinite="pass"))
        return self.artists


def evaluation_interval(total: int, evaluations: int = EVALUATIONS) -> int:
    """Steps between evaluations for a run of ``total`` steps: about ``evaluations`` of
    them, and a divisor of ``total`` where one is close, so the last one is at the last step.

    ``total``: 1 to ``training.MAX_TRAIN_STEPS``; ``evaluations``: 1 to ``total``... or more
    (then every step is evaluated). The divisors are found up to ``sqrt(total)`` in pairs.
    """
    total = check_int("total", total, 1, MAX_TRAIN_STEPS)
    evaluations = check_int("evaluations", evaluations, 1, MAX_TRAIN_STEPS)
    divisors = {
        d for k in range(1, math.isqrt(total) + 1) if total % k == 0 for d in (k, total // k)
    }
    best = min(sorted(divisors), key=lambda d: abs(total / d - evaluations))
    if not evaluations / 2 <= total / best <= 2 * evaluations:  # e.g. a large prime total
        return max(1, math.ceil(total / evaluations))
    return best


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
    the first; ``result`` a :class:`DashboardState`); ``monitor`` its :class:`~course_utils.monitoring.Monitor`; ``run_values`` the
    ``lr`` and ``epochs`` it used. The network (``depth``, ``width``, ReLU, Kaiming init),
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
        from course_utils.training import build_mlp

        style = {"description_width": "50px"}
        controls = {
            "lr": LogSlider(
                base=10,
                min=math.log10(LR_RANGE[0]),
                max=math.log10(LR_RANGE[1]),
                step=0.25,
                description="lr",
                readout_format=".3g",
                style=style,
                continuous_update=False,
            ),
            "epochs": IntSlider(
                min=1, max=MAX_EPOCHS, description="epochs", style=style, continuous_update=False
            ),
        }
        # every argument checked before anything is built: a bad one is a ValueError here,
        # never a traceback out of Start's click handler later
        for name, value in (("lr", lr), ("epochs", epochs)):
            check_start_value(name, controls[name], value)
        check_real("dpi", dpi, MIN_DPI)
        check_figure_size(figsize, dpi)
        check_choice("optimizer", optimizer, OPTIMIZERS)
        seed = check_int("seed", seed, 0, MAX_SEED)  # torch's generator takes an int
        if data is None:
            from course_utils.data import load_dataset

            data = load_dataset(dataset)
        n_train = len(_check_data(data)[0])
        batch_size = check_int("batch_size", batch_size, 1, n_train)
        self.data = data
        self.num_classes = int(getattr(data, "num_classes", 0) or np.max(data.y_train) + 1)
        self.settings = dict(
            depth=depth, width=width, optimizer=optimizer, batch_size=batch_size, seed=seed
        )
        # build once now: the network's own checks, and the layer names for the legend
        layers = monitoring.linear_layers(
            build_mlp(np.asarray(data.x_train).shape[1], self.num_classes, depth, width, seed=seed)
        )
        self.monitor = None
        self.progress = None
        self.run_values = None
        self._history = None
        self._running = False
        self.view = TrainingCurves(
            Figure(figsize=figsize, dpi=dpi), tuple(layers), self.num_classes, animated=True
        )
        self._bar_slot = ipywidgets.Box()
        #: Trains with the sliders' settings (not a control: it has no value).
        self.start_button = ipywidgets.Button(
            description="Start",
            button_style="success",
            icon="play",
            tooltip="train with these settings",
        )
        super().__init__(controls, self.view.figure, lr=lr, epochs=epochs)
        self.start_button.on_click(self.start)
        box, *rest = self.widget.children
        self.widget.children = (ipywidgets.HBox([box, self.start_button]), self._bar_slot, *rest)

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
    def start(self, button=None):
        """Train with the controls' settings, redrawing at every evaluation; return the
        History (``None`` if the settings were rejected: see ``.message``)."""
        from course_utils.training import build_mlp, train

        if self._running:
            return None
        values = self.values
        try:
            self.compute(**values)
        except ValueError as error:
            self._set_message(str(error), "error")
            return None
        s = self.settings
        x_train = np.asarray(self.data.x_train)
        steps_per_epoch = math.ceil(len(x_train) / s["batch_size"])
        total = values["epochs"] * steps_per_epoch
        eval_every = evaluation_interval(total)
        self._running = True
        self.start_button.disabled = True
        try:
            with single_torch_thread():
                model = build_mlp(
                    x_train.shape[1], self.num_classes, s["depth"], s["width"], seed=s["seed"]
                )
                self.monitor = monitor = monitoring.Monitor(model)
                self.view.set_steps(total)
                self._history = None
                self._set_message("", "warning")
                self.summary = f"training with lr={values['lr']:.3g}, epochs={values['epochs']}"
                self._summary.value = f"<code>{self.summary}</code>"
                self._animated = self.view.update(None)
                self.view.plan.set_text(
                    f"training: lr = {values['lr']:.3g}, {_epochs(values['epochs'])}"
                )
                self.canvas.draw()  # new x limits: a full draw (keeps the background)
                self.progress = bar = _progress_bar(total)
                if hasattr(bar, "container"):
                    self._bar_slot.children = (bar.container,)
                drawn = [0]

                def callback(history, model):
                    monitor(history, model)
                    bar.update(1)
                    if len(history.eval_step) > drawn[0]:
                        drawn[0] = len(history.eval_step)
                        self._animated = self.view.update(history, monitor)
                        self._blit()

                # SGD and momentum without torch.optim (its import costs ~2 s), same steps
                optimizer = lean_optimizer(s["optimizer"], values["lr"])
                history = train(
                    model,
                    self.data,
                    optimizer,
                    lr=values["lr"],
                    epochs=values["epochs"],
                    batch_size=s["batch_size"],
                    seed=s["seed"],
                    eval_every=eval_every,
                    callback=callback,
                    progress=False,
                )
                bar.close()
        except Exception as error:  # noqa: BLE001 - a click handler shows, never raises
            self._set_message(
                f"{type(error).__name__}: {error}"
                if not isinstance(error, ValueError)
                else str(error),
                "error",
            )
            return None
        finally:
            self._running = False
            self.start_button.disabled = False
        self._history, self.run_values = history, values
        self.update()
        return history


def training_dashboard(**start) -> TrainingDashboard:
    """Build chapter 09's dashboard; keyword arguments set the starting values.

    Accepted: ``lr``, ``epochs`` (controls), and ``data`` (an object with ``x_train``,
    ``y_train``, ``x_val``, ``y_val``) or ``dataset`` (a name for
    :func:`course_utils.data.load_dataset`), ``depth``, ``width``, ``optimizer``,
    ``batch_size``, ``seed``, ``figsize``, ``dpi``. See :class:`TrainingDashboard`.
    """
    return TrainingDashboard(**start)
