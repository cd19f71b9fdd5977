r"""Chapter 04's static figures (the package draws, the notebook shows).

:func:`relu_histograms`: per layer, the histogram of ReLU activations with the share of
exact zeros drawn as its own bar, one row per network (no Batch Norm / with it).
:func:`effective_lr_figure`: the effective learning rate of Batch Norm's weights along
training (:mod:`~course_utils.chapters.ch04_batchnorm.runs_lr`).
"""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from course_utils.plots import check_figure_size
from course_utils.validation import check_array, check_sequence

__all__ = ["RELU_RANGE", "RELU_BIN", "relu_histograms", "effective_lr_figure"]

#: x-range of :func:`relu_histograms` (ReLU outputs), and its bin width.
RELU_RANGE = (0.0, 4.0)
RELU_BIN = 0.1


def _check_text(name: str, value) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a str; got {type(value).__name__}")
    return value


def _relu_histogram(a, edges):
    """(shares of (0, 4] per bin, share exactly 0, share above 4, std) of one layer."""
    values = np.ravel(a)
    zero = float(np.mean(values == 0))
    counts, _ = np.histogram(values[values > 0], edges)
    shares = counts / values.size
    return shares, zero, max(1.0 - zero - shares.sum(), 0.0), float(values.std())


def relu_histograms(rows, row_titles, title: str = "", figsize=(9.0, 4.4), dpi: int = 96) -> Figure:
    r"""Histograms of ReLU activations, one panel per layer, one row per network.

    Each panel shows the share of the layer's values (all units, all examples) in bins of
    width 0.1 over (0, 4] in blue, and the share that is exactly 0 (inactive units) as a red
    bar at 0. The y-range is set by the tallest blue bar, so the shape of the positive part
    stays visible; a red bar taller than that is cut at the top and its share is printed
    ("50% at 0"), together with the layer's std. Values above 4 are counted as off range.

    Parameters
    ----------
    rows : sequence of sequences of arrays
        ``rows[r][l]``: the activations (any shape) of layer ``l`` of network ``r``; every
        row has the same number of layers (1 to 8), at most 3 rows.
    row_titles : sequence of str
        One title per row.
    title : str
        The figure's title.

    Returns
    -------
    matplotlib.figure.Figure
        Not attached to pyplot; a notebook displays it as a PNG.
    """
    check_figure_size(figsize, dpi)
    rows = check_sequence("rows", rows, max_len=3)
    row_titles = check_sequence("row_titles", row_titles, max_len=3)
    if len(row_titles) != len(rows):
        raise ValueError(f"row_titles must give one title per row ({len(rows)})")
    rows = [
        [
            check_array(f"rows[{i}][{j}]", a, dtype=np.float64, limit=2**22)
            for j, a in enumerate(check_sequence(f"rows[{i}]", r, max_len=8))
        ]
        for i, r in enumerate(rows)
    ]
    row_titles = [_check_text(f"row_titles[{i}]", t) for i, t in enumerate(row_titles)]
    title = _check_text("title", title)
    depth = {len(r) for r in rows}
    if len(depth) != 1:
        raise ValueError("every row must hold the same number of layers")
    depth = depth.pop()
    lo, hi = RELU_RANGE
    edges = np.arange(lo, hi + RELU_BIN / 2, RELU_BIN)
    figure = Figure(figsize=figsize, dpi=dpi)
    width, height = figure.get_size_inches()
    row_height = (height - 0.3) / len(rows)
    figure.suptitle(title, fontsize=10, y=1 - 0.04 / height, va="top")
    subfigures = figure.subfigures(len(rows), 1, hspace=0.0)
    subfigures = np.atleast_1d(subfigures)
    for r, (acts, row_title) in enumerate(zip(rows, row_titles)):
        sub = subfigures[r]
        sub.suptitle(row_title, fontsize=9, y=1 - (0.3 if r == 0 else 0.02) / row_height, va="top")
        axes = sub.subplots(
            1,
            depth,
            squeeze=False,
            gridspec_kw=dict(
                left=0.55 / width,
                right=1 - 0.1 / width,
                top=1 - ((0.62 if r == 0 else 0.32) / row_height),
                bottom=0.42 / row_height,
                wspace=0.08,
            ),
        )[0]
        hists = [_relu_histogram(a, edges) for a in acts]
        top = 1.3 * max(max(h[0].max() for h in hists), 1e-3)  # one y-range per row
        for layer, (ax, (shares, zero, off, std)) in enumerate(zip(axes, hists)):
            ax.stairs(shares, edges, fill=True, color="C0")
            ax.bar(-RELU_BIN / 2, min(zero, top), width=RELU_BIN, color="C3")
            if zero > top:  # cut at the top: a triangle says the bar goes on
                ax.plot([-RELU_BIN / 2], [top], "^", color="C3", ms=5, clip_on=False)
            ax.set_xlim(-RELU_BIN, hi)
            ax.set_ylim(0, top)
            ax.tick_params(labelsize=7, length=2, pad=1)
            ax.set_xticks([0, 2, 4])
            if layer == 0:
                ax.set_ylabel("share of values", fontsize=8)
            else:
                ax.set_yticklabels([])
            ax.set_xlabel(f"a, layer {layer + 1}", fontsize=8, labelpad=1)
            lines = [f"σ = {std:.3g}", f"{zero:.0%} at 0 (red)"]
            if off > 0.005:
                lines.append(f"{off:.0%} above 4")
            ax.text(
                0.97,
                0.95,
                "\n".join(lines),
                transform=ax.transAxes,
                ha="right",
                va="top",
                fontsize=7.5,
            )
    return figure


