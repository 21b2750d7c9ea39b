# SPDX-License-Identifier: Apache-2.0
"""Tape-out adapter of the event-driven sparse synapse tile
(:class:`neurotile.rtl.sparse_matmul.SparseMatmul`).

Registers: the CSR weight memories are loaded through address/data pairs (``PTR_ADDR`` +
``PTR_DATA``, ``SYN_ADDR`` + ``SYN_DATA``; each data write is one memory write), or, with the
dense layout, weight by weight (``WEIGHT_ROW`` + ``WEIGHT_COL``, then ``WEIGHT_DATA`` writes
``W[row, col]``); ``EVENT`` pushes one input event (an address, or the end-of-timestep marker
with bit ``END``); after the marker the tile offers its accumulators one at a time in
``RESULT``/``RESULT_INDEX``/``RESULT_INFO`` and a write to ``POP`` moves on to the next.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from amaranth.hdl import Cat, Module

from neurotile.neurons.spec import Param
from neurotile.neurons.synapses import CSRMatrix, SparseParams, random_weights, sparse_matvec
from neurotile.rtl.sparse_matmul import LAYOUTS, STORAGES, SparseMatmul, check_layout
from neurotile.tapeout.adapters import TAPEOUT_STORAGE, BlockText, TapeoutAdapter
from neurotile.tapeout.host import Register, RegisterMap
from neurotile.tapeout.vectors import Script

__all__ = ["ADAPTER", "layout_ident", "sparse_regmap", "weight_registers", "write_weights",
           "resolve_layout", "LAYOUT"]

ADAPTER_ID = 0x53
#: Depth of the CSR weight memory unless ``--depth`` says otherwise.
CSR_DEPTH = 16
_STRUCTURAL = ("inputs", "outputs", "weight_width", "acc_width", "depth", "act_width", "banks")


#: ``--layout`` of the blocks built around the tile (the catalogue's option, same choices).
LAYOUT = Param("layout", str, "csr", "weight layout: csr (non-zero weights with their column, "
               "row pointers) or dense (every weight in its place, written by row and column; "
               "needs --storage latch; --depth defaults to inputs x outputs; docs/sparse.md)",
               choices=LAYOUTS)


def _params(params: dict[str, Any]) -> SparseParams:
    return SparseParams(**{k: params[k] for k in _STRUCTURAL if params.get(k) is not None})


def _dense(params: dict[str, Any]) -> bool:
    return (params.get("layout") or "csr") == "dense"


def layout_ident(ident: int, params: dict[str, Any]) -> int:
    """The identification byte of a project: ``ident`` (an upper-case letter) with the CSR
    layout, its lower-case letter with the dense one, whose weight registers differ, so a host
    can tell the two register maps apart."""
    return ident | 0x20 if _dense(params) else ident


def resolve_layout(params: dict[str, Any], outputs: str, csr_depth: int) -> dict[str, Any]:
    """``params`` with ``layout`` and ``depth`` filled in (an unset depth is ``csr_depth``, or
    the whole matrix, ``inputs`` x ``params[outputs]``, with the dense layout), checked against
    the storage (``TypeError``/``ValueError``)."""
    layout = params.get("layout") or "csr"
    if params.get("depth") is None:
        depth = csr_depth
        if layout == "dense":  # the whole matrix (SparseParams reports bad sizes themselves)
            inputs, cols = params.get("inputs"), params.get(outputs)
            if isinstance(inputs, int) and isinstance(cols, int) and inputs > 0 and cols > 0:
                depth = inputs * cols
        params = params | {"depth": depth}
    sp = SparseParams(inputs=params["inputs"], outputs=params[outputs],
                      weight_width=params["weight_width"], depth=params["depth"])
    check_layout(layout, params.get("storage") or TAPEOUT_STORAGE, sp)
    return params | {"layout": layout}


def weight_registers(p: SparseParams, column: str) -> tuple[Register, ...]:
    """The dense layout's weight registers: row and column, then the weight, which the write
    of its (most significant) byte stores at ``W[WEIGHT_ROW, WEIGHT_COL]``."""
    return (
        Register("WEIGHT_ROW", "config", p.addr_width, "input row (address) of the weights "
                 "WEIGHT_DATA writes"),
        Register("WEIGHT_COL", "config", p.index_width, f"{column} of the weights WEIGHT_DATA "
                 "writes"),
        Register("WEIGHT_DATA", "push", p.weight_width, "writes W[WEIGHT_ROW, WEIGHT_COL], a "
                 "signed weight (0: no synapse)", signed=True),
    )


def write_weights(s: Script, w: np.ndarray, rows: range | None = None) -> None:
    """Host writes that program every weight of ``w`` (rows ``rows``, default all) into a
    dense tile: zeros too, since the latches hold whatever they held before."""
    for a in rows if rows is not None else range(w.shape[0]):
        s.write("WEIGHT_ROW", a)
        for c in range(w.shape[1]):
            s.write("WEIGHT_COL", c)
            s.write("WEIGHT_DATA", int(w[a, c]))


def _event_bits(p: SparseParams) -> int:
    return p.addr_width + (p.act_width if p.act_width > 1 else 0) + 1


def _event(p: SparseParams, addr: int = 0, value: int = 1, end: bool = False) -> int:
    word = addr
    shift = p.addr_width
    if p.act_width > 1:
        word |= value << shift
        shift += p.act_width
    return word | (int(end) << shift)


def sparse_regmap(params: dict[str, Any]) -> RegisterMap:
    """The sparse tile's registers for ``params``."""
    p = _params(params)
    ident = layout_ident(ADAPTER_ID, params)
    end_bit = _event_bits(p) - 1
    value_doc = (f", bits {p.addr_width + p.act_width - 1}..{p.addr_width} activation"
                 if p.act_width > 1 else "")
    weights = weight_registers(p, "output column") if _dense(params) else (
        Register("PTR_ADDR", "config", p.ptr_addr_width, "row-pointer memory address (input row)"),
        Register("PTR_DATA", "push", p.ptr_width, "writes row_ptr[PTR_ADDR]"),
        Register("SYN_ADDR", "config", p.syn_addr_width, "weight memory address"),
        Register("SYN_DATA", "push", p.weight_width + p.index_width,
                 f"writes synapse SYN_ADDR: bits {p.weight_width - 1}..0 signed weight, bits "
                 f"{p.weight_width + p.index_width - 1}..{p.weight_width} output column"),
    )
    return RegisterMap((
        Register("ID", "const", 8, f"identification byte (0x{ident:02X}, '{chr(ident)}')",
                 reset=ident),
        *weights,
        Register("EVENT", "push", _event_bits(p),
                 f"one input event: bits {p.addr_width - 1}..0 input address{value_doc}, bit "
                 f"{end_bit} END (closes the timestep)"),
        Register("POP", "push", 1, "write anything: move on to the next result"),
        Register("RESULT", "status", p.acc_width, "accumulator on offer", signed=True),
        Register("RESULT_INDEX", "status", p.index_width, "its output index"),
        Register("RESULT_INFO", "status", 2, "bit 0 a result is on offer, bit 1 it is the "
                                            "last of the timestep"),
    ), event="a result is on offer")


