"""The controls an explorer is built from, declared once (as mpl-interactions derives them).

:func:`make_controls` turns keyword arguments into named ipywidgets controls; the sliders
remember a value they had to clamp (``clamped_from``) so the explorer can say so;
:func:`check_start` refuses a starting value a control cannot hold, before any figure is
built (a mistake costs no drawing).
"""

from __future__ import annotations

import dataclasses
import math
import numbers

import ipywidgets
from traitlets import Any, HasTraits, validate

__all__ = [
    "FloatSlider",
    "LogSlider",
    "IntSlider",
    "Dropdown",
    "Checkbox",
    "log_range",
    "make_controls",
    "check_start_value",
    "check_start",
    "bounds",
]


class _NoticesClamping(HasTraits):
    """Mixin for bounded sliders: remember a value that had to be clamped into range."""

    clamped_from = Any(None, allow_none=True)

    @validate("value")
    def _validate_value(self, proposal):
        raw = proposal["value"]
        value = super()._validate_value(proposal)
        self.clamped_from = raw if value != raw and raw == raw else None
        return value


class LogSlider(_NoticesClamping, ipywidgets.FloatLogSlider):
    """``FloatLogSlider`` that records an out-of-range value in ``clamped_from``."""


class IntSlider(_NoticesClamping, ipywidgets.IntSlider):
    """``IntSlider`` that records an out-of-range value in ``clamped_from``."""


class FloatSlider(_NoticesClamping, ipywidgets.FloatSlider):
    """``FloatSlider`` that records an out-of-range value in ``clamped_from``."""


Dropdown = ipywidgets.Dropdown
Checkbox = ipywidgets.Checkbox


@dataclasses.dataclass(frozen=True)
class log_range:  # noqa: N801 - reads as a declaration: rate=log_range(1e-4, 1.0)
    """A log-scale slider from ``low`` to ``high`` (powers of 10) for :func:`make_controls`."""

    low: float
    high: float
    step: float = 0.01


def make_controls(continuous: tuple | None = None, **specs) -> dict:
    """Controls declared once, from keyword arguments (as mpl-interactions derives them).

    Each keyword is a control's name (and on-screen label); its value says the kind:
    a tuple of options -> ``Dropdown``; ``True``/``False`` -> ``Checkbox`` (the start value);
    ``(low, high, step)`` of ints -> ``IntSlider``, of floats -> ``FloatSlider``;
    ``log_range(low, high)`` -> ``LogSlider``; an ipywidgets control is used as it is.
    ``continuous``: names of the sliders that redraw while they move (default: every slider;
    heavy ones redraw on release).
    """
    if continuous is not None and (
        isinstance(continuous, str)
        or not isinstance(continuous, (tuple, list))
        or len(continuous) > 1000
        or not all(isinstance(c, str) for c in continuous)
    ):
        raise ValueError(
            f"continuous must be a tuple of control names; got {type(continuous).__name__} "
            f"of {len(continuous) if hasattr(continuous, '__len__') else '?'} items"
        )
    style = {"description_width": "initial"}
    controls = {}
    for name, spec in specs.items():
        if isinstance(spec, ipywidgets.ValueWidget):
            controls[name] = spec
            continue
        live = continuous is None or name in continuous
        if isinstance(spec, bool):
            control = Checkbox(value=spec, description=name, indent=False)
        elif isinstance(spec, log_range):
            control = LogSlider(
                min=math.log10(spec.low),
                max=math.log10(spec.high),
                step=spec.step,
                value=spec.low,
                description=name,
                continuous_update=live,
                style=style,
            )
        elif (
            isinstance(spec, tuple)
            and len(spec) == 3
            and all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in spec)
        ):
            kind = IntSlider if all(isinstance(v, numbers.Integral) for v in spec) else FloatSlider
            control = kind(
                min=spec[0],
                max=spec[1],
                step=spec[2],
                value=spec[0],
                description=name,
                continuous_update=live,
                style=style,
            )
        elif isinstance(spec, tuple) and spec:
            control = Dropdown(options=spec, description=name, style=style)
        else:
            raise ValueError(
                f"control {name}: give a tuple of options, True/False, "
                f"(low, high, step) or log_range(low, high); got {spec!r}"
            )
        controls[name] = control
    return controls


def bounds(control) -> tuple:
    """A slider's (low, high), in the units of its value (a log slider's powers too)."""
    if not isinstance(
        control, (ipywidgets.FloatLogSlider, ipywidgets.IntSlider, ipywidgets.FloatSlider)
    ):
        raise TypeError(f"control must be an ipywidgets slider; got {type(control).__name__}")
    if isinstance(control, ipywidgets.FloatLogSlider):
        return control.base**control.min, control.base**control.max
    return control.min, control.max


def check_start_value(name: str, control, value):
    """Raise ``ValueError`` unless ``control`` can hold ``value`` as it is.

    A control would otherwise clamp it silently or fail with a traitlets error; this says
    what is allowed instead.
    """
    if hasattr(control, "options"):
        allowed = [option[1] if isinstance(option, tuple) else option for option in control.options]
        if value not in allowed or isinstance(value, bool) != isinstance(allowed[0], bool):
            raise ValueError(f"{name} must be one of {', '.join(map(str, allowed))}; got {value!r}")
    elif isinstance(control, (ipywidgets.Checkbox, ipywidgets.ToggleButton)):
        if not isinstance(value, bool):
            raise ValueError(f"{name} must be True or False; got {value!r}")
    elif isinstance(control, ipywidgets.IntSlider):
        lo, hi = bounds(control)
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Integral)
            or not lo <= value <= hi
        ):
            raise ValueError(f"{name} must be an integer between {lo} and {hi}; got {value!r}")
    elif isinstance(control, (ipywidgets.FloatSlider, ipywidgets.FloatLogSlider)):
        lo, hi = bounds(control)
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not math.isfinite(value)
            or not lo <= value <= hi
        ):
            raise ValueError(f"{name} must be a number between {lo:g} and {hi:g}; got {value!r}")


def check_start(controls: dict, start: dict) -> None:
    """Raise ``ValueError`` unless every name in ``start`` is a control that can hold its value."""
    if not isinstance(controls, dict) or not isinstance(start, dict):
        raise TypeError(
            f"controls and start must be dicts (name -> control, name -> value); got "
            f"{type(controls).__name__} and {type(start).__name__}"
        )
    unknown = set(start) - set(controls)
    if unknown:
        raise ValueError(
            f"no control named {', '.join(sorted(map(str, unknown)))}; "
            f"the controls are {', '.join(controls)}"
        )
    for name, value in start.items():
        check_start_value(name, controls[name], value)
