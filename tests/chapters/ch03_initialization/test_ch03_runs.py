"""Chapter 03: every number the notebook prints or its text states, beyond test_ch03_experiment.py.

Each test names the notebook section whose claim it asserts. The assertions are on the
package's functions, not on the notebook (nbval compares the notebook's outputs with the
stored ones; these tests say why those outputs are right). Printed values are rounded to 3
decimals, so "printed" checks use atol=5e-4.
"""

import math

import numpy as np
import pytest
import torch

from course_utils import init
from course_utils.chapters.ch03_initialization import runs, runs_symmetry
from course_utils.stats import layer_stats

PRINTED = dict(atol=5e-4, rtol=0)  # a value printed with 3 decimals
LECTURE = runs.Experiment()  # tanh, N(0, 0.01^2), 6 x 4096, 16 samples, seed 0
TANH_CASES = {
    "0.01": LECTURE,
    "0.05": LECTURE.replace(std=0.05),
    "xavier": LECTURE.replace(scheme="xavier"),
}


def table_values(table: str) -> list:
    """The numbers of a format_table text, row by row (index column dropped)."""
    rows = []
    for line in table.splitlines()[2:]:
        cells = line.split()
        rows.append([float(c.rstrip("%")) for c in cells if _is_number(c.rstrip("%"))])
    return rows


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


@pytest.fixture(scope="module")
def sizes():
    return {name: runs.gradient_sizes(exp) for name, exp in TANH_CASES.items()}


# ---------------------------------------------------------------- symmetry breaking
def test_symmetry_tables_as_printed():
    # rows: hidden 1, hidden 2; columns: outputs spread, dL/dW columns spread, RMS dL/dW
    assert table_values(runs_symmetry.symmetry_table("zero", value=0.5)) == [
        [1, 0, 0, 0],
        [2, 0, 0, 0],
    ]
    constant = table_values(runs_symmetry.symmetry_table("constant", value=0.5))
    np.testing.assert_allclose(constant, [[1, 0, 0, 0.954], [2, 0, 0, 0.004]], atol=5e-4)
    random = table_values(runs_symmetry.symmetry_table("random", value=0.5))
    np.testing.assert_allclose(
        random, [[1, 1.256, 1.721, 0.897], [2, 1.295, 3.167, 0.774]], atol=5e-4
    )
    # "seed 0's spreads are above 1"
    assert all(v > 1 for row in random for v in row[1:3])


@pytest.fixture(scope="module")
def symmetry():
    return {
        kind: runs_symmetry.symmetry_over_seeds(kind, value=0.5, seeds=range(100))
        for kind in ("zero", "constant", "random")
    }


def test_equal_weights_give_identical_units_at_every_seed(symmetry):
    zero, constant = symmetry["zero"], symmetry["constant"]
    # W = 0: every value is exactly 0 (tanh(0) = 0, 0 * anything = 0), in any summation order
    assert np.all(zero.outputs_spread == 0) and np.all(zero.columns_spread == 0)
    assert np.all(zero.rms == 0)
    # Constant W: equal in exact arithmetic; a CPU's matrix kernel may sum one column in another
    # order (SIMD body vs scalar tail), so allow rounding: measured <= 2e-15 under SSE4
    assert np.all(constant.outputs_spread <= 1e-12) and np.all(constant.columns_spread <= 1e-12)
    assert zero.identical_units == constant.identical_units == 100
    assert symmetry["random"].identical_units == 0


def test_symmetry_rms_over_seeds_as_printed(symmetry):
    # "0.954 at seed 0, but its median over the 100 seeds is 0.201, anywhere from 0.000 to
    # 6.103 (layer 2: 0.004 at seed 0, median 0.017)"
    rms = symmetry["constant"].rms
    assert rms[0] == pytest.approx([0.954, 0.004], abs=5e-4)
    np.testing.assert_allclose(np.median(rms, axis=0), [0.201, 0.017], atol=5e-4)
    assert np.all(rms > 0) and rms[:, 0].max() == pytest.approx(6.103, abs=5e-4)
    # random: "the columns of dL/dW are at least 0.31 apart"
    assert symmetry["random"].columns_spread.min() == pytest.approx(0.312, abs=5e-4)
    table = runs_symmetry.symmetry_seeds_table({"constant": symmetry["constant"]})
    assert "100 of 100 seeds        0.000 to 0.000     0.201 (0.000 to 6.103)" in table
    assert "units identical (spreads <= 1e-12)" in table
    with pytest.raises(ValueError, match="results must map case names"):
        runs_symmetry.symmetry_seeds_table({})
    with pytest.raises(ValueError, match="seeds must have between 1 and 10000 items"):
        runs_symmetry.symmetry_over_seeds("zero", seeds=[])


