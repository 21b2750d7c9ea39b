# SPDX-License-Identifier: Apache-2.0
"""Quantising a float network into the integer network the hardware runs.

Every layer gets one *membrane scale* ``m`` (integer units per float membrane unit; one per
output neuron with ``per_channel``). With ``u`` the integer units of one float input unit (the
input scale for the first layer, 1 for spikes)::

    weight_int    = round(W m / u)          clipped to the signed weight range
    threshold_int = round(theta m)          bias_int = round(b m)
    decay         = round(beta 2**beta_bits)  (multiply)  or  k = round(-log2(1 - beta))  (shift)

``m`` is the largest scale at which the largest weight still fits ``weight_bits`` and the
largest membrane (and synaptic current) the float model reached on the calibration data still
fits ``membrane_bits`` (times ``headroom``). The accumulators and the neurons' input are as wide
as the membrane. Inputs: binary spikes pass as they are; multi-bit (direct) inputs are scaled so
the largest calibration input is ``2**input_bits - 1`` and rounded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurotile.compiler.graph import FloatLayer, FloatNetwork
from neurotile.compiler.floatsim import FloatRun
from neurotile.errors import UsageError
from neurotile.neurons.network import Layer, Network
from neurotile.neurons.spec import get_model
from neurotile.neurons.synapses import CSRMatrix, SparseParams

__all__ = ["QuantOptions", "Quantised", "quantise", "input_encoding"]

LEAKS = ("multiply", "shift")


@dataclass(frozen=True)
class QuantOptions:
    """How to quantise.

    ``weight_bits``: signed weight bits (2-16). ``membrane_bits``: signed membrane bits, one
    for every layer or one per layer (4-24). ``leak``: ``multiply`` (``beta_bits`` fraction
    bits) or ``shift``. ``input_bits``: bits of a multi-bit input (1-8; ignored for binary
    input). ``per_channel``: one scale per output neuron instead of per layer.
    ``headroom``: the fraction of the membrane range the calibration peak may fill (0-1].
    ``count_width``: bits of the readout's spike counters. ``reset``/``reset_delay`` come from
    the float network.
    """

    weight_bits: int = 8
    membrane_bits: int | tuple[int, ...] = 16
    leak: str = "multiply"
    beta_bits: int = 8
    input_bits: int = 4
    per_channel: bool = False
    headroom: float = 1.0
    count_width: int = 8

    def check(self, layers: int) -> None:
        def bad(name: str, value: Any, lo: int, hi: int) -> None:
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or \
                    not lo <= value <= hi:
                raise UsageError(f"{name} must be an integer from {lo} to {hi}, not {value!r}")
        bad("weight bits", self.weight_bits, 2, 16)
        for mb in self.membrane_widths(layers):
            bad("membrane bits", mb, 4, 24)
        bad("beta bits", self.beta_bits, 1, 16)
        bad("input bits", self.input_bits, 1, 8)
        bad("count width", self.count_width, 1, 16)
        if self.leak not in LEAKS:
            raise UsageError(f"leak must be 'multiply' or 'shift', not {self.leak!r}")
        if not 0 < self.headroom <= 1:
            raise UsageError(f"headroom must be in (0, 1], not {self.headroom}")

    def membrane_widths(self, layers: int) -> tuple[int, ...]:
        mb = self.membrane_bits
        if isinstance(mb, (tuple, list)):
            if len(mb) != layers:
                raise UsageError(f"{len(mb)} membrane widths given for {layers} layers; give "
                                 f"one, or one per layer")
            return tuple(mb)
        return (mb,) * layers

    def label(self, layers: int) -> str:
        mb = self.membrane_widths(layers)
        mem = str(mb[0]) if len(set(mb)) == 1 else "/".join(map(str, mb))
        return f"w{self.weight_bits} m{mem}"


@dataclass
class Quantised:
    """The integer network, how inputs are encoded, and what was chosen per layer."""

    network: Network
    input_scale: float            # integer units per float input unit (1 for spikes)
    binary_input: bool
    options: QuantOptions
    layers: list[dict[str, Any]] = field(default_factory=list)

    def encode(self, inputs: np.ndarray) -> np.ndarray:
        """Float inputs ``[samples, steps, inputs]`` as the network's integer inputs."""
        x = np.asarray(inputs, np.float64)
        if self.binary_input:
            return (x > 0).astype(np.int64)
        hi = (1 << self.network.input_width) - 1
        return np.clip(np.rint(x * self.input_scale), 0, hi).astype(np.int64)


def input_encoding(inputs: np.ndarray) -> str:
    """``binary`` when every value is 0 or 1, else ``direct``; negative inputs are refused."""
    x = np.asarray(inputs)
    if x.size and np.nanmin(x) < 0:
        raise UsageError("inputs must not be negative: the hardware takes spikes or unsigned "
                         "currents; shift or rescale the data")
    if not np.all(np.isfinite(x)):
        raise UsageError("inputs hold values that are not finite")
    return "binary" if np.all((x == 0) | (x == 1)) else "direct"


