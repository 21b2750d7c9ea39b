# SPDX-License-Identifier: Apache-2.0
"""The hardware of a compiled spiking network: layer engines chained by spike events.

The behaviour is specified by :func:`neurotile.neurons.network.run_network`; this module is its
hardware and is checked against it bit for bit (:mod:`neurotile.testbench.network_bulk`).
Each :class:`~neurotile.neurons.network.Layer` becomes a :class:`LayerEngine`: a sparse synapse
tile (:class:`~neurotile.rtl.sparse_matmul.SparseMatmul`, constant ROM weights or programmable
memories in flip-flops or Sky130 latches, CSR or dense layout) feeding a
:class:`~neurotile.rtl.population.Population` of the layer's neuron model, whose spikes become
the events of the layer above (:func:`~neurotile.rtl.spiking_layer.spike_events`).
:class:`NetworkTop` chains the engines, counts the output layer's spikes and names the class.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from typing import Any

from amaranth.hdl import Cat, Const, Module, Mux, ResetInserter, Signal, signed, unsigned
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from neurotile.neurons.network import Layer, Network
from neurotile.neurons.synapses import SparseParams
from neurotile.rtl.export import port_list, to_verilog
from neurotile.rtl.population import Population, datapath_for
from neurotile.rtl.sparse_matmul import (LAYOUTS, STORAGES, SparseMatmul, event_layout,
                                         synapse_layout, write_signature)
from neurotile.rtl.spiking_layer import spike_events

__all__ = ["WEIGHTS", "STORAGES", "LAYOUTS", "DENSE_MAX_WEIGHTS", "check_storage",
           "default_storage", "weight_bits", "too_large_for_dense", "choose_layout", "tile_params",
           "input_layout", "spike_layout", "readout_layout", "LayerEngine", "NetworkTop",
           "network_digest", "network_verilog"]

#: How the weights of a network are held: ROMs fixed at generation time, or host-written memories.
WEIGHTS = ("constant", "programmable")


def default_storage(weights: str) -> str:
    """The storage of a network's tiles when none is given: latches for programmable weights
    (the weight memories are most of the design, and latch memories take little more than
    half the area of flip-flop ones, docs/compile.md), ``memory`` for constant weights (ROMs,
    logic either way)."""
    return "latch" if weights == "programmable" else "memory"


def check_storage(weights: str, storage: str, layout: str) -> None:
    """Raise ``ValueError`` unless the weight mode, tile storage and weight layout go together.

    Latches and the dense layout hold weights the host writes; constant weights are ROMs
    (logic), whatever the storage. The dense layout needs latch storage (as in
    :func:`~neurotile.rtl.sparse_matmul.check_layout`).
    """
    if weights not in WEIGHTS:
        raise ValueError(f"weights must be 'constant' or 'programmable', not {weights!r}")
    if storage not in STORAGES:
        raise ValueError(f"storage must be 'memory' or 'latch', not {storage!r}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be 'csr' or 'dense', not {layout!r}")
    if weights == "constant" and (storage != "memory" or layout != "csr"):
        raise ValueError("constant weights are ROMs (logic), with no storage or layout to "
                         "choose: give programmable weights for latch storage or the dense "
                         "layout")
    if layout == "dense" and storage != "latch":
        raise ValueError("the dense layout needs latch storage")


def tile_params(layer: Layer, layout: str = "csr") -> SparseParams:
    """The synapse tile's parameters of ``layer``: its own, except that the dense layout holds
    every weight of the matrix (``depth = inputs x outputs``)."""
    sp = layer.sparse
    if layout == "dense":
        sp = replace(sp, depth=sp.inputs * sp.outputs)
    return sp


#: The most weights a layer's tile holds with the dense layout (a 16-bit weight address).
DENSE_MAX_WEIGHTS = 1 << 16


def weight_bits(net: Network, layout: str) -> int:
    """The bits a network's programmable weight memories store with ``layout``: with CSR each
    layer's ``depth`` synapses (weight and output index) and ``inputs + 1`` row pointers, dense
    every weight of each matrix (``inputs x outputs x weight_width``). The accumulators are the
    same in both."""
    total = 0
    for layer in net.layers:
        sp = layer.sparse
        if layout == "dense":
            total += sp.inputs * sp.outputs * sp.weight_width
        else:
            total += sp.depth * (sp.weight_width + sp.index_width) + (sp.inputs + 1) * sp.ptr_width
    return total


def too_large_for_dense(net: Network) -> Layer | None:
    """The first layer of ``net`` with more weights than a dense tile holds
    (:data:`DENSE_MAX_WEIGHTS`), or ``None``."""
    return next((layer for layer in net.layers
                 if layer.sparse.inputs * layer.sparse.outputs > DENSE_MAX_WEIGHTS), None)


def choose_layout(net: Network, weights: str, storage: str) -> str:
    """The layout of a network's tiles when none is given: ``dense`` for programmable weights in
    latches when it stores fewer bits than CSR (matrices more than about half non-zero, as
    trained fully connected layers are) and every layer fits it, otherwise ``csr``."""
    if weights != "programmable" or storage != "latch":
        return "csr"
    if too_large_for_dense(net) is not None:
        return "csr"
    return "dense" if weight_bits(net, "dense") < weight_bits(net, "csr") else "csr"


def _bits(n: int) -> int:
    """Bits of an index ``0 .. n-1`` (at least one)."""
    return max(1, (n - 1).bit_length())


def _events(inputs: int, act_width: int = 1) -> data.StructLayout:
    """The event layout of the synapse tile for ``inputs`` addresses (``addr``, ``value``,
    ``end``)."""
    return event_layout(SparseParams(inputs=inputs, outputs=1, weight_width=2, acc_width=2,
                                     depth=1, act_width=act_width))


def input_layout(net: Network) -> data.StructLayout:
    """Payload of :class:`NetworkTop`'s ``events`` stream, least significant field first.

    ``addr``: the input (``bits(inputs - 1)`` bits); ``value``: its value (only when
    ``net.input_width > 1``; binary input counts 1); ``end``: the end-of-step marker, whose
    ``addr`` and ``value`` are ignored; ``last``: with ``end``, the last step of the sample.
    """
    fields: dict[str, Any] = {"addr": unsigned(_bits(net.inputs))}
    if net.input_width > 1:
        fields["value"] = unsigned(net.input_width)
    fields |= {"end": unsigned(1), "last": unsigned(1)}
    return data.StructLayout(fields)


def spike_layout(neurons: int) -> data.StructLayout:
    """Payload of a layer's spike events: ``addr`` (``bits(neurons - 1)``), ``end``."""
    return _events(neurons)


