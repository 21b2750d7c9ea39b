# SPDX-License-Identifier: Apache-2.0
"""Bulk checking of a whole network (:class:`neurotile.rtl.network.NetworkTop`) against
:func:`neurotile.neurons.network.run_network`.

The harness of :mod:`testbench.bulk` wraps the network. Its actions reset the design once,
program every layer's weights in parallel when they are programmable (one row pointer and one
synapse per layer and cycle, or one weight with the dense layout; the same writes for flip-flop
and latch storage), then play every sample: per step one action per non-zero input
(:func:`~neurotile.neurons.network.input_events`) and one per end marker, ``last`` on the
sample's final marker, offered on ``events`` with random gaps. ``spikes`` and ``result`` are
read with random back-pressure and every transfer is recorded. The integer model runs while the
simulator does; then every output spike event and end marker, and every count and class, are
compared at once. Mismatches name the sample, step, neuron (or -1) and field.

:func:`random_network` makes the seeded random networks of the tests and benchmarks;
:func:`run_network_amaranth` checks a small network the same way in Amaranth's simulator.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neurotile.neurons.cuba_lif import CubaLIFIntParams
from neurotile.neurons.integrate_fire import IFIntParams
from neurotile.neurons.lif import LIFIntParams
from neurotile.neurons.network import Layer, Network, NetworkRun, run_network
from neurotile.neurons.spec import NeuronConfig
from neurotile.neurons.synapses import SparseParams, dense_writes, random_weights
from neurotile.rtl.network import (input_layout, network_digest, network_verilog,
                                   readout_layout, spike_layout, tile_params)
from neurotile.testbench.bulk import BulkHarness, Capture, run_bulk

__all__ = ["random_network", "random_inputs", "network_harness", "network_actions",
           "compare_network", "network_design", "run_network_bulk", "run_network_amaranth",
           "assert_network_found"]

#: At most this many mismatches are described (all are counted).
KEEP = 20


# -- random networks --------------------------------------------------------------------------

def _neurons(model: str, n: int, rng: np.random.Generator, *, acc_width: int, width: int,
             syn_width: int, tables: bool, bias: bool, leak: str | None,
             threshold: tuple[int, int] | None) -> NeuronConfig:
    """A ``model`` population of ``n`` neurons with random structure choices and settings."""
    leak = leak or str(rng.choice(["shift", "multiply"]))
    lo, hi = threshold or (max(1, 1 << (width - 4)), max(2, 1 << (width - 2)))
    threshold = int(rng.integers(lo, min(hi, (1 << (width - 1)) - 1) + 1))
    common: dict[str, Any] = {"neurons": n, "width": width, "input_width": acc_width,
                              "reset": str(rng.choice(["subtract", "zero"])),
                              "reset_delay": bool(rng.integers(2)), "threshold": threshold}
    if model == "lif":
        cfg: NeuronConfig = LIFIntParams(**common, leak=leak, beta_bits=6,
                                         refractory_width=int(rng.integers(0, 3)))
    elif model == "cuba-lif":
        cfg = CubaLIFIntParams(**common, syn_width=syn_width, leak=leak, beta_bits=6,
                               refractory_width=int(rng.integers(0, 2)))
    elif model == "if":
        cfg = IFIntParams(**common)
    else:
        raise ValueError(f"no random {model!r} layers; choose lif, cuba-lif or if")
    settings = {}
    for s in cfg.present_settings():  # every port a random legal value (refractory kept small)
        lo, hi = s.bounds(cfg)
        if s.name == "threshold":
            continue
        settings[s.name] = int(rng.integers(lo, min(hi, lo + 3 if s.name == "refractory"
                                                    else hi) + 1))
    cfg = cfg.replace(**settings)
    per_neuron = {}
    if tables:
        lo, hi = cfg.setting("threshold").bounds(cfg)
        per_neuron["threshold"] = rng.integers(max(lo, threshold // 2),
                                               min(hi, 2 * threshold) + 1, n)
    b = None
    if bias:  # a third of the threshold at most, inside the input range
        f = cfg.input_field()
        reach = max(1, threshold // 3)
        b = rng.integers(max(f.lo, -reach), min(f.hi, reach) + 1, n)
    return cfg.replace(per_neuron=per_neuron or None, bias=b)


def random_network(rng: np.random.Generator | int, sizes: Sequence[int], models: Sequence[str],
                   *, recurrent: Sequence[bool] = (), input_width: int = 1,
                   count_width: int = 8, weight_width: int = 4, acc_width: int = 6,
                   width: int = 6, syn_width: int = 6, density: float | Sequence[float] = 0.5,
                   weight_range: tuple[int, int] | None = None, tables: bool = True,
                   bias: bool = True, banks: Sequence[int] = (), leak: str | None = None,
                   threshold: tuple[int, int] | None = None, spare_depth: int = 3) -> Network:
    """A seeded random network.

    Parameters
    ----------
    rng : Generator or int
        The randomness (an int seeds a new generator).
    sizes : sequence of int
        ``inputs, neurons of layer 0, neurons of layer 1, ...``.
    models : sequence of str
        One neuron model per layer: ``"lif"``, ``"cuba-lif"`` or ``"if"``; structure choices
        (leak, reset, reset delay, refractory counter) and settings are drawn at random.
    recurrent : sequence of bool
        Per layer (missing ones: not recurrent).
    input_width, count_width : int
        As :class:`~neurotile.neurons.network.Network`.
    weight_width, acc_width, width, syn_width : int
        Bits of weights, accumulators (= the neurons' input), membranes, synaptic currents.
    density : float or sequence of float
        Probability of a non-zero weight (per layer).
    weight_range : (int, int), optional
        Non-zero weights uniform in this range (default: the whole weight range).
    tables, bias : bool
        Per-neuron threshold tables (half to twice the layer's threshold), per-neuron bias (a
        third of the threshold at most).
    banks : sequence of int
        Accumulator banks per layer (default 1).
    leak : str, optional
        Force the leak mode of LIF and CubaLIF layers.
    threshold : (int, int), optional
        Range of each layer's threshold (default ``2**(width-4) .. 2**(width-2)``).
    spare_depth : int
        Unused entries of each weight memory beyond the non-zero weights.
    """
    rng = np.random.default_rng(rng) if isinstance(rng, (int, np.integer)) else rng
    if len(models) != len(sizes) - 1:
        raise ValueError(f"{len(sizes) - 1} layers need as many models, not {len(models)}")
    dens = [density] * len(models) if isinstance(density, (int, float)) else list(density)
    layers = []
    for k, model in enumerate(models):
        n = sizes[k + 1]
        rec = bool(recurrent[k]) if k < len(recurrent) else False
        rows = sizes[k] + (n if rec else 0)
        act = input_width if k == 0 else 1
        nb = int(banks[k]) if k < len(banks) else 1
        full = SparseParams(inputs=rows, outputs=n, weight_width=weight_width,
                            acc_width=acc_width, depth=rows * n, act_width=act, banks=nb)
        lo, hi = weight_range or (full.weight_min, full.weight_max)
        w = random_weights(full, dens[k], rng, low=lo, high=hi)
        sp = SparseParams(inputs=rows, outputs=n, weight_width=weight_width,
                          acc_width=acc_width, depth=max(1, w.nnz + spare_depth),
                          act_width=act, banks=nb)
        cfg = _neurons(model, n, rng, acc_width=acc_width, width=width, syn_width=syn_width,
                       tables=tables, bias=bias, leak=leak, threshold=threshold)
        layers.append(Layer(f"layer{k}", w, cfg, sp, recurrent=rec))
    return Network(tuple(layers), input_width=input_width, count_width=count_width)


def random_inputs(net: Network, samples: int, steps: int, rng: np.random.Generator | int,
                  rate: float = 0.5) -> np.ndarray:
    """``[samples, steps, inputs]`` ints: each input non-zero with probability ``rate``, its
    value uniform in ``1 .. 2**input_width - 1``."""
    rng = np.random.default_rng(rng) if isinstance(rng, (int, np.integer)) else rng
    shape = (samples, steps, net.inputs)
    values = rng.integers(1, (1 << net.input_width), shape)
    return np.where(rng.random(shape) < rate, values, 0).astype(np.int64)


# -- actions ---------------------------------------------------------------------------------

def network_harness(top: str, ports: list[dict], rows: int) -> BulkHarness:
    """The harness for a network with these ports, sized for ``rows`` actions (at least
    16384, so runs of one design of different lengths share a build)."""
    return BulkHarness(top, ports, [Capture("spikes", ("spikes__payload",)),
                                    Capture("result", ("result__payload",))],
                       max_actions=1 << max(14, (rows - 1).bit_length()))


def _programming_rows(net: Network, layout: str = "csr") -> int:
    """Programming actions: a row pointer and a synapse per layer and action (CSR), or one
    weight per layer and action, every one of the matrix (dense layout)."""
    if layout == "dense":
        return max(layer.sparse.inputs * layer.sparse.outputs for layer in net.layers)
    return max(max(len(layer.weights.row_ptr), layer.weights.nnz) for layer in net.layers)


def _event_rows(inputs: np.ndarray) -> int:
    samples, steps, _ = inputs.shape
    return int(np.count_nonzero(inputs)) + samples * steps


def network_actions(h: BulkHarness, net: Network, inputs: np.ndarray, *,
                    programmable: bool, layout: str = "csr") -> tuple[bytes, int, int]:
    """Actions that reset, program (when ``programmable``; with the tiles' weight ``layout``)
    and play ``inputs``; returns ``(hex, rows, programming rows)``.

    The writes come one per cycle and layer, back to back, after the reset and before the
    first event, whatever the storage: the tiles read no weight meanwhile, and the latch
    memories take writes in every cycle (docs/latches.md)."""
    samples, steps, n_in = inputs.shape
    prog = _programming_rows(net, layout) if programmable else 0
    # Events in (sample, step, input) order, each step's marker after its events.
    s_i, t_i, a_i = np.nonzero(inputs)
    key_ev = (s_i * steps + t_i) * (n_in + 1) + a_i
    key_end = np.arange(samples * steps) * (n_in + 1) + n_in
    key = np.concatenate([key_ev, key_end])
    order = np.argsort(key, kind="stable")
    addr = np.concatenate([a_i, np.zeros(samples * steps, np.int64)])[order]
    value = np.concatenate([inputs[s_i, t_i, a_i], np.zeros(samples * steps, np.int64)])[order]
    end = np.concatenate([np.zeros(len(a_i), np.int64), np.ones(samples * steps, np.int64)])
    last = np.concatenate([np.zeros(len(a_i), np.int64),
                           (np.arange(samples * steps) % steps == steps - 1).astype(np.int64)])
    end, last = end[order], last[order]
    fields = input_layout(net)
    payload = addr << fields["addr"].offset
    if net.input_width > 1:
        payload |= value << fields["value"].offset
    payload |= (end << fields["end"].offset) | (last << fields["last"].offset)
    events = len(payload)
    rows = prog + events
    values: dict[str, Any] = {
        "stream": np.concatenate([np.zeros(prog, np.int64),
                                  np.full(events, h.stream_index("events"), np.int64)]),
        "rst": np.arange(rows) == 0,
        "hold": 1,
        "events__payload": np.concatenate([np.zeros(prog, np.int64), payload]),
    }
    if programmable and layout == "dense":
        for k, layer in enumerate(net.layers):
            waddr, wval = dense_writes(layer.weights, tile_params(layer, layout))
            pad = np.zeros(rows - len(waddr), np.int64)
            values |= {
                f"weight_write_{k}__en": np.arange(rows) < len(waddr),
                f"weight_write_{k}__addr": np.concatenate([waddr, pad]),
                f"weight_write_{k}__data": np.concatenate([wval, pad]),
            }
    elif programmable:
        idx = np.arange(rows)
        for k, layer in enumerate(net.layers):
            w, sp = layer.weights, layer.sparse
            rp = np.asarray(w.row_ptr, np.int64)
            words = (np.asarray(w.weight, np.int64) & ((1 << sp.weight_width) - 1)) | (
                np.asarray(w.col, np.int64) << sp.weight_width)
            ptr_en = idx < len(rp)
            syn_en = idx < w.nnz
            values |= {
                f"ptr_write_{k}__en": ptr_en,
                f"ptr_write_{k}__addr": np.where(ptr_en, idx, 0),
                f"ptr_write_{k}__data": np.concatenate([rp, np.zeros(rows - len(rp), np.int64)]),
                f"syn_write_{k}__en": syn_en,
                f"syn_write_{k}__addr": np.where(syn_en, idx, 0),
                f"syn_write_{k}__data": np.concatenate(
                    [words, np.zeros(rows - len(words), np.int64)]),
            }
    return h.actions(rows, values), rows, prog


# -- comparison --------------------------------------------------------------------------------

class _Findings:
    """Mismatches as arrays per kind; counted in full, the first :data:`KEEP` described in
    (sample, step) order."""

    def __init__(self) -> None:
        self.parts: list[tuple[Any, ...]] = []  # (field, sample, step, neuron, expected, got)

    def add(self, field: str, sample: Any, step: Any, neuron: Any, expected: Any,
            got: Any) -> None:
        arrays = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, np.int64)) for v in
                                       (sample, step, neuron, expected, got)))
        if arrays[0].size:
            self.parts.append((field, *arrays))

    def report(self) -> dict[str, Any]:
        if not self.parts:
            return {"mismatches": 0, "first_mismatches": []}
        fields = np.concatenate([np.full(len(p[1]), i) for i, p in enumerate(self.parts)])
        cols = [np.concatenate([p[j] for p in self.parts]) for j in range(1, 6)]
        order = np.lexsort((cols[2], fields, cols[1], cols[0]))[:KEEP]
        first = [{"sample": int(cols[0][j]), "step": int(cols[1][j]),
                  "neuron": int(cols[2][j]), "field": self.parts[fields[j]][0],
                  "expected": int(cols[3][j]), "got": int(cols[4][j])} for j in order]
        return {"mismatches": len(fields), "first_mismatches": first}


def compare_network(net: Network, ref: NetworkRun, samples: int, steps: int, *,
                    spike_pos: np.ndarray, spike_addr: np.ndarray, spike_end: np.ndarray,
                    result_pos: np.ndarray, result_cls: np.ndarray, result_counts: np.ndarray,
                    plant: tuple[int, int, int] | None = None) -> dict[str, Any]:
    """Compare recorded transfers with the model's run; return the report.

    ``spike_*``: every ``spikes`` transfer in order (``pos``: its place among all recorded
    transfers); ``result_*``: every ``result`` transfer. The end markers split the spike
    events into steps (sample-major). Checked: each complete step's fired neurons (``spike``),
    their index order (``order``), the number of steps (``steps``), spikes after the last
    step (``unexpected spike``), one result per sample (``results``) after its last marker
    and before the next sample's output (``result order``), and each ``count`` and ``class``.
    ``plant = (sample, step, neuron)`` flips that expected spike.
    """
    n = net.outputs
    total = samples * steps
    find = _Findings()
    want = ref.spikes[-1].reshape(total, n).astype(np.int64)
    if plant is not None:
        s, t, i = plant
        want = want.copy()
        want[s * steps + t, i] ^= 1
    end = spike_end.astype(bool)
    g = np.cumsum(end) - end                       # the step of every spike record
    done = int(end.sum())
    if done != total:
        find.add("steps", -1, -1, -1, total, done)
    complete = min(done, total)
    fired = ~end & (g < complete)
    extra = ~end & (g >= complete)
    if extra.any():
        find.add("unexpected spike", g[extra] // steps, g[extra] % steps, spike_addr[extra],
                 0, 1)
    inside = fired & (spike_addr < n)
    outside = fired & (spike_addr >= n)
    if outside.any():
        find.add("spike", g[outside] // steps, g[outside] % steps, spike_addr[outside], 0, 1)
    got = np.zeros((complete, n), np.int64)
    np.add.at(got, (g[inside], spike_addr[inside]), 1)
    bad_g, bad_i = np.nonzero((got > 0).astype(np.int64) != want[:complete])
    find.add("spike", bad_g // steps, bad_g % steps, bad_i, want[bad_g, bad_i],
             (got[bad_g, bad_i] > 0).astype(np.int64))
    # Index order within a step: strictly increasing addresses (no repeats).
    gs, ad = g[fired], spike_addr[fired]
    same = gs[1:] == gs[:-1]
    wrong = np.unique(gs[1:][same & (ad[1:] <= ad[:-1])])
    find.add("order", wrong // steps, wrong % steps, -1, 1, 0)
    # Samples whose every step is complete and equal.
    ok = np.ones(samples, bool)
    ok[complete // steps:] = False
    ok[np.unique(bad_g // steps)] = False
    ok[np.unique(wrong // steps)] = False
    ok[np.unique(g[outside] // steps)] = False

    # Results: one per sample, after its last marker, before the next sample's output.
    got_results = len(result_pos)
    if got_results != samples:
        find.add("results", -1, -1, -1, samples, got_results)
    k = min(got_results, samples)
    marker_pos = spike_pos[end]
    for_sample = np.arange(k)
    last_marker = (for_sample + 1) * steps - 1
    early = np.zeros(k, bool)
    has = last_marker < len(marker_pos)
    early[has] = result_pos[:k][has] < marker_pos[last_marker[has]]
    early[~has] = True
    # The first record of the next sample's first step comes after the result.
    nxt = (for_sample + 1) * steps
    first_rec = np.searchsorted(g, nxt)            # g is non-decreasing
    late = np.zeros(k, bool)
    seen = first_rec < len(g)
    late[seen] = result_pos[:k][seen] > spike_pos[first_rec[seen]]
    misplaced = np.flatnonzero(early | late)
    find.add("result order", misplaced, steps - 1, -1, 1, 0)
    exp_counts = ref.counts[:k].astype(np.int64)
    bad_s, bad_c = np.nonzero(result_counts[:k] != exp_counts)
    find.add("count", bad_s, steps - 1, bad_c, exp_counts[bad_s, bad_c],
             result_counts[:k][bad_s, bad_c])
    bad_cls = np.flatnonzero(result_cls[:k] != ref.classes[:k])
    find.add("class", bad_cls, steps - 1, -1, ref.classes[:k][bad_cls], result_cls[:k][bad_cls])

    rtl_classes = np.full(samples, -1, np.int64)
    rtl_classes[:k] = result_cls[:k]
    rtl_counts = np.full((samples, n), -1, np.int64)
    rtl_counts[:k] = result_counts[:k]
    return {
        "samples": samples,
        "steps": steps,
        "spikes": int(fired.sum()),
        **find.report(),
        "samples_identical": float(ok.mean()) if samples else 1.0,
        "classes_agree": float(np.mean(rtl_classes == ref.classes)) if samples else 1.0,
        "rtl_classes": rtl_classes,
        "rtl_counts": rtl_counts,
        "ref_classes": np.asarray(ref.classes, np.int64),
        "synaptic_ops": int(np.sum(ref.synaptic_ops)),
        "acc_saturations": list(ref.acc_saturations),
        "membrane_saturations": list(ref.membrane_saturations),
    }


def _decode(h: BulkHarness, net: Network, records: np.ndarray) -> dict[str, np.ndarray]:
    sp_rows, res_rows = h.split(records)
    sl, rl = spike_layout(net.outputs), readout_layout(net)
    sp, res = records[sp_rows], records[res_rows]
    field = h.field
    counts = np.stack([field(res, 1, "result__payload", lsb=rl["counts"].offset
                             + i * net.count_width, bits=net.count_width)
                       for i in range(net.outputs)], axis=1) if len(res) else \
        np.zeros((0, net.outputs), np.int64)
    return {
        "spike_pos": sp_rows,
        "spike_addr": field(sp, 0, "spikes__payload", lsb=sl["addr"].offset,
                            bits=sl["addr"].width),
        "spike_end": field(sp, 0, "spikes__payload", lsb=sl["end"].offset, bits=1),
        "result_pos": res_rows,
        "result_cls": field(res, 1, "result__payload", lsb=rl["cls"].offset,
                            bits=rl["cls"].width),
        "result_counts": counts,
    }


def _inputs(net: Network, inputs: Any) -> np.ndarray:
    x = np.asarray(inputs)
    if x.ndim != 3 or x.shape[2] != net.inputs or x.shape[1] < 1:
        raise ValueError(f"inputs must have shape [samples, steps >= 1, {net.inputs}], not "
                         f"{list(x.shape)}")
    if x.dtype.kind not in "biu":
        raise TypeError(f"inputs must hold integers, not {x.dtype}")
    return x.astype(np.int64)


_DESIGNS: dict[tuple[str, ...], tuple[str, str, list[dict]]] = {}


def network_design(net: Network, weights: str, storage: str = "memory",
                   layout: str = "csr") -> tuple[str, str, list[dict]]:
    """:func:`~neurotile.rtl.network.network_verilog`, generated once per design (digest,
    weight mode, storage and layout) in this process."""
    key = (network_digest(net, weights, storage, layout), weights, storage, layout)
    if key not in _DESIGNS:
        _DESIGNS[key] = network_verilog(net, weights, storage, layout)
    return _DESIGNS[key]


def run_network_bulk(net: Network, inputs: Any, *, sim: str, weights: str,
                     build_dir: str | Path, storage: str = "memory", layout: str = "csr",
                     seed: int = 1, gap: float = 0.0,
                     stall: float = 0.0, plant: tuple[int, int, int] | None = None,
                     netlist: str | Path | None = None) -> dict[str, Any]:
    """Run every sample of ``inputs`` through the network's hardware on ``sim`` and compare.

    Parameters
    ----------
    net : Network
        The network (its weights are programmed first when ``weights="programmable"``).
    inputs : array of int
        ``[samples, steps, inputs]``, each below ``2**input_width``.
    sim : "icarus" | "verilator"
    weights : "constant" | "programmable"
    build_dir : path
        The design's Verilog and builds go to ``build_dir/<top>`` (cached by source digest).
    storage, layout : str
        The tiles' storage and weight layout (:class:`~neurotile.rtl.network.NetworkTop`).
    seed : int
        The harness's random gaps and back-pressure.
    gap, stall : float
        Probability per cycle of an idle cycle before an input event, and of ``ready`` low on
        ``spikes`` and ``result``.
    plant : (sample, step, neuron), optional
        Flip that expected output spike: the run must report it as its only mismatch.
    netlist : path, optional
        Run the synthesised gate-level netlist of the design (``<top>.gl.v``, with the Sky130
        functional cell models; Icarus) instead of the RTL. Unknown (``x``) outputs count as
        mismatches.

    Returns
    -------
    dict
        ``samples``, ``steps``, ``spikes`` (output spikes recorded), ``mismatches``,
        ``first_mismatches`` (dicts with ``sample``, ``step``, ``neuron``, ``field``,
        ``expected``, ``got``), ``samples_identical`` (fraction of samples whose output spikes
        all agree), ``classes_agree``, ``rtl_classes``, ``rtl_counts``, ``ref_classes``,
        ``synaptic_ops``, ``acc_saturations`` and ``membrane_saturations`` (per layer, from the
        model), ``top``, ``cycles`` (the whole simulation), ``sample_cycles`` (from the first
        event to the last result: ``cycles`` less reset, programming and the final drain),
        ``cycles_per_sample``, ``cycles_per_step``, ``build_seconds``, ``run_seconds``,
        ``samples_per_second`` (samples over ``run_seconds``).
    """
    x = _inputs(net, inputs)
    samples, steps, _ = x.shape
    verilog, top, ports = network_design(net, weights, storage, layout)
    if netlist is not None:
        from neurotile.flows.gatelevel import bundle

        if sim != "icarus":
            raise ValueError("the gate-level netlist runs on icarus")
        verilog = bundle(netlist, top=top)
    programmable = weights == "programmable"
    h = network_harness(top, ports,
                        _programming_rows(net, layout) * programmable + _event_rows(x))
    actions, rows, prog = network_actions(h, net, x, programmable=programmable, layout=layout)
    ref: dict[str, NetworkRun] = {}

    def expect() -> None:
        ref["run"] = run_network(net, x)

    per_step = sum(layer.weights.nnz + layer.sparse.inputs + 2 * layer.size + 8
                   for layer in net.layers)
    drain = 2 * per_step + 64
    max_cycles = 40 * (rows + samples * steps * per_step) + 4 * drain + 10_000
    run = run_bulk(sim, h, verilog, actions, rows,
                   build_dir=Path(build_dir) / (top if netlist is None else f"{top}-gl"),
                   seed=seed, gap=min(255, int(round(256 * gap))),
                   stall=min(255, int(round(256 * stall))), drain=drain,
                   max_cycles=max_cycles, meanwhile=expect)
    report = compare_network(net, ref["run"], samples, steps, plant=plant,
                             **_decode(h, net, run.records))
    # The harness: a drain and a two-cycle reset before the first action, one cycle per
    # programming action, and a drain after the last record.
    sample_cycles = max(0, run.cycles - prog - 2 * (drain + 2))
    return report | {
        "top": top,
        "cycles": run.cycles,
        "sample_cycles": sample_cycles,
        "cycles_per_sample": sample_cycles / samples if samples else 0.0,
        "cycles_per_step": sample_cycles / (samples * steps) if samples else 0.0,
        "build_seconds": run.build_seconds,
        "run_seconds": run.run_seconds,
        "samples_per_second": samples / run.run_seconds if run.run_seconds > 0 else 0.0,
    }


def assert_network_found(report: dict[str, Any], plant: tuple[int, int, int] | None) -> None:
    """Assert a run found exactly what it should: no mismatch, or only the planted spike."""
    first = report["first_mismatches"]
    if plant is None:
        assert report["mismatches"] == 0, (
            f"{report['mismatches']} mismatches against the integer model, first: {first[:3]}")
        return
    where = [(m["sample"], m["step"], m["neuron"], m["field"]) for m in first[:1]]
    assert report["mismatches"] == 1 and where == [tuple(plant) + ("spike",)], (
        f"planted error at {tuple(plant)} not reported as the only mismatch: {first[:3]}")


# -- Amaranth's simulator ------------------------------------------------------------------------

def run_network_amaranth(net: Network, inputs: Any, *, weights: str = "constant",
                         storage: str = "memory", layout: str = "csr", seed: int = 1,
                         gap: float = 0.0, stall: float = 0.0,
                         plant: tuple[int, int, int] | None = None,
                         max_cycles: int = 1_000_000) -> dict[str, Any]:
    """:func:`run_network_bulk` in Amaranth's simulator, for small networks (no HDL tools).

    The same protocol: reset, programming (programmable weights), the samples' events with
    random gaps, random back-pressure on ``spikes`` and ``result``; the same comparison and
    report (``cycles`` counts from the first action to the last result).
    """
    from amaranth.sim import Simulator

    from neurotile.rtl.network import NetworkTop

    x = _inputs(net, inputs)
    samples, steps, n_in = x.shape
    dut = NetworkTop(net, weights=weights, storage=storage, layout=layout)
    rng = np.random.default_rng(seed)
    ref = run_network(net, x)
    fields = input_layout(net)
    rec: dict[str, list] = {"spike_pos": [], "spike_addr": [], "spike_end": [],
                            "result_pos": [], "result_cls": [], "result_counts": []}
    state = {"cycles": 0}

    def events() -> list[dict[str, int]]:
        out = []
        for s in range(samples):
            for t in range(steps):
                for a in np.flatnonzero(x[s, t]):
                    out.append({"addr": int(a), "value": int(x[s, t, a]), "end": 0, "last": 0})
                out.append({"addr": 0, "value": 0, "end": 1, "last": int(t == steps - 1)})
        return out

    async def bench(ctx: Any) -> None:
        if weights == "programmable" and layout == "dense":
            for k, layer in enumerate(net.layers):
                port = getattr(dut, f"weight_write_{k}")
                sp = tile_params(layer, layout)
                for a, v in zip(*dense_writes(layer.weights, sp)):
                    v = int(v) - (int(v) >> (sp.weight_width - 1) << sp.weight_width)  # signed
                    ctx.set(port.en, 1), ctx.set(port.addr, int(a)), ctx.set(port.data, v)
                    await ctx.tick()
                ctx.set(port.en, 0)
        elif weights == "programmable":
            for k, layer in enumerate(net.layers):
                w = layer.weights
                ptr, syn = getattr(dut, f"ptr_write_{k}"), getattr(dut, f"syn_write_{k}")
                for a, v in enumerate(w.row_ptr):
                    ctx.set(ptr.en, 1), ctx.set(ptr.addr, a), ctx.set(ptr.data, int(v))
                    await ctx.tick()
                ctx.set(ptr.en, 0)
                for a in range(w.nnz):
                    ctx.set(syn.en, 1), ctx.set(syn.addr, a)
                    ctx.set(syn.data, {"weight": int(w.weight[a]), "col": int(w.col[a])})
                    await ctx.tick()
                ctx.set(syn.en, 0)
        queue = events()
        nxt = 0
        records = 0
        cycles = 0
        while (nxt < len(queue) or len(rec["result_pos"]) < samples) and cycles < max_cycles:
            offer = nxt < len(queue) and rng.random() >= gap
            if offer:
                e = queue[nxt]
                payload = {"addr": e["addr"], "end": e["end"], "last": e["last"]}
                if "value" in fields.members:
                    payload["value"] = e["value"]
                ctx.set(dut.events.payload, payload)
            ctx.set(dut.events.valid, int(offer))
            ctx.set(dut.spikes.ready, int(rng.random() >= stall))
            ctx.set(dut.result.ready, int(rng.random() >= stall))
            if offer and ctx.get(dut.events.ready):
                nxt += 1
            if ctx.get(dut.spikes.valid) and ctx.get(dut.spikes.ready):
                p = ctx.get(dut.spikes.payload)
                rec["spike_pos"].append(records)
                rec["spike_addr"].append(int(p.addr))
                rec["spike_end"].append(int(p.end))
                records += 1
            if ctx.get(dut.result.valid) and ctx.get(dut.result.ready):
                p = ctx.get(dut.result.payload)
                rec["result_pos"].append(records)
                rec["result_cls"].append(int(p.cls))
                rec["result_counts"].append([int(p.counts[i]) for i in range(net.outputs)])
                records += 1
            await ctx.tick()
            cycles += 1
        state["cycles"] = cycles

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    t0 = time.perf_counter()
    sim.run()
    seconds = time.perf_counter() - t0
    arrays = {k: np.asarray(v, np.int64) for k, v in rec.items()}
    if not len(arrays["result_counts"]):
        arrays["result_counts"] = np.zeros((0, net.outputs), np.int64)
    report = compare_network(net, ref, samples, steps, plant=plant, **arrays)
    return report | {"cycles": state["cycles"], "run_seconds": seconds,
                     "cycles_per_sample": state["cycles"] / samples if samples else 0.0}