def _leak_code(beta: np.ndarray, leak: str, beta_bits: int, width: int, what: str
               ) -> tuple[np.ndarray, np.ndarray]:
    """Per-neuron decay codes and the beta each realises."""
    if np.any(beta < 0) or np.any(beta > 1):
        raise UsageError(f"{what}: beta = 1 - dt/tau is outside [0, 1]; check --dt")
    if leak == "multiply":
        code = np.clip(np.rint(beta * (1 << beta_bits)), 1, (1 << beta_bits) - 1).astype(np.int64)
        return code, code / (1 << beta_bits)
    with np.errstate(divide="ignore"):
        k = np.rint(-np.log2(np.maximum(1 - beta, 1e-300)))
    code = np.clip(k, 1, width - 1).astype(np.int64)
    return code, 1 - 2.0 ** -code


def _place(name: str, values: np.ndarray, settings: dict[str, Any],
           per_neuron: dict[str, np.ndarray]) -> None:
    """A setting shared by the layer when all neurons agree, else a per-neuron table."""
    if np.all(values == values[0]):
        settings[name] = int(values[0])
    else:
        per_neuron[name] = values


def _membrane_limit(layer: FloatLayer, peak: FloatRun, index: int, width: int,
                    headroom: float, per_channel: bool) -> np.ndarray:
    """The largest membrane scale, per neuron, at which the calibration peaks (membrane,
    synaptic current, threshold, bias) fit the membrane range."""
    mem_max = ((1 << (width - 1)) - 1) * headroom
    v = np.maximum(peak.peak_membrane[index], np.where(np.isfinite(layer.threshold),
                                                       np.abs(layer.threshold), 0))
    if peak.peak_synaptic[index] is not None:
        v = np.maximum(v, peak.peak_synaptic[index])
    v = np.maximum(v, np.abs(layer.bias))
    if not per_channel:
        v = np.full(layer.size, v.max(initial=0))
    with np.errstate(divide="ignore"):
        return np.where(v > 0, mem_max / v, np.inf)


def _weight_peak(layer: FloatLayer, u: float, per_channel: bool) -> np.ndarray:
    """The largest weight magnitude per neuron, in membrane units per integer input unit."""
    w_abs = np.abs(layer.weight) / u
    if layer.recurrent is not None:
        w_abs = np.concatenate([w_abs, np.abs(layer.recurrent)], axis=1)
    per_w = w_abs.max(axis=1) if w_abs.size else np.zeros(layer.size)
    return per_w if per_channel else np.full(layer.size, per_w.max(initial=0))


def _scale(layer: FloatLayer, u: float, m_v: np.ndarray, weight_bits: int,
           per_channel: bool) -> np.ndarray:
    """The membrane scale per neuron: the weights' limit or the membrane's, the smaller."""
    w_max = (1 << (weight_bits - 1)) - 1
    per_w = _weight_peak(layer, u, per_channel)
    with np.errstate(divide="ignore"):
        m_w = np.where(per_w > 0, w_max / per_w, np.inf)
    m = np.minimum(m_w, m_v)
    return np.where(np.isfinite(m), m, 1.0)


def _input_scale(layer: FloatLayer, m_v: np.ndarray, x_max: float, in_bits: int,
                 weight_bits: int) -> float:
    """Integer input units per float input unit.

    The full input range when the weights keep their full range too; when the membrane range
    limits the first layer's scale, the product ``weight * input`` has fewer levels than both
    ranges together, and they are shared evenly (each gets about the square root), so neither
    the weights nor the inputs are rounded to a handful of values.
    """
    levels = (1 << in_bits) - 1
    if x_max <= 0:
        return 1.0
    w_max = (1 << (weight_bits - 1)) - 1
    w_peak = float(_weight_peak(layer, 1.0, False)[0])
    m = float(np.min(m_v))
    if not np.isfinite(m) or w_peak == 0:
        return levels / x_max
    budget = m * w_peak * x_max          # integer levels of the largest product
    if budget >= w_max * levels:
        return levels / x_max
    x_levels = min(float(levels), max(1.0, np.sqrt(budget)))
    if budget / x_levels > w_max:
        x_levels = min(float(levels), budget / w_max)
    return x_levels / x_max


