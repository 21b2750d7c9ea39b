# SPDX-License-Identifier: Apache-2.0
"""An event-driven sparse synapse tile: ``y = W^T s`` with ``W`` stored CSR by input row.

The arithmetic is specified by :func:`neurotile.neurons.synapses.sparse_matvec`; this module is
its hardware and is checked against it bit for bit.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from neurotile.neurons.synapses import CSRMatrix, SparseParams
from neurotile.rtl.synapse_memory import LatchFile, SynapseMemory, WeightRows

__all__ = [
    "LAYOUTS",
    "STORAGES",
    "SparseMatmul",
    "check_layout",
    "event_layout",
    "result_layout",
    "synapse_layout",
    "write_signature",
]


#: What the synapse memory and the accumulators can be built from.
STORAGES = ("memory", "latch")

#: How the weights are laid out: CSR by input row (column index per weight, row pointers), or
#: every weight in its place (``dense``: no index; for tiles whose ``depth`` would hold the
#: whole matrix anyway).
LAYOUTS = ("csr", "dense")


def event_layout(p: SparseParams) -> data.StructLayout:
    """Payload of an event stream, least significant field first.

    ``addr``: the input that spiked; ``value``: its activation (only when ``act_width > 1``;
    binary spikes count 1); ``end``: set on the end-of-timestep marker, whose other fields are
    ignored.
    """
    fields: dict[str, object] = {"addr": unsigned(p.addr_width)}
    if p.act_width > 1:
        fields["value"] = unsigned(p.act_width)
    fields["end"] = unsigned(1)
    return data.StructLayout(fields)


def synapse_layout(p: SparseParams) -> data.StructLayout:
    """One entry of the weight memory, least significant field first: ``weight``, ``col``."""
    return data.StructLayout({"weight": signed(p.weight_width), "col": unsigned(p.index_width)})


def result_layout(p: SparseParams) -> data.StructLayout:
    """Payload of the result stream: accumulator ``value``, its output ``index``, ``last``."""
    return data.StructLayout({
        "value": signed(p.acc_width),
        "index": unsigned(p.index_width),
        "last": unsigned(1),
    })


def write_signature(addr_width: int, shape: object) -> wiring.Signature:
    """A host write port, seen from the host: ``en``, ``addr``, ``data``; one write per cycle."""
    return wiring.Signature({
        "en": Out(1),
        "addr": Out(unsigned(addr_width)),
        "data": Out(shape),
    })


def check_layout(layout: object, storage: str, p: SparseParams,
                 weights: CSRMatrix | None = None) -> None:
    """Raise ``TypeError``/``ValueError`` unless ``layout`` suits a tile with ``storage``,
    parameters ``p`` and (constant) ``weights``."""
    if not isinstance(layout, str):
        raise TypeError(f"layout must be a string, not {layout!r}")
    if layout not in LAYOUTS:
        raise ValueError(f"layout must be 'csr' or 'dense', not {layout!r}")
    if layout == "dense":
        if storage != "latch" or weights is not None:
            raise ValueError("layout 'dense' needs storage='latch' and programmable weights")
        if p.depth < p.inputs * p.outputs:
            raise ValueError(f"layout 'dense' needs depth of at least inputs x outputs "
                             f"({p.inputs * p.outputs}), not {p.depth}")


class SparseMatmul(wiring.Component):
    """Event-driven sparse matrix-vector tile with saturating integer accumulators.

    For each timestep the tile takes the addresses of the inputs that spiked, walks the non-zero
    weights of each spiking input's row and adds them to per-output accumulators::

        acc[col[k]] = sat(acc[col[k]] + weight[k] * value)   for k in row_ptr[a] .. row_ptr[a+1]-1

    with ``sat`` clamping to ``acc_width`` signed bits after every addition (see
    :func:`neurotile.neurons.synapses.sparse_matvec`). An event with ``end`` set closes the step:
    the tile then sends every accumulator, in index order, on ``results`` and clears it.

    Memories (``amaranth.lib.memory.Memory``):

    * row pointers, ``inputs + 1`` entries of ``bits(depth)`` bits, two synchronous read ports
      (``row_ptr[a]`` and ``row_ptr[a+1]`` in one cycle);
    * synapses, ``depth`` entries of ``(weight, col)``, one synchronous read port;
    * accumulators, ``banks`` x ``outputs`` entries of ``acc_width`` bits, read asynchronously
      and written in the same cycle, so back-to-back updates of one output need no forwarding.

    Timing, with ``L(a)`` the non-zero weights of row ``a``: an event is accepted, its row
    pointers are read the next cycle, and from then on the row issues one weight read per cycle;
    each weight is accumulated one cycle after its read. The next event's pointers are read while
    the current row is walked, so a step of events ``a_1 .. a_E`` takes
    ``W = sum(max(1, L(a_i)))`` cycles of synaptic work (one synaptic operation per cycle), then
    the marker, a bubble cycle and ``outputs`` cycles of drain, each stalled only by
    back-pressure on ``results``: ``W + outputs + 2`` cycles per step with one bank. With two
    banks the drain overlaps the next step's synaptic work: about ``max(W + 2, outputs + 1)``.
    Inputs that do not spike and zero weights cost nothing.

    Reset empties the pipeline and clears the accumulators in ``outputs`` cycles (``events.ready``
    stays low meanwhile). The memories written through ``ptr_write`` and ``syn_write`` keep
    their contents; program them while no step is in progress.

    With constant ``weights`` the row-pointer and synapse memories are ROMs holding the matrix
    (padded with zeros to the memories' depth) and there are no write ports: synthesis folds
    the ROMs into logic. The timing is the same.

    Parameters
    ----------
    inputs : int
        Input addresses, 1 to 4096. Events with larger addresses have no synapses.
    outputs : int
        Accumulators, 1 to 4096.
    weight_width : int
        Bits of a signed weight, 2 to 16.
    acc_width : int
        Bits of a signed accumulator, ``weight_width`` to 32.
    depth : int
        Non-zero weights the synapse memory holds, 1 to 65536.
    act_width : int
        Bits of an unsigned activation carried by each event; 1 means binary spikes.
    banks : int
        Accumulator banks, 1 or 2. With two, the tile swaps banks at each marker and accepts
        the next step's events while the previous step drains (twice the accumulator storage).
    weights : CSRMatrix, optional
        Constant weights (``inputs x outputs``, at most ``depth`` non-zero): the memories
        become ROMs initialised with them and ``ptr_write`` and ``syn_write`` do not exist.
    storage : "memory" | "latch"
        What the memories are built from: flip-flops (``amaranth.lib.memory``, the default) or
        Sky130 latches behind integrated clock gates (:mod:`neurotile.rtl.synapse_memory`: four
        synapses to a latch word, written read-modify-write; row pointers and accumulators a
        word each; one-hot read multiplexers; the synapse memory's registered, write-transparent
        read port is a register after its read multiplexer). The same behaviour at the ports,
        cycle for cycle, for programming between timesteps (a synapse read in the cycle of a
        write to another synapse is undefined on latches). Constant weights are ROMs either way.
    layout : "csr" | "dense"
        How the weights are stored: CSR by input row (the default), or ``dense``, every weight
        of the matrix in its place with no column index and no row pointer, for latch tiles
        whose ``depth`` is at least ``inputs * outputs``. The walker reads a row whole and
        issues its non-zero weights in column order, one per cycle, so the timing is the CSR
        layout's. Programmed through ``weight_write`` instead of ``ptr_write`` and
        ``syn_write``.

    Members
    -------
    events : In(stream.Signature(event_layout))
        Input spikes as addresses (AER), then an ``end`` marker per timestep.
    results : Out(stream.Signature(result_layout))
        The step's accumulators, ``outputs`` transfers per step, ``last`` on the final one.
    ptr_write : In(write_signature(bits(inputs), unsigned(bits(depth))))
        Writes ``row_ptr[addr] = data`` (programmable weights only).
    syn_write : In(write_signature(bits(depth - 1), synapse_layout))
        Writes synapse ``addr`` (``data.weight``, ``data.col``) (programmable weights only).
    weight_write : In(write_signature(bits(inputs - 1) + bits(outputs - 1), signed(weight_width)))
        Dense layout only: writes ``W[a, c] = data`` at ``addr = (a << bits(outputs - 1)) | c``
        (:func:`~neurotile.neurons.synapses.dense_writes`).

    Raises
    ------
    TypeError, ValueError
        For parameters of the wrong type or out of range, or weights that do not fit the tile.
    """

    def __init__(self, *, inputs: int = 16, outputs: int = 16, weight_width: int = 8,
                 acc_width: int = 12, depth: int = 256, act_width: int = 1,
                 banks: int = 1, weights: CSRMatrix | None = None,
                 storage: str = "memory", layout: str = "csr") -> None:
        if not isinstance(storage, str):
            raise TypeError(f"storage must be a string, not {storage!r}")
        if storage not in STORAGES:
            raise ValueError(f"storage must be 'memory' or 'latch', not {storage!r}")
        self.storage = storage
        self.layout = layout
        self.p = p = SparseParams(inputs=inputs, outputs=outputs, weight_width=weight_width,
                                  acc_width=acc_width, depth=depth, act_width=act_width,
                                  banks=banks)
        if weights is not None:
            if not isinstance(weights, CSRMatrix):
                raise TypeError(f"weights must be a CSRMatrix, not {weights!r}")
            weights.check(p)
        self.weights = weights
        check_layout(layout, storage, p, weights)
        members = {
            "events": In(stream.Signature(event_layout(p))),
            "results": Out(stream.Signature(result_layout(p))),
        }
        if layout == "dense":
            members["weight_write"] = In(write_signature(p.addr_width + p.index_width,
                                                         signed(p.weight_width)))
        elif weights is None:
            members["ptr_write"] = In(write_signature(p.ptr_addr_width, unsigned(p.ptr_width)))
            members["syn_write"] = In(write_signature(p.syn_addr_width, synapse_layout(p)))
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        p = self.p

        # -- memories ---------------------------------------------------------------------------
        # At least two entries each: a one-entry memory would have a zero-width address.
        w = self.weights
        ptr_init: list[int] = [] if w is None else [int(v) for v in w.row_ptr]
        syn_init: list[dict[str, int]] = [] if w is None else [
            {"weight": int(v), "col": int(c)} for v, c in zip(w.weight, w.col)]
        latches = self.storage == "latch"
        if (w is not None or not latches) and self.layout == "csr":
            m.submodules.row_ptr = ptr_mem = memory.Memory(
                shape=unsigned(p.ptr_width), depth=p.inputs + 1, init=ptr_init)
        acc_rd, acc_wr = [], []
        for i in range(p.banks):
            name = f"acc{i}" if p.banks > 1 else "acc"
            if latches:
                m.submodules[name] = acc_mem = LatchFile(shape=signed(p.acc_width),
                                                         depth=max(2, p.outputs))
                acc_rd.append(_LatchReadPort(acc_mem))
                acc_wr.append(_LatchWritePort(acc_mem))
                continue
            acc_mem = memory.Memory(shape=signed(p.acc_width), depth=max(2, p.outputs), init=[])
            m.submodules[name] = acc_mem
            acc_rd.append(acc_mem.read_port(domain="comb"))
            acc_wr.append(acc_mem.write_port())

        dense = self.layout == "dense"
        if dense:
            # Every weight in its place; a row is read whole, and the walker finds its non-zero
            # weights (no column indices, no row pointers).
            m.submodules.weights = rows = WeightRows(shape=signed(p.weight_width),
                                                     rows=p.inputs, cols=p.outputs)
            wr = self.weight_write
            m.d.comb += [
                rows.write_en.eq(wr.en),
                rows.write_row.eq(wr.addr[p.index_width:]),
                rows.write_col.eq(wr.addr[:p.index_width]),
                rows.write_data.eq(wr.data),
            ]
        elif w is None and latches:
            # Row pointers in latches, read in stage F at the event's address registered at
            # acceptance: a pointer written in the cycle of the acceptance is there by then,
            # as with the transparent read ports of the flip-flop memory.
            m.submodules.row_ptr = ptr_mem = LatchFile(shape=unsigned(p.ptr_width),
                                                       depth=p.inputs + 1, reads=2)
            ptr_wr = _LatchWritePort(ptr_mem)
            start_rd = _PointerReadPort(ptr_mem.read_data, p.addr_width)
            end_rd = _PointerReadPort(ptr_mem.read2_data, p.addr_width)
            f_addr = Signal(unsigned(p.addr_width))
            with m.If(start_rd.en):
                m.d.sync += f_addr.eq(start_rd.addr)
            m.d.comb += [ptr_mem.read_addr.eq(f_addr), ptr_mem.read2_addr.eq(f_addr + 1)]
            # Several synapses to a latch word (one clock gate per word); the read port is
            # registered and transparent for a write to the entry being read.
            m.submodules.synapses = syn_mem = SynapseMemory(shape=synapse_layout(p),
                                                            depth=max(2, p.depth))
            syn_wr = _LatchWritePort(syn_mem)
            syn_rd = _SynapseReadPort(syn_mem)
        elif w is None:
            m.submodules.synapses = syn_mem = memory.Memory(
                shape=synapse_layout(p), depth=max(2, p.depth), init=syn_init)
            ptr_wr = ptr_mem.write_port()
            # Transparent reads: an event accepted in the cycle of a write sees the new contents.
            start_rd = ptr_mem.read_port(transparent_for=(ptr_wr,))
            end_rd = ptr_mem.read_port(transparent_for=(ptr_wr,))
            syn_wr = syn_mem.write_port()
            syn_rd = syn_mem.read_port(transparent_for=(syn_wr,))
        else:  # ROMs: the same synchronous reads, no write port
            m.submodules.synapses = syn_mem = memory.Memory(
                shape=synapse_layout(p), depth=max(2, p.depth), init=syn_init)
            start_rd = ptr_mem.read_port()
            end_rd = ptr_mem.read_port()
            syn_rd = syn_mem.read_port()
        if w is None and not dense:  # host-written memories, flip-flops or latches: the strobes
            m.d.comb += [
                ptr_wr.en.eq(self.ptr_write.en),
                ptr_wr.addr.eq(self.ptr_write.addr),
                ptr_wr.data.eq(self.ptr_write.data),
                syn_wr.en.eq(self.syn_write.en),
                syn_wr.addr.eq(self.syn_write.addr),
                syn_wr.data.eq(self.syn_write.data),
            ]

        # -- control state ----------------------------------------------------------------------
        clearing = Signal(init=1)      # reset sweep over the accumulators
        draining = Signal()            # sending accumulators after an end marker
        bank = Signal()                # the bank accumulating (two banks)
        drain_bank = Signal()          # the bank draining (two banks)
        # With one bank, accumulation and drain share the bank: no event while draining.
        shared_busy = draining if p.banks == 1 else Const(0, 1)
        index = Signal(unsigned(p.index_width))
        index_last = index == p.outputs - 1

        f_valid = Signal()             # an event whose row pointers are being read
        f_end = Signal()
        f_inrange = Signal()
        busy = Signal()                # walking a row
        ptr = Signal(unsigned(p.ptr_width))
        row_end = Signal(unsigned(p.ptr_width))
        s_valid = Signal()             # a synapse read is arriving

        # -- stage E: accept an event, read its row pointers ------------------------------------
        f_done = Signal()
        accept = Signal()
        event = self.events.payload
        m.d.comb += [
            # A marker waits for the previous drain (with one bank there is none: no event is
            # accepted while draining).
            f_done.eq(f_valid & ~busy & ~(f_end & draining)),
            self.events.ready.eq(~clearing & ~shared_busy & ~(f_valid & f_end)
                                 & (~f_valid | f_done)),
            accept.eq(self.events.valid & self.events.ready),
            *([] if dense else [
                start_rd.addr.eq(event.addr),
                end_rd.addr.eq(event.addr + 1),
                start_rd.en.eq(accept),
                end_rd.en.eq(accept),
            ]),
        ]
        if p.act_width > 1:
            f_value = Signal(unsigned(p.act_width))
            w_value = Signal(unsigned(p.act_width))
            s_value = Signal(unsigned(p.act_width))
        with m.If(f_done):
            m.d.sync += f_valid.eq(0)
        with m.If(accept):
            m.d.sync += [
                f_valid.eq(1),
                f_end.eq(event.end),
                f_inrange.eq(event.addr < p.inputs),
            ]
            if p.act_width > 1:
                m.d.sync += f_value.eq(event.value)
        if dense:
            f_addr = Signal(unsigned(p.addr_width))
            with m.If(accept):
                m.d.sync += f_addr.eq(event.addr)

        # -- stage F: walk the row, one synapse read per cycle -----------------------------------
        f_row = Signal()
        issue = Signal()
        if dense:
            syn_data = self._dense_walker(m, rows, f_addr, f_done, f_end, f_inrange, busy,
                                          f_row, issue)
            if p.act_width > 1:
                with m.If(f_row):
                    m.d.sync += w_value.eq(f_value)
        else:
            row_start = start_rd.data
            row_stop = end_rd.data
            m.d.comb += f_row.eq(f_done & ~f_end & f_inrange & (row_start < row_stop))
            # Combinational logic is written as plain expressions (no comb assignments under
            # m.If), so every simulator evaluates it from time 0 on.
            issue_addr = Signal(unsigned(p.ptr_width))
            m.d.comb += [issue.eq(busy | f_row), issue_addr.eq(Mux(busy, ptr, row_start))]
            with m.If(busy):
                m.d.sync += ptr.eq(ptr + 1)
                with m.If(ptr + 1 == row_end):
                    m.d.sync += busy.eq(0)
            with m.Elif(f_row):
                m.d.sync += [
                    ptr.eq(row_start + 1),
                    row_end.eq(row_stop),
                    busy.eq(row_start + 1 != row_stop),
                ]
                if p.act_width > 1:
                    m.d.sync += w_value.eq(f_value)
        with m.If(f_done & f_end):
            m.d.sync += [draining.eq(1), index.eq(0)]
            if p.banks > 1:
                m.d.sync += [drain_bank.eq(bank), bank.eq(~bank)]
        if not dense:
            m.d.comb += [syn_rd.addr.eq(issue_addr), syn_rd.en.eq(issue)]
        m.d.sync += s_valid.eq(issue)
        if p.act_width > 1:
            m.d.sync += s_value.eq(Mux(busy, w_value, f_value))

        # -- stage S: accumulate with saturation -------------------------------------------------
        synapse = syn_data if dense else syn_rd.data
        out_valid = self.results.valid
        out_free = Signal()
        sweep = Signal()               # clearing, or draining into a free output register
        m.d.comb += [
            out_free.eq(~out_valid | self.results.ready),
            sweep.eq(clearing | (draining & out_free)),
        ]
        if p.banks == 1:
            acc_data, drain_data = acc_rd[0].data, acc_rd[0].data
        else:
            acc_data = Mux(bank, acc_rd[1].data, acc_rd[0].data)
            drain_data = Mux(drain_bank, acc_rd[1].data, acc_rd[0].data)
        product = synapse.weight * s_value if p.act_width > 1 else synapse.weight
        total = acc_data + product
        saturated = Signal(signed(p.acc_width))
        m.d.comb += saturated.eq(Mux(total > p.acc_max, p.acc_max,
                                     Mux(total < p.acc_min, p.acc_min, total)))
        for i in range(p.banks):
            # Bank i is swept (cleared or drained) or accumulates; with two banks, the bank
            # accumulating is never the bank draining.
            swept = Signal(name=f"swept{i}")
            accumulating = Signal(name=f"accumulating{i}")
            m.d.comb += [
                swept.eq(clearing | (draining & (drain_bank == i))),
                accumulating.eq(~clearing & (bank == i) & ~shared_busy),
                acc_rd[i].addr.eq(Mux(swept, index, synapse.col)),
                acc_wr[i].en.eq((swept & (clearing | out_free)) | (accumulating & s_valid)),
                acc_wr[i].addr.eq(Mux(swept, index, synapse.col)),
                acc_wr[i].data.eq(Mux(swept, 0, saturated)),
            ]
        with m.If(sweep):
            m.d.sync += index.eq(Mux(index_last, 0, index + 1))
            with m.If(index_last):
                m.d.sync += [clearing.eq(0), draining.eq(0)]
        with m.If(draining & out_free):
            m.d.sync += [
                out_valid.eq(1),
                self.results.payload.value.eq(drain_data),
                self.results.payload.index.eq(index),
                self.results.payload.last.eq(index_last),
            ]
        with m.Elif(self.results.ready):
            m.d.sync += out_valid.eq(0)
        return m

    def _dense_walker(self, m: Module, rows: WeightRows, f_addr: Signal, f_done: Signal,
                      f_end: Signal, f_inrange: Signal, busy: Signal, f_row: Signal,
                      issue: Signal) -> Signal:
        """Stage F of the dense layout: read the event's row whole and issue its non-zero
        weights in column order, one per cycle; returns the registered synapse for stage S."""
        p = self.p
        ww = p.weight_width
        cur_row = Signal(unsigned(p.addr_width))
        remaining = Signal(p.outputs)  # the walked row's non-zero weights not issued yet
        nonzero = Signal(p.outputs)
        cand = Signal(p.outputs)
        first = Signal(p.outputs)
        row = rows.row_data
        weights = [row[c * ww:(c + 1) * ww] for c in range(p.outputs)]
        m.d.comb += [
            busy.eq(remaining.any()),
            rows.row_addr.eq(Mux(busy, cur_row, f_addr)),
            nonzero.eq(Cat(*(wc.any() for wc in weights))),
            f_row.eq(f_done & ~f_end & f_inrange & nonzero.any()),
            issue.eq(busy | f_row),
            cand.eq(Mux(busy, remaining, nonzero)),
            first.eq(cand & (~cand + 1)),  # the lowest column still to issue, one-hot
        ]
        col = Cat(*(_any([first[c] for c in range(p.outputs) if (c >> b) & 1])
                    for b in range(p.index_width)))
        weight = _any([wc & first[c].replicate(ww) for c, wc in enumerate(weights)])
        syn_data = Signal(synapse_layout(p))
        with m.If(issue):
            m.d.sync += [remaining.eq(cand & ~first), syn_data.col.eq(col),
                         syn_data.weight.eq(weight)]
        with m.If(f_row):
            m.d.sync += cur_row.eq(f_addr)
        return syn_data


def _any(terms: list) -> Value:
    """The OR of ``terms`` (0 when there are none), as a balanced tree."""
    terms = list(terms) or [Const(0, 1)]
    while len(terms) > 1:
        terms = [terms[j] | terms[j + 1] if j + 1 < len(terms) else terms[j]
                 for j in range(0, len(terms), 2)]
    return Value.cast(terms[0])


# -- latch memories behind memory-port-like names ----------------------------------------------

class _LatchWritePort:
    """``en``/``addr``/``data`` of a latch memory's write side."""

    def __init__(self, mem: LatchFile | SynapseMemory) -> None:
        self.en, self.addr, self.data = mem.write_en, mem.write_addr, mem.write_data


class _LatchReadPort:
    """``addr``/``data`` of a :class:`LatchFile`'s (combinational) read side."""

    def __init__(self, mem: LatchFile) -> None:
        self.addr, self.data = mem.read_addr, mem.read_data


class _PointerReadPort:
    """A row-pointer read port: ``addr`` and ``en`` as the owner sets them, ``data`` a latch
    file's read data (the owner registers the address)."""

    def __init__(self, data, addr_width: int) -> None:
        self.addr, self.en, self.data = Signal(addr_width + 1), Signal(), data


class _SynapseReadPort:
    """``addr``/``en``/``data`` of a :class:`SynapseMemory`'s registered read port."""

    def __init__(self, mem: SynapseMemory) -> None:
        self.addr, self.en, self.data = mem.read_addr, mem.read_en, mem.read_data