def effective_lr_figure(curves, steps_per_epoch: int = 11, figsize=(9.0, 3.2), dpi: int = 96):
    r"""The effective learning rate :math:`\eta/\|w_j\|^2` along training runs with Batch Norm.

    Parameters
    ----------
    curves : sequence of (lr, weight_decay, values)
        ``values``: (T + 1,) the effective learning rate after each step (step 0: the
        start), e.g. :meth:`~course_utils.chapters.ch04_batchnorm.runs_lr.LrComparison.effective_lr_curves`.
    steps_per_epoch : int
        Marks the epochs on the x-axis.

    Returns
    -------
    matplotlib.figure.Figure
        One axes, log y: a line per run, labelled with its lr and weight decay.
    """
    check_figure_size(figsize, dpi)
    width, height = figsize
    if width < 4.0 or height < 1.5:
        raise ValueError(
            f"figsize must be at least (4, 1.5) inches (room for the legend); got {figsize!r}"
        )
    curves = check_sequence("curves", curves, max_len=8)
    figure = Figure(figsize=figsize, dpi=dpi)
    width, height = figure.get_size_inches()
    ax = figure.add_axes((0.95 / width, 0.5 / height, 1 - 3.15 / width, 1 - 0.85 / height))
    top, bottom = 0.0, np.inf
    for k, item in enumerate(curves):
        lr, wd, values = item
        values = check_array(f"curves[{k}] values", values, ndim=1)
        if np.any(values <= 0):
            raise ValueError(f"curves[{k}] values must be > 0 (a log axis)")
        ax.plot(
            np.arange(len(values)),
            values,
            lw=1.8,
            color=f"C{k}",
            label=f"η = {lr:g}, weight decay {wd:g}",
        )
        top, bottom = max(top, values.max()), min(bottom, values.min())
    ax.set_yscale("log")
    ax.set_ylim(bottom / 1.5, top * 1.5)
    ax.set_xlim(0, len(values) - 1)
    for epoch in range(steps_per_epoch, len(values), steps_per_epoch):
        ax.axvline(epoch, color="0.85", lw=0.8, zorder=0)
    ax.set_xlabel("training step (grey lines: epochs)", fontsize=9)
    ax.set_ylabel(r"effective lr  $\eta\,/\,\|w_j\|^2$", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.set_title(
        "Batch Norm MLP, plain SGD: the weights' scale sets the step (median of seeds)",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return figure