# ---------------------------------------------------------------- 1.4 the real backward pass
# These tables print 2 decimals: at 3, values such as 8.640 sat within ~100 times their
# native-vs-SSE4 movement (float32 matrix products) of a rounding boundary.
PRINTED2 = dict(atol=5e-3, rtol=0)


def test_weight_gradients_as_printed(sizes):
    np.testing.assert_allclose(
        sizes["0.01"].weights, [0.30, 0.29, 0.29, 0.29, 0.29, 0.29], **PRINTED2
    )
    np.testing.assert_allclose(
        sizes["0.05"].weights, [8.64, 5.76, 4.08, 2.90, 2.08, 1.49], **PRINTED2
    )
    np.testing.assert_allclose(
        sizes["xavier"].weights, [1.37, 1.26, 1.21, 1.20, 1.19, 1.18], **PRINTED2
    )
    ratio = sizes["xavier"].weights / sizes["0.01"].weights
    np.testing.assert_allclose(ratio, [4.58, 4.34, 4.24, 4.18, 4.14, 4.11], **PRINTED2)


def test_gradient_arriving_at_each_layer_as_printed(sizes):
    np.testing.assert_allclose(
        sizes["0.01"].activations, [0.09, 0.16, 0.26, 0.41, 0.63, 1.00], **PRINTED2
    )
    np.testing.assert_allclose(
        sizes["0.05"].activations, [5.29, 3.81, 2.73, 1.96, 1.40, 1.00], **PRINTED2
    )
    np.testing.assert_allclose(
        sizes["xavier"].activations, [0.50, 0.63, 0.73, 0.83, 0.91, 1.00], **PRINTED2
    )


def test_text_small_init_gradients_are_small_in_every_layer(sizes):
    ratio = sizes["xavier"].weights / sizes["0.01"].weights
    assert 4.1 <= ratio.min().round(1) and ratio.max().round(1) <= 4.6  # "4.1 to 4.6 times"
    # "about 0.29 in every layer (0.29 to 0.30)"
    assert np.all((sizes["0.01"].weights > 0.285) & (sizes["0.01"].weights < 0.30))
    # "shrinks from 1.00 at layer 6 to 0.09 at layer 1"
    assert (round(sizes["0.01"].activations[-1], 2), round(sizes["0.01"].activations[0], 2)) == (
        1.00,
        0.09,
    )


def test_text_small_init_gradients_shrink_with_depth():
    # "3.9 times smaller at depth 6 than at depth 3" (the same first three layers' weights)
    shallow = runs.gradient_sizes(LECTURE.replace(depth=3)).weights
    deep = runs.gradient_sizes(LECTURE).weights
    assert round(shallow.mean() / deep.mean(), 1) == 3.9
    np.testing.assert_allclose(shallow / deep[:3], 0.64**-3, rtol=0.05)


def test_text_saturated_init_gradients_grow_towards_the_input(sizes):
    big = sizes["0.05"]
    assert round(big.weights[-1], 2) == 1.49 and round(big.weights[0], 2) == 8.64
    assert round(big.weights[0] / big.weights[-1], 1) == 5.8  # "5.8 times more"
    assert np.all(big.weights > sizes["xavier"].weights)  # "larger than Xavier's in every layer"
    # "on average it is 0.24 to 0.28"
    assert np.all((big.local.round(2) >= 0.24) & (big.local.round(2) <= 0.28))


