# SPDX-License-Identifier: Apache-2.0
"""The sparse tile's memories in Sky130 latches, with one-hot read multiplexers.

Two components, both built from the cells of :mod:`neurotile.rtl.cells` with the write timing of
:class:`~neurotile.rtl.regfile.LatchRegisterFile` (a ``dlclkp_1`` per word on ``clk``, enabled by
the write of cycle k, opens the word's ``dlxtp_1`` latches in the high phase of cycle k+1; every
latch's ``D`` is a ``wdata`` register loaded at every rising edge, so the data is stable while
the latches are open; the word shows its new contents from just after the rising edge that ends
the write's cycle):

* :class:`LatchFile`: ``depth`` words of one shape with one or more combinational read ports
  (row pointers, accumulators);
* :class:`SynapseMemory`: ``depth`` entries, ``slots`` entries to a latch word, one registered
  read port (the synapses).

Their read ports are AND-OR multiplexers with a decoded (one-hot) select, which Sky130's
``a222oi``/``a22oi`` cells map to at about half the area of a binary tree of two-input
multiplexers over the same bits.

Elaborated without :data:`~neurotile.rtl.cells.CELLS` (Amaranth's simulator, which has no
latches) the words are flip-flops written at the same rising edge with the same data: the same
values at every rising edge.
"""

from __future__ import annotations

from amaranth.hdl import Cat, ClockSignal, Instance, Module, Mux, Shape, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from neurotile.rtl.cells import CLOCK_GATE, LATCH, instantiates_cells

__all__ = ["LatchFile", "SynapseMemory", "WeightRows", "onehot_mux"]


