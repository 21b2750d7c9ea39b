# SPDX-License-Identifier: Apache-2.0
"""The offline readout of a spiking reservoir, and its two tasks.

A reservoir (:mod:`neurotile.neurons.reservoir`) is never trained; a linear readout of its
spikes is, here, in NumPy, by ridge regression:

* :func:`filtered`: the reservoir state, each neuron's spikes through a first-order filter,
  ``r[t] = lam * r[t-1] + s[t]`` (``r[-1] = 0``): an exponentially weighted spike count;
* :func:`ridge_fit` / :func:`ridge_predict`: ``W = (X'X + alpha I)^-1 X'Y`` on standardised
  features with an unpenalised bias; :func:`ridge_select` picks ``alpha`` from a fixed grid on
  a validation part of the training set;
* :func:`digits_series`: scikit-learn's 8x8 digits as a time series, one image row per step
  (8 steps of 8 inputs), pixels ``0..16`` as 4-bit values;
* :func:`digits_accuracy`: classification by a one-hot ridge readout, trained on a training
  split, scored on a held-out one;
* :func:`memory_capacity`: the standard measure, ``MC = sum_k r^2(u[t-k], y_k[t])`` over delays
  ``k = 1 .. max_delay``, ``y_k`` a linear readout of the state trained to reproduce an i.i.d.
  input ``k`` steps back, ``r^2`` its squared correlation on held-out steps.

Everything is deterministic: the splits and inputs come from seeds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["filtered", "ridge_fit", "ridge_predict", "ridge_select", "ALPHAS",
           "digits_series", "digits_split", "digits_accuracy", "memory_capacity", "DIGITS"]

#: The data file of the digits (all 1,797 images).
DIGITS = Path(__file__).resolve().parents[1] / "examples" / "digits" / "digits_all.npz"
#: The ridge penalties :func:`ridge_select` tries.
ALPHAS = tuple(10.0 ** k for k in range(-3, 5))


def filtered(spikes: np.ndarray, lam: float) -> np.ndarray:
    """``r[t] = lam * r[t-1] + s[t]`` along axis 1 of ``[samples, steps, n]``; same shape."""
    if not 0.0 <= lam < 1.0:
        raise ValueError(f"lam must be in [0, 1), not {lam}")
    s = np.asarray(spikes, np.float64)
    r = np.zeros_like(s)
    acc = np.zeros(s.shape[::2], np.float64)
    for t in range(s.shape[1]):
        acc = lam * acc + s[:, t]
        r[:, t] = acc
    return r


def ridge_fit(x: np.ndarray, y: np.ndarray, alpha: float) -> dict[str, np.ndarray]:
    """Ridge regression of ``y`` (``[samples]`` or ``[samples, targets]``) on ``x``
    (``[samples, features]``); features are standardised (a standard deviation below 0.01
    counts as 0.01, so a nearly constant feature is not blown up), the bias is not penalised."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64)
    mean, std = x.mean(axis=0), x.std(axis=0)
    std = np.maximum(std, 1e-2)
    z = (x - mean) / std
    ym = y.mean(axis=0)
    gram = z.T @ z + alpha * np.eye(z.shape[1])
    w = np.linalg.solve(gram, z.T @ (y - ym))
    return {"mean": mean, "std": std, "w": w, "bias": ym}


