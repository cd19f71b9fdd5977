"""Chapter 02, why preprocessing matters, measured (``notebooks/02_data_preprocessing.ipynb``,
section 2): the same data raw, centred, standardised and whitened, and what each does to

- a linear least-squares fit: the condition number of its Hessian and the exact number of
  gradient-descent steps to a target loss (:func:`least_squares_conditioning`);
- a small ReLU network trained by minibatch SGD: the epochs to a target validation accuracy
  at the best learning rate of a grid (:func:`network_epochs`), all runs stacked and trained
  as one batch of NumPy matrix products.

Every variant is an invertible affine map of the inputs, so each model class is the same and
so is the best loss: only the path of the optimiser differs (LeCun et al. 1998, section 4.3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_utils.preprocessing import Standardizer, Whitener, check_matrix
from course_utils.tables import format_table
from course_utils.validation import (
    MAX_SEED,
    check_array,
    check_int,
    check_real,
    check_sequence,
    check_work,
)

__all__ = [
    "preprocessed_variants",
    "LeastSquaresConditioning",
    "least_squares_conditioning",
    "gradient_descent_steps",
    "NetworkEpochs",
    "network_epochs",
]

#: Largest step count searched for by :func:`least_squares_conditioning` (closed form: any
#: count costs the same) and run by :func:`gradient_descent_steps` (one small product a step).
MAX_STEPS = 10**12
MAX_RUN_STEPS = 10**6


def _check_pair(x_train, x_val):
    x_train = check_matrix(x_train, "x_train", min_rows=2)
    x_val = check_matrix(x_val, "x_val")
    if x_val.shape[1] != x_train.shape[1]:
        raise ValueError(
            f"x_val must have {x_train.shape[1]} columns, as x_train; got {x_val.shape}"
        )
    return x_train, x_val


def _check_labels(name, y, n):
    y = check_array(name, y, dtype=None)
    if (
        y.shape != (n,)
        or y.dtype.kind not in "iuf"
        or not np.all(np.isfinite(y))
        or not np.array_equal(y, np.round(y))
        or (n and (y.min() < 0 or y.max() > 1000))
    ):
        raise ValueError(
            f"{name} must be integer class labels 0..1000, shape ({n},); got "
            f"shape {y.shape}, dtype {y.dtype}"
        )
    return y.astype(np.int64)


def preprocessed_variants(x_train, x_val, eps_values=(0.1,)) -> dict:
    """The data raw, centred, standardised and ZCA-whitened, every statistic fit on
    ``x_train``; features constant in ``x_train`` dropped first (they carry nothing, and
    leave the least-squares Hessian singular).

    Parameters
    ----------
    x_train : array (N, D)
    x_val : array (N', D)
    eps_values : sequence of float > 0
        One whitened variant per eps, named ``"whitened, eps=<eps>"``.

    Returns
    -------
    dict name -> (train (N, D'), val (N', D')), in the order raw, centred, standardised,
    whitened.
    """
    x_train, x_val = _check_pair(x_train, x_val)
    eps_values = check_sequence(
        "eps_values",
        eps_values,
        lambda name, e: check_real(name, e, low=0, low_open=True),
        max_len=10,
    )
    keep = x_train.std(axis=0) > 0
    if not keep.any():
        raise ValueError("x_train must have a feature that is not constant")
    train, val = x_train[:, keep], x_val[:, keep]
    mean = train.mean(axis=0)
    scaler = Standardizer().fit(train)
    out = {
        "raw": (train, val),
        "centred": (train - mean, val - mean),
        "standardised": (scaler.transform(train), scaler.transform(val)),
    }
    for eps in eps_values:
        white = Whitener("zca", eps).fit(train)
        out[f"whitened, eps={eps:g}"] = (white.transform(train), white.transform(val))
    return out


# ------------------------------------------------------------------ least squares
@dataclass(frozen=True)
class LeastSquaresConditioning:
    """:func:`least_squares_conditioning`'s result, one entry per variant (in ``names``).

    Attributes
    ----------
    names : tuple of str
    lambda_max, lambda_min : ndarray (V,)
        Largest and smallest eigenvalue of the Hessian :math:`A^\\top A / N`.
    steps : ndarray (V,), int
        Gradient-descent steps (rate :math:`1/\\lambda_{max}`, from 0) until the loss is
        within ``tol`` of the best loss, relative; -1 if more than ``MAX_STEPS``.
    best_loss : ndarray (V,)
        :math:`L^*`, the same for every variant up to round-off.
    tol : float
    """

    names: tuple
    lambda_max: np.ndarray
    lambda_min: np.ndarray
    steps: np.ndarray
    best_loss: np.ndarray
    tol: float

    @property
    def condition(self) -> np.ndarray:
        """:math:`\\kappa = \\lambda_{max} / \\lambda_{min}` per variant."""
        return self.lambda_max / self.lambda_min

    def table(self) -> str:
        """Condition number (3 significant digits), the two eigenvalues and the steps."""
        return format_table(
            {
                "condition number κ": [f"{k:.3g}" for k in self.condition],
                "λ_max": [f"{v:.3g}" for v in self.lambda_max],
                "λ_min": [f"{v:.3g}" for v in self.lambda_min],
                f"GD steps to L ≤ (1+{self.tol:g}) L*": [
                    f"{s:,}" if s >= 0 else f"> {MAX_STEPS:.0e}" for s in self.steps
                ],
            },
            index=list(self.names),
            index_name="inputs",
        )


def _design(x):
    return np.concatenate([x, np.ones((len(x), 1))], axis=1)  # the bias as a constant input


def least_squares_conditioning(variants: dict, y, tol: float = 0.01) -> LeastSquaresConditioning:
    """Linear least squares on one-hot targets, :math:`L(w) = \\frac1{2N}\\|A w - Y\\|^2` with
    :math:`A = [X, 1]`, for each variant of :func:`preprocessed_variants` (its training part).

    The Hessian is :math:`H = A^\\top A / N` with eigenvalues :math:`\\lambda_k` and
    eigenvectors :math:`v_k`. Gradient descent from :math:`w = 0` with rate
    :math:`\\eta = 1/\\lambda_{max}` leaves the excess loss
    :math:`L(w_t) - L^* = \\frac12 \\sum_k \\lambda_k (1 - \\eta\\lambda_k)^{2t} \\|e_k\\|^2`,
    :math:`e_k = v_k^\\top (0 - w^*)` (summed over the targets): each direction shrinks by its
    own factor, the slowest by :math:`1 - 1/\\kappa`. The step count is found exactly from this
    closed form by bisection (:func:`gradient_descent_steps` runs the steps; the tests check
    both agree).

    Parameters
    ----------
    variants : dict name -> (train (N, D), val)
    y : int array (N,)
        Class labels of the training rows.
    tol : float in (0, 10]
        Target: :math:`L \\le (1 + tol) L^*`.
    """
    if not isinstance(variants, dict) or not 1 <= len(variants) <= 10:
        raise ValueError(
            "variants must be a dict of 1 to 10 entries name -> (train, val) (see "
            f"preprocessed_variants); got {type(variants).__name__}"
        )
    tol = check_real("tol", tol, low=0, high=10, low_open=True)
    from course_utils.threads import one_blas_thread

    with one_blas_thread():  # (D+1)² matrices: threads cost more than they save
        return _least_squares_conditioning(variants, y, tol)


def _least_squares_conditioning(variants, y, tol):
    rows = {k: [] for k in ("lambda_max", "lambda_min", "steps", "best_loss")}
    for name, pair in variants.items():
        train = check_matrix(pair[0], f"variants[{name!r}][0]", min_rows=2)
        labels = _check_labels("y", y, len(train))
        A, Y = _design(train), np.eye(int(labels.max()) + 1)[labels]
        lam, V = np.linalg.eigh(A.T @ A / len(A))
        if lam[0] <= 1e-12 * lam[-1]:
            raise ValueError(
                f"variants[{name!r}] has a singular Hessian (a constant or repeated "
                "feature): drop it first"
            )
        w_star = np.linalg.solve(A.T @ A, A.T @ Y)
        best = 0.5 * float(((A @ w_star - Y) ** 2).sum(axis=1).mean())
        e2 = ((V.T @ w_star) ** 2).sum(axis=1)  # ||e_k||^2, summed over the targets
        factor = (1.0 - lam / lam[-1]) ** 2

        def excess(t, lam=lam, e2=e2, factor=factor):
            return 0.5 * float(np.sum(lam * factor**t * e2))

        target = tol * best
        if excess(0) <= target:
            steps = 0
        else:
            lo, hi = 0, 1
            while excess(hi) > target and hi < MAX_STEPS:
                lo, hi = hi, 2 * hi
            if excess(hi) > target:
                steps = -1
            else:
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    lo, hi = (mid, hi) if excess(mid) > target else (lo, mid)
                steps = hi
        for key, value in zip(rows, (lam[-1], lam[0], steps, best)):
            rows[key].append(value)
    return LeastSquaresConditioning(
        tuple(variants),
        np.array(rows["lambda_max"]),
        np.array(rows["lambda_min"]),
        np.array(rows["steps"], dtype=np.int64),
        np.array(rows["best_loss"]),
        tol,
    )


def gradient_descent_steps(x, y, target: float, max_steps: int = 100_000) -> tuple[int, float]:
    """Run gradient descent on :func:`least_squares_conditioning`'s loss for inputs ``x``
    (N, D) and labels ``y`` (N,), from 0 with rate :math:`1/\\lambda_{max}`, until the loss is
    at most ``target``.

    Steps use the Gram form :math:`\\nabla L = H w - A^\\top Y / N` (one (D+1)² product a
    step). Returns (steps taken, final loss); steps is -1 if ``max_steps`` were not enough.
    """
    x = check_matrix(x, "x", min_rows=2)
    labels = _check_labels("y", y, len(x))
    target = check_real("target", target, low=0)
    max_steps = check_int("max_steps", max_steps, 0, MAX_RUN_STEPS)
    A, Y = _design(x), np.eye(int(labels.max()) + 1)[labels]
    check_work("the steps", max_steps * A.shape[1] ** 2 * Y.shape[1] + A.size * A.shape[1])
    H, b = A.T @ A / len(A), A.T @ Y / len(A)
    c = 0.5 * float((Y**2).sum(axis=1).mean())
    eta = 1.0 / np.linalg.eigvalsh(H)[-1]
    w = np.zeros((A.shape[1], Y.shape[1]))

    def loss(w):  # (1/2N)||Aw - Y||^2 = 1/2 w'Hw - b'w + c
        return float(0.5 * np.sum(w * (H @ w)) - np.sum(b * w) + c)

    for step in range(max_steps + 1):
        value = loss(w)
        if value <= target:
            return step, value
        w -= eta * (H @ w - b)
    return -1, value


# ------------------------------------------------------------------ a small network
@dataclass(frozen=True)
class NetworkEpochs:
    """:func:`network_epochs`' validation accuracies.

    Attributes
    ----------
    names : tuple of str, the variants (V)
    lrs : tuple of float (L); seeds : tuple of int (S)
    accuracy : ndarray (V, L, S, E)
        Validation accuracy after each epoch.
    target : float
    """

    names: tuple
    lrs: tuple
    seeds: tuple
    accuracy: np.ndarray
    target: float

    @property
    def epochs_to_target(self) -> np.ndarray:
        """(V, L, S) int: the first epoch (1-based) with accuracy >= target, or E + 1."""
        reached = self.accuracy >= self.target
        first = reached.argmax(axis=-1) + 1
        return np.where(reached.any(axis=-1), first, self.accuracy.shape[-1] + 1)

    def best(self) -> list:
        """Per variant: (best lr index, median epochs to target over the seeds there,
        mean final accuracy there); the best lr has the fewest median epochs, ties broken
        by the higher mean final accuracy."""
        median = np.median(self.epochs_to_target, axis=-1)  # (V, L)
        final = self.accuracy[..., -1].mean(axis=-1)  # (V, L)
        out = []
        for v in range(len(self.names)):
            order = np.lexsort((-final[v], median[v]))
            i = int(order[0])
            out.append((i, float(median[v, i]), float(final[v, i])))
        return out

    def table(self) -> str:
        """Per variant: the best lr, its median epochs to the target, its mean final
        accuracy, and the mean final accuracy at every lr of the grid."""
        epochs = self.accuracy.shape[-1]
        per_lr = f"final acc at lr {' '.join(f'{lr:g}' for lr in self.lrs)}"
        rows = {
            "best lr": [],
            f"epochs to {self.target:.0%} (median)": [],
            "final acc": [],
            per_lr: [],
        }
        finals = self.accuracy[..., -1].mean(axis=-1)  # (V, L)
        for v, (i, median, final) in enumerate(self.best()):
            rows["best lr"].append(f"{self.lrs[i]:g}")
            rows[f"epochs to {self.target:.0%} (median)"].append(
                f"{median:g}" if median <= epochs else f"> {epochs}"
            )
            rows["final acc"].append(f"{final:.3f}")
            rows[per_lr].append(" ".join(f"{a:.2f}" for a in finals[v]))
        return format_table(rows, index=list(self.names), index_name="inputs")

    def claims(self, within: int = 6, high: float = 0.95, chance: float = 0.2) -> str:
        """What holds on every CPU, per variant (SGD near its stability edge moves the exact
        epoch counts between machines, never these): whether the target is reached within
        ``within`` epochs at some rate of the grid (median over the seeds), whether the mean
        final accuracy at the largest rate is above ``high``, and at which rates the run ends
        at chance (mean final accuracy below ``chance``: diverged)."""
        within = check_int("within", within, 1, 10**4)
        finals = self.accuracy[..., -1].mean(axis=-1)  # (V, L)
        median = np.median(self.epochs_to_target, axis=-1)  # (V, L)
        top = len(self.lrs) - 1
        rows = {
            f"reaches {self.target:.0%} within {within} epochs": [],
            f"final acc at lr {self.lrs[top]:g} above {high:g}": [],
            f"ends at chance (< {chance:g}) at lr": [],
        }
        for v in range(len(self.names)):
            rows[f"reaches {self.target:.0%} within {within} epochs"].append(
                "yes" if np.any(median[v] <= within) else "no"
            )
            rows[f"final acc at lr {self.lrs[top]:g} above {high:g}"].append(
                "yes" if finals[v, top] > high else "no"
            )
            lost = [f"{lr:g}" for lr, f in zip(self.lrs, finals[v]) if f < chance]
            rows[f"ends at chance (< {chance:g}) at lr"].append(", ".join(lost) or "none")
        return format_table(rows, index=list(self.names), index_name="inputs")


def network_epochs(
    variants: dict,
    y_train,
    y_val,
    lrs=(0.03, 0.1, 0.3, 1.0),
    seeds=(0, 1, 2),
    epochs: int = 12,
    hidden: int = 32,
    batch_size: int = 64,
    target: float = 0.95,
) -> NetworkEpochs:
    """Train a one-hidden-layer ReLU network (softmax cross-entropy, plain minibatch SGD)
    on each variant for every (lr, seed), and record the validation accuracy per epoch.

    Every run of every variant is stacked along a first axis and trained as one batch of
    matrix products (float64). Seed ``s`` fixes the weights (Kaiming normal for the hidden
    layer, :math:`\\sqrt{2/D}`, and :math:`\\sqrt{1/H}` for the output; biases 0) and the
    minibatch order of every epoch (``default_rng([s, epoch])``), the same for every variant
    and lr: the runs differ only in the inputs and the rate.

    Parameters
    ----------
    variants : dict name -> (train (N, D), val (N', D)), as :func:`preprocessed_variants`
    y_train : int array (N,); y_val : int array (N',)
    lrs : sequence of float > 0, at most 10; seeds : sequence of int, at most 10
    epochs : int, 1 to 100; hidden : int, 1 to 512; batch_size : int >= 1
    target : float in (0, 1]
    """
    if not isinstance(variants, dict) or not 1 <= len(variants) <= 10:
        raise ValueError(
            "variants must be a dict of 1 to 10 entries name -> (train, val) (see "
            f"preprocessed_variants); got {type(variants).__name__}"
        )
    pairs = [_check_pair(*pair) for pair in variants.values()]
    shape = pairs[0][0].shape, pairs[0][1].shape
    if any((t.shape, v.shape) != shape for t, v in pairs):
        raise ValueError(f"every variant must have the shapes of the first, {shape}")
    lrs = check_sequence(
        "lrs", lrs, lambda name, v: check_real(name, v, low=0, high=100, low_open=True), max_len=10
    )
    seeds = check_sequence(
        "seeds", seeds, lambda name, s: check_int(name, s, 0, MAX_SEED), max_len=10
    )
    epochs = check_int("epochs", epochs, 1, 100)
    hidden = check_int("hidden", hidden, 1, 512)
    (n, d), n_val = shape[0], shape[1][0]
    batch_size = check_int("batch_size", batch_size, 1, n)
    target = check_real("target", target, low=0, high=1, low_open=True)
    y_train = _check_labels("y_train", y_train, n)
    y_val = _check_labels("y_val", y_val, n_val)
    classes = int(max(y_train.max(), y_val.max())) + 1
    runs = [(v, lr, s) for v in range(len(pairs)) for lr in lrs for s in seeds]
    R = len(runs)
    check_work("the training runs", R * epochs * (n + n_val) * (d + classes) * hidden * 3)

    XT = np.stack([t for t, _ in pairs])  # (V, N, D)
    XV = np.stack([v for _, v in pairs])
    which = np.array([r[0] for r in runs])
    rate = np.array([r[1] for r in runs])[:, None, None]
    seed_of = np.array([seeds.index(r[2]) for r in runs])
    W1, W2 = np.empty((R, d, hidden)), np.empty((R, hidden, classes))
    for r, (_, _, s) in enumerate(runs):
        rng = np.random.default_rng(s)
        W1[r] = rng.standard_normal((d, hidden)) * np.sqrt(2.0 / d)
        W2[r] = rng.standard_normal((hidden, classes)) * np.sqrt(1.0 / hidden)
    b1, b2 = np.zeros((R, 1, hidden)), np.zeros((R, 1, classes))
    Y = np.eye(classes)[y_train]
    accuracy = np.zeros((R, epochs))
    from course_utils.threads import one_blas_thread

    # Small products: BLAS threads cost more than they save (measured 5x slower with 2).
    # A too-large rate diverges to inf/nan: its accuracy says so.
    with np.errstate(all="ignore"), one_blas_thread():
        for epoch in range(epochs):
            orders = np.stack([np.random.default_rng([s, epoch]).permutation(n) for s in seeds])
            order = orders[seed_of]
            for start in range(0, n, batch_size):
                idx = order[:, start : start + batch_size]
                x, y = XT[which[:, None], idx], Y[idx]
                h = np.maximum(x @ W1 + b1, 0.0)
                z = h @ W2 + b2
                z -= z.max(axis=-1, keepdims=True)
                p = np.exp(z)
                p /= p.sum(axis=-1, keepdims=True)
                dz = (p - y) / idx.shape[1]
                dh = (dz @ W2.transpose(0, 2, 1)) * (h > 0)
                W2 -= rate * (h.transpose(0, 2, 1) @ dz)
                b2 -= rate * dz.sum(axis=1, keepdims=True)
                W1 -= rate * (x.transpose(0, 2, 1) @ dh)
                b1 -= rate * dh.sum(axis=1, keepdims=True)
            scores = np.maximum(XV[which] @ W1 + b1, 0.0) @ W2 + b2
            accuracy[:, epoch] = (scores.argmax(axis=-1) == y_val).mean(axis=1)
    return NetworkEpochs(
        tuple(variants),
        tuple(lrs),
        tuple(seeds),
        accuracy.reshape(len(pairs), len(lrs), len(seeds), epochs),
        target,
    )
