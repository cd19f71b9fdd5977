"""The explorer contract (course_utils.widgets.base), checked once for every registered explorer.

Each explorer of ``course_utils.widgets.registry.EXPLORERS`` is built in a plain Python process
and driven as a browser would, by setting its controls' ``.value``. What every explorer must
do is tested here; what only one explorer does (its numbers, its messages) is tested in its
chapter's ``tests/chapters/chNN_*/test_chNN_explorer.py``.
"""

from __future__ import annotations

import base64
import dataclasses
import io
import math

import ipywidgets
import numpy as np
import pytest
from explorer_testing import count_full_draws, hold_worker, pixels
from matplotlib.figure import Figure

from course_utils.widgets.registry import CHECKBOX, DROPDOWN, EXPLORERS, SLIDER

SLIDERS = (ipywidgets.IntSlider, ipywidgets.FloatSlider, ipywidgets.FloatLogSlider)
KINDS = {
    SLIDER: SLIDERS + (ipywidgets.SelectionSlider,),
    DROPDOWN: (ipywidgets.Dropdown,),
    CHECKBOX: (ipywidgets.Checkbox,),
}


@pytest.fixture(scope="module", params=EXPLORERS, ids=lambda e: e.name)
def case(request):
    entry = request.param
    explorer = entry.load()()
    assert explorer.wait_ready()  # what it prepares in the background (issue 20)
    yield entry, explorer
    ipywidgets.Widget.close_all()


def _other_value(control):
    """A valid value of ``control`` different from its current one."""
    if isinstance(control, ipywidgets.Checkbox):
        return not control.value
    if isinstance(control, (ipywidgets.Dropdown, ipywidgets.SelectionSlider)):
        values = [o[1] if isinstance(o, tuple) else o for o in control.options]
        i = values.index(control.value)
        return values[(i + 1) % len(values)]
    if isinstance(control, ipywidgets.FloatLogSlider):
        lo, hi = control.base**control.min, control.base**control.max
        return hi if not math.isclose(control.value, hi) else lo
    return control.max if control.value != control.max else control.min


def _set(explorer, name, value):
    explorer.controls[name].value = value
    return explorer


def test_contract_attributes(case):
    entry, explorer = case
    assert isinstance(explorer.controls, dict) and explorer.controls
    assert all(isinstance(c, ipywidgets.ValueWidget) for c in explorer.controls.values())
    assert isinstance(explorer.figure, Figure) and explorer.canvas.figure is explorer.figure
    assert explorer.result is not None, explorer.message
    assert isinstance(explorer.message, str) and isinstance(explorer.summary, str)