def readout_layout(net: Network) -> data.StructLayout:
    """Payload of :class:`NetworkTop`'s ``result`` stream, least significant field first.

    ``cls``: the class, ``bits(outputs - 1)`` bits; ``counts``: an
    ``ArrayLayout(unsigned(count_width), outputs)``, output neuron ``i`` at bits
    ``cls_bits + i * count_width``.
    """
    return data.StructLayout({
        "cls": unsigned(_bits(net.outputs)),
        "counts": data.ArrayLayout(unsigned(net.count_width), net.outputs),
    })


def _write_members(sp: SparseParams, programmable: bool, layout: str) -> dict[str, Any]:
    """The programming ports of a tile with parameters ``sp``, by name (none for ROMs)."""
    if not programmable:
        return {}
    if layout == "dense":
        return {"weight_write": In(write_signature(sp.addr_width + sp.index_width,
                                                   signed(sp.weight_width)))}
    return {"ptr_write": In(write_signature(sp.ptr_addr_width, unsigned(sp.ptr_width))),
            "syn_write": In(write_signature(sp.syn_addr_width, synapse_layout(sp)))}


class LayerEngine(wiring.Component):
    """One layer of a network: synapse tile, population, spike events out.

    Input events (the layer below's spikes, or the network input for the first layer) go to
    the tile; at each end marker the tile's accumulators stream into the population, whose
    results become spike events (the addresses of the neurons that fired, in index order, then
    a marker). The population's run-time settings that are ports are tied to the layer's
    values; per-neuron tables and the bias are the population's ROMs.

    A recurrent layer keeps its spikes of the previous step, one bit per neuron, set as the
    population reports them. When a step's end marker arrives, the engine first waits until
    the population has reported the previous step's last neuron (so the bits are complete),
    then sends the set bits to the tile as events ``inputs + i`` (value 1), lowest ``i``
    first, one per cycle, clearing each as it goes, and only then passes the marker on: the
    order of :func:`~neurotile.neurons.network.run_network`. The feed-forward events of a step
    flow on meanwhile. Feed-forward events with ``addr >= inputs`` have no synapses: a plain
    layer's tile ignores them, a recurrent layer drops them (they would name recurrent rows).

    Parameters
    ----------
    layer : Layer
        The layer: matrix, tile structure, neuron configuration, ``recurrent``.
    programmable : bool
        Host-written weight memories (``ptr_write``, ``syn_write``) instead of ROMs.
    storage : "memory" | "latch"
        What the tile's memories (weights and accumulators) are built from: flip-flops or
        Sky130 latches (:class:`~neurotile.rtl.sparse_matmul.SparseMatmul`; programmable only).
    layout : "csr" | "dense"
        The tile's weight layout; ``dense`` (latch storage only) holds every weight of the
        matrix in its place (:func:`tile_params`) and is written through ``weight_write``.

    Members
    -------
    events : In(stream.Signature(_events(layer.inputs, act_width)))
        ``addr``, ``value`` (multi-bit input only), ``end``.
    spikes : Out(stream.Signature(spike_layout(neurons)))
    idle : Out(1)
        The tile and the population take input: no clearing sweep is running (and, after a
        reset, nothing is in flight).
    ptr_write, syn_write : In(write_signature(...))
        The tile's programming ports (programmable, CSR layout).
    weight_write : In(write_signature(...))
        The tile's programming port (dense layout).
    """

    def __init__(self, layer: Layer, *, programmable: bool = False, storage: str = "memory",
                 layout: str = "csr") -> None:
        if not isinstance(layer, Layer):
            raise TypeError(f"layer must be a Layer, not {layer!r}")
        check_storage("programmable" if programmable else "constant", storage, layout)
        self.layer = layer
        self.programmable = bool(programmable)
        self.storage, self.layout = storage, layout
        sp = tile_params(layer, layout)
        members: dict[str, Any] = {
            "events": In(stream.Signature(_events(layer.inputs, sp.act_width))),
            "spikes": Out(stream.Signature(spike_layout(layer.size))),
            "idle": Out(1),
        }
        members |= _write_members(sp, self.programmable, layout)
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        layer = self.layer
        sp, cfg = tile_params(layer, self.layout), layer.neurons
        n = layer.size
        # The CSR flip-flop tile is built with its own defaults, so its Verilog stays as it was.
        options = {} if self.storage == "memory" else {"storage": self.storage}
        if self.layout != "csr":
            options["layout"] = self.layout
        m.submodules.tile = tile = SparseMatmul(
            **sp.structural(), weights=None if self.programmable else layer.weights, **options)
        m.submodules.neurons = pop = Population(cfg, datapath=datapath_for(cfg.NAME))
        for name in _write_members(sp, self.programmable, self.layout):
            wiring.connect(m, wiring.flipped(getattr(self, name)), getattr(tile, name))
        values = cfg.runtime()
        for s in cfg.ports():  # settings that are ports: the layer's values, as constants
            m.d.comb += getattr(pop, s.name).eq(values[s.name])
        m.d.comb += [
            pop.current.valid.eq(tile.results.valid),
            pop.current.payload.eq(tile.results.payload.value),
            tile.results.ready.eq(pop.current.ready),
            self.idle.eq(tile.events.ready & pop.current.ready),
        ]
        spike_events(m, pop.output, self.spikes)

        ev, te = self.events, tile.events
        if not layer.recurrent:
            m.d.comb += [te.valid.eq(ev.valid), te.payload.addr.eq(ev.payload.addr),
                         te.payload.end.eq(ev.payload.end), ev.ready.eq(te.ready)]
            if sp.act_width > 1:
                m.d.comb += te.payload.value.eq(ev.payload.value)
            return m

        # -- recurrence: replay the previous step's spikes before the step's marker --------------
        held = Signal(n)               # spikes of the previous step not yet replayed
        pending = Signal()             # a marker went to the tile; its output has not ended
        lower = Signal(n)
        lowest = Signal(n)             # one-hot: the lowest bit of held
        m.d.comb += [lower.eq(held - 1), lowest.eq(held & ~lower)]
        index = Cat(*[(lowest & sum(1 << i for i in range(n) if (i >> b) & 1)).any()
                      for b in range(_bits(n))])
        at_end = ev.valid & ev.payload.end
        replay = Signal()              # a held spike goes to the tile
        close = Signal()               # the marker goes to the tile
        inside = ev.payload.addr < layer.inputs
        replayed = ~pending & ~held.any()  # the previous step's spikes are all in the tile
        m.d.comb += [
            replay.eq(at_end & ~pending & held.any()),
            close.eq(at_end & replayed),
            te.valid.eq(replay | close | (ev.valid & ~ev.payload.end & inside)),
            te.payload.addr.eq(Mux(replay, layer.inputs + index, ev.payload.addr)),
            te.payload.end.eq(close),
            # A marker is taken once replayed; an event outside the feed-forward rows is dropped.
            ev.ready.eq(Mux(ev.payload.end, replayed & te.ready, te.ready | ~inside)),
        ]
        if sp.act_width > 1:
            m.d.comb += te.payload.value.eq(Mux(replay, 1, ev.payload.value))
        # Set a neuron's bit as the population reports its spike; clear the lowest as it is
        # replayed (never both in one cycle: the replay waits for the output's end).
        out = pop.output
        reported = out.valid & out.ready
        fired = Signal(n)
        m.d.comb += fired.eq(Cat(*[reported & out.payload.spike & (out.payload.index == i)
                                   for i in range(n)]))
        m.d.sync += held.eq(Mux(replay & te.ready, held & lower, held) | fired)
        with m.If(reported & out.payload.last):
            m.d.sync += pending.eq(0)
        with m.If(close & te.ready):
            m.d.sync += pending.eq(1)
        return m