def _check(name: str, value: object, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, not {value!r}")
    if not lo <= value <= hi:
        raise ValueError(f"{name} must be between {lo} and {hi}, not {value}")


def onehot_mux(words: list, sel: Value) -> Value:
    """``words[sel]`` as an OR of each word ANDed with its decoded select (0 when ``sel`` is out
    of range)."""
    width = len(Value.cast(words[0]))
    terms = [Value.cast(w) & (sel == i).replicate(width) for i, w in enumerate(words)]
    while len(terms) > 1:  # a balanced OR: no expression nests deeper than log2(words)
        terms = [terms[j] | terms[j + 1] if j + 1 < len(terms) else terms[j]
                 for j in range(0, len(terms), 2)]
    return terms[0]


def _words(m: Module, platform, words: list[Signal], data: Value, enables: list[Value],
           prefix: str = "") -> None:
    """Store ``data`` into ``words[i]`` at the rising edge that ends a cycle with ``enables[i]``:
    latches behind one clock gate per word (Verilog), or flip-flops (Amaranth's simulator)."""
    if not instantiates_cells(platform):
        for w, en in zip(words, enables):
            with m.If(en):
                m.d.sync += w.eq(data)
        return
    wdata = Signal(len(data), name=f"{prefix}wdata", reset_less=True)
    m.d.sync += wdata.eq(data)
    for i, (w, en) in enumerate(zip(words, enables)):
        gclk = Signal(name=f"{prefix}gclk{i}")
        m.submodules[f"{prefix}gate{i}"] = Instance(CLOCK_GATE, i_CLK=ClockSignal("sync"),
                                                    i_GATE=en, o_GCLK=gclk)
        for b in range(len(w)):
            m.submodules[f"{prefix}word{i}_{b}"] = Instance(LATCH, i_GATE=gclk, i_D=wdata[b],
                                                            o_Q=w[b])


class LatchFile(wiring.Component):
    """``depth`` words of ``shape`` in latches, ``reads`` combinational read ports.

    Seen from its ports this is an ``amaranth.lib.memory.Memory`` with combinational read ports
    and one synchronous write port: a write in cycle k (``write_en``, ``write_addr``,
    ``write_data``) is seen by reads from cycle k+1 on. Words have no reset and power up unknown
    at gate level.

    Parameters
    ----------
    shape : shape-like
        Shape of one word.
    depth : int
        Number of words, 2 to 65537.
    reads : int
        Read ports, 1 or 2: ``read_addr``/``read_data`` and ``read2_addr``/``read2_data``.
    """

    def __init__(self, *, shape, depth: int, reads: int = 1) -> None:
        _check("depth", depth, 2, 65537)
        _check("reads", reads, 1, 2)
        self.shape, self.depth, self.reads = shape, depth, reads
        Shape.cast(shape)
        members = {"read_addr": In(range(depth)), "read_data": Out(shape)}
        if reads == 2:
            members |= {"read2_addr": In(range(depth)), "read2_data": Out(shape)}
        members |= {"write_addr": In(range(depth)), "write_data": In(shape), "write_en": In(1)}
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        width = Shape.cast(self.shape).width
        words = [Signal(width, name=f"word{i}", reset_less=True) for i in range(self.depth)]
        ports = [(self.read_addr, self.read_data)]
        if self.reads == 2:
            ports.append((self.read2_addr, self.read2_data))
        for addr, data in ports:
            m.d.comb += Value.cast(data).eq(onehot_mux(words, addr))
        _words(m, platform, words, Value.cast(self.write_data),
               [self.write_en & (self.write_addr == i) for i in range(self.depth)])
        return m


class SynapseMemory(wiring.Component):
    """``depth`` entries of ``shape`` in latch words of ``slots`` entries each.

    A word has one clock gate for all its entries, so the memory needs a clock gate and a
    decoder output per ``slots`` entries rather than per entry; its read multiplexer selects a
    word, then the entry within it. Writes stay one entry per cycle: a write reads its word
    through the read multiplexer, replaces the addressed entry and writes the whole word back
    (read-modify-write). Back-to-back writes to one word work, because a word written in cycle
    k shows its new contents in cycle k+1.

    Ports: a synchronous read port whose data is a register (``read_en`` loads it with entry
    ``read_addr``; a write to that entry in the same cycle passes its data straight in, as a
    write-transparent memory read port does) and a write port (``write_en``, ``write_addr``,
    ``write_data``: one entry per cycle, written at the clock edge that ends the cycle).

    The price of sharing the read multiplexer: in a cycle with ``write_en`` high the multiplexer
    reads the word being written, so a read in that cycle of any other entry is undefined. The
    sparse tile's memories are programmed between timesteps, when it reads nothing.

    Parameters
    ----------
    shape : shape-like
        Shape of one entry.
    depth : int
        Number of entries, 2 to 65536.
    slots : int
        Entries per latch word, a power of two from 1 to 16.

    Raises
    ------
    TypeError, ValueError
        For a depth or slot count that is not an integer in range.
    """

    def __init__(self, *, shape, depth: int, slots: int = 4) -> None:
        _check("depth", depth, 2, 65536)
        _check("slots", slots, 1, 16)
        if slots & (slots - 1):
            raise ValueError(f"slots must be a power of two, not {slots}")
        slots = min(slots, 1 << (depth - 1).bit_length())  # no word larger than the memory
        self.shape, self.depth, self.slots = shape, depth, slots
        self.width = Shape.cast(shape).width
        self.words = -(-depth // slots)
        super().__init__({
            "read_addr": In(range(depth)),
            "read_en": In(1),
            "read_data": Out(shape),
            "write_addr": In(range(depth)),
            "write_data": In(shape),
            "write_en": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        width, slots = self.width, self.slots
        shift = (slots - 1).bit_length()
        words = [Signal(width * slots, name=f"word{i}", reset_less=True)
                 for i in range(self.words)]

        # One read multiplexer over the words, shared by the read port and by writes, which
        # read the word they modify.
        write_word = self.write_addr[shift:]
        sel = Signal(range(self.words), name="sel_word")
        word = Signal(width * slots, name="word_out")
        m.d.comb += [
            sel.eq(Mux(self.write_en, write_word, self.read_addr[shift:])),
            word.eq(onehot_mux(words, sel)),
        ]
        entries = [word[j * width:(j + 1) * width] for j in range(slots)]

        # The word a write leaves: the addressed entry replaced, the others as they are.
        new = Value.cast(self.write_data).as_unsigned()
        merged = Signal(width * slots, name="merged")
        wslot, rslot = self.write_addr[:shift], self.read_addr[:shift]
        m.d.comb += merged.eq(Cat(*(Mux(wslot == j, new, e) for j, e in enumerate(entries))))

        # The registered, write-transparent read port.
        with m.If(self.read_en):
            m.d.sync += Value.cast(self.read_data).eq(
                Mux(self.write_en & (self.write_addr == self.read_addr), new,
                    onehot_mux(entries, rslot)))

        _words(m, platform, words, merged,
               [self.write_en & (write_word == i) for i in range(self.words)])
        return m


class WeightRows(wiring.Component):
    """A ``rows`` x ``cols`` matrix of weights in latches, read a whole row at a time.

    Every weight has its place (zeros included), ``slots`` weights to a latch word behind one
    clock gate. ``row_data`` shows row ``row_addr`` combinationally (weight ``c`` in bits
    ``c * width`` up). A write (``write_en``, ``write_row``, ``write_col``, ``write_data``: one
    weight per cycle) reads its word through the row multiplexer, replaces the weight and writes
    the word back, so ``row_data`` shows the row being written during a write; a write in cycle
    k is seen from cycle k+1 on. Without :data:`~neurotile.rtl.cells.CELLS` (Amaranth's
    simulator) the words are flip-flops with the same values at every rising edge.

    Parameters
    ----------
    shape : shape-like
        Shape of one weight.
    rows, cols : int
        The matrix, 1 to 4096 each.
    slots : int
        Weights per latch word, a power of two from 1 to 16.
    """

    def __init__(self, *, shape, rows: int, cols: int, slots: int = 4) -> None:
        _check("rows", rows, 1, 4096)
        _check("cols", cols, 1, 4096)
        _check("slots", slots, 1, 16)
        if slots & (slots - 1):
            raise ValueError(f"slots must be a power of two, not {slots}")
        slots = min(slots, 1 << (cols - 1).bit_length())
        self.shape, self.rows, self.cols, self.slots = shape, rows, cols, slots
        self.width = Shape.cast(shape).width
        super().__init__({
            "row_addr": In(range(max(2, rows))),
            "row_data": Out(self.width * cols),
            "write_row": In(range(max(2, rows))),
            "write_col": In(range(max(2, cols))),
            "write_data": In(shape),
            "write_en": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        width, slots = self.width, self.slots
        shift = (slots - 1).bit_length()
        per_row = -(-self.cols // slots)
        bits = width * slots
        words = [[Signal(bits, name=f"word{r}_{j}", reset_less=True) for j in range(per_row)]
                 for r in range(self.rows)]
        sel = Signal(range(max(2, self.rows)), name="sel_row")
        row = Signal(bits * per_row, name="row_out")
        m.d.comb += [
            sel.eq(Mux(self.write_en, self.write_row, self.row_addr)),
            row.eq(onehot_mux([Cat(*ws) for ws in words], sel)),
            self.row_data.eq(row[:width * self.cols]),
        ]
        # The word a write leaves: its weight replaced, the others as they are.
        wword = self.write_col[shift:]
        old = onehot_mux([row[j * bits:(j + 1) * bits] for j in range(per_row)], wword) \
            if per_row > 1 else row
        new = Value.cast(self.write_data).as_unsigned()  # (a signed weight would widen Cat)
        wslot = self.write_col[:shift]
        merged = Signal(bits, name="merged")
        m.d.comb += merged.eq(Cat(*(Mux(wslot == s, new, old[s * width:(s + 1) * width])
                                    for s in range(slots))))
        _words(m, platform, [w for ws in words for w in ws], merged,
               [self.write_en & (self.write_row == r) & (wword == j)
                for r in range(self.rows) for j in range(per_row)])
        return m
