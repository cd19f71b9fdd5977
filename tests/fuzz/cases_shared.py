"""Valid example calls of the shared modules' public callables (data, network, training,
stats, tables, plots, validation, checking, references, the widgets framework), varied one
argument at a time by tests/fuzz/harness.py."""

import io
import tarfile
import tempfile
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from course_utils import (
    checking,
    data,
    lean_sgd,
    network,
    plots,
    references,
    splitting,
    stacked,
    stats,
    tables,
    threads,
    torch_state,
    training,
    validation,
)
from course_utils.widgets import base, canvas, controls, prefetch, registry

MODULES = [
    "course_utils.data",
    "course_utils.network",
    "course_utils.training",
    "course_utils.models",
    "course_utils.lean_sgd",
    "course_utils.stacked",
    "course_utils.torch_state",
    "course_utils.threads",
    "course_utils.splitting",
    "course_utils.stats",
    "course_utils.tables",
    "course_utils.plots",
    "course_utils.validation",
    "course_utils.checking",
    "course_utils.references",
    "course_utils.widgets.base",
    "course_utils.widgets.controls",
    "course_utils.widgets.canvas",
    "course_utils.widgets.prefetch",
    "course_utils.widgets.registry",
    "course_utils.widgets",
]


def _fake_cifar10() -> Path:
    """A 10-image CIFAR-10 release in a temporary folder (the real one is 170 MB)."""
    root = Path(tempfile.mkdtemp(prefix="fuzz-cifar-"))
    rng = np.random.default_rng(0)
    files = {}
    for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
        labels = rng.integers(0, 10, size=(2, 1), dtype=np.uint8)
        files[name] = np.concatenate(
            [labels, rng.integers(0, 256, size=(2, 3072), dtype=np.uint8)], axis=1
        ).tobytes()
    files["batches.meta.txt"] = b"\n".join(b"c%d" % i for i in range(10)) + b"\n\n"
    with tarfile.open(root / "cifar-10-binary.tar.gz", "w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return root


_X = np.linspace(-1, 1, 12).reshape(4, 3)
_W = [np.full((3, 2), 0.1), np.full((2, 2), 0.2)]
_RECORD = network.forward(_X, _W)
_DATA = data.load_dataset("digits", max_train=64, max_val=32)
_MODEL = training.build_mlp(64, 10, depth=1, width=8, seed=0)


def _model():
    return training.build_mlp(64, 10, depth=1, width=8, seed=0)


CASES = [
    (data.load_digits, dict(validation=0.25, seed=0)),
    (data.check_digits, dict(data=_DATA, max_rows=2000)),
    (data.load_sample_photos, dict()),
    (data.load_cifar10, dict(root=_fake_cifar10(), download=False, verify=False)),
    (data.load_dataset, dict(name="digits", max_train=64, max_val=32, seed=0)),
    (torch_state.torch_state, dict(threads=1, seed=0, dtype="float32")),
    (torch_state.global_torch_state, dict()),
    (torch_state.seed_cpu, dict(seed=0)),
    (threads.one_thread, dict(openmp=True)),
    (threads.one_blas_thread, dict()),
    (splitting.stratified_split, dict(y=np.repeat(np.arange(3), 4), validation=0.5, seed=0)),
    (
        splitting.stratified_splits,
        dict(y=np.repeat(np.arange(3), 4), validation=0.5, seed=0, n_splits=3),
    ),
    (network.forward, dict(x=_X, weights=_W, activation="tanh")),
    (
        network.backward,
        dict(record=_RECORD, weights=_W, upstream=np.ones((4, 2)), activation="tanh"),
    ),
    (
        training.build_mlp,
        dict(
            in_features=64,
            num_classes=10,
            depth=1,
            width=8,
            activation="relu",
            init="kaiming",
            batchnorm=False,
            dropout=0.0,
            seed=0,
        ),
    ),
    (
        training.build_mlp,
        dict(
            in_features=64,
            num_classes=10,
            depth=1,
            width=8,
            activation="tanh",
            init="normal",
            std=0.01,
            seed=0,
        ),
    ),
    (training.make_optimizer, dict(name="sgd", params=list(_MODEL.parameters()), lr=0.1)),
    (
        training.train,
        dict(
            model=_MODEL,
            data=_DATA,
            optimizer="sgd",
            lr=0.1,
            epochs=1,
            batch_size=32,
            seed=0,
            progress=False,
        ),
    ),
    (training.check_data, dict(data=_DATA)),
    (training.check_data_arrays, dict(data=_DATA)),
    (
        lean_sgd.LeanSGD,
        dict(params=list(_MODEL.parameters()), lr=0.1, momentum=0.9, weight_decay=0.0),
    ),
    (lean_sgd.lean_optimizer, dict(name="momentum", lr=0.1, weight_decay=0.0)),
    (stacked.minibatch_orders, dict(seeds=[0, 1], n_examples=10, epochs=2)),
    (training.check_batch, dict(model=_MODEL, x=_DATA.x_val, y=_DATA.y_val)),
    (training.check_model, dict(model=_MODEL)),
    (training.evaluate, dict(model=_MODEL, x=_DATA.x_val, y=_DATA.y_val)),
    (training.hidden_activations, dict(model=_MODEL, x=_DATA.x_val)),
    (training.torch_threads, dict(threads=1)),
    (training.single_torch_thread, dict()),
    (stats.layer_stats, dict(activations=[np.linspace(-1, 1, 12).reshape(4, 3)])),
    (stats.spread, dict(values=[1.0, 2.0, 4.0])),
    (
        tables.format_table,
        dict(
            columns={"a": [1.0, 2.5], "b": [3, 4]},
            index=["x", "y"],
            index_name="row",
            digits=3,
            percent=(),
        ),
    ),
    (plots.histogram, dict(a=np.linspace(-1, 1, 50), activation="tanh", bins=10)),
    (plots.uniform_bin_counts, dict(values=np.linspace(-1, 1, 50), lo=-1.0, hi=1.0, bins=10)),
    (plots.check_figure_size, dict(figsize=(4.0, 3.0), dpi=96)),
    (plots.check_axes, dict(name="ax", ax=Figure().add_subplot())),
    (plots.LayerHistogramFigure, dict(figure=Figure(), panels=2, activation="tanh", bins=10)),
    (
        plots.plot_layer_histograms,
        dict(activations=[np.linspace(-1, 1, 40).reshape(8, 5)] * 2, activation="tanh", title="t"),
    ),
    (validation.check_int, dict(name="n", value=3, low=0, high=5)),
    (validation.check_real, dict(name="lr", value=0.5, low=0.0, high=1.0)),
    (validation.check_bool, dict(name="flag", value=True)),
    (validation.check_choice, dict(name="kind", value="a", options=("a", "b"))),
    (validation.check_seed, dict(name="seed", value=0)),
    (validation.make_rng, dict(seed=0)),
    (validation.fixed_seed, dict(name="seed", value=0)),
    (validation.check_elements, dict(name="shape", shape=(3, 4))),
    (validation.check_array, dict(name="x", value=np.ones((2, 3)), ndim=2)),
    (
        validation.check_sequence,
        dict(name="seeds", value=[0, 1], item=lambda n, x: validation.check_int(n, x, 0)),
    ),
    (
        validation.check_mapping,
        dict(name="runs", value={"a": 1.0}, kinds=float, what="float", max_len=3),
    ),
    (validation.check_work, dict(what="a run", multiply_adds=1e6)),
    (validation.check_callable, dict(name="f", value=abs)),
    (validation.check_directory, dict(name="d", value=str(Path(__file__).parent))),
    (validation.check_finite_result, dict(what="the loss", value=1.0)),
    (checking.check_cases, dict(name="f", func=abs, cases=[((-1.0,), {})], expected=abs)),
    (checking.call_answer, dict(exercise="adam_step", label="f", function=print)),
    (references.references_of, dict(exercise="adam_step")),
    (references.guard_holds, dict(exercise="adam_step")),
    (base.check_start_value, dict(name="n", control=base.IntSlider(min=0, max=3), value=1)),
    (canvas.make_canvas, dict(figure=Figure())),
    (canvas.fast_png_canvas_class, dict()),
    (prefetch.ResultCache, dict(compute=abs, max_items=4, delay=0.1)),
    (base.make_controls, dict(continuous=("rate",))),
    (controls.check_start, dict(controls=dict(n=base.IntSlider(min=0, max=3)), start=dict(n=1))),
    (controls.bounds, dict(control=base.IntSlider(min=0, max=3))),
    (base.new_figure, dict(figsize=(2, 1), dpi=50)),
    (registry.entry, dict(name="search")),
    (registry.build, dict(name="schedule")),
]

EXEMPT = {
    base.Explorer: "abstract: fuzzed through every chapter's explorer",
    base.LogSlider: "an ipywidgets control: its traits validate (and clamp, shown as a message)",
    base.IntSlider: "an ipywidgets control: its traits validate (and clamp, shown as a message)",
    base.FloatSlider: "an ipywidgets control: its traits validate (and clamp, shown as a message)",
    base.Dropdown: "ipywidgets.Dropdown itself (its traits validate)",
    base.Checkbox: "ipywidgets.Checkbox itself (its traits validate)",
    network.LayerStep: "takes no arguments (a base class to override)",
    references.reference_answer: "takes exercise names as *args only (tests/test_grading.py)",
    references.hidden: "takes exercise names as *args only (tests/test_grading.py)",
}