def test_backward_gain_table_as_printed(sizes):
    measured = {n: s.activations[:-1] / s.activations[1:] for n, s in sizes.items()}
    predicted = {n: runs.backward_gain(exp)[1:] for n, exp in TANH_CASES.items()}
    np.testing.assert_allclose(measured["0.01"], [0.589, 0.622, 0.631, 0.638, 0.638], **PRINTED)
    np.testing.assert_allclose(predicted["0.01"], [0.590, 0.620, 0.632, 0.637, 0.639], **PRINTED)
    np.testing.assert_allclose(measured["0.05"], [1.389, 1.397, 1.395, 1.396, 1.406], **PRINTED)
    np.testing.assert_allclose(predicted["0.05"], [1.383, 1.400, 1.402, 1.400, 1.402], **PRINTED)
    np.testing.assert_allclose(measured["xavier"], [0.797, 0.854, 0.883, 0.908, 0.918], **PRINTED)
    np.testing.assert_allclose(predicted["xavier"], [0.798, 0.853, 0.884, 0.905, 0.920], **PRINTED)
    # The rule predicts the measured factor to within 1% in every case
    for name in measured:
        np.testing.assert_allclose(measured[name], predicted[name], rtol=0.01)
    # Text: "0.59 to 0.64" at 0.01, "0.80 to 0.92" with Xavier, "about 1.4" at 0.05
    assert (predicted["0.01"].min().round(2), predicted["0.01"].max().round(2)) == (0.59, 0.64)
    assert (predicted["xavier"].min().round(2), predicted["xavier"].max().round(2)) == (0.80, 0.92)
    assert np.all(predicted["0.05"].round(1) == 1.4)


def test_text_rms_of_tanh_prime_at_std_005():
    # "3.2 from the weights times 0.43 to 0.44, the RMS of tanh'(z)"
    exp = TANH_CASES["0.05"]
    rms_local = runs.backward_gain(exp) / (math.sqrt(exp.width) * exp.weight_std)
    assert math.sqrt(exp.width) * exp.weight_std == pytest.approx(3.2)
    assert (rms_local[1:].min().round(2), rms_local[1:].max().round(2)) == (0.43, 0.44)


def test_backward_gain_is_the_rms_of_the_local_gradient_times_the_weight_scale():
    exp = runs.Experiment(depth=2, width=64, n_samples=8, std=0.3)
    run = runs.forward_pass(exp)
    want = [
        math.sqrt(64) * 0.3 * math.sqrt(np.mean((1 - np.tanh(z.astype(np.float64)) ** 2) ** 2))
        for z in run.pre_activations
    ]
    np.testing.assert_allclose(runs.backward_gain(exp), want, rtol=1e-6)


# ---------------------------------------------------------------- 2. Xavier's two conditions
def test_layer_variance_gains_table_as_printed():
    fan_in, fan_out = 256, 1024
    stds = [1 / math.sqrt(fan_in), 1 / math.sqrt(fan_out), init.init_std("xavier", fan_in, fan_out)]
    np.testing.assert_allclose(stds, [0.0625, 0.03125, 0.0395285], rtol=1e-5)
    gains = [runs.layer_variance_gains(fan_in, fan_out, s, seed=0) for s in stds]
    np.testing.assert_allclose([g.forward for g in gains], [0.997, 0.249, 0.399], **PRINTED)
    np.testing.assert_allclose([g.backward for g in gains], [3.987, 0.997, 1.595], **PRINTED)
    # theory: n_in sigma^2 and n_out sigma^2 ("1.00 ... 4"; "0.40 and 1.60"): the measured
    # gains of the package within 1%, and Glorot's std gives the printed 0.40 and 1.60
    np.testing.assert_allclose([g.forward for g in gains], [1.0, 0.25, 0.4], rtol=0.01)
    np.testing.assert_allclose([g.backward for g in gains], [4.0, 1.0, 1.6], rtol=0.01)
    glorot = init.init_std("xavier", fan_in, fan_out)
    assert (fan_in * glorot**2, fan_out * glorot**2) == (pytest.approx(0.4), pytest.approx(1.6))


