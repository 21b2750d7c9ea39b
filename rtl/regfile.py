# SPDX-License-Identifier: Apache-2.0
"""Register files for neuron state, traded for area.

:class:`RingRegisterFile` keeps ``depth`` words in a ring of clock-gated flip-flops. It serves
designs that visit their words strictly in order, as :class:`~neurotile.rtl.lif.LIFPopulation`
does: no address decoder, no write-enable multiplexer per bit and no read multiplexer, so each
stored bit costs one plain flip-flop (sky130_fd_sc_hd__dfxtp_1, 20.0 um^2) instead of a flip-flop,
an enable multiplexer and a share of the read tree (about 35 um^2 with ``amaranth.lib.memory``).
"""

from __future__ import annotations

from amaranth.hdl import ClockDomain, ClockSignal, Const, Instance, Module, Shape, Signal, Value
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from neurotile.rtl.cells import CLOCK_GATE, LATCH, instantiates_cells

__all__ = ["RingRegisterFile", "LatchRegisterFile"]


def _check_depth(depth: int) -> None:
    if isinstance(depth, bool) or not isinstance(depth, int):
        raise TypeError(f"Depth must be an integer, not {depth!r}")
    if not 2 <= depth <= 4096:
        raise ValueError(f"Depth must be between 2 and 4096, not {depth}")


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

    Implementation. The words form a shift register behind one clock gate: the addressed word is
    the first, the one written last the last. A write shifts every word one place towards the
    first at the rising edge and takes ``write_data`` in at the last place; without a write the
    clock is gated off. In Verilog the gate is Sky130's integrated clock gate
    (``sky130_fd_sc_hd__dlclkp_1``, see :mod:`neurotile.rtl.cells`) on ``clk``, enabled by
    ``write_en`` (its enable latch is transparent while ``clk`` is low, so ``write_en`` needs
    the usual set-up time to the rising edge and may change after it); in Amaranth's simulator
    the words are registers with an enable, the same values at every edge.

    Timing: every path has the full clock period: ``read_data`` is the first word, launched at
    the rising edge, and ``write_data`` is taken at the next one. The words pass from one to the
    next with no logic between them, as in any shift register; the hardening flow's clock tree
    and hold repair keep those paths, and the ones from ungated registers into the last word,
    free of hold violations.

    Simulation: Amaranth's simulator, Icarus Verilog, Verilator and gate-level runs all model it
    exactly. The gated clock rises in the same time step as ``clk`` and before anything clocked
    by ``clk`` changes (the cell's behavioural model drives it with a continuous assignment; the
    library's gate-level model with a gate of no delay, while its flip-flops switch a unit delay
    after the edge), so the words take the values from before the edge, as flip-flops on ``clk``
    do.

    Parameters
    ----------
    shape : shape-like
        Shape of one word.
    depth : int
        Number of words, 2 to 4096.

    Members
    -------
    read_data : Out(shape)
        The addressed word (a register: full-period reads).
    last_data : Out(shape)
        The word written last, from the clock edge of its write on (a register).
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
        _check_depth(depth)
        self.depth = depth
        self.shape = shape
        Shape.cast(shape)
        super().__init__({
            "read_data": Out(shape),
            "last_data": Out(shape),
            "write_data": In(shape),
            "write_en": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        width = Shape.cast(self.shape).width
        # words[0] is the addressed word, words[-1] the one written last.
        words = [Signal(width, name=f"word{i}", reset_less=True) for i in range(self.depth)]
        shift = [here.eq(after) for here, after in zip(words, words[1:])]
        shift.append(words[-1].eq(Value.cast(self.write_data)))
        if instantiates_cells(platform):
            m.domains.ring = ClockDomain("ring", reset_less=True, local=True)
            gclk = Signal()
            m.submodules.clock_gate = Instance(CLOCK_GATE, i_CLK=ClockSignal("sync"),
                                               i_GATE=self.write_en, o_GCLK=gclk)
            m.d.comb += ClockSignal("ring").eq(gclk)
            m.d.ring += shift
        else:
            with m.If(self.write_en):
                m.d.sync += shift
        m.d.comb += [Value.cast(self.read_data).eq(words[0]),
                     Value.cast(self.last_data).eq(words[-1])]
        return m


class LatchRegisterFile(wiring.Component):
    """A register file of ``depth`` words in Sky130 latches, one clock gate per word.

    Seen from its ports this is an ``amaranth.lib.memory.Memory`` with one combinational read port
    and one synchronous write port: a cycle with ``write_en`` high writes ``write_data`` to word
    ``write_addr`` at the clock edge that ends it; ``read_data`` shows word ``read_addr`` as it
    stands, so a read in the cycle of a write sees the old word and a read in any later cycle
    the new one (including back-to-back writes of one word and a read of it in every cycle).
    Words have no reset and power up unknown at gate level: write them before reading them.

    Implementation (Verilog export, see :mod:`neurotile.rtl.cells`): each bit is a
    ``sky130_fd_sc_hd__dlxtp_1`` latch (15.0 um^2, against 20.0 for a flip-flop); each word has a
    ``sky130_fd_sc_hd__dlclkp_1`` integrated clock gate on ``clk`` whose enable is
    ``write_en & (write_addr == word)``; every latch's data input is ``wdata``, a register that
    takes ``write_data`` at every rising edge; the read port is an AND-OR of the words with
    one decoded select line each.

    Write timing, for a write requested in cycle k (between rising edges E(k) and E(k+1)):

    * the clock gate's enable latch is transparent while ``clk`` is low, so it holds the enable
      of cycle k from E(k+1) through the high phase of cycle k+1: ``write_en`` and
      ``write_addr`` need set-up time to E(k+1), as a flip-flop's input does, and may change
      freely after it (the latch is closed then);
    * ``wdata`` takes the data at E(k+1) and holds it until E(k+2);
    * the word's gated clock is high during the high phase of cycle k+1: the latches are
      transparent and close at the falling edge in the middle of cycle k+1, half a period after
      ``wdata`` settled and half a period before it next changes. The data is therefore stable
      for the whole time the latches are open and at their closing edge, whatever is written in
      cycle k+1 (the same word, another one, or nothing).

    Reads: in cycle k the word still holds its old value (its latches are closed all of cycle
    k unless it was written in cycle k-1, in which case they close with cycle k-1's data).
    During cycle k+1 the word shows the new value from shortly after E(k+1) (clock gate, then
    latch), so logic that reads it and is sampled at E(k+2) has nearly the full period: the same
    order of read and write as the synchronous register file, with a full-cycle datapath.

    In Amaranth's simulator (elaborated without :data:`~neurotile.rtl.cells.CELLS`) the file is
    the equivalent ``amaranth.lib.memory.Memory``: the same values at every rising edge.

    Parameters
    ----------
    shape : shape-like
        Shape of one word.
    depth : int
        Number of words, 2 to 4096.

    Members
    -------
    read_addr : In(range(depth))
    read_data : Out(shape)
        Word ``read_addr``.
    write_addr : In(range(depth))
    write_data : In(shape)
    write_en : In(1)
        Write ``write_data`` to word ``write_addr`` at the next clock edge.

    Raises
    ------
    TypeError, ValueError
        For a depth that is not an integer in range.
    """

    def __init__(self, *, shape, depth: int) -> None:
        _check_depth(depth)
        self.depth = depth
        self.shape = shape
        Shape.cast(shape)
        super().__init__({
            "read_addr": In(range(depth)),
            "read_data": Out(shape),
            "write_addr": In(range(depth)),
            "write_data": In(shape),
            "write_en": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        if not instantiates_cells(platform):
            m.submodules.words = mem = memory.Memory(shape=self.shape, depth=self.depth, init=[])
            rd = mem.read_port(domain="comb")
            wr = mem.write_port()
            m.d.comb += [rd.addr.eq(self.read_addr), Value.cast(self.read_data).eq(rd.data),
                         wr.addr.eq(self.write_addr), wr.en.eq(self.write_en),
                         wr.data.eq(self.write_data)]
            return m

        width = Shape.cast(self.shape).width
        wdata = Signal(width, reset_less=True)
        words = [Signal(width, name=f"word{i}") for i in range(self.depth)]
        # The read port: the address decoded to one select line per word, then an AND-OR of
        # every word with its select (an address past the last word reads 0). Synthesis maps it
        # to AND-OR-invert cells (a222oi, a22oi) and NAND/NOR trees, about 30% less area than a
        # binary multiplexer tree (measured, 48 words x 10 bits: 2,850 against 4,040 um^2 of
        # read and decode logic); where the read and write addresses are one signal (a
        # population's index) synthesis shares the decoder with the clock gates' enables.
        select = [Signal(name=f"rsel{i}") for i in range(self.depth)]
        m.d.comb += [s.eq(self.read_addr == i) for i, s in enumerate(select)]
        read = Const(0, width)
        for word, s in zip(words, select):
            read = read | (word & s.replicate(width))
        m.d.comb += Value.cast(self.read_data).eq(read)
        m.d.sync += wdata.eq(Value.cast(self.write_data))
        for i, word in enumerate(words):
            gclk = Signal(name=f"gclk{i}")
            m.submodules[f"gate{i}"] = Instance(
                CLOCK_GATE, i_CLK=ClockSignal("sync"),
                i_GATE=self.write_en & (self.write_addr == i), o_GCLK=gclk)
            for b in range(width):
                m.submodules[f"word{i}_{b}"] = Instance(LATCH, i_GATE=gclk, i_D=wdata[b],
                                                        o_Q=word[b])
        return m