def ridge_predict(model: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """The readout of ``x`` by a model of :func:`ridge_fit`."""
    z = (np.asarray(x, np.float64) - model["mean"]) / model["std"]
    return z @ model["w"] + model["bias"]


def _classes(y: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k)[np.asarray(y, np.int64)]


def ridge_select(x: np.ndarray, y: np.ndarray, classes: int,
                 alphas: tuple[float, ...] = ALPHAS) -> float:
    """The ``alpha`` of ``alphas`` with the best accuracy on the last fifth of ``x`` when
    trained on the rest (the first on ties)."""
    cut = len(x) - max(1, len(x) // 5)
    best, best_acc = alphas[0], -1.0
    for a in alphas:
        m = ridge_fit(x[:cut], _classes(y[:cut], classes), a)
        acc = float(np.mean(np.argmax(ridge_predict(m, x[cut:]), axis=1) == y[cut:]))
        if acc > best_acc:
            best, best_acc = a, acc
    return best


def digits_series(images: np.ndarray, input_width: int = 4) -> np.ndarray:
    """Images ``[samples, 64]`` of pixels ``0..16`` as ints ``[samples, 8, 8]``: step ``r``
    is row ``r``, its 8 pixels as ``input_width``-bit values
    (``round(pixel * (2**input_width - 1) / 16)``, so 16 is full scale)."""
    x = np.asarray(images, np.float64).reshape(-1, 8, 8)
    top = (1 << input_width) - 1
    return np.floor(x * top / 16.0 + 0.5).astype(np.int64)


def digits_split(path: str | Path = DIGITS) -> dict[str, np.ndarray]:
    """The digits as ``pixels`` ``[1797, 64]`` (``0..16``) and ``labels``, with ``train`` and
    ``test`` row indices: the split of ``examples/digits`` (a permutation by
    ``default_rng(0)``, its first 360 rows the test set)."""
    d = np.load(path)
    pixels = np.rint(d["inputs"][:, 0, :] * 16).astype(np.int64)
    labels = d["labels"].astype(np.int64)
    perm = np.random.default_rng(0).permutation(len(labels))
    return {"pixels": pixels, "labels": labels, "test": perm[:360], "train": perm[360:]}


def digits_accuracy(features: np.ndarray, labels: np.ndarray, train: np.ndarray,
                    test: np.ndarray, classes: int = 10) -> dict[str, float]:
    """Train a one-hot ridge readout on rows ``train`` of ``features`` (``alpha`` by
    :func:`ridge_select`) and score it on rows ``test``; ``train_accuracy``,
    ``test_accuracy``, ``alpha``."""
    f = np.asarray(features, np.float64).reshape(len(features), -1)
    alpha = ridge_select(f[train], labels[train], classes)
    m = ridge_fit(f[train], _classes(labels[train], classes), alpha)

    def acc(rows: np.ndarray) -> float:
        return float(np.mean(np.argmax(ridge_predict(m, f[rows]), axis=1) == labels[rows]))

    return {"train_accuracy": acc(train), "test_accuracy": acc(test), "alpha": alpha}


def memory_capacity(state: np.ndarray, u: np.ndarray, *, max_delay: int, washout: int = 100,
                    alpha: float = 1.0) -> dict[str, Any]:
    """The memory capacity of a state sequence driven by the i.i.d. input ``u``.

    Parameters
    ----------
    state : array
        ``[steps, features]``: the reservoir state at each step (e.g. :func:`filtered`
        spikes), driven by ``u[t]`` from step ``t`` on.
    u : array
        ``[steps]`` the input.
    max_delay : int
        Delays ``k = 1 .. max_delay`` are summed.
    washout : int
        Steps dropped at the start (the state still remembers the rest state).
    alpha : float
        Ridge penalty of the readouts.

    Returns
    -------
    dict
        ``mc`` (the sum), ``r2`` (``[max_delay]``, delay ``k`` at ``k - 1``): each delay's
        squared correlation between ``u[t-k]`` and its readout on the second half of the steps
        after the washout, trained on the first half.
    """
    x = np.asarray(state, np.float64)
    u = np.asarray(u, np.float64)
    steps = len(u)
    if x.shape[0] != steps:
        raise ValueError(f"state has {x.shape[0]} steps but u {steps}")
    if not 1 <= max_delay < steps - washout - 2:
        raise ValueError(f"max_delay must be between 1 and {steps - washout - 3}, "
                         f"not {max_delay}")
    t = np.arange(washout + max_delay, steps)
    targets = np.stack([u[t - k] for k in range(1, max_delay + 1)], axis=1)
    half = len(t) // 2
    m = ridge_fit(x[t[:half]], targets[:half], alpha)
    pred = ridge_predict(m, x[t[half:]])
    want = targets[half:]
    r2 = np.zeros(max_delay)
    for k in range(max_delay):
        a, b = pred[:, k], want[:, k]
        if a.std() > 0 and b.std() > 0:
            r2[k] = float(np.corrcoef(a, b)[0, 1] ** 2)
    return {"mc": float(r2.sum()), "r2": r2}
