"""course_utils.optim against torch.optim: 100 steps on random problems, float64, 1e-6 relative."""

import inspect

import numpy as np
import pytest
import torch

from course_utils import optim

STEPS = 100
RTOL = 1e-6

SETTINGS = [
    ("SGD", dict(lr=0.05)),
    ("SGD", dict(lr=0.02, momentum=0.9)),
    ("SGD", dict(lr=0.02, momentum=0.8, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.02, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    ("SGD", dict(lr=0.01, momentum=0.5, maximize=True)),
    ("Adagrad", dict()),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1)),
    ("Adagrad", dict(lr=0.05, eps=1e-3, maximize=True)),
    ("RMSprop", dict()),
    ("RMSprop", dict(lr=1e-3, alpha=0.9, momentum=0.9)),
    ("RMSprop", dict(lr=1e-3, centered=True, weight_decay=0.01)),
    ("RMSprop", dict(lr=1e-3, centered=True, momentum=0.5, eps=1e-4)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.95, eps=1e-4, weight_decay=0.01)),
    ("Adam", dict()),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adam", dict(lr=0.005, maximize=True)),
    ("AdamW", dict()),
    (
        "AdamW",
        dict(lr=0.01, weight_decay=0.1, betas=(0.8, 0.99)),
    ),  # beta1 = 0.5 amplifies round-off chaotically
    ("AdamW", dict(lr=0.01, amsgrad=True, weight_decay=0.05)),
]


def random_problem(seed):
    """Least squares with a random matrix, two parameter arrays (W (5, 3), b (3,))."""
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((20, 5)), rng.standard_normal((20, 3))
    W, b = rng.standard_normal((5, 3)), rng.standard_normal(3)

    def grads(W, b):
        r = X @ W + b - Y
        return [X.T @ r / len(X), r.mean(axis=0)]

    return W, b, grads


@pytest.mark.parametrize("name, kwargs", SETTINGS)
@pytest.mark.parametrize("seed", [0, 1])
def test_trajectory_matches_torch_optim(name, kwargs, seed):
    W, b, grads = random_problem(seed)
    ours = [W.copy(), b.copy()]
    theirs = [torch.tensor(W, dtype=torch.float64), torch.tensor(b, dtype=torch.float64)]
    opt = optim.OPTIMIZERS[name](ours, **kwargs)
    ref = getattr(torch.optim, name)(theirs, **kwargs)
    for _ in range(STEPS):
        g = grads(*ours)
        opt.step(g)
        for t, gi in zip(theirs, grads(*(t.numpy() for t in theirs))):
            t.grad = torch.tensor(gi)
        ref.step()
        for p, t in zip(ours, theirs):
            np.testing.assert_allclose(p, t.numpy(), rtol=RTOL, atol=1e-12)
    assert not np.allclose(ours[0], W)  # it moved


@pytest.mark.parametrize("name", optim.OPTIMIZERS)
def test_names_keywords_and_defaults_are_torchs(name):
    ours = inspect.signature(optim.OPTIMIZERS[name]).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    left_out = {"foreach", "fused", "capturable", "differentiable"}
    for key, param in ours.items():
        assert key in theirs, key
        if param.default is not inspect.Parameter.empty:
            assert param.default == theirs[key].default, key
    assert set(theirs) - set(ours) <= left_out


BAD = [
    ("SGD", dict(lr=-0.1)),
    ("SGD", dict(momentum=-0.5)),
    ("SGD", dict(weight_decay=-1)),
    ("SGD", dict(nesterov=True)),
    ("SGD", dict(momentum=0.9, dampening=0.1, nesterov=True)),
    ("Adagrad", dict(lr=-1)),
    ("Adagrad", dict(lr_decay=-1)),
    ("Adagrad", dict(eps=-1)),
    ("Adagrad", dict(initial_accumulator_value=-1)),
    ("Adagrad", dict(weight_decay=-1)),
    ("RMSprop", dict(alpha=-0.1)),
    ("RMSprop", dict(eps=-1)),
    ("RMSprop", dict(momentum=-1)),
    ("RMSprop", dict(weight_decay=-1)),
    ("RMSprop", dict(lr=-1)),
    ("Adadelta", dict(rho=1.5)),
    ("Adadelta", dict(rho=-0.1)),
    ("Adadelta", dict(eps=-1)),
    ("Adadelta", dict(lr=-1)),
    ("Adadelta", dict(weight_decay=-1)),
    ("Adam", dict(betas=(1.0, 0.999))),
    ("Adam", dict(betas=(0.9, -0.1))),
    ("Adam", dict(lr=-1)),
    ("Adam", dict(eps=-1)),
    ("Adam", dict(weight_decay=-1)),
    ("AdamW", dict(betas=(0.9, 1.0))),
    ("AdamW", dict(weight_decay=-0.01)),
]


