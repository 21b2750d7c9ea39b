# SPDX-License-Identifier: Apache-2.0
"""Register files for neuron state, traded for area.

:class:`RingRegisterFile` keeps ``depth`` words in a ring of clock-gated flip-flops. It serves
designs that visit their words strictly in order, as :class:`~neurotile.rtl.lif.LIFPopulation`
does: no address decoder, no write-enable multiplexer per bit and no read multiplexer, so each
stored bit costs one plain flip-flop (sky130_fd_sc_hd__dfxtp_1, 20.0 um^2) instead of a flip-flop,
an enable multiplexer and a share of the read tree (about 35 um^2 with ``amaranth.lib.memory``).
"""

from __future__ import annotations

from amaranth.hdl import ClockDomain, ClockSignal, Module, Shape, Signal, Value
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
    whose shared address starts at 0 and steps by one (mod ``depth``) after every write, except
    that after a write the new address's word appears at the falling edge (see Timing).

    ``rst`` of the ``sync`` domain does not clear the words and does not move the position: clear
    the file by writing ``depth`` words after reset, as :class:`LIFPopulation` does.

    Implementation. Writes are posted: at the rising edge of a write, the data and a flag go into
    registers (``pending``); at the following falling edge the ring rotates by one word and takes
    the posted data in at its tail. The ring's clock is ``~clk & pending``: ``pending`` changes
    just after a rising edge, while ``~clk`` is low, so the gated clock has no glitches, and the
    enable is a register output, so inputs need only the usual set-up time to the rising edge.

    Timing: after a write, ``read_data`` shows the next word from the falling edge on; logic that
    reads it and is sampled at the rising edge has half a clock period (10 ns at 50 MHz).

    Simulation: Amaranth's simulator, Icarus Verilog, Verilator and gate-level runs all model it
    exactly: nothing the ring reads changes at the edge that clocks it.

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

        # Posted write: data and flag, taken at every rising edge (no enable on the data).
        pending = Signal()
        pending_data = Signal(width, reset_less=True)
        m.d.sync += [pending.eq(self.write_en), pending_data.eq(Value.cast(self.write_data))]

        # The ring rotates on the falling edge after a write. Its clock, ~clk & pending, has no
        # glitches: pending only changes while ~clk is low.
        m.domains.ring = ClockDomain("ring", reset_less=True, local=True)
        m.d.comb += ClockSignal("ring").eq(~ClockSignal("sync") & pending)

        words = [Signal(width, name=f"word{i}", reset_less=True) for i in range(self.depth)]
        for here, after in zip(words, words[1:]):
            m.d.ring += here.eq(after)
        m.d.ring += words[-1].eq(pending_data)

        m.d.comb += Value.cast(self.read_data).eq(words[0])
        return m