class NetworkTop(wiring.Component):
    """A whole network: one :class:`LayerEngine` per layer, spike events between them, and the
    readout (spike counts and class) of the output layer.

    Protocol. A sample is ``steps`` timesteps from the reset state. For each step the host
    sends on ``events`` the network input's non-zero values in index order
    (:func:`neurotile.neurons.network.input_events`: ``addr``, and ``value`` with multi-bit
    input), then an end marker (``end = 1``); the marker of the sample's last step has
    ``last = 1``. ``spikes`` carries, per step, the address of every output neuron that fired,
    in index order, then an end marker (``end = 1``, ``addr = 0``). After the last step's
    marker has left ``spikes``, ``result`` offers one transfer: ``cls`` and ``counts``
    (:func:`readout_layout`). When it is taken, every layer is reset locally (neuron state,
    accumulators, recurrent buffers, spike counts): the tiles and populations run their
    clearing sweeps, and ``events.ready`` stays low from the last marker until the sweeps are
    over. The weight memories keep their contents. The global ``rst`` does the same, and is
    needed only once, after power-up. The host must read ``spikes`` and ``result``; back-pressure
    on either stalls the network, never loses data.

    Programmable weights: each layer ``k`` has ``ptr_write_k`` and ``syn_write_k`` (those of
    :class:`~neurotile.rtl.sparse_matmul.SparseMatmul`: ``row_ptr[addr] = data`` and synapse
    ``addr = (weight, col)``, one write per port per cycle, every layer in parallel), or with
    the dense layout ``weight_write_k`` (``W[a, c] = data`` at ``addr = (a << bits(outputs -
    1)) | c``, :func:`~neurotile.neurons.synapses.dense_writes`). Program while no sample is
    in flight (after reset, or after a ``result`` transfer). Writes may come in every cycle,
    in any order, in flip-flops and in latches alike: the latch memories take a write in the
    cycle after it is offered, with the data held stable while the word is open
    (docs/latches.md), and no tile reads its weights while no sample is in flight.

    Cycles, with no back-pressure and events back to back. A layer's step costs
    ``W + neurons + 2`` cycles with one accumulator bank and about ``max(W + 2, neurons + 1)``
    with two (the tile's timing: ``W = sum(max(1, L(a)))`` over the layer's events, ``L(a)``
    the non-zero weights of row ``a``; a recurrent layer's replayed spikes are events too, and
    its marker may wait a cycle or two for the previous step's last neuron). The layers work
    on successive steps at once, so once the pipeline is full a step costs the slowest layer's
    step, plus a few cycles where a burst of spikes into long rows of the layer above stalls
    the layer below. A sample costs ``steps`` such steps, plus the pipeline's fill (what the
    layers above the slowest one do after its last step), plus the readout and reset:
    ``max(neurons) + 5`` cycles (result, local reset, clearing sweeps). The bulk checker
    (:func:`neurotile.testbench.network_bulk.run_network_bulk`) measures ``cycles_per_step``
    and ``cycles_per_sample``; for a 64-48-10 LIF network with dense weights, 4-bit input
    with half the inputs non-zero and the hidden layer firing 10 %, it measured 1,604 cycles
    per step (the first layer alone: 1,588) and 25,661 per 16-step sample.

    Parameters
    ----------
    net : Network
        The layers, input width and readout width.
    weights : "constant" | "programmable"
        ROM weights from ``net`` (no write ports), or host-written memories (``net``'s weights
        are then not part of the hardware).
    storage : "memory" | "latch"
        What the tiles' memories (weights, row pointers, accumulators) are built from:
        flip-flops (the default) or Sky130 latches and clock gates (programmable weights
        only; docs/latches.md). The same behaviour at the ports, cycle for cycle.
    layout : "csr" | "dense"
        The tiles' weight layout: CSR (the default), or every weight of each layer's matrix in
        its place (latch storage only; :func:`tile_params`).

    Members
    -------
    events : In(stream.Signature(input_layout(net)))
    spikes : Out(stream.Signature(spike_layout(net.outputs)))
    result : Out(stream.Signature(readout_layout(net)))
    ptr_write_<k>, syn_write_<k> : In(write_signature(...))
        Layer ``k``'s programming ports (programmable, CSR layout).
    weight_write_<k> : In(write_signature(...))
        Layer ``k``'s programming port (dense layout).

    Raises
    ------
    TypeError, ValueError
        For a network, weight mode, storage or layout of the wrong kind, or a storage or
        layout that constant weights do not have (:func:`check_storage`).
    """

    def __init__(self, net: Network, *, weights: str = "constant", storage: str = "memory",
                 layout: str = "csr") -> None:
        if not isinstance(net, Network):
            raise TypeError(f"net must be a Network, not {net!r}")
        check_storage(weights, storage, layout)
        for layer in net.layers:
            datapath_for(layer.neurons.NAME)  # KeyError for a model without hardware
        self.net = net
        self.weights = weights
        self.storage, self.layout = storage, layout
        members: dict[str, Any] = {
            "events": In(stream.Signature(input_layout(net))),
            "spikes": Out(stream.Signature(spike_layout(net.outputs))),
            "result": Out(stream.Signature(readout_layout(net))),
        }
        for k, layer in enumerate(net.layers):
            ports = _write_members(tile_params(layer, layout), weights == "programmable", layout)
            members |= {f"{name}_{k}": port for name, port in ports.items()}
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        net = self.net
        programmable = self.weights == "programmable"
        local_rst = Signal()           # the end of a sample: every layer back to reset
        engines = []
        for k, layer in enumerate(net.layers):
            engine = LayerEngine(layer, programmable=programmable, storage=self.storage,
                                 layout=self.layout)
            m.submodules[f"layer{k}"] = ResetInserter(local_rst)(engine)
            engines.append(engine)
            for name in _write_members(tile_params(layer, self.layout), programmable,
                                       self.layout):
                wiring.connect(m, wiring.flipped(getattr(self, f"{name}_{k}")),
                               getattr(engine, name))
        for below, above in zip(engines, engines[1:]):
            m.d.comb += [above.events.valid.eq(below.spikes.valid),
                         above.events.payload.addr.eq(below.spikes.payload.addr),
                         above.events.payload.end.eq(below.spikes.payload.end),
                         below.spikes.ready.eq(above.events.ready)]
        first, top = engines[0], engines[-1]
        wiring.connect(m, top.spikes, wiring.flipped(self.spikes))

        # -- the host's events into the first layer, while running ------------------------------
        running = Signal()
        ev = self.events
        m.d.comb += [
            first.events.valid.eq(ev.valid & running),
            first.events.payload.addr.eq(ev.payload.addr),
            first.events.payload.end.eq(ev.payload.end),
            ev.ready.eq(first.events.ready & running),
        ]
        if net.input_width > 1:
            m.d.comb += first.events.payload.value.eq(ev.payload.value)
        took = ev.valid & ev.ready
        took_end = took & ev.payload.end

        # -- steps in flight: markers taken from the host, not yet out on spikes ----------------
        out = self.spikes
        sent = out.valid & out.ready
        sent_end = sent & out.payload.end
        inflight = Signal(range(4 * len(net.layers) + 8))
        with m.If(took_end & ~sent_end):
            m.d.sync += inflight.eq(inflight + 1)
        with m.Elif(sent_end & ~took_end):
            m.d.sync += inflight.eq(inflight - 1)

        # -- readout: saturating spike counts, and the lowest index of the largest -------------
        # (decoded per output neuron: the number of outputs need not be a power of two)
        counts = Signal(readout_layout(net).members["counts"])
        best = Signal(_bits(net.outputs))
        best_count = Signal(net.count_width)
        addr = out.payload.addr
        hit = [addr == i for i in range(net.outputs)]
        count = Signal(net.count_width)
        selected = Const(0, net.count_width)
        for i in range(net.outputs):
            selected = selected | Mux(hit[i], counts[i], 0)
        m.d.comb += count.eq(selected)
        bumped = Signal(net.count_width + 1)
        counted = Signal()
        m.d.comb += [bumped.eq(count + 1),
                     counted.eq(sent & ~out.payload.end & (count != net.count_max))]
        for i in range(net.outputs):
            with m.If(counted & hit[i]):
                m.d.sync += counts[i].eq(bumped)
        with m.If(counted & ((bumped > best_count) | ((bumped == best_count) & (addr < best)))):
            m.d.sync += [best.eq(addr), best_count.eq(bumped)]
        m.d.comb += [self.result.payload.cls.eq(best), self.result.payload.counts.eq(counts)]

        # -- control: sweep -> run -> close -> result -> reset -> sweep -------------------------
        idle = Const(1)
        for engine in engines:
            idle = idle & engine.idle
        sweeping = Signal(init=1)      # clearing sweeps after a reset
        closing = Signal()             # the sample's last step is on its way out
        offering = Signal()            # the result is offered
        resetting = Signal()           # the local reset, one cycle
        m.d.comb += [self.result.valid.eq(offering), local_rst.eq(resetting)]
        with m.If(sweeping & idle):
            m.d.sync += [sweeping.eq(0), running.eq(1)]
        with m.If(running & took_end & ev.payload.last):
            m.d.sync += [running.eq(0), closing.eq(1)]
        with m.If(closing & (inflight == 0)):
            m.d.sync += [closing.eq(0), offering.eq(1)]
        with m.If(offering & self.result.ready):
            m.d.sync += [offering.eq(0), resetting.eq(1)]
        with m.If(resetting):
            m.d.sync += [resetting.eq(0), sweeping.eq(1), counts.eq(0), best.eq(0),
                         best_count.eq(0), inflight.eq(0)]
        return m