@pytest.mark.parametrize("name, kwargs", BAD)
def test_invalid_hyperparameters_raise_torchs_message(name, kwargs):
    with pytest.raises(ValueError) as theirs:
        getattr(torch.optim, name)([torch.zeros(2, requires_grad=True)], **kwargs)
    with pytest.raises(ValueError) as ours:
        optim.OPTIMIZERS[name]([np.zeros(2)], **kwargs)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize(
    "params, message",
    [
        (np.zeros(3), "params must be a list of NumPy arrays"),
        ([], "empty parameter list"),
        ([np.zeros(3, dtype=int)], r"params\[0\] must be a floating-point NumPy array"),
        ([[0.0, 1.0]], r"params\[0\] must be a floating-point NumPy array"),
    ],
)
def test_bad_params(params, message):
    with pytest.raises(ValueError, match=message):
        optim.SGD(params, lr=0.1)


def test_too_many_parameters_refused_before_state_is_allocated():
    # one number seen MAX_PARAMETERS + 1 times: no memory, yet too many parameters
    big = np.lib.stride_tricks.as_strided(
        np.zeros(1), shape=(optim.MAX_PARAMETERS + 1,), strides=(0,), writeable=True
    )
    with pytest.raises(ValueError, match="at most"):
        optim.Adam([np.zeros(3), big])


def test_bad_grads_and_bad_types():
    opt = optim.SGD([np.zeros(3)], lr=0.1)
    with pytest.raises(ValueError, match="one array per parameter"):
        opt.step([np.zeros(3), np.zeros(3)])
    with pytest.raises(ValueError, match=r"grads\[0\] has shape \(2,\)"):
        opt.step([np.zeros(2)])
    with pytest.raises(ValueError, match="lr must be a finite number; got 'a'"):
        optim.SGD([np.zeros(3)], lr="a")
    with pytest.raises(ValueError, match="nesterov must be True or False"):
        optim.SGD([np.zeros(3)], lr=0.1, momentum=0.9, nesterov=1)


def test_params_are_updated_in_place():
    x = np.ones(3)
    optim.SGD([x], lr=0.5).step([np.ones(3)])
    np.testing.assert_array_equal(x, 0.5)  # 1 - 0.5 * 1 is exact in binary floating point


def test_adam_step_matches_the_adam_class():
    rng = np.random.default_rng(3)
    x = rng.standard_normal(4)
    ours = x.copy()
    opt = optim.Adam([ours], lr=0.01, betas=(0.8, 0.95), eps=1e-6)
    m = v = np.zeros(4)
    for t in range(1, 31):
        g = np.sin(3 * x) + x
        x, m, v = optim.adam_step(x, g, m, v, t, lr=0.01, beta1=0.8, beta2=0.95, eps=1e-6)
        opt.step([np.sin(3 * ours) + ours])
        np.testing.assert_allclose(x, ours, rtol=1e-12)


def test_adam_step_first_step_has_size_lr():
    # bias correction: m_hat_1 = g, v_hat_1 = g^2, so the first step is lr * sign(g)
    x, m, v = optim.adam_step(
        np.zeros(3), np.array([1e-3, -5.0, 2.0]), np.zeros(3), np.zeros(3), 1, lr=0.1, eps=0
    )
    np.testing.assert_allclose(x, [-0.1, 0.1, -0.1])
    with pytest.raises(ValueError, match="t must be >= 1"):
        optim.adam_step(x, x, m, v, 0)


def quadratic_grad(x):
    return np.array([1.0, 100.0]) * x


def test_lecture_momentum_equals_pytorch_momentum_at_constant_lr():
    a = optim.lecture_momentum(quadratic_grad, [1.0, 1.0], 0.01, 0.9, 200)
    b = optim.pytorch_momentum(quadratic_grad, [1.0, 1.0], 0.01, 0.9, 200)
    assert a.shape == (201, 2)
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def test_the_two_momentum_forms_differ_when_lr_changes():
    lr = np.where(np.arange(100) < 50, 0.01, 0.001)
    a = optim.lecture_momentum(quadratic_grad, [1.0, 1.0], lr, 0.9, 100)
    b = optim.pytorch_momentum(quadratic_grad, [1.0, 1.0], lr, 0.9, 100)
    np.testing.assert_allclose(a[:51], b[:51], rtol=1e-12)
    assert np.abs(a[52] - b[52]).max() > 1e-4


def test_pytorch_momentum_is_torchs():
    x = torch.tensor([1.0, 1.0], dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([x], lr=0.01, momentum=0.9)
    path = [x.detach().numpy().copy()]
    for _ in range(50):
        x.grad = torch.tensor(quadratic_grad(x.detach().numpy()))
        opt.step()
        path.append(x.detach().numpy().copy())
    np.testing.assert_allclose(
        optim.pytorch_momentum(quadratic_grad, [1.0, 1.0], 0.01, 0.9, 50),
        path,
        rtol=1e-12,
        atol=1e-12,
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(momentum=1.0), "momentum must be >= 0 and < 1"),
        (dict(steps=0), "steps must be between 1 and"),
        (dict(lr=-1.0), "lr must be >= 0"),
        (dict(grad=3), "grad must be a function"),
    ],
)
def test_momentum_forms_check_arguments(kwargs, message):
    args = dict(grad=quadratic_grad, x0=[1.0, 1.0], lr=0.01, momentum=0.9, steps=10)
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        optim.lecture_momentum(**args)
