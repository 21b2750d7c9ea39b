# SPDX-License-Identifier: Apache-2.0
"""Leaky integrate-and-fire neurons: one shared update datapath, one neuron or a population.

The arithmetic is specified once, by :func:`neurotile.neurons.lif.lif_int_step`; this module is
its hardware and is checked against it bit for bit.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, signed, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from neurotile.neurons.lif import LIFIntParams

__all__ = ["LIFDatapath", "LIFPopulation", "LIFNeuron", "lif_params"]


def lif_params(**kwargs: object) -> LIFIntParams:
    """Validate generator parameters of the LIF hardware and return them as :class:`LIFIntParams`.

    Only structural parameters are accepted here; run-time settings are ports.
    """
    allowed = ("neurons", "width", "input_width", "leak", "beta_bits", "refractory_width",
               "reset", "reset_delay")
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise TypeError(f"unknown LIF parameter(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    return LIFIntParams(**kwargs)  # type: ignore[arg-type]


def _index_shape(neurons: int) -> unsigned:
    return unsigned(max(1, (neurons - 1).bit_length()))


def _state_layout(p: LIFIntParams) -> data.StructLayout:
    fields = {"mem": signed(p.width)}
    if p.refractory_width:
        fields["refr"] = unsigned(p.refractory_width)
    return data.StructLayout(fields)


def output_layout(p: LIFIntParams) -> data.StructLayout:
    """Payload of the output stream: the step's result for one neuron.

    ``spike`` (bit 0), ``membrane`` (the membrane after the step, after any same-step reset),
    ``index`` (which neuron), ``last`` (set for the last neuron of the population).
    """
    return data.StructLayout({
        "spike": unsigned(1),
        "membrane": signed(p.width),
        "index": _index_shape(p.neurons),
        "last": unsigned(1),
    })


class LIFDatapath(wiring.Component):
    """The combinational LIF update, shared by every neuron of a population.

    Computes one step of :func:`neurotile.neurons.lif.lif_int_step` for one neuron: leak (an
    arithmetic shift ``U - (U >> k)`` or a multiply ``(U * b) >> beta_bits``, both rounding toward
    minus infinity), input, reset (subtract or zero, delayed as in snnTorch or in the same step),
    saturation once at the end of the full-width sum, a strict threshold compare ``v > th`` and a
    refractory counter.

    Parameters
    ----------
    params : LIFIntParams
        Structure of the neuron (widths, leak mode, reset mode).

    Members
    -------
    membrane, refr : In
        The neuron's stored state.
    current : In(signed(input_width))
        Input of this step.
    threshold, leak, refractory : In
        Run-time settings (``leak`` is ``k`` or ``b`` by mode).
    next_membrane, next_refr, spike : Out
        The new state and whether the neuron fired.
    """

    def __init__(self, params: LIFIntParams) -> None:
        self.p = params
        p = params
        members = {
            "membrane": In(signed(p.width)),
            "current": In(signed(p.input_width)),
            "threshold": In(unsigned(p.width - 1)),
            "leak": In(unsigned(p.leak_port_width)),
            "next_membrane": Out(signed(p.width)),
            "spike": Out(1),
        }
        if p.refractory_width:
            members |= {
                "refr": In(unsigned(p.refractory_width)),
                "refractory": In(unsigned(p.refractory_width)),
                "next_refr": Out(unsigned(p.refractory_width)),
            }
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        p = self.p
        u = self.membrane
        th = self.threshold

        reset_pending = (u > th) if p.reset_delay else 0
        if p.leak == "shift":
            leaked = u - (u >> self.leak)
        else:
            leaked = (u * self.leak) >> p.beta_bits

        active = (self.refr == 0) if p.refractory_width else 1
        current = Mux(active, self.current, 0)
        if p.reset == "subtract":
            total = leaked + current - Mux(reset_pending, th, 0)
        else:
            total = Mux(reset_pending, 0, leaked) + current

        v = Signal(signed(p.width))
        m.d.comb += v.eq(Mux(total > p.mem_max, p.mem_max,
                             Mux(total < p.mem_min, p.mem_min, total)))
        fire = active & (v > th)
        m.d.comb += self.spike.eq(fire)

        if p.reset_delay:
            m.d.comb += self.next_membrane.eq(v)
        else:
            reset_value = (v - th) if p.reset == "subtract" else 0
            m.d.comb += self.next_membrane.eq(Mux(fire, reset_value, v))

        if p.refractory_width:
            m.d.comb += self.next_refr.eq(
                Mux(fire, self.refractory, Mux(active, 0, self.refr - 1)))
        return m


class LIFPopulation(wiring.Component):
    """A population of ``neurons`` LIF neurons sharing one :class:`LIFDatapath`.

    State (membrane and refractory counter of each neuron) lives in a register file; one neuron is
    updated per clock cycle, in index order ``0 .. neurons-1``, then the next timestep starts again
    at 0. A timestep therefore takes ``neurons`` accepted inputs.

    Streams (``amaranth.lib.stream``; a transfer happens on a cycle with ``valid`` and ``ready``):

    * ``current`` (in): one input current per neuron, in index order.
    * ``spikes`` (out): one result per accepted input, one cycle later: ``spike``, the new
      ``membrane``, the neuron ``index`` and ``last`` for the last neuron of the step. The output
      is registered; ``current.ready`` is high when the output register is empty or being read.

    Reset: ``rst`` empties the output register, returns the index to 0 and, for populations of
    more than one neuron, starts a clearing sweep that writes zero state to every neuron, one per
    cycle, while ``current.ready`` stays low (``neurons`` cycles). After that every neuron holds
    membrane 0 and counter 0, exactly the reference model's initial state.

    Parameters
    ----------
    neurons : int
        Population size, 1 to 4096.
    width : int
        Membrane bits (two's complement), 2 to 32.
    input_width : int
        Input current bits (two's complement), 1 to 32.
    leak : "shift" | "multiply"
        Leak by ``U - (U >> k)`` or by ``(U * b) >> beta_bits``.
    beta_bits : int
        Fraction bits of ``b`` in multiply mode.
    refractory_width : int
        Bits of the refractory counter; 0 removes refractoriness.
    reset : "subtract" | "zero"
        Reset mechanism after a spike.
    reset_delay : bool
        ``True`` applies the reset on the next step (snnTorch's default), ``False`` in the same step.
    storage : "memory" | "ring"
        Where the state of a population of two or more neurons lives: ``"memory"``, an
        ``amaranth.lib.memory`` register file; ``"ring"``, a
        :class:`~neurotile.rtl.regfile.RingRegisterFile` (one clock-gated flip-flop per bit,
        about 35% less cell area at 32 neurons; the datapath then has half a clock period).

    Members
    -------
    current : In(stream.Signature(signed(input_width)))
    spikes : Out(stream.Signature(output_layout))
    threshold : In(unsigned(width - 1))
    leak : In(unsigned(...))
        ``k`` in shift mode (``bits_for(width - 1)`` bits), ``b`` in multiply mode.
    refractory : In(unsigned(refractory_width))
        Present only when ``refractory_width > 0``.

    Raises
    ------
    TypeError, ValueError
        For parameters of the wrong type or out of range.
    """

    #: The update datapath class; a subclass may be substituted (tests plant faults this way).
    datapath = LIFDatapath

    def __init__(self, *, neurons: int = 32, width: int = 8, input_width: int = 8,
                 leak: str = "shift", beta_bits: int = 8, refractory_width: int = 2,
                 reset: str = "subtract", reset_delay: bool = True,
                 storage: str = "memory") -> None:
        if not isinstance(storage, str):
            raise TypeError(f"Storage must be a string, not {storage!r}")
        if storage not in ("memory", "ring"):
            raise ValueError(f"Storage must be 'memory' or 'ring', not {storage!r}")
        self.storage = storage
        self.p = p = lif_params(neurons=neurons, width=width, input_width=input_width, leak=leak,
                                beta_bits=beta_bits, refractory_width=refractory_width,
                                reset=reset, reset_delay=reset_delay)
        members = {
            "current": In(stream.Signature(signed(p.input_width))),
            "spikes": Out(stream.Signature(output_layout(p))),
            "threshold": In(unsigned(p.width - 1)),
            "leak": In(unsigned(p.leak_port_width)),
        }
        if p.refractory_width:
            members["refractory"] = In(unsigned(p.refractory_width))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        p = self.p
        m.submodules.datapath = dp = self.datapath(p)
        layout = _state_layout(p)

        index = Signal(_index_shape(p.neurons))
        last = index == p.neurons - 1
        out_valid = self.spikes.valid
        accept = Signal()

        # State storage: a register for one neuron, a register file with a clearing sweep for
        # more (register-file contents have no reset of their own).
        if p.neurons == 1:
            state = Signal(layout)
            clearing = 0
            read = state
            write_en = Signal()
            write_data = Signal(layout)
            with m.If(write_en):
                m.d.sync += state.eq(write_data)
        elif self.storage == "ring":
            # One flip-flop per bit, visited in index order. The ring's inputs are continuous
            # expressions: Icarus (-g2012) leaves the procedural write_en/write_data below unknown
            # until one of their inputs changes, which the clearing sweep never does.
            from neurotile.rtl.regfile import RingRegisterFile

            m.submodules.state = ring = RingRegisterFile(shape=layout, depth=p.neurons)
            clearing = Signal(init=1)
            read = ring.read_data
            update = Signal(layout)
            m.d.comb += update.mem.eq(dp.next_membrane)
            if p.refractory_width:
                m.d.comb += update.refr.eq(dp.next_refr)
            m.d.comb += [ring.write_en.eq(clearing | accept),
                         ring.write_data.eq(Mux(accept, update.as_value(), 0))]
            write_en = Signal()  # driven below as for the memory; the ring does not use them
            write_data = Signal(layout)
        else:
            m.submodules.state = mem = memory.Memory(shape=layout, depth=p.neurons, init=[])
            rd = mem.read_port(domain="comb")
            wr = mem.write_port()
            clearing = Signal(init=1)
            read = rd.data
            write_en = wr.en
            write_data = wr.data
            m.d.comb += [rd.addr.eq(index), wr.addr.eq(index)]

        # Shared datapath on the addressed neuron.
        m.d.comb += [
            dp.membrane.eq(read.mem),
            dp.current.eq(self.current.payload),
            dp.threshold.eq(self.threshold),
            dp.leak.eq(self.leak),
        ]
        if p.refractory_width:
            m.d.comb += [dp.refr.eq(read.refr), dp.refractory.eq(self.refractory)]

        m.d.comb += [
            self.current.ready.eq(~clearing & (~out_valid | self.spikes.ready)),
            accept.eq(self.current.valid & self.current.ready),
        ]

        next_state = Signal(layout)
        m.d.comb += next_state.mem.eq(dp.next_membrane)
        if p.refractory_width:
            m.d.comb += next_state.refr.eq(dp.next_refr)

        if p.neurons > 1:
            with m.If(clearing):
                m.d.comb += [write_en.eq(1), write_data.eq(0)]
                m.d.sync += index.eq(Mux(last, 0, index + 1))
                with m.If(last):
                    m.d.sync += clearing.eq(0)
        with m.If(accept):
            m.d.comb += [write_en.eq(1), write_data.eq(next_state)]
            m.d.sync += [
                index.eq(Mux(last, 0, index + 1)),
                out_valid.eq(1),
                self.spikes.payload.spike.eq(dp.spike),
                self.spikes.payload.membrane.eq(dp.next_membrane),
                self.spikes.payload.index.eq(index),
                self.spikes.payload.last.eq(last),
            ]
        with m.Elif(self.spikes.ready):
            m.d.sync += out_valid.eq(0)
        return m


class LIFNeuron(LIFPopulation):
    """A single LIF neuron: :class:`LIFPopulation` with ``neurons=1``, state in registers.

    Every accepted ``current`` is one timestep; ``spikes`` carries the result one cycle later.
    Takes the same keyword parameters as :class:`LIFPopulation` except ``neurons``.
    """

    def __init__(self, **kwargs: object) -> None:
        if "neurons" in kwargs:
            raise TypeError("LIFNeuron has no 'neurons' parameter; use LIFPopulation")
        super().__init__(neurons=1, **kwargs)  # type: ignore[arg-type]