def quantise(net: FloatNetwork, calibration: FloatRun, inputs: np.ndarray,
             options: QuantOptions = QuantOptions()) -> Quantised:
    """Quantise ``net`` with scales chosen from ``calibration`` (a float run on ``inputs``).

    Raises
    ------
    UsageError
        For options out of range, or a layer the hardware cannot run (a layer that never
        fires, per-neuron parameters a model cannot hold).
    """
    options.check(len(net.layers))
    widths = options.membrane_widths(len(net.layers))
    encoding = input_encoding(inputs)
    binary = encoding == "binary"
    in_bits = 1 if binary else options.input_bits
    x_max = float(np.max(inputs)) if np.size(inputs) else 1.0
    first_limit = _membrane_limit(net.layers[0], calibration, 0, widths[0], options.headroom,
                                  options.per_channel)
    input_scale = 1.0 if binary else _input_scale(net.layers[0], first_limit, x_max, in_bits,
                                                  options.weight_bits)
    layers: list[Layer] = []
    info: list[dict[str, Any]] = []
    for i, fl in enumerate(net.layers):
        what = f"layer {fl.name!r} ({fl.model})"
        if not fl.spiking:
            raise UsageError(f"{what} never fires, but every layer of the hardware sends spikes "
                             "(the readout counts the last layer's spikes); make it a LIF, "
                             "CubaLIF or IF layer")
        width = widths[i]
        u = input_scale if i == 0 else 1.0
        m_v = _membrane_limit(fl, calibration, i, width, options.headroom, options.per_channel)
        m = _scale(fl, u, m_v, options.weight_bits, options.per_channel)
        w_lim = (1 << (options.weight_bits - 1)) - 1
        dense = np.rint(fl.weight.T * (m[None, :] / u))
        if fl.recurrent is not None:
            dense = np.concatenate([dense, np.rint(fl.recurrent.T * m[None, :])], axis=0)
        clipped = int(np.count_nonzero(np.abs(dense) > w_lim))
        dense = np.clip(dense, -w_lim - 1, w_lim).astype(np.int64)
        csr = CSRMatrix.from_dense(dense)
        mem_max = (1 << (width - 1)) - 1
        threshold = np.clip(np.rint(fl.threshold * m), 0, mem_max).astype(np.int64)
        bias = np.clip(np.rint(fl.bias * m), -mem_max - 1, mem_max).astype(np.int64)
        model = fl.model
        params: dict[str, Any] = {"neurons": fl.size, "width": width, "input_width": width}
        settings: dict[str, Any] = {}
        per_neuron: dict[str, np.ndarray] = {}
        chosen: dict[str, Any] = {}
        if model in ("lif", "cuba-lif"):
            params |= {"leak": options.leak, "beta_bits": options.beta_bits,
                       "refractory_width": 0, "reset": net.reset,
                       "reset_delay": net.reset_delay}
            code, realised = _leak_code(fl.beta, options.leak, options.beta_bits, width, what)
            _place("decay", code, settings, per_neuron)
            chosen["beta_error"] = float(np.max(np.abs(realised - fl.beta)))
            if model == "cuba-lif":
                params["syn_width"] = width
                assert fl.alpha is not None
                scode, srealised = _leak_code(fl.alpha, options.leak, options.beta_bits, width,
                                              what)
                _place("syn_decay", scode, settings, per_neuron)
                chosen["alpha_error"] = float(np.max(np.abs(srealised - fl.alpha)))
        elif model == "if":
            params |= {"reset": net.reset, "reset_delay": net.reset_delay}
        _place("threshold", threshold, settings, per_neuron)
        cls = get_model(model)
        try:
            cfg = cls(**params, **settings, per_neuron=per_neuron or None,
                      bias=bias if np.any(bias) else None)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"{what}: the hardware cannot hold it ({exc})") from None
        rows = fl.inputs + (fl.size if fl.recurrent is not None else 0)
        sp = SparseParams(inputs=rows, outputs=fl.size, weight_width=options.weight_bits,
                          acc_width=width, depth=max(1, csr.nnz),
                          act_width=in_bits if i == 0 else 1)
        layers.append(Layer(fl.name, csr, cfg, sp, recurrent=fl.recurrent is not None))
        chosen |= {
            "name": fl.name, "model": model, "scale": float(m.min()) if not options.per_channel
            else [float(v) for v in m],
            "weight_bits": options.weight_bits, "membrane_bits": width,
            "nonzero_weights": csr.nnz, "weights_clipped": clipped,
            "threshold": int(threshold[0]) if "threshold" in settings else
            [int(threshold.min()), int(threshold.max())],
        }
        info.append(chosen)
    network = Network(tuple(layers), input_width=in_bits, count_width=options.count_width)
    return Quantised(network=network, input_scale=input_scale, binary_input=binary,
                     options=options, layers=info)


def candidates(layers: int, weight_bits: Sequence[int] = (4, 5, 6, 7, 8),
               membrane_bits: Sequence[int] = (8, 10, 12, 14, 16)) -> list[QuantOptions]:
    """Uniform width pairs, cheapest first (stored bits: weights dominate, then membranes)."""
    pairs = sorted(((w, m) for w in weight_bits for m in membrane_bits),
                   key=lambda p: (p[0] * 4 + p[1], p))
    return [QuantOptions(weight_bits=w, membrane_bits=m) for w, m in pairs]

