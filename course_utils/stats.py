"""Per-layer statistics of activations: the numbers behind every histogram in the course."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils.tables import format_table

__all__ = ["SATURATION", "LayerStats", "layer_stats"]

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
    if len(activations) == 0:
        raise ValueError("activations must hold at least one layer; got an empty sequence")
    rows = []
    with np.errstate(over="ignore", invalid="ignore"):
        for a in activations:
            a64 = np.asarray(a, dtype=np.float64)
            rows.append(
                (a64.mean(), a64.std(), np.mean(np.abs(a64) > SATURATION), np.mean(a64 == 0))
            )
    mean, std, saturated, zero = (np.array(col) for col in zip(*rows))
    return LayerStats(mean=mean, std=std, saturated=saturated, zero=zero)