def test_glorot_uniform_bound_has_the_xavier_variance():
    # "U[-sqrt(6/(n_in+n_out)), +sqrt(6/(n_in+n_out))]" is torch's xavier_uniform_
    fan_in, fan_out = 300, 500
    bound = math.sqrt(6 / (fan_in + fan_out))
    assert bound / math.sqrt(3) == pytest.approx(init.init_std("xavier", fan_in, fan_out))
    w = torch.nn.init.xavier_uniform_(
        torch.empty(fan_out, fan_in), generator=torch.Generator().manual_seed(0)
    )
    assert float(w.abs().max()) == pytest.approx(bound, rel=1e-3)


# ---------------------------------------------------------------- 3. Kaiming
def test_second_moments_table_as_printed():
    kaiming = runs.second_moments(runs.Experiment(activation="relu", scheme="kaiming"))
    xavier = runs.second_moments(runs.Experiment(activation="relu", scheme="xavier"))
    np.testing.assert_allclose(
        kaiming.predicted_z, [2.027, 2.030, 1.977, 1.950, 1.974, 1.915], **PRINTED
    )
    np.testing.assert_allclose(kaiming.z, [2.022, 2.000, 1.950, 1.989, 1.940, 1.904], **PRINTED)
    np.testing.assert_allclose(kaiming.kept, [0.502, 0.494, 0.500, 0.496, 0.494, 0.498], **PRINTED)
    np.testing.assert_allclose(kaiming.a, [1.015, 0.989, 0.975, 0.987, 0.958, 0.948], **PRINTED)
    np.testing.assert_allclose(xavier.a, [0.508, 0.247, 0.122, 0.062, 0.030, 0.015], **PRINTED)
    # Text: "within 2%", "keeps 0.49 to 0.50", "1.02 in layer 1, 0.95 in layer 6",
    # "from 0.51 to 0.015"
    assert np.all(np.abs(kaiming.predicted_z / kaiming.z - 1) < 0.02)
    assert np.all((kaiming.kept.round(2) >= 0.49) & (kaiming.kept.round(2) <= 0.50))
    np.testing.assert_allclose(xavier.kept, kaiming.kept, atol=0.005)  # ReLU's share, any init
    assert (round(kaiming.a[0], 2), round(kaiming.a[-1], 2)) == (1.02, 0.95)
    assert (round(xavier.a[0], 2), round(xavier.a[-1], 3)) == (0.51, 0.015)


def test_text_relu_std_is_below_the_rms_because_of_the_positive_mean():
    # "for z_1 ~ N(0, 2), E[a] = 1/sqrt(pi) and std(a) = sqrt(1 - 1/pi) = 0.83"
    assert round(math.sqrt(1 - 1 / math.pi), 2) == 0.83
    stats = layer_stats(runs.forward_activations(activation="relu", scheme="kaiming"))
    assert stats.mean[0] == pytest.approx(1 / math.sqrt(math.pi), abs=0.01)
    assert stats.std[0] == pytest.approx(math.sqrt(1 - 1 / math.pi), abs=0.01)


def test_second_moments_rule_holds_for_tanh_and_tanh_keeps_less():
    m = runs.second_moments(runs.Experiment(scheme="xavier"))
    np.testing.assert_allclose(m.predicted_z, m.z, rtol=0.03)
    assert np.all(m.kept < 1)  # E[tanh(z)^2] < E[z^2]: section 2's drift


def test_conv_fans_table_as_printed_and_as_torch():
    layers = [(3, 64, 7), (64, 64, 3), (256, 512, 3)]
    fans = [init.conv_fans(*layer) for layer in layers]
    assert fans == [(147, 3136), (576, 576), (2304, 4608)]
    for (c_in, c_out, k), fan in zip(layers, fans):
        assert fan == torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(c_out, c_in, k, k))
    fan_in_mode = [init.init_std("kaiming", fi, fo) for fi, fo in fans]
    fan_out_mode = [init.init_std("kaiming", fo, fi) for fi, fo in fans]
    np.testing.assert_allclose(fan_in_mode, [0.1166, 0.0589, 0.0295], atol=5e-5)
    np.testing.assert_allclose(fan_out_mode, [0.0253, 0.0589, 0.0208], atol=5e-5)
    # torch's modes give the same stds (std of a large draw)
    g = torch.Generator().manual_seed(0)
    w = torch.nn.init.kaiming_normal_(
        torch.empty(64, 3, 7, 7), mode="fan_out", nonlinearity="relu", generator=g
    )
    assert float(w.std()) == pytest.approx(fan_out_mode[0], rel=0.02)
    assert init.conv_fans(2, 3, (3, 5)) == (30, 45)


