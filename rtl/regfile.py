# SPDX-License-Identifier: Apache-2.0
"""Register files for neuron state, traded for area.

:class:`RingRegisterFile` keeps ``depth`` words in a ring of clock-gated flip-flops. It serves
designs that visit their words strictly in order, as :class:`~neurotile.rtl.lif.LIFPopulation`
does: no address decoder, no write-enable multiplexer per bit and no read multiplexer, so each
stored bit costs one plain flip-flop (sky130_fd_sc_hd__dfxtp_1, 20.0 um^2) instead of a flip-flop,
an enable multiplexer and a share of the read tree (about 35 um^2 with ``amaranth.lib.memory``).
"""

from __future__ import annotations

from amaranth.hdl import ClockDomain, ClockSignal, Module, Mux, Shape, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["RingRegisterFile"]


class RingRegisterFile(wiring.Component):
    """A sequential-access register file: a ring of ``depth`` words in clock-gated flip-flops.

    The word being addressed is implicit: it is the word after the one last written (the first
    word after power-up). ``read_data`` shows it combinationally; a cycle with ``write_en`` high
    replaces it with ``write_data`` at the clock edge and moves on to the next word, wrapping after
    ``depth`` words. A cycle without ``write_en`` changes nothing. Seen from its ports this is an
    ``amaranth.lib.memory.Memory`` with a combinational read port and a synchronous write port
    whose shared address starts at 0 and steps by one (mod ``depth``) after every write.

    ``rst`` of the ``sync`` domain does not clear the words and does not move the position: clear
    the file by writing ``depth`` words after reset, as :class:`LIFPopulation` does.

    Implementation. Writes are posted: at the edge of a write the data goes into a holding
    register (``pending``), and at the next clock edge the ring rotates by one word, taking the
    held data in at its tail. The ring's clock is ``clk`` gated by ``pending``: the enable is
    re-timed on the falling edge (a negative-edge flip-flop) and ANDed with ``clk``, so the gated
    clock has no glitches (the enable only changes while ``clk`` is low) and the enable is a
    register output, so inputs need no more than the usual set-up time to the rising edge. While a
    write is held, the addressed word is the ring's second word, so the read port is one 2:1
    multiplexer.

    Simulation: event-driven HDL simulators (Icarus Verilog, Verilator) and gate-level runs model
    the gated clock exactly. Amaranth's Python simulator does not order a derived clock before the
    registers it reads, so this component is not checked there.

    Parameters
    ----------
    shape : shape-like
        Shape of one word.
    depth : int
        Number of words, 2 to 4096.

    Members
    -------
    read_data : Out(shape)
        The addressed word.
    write_data : In(shape)
        Data for the addressed word.
    write_en : In(1)
        Write the addressed word at the next clock edge and advance.

    Raises
    ------
    TypeError, ValueError
        For a depth that is not an integer in range.
    """

    def __init__(self, *, shape, depth: int) -> None:
        if isinstance(depth, bool) or not isinstance(depth, int):
            raise TypeError(f"Depth must be an integer, not {depth!r}")
        if not 2 <= depth <= 4096:
            raise ValueError(f"Depth must be between 2 and 4096, not {depth}")
        self.depth = depth
        self.shape = shape
        Shape.cast(shape)
        super().__init__({
            "read_data": Out(shape),
            "write_data": In(shape),
            "write_en": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        width = Shape.cast(self.shape).width

        # Posted write: data and flag, taken at every edge (no enable needed on the data).
        pending = Signal()
        pending_data = Signal(width, reset_less=True)
        m.d.sync += [pending.eq(self.write_en), pending_data.eq(Value.cast(self.write_data))]

        # Glitch-free clock gate: the enable is re-timed on the falling edge.
        m.domains.ring_gate = ClockDomain("ring_gate", clk_edge="neg", reset_less=True,
                                          local=True)
        m.domains.ring = ClockDomain("ring", reset_less=True, local=True)
        gate = Signal()
        m.d.comb += [
            ClockSignal("ring_gate").eq(ClockSignal("sync")),
            ClockSignal("ring").eq(ClockSignal("sync") & gate),
        ]
        m.d.ring_gate += gate.eq(pending)

        words = [Signal(width, name=f"word{i}", reset_less=True) for i in range(self.depth)]
        for here, after in zip(words, words[1:]):
            m.d.ring += here.eq(after)
        m.d.ring += words[-1].eq(pending_data)

        m.d.comb += Value.cast(self.read_data).eq(Mux(pending, words[1], words[0]))
        return m
