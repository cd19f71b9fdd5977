"""Every chapter's explorer, listed once: what the tests, benchmarks and browser test read.

One :class:`Entry` per notebook with an explorer: where its factory lives, how the notebook's
explorer cell starts, and the controls a student moves (by their label, with their kind).
Readers:

- ``tests/widgets/test_explorer_contract.py`` builds every explorer and checks the contract
  of :mod:`course_utils.widgets.base` (and that the controls listed here are the explorer's);
- ``tests/browser/test_jupyterlab.py`` opens each notebook in JupyterLab and moves these
  controls in the browser;
- ``benchmarks/widget_latency.py`` builds the explorers from here.

Adding a chapter's explorer is one ``Entry`` here (and its folder under
``course_utils/chapters``).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

__all__ = ["SLIDER", "DROPDOWN", "CHECKBOX", "Control", "Entry", "EXPLORERS", "entry", "build"]

SLIDER, DROPDOWN, CHECKBOX = "slider", "dropdown", "checkbox"


@dataclass(frozen=True)
class Control:
    """A control by its name (= its on-screen label) and kind.

    ``continuous``: the control redraws while it moves (a slider with ipywidgets' default
    ``continuous_update=True``); it selects the stricter latency target (150 ms, else 300).
    """

    name: str
    kind: str
    continuous: bool = False

    @property
    def label(self) -> str:
        """The text of the control's ``.widget-label`` in the browser (its name)."""
        return self.name


def slider(name: str, continuous: bool = True) -> Control:
    return Control(name, SLIDER, continuous)


def dropdown(name: str) -> Control:
    return Control(name, DROPDOWN)


def checkbox(name: str) -> Control:
    return Control(name, CHECKBOX)


@dataclass(frozen=True)
class Entry:
    """One chapter's explorer.

    ``factory``: ``"module:function"``; ``cell``: how a line of the notebook's explorer cell
    starts (exactly one cell matches); ``controls``: the controls a student moves, in order;
    ``setup``: (control, option) pairs set first so that every listed control acts.
    """

    name: str
    chapter: str
    notebook: str
    factory: str
    cell: str
    controls: tuple
    setup: tuple = ()

    def load(self):
        """The factory function (imported on first use)."""
        module, function = self.factory.split(":")
        return getattr(importlib.import_module(module), function)

    @property
    def function(self) -> str:
        return self.factory.split(":")[1]


def _entry(name, chapter, slug, function, controls, cell_var="explorer", setup=()):
    return Entry(
        name=name,
        chapter=chapter,
        notebook=f"{chapter}_{slug}.ipynb",
        factory=f"course_utils.chapters.ch{chapter}_{_FOLDERS[chapter]}.explorer:{function}",
        cell=f"{cell_var} = {function}(",
        controls=tuple(controls),
        setup=setup,
    )


_FOLDERS = {
    "01": "activations",
    "02": "preprocessing",
    "03": "initialization",
    "04": "batchnorm",
    "05": "optimizers",
    "06": "schedules",
    "07": "regularization",
    "08": "sanity_checks",
    "09": "monitoring",
    "10": "tuning",
}

EXPLORERS = (
    _entry(
        "activation",
        "01",
        "activation_functions",
        "activation_explorer",
        [dropdown("activation"), slider("scale"), slider("bias")],
    ),
    _entry(
        "whitening",
        "02",
        "data_preprocessing",
        "whitening_explorer",
        [slider("correlation"), slider("angle"), slider("scale")],
    ),
    _entry(
        "init",
        "03",
        "weight_initialization",
        "init_explorer",
        [
            dropdown("scheme"),
            slider("std"),
            dropdown("activation"),
            slider("depth"),
            slider("width"),
        ],
    ),
    _entry(
        "batchnorm",
        "04",
        "batch_norm",
        "batchnorm_explorer",
        [slider("std"), checkbox("batchnorm"), slider("batch_size")],
    ),
    # RMSprop uses all three of lr, momentum and beta2 (its alpha); plain SGD ignores beta2.
    _entry(
        "optimizer",
        "05",
        "optimizers",
        "optimizer_explorer",
        [
            dropdown("optimizer"),
            slider("lr"),
            slider("momentum"),
            slider("beta2"),
            slider("steps", continuous=False),
            dropdown("surface"),
        ],
        setup=(("optimizer", "RMSprop"),),
    ),
    _entry(
        "schedule",
        "06",
        "learning_rate_schedules",
        "schedule_explorer",
        [
            dropdown("schedule"),
            slider("base_lr"),
            slider("warmup_steps"),
            slider("decay_steps"),
            slider("gamma"),
        ],
    ),
    _entry(
        "dropout",
        "07",
        "regularization",
        "dropout_explorer",
        [slider("p"), dropdown("version"), dropdown("method"), slider("seed")],
    ),
    _entry(
        "sanity",
        "08",
        "sanity_checks",
        "sanity_explorer",
        [slider("h"), dropdown("method"), dropdown("dtype")],
    ),
    # The dashboard's sliders set the next run (a text line on the canvas changes); training
    # starts with its button, which the browser test does not press.
    _entry(
        "training",
        "09",
        "monitoring",
        "training_dashboard",
        [slider("lr", continuous=False), slider("epochs", continuous=False)],
        cell_var="dashboard",
    ),
    _entry(
        "search",
        "10",
        "hyperparameter_tuning",
        "search_explorer",
        [dropdown("strategy"), slider("budget"), slider("seed")],
    ),
)


def entry(name: str) -> Entry:
    """The entry called ``name`` (``"init"``) or whose factory is ``name``
    (``"init_explorer"``)."""
    for e in EXPLORERS:
        if isinstance(name, str) and name in (e.name, e.function):
            return e
    names = ", ".join(e.name for e in EXPLORERS)
    raise ValueError(f"no explorer called {name!r}; the explorers are {names}")


def build(name: str, **start):
    """Build the explorer ``name`` with its starting values."""
    return entry(name).load()(**start)
