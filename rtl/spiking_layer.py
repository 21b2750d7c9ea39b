# SPDX-License-Identifier: Apache-2.0
"""A spiking layer: the sparse synapse tile feeding a LIF population, spike events in and out.

The behaviour is specified by :func:`neurotile.neurons.synapses.spiking_layer_step`; this module
is its hardware and is checked against it bit for bit.
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from neurotile.neurons.lif import LIFIntParams
from neurotile.neurons.synapses import SparseParams
from neurotile.rtl.lif import LIFPopulation
from neurotile.rtl.population import shape_of
from neurotile.rtl.sparse_matmul import (STORAGES, SparseMatmul, check_layout, event_layout,
                                         synapse_layout, write_signature)

__all__ = ["SpikingLayer", "layer_params", "spike_events"]


def layer_params(*, inputs: int = 16, neurons: int = 16, weight_width: int = 8,
                 acc_width: int = 12, depth: int = 256, act_width: int = 1, banks: int = 1,
                 width: int = 16, leak: str = "shift", beta_bits: int = 8,
                 refractory_width: int = 2, reset: str = "subtract", reset_delay: bool = True
                 ) -> tuple[SparseParams, LIFIntParams]:
    """Validate the layer's generator parameters; return the synapse and neuron structures.

    The accumulators are the neurons' input currents, so the LIF input width is ``acc_width``.
    """
    try:
        sp = SparseParams(inputs=inputs, outputs=neurons, weight_width=weight_width,
                          acc_width=acc_width, depth=depth, act_width=act_width, banks=banks)
    except (TypeError, ValueError) as exc:  # the tile's outputs are the layer's neurons
        text = str(exc)
        if not text.startswith("outputs "):
            raise
        raise type(exc)("neurons " + text.removeprefix("outputs ")) from None
    lp = LIFIntParams(neurons=neurons, width=width, input_width=acc_width, leak=leak,
                    beta_bits=beta_bits, refractory_width=refractory_width, reset=reset,
                    reset_delay=reset_delay)
    return sp, lp


class SpikingLayer(wiring.Component):
    """Sparse synapses into a population of LIF neurons, one timestep at a time.

    A timestep is the input events of the step followed by an ``end`` marker. The synapse tile
    (:class:`neurotile.rtl.sparse_matmul.SparseMatmul`) accumulates the events; at the marker its
    accumulators stream, in neuron order, into the ``current`` input of a
    :class:`neurotile.rtl.lif.LIFPopulation`, which updates one neuron per cycle. The layer emits
    the address of every neuron that fired, in index order, then an ``end`` marker: the output
    has the event format of a binary-spike input, so layers chain.

    Cycles per timestep with no back-pressure and one accumulator bank: the tile's synaptic work
    ``W = sum(max(1, L(a)))`` over the step's events (``L(a)`` non-zero weights of row ``a``),
    plus ``neurons`` cycles of neuron update, plus 2 (``docs/sparse.md``). With two banks the
    neuron update of a step overlaps the synaptic work of the next: about
    ``max(W + 2, neurons + 1)``. The output of a step ends one cycle later when its last neuron
    fires.

    Parameters
    ----------
    inputs, weight_width, acc_width, depth, act_width, banks : int
        As for :class:`~neurotile.rtl.sparse_matmul.SparseMatmul`; ``acc_width`` is also the
        width of the neurons' input current.
    neurons : int
        Neurons (outputs of the synapse tile), 1 to 4096.
    width, leak, beta_bits, refractory_width, reset, reset_delay
        As for :class:`~neurotile.rtl.lif.LIFPopulation`.
    storage : "memory" | "latch"
        Flip-flop memories (default) or Sky130 latches for the tile's synapse memory and
        accumulators and for the neurons' state (see ``SparseMatmul`` and ``Population``).
    layout : "csr" | "dense"
        The tile's weight layout (see ``SparseMatmul``; ``dense`` needs latch storage and a
        ``depth`` of at least ``inputs * neurons``).

    Members
    -------
    events : In(stream.Signature(event_layout(inputs, act_width)))
        Input spike addresses, then an ``end`` marker per timestep.
    spikes : Out(stream.Signature(event_layout(neurons, 1)))
        Addresses of the neurons that fired, then an ``end`` marker per timestep.
    ptr_write, syn_write : In(write_signature(...))
        The tile's programming ports (``weight_write`` instead with the dense layout).
    threshold, decay, refractory : In
        Run-time settings of the neurons, as for ``LIFPopulation``.

    Raises
    ------
    TypeError, ValueError
        For parameters of the wrong type or out of range.
    """

    def __init__(self, *, inputs: int = 16, neurons: int = 16, weight_width: int = 8,
                 acc_width: int = 12, depth: int = 256, act_width: int = 1, banks: int = 1,
                 width: int = 16, leak: str = "shift", beta_bits: int = 8,
                 refractory_width: int = 2, reset: str = "subtract",
                 reset_delay: bool = True, storage: str = "memory",
                 layout: str = "csr") -> None:
        if not isinstance(storage, str):
            raise TypeError(f"storage must be a string, not {storage!r}")
        if storage not in STORAGES:
            raise ValueError(f"storage must be 'memory' or 'latch', not {storage!r}")
        self.storage = storage
        self.sp, self.lp = sp, lp = layer_params(
            inputs=inputs, neurons=neurons, weight_width=weight_width, acc_width=acc_width,
            depth=depth, act_width=act_width, banks=banks, width=width, leak=leak,
            beta_bits=beta_bits, refractory_width=refractory_width, reset=reset,
            reset_delay=reset_delay)
        check_layout(layout, storage, sp)
        self.layout = layout
        self.out_params = SparseParams(inputs=neurons, outputs=1, weight_width=2, acc_width=2,
                                       depth=1, act_width=1)
        members = {
            "events": In(stream.Signature(event_layout(sp))),
            "spikes": Out(stream.Signature(event_layout(self.out_params))),
        }
        if layout == "dense":
            members["weight_write"] = In(write_signature(sp.addr_width + sp.index_width,
                                                         signed(sp.weight_width)))
        else:
            members["ptr_write"] = In(write_signature(sp.ptr_addr_width, unsigned(sp.ptr_width)))
            members["syn_write"] = In(write_signature(sp.syn_addr_width, synapse_layout(sp)))
        for setting in lp.ports():
            members[setting.name] = In(shape_of(setting.field(lp)))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        sp, lp = self.sp, self.lp
        options = {"layout": self.layout} if self.layout != "csr" else {}
        m.submodules.tile = tile = SparseMatmul(**sp.structural(), storage=self.storage,
                                                **options)
        m.submodules.neurons = lif = LIFPopulation(config=lp, storage=self.storage)

        wiring.connect(m, wiring.flipped(self.events), tile.events)
        if self.layout == "dense":
            wiring.connect(m, wiring.flipped(self.weight_write), tile.weight_write)
        else:
            wiring.connect(m, wiring.flipped(self.ptr_write), tile.ptr_write)
            wiring.connect(m, wiring.flipped(self.syn_write), tile.syn_write)
        for setting in lp.ports():
            m.d.comb += getattr(lif, setting.name).eq(getattr(self, setting.name))
        m.d.comb += [
            lif.current.valid.eq(tile.results.valid),
            lif.current.payload.eq(tile.results.payload.value),
            tile.results.ready.eq(lif.current.ready),
        ]

        spike_events(m, lif.output, self.spikes)
        return m


def spike_events(m: Module, results: stream.Interface, spikes: stream.Interface) -> None:
    """Add to ``m`` the conversion of a population's results into spike events.

    For each step, the address of every neuron that fired goes out in index order, then an
    end marker (``end = 1``, ``addr = 0``): the event format of binary input, so layers chain.
    The output is registered: a spike reaches ``spikes`` one cycle after its result, and the
    marker one cycle after the last result, or one cycle after the last neuron's spike when
    that neuron fired. ``results.ready`` follows ``spikes.ready`` (and is low while a marker
    waits).

    Parameters
    ----------
    m : Module
        The module the logic goes into (its ``sync`` domain holds the output register).
    results : stream.Interface
        A population's ``output`` stream (payload fields ``spike``, ``index``, ``last``).
    spikes : stream.Interface
        The outgoing events (payload fields ``addr``, ``end``).
    """
    result = results.payload
    out = spikes
    out_free = ~out.valid | out.ready
    end_pending = Signal()         # the last neuron fired; its marker follows
    m.d.comb += results.ready.eq(~end_pending & out_free)
    with m.If(end_pending):
        with m.If(out_free):
            m.d.sync += [out.valid.eq(1), out.payload.addr.eq(0), out.payload.end.eq(1),
                         end_pending.eq(0)]
    with m.Else():
        with m.If(results.valid & out_free):
            with m.If(result.spike):
                m.d.sync += [out.valid.eq(1), out.payload.addr.eq(result.index),
                             out.payload.end.eq(0), end_pending.eq(result.last)]
            with m.Elif(result.last):
                m.d.sync += [out.valid.eq(1), out.payload.addr.eq(0),
                             out.payload.end.eq(1)]
            with m.Else():
                m.d.sync += out.valid.eq(0)
        with m.Elif(out.ready):
            m.d.sync += out.valid.eq(0)
