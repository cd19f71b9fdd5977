"""Chapter 01's activation explorer, driven in a plain Python process as a browser would."""

import ipywidgets
import numpy as np
import pytest
from explorer_testing import count_full_draws

from course_utils import activations
from course_utils.chapters.ch01_activations import runs
from course_utils.chapters.ch01_activations.explorer import activation_explorer


@pytest.fixture
def explorer():
    return activation_explorer()


def direct_call(ex):
    v = ex.values
    return runs.unit_response(v["activation"], v["scale"], v["bias"], n=ex.n, seed=ex.seed)


def assert_result_matches(ex):
    want = direct_call(ex)
    for field in ("z", "a", "grad"):
        # Bit for bit: the same function on the same inputs in one process (exact by construction).
        np.testing.assert_array_equal(getattr(ex.result, field), getattr(want, field))
    assert (ex.result.saturated, ex.result.dead) == (want.saturated, want.dead)


def test_contract(explorer):
    assert set(explorer.controls) == {"activation", "scale", "bias"}
    assert isinstance(explorer.controls["scale"], ipywidgets.FloatLogSlider)
    assert isinstance(explorer.controls["bias"], ipywidgets.FloatSlider)
    assert explorer.controls["activation"].options == activations.NAMES
    assert explorer.figure is explorer.canvas.figure
    assert explorer.values == dict(activation="tanh", scale=1.0, bias=0.0)
    assert explorer.message == ""
    assert_result_matches(explorer)


@pytest.mark.parametrize(
    "name, value",
    [
        *[("activation", a) for a in activations.NAMES if a != "tanh"],
        ("scale", 0.01),
        ("scale", 5.0),
        ("scale", 100.0),
        ("bias", -2.5),
        ("bias", 3.0),
    ],
)
def test_every_control_recomputes_before_returning(explorer, name, value):
    before = explorer.result
    explorer.controls[name].value = value
    assert explorer.controls[name].value == pytest.approx(value)
    assert explorer.result is not before
    assert_result_matches(explorer)


def test_scale_and_bias_moves_are_blitted_and_a_new_activation_draws_once(explorer):
    figure, axes = explorer.figure, list(explorer.figure.axes)
    full = count_full_draws(explorer)
    for name, value in [("scale", 2.0), ("bias", 1.0), ("scale", 0.1), ("bias", -1.0)]:
        explorer.controls[name].value = value
    assert full["n"] == 0
    explorer.controls["activation"].value = "relu"
    assert full["n"] == 1
    for value in ["tanh", "relu", "tanh"]:  # layouts seen before: bitmaps kept
        explorer.controls["activation"].value = value
    assert full["n"] == 1
    assert explorer.figure is figure and explorer.figure.axes == axes


def test_what_is_drawn_is_the_output_histogram(explorer):
    explorer.controls["scale"].value = 2.0
    lo, hi = -1.1, 1.1
    counts = np.histogram(explorer.result.a, bins=60, range=(lo, hi))[0]
    np.testing.assert_allclose(explorer.view.out_bars.get_data().values, counts / counts.max())


def test_summary_reports_saturation_and_dead_units(explorer):
    explorer.controls["scale"].value = 10.0
    assert (
        f"saturated (flat tail, |f'(z)| < 0.01): {explorer.result.saturated:.1%}"
        in explorer.summary
    )
    assert explorer.result.saturated > 0.6
    assert explorer.message == (
        f"{explorer.result.saturated:.0%} of the units are saturated: "
        "they pass back less than 1% of their gradient"
    )
    explorer.controls["activation"].value = "relu"
    assert "dead (z ≤ 0, f' = 0): " in explorer.summary
    assert explorer.result.dead == pytest.approx(0.5, abs=0.01)
    explorer.controls["bias"].value = -3.0
    explorer.controls["scale"].value = 1.0
    assert explorer.result.dead > 0.99
    assert explorer.message == "100% of the units are dead for this input: f'(z) = 0"
    explorer.controls["bias"].value = 0.0
    assert explorer.message == ""  # half dead at bias 0 is ReLU's normal state


@pytest.mark.parametrize("value", [0, -1.0, 1e9])
def test_out_of_range_scale_is_clamped_with_a_message(explorer, value):
    explorer.controls["scale"].value = value
    assert f"scale = {value:g} is out of range" in explorer.message
    assert_result_matches(explorer)


def test_nan_scale_shows_a_message_and_clears_the_result(explorer):
    explorer.controls["scale"].value = float("nan")
    assert explorer.result is None
    assert explorer.message == "scale must be a finite number; got nan"
    explorer.controls["scale"].value = 1.0
    assert explorer.message == ""
    assert_result_matches(explorer)


def test_out_of_range_bias_is_clamped_with_a_message(explorer):
    explorer.controls["bias"].value = 50.0
    assert "bias = 50 is out of range (allowed -5 to 5); using 5" in explorer.message


def test_mimebundle_text_is_stable(explorer):
    bundle = explorer._repr_mimebundle_()
    assert bundle["image/png"]
    assert bundle["text/plain"] == "ActivationExplorer(activation='tanh', scale=1.0, bias=0.0)"


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(activation="maxout"), "activation must be one of tanh, relu, sigmoid, leaky_relu"),
        (dict(scale=0), "scale must be a number between 0.01 and 100; got 0"),
        (dict(scale=float("nan")), "scale must be a number between 0.01 and 100; got nan"),
        (dict(bias=9.0), "bias must be a number between -5 and 5; got 9.0"),
        (dict(n=0), "n must be between 1 and 1000000; got 0"),
        (
            dict(seed=-1),
            "seed must be an integer between 0 and 4294967295 or a numpy.random.Generator; got -1",
        ),
        (dict(dpi=10**4), "at most 4000 a side"),
    ],
)
def test_bad_starting_values_are_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        activation_explorer(**kwargs)


# ---------------------------------------------------------------------------- the compute
def test_unit_response_numbers():
    tanh = runs.unit_response("tanh", 1.0, 0.0)
    assert tanh.saturated == pytest.approx(0.0027, abs=0.001) and tanh.dead == 0  # |z| > 3
    relu = runs.unit_response("relu", 1.0, 0.0)
    assert relu.dead == pytest.approx(0.5, abs=0.01)
    sig = runs.unit_response("sigmoid", 10.0, 0.0)  # |z| > 4.6: sigma' < 0.01
    assert sig.saturated == pytest.approx(0.645, abs=0.01)
    leaky = runs.unit_response("leaky_relu", 10.0, 0.0)
    assert leaky.saturated == 0 and leaky.dead == 0  # slope 0.01 is not below 0.01


def test_unit_response_sample_is_fixed_and_read_only():
    r1 = runs.unit_response("gelu", 2.0, 0.5)
    r2 = runs.unit_response("gelu", 2.0, 0.5)
    np.testing.assert_array_equal(r1.a, r2.a)
    assert r1.z.mean() == pytest.approx(0.5, abs=0.05) and r1.z.std() == pytest.approx(
        2.0, rel=0.02
    )
    with pytest.raises(ValueError):
        r1.a[0] = 0.0


def test_both_axes_of_the_view_are_labelled(explorer):
    for ax in (explorer.view.curve_axes, explorer.view.out_axes):
        assert ax.get_xlabel() and ax.get_ylabel()
