# SPDX-License-Identifier: Apache-2.0
"""Tape-out adapter of the spiking layer (:class:`neurotile.rtl.spiking_layer.SpikingLayer`).

Registers: the neurons' run-time settings (``THRESHOLD``, ``LEAK``, ``REFRACTORY``), the CSR
weight loading of the sparse tile (``PTR_ADDR``/``PTR_DATA``, ``SYN_ADDR``/``SYN_DATA``; with the
dense layout ``WEIGHT_ROW``/``WEIGHT_COL``/``WEIGHT_DATA``, one weight ``W[row, neuron]`` per
write), input events (``EVENT``), and the output spike events, one at a time: ``SPIKE_OUT``
(neuron address and END bit), ``SPIKE_INFO`` (bit 0: an event is on offer) and ``POP`` to move
on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from amaranth.hdl import Module, Signal

from neurotile.neurons.spec import Param
from neurotile.neurons.lif import LIFIntParams, LIFIntState
from neurotile.neurons.synapses import CSRMatrix, random_weights, spiking_layer_step
from neurotile.rtl.sparse_matmul import STORAGES
from neurotile.rtl.spiking_layer import SpikingLayer, layer_params
from neurotile.tapeout.adapters import TAPEOUT_STORAGE, BlockText, TapeoutAdapter
from neurotile.tapeout.host import Register, RegisterMap
from neurotile.tapeout.sparse_matmul import (LAYOUT, _dense, _event, _event_bits, _load_step,
                                             layout_ident, resolve_layout, tile_wiring,
                                             weight_registers, write_weights)
from neurotile.tapeout.vectors import Script

__all__ = ["ADAPTER", "layer_regmap"]

ADAPTER_ID = 0x59
#: Depth of the CSR weight memory unless ``--depth`` says otherwise.
CSR_DEPTH = 12
#: The neurons' structural parameters the layer passes on (the input width is ``acc_width``).
_NEURON = tuple(p for p in LIFIntParams.PARAMS if p.name != "input_width")
_STRUCTURAL = ("inputs", "neurons", "weight_width", "acc_width", "depth", "act_width",
               "banks") + tuple(
    p.name for p in _NEURON)
_RUNTIME = tuple(s.name for s in LIFIntParams.SETTINGS)


def _params(params: dict[str, Any]):
    sp, lp = layer_params(**{k: params[k] for k in _STRUCTURAL if params.get(k) is not None})
    runtime = {k: params[k] for k in _RUNTIME if params.get(k) is not None}
    return sp, lp.with_runtime(**runtime) if runtime else lp


def layer_regmap(params: dict[str, Any]) -> RegisterMap:
    """The spiking layer's registers for ``params``."""
    sp, lp = _params(params)
    out_addr_bits = max(1, (lp.neurons - 1).bit_length())
    ident = layout_ident(ADAPTER_ID, params)
    regs = [Register("ID", "const", 8, f"identification byte (0x{ident:02X}, '{chr(ident)}')",
                     reset=ident)]
    regs += [Register(st.name.upper(), "config", st.field(lp).width, f"neurons: {st.help}",
                      reset=getattr(lp, st.name)) for st in lp.ports()]
    if _dense(params):
        regs += weight_registers(sp, "neuron (column)")
    else:
        regs += [
            Register("PTR_ADDR", "config", sp.ptr_addr_width, "row-pointer memory address"),
            Register("PTR_DATA", "push", sp.ptr_width, "writes row_ptr[PTR_ADDR]"),
            Register("SYN_ADDR", "config", sp.syn_addr_width, "weight memory address"),
            Register("SYN_DATA", "push", sp.weight_width + sp.index_width,
                     f"writes synapse SYN_ADDR: bits {sp.weight_width - 1}..0 signed weight, "
                     f"then the neuron index"),
        ]
    regs += [
        Register("EVENT", "push", _event_bits(sp),
                 f"one input event: bits {sp.addr_width - 1}..0 input address"
                 + (f", then a {sp.act_width}-bit activation" if sp.act_width > 1 else "")
                 + f", bit {_event_bits(sp) - 1} END (closes the timestep)"),
        Register("SPIKE_OUT", "status", out_addr_bits + 1,
                 f"output event on offer: bits {out_addr_bits - 1}..0 neuron that fired, bit "
                 f"{out_addr_bits} END of the timestep"),
        Register("SPIKE_INFO", "status", 1, "bit 0: an output event is on offer"),
        Register("POP", "push", 1, "write anything: move on to the next output event"),
    ]
    return RegisterMap(tuple(regs), event="an output event is on offer")


