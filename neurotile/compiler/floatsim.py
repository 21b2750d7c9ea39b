# SPDX-License-Identifier: Apache-2.0
"""The float reference of a NIR graph: the exporting library's forward pass, in NumPy.

:func:`simulate` runs a :class:`~neurotile.compiler.graph.FloatNetwork` over a batch of samples,
in float32 (the arithmetic snnTorch trains in, operation for operation) or float64. Each step,
for each layer in order::

    I = W x + b  (+ R s[t-1] for a recurrent layer)       x: the input, or the spikes below
    lif, if:   R = U > th (from the stored membrane); subtract: V = (beta U + I) - R th;
               zero: V = beta ((1 - R) U) + I                                  (snnTorch Leaky)
    cuba-lif:  J = alpha J + I;  V = beta U + J;  subtract: V - R th;  zero: V - V R  (Synaptic)
    li:        V = beta U + I                                   (a Leaky with no reset)
    S = V > th (strict); without the reset delay, the step's own spikes reset V at once.

These are the orders of operations of :func:`neurotile.neurons.lif.leaky_f32_step` and
:func:`neurotile.neurons.cuba_lif.synaptic_step`, which match snnTorch 1.0 bit for bit; here
the parameters are per neuron. The class of a sample is the argmax of the output spike counts
over the steps, the lowest index on ties.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from neurotile.compiler.graph import FloatLayer, FloatNetwork
from neurotile.neurons.network import classify

__all__ = ["FloatRun", "simulate"]


@dataclass
class FloatRun:
    """What :func:`simulate` computed.

    ``spikes[l]``: bool ``[samples, steps, neurons]`` (all False for a layer that never fires);
    ``membrane[l]``: the last layer's membrane only (``[samples, steps, neurons]``), else None;
    ``counts``: output spike counts ``[samples, outputs]``; ``classes``: ``[samples]``;
    ``peak_membrane[l]``, ``peak_current[l]``, ``peak_synaptic[l]``: per neuron, the largest
    magnitude each reached (for choosing scales).
    """

    spikes: list[np.ndarray]
    membrane: list[np.ndarray | None]
    counts: np.ndarray
    classes: np.ndarray
    peak_membrane: list[np.ndarray]
    peak_current: list[np.ndarray]
    peak_synaptic: list[np.ndarray | None]


def _step(layer: FloatLayer, state: dict[str, np.ndarray], x: np.ndarray, reset: str,
          delay: bool, dt: type) -> tuple[np.ndarray, np.ndarray]:
    u = state["u"]
    beta = layer.beta.astype(dt)
    th = layer.threshold.astype(dt)
    one = dt(1)
    if layer.model == "li":
        v = beta * u + x
        state["u"] = v
        return v, np.zeros(v.shape, bool)
    r = (u - th > 0).astype(dt)
    if layer.model == "cuba-lif":
        j = layer.alpha.astype(dt) * state["j"] + x
        state["j"] = j
        v = beta * u + j
        v = v - r * th if reset == "subtract" else v - v * r
    elif reset == "subtract":
        v = (beta * u + x) - r * th
    else:
        v = beta * ((one - r) * u) + x
    s = (v - th > 0).astype(dt)
    if not delay:
        undo = s - r
        v = v - undo * th if reset == "subtract" else v - undo * v
    state["u"] = v
    return v, s > 0


def simulate(net: FloatNetwork, inputs: np.ndarray, *, dtype: type = np.float32,
             keep_membrane: bool = False) -> FloatRun:
    """Run ``inputs`` (``[samples, steps, inputs]``) through the float network from rest.

    ``dtype``: ``np.float32`` (the exporting library's arithmetic) or ``np.float64``.
    ``keep_membrane``: also return the output layer's membrane per step.
    """
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, not {dtype!r}")
    x = np.asarray(inputs, dtype)
    if x.ndim != 3 or x.shape[2] != net.inputs:
        raise ValueError(f"inputs must have shape [samples, steps, {net.inputs}], not "
                         f"{list(x.shape)}")
    samples, steps, _ = x.shape
    spikes: list[np.ndarray] = []
    membranes: list[np.ndarray | None] = []
    peaks_v, peaks_i, peaks_j = [], [], []
    below = x
    for li, layer in enumerate(net.layers):
        n = layer.size
        w_t = layer.weight.astype(dtype).T.copy()
        b = layer.bias.astype(dtype)
        has_bias = bool(np.any(layer.bias != 0))
        rec_t = None if layer.recurrent is None else layer.recurrent.astype(dtype).T.copy()
        state = {"u": np.zeros((samples, n), dtype)}
        if layer.model == "cuba-lif":
            state["j"] = np.zeros((samples, n), dtype)
        out = np.zeros((samples, steps, n), bool)
        keep = keep_membrane and li == len(net.layers) - 1
        mem = np.zeros((samples, steps, n), dtype) if keep else None
        peak_v = np.zeros(n)
        peak_i = np.zeros(n)
        peak_j = np.zeros(n) if layer.model == "cuba-lif" else None
        prev = np.zeros((samples, n), dtype)
        for t in range(steps):
            current = below[:, t, :] @ w_t
            if has_bias:
                current = current + b
            if rec_t is not None:
                current = current + prev @ rec_t
            v, s = _step(layer, state, current, net.reset, net.reset_delay, dtype)
            out[:, t] = s
            prev = s.astype(dtype)
            if mem is not None:
                mem[:, t] = v
            np.maximum(peak_v, np.abs(v).max(axis=0), out=peak_v)
            np.maximum(peak_i, np.abs(current).max(axis=0), out=peak_i)
            if peak_j is not None:
                np.maximum(peak_j, np.abs(state["j"]).max(axis=0), out=peak_j)
        spikes.append(out)
        membranes.append(mem)
        peaks_v.append(peak_v)
        peaks_i.append(peak_i)
        peaks_j.append(peak_j)
        below = out.astype(dtype)
    counts = spikes[-1].sum(axis=1)
    return FloatRun(spikes=spikes, membrane=membranes, counts=counts, classes=classify(counts),
                    peak_membrane=peaks_v, peak_current=peaks_i, peak_synaptic=peaks_j)