def _build(params: dict[str, Any]) -> SparseMatmul:
    options = {"layout": "dense"} if _dense(params) else {}
    return SparseMatmul(**_params(params).structural(),
                        storage=params.get("storage") or TAPEOUT_STORAGE, **options)


def tile_wiring(core: Any, host: Any) -> list:
    """The host's weight registers (pointer and synapse, or, with the dense layout, row, column
    and weight) and event register wired to a tile's ports.

    Shared by every block built around :class:`SparseMatmul` (the tile and the spiking layer).
    """
    events = [
        core.events.valid.eq(host.event.valid),
        core.events.payload.eq(host.event.payload),
        host.event.ready.eq(core.events.ready),
    ]
    if core.layout == "dense":
        return [
            core.weight_write.en.eq(host.weight_data.valid),
            core.weight_write.addr.eq(Cat(host.weight_col, host.weight_row)),
            core.weight_write.data.eq(host.weight_data.payload),
            host.weight_data.ready.eq(1),
            *events,
        ]
    return [
        core.ptr_write.en.eq(host.ptr_data.valid),
        core.ptr_write.addr.eq(host.ptr_addr),
        core.ptr_write.data.eq(host.ptr_data.payload),
        host.ptr_data.ready.eq(1),
        core.syn_write.en.eq(host.syn_data.valid),
        core.syn_write.addr.eq(host.syn_addr),
        core.syn_write.data.eq(host.syn_data.payload),
        host.syn_data.ready.eq(1),
        *events,
    ]