# ---------------------------------------------------------------- 4. the gain
@pytest.mark.parametrize(
    "nonlinearity, param",
    [
        ("linear", None),
        ("conv1d", None),
        ("conv2d", None),
        ("conv3d", None),
        ("sigmoid", None),
        ("tanh", None),
        ("relu", None),
        ("leaky_relu", None),
        ("leaky_relu", 0.01),
        ("leaky_relu", 0.2),
        ("leaky_relu", math.sqrt(5)),
        ("selu", None),
    ],
)
def test_calculate_gain_is_torchs(nonlinearity, param):
    assert init.calculate_gain(nonlinearity, param) == pytest.approx(
        torch.nn.init.calculate_gain(nonlinearity, param), rel=1e-12
    )


def test_gain_table_as_printed():
    got = [
        init.calculate_gain(*args)
        for args in [
            ("linear", None),
            ("sigmoid", None),
            ("tanh", None),
            ("relu", None),
            ("leaky_relu", 0.01),
            ("leaky_relu", 0.2),
            ("selu", None),
        ]
    ]
    np.testing.assert_allclose(got, [1.0, 1.0, 1.6667, 1.4142, 1.4141, 1.3868, 0.75], atol=5e-5)
    # Kaiming is fan_in scaling with the ReLU gain (exact: sqrt(4096) is 64, and Python's
    # math.sqrt and division are correctly rounded on every CPU)
    assert init.init_std("kaiming", 4096, 4096) == init.calculate_gain("relu") / 64


def test_tanh_gain_table_as_printed():
    sigma = init.init_std("xavier", 4096, 4096, gain=init.calculate_gain("tanh"))
    assert round(sigma, 4) == 0.0260  # "5/3 x 1/64 = 0.0260"
    gain1 = layer_stats(runs.forward_activations(scheme="xavier"))
    gain53 = layer_stats(runs.forward_activations(std=sigma))
    np.testing.assert_allclose(gain1.std, [0.629, 0.486, 0.408, 0.358, 0.321, 0.294], **PRINTED)
    np.testing.assert_allclose(gain53.std, [0.760, 0.693, 0.668, 0.660, 0.654, 0.651], **PRINTED)
    np.testing.assert_allclose(gain1.saturated, [0.009, 0, 0, 0, 0, 0], atol=5e-4)
    np.testing.assert_allclose(
        gain53.saturated, [0.115, 0.037, 0.022, 0.018, 0.016, 0.015], atol=5e-4
    )
    # "settles near 0.65 from layer 3 on"; "under 2% from layer 4 on"
    assert np.all(np.abs(gain53.std[2:] - 0.65) < 0.02)
    assert np.all(gain53.saturated[3:] < 0.02)


def test_text_gain_1_keeps_falling_in_a_deeper_network_gain_53_settles():
    # 30 layers of 1024 units (120 MiB of weights): "keeps falling" vs "settles"
    deep = dict(depth=30, width=1024)
    gain1 = layer_stats(runs.forward_activations(**deep, scheme="xavier")).std
    gain53 = layer_stats(
        runs.forward_activations(**deep, std=init.init_std("xavier", 1024, 1024, gain=5 / 3))
    ).std
    assert np.all(np.diff(gain1) < 0) and gain1[-1] < 0.2
    assert np.all(np.abs(gain53[5:] - gain53[-1]) < 0.03) and gain53[-1] > 0.6