def _plain(value):
    """A result as nested lists and dicts of its fields, for np.testing.assert_equal."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if type(value).__module__.startswith("course_utils"):  # a plain result class
        names = getattr(value, "__dict__", None) or getattr(type(value), "__slots__", ())
        return {k: _plain(getattr(value, k)) for k in names}
    return value


@pytest.mark.parametrize("entry", EXPLORERS, ids=lambda e: e.name)
def test_building_leaves_heavy_work_to_the_background(entry):
    """Issue 20: building returns without the heavy work. With the background worker held,
    an explorer that prepares something shows its "preparing" state (and its result, if the
    result needs it, is None); the others are complete at once. Either way the result, once
    ready, is the synchronous computation's. (Times are benchmarks/widget_ready.py's.)"""
    from course_utils.widgets.base import Explorer

    with hold_worker() as release:
        explorer = entry.load()()
        if type(explorer).prepare is not Explorer.prepare:
            assert not explorer.ready
            assert explorer.message == explorer.preparing_message
            assert explorer.message.startswith("preparing")
            if explorer.result_needs_preparation:
                assert explorer.result is None
        else:
            assert explorer.ready and explorer.result is not None
        release.set()
    assert explorer.wait_ready()
    assert explorer.ready and explorer.message != explorer.preparing_message
    np.testing.assert_equal(_plain(explorer.result), _plain(explorer.compute(**explorer.values)))
    ipywidgets.Widget.close_all()


@pytest.mark.parametrize("entry", EXPLORERS, ids=lambda e: e.name)
def test_a_stored_output_shows_the_result_when_the_preparation_ended_before_display(entry):
    """Under nbclient and nbval the PNG of the output is what a notebook stores (and GitHub
    shows). The preparation can end after the build but before the kernel's loop redraws the
    figure: the display must then show the result, never the "preparing" state."""
    import concurrent.futures

    from course_utils.widgets.base import Explorer

    with hold_worker() as release:
        explorer = entry.load()()
        release.set()
    if type(explorer).prepare is not Explorer.prepare:
        concurrent.futures.wait([explorer._preparation])
        assert explorer.ready and explorer.message == explorer.preparing_message  # stale
    bundle = explorer._repr_mimebundle_()
    assert explorer.message != explorer.preparing_message
    if explorer.result_needs_preparation:
        assert explorer.result is not None
    np.testing.assert_equal(_plain(explorer.result), _plain(explorer.compute(**explorer.values)))
    assert bundle["image/png"] == base64.b64encode(explorer.snapshot_png()).decode("ascii")
    ipywidgets.Widget.close_all()


def test_controls_are_the_registered_ones(case):
    """The registry (and so the browser test) names real controls, of the right kind, labelled
    with their name."""
    entry, explorer = case
    for control in entry.controls:
        widget = explorer.controls.get(control.name)
        assert widget is not None, f"{entry.name}: no control {control.name!r}"
        assert isinstance(widget, KINDS[control.kind]), f"{control.name} is not a {control.kind}"
        assert widget.description == control.name
        if control.kind == SLIDER:
            assert widget.continuous_update == control.continuous, control.name
    for option_of, option in entry.setup:
        assert option in [
            o[0] if isinstance(o, tuple) else o for o in explorer.controls[option_of].options
        ]


def test_every_control_recomputes_and_redraws_in_place_before_returning(case):
    entry, explorer = case
    figure, axes = explorer.figure, list(explorer.figure.axes)
    seen = None
    for _ in range(2):  # the second pass revisits every layout: nothing new may be built
        for name, control in explorer.controls.items():
            if control.disabled:
                continue
            start, before = control.value, explorer.result
            new = _other_value(control)
            control.value = new
            assert control.value == (pytest.approx(new) if isinstance(new, float) else new)
            assert explorer.result is not before or explorer.message, (
                f"{entry.name}: {name} = {new!r} did not recompute"
            )
            assert explorer.values[name] == control.value
            control.value = start
        assert explorer.figure is figure and set(axes) <= set(figure.axes)
        assert seen is None or figure.axes == seen, f"{entry.name}: new axes on a second visit"
        seen = list(figure.axes)


def test_blitted_frames_equal_a_full_redraw(case):
    entry, explorer = case
    explorer.figure.savefig(io.BytesIO(), format="png")
    start = explorer.values
    for name, control in list(explorer.controls.items())[:4]:
        if not control.disabled:
            control.value = _other_value(control)
    blitted = pixels(explorer)
    explorer.canvas.draw()
    np.testing.assert_array_equal(blitted, pixels(explorer))
    for name, value in start.items():  # the next test starts from the explorer's defaults
        explorer.controls[name].value = value


def test_moves_of_continuous_sliders_are_blitted(case):
    """A slider that redraws while it moves never triggers a full draw once its layout is
    drawn (full draws cost ~10x a blit)."""
    entry, explorer = case
    continuous = [c.name for c in entry.controls if c.kind == SLIDER and c.continuous]
    for name in continuous:
        control = explorer.controls[name]
        if control.disabled:
            continue
        start, other = control.value, _other_value(control)
        control.value = other  # a layout first seen may draw once
        control.value = start
        full = count_full_draws(explorer)
        control.value = other
        control.value = start
        assert full["n"] == 0, f"{entry.name}: moving {name} drew the whole figure"


@pytest.mark.parametrize("bad", [math.nan, -1e12, 1e12])
def test_bad_slider_values_show_a_message_never_raise(case, bad):
    entry, explorer = case
    for name, control in explorer.controls.items():
        if not isinstance(control, SLIDERS) or control.disabled:
            continue
        start = control.value
        if isinstance(control, ipywidgets.IntSlider) and math.isnan(bad):
            continue  # an IntSlider cannot hold NaN: traitlets refuses it in the browser too
        try:
            control.value = int(bad) if isinstance(control, ipywidgets.IntSlider) else bad
        except Exception as error:  # noqa: BLE001 - the point: nothing may escape
            pytest.fail(f"{entry.name}: {name} = {bad} raised {error!r}")
        assert explorer.message, f"{entry.name}: {name} = {bad} showed no message"
        control.value = start
        assert explorer.result is not None, explorer.message


@pytest.mark.parametrize("entry", EXPLORERS, ids=lambda e: e.name)
def test_bad_starting_values_are_value_errors(entry):
    for control in entry.controls:
        for bad in (None, "nonsense", math.nan, -(10**9), 10**9):
            with pytest.raises(ValueError, match=control.name):
                entry.load()(**{control.name: bad})
    ipywidgets.Widget.close_all()


def test_mimebundle_has_the_live_widget_a_static_png_and_stable_text(case):
    entry, explorer = case
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["image/png"]
    assert bundle["text/plain"] == repr(explorer)
    assert repr(explorer).startswith(type(explorer).__name__ + "(")


def test_the_static_snapshot_carries_the_summary_and_message_lines(case):
    """Where widgets cannot run (GitHub, nbviewer) the PNG is all a reader sees: the numbers
    the live widget prints above the figure are drawn under it, one band per text line."""
    import io

    import matplotlib.image

    entry, explorer = case
    width, height = (round(v) for v in explorer.figure.get_size_inches() * explorer.figure.dpi)
    shot = matplotlib.image.imread(io.BytesIO(explorer.snapshot_png()), format="png")
    assert shot.shape[1] == width
    if explorer.summary or explorer.message:
        assert shot.shape[0] > height + 10
        band = shot[height:, :, :3]
        assert (band < 0.5).any(), "the text band under the figure is blank"
    else:
        assert shot.shape[0] == height


def test_every_explorer_and_control_is_benchmarked():
    """benchmarks/widget_latency.py times every registered explorer's controls."""
    from pathlib import Path

    source = (Path(__file__).resolve().parents[2] / "benchmarks" / "widget_latency.py").read_text()
    for entry in EXPLORERS:
        assert entry.function in source, f"no benchmark scenario builds {entry.function}"
        for control in entry.controls:
            assert f'"{control.name}"' in source, f"{entry.name}: {control.name} is not timed"