def _connect(m: Module, core: SparseMatmul, host: Any, params: dict[str, Any]) -> None:
    res = core.results
    m.d.comb += tile_wiring(core, host)
    m.d.comb += [
        res.ready.eq(host.pop.valid),
        host.pop.ready.eq(res.valid),
        host.result.eq(res.payload.value),
        host.result_index.eq(res.payload.index),
        host.result_info.eq(res.valid | ((res.valid & res.payload.last) << 1)),
        # Working and not waiting for the host: not ready for events, no result on offer.
        host.block_busy.eq(~core.events.ready & ~res.valid),
        host.block_event.eq(res.valid),
    ]


def _vectors(params: dict[str, Any], regmap: RegisterMap, seed: int, steps: int) -> Script:
    p = _params(params)
    rng = np.random.default_rng(seed)
    s = Script(regmap)
    s.wait_idle()
    s.expect("ID", layout_ident(ADAPTER_ID, params), "ID after reset")
    s.expect("RESULT_INFO", 0, "no result after reset")

    # A random matrix whose weight (0, 0) is the largest, so repeated events of input 0 saturate.
    w = random_weights(p, 0.5, rng).to_dense()
    w[0, 0] = p.weight_max
    nonzero = np.flatnonzero(w)
    if len(nonzero) > p.depth:
        w.flat[nonzero[-1]] = 0
    csr = CSRMatrix.from_dense(w)
    dense = _dense(params)
    if dense:
        write_weights(s, w)
        s.expect("WEIGHT_ROW", p.inputs - 1, "WEIGHT_ROW read back")
        s.expect("WEIGHT_COL", p.outputs - 1, "WEIGHT_COL read back")
    else:
        for a, ptr in enumerate(csr.row_ptr):
            s.write("PTR_ADDR", a)
            s.write("PTR_DATA", int(ptr))
        for k in range(csr.nnz):
            s.write("SYN_ADDR", k)
            s.write("SYN_DATA", (int(csr.weight[k]) & ((1 << p.weight_width) - 1))
                    | (int(csr.col[k]) << p.weight_width))
        s.expect("SYN_ADDR", csr.nnz - 1 if csr.nnz else 0, "SYN_ADDR read back")

    plan: list[list[tuple[int, int]]] = []
    repeats = (p.acc_max // max(1, p.weight_max)) + 2
    plan.append([(0, p.act_max)] * repeats)                    # saturate by repeated events
    plan.append([])                                            # an empty timestep
    plan.append([(a, p.act_max) for a in range(p.inputs)])     # every input once
    while len(plan) < steps:
        spikes = rng.random(p.inputs) < 0.4
        values = rng.integers(1, p.act_max + 1, p.inputs)
        plan.append([(int(a), int(values[a]) if p.act_width > 1 else 1)
                     for a in np.flatnonzero(spikes)])
    for t, events in enumerate(plan[:steps]):
        if dense and t == max(3, steps // 2):
            # Reprogram input 0's row: new weights where there were none, zeros where there
            # were some (a zero must silence its synapse).
            w[0] = np.where(w[0] == 0, rng.integers(p.weight_min, p.weight_max + 1, p.outputs), 0)
            write_weights(s, w, range(1))
            csr = CSRMatrix.from_dense(w)
        for a, x in events:
            s.write("EVENT", _event(p, a, x))
            s.wait_idle()
        s.write("EVENT", _event(p, end=True))
        s.wait_idle()
        acc, _ = sparse_matvec(csr, events, p)
        for j in range(p.outputs):
            where = f"step {t} output {j}"
            s.expect("RESULT_INFO", 1 | (int(j == p.outputs - 1) << 1), f"{where} info")
            s.expect("RESULT_INDEX", j, f"{where} index")
            s.expect("RESULT", int(acc[j]), f"{where} value")
            s.write("POP", 1)
            s.wait_idle()
        s.expect("RESULT_INFO", 0, f"step {t} all results taken")
    return s


def _describe(params: dict[str, Any], regmap: RegisterMap) -> BlockText:
    p = _params(params)
    act = ("binary spikes (each event adds the weight once)" if p.act_width == 1
           else f"{p.act_width}-bit activations (each event adds weight x activation)")
    a = regmap.address
    dense = _dense(params)
    stored = ("stored dense (every weight of the matrix in its place in Sky130 latches,\nno "
              "column index, no row pointer, a whole input row read at once)" if dense
              else f"stored compressed by input row (CSR: a row-pointer memory of\n"
              f"{p.inputs + 1} entries and a weight memory of up to {p.depth} non-zero weights, "
              "each with its\noutput column)")
    how = f"""\
An event-driven sparse synapse tile: `y = W^T s` for a {p.inputs} x {p.outputs} weight matrix `W`
of {p.weight_width}-bit signed weights, {stored}. Inputs arrive as events -- the address of an \
input that spiked -- with {act}. For
each event the tile walks only that input's non-zero weights, one per clock cycle, and adds each to
its output's {p.acc_width}-bit accumulator, saturating after every addition
({p.acc_min}..{p.acc_max}). Silent inputs and zero weights cost nothing.

An event with the END bit closes the timestep: the tile then offers the {p.outputs} accumulators in
index order, one at a time, and clears them. The arithmetic is exactly neurotile's reference
(`sparse_matvec`); the test in `test/` checks every accumulator against it.
"""
    load = _load_step(p, regmap, 3) if dense else f"""\
3. Load the weights: for each row pointer write `PTR_ADDR` (0x{a('PTR_ADDR'):02X}) then `PTR_DATA`
   (0x{a('PTR_DATA'):02X}); for each non-zero weight write `SYN_ADDR` (0x{a('SYN_ADDR'):02X}) then
   `SYN_DATA` (0x{a('SYN_DATA'):02X}, low byte first).
"""
    test = f"""\
1. Reset the design and wait until `busy` is low (the accumulators are cleared).
2. Read `ID` (0x00): it must be 0x{layout_ident(ADAPTER_ID, params):02X}.
{load}\
4. For each input that spikes in a timestep write its address to `EVENT` (0x{a('EVENT'):02X}) and
   wait for `busy` to fall; then write the END marker.
5. Read `RESULT` (0x{a('RESULT'):02X}, two's complement), `RESULT_INDEX` and `RESULT_INFO`, write
   `POP` (0x{a('POP'):02X}), wait for `busy` to fall; repeat {p.outputs} times (bit 1 of
   `RESULT_INFO` marks the last).
"""
    return BlockText(
        title=f"neurotile sparse synapse tile ({p.inputs}x{p.outputs})",
        description=(f"Event-driven sparse {p.inputs}x{p.outputs} matrix-vector unit "
                     f"({'dense latch' if dense else 'CSR'}, {p.weight_width}-bit weights) with a "
                     "byte-wide register interface"),
        how_it_works=how,
        how_to_test=test,
    )


def _load_step(p: SparseParams, regmap: RegisterMap, n: int) -> str:
    """The "load the weights" step of How to test for the dense layout, numbered ``n``."""
    a = regmap.address
    return f"""\
{n}. Load the weights, every one of the {p.inputs} x {p.outputs} (zeros too: the latches hold
   anything after power-up): for each input row `r` write `r` to `WEIGHT_ROW`
   (0x{a('WEIGHT_ROW'):02X}), then for each column `c` write `c` to `WEIGHT_COL`
   (0x{a('WEIGHT_COL'):02X}) and the weight `W[r, c]` to `WEIGHT_DATA` (0x{a('WEIGHT_DATA'):02X},
   two's complement{', low byte first' if p.weight_width > 8 else ''}). A single weight can be
   changed the same way between timesteps.
"""


def _resolve(params: dict[str, Any]) -> dict[str, Any]:
    params = resolve_layout(params, "outputs", CSR_DEPTH)
    p = _params(params)
    return params | p.structural()


ADAPTER = TapeoutAdapter(
    block="sparse-matmul",
    summary="sparse synapse tile behind a byte-wide register interface",
    ident=ADAPTER_ID,
    params=(
        Param("inputs", int, 8, "input rows"),
        Param("outputs", int, 8, "output columns (accumulators)"),
        Param("weight_width", int, 8, "signed weight bits"),
        Param("acc_width", int, 12, "signed accumulator bits"),
        Param("depth", int, None, f"non-zero weights the weight memory holds (default: "
              f"{CSR_DEPTH}; with --layout dense inputs x outputs, every weight)"),
        Param("act_width", int, 1, "activation bits per event (1: binary spikes)"),
        Param("banks", int, 1, "accumulator banks: 2 accumulates a step while the previous "
              "one drains (more area)"),
        Param("storage", str, TAPEOUT_STORAGE, "synapse memory and accumulators: latch (Sky130 "
              "latches and clock gates, the default here) or memory (flip-flops); see "
              "docs/latches.md", choices=STORAGES),
        LAYOUT,
    ),
    regmap=sparse_regmap,
    build_core=_build,
    connect=_connect,
    vectors=_vectors,
    describe=_describe,
    resolve=_resolve,
    test_steps=10,
)