def test_text_relu_needs_no_search_scaling_sigma_by_c_scales_the_last_std_by_c_to_the_l():
    # After exercise 2: "multiplying sigma by c multiplies the last layer's std by c^L"
    def last(sigma):
        acts = runs.forward_activations(4, 256, 16, "relu", "normal", sigma, 0)
        return layer_stats(acts).std[-1]

    assert last(0.2) / last(0.1) == pytest.approx(2**4, rel=1e-5)
    sigma0, target = 0.05, 0.8
    sigma = sigma0 * (target / last(sigma0)) ** (1 / 4)
    assert last(sigma) == pytest.approx(target, rel=1e-5)
    assert sigma * 16 == pytest.approx(1.402, abs=5e-4)  # the check's printed 1.402/sqrt(256)


# ---------------------------------------------------------------- the explorer, driven
def test_explorer_cell_std_0026_as_printed():
    # The explorer at width 4096 equals forward_activations (tests/test_widgets.py)
    stats = layer_stats(runs.forward_activations(std=0.026))
    np.testing.assert_allclose(stats.std, [0.760, 0.692, 0.668, 0.659, 0.653, 0.650], **PRINTED)


# ---------------------------------------------------------------- in practice: torch's default
def test_torch_linear_default_std_is_torchs():
    assert init.torch_linear_default_std(4096) == pytest.approx(1 / math.sqrt(3 * 4096))
    assert round(init.torch_linear_default_std(4096), 5) == 0.00902
    torch.manual_seed(0)
    weight = torch.nn.Linear(1024, 256).weight.detach()
    bound = 1 / math.sqrt(1024)
    assert float(weight.abs().max()) <= bound
    assert float(weight.abs().max()) == pytest.approx(bound, rel=1e-3)
    assert float(weight.std()) == pytest.approx(init.torch_linear_default_std(1024), rel=0.01)
    conv_weight = torch.nn.Conv2d(16, 32, 3).weight.detach()
    assert float(conv_weight.std()) == pytest.approx(
        init.torch_linear_default_std(init.conv_fans(16, 32, 3)[0]), rel=0.03
    )


def test_torch_default_table_as_printed():
    sigma = init.torch_linear_default_std(4096)
    tanh = layer_stats(runs.forward_activations(std=sigma)).std
    relu = layer_stats(runs.forward_activations(activation="relu", std=sigma)).std
    np.testing.assert_allclose(tanh, [0.462, 0.249, 0.141, 0.081, 0.047, 0.027], **PRINTED)
    np.testing.assert_allclose(relu, [0.340, 0.137, 0.055, 0.023, 0.009, 0.004], **PRINTED)
    assert round(sigma * math.sqrt(3), 5) == round(1 / 64, 5)  # "1/sqrt(3) of Xavier's std"


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: init.calculate_gain("gelu"), "nonlinearity must be one of 'linear'"),
        (
            lambda: init.calculate_gain("tanh", 0.1),
            "param is the negative slope of leaky_relu only",
        ),
        (lambda: init.calculate_gain("leaky_relu", "a"), "param .negative slope. must be a finite"),
        (lambda: init.calculate_gain("leaky_relu", math.inf), "must be a finite number"),
        (lambda: init.conv_fans(0, 3, 3), "c_in must be between 1 and"),
        (lambda: init.conv_fans(3, 3, 0), "kernel_size must be between 1 and"),
        (lambda: init.conv_fans(3, 3, ()), "kernel_size must have between 1 and 3 items"),
        (lambda: init.torch_linear_default_std(0), "fan_in must be between 1 and"),
        (lambda: runs.layer_variance_gains(0, 4, 0.1), "fan_in must be between 1 and 4096"),
        (lambda: runs.layer_variance_gains(4, 5000, 0.1), "fan_out must be between 1"),
        (lambda: runs.layer_variance_gains(4, 4, -1.0), "std must be > 0"),
        (
            lambda: runs.layer_variance_gains(4, 4, 0.1, n_samples=0),
            "n_samples must be between 1 and 4096",
        ),
        (
            lambda: runs.layer_variance_gains(4, 4, 0.1, seed=-1),
            "seed must be between 0 and 4294967295",
        ),
        (lambda: runs.second_moments("lecture"), "experiment must be an Experiment"),
        (lambda: runs.backward_gain(None), "experiment must be an Experiment"),
    ],
)
def test_chapter03_extras_reject_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()
