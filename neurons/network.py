# SPDX-License-Identifier: Apache-2.0
"""A network of spiking layers: the integer reference of the compiled network top.

A :class:`Network` is a chain of :class:`Layer` s. Each layer is a sparse synapse tile (a
:class:`~neurotile.neurons.synapses.CSRMatrix` walked one weight per cycle) feeding a population
of one neuron model of :mod:`neurotile.neurons.spec` (LIF, CubaLIF, IF or LI, with per-neuron
constant tables and a bias). A layer's input events are

1. the events of the step from below: the network input (``addr``, and with multi-bit input
   the ``value``), or the addresses of the neurons of the layer below that spiked, in index
   order; then,
2. for a recurrent layer, its own spikes of the previous step, as events with the addresses
   ``inputs + i`` (rows ``inputs ..`` of the layer's matrix hold the recurrent weights), in
   index order; then the end of the step.

The tile accumulates each event's row with saturation after every addition (see
:func:`~neurotile.neurons.synapses.sparse_matvec`); at the end of the step its accumulators are
the neurons' input currents (``acc_width`` bits), which the population adds its bias to
(saturating) and steps. This module computes exactly that, for a batch of samples at once.

A *sample* is ``steps`` timesteps from the reset state. The readout counts the output layer's
spikes per neuron over the sample (saturating at ``count_width`` bits) and names the class:
the index of the largest count, the lowest index on ties.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurotile.neurons.spec import NeuronConfig
from neurotile.neurons.synapses import CSRMatrix, SparseParams

__all__ = ["Layer", "Network", "NetworkRun", "run_network", "classify", "input_events",
           "describe"]


@dataclass(frozen=True)
class Layer:
    """One layer: synapses into a population.

    Parameters
    ----------
    name : str
        The layer's name (the NIR node of its neurons).
    weights : CSRMatrix
        ``inputs (+ neurons, when recurrent) x neurons`` integer weights, CSR by input row.
    neurons : NeuronConfig
        The population: model, widths, per-neuron tables, bias; its run-time settings are the
        layer's (constants of the generated hardware).
    sparse : SparseParams
        The tile: ``inputs`` (rows of ``weights``), ``outputs`` (= neurons), widths, ``depth``,
        ``act_width`` (1 for spike input).
    recurrent : bool
        Rows ``inputs .. inputs + neurons - 1`` of ``weights`` take this layer's spikes of the
        previous step.
    """

    name: str
    weights: CSRMatrix
    neurons: NeuronConfig
    sparse: SparseParams
    recurrent: bool = False

    def __post_init__(self) -> None:
        n = self.neurons.neurons
        if self.sparse.outputs != n:
            raise ValueError(f"layer {self.name}: the tile has {self.sparse.outputs} outputs "
                             f"but the population {n} neurons")
        if self.recurrent and self.sparse.inputs < n:
            raise ValueError(f"layer {self.name}: a recurrent tile needs at least {n} rows")
        self.weights.check(self.sparse)
        f = self.neurons.input_field()
        if f.width != self.sparse.acc_width or not f.signed:
            raise ValueError(f"layer {self.name}: the neurons' input is {f.width} bits but the "
                             f"accumulators {self.sparse.acc_width}")
        if "spike" not in {o.name for o in self.neurons.output_fields()}:
            raise ValueError(f"layer {self.name}: {self.neurons.NAME} neurons do not spike")

    @property
    def inputs(self) -> int:
        """Feed-forward inputs (rows before the recurrent ones)."""
        return self.sparse.inputs - (self.neurons.neurons if self.recurrent else 0)

    @property
    def size(self) -> int:
        return self.neurons.neurons

    def settings(self) -> dict[str, Any]:
        """Every setting for :meth:`NeuronConfig.step`: shared ints, or per-neuron arrays."""
        out: dict[str, Any] = dict(self.neurons.runtime())
        for name, values in self.neurons.tables().items():
            out[name] = np.array(values, np.int64)
        return out


@dataclass(frozen=True)
class Network:
    """Layers in order, the input width, and the readout's counter width.

    ``input_width``: bits of an unsigned input value (1 for binary spikes; then the first
    layer's ``act_width`` is 1). ``count_width``: bits of each output spike counter.
    """

    layers: tuple[Layer, ...]
    input_width: int = 1
    count_width: int = 8

    def __post_init__(self) -> None:
        if not self.layers:
            raise ValueError("a network needs at least one layer")
        if not 1 <= self.input_width <= 8:
            raise ValueError(f"input_width must be 1 to 8 bits, not {self.input_width}")
        if not 1 <= self.count_width <= 16:
            raise ValueError(f"count_width must be 1 to 16 bits, not {self.count_width}")
        first = self.layers[0]
        if first.sparse.act_width != self.input_width:
            raise ValueError(f"the first layer's act_width ({first.sparse.act_width}) must be "
                             f"the input width ({self.input_width})")
        for below, above in zip(self.layers, self.layers[1:]):
            if above.inputs != below.size:
                raise ValueError(f"layer {above.name} takes {above.inputs} inputs but layer "
                                 f"{below.name} has {below.size} neurons")
            if above.sparse.act_width != 1:
                raise ValueError(f"layer {above.name} takes spikes: act_width must be 1")

    @property
    def inputs(self) -> int:
        return self.layers[0].inputs

    @property
    def outputs(self) -> int:
        return self.layers[-1].size

    @property
    def count_max(self) -> int:
        return (1 << self.count_width) - 1


@dataclass
class NetworkRun:
    """What :func:`run_network` computed for a batch of samples.

    ``spikes[l]``: bool ``[samples, steps, neurons]`` of layer ``l``; ``counts``: the readout's
    saturated output spike counts ``[samples, outputs]``; ``classes``: ``[samples]``;
    ``synaptic_ops``: weights walked per sample; ``acc_saturations[l]`` and
    ``membrane_saturations[l]``: per layer, how many accumulator additions saturated and how
    many neuron updates ended at a rail of the membrane range, over the batch.
    """

    spikes: list[np.ndarray]
    counts: np.ndarray
    classes: np.ndarray
    synaptic_ops: np.ndarray
    acc_saturations: list[int] = field(default_factory=list)
    membrane_saturations: list[int] = field(default_factory=list)


def classify(counts: np.ndarray) -> np.ndarray:
    """The class of each sample: argmax of the counts, the lowest index on ties."""
    return np.argmax(np.asarray(counts), axis=-1)


def input_events(x: np.ndarray) -> list[tuple[int, int]]:
    """A step's network input ``x`` (non-negative ints, one per input) as ``(addr, value)``
    events in index order; zero inputs send no event."""
    nz = np.flatnonzero(x)
    return [(int(a), int(x[a])) for a in nz]


def _accumulate(layer: Layer, rows: np.ndarray, x: np.ndarray, acc: np.ndarray,
                exact: np.ndarray | None) -> int:
    """Add rows ``rows`` of the layer's matrix, scaled by ``x[:, i]`` (``[samples, len(rows)]``),
    into ``acc`` in row order; return how many additions saturated. ``exact``: the dense
    matrix, when no partial sum can saturate (then one matrix product does it)."""
    w = layer.weights
    p = layer.sparse
    if exact is not None:  # no partial sum can leave the range: any order gives the same sum
        acc += x @ exact[rows]
        return 0
    saturated = 0
    for i, a in enumerate(rows):
        xi = x[:, i]
        if not xi.any():
            continue
        for k in range(w.row_ptr[a], w.row_ptr[a + 1]):
            c = w.col[k]
            total = acc[:, c] + int(w.weight[k]) * xi
            clipped = np.clip(total, p.acc_min, p.acc_max)
            saturated += int(np.count_nonzero(clipped != total))
            acc[:, c] = clipped
    return saturated


def _no_saturation(layer: Layer, in_max: int) -> bool:
    """Whether no partial sum of a step can leave the accumulator range."""
    w = layer.weights
    p = layer.sparse
    rows = np.repeat(np.arange(w.inputs), np.diff(w.row_ptr))
    scale = np.where(rows < layer.inputs, in_max, 1)
    pos = np.bincount(w.col, np.maximum(w.weight, 0) * scale, minlength=w.outputs)
    neg = np.bincount(w.col, np.minimum(w.weight, 0) * scale, minlength=w.outputs)
    return bool(pos.max(initial=0) <= p.acc_max and neg.min(initial=0) >= p.acc_min)


def run_network(net: Network, inputs: np.ndarray) -> NetworkRun:
    """Run samples through the integer network, exactly as the hardware does.

    ``inputs``: non-negative ints ``[samples, steps, inputs]`` below ``2**input_width``. Every
    sample starts from the reset state.
    """
    x = np.asarray(inputs)
    if x.ndim != 3 or x.shape[2] != net.inputs:
        raise ValueError(f"inputs must have shape [samples, steps, {net.inputs}], "
                         f"not {list(x.shape)}")
    if x.dtype.kind not in "biu":
        raise TypeError(f"inputs must hold integers, not {x.dtype}")
    x = x.astype(np.int64)
    in_max = (1 << net.input_width) - 1
    if x.size and (x.min() < 0 or x.max() > in_max):
        raise ValueError(f"inputs must be between 0 and {in_max} ({net.input_width} bits)")
    samples, steps, _ = x.shape
    run = NetworkRun(spikes=[], counts=np.zeros((samples, net.outputs), np.int64),
                     classes=np.zeros(samples, np.int64),
                     synaptic_ops=np.zeros(samples, np.int64))
    below = x
    for li, layer in enumerate(net.layers):
        cfg = layer.neurons
        n = layer.size
        exact = layer.weights.to_dense() if _no_saturation(layer, in_max if li == 0 else 1) \
            else None
        settings = layer.settings()
        state = {k: np.broadcast_to(v, (samples, n)).copy() for k, v in cfg.initial_state().items()}
        bias = None if cfg.bias is None else np.array(cfg.bias, np.int64)
        f = cfg.input_field()
        mem_field = next((s for s in cfg.state_fields() if s.name == "membrane"), None)
        spikes = np.zeros((samples, steps, n), bool)
        prev = np.zeros((samples, n), np.int64)
        ff_rows = np.arange(layer.inputs)
        rec_rows = np.arange(layer.inputs, layer.inputs + n)
        lengths = np.diff(layer.weights.row_ptr)
        acc_sat = mem_sat = 0
        for t in range(steps):
            acc = np.zeros((samples, n), np.int64)
            xt = below[:, t, :].astype(np.int64)
            acc_sat += _accumulate(layer, ff_rows, xt, acc, exact)
            run.synaptic_ops += (xt != 0) @ lengths[:layer.inputs]
            if layer.recurrent:
                acc_sat += _accumulate(layer, rec_rows, prev, acc, exact)
                run.synaptic_ops += prev.astype(bool) @ lengths[layer.inputs:]
            current = acc if bias is None else np.clip(acc + bias, f.lo, f.hi)
            state, out = cfg.step(state, current, settings)
            if mem_field is not None:
                v = state["membrane"]
                mem_sat += int(np.count_nonzero((v == mem_field.lo) | (v == mem_field.hi)))
            s = np.asarray(out["spike"], bool)
            spikes[:, t, :] = s
            prev = s.astype(np.int64)
        run.spikes.append(spikes)
        run.acc_saturations.append(acc_sat)
        run.membrane_saturations.append(mem_sat)
        below = spikes.astype(np.int64)
    run.counts = np.minimum(run.spikes[-1].sum(axis=1), net.count_max)
    run.classes = classify(run.counts)
    return run


def describe(net: Network) -> list[dict[str, Any]]:
    """One JSON-ready summary per layer: sizes, widths, model and settings."""
    out = []
    for layer in net.layers:
        cfg = layer.neurons
        out.append({
            "name": layer.name,
            "model": cfg.NAME,
            "inputs": layer.inputs,
            "neurons": layer.size,
            "recurrent": layer.recurrent,
            "nonzero_weights": layer.weights.nnz,
            "weight_width": layer.sparse.weight_width,
            "acc_width": layer.sparse.acc_width,
            "act_width": layer.sparse.act_width,
            "structure": {k: v for k, v in cfg.structural().items()
                          if k not in ("per_neuron", "bias")},
            "settings": cfg.runtime(),
            "per_neuron": sorted(cfg.tables()),
            "bias": cfg.bias is not None,
        })
    return out

