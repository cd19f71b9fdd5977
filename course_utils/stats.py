"""Per-layer statistics of activations: the numbers behind every histogram in the course."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils.tables import format_table
from course_utils.validation import check_array, check_sequence

__all__ = ["SATURATION", "LayerStats", "layer_stats", "Spread", "spread"]

#: Saturation threshold used by :func:`layer_stats`: a tanh unit with ``|a| > 0.99``
#: has a local gradient ``1 - a**2 < 0.02``.
SATURATION = 0.99


@dataclass(frozen=True)
class LayerStats:
    """Per-layer summaries of activations; every field is an array of shape (depth,)."""

    mean: np.ndarray
    std: np.ndarray
    saturated: np.ndarray  #: share of units with |a| > SATURATION
    zero: np.ndarray  #: share of units exactly 0 (dead ReLUs)

    _TITLES = {"mean": "mean", "std": "std", "saturated": "|a|>0.99", "zero": "a==0"}

    def table(self, *fields: str) -> str:
        """A printable per-layer table of the named fields (default: mean and std).

        ``saturated`` and ``zero`` are shown as percentages.
        """
        fields = fields or ("mean", "std")
        unknown = [f for f in fields if f not in self._TITLES]
        if unknown:
            raise ValueError(
                f"fields must be among {', '.join(self._TITLES)}; got {', '.join(map(repr, unknown))}"
            )
        return format_table(
            {self._TITLES[f]: getattr(self, f) for f in fields},
            percent=[self._TITLES[f] for f in fields if f in ("saturated", "zero")],
        )


def layer_stats(activations) -> LayerStats:
    """Mean, std, share saturated (``|a| > 0.99``) and share exactly zero, per layer.

    Parameters
    ----------
    activations : sequence of ndarray
        One array per layer, any shape (e.g. the output of
        :func:`course_utils.init.forward_activations`).
    """
    activations = check_sequence("activations", activations, min_len=0)
    if len(activations) == 0:
        raise ValueError("activations must hold at least one layer; got an empty sequence")
    activations = [
        check_array(f"activations[{i}]", a, dtype=None, finite=False)
        for i, a in enumerate(activations)
    ]
    rows = []
    with np.errstate(over="ignore", invalid="ignore"):
        for a in activations:
            a64 = np.asarray(a, dtype=np.float64)
            rows.append(
                (a64.mean(), a64.std(), np.mean(np.abs(a64) > SATURATION), np.mean(a64 == 0))
            )
    mean, std, saturated, zero = (np.array(col) for col in zip(*rows))
    return LayerStats(mean=mean, std=std, saturated=saturated, zero=zero)


# ------------------------------------------------------------------ over seeds
@dataclass(frozen=True)
class Spread:
    """One quantity measured once per seed, and how it spreads over the seeds.

    Attributes
    ----------
    values : ndarray, shape (n_seeds,)
        The quantity at each seed, in the order of the seeds.
    """

    values: np.ndarray

    @property
    def n(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float:
        return float(np.mean(self.values))

    @property
    def sd(self) -> float:
        """Standard deviation over the seeds (ddof=1; 0 for one seed)."""
        return float(np.std(self.values, ddof=1)) if self.n > 1 else 0.0

    @property
    def median(self) -> float:
        return float(np.median(self.values))

    @property
    def min(self) -> float:
        return float(np.min(self.values))

    @property
    def max(self) -> float:
        return float(np.max(self.values))

    def describe(self, digits: int = 1, percent: bool = False, sd: bool = True) -> str:
        """``"mean 3.1% (SD 1.7%), median 3.1%, range 0.0% to 10.2% over 200 seeds"``."""
        f = (lambda v: f"{v:.{digits}%}") if percent else (lambda v: f"{v + 0.0:.{digits}f}")
        mean = f"mean {f(self.mean)} (SD {f(self.sd)}), " if sd else ""
        return (
            f"{mean}median {f(self.median)}, range {f(self.min)} to {f(self.max)} "
            f"over {self.n} seeds"
        )


def spread(values) -> Spread:
    """A :class:`Spread` of per-seed values (a non-empty 1-D sequence of finite numbers)."""
    values = check_array("values", values, finite=False, min_size=0).copy()
    if values.ndim != 1 or values.size == 0 or not np.isfinite(values).all():
        raise ValueError(
            f"values must be a non-empty 1-D sequence of finite numbers; got shape {values.shape}"
        )
    values.flags.writeable = False
    return Spread(values)