# -- Verilog ------------------------------------------------------------------------------------

def _layer_record(layer: Layer, with_weights: bool, layout: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "model": layer.neurons.NAME,
        "neurons": layer.neurons.as_dict(),
        "sparse": tile_params(layer, layout).structural(),
        "recurrent": bool(layer.recurrent),
    }
    if with_weights:
        w = layer.weights
        out["weights"] = {"row_ptr": [int(v) for v in w.row_ptr], "col": [int(v) for v in w.col],
                          "weight": [int(v) for v in w.weight]}
    return out


def network_digest(net: Network, weights: str = "constant", storage: str = "memory",
                   layout: str = "csr") -> str:
    """SHA-256 (hex) of everything the hardware of ``net`` is built from.

    Structure, neuron configurations (tables, bias and settings included), widths, the weight
    mode, storage and layout; the weights themselves only when they are constant, so every
    network of one structure shares one programmable design. Layer names are not hardware and
    are left out. Storage and layout enter the record only when they are not the defaults
    (``memory``, ``csr``), so the flip-flop designs keep their names.
    """
    check_storage(weights, storage, layout)
    record: dict[str, Any] = {
        "weights": weights,
        "input_width": net.input_width,
        "count_width": net.count_width,
        "layers": [_layer_record(layer, weights == "constant", layout) for layer in net.layers],
    }
    if storage != "memory":
        record["storage"] = storage
    if layout != "csr":
        record["layout"] = layout
    text = json.dumps(record, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def network_verilog(net: Network, weights: str = "constant", storage: str = "memory",
                    layout: str = "csr") -> tuple[str, str, list[dict]]:
    """``(verilog, top, ports)`` of :class:`NetworkTop` for ``net``.

    ``top`` is ``nt_network_<digest8>`` (:func:`network_digest`); the text depends only on the
    network, the weight mode, storage and layout (no source locations, no timestamps), so equal
    networks give byte-identical Verilog. ``ports`` as :func:`neurotile.rtl.export.port_list`.
    """
    from neurotile import __version__

    dut = NetworkTop(net, weights=weights, storage=storage, layout=layout)
    digest = network_digest(net, weights, storage, layout)
    top = f"nt_network_{digest[:8]}"
    shape = "-".join([str(net.inputs)] + [str(layer.size) for layer in net.layers])
    models = ",".join(layer.neurons.NAME + ("(recurrent)" if layer.recurrent else "")
                      for layer in net.layers)
    held = "" if storage == "memory" else f" in {storage}es"
    held += "" if layout == "csr" else f", {layout} layout"
    header = (f"// Generated by neurotile {__version__}: network {shape} [{models}], "
              f"{weights} weights{held}, digest {digest[:16]}\n// Do not edit; regenerate.\n")
    return to_verilog(dut, name=top, header=header), top, port_list(dut)
