"""Chapter 01's figure: every activation with its derivative."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from course_utils import activations
from course_utils.chapters.ch01_activations.figures import (
    activation_curve,
    plot_activation_functions,
)


def test_figure_draws_every_activation_and_derivative():
    figure = plot_activation_functions()
    assert len(figure.axes) == 9
    for ax in figure.axes:
        assert [line.get_label() for line in ax.lines][-2:] == ["f(z)", "f'(z)"]
    curve = figure.axes[0].lines[-1]  # sigmoid'
    np.testing.assert_allclose(curve.get_ydata(), activations.sigmoid_grad(curve.get_xdata()))
    with pytest.raises(ValueError, match="names\\[0\\] must be one of"):
        plot_activation_functions(["softmax"])


def test_figure_draws_on_a_given_figure_and_refuses_other_things():
    figure = Figure()
    assert plot_activation_functions(["relu", "tanh"], figure=figure) is figure
    assert len(figure.axes) == 2
    with pytest.raises(ValueError, match="figure must be a matplotlib Figure"):
        plot_activation_functions(figure="not a figure")


def test_maxout_curve_is_the_max_of_its_three_lines():
    z = np.linspace(-6, 6, 13)
    f, df = activation_curve("maxout", z)
    np.testing.assert_allclose(
        f, np.max([w * z + c for w, c in ((-0.5, -0.5), (0.3, 0.0), (1.2, -1.0))], axis=0)
    )
    assert set(df.tolist()) <= {-0.5, 0.3, 1.2}
    with pytest.raises(ValueError, match="name must be one of"):
        activation_curve("softmax", z)


def test_every_panel_has_axis_labels_and_leaky_relu_names_its_slope():
    figure = plot_activation_functions()
    for i, ax in enumerate(figure.axes):
        assert ax.get_xlabel() == "z"
        assert bool(ax.get_ylabel()) == (i % 3 == 0)
    assert figure.axes[3].get_title() == "Leaky ReLU (α = 0.1)"