def _build(params: dict[str, Any]) -> SpikingLayer:
    options = {"layout": "dense"} if _dense(params) else {}
    return SpikingLayer(**{k: params[k] for k in _STRUCTURAL},
                        storage=params.get("storage") or TAPEOUT_STORAGE, **options)


def _connect(m: Module, core: SpikingLayer, host: Any, params: dict[str, Any]) -> None:
    out = core.spikes
    end_accepted = core.events.valid & core.events.ready & core.events.payload.end
    end_taken = out.valid & out.ready & out.payload.end
    step_open = Signal()   # from an END event until the output's END has been taken
    with m.If(end_accepted):
        m.d.sync += step_open.eq(1)
    with m.Elif(end_taken):
        m.d.sync += step_open.eq(0)
    for setting in core.lp.ports():
        m.d.comb += getattr(core, setting.name).eq(getattr(host, setting.name))
    m.d.comb += [
        *tile_wiring(core, host),
        out.ready.eq(host.pop.valid),
        host.pop.ready.eq(out.valid),
        host.spike_out.eq(out.payload),
        host.spike_info.eq(out.valid),
        host.block_busy.eq((~core.events.ready | step_open) & ~out.valid),
        host.block_event.eq(out.valid & ~out.payload.end),
    ]


def _vectors(params: dict[str, Any], regmap: RegisterMap, seed: int, steps: int) -> Script:
    sp, lp = _params(params)
    rng = np.random.default_rng(seed)
    out_addr_bits = max(1, (lp.neurons - 1).bit_length())
    s = Script(regmap)
    s.wait_idle()
    s.expect("ID", layout_ident(ADAPTER_ID, params), "ID after reset")
    s.expect("THRESHOLD", lp.threshold, "THRESHOLD after reset")
    s.expect("SPIKE_INFO", 0, "no output event after reset")

    # Positive-leaning random weights, so that neurons fire.
    w = random_weights(sp, 0.5, rng, low=sp.weight_min // 4, high=sp.weight_max).to_dense()
    csr = CSRMatrix.from_dense(w)
    dense = _dense(params)
    if dense:
        write_weights(s, w)
    else:
        for a, ptr in enumerate(csr.row_ptr):
            s.write("PTR_ADDR", a)
            s.write("PTR_DATA", int(ptr))
        for k in range(csr.nnz):
            s.write("SYN_ADDR", k)
            s.write("SYN_DATA", (int(csr.weight[k]) & ((1 << sp.weight_width) - 1))
                    | (int(csr.col[k]) << sp.weight_width))

    state = LIFIntState.zeros(lp.neurons)
    threshold = lp.threshold
    for t in range(steps):
        if t == steps // 2 and steps > 1:   # a run-time change of the threshold
            threshold = int(rng.integers(0, lp.mem_max + 1)) // 2
            s.write("THRESHOLD", threshold)
            s.expect("THRESHOLD", threshold, f"step {t} THRESHOLD read back")
            if dense:  # and a reprogrammed row: every synapse of input 0 swapped on or off
                w[0] = np.where(w[0] == 0, rng.integers(1, sp.weight_max + 1, lp.neurons), 0)
                write_weights(s, w, range(1))
                csr = CSRMatrix.from_dense(w)
        spikes = rng.random(sp.inputs) < 0.5
        values = rng.integers(1, sp.act_max + 1, sp.inputs)
        events = [(int(a), int(values[a]) if sp.act_width > 1 else 1)
                  for a in np.flatnonzero(spikes)]
        for a, x in events:
            s.write("EVENT", _event(sp, a, x))
            s.wait_idle()
        s.write("EVENT", _event(sp, end=True))
        s.wait_idle()
        state, fired, _ = spiking_layer_step(state, csr, events, sp,
                                             lp.with_runtime(threshold=threshold))
        for i in np.flatnonzero(fired):
            s.expect("SPIKE_INFO", 1, f"step {t} output event for neuron {i} on offer")
            s.expect("SPIKE_OUT", int(i), f"step {t} output event: neuron {i}")
            s.write("POP", 1)
            s.wait_idle()
        s.expect("SPIKE_INFO", 1, f"step {t} END event on offer")
        s.expect("SPIKE_OUT", 1 << out_addr_bits, f"step {t} END event")
        s.write("POP", 1)
        s.wait_idle()
        s.expect("SPIKE_INFO", 0, f"step {t} all output events taken")
    return s


def _describe(params: dict[str, Any], regmap: RegisterMap) -> BlockText:
    sp, lp = _params(params)
    a = regmap.address
    dense = _dense(params)
    stored = ("stored dense in latches, every weight in its place" if dense else
              f"stored compressed by input row, up to {sp.depth} non-zero\nweights")
    how = f"""\
A spiking layer: an event-driven sparse synapse tile ({sp.inputs} inputs, {lp.neurons} outputs,
{sp.weight_width}-bit signed weights {stored}) feeding a population of {lp.neurons} leaky \
integrate-and-fire neurons ({lp.width}-bit
membranes). Each timestep takes the addresses of the inputs that spiked, walks only their
non-zero weights into {sp.acc_width}-bit saturating accumulators and, at the END event, hands the
accumulators to the neurons as input currents. The neurons leak, integrate, fire when the
membrane exceeds `THRESHOLD` (default {lp.threshold}) and reset by
{'subtracting the threshold' if lp.reset == 'subtract' else 'going to zero'}. The layer answers
with the addresses of the neurons that fired, then an END event, so layers can be chained.

The arithmetic is exactly neurotile's reference (`spiking_layer_step`); the test in `test/`
checks every output event against it.
"""
    load = _load_step(sp, regmap, 2) if dense else f"""\
2. Load the weights: `PTR_ADDR` (0x{a('PTR_ADDR'):02X}) then `PTR_DATA` (0x{a('PTR_DATA'):02X})
   for each of the {sp.inputs + 1} row pointers; `SYN_ADDR` (0x{a('SYN_ADDR'):02X}) then `SYN_DATA`
   (0x{a('SYN_DATA'):02X}, low byte first) for each non-zero weight.
"""
    ident = layout_ident(ADAPTER_ID, params)
    test = f"""\
1. Reset the design and wait until `busy` is low. Read `ID` (0x00): it must be 0x{ident:02X}.
{load}3. For each input that spikes write its address to `EVENT` (0x{a('EVENT'):02X}), waiting for
   `busy` to fall after each; then write the END event.
4. Wait for `busy` to fall, read `SPIKE_OUT` (0x{a('SPIKE_OUT'):02X}): a neuron that fired, or END;
   write `POP` (0x{a('POP'):02X}) and wait for `busy` to fall; repeat until END.
"""
    return BlockText(
        title=f"neurotile spiking layer ({sp.inputs} to {lp.neurons})",
        description=(f"Sparse synapses into {lp.neurons} LIF neurons, spike events in and out, "
                     "with a byte-wide register interface"),
        how_it_works=how,
        how_to_test=test,
    )


def _resolve(params: dict[str, Any]) -> dict[str, Any]:
    params = resolve_layout(params, "neurons", CSR_DEPTH)
    sp, lp = _params(params)
    return params | {k: getattr(lp, k) for k in _RUNTIME}


ADAPTER = TapeoutAdapter(
    block="spiking-layer",
    summary="sparse synapses into LIF neurons behind a byte-wide register interface",
    ident=ADAPTER_ID,
    params=(
        Param("inputs", int, 8, "input addresses"),
        Param("neurons", int, 8, "LIF neurons"),
        Param("weight_width", int, 6, "signed weight bits"),
        Param("acc_width", int, 8, "accumulator bits = neuron input bits"),
        Param("depth", int, None, f"non-zero weights the synapse memory holds (default: "
              f"{CSR_DEPTH}; with --layout dense inputs x neurons, every weight)"),
        Param("act_width", int, 1, "activation bits per event (1: binary spikes)"),
        Param("banks", int, 1, "accumulator banks: 2 accumulates a step while the previous "
              "one drains (more area)"),
        Param("storage", str, TAPEOUT_STORAGE, "synapse memory, accumulators and neuron "
              "state: latch (Sky130 latches and clock gates, the default here) or memory "
              "(flip-flops); see "
              "docs/latches.md", choices=STORAGES),
        LAYOUT,
        *_NEURON,
        *(Param(st.name, int, None, f"{st.name.upper()} after reset: {st.help} "
                "(default: derived)") for st in LIFIntParams.SETTINGS),
    ),
    regmap=layer_regmap,
    build_core=_build,
    connect=_connect,
    vectors=_vectors,
    describe=_describe,
    resolve=_resolve,
    test_steps=10,
)
