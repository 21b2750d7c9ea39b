# SPDX-License-Identifier: Apache-2.0
"""Tape-out adapter of the Hodgkin-Huxley neuron (:class:`neurotile.rtl.hodgkin_huxley.HHNeuron`).

Registers: the stimulus ``CURRENT`` (``config``, uA/cm^2 with 8 fraction bits); ``RUN``
(``push``): run that many forward-Euler steps, then stop; the state after the latest step:
``V`` and ``STATUS`` (bit 0: a step of the latest run spiked); with ``gate_readback`` also the gates
``M``, ``H``, ``N``. The runs are an :class:`~neurotile.rtl.hh_runner.HHRunner`; this module only
wires the registers to it and to the neuron.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from amaranth.hdl import Module
from amaranth.lib import wiring

from neurotile.neurons.spec import Param
from neurotile.neurons.hodgkin_huxley import (
    CURRENT_FRAC,
    CURRENT_WIDTH,
    TABLE_V_MAX,
    TABLE_V_MIN,
    hh_int_step,
)
from neurotile.rtl.hh_runner import HHRunner
from neurotile.rtl.hodgkin_huxley import HHNeuron, cycles_per_step, hh_params, ops_per_step
from neurotile.tapeout.adapters import BlockText, TapeoutAdapter
from neurotile.tapeout.host import Register, RegisterMap
from neurotile.tapeout.vectors import Script

__all__ = ["ADAPTER", "hh_regmap"]

ADAPTER_ID = 0x48
_STRUCTURAL = ("v_frac", "gate_frac", "dt_us", "table_bits", "mul_bits", "interp", "table_sig",
               "lean", "table_lo", "table_hi", "latch_state")
RUN_BITS = 4


def _params(params: dict[str, Any]):
    return hh_params(**{k: params[k] for k in _STRUCTURAL if params.get(k) is not None})


def hh_regmap(params: dict[str, Any]) -> RegisterMap:
    """The Hodgkin-Huxley neuron's registers for ``params``."""
    p = _params(params)
    g = p.gate_frac
    regs = [
        Register("ID", "const", 8, "identification byte (0x48, 'H')", reset=ADAPTER_ID),
        Register("CURRENT", "config", CURRENT_WIDTH,
                 f"stimulus, uA/cm^2 with {CURRENT_FRAC} fraction bits", signed=True),
        Register("RUN", "push", RUN_BITS,
                 f"run this many {p.dt_us} us steps (1..{(1 << RUN_BITS) - 1}; 0 only clears "
                 "STATUS)"),
        Register("V", "status", p.v_width, f"membrane potential, mV with {p.v_frac} fraction bits",
                 signed=True),
        Register("STATUS", "status", 1, "bit 0: a step of the latest run spiked (V crossed 0 mV)"),
    ]
    if params.get("gate_readback"):
        regs += [
            Register("M", "status", g, f"sodium activation gate m, {g} fraction bits"),
            Register("H", "status", g, f"sodium inactivation gate h, {g} fraction bits"),
            Register("N", "status", g, f"potassium activation gate n, {g} fraction bits"),
        ]
    return RegisterMap(tuple(regs), event="spike of the latest step")


def _build(params: dict[str, Any]) -> HHNeuron:
    return HHNeuron(**{k: params[k] for k in _STRUCTURAL})


def _connect(m: Module, core: HHNeuron, host: Any, params: dict[str, Any]) -> None:
    # The runner turns RUN into steps on the neuron's streams; V, M, H, N and the event read
    # the neuron's output payload, which holds the state after the latest step.
    m.submodules.runner = runner = HHRunner(core.p, run_bits=RUN_BITS)
    wiring.connect(m, runner.step, core.current)
    wiring.connect(m, core.output, runner.result)
    state = core.output.payload
    m.d.comb += [
        runner.run.valid.eq(host.run.valid),
        runner.run.payload.eq(host.run.payload),
        host.run.ready.eq(runner.run.ready),
        runner.current.eq(host.current),
        host.v.eq(state.v),
        host.status.eq(runner.spiked),
        host.block_busy.eq(runner.busy),
        host.block_event.eq(state.spike),
    ]
    if params.get("gate_readback"):
        m.d.comb += [host.m.eq(state.m), host.h.eq(state.h), host.n.eq(state.n)]


def _vectors(params: dict[str, Any], regmap: RegisterMap, seed: int, steps: int) -> Script:
    p = _params(params)
    rng = np.random.default_rng(seed)
    s = Script(regmap)
    state = p.initial_state(1)
    spiked = False

    def check(where: str) -> None:
        s.expect("V", int(state.v[0]), f"{where} V")
        if params.get("gate_readback"):
            s.expect("M", int(state.m[0]), f"{where} m")
            s.expect("H", int(state.h[0]), f"{where} h")
            s.expect("N", int(state.n[0]), f"{where} n")
        s.expect("STATUS", int(spiked), f"{where} spike")

    s.wait_idle()
    s.expect("ID", ADAPTER_ID, "ID after reset")
    s.expect("CURRENT", 0, "CURRENT after reset")
    check("at rest")
    uA = 1 << CURRENT_FRAC
    # (current code, steps per run, runs): one step at rest, a 10 uA/cm^2 drive whose last run
    # fires, an empty run (clears STATUS, moves nothing), a strong negative drive, the longest
    # run, then random drives.
    plan = [(0, 1, 1), (10 * uA, 15, 6), (10 * uA, 0, 1), (-40 * uA, 8, 2),
            (20 * uA, (1 << RUN_BITS) - 1, 1)]
    while len(plan) < steps:
        plan.append((int(rng.integers(-20 * uA, 60 * uA)), int(rng.integers(1, 1 << RUN_BITS)),
                     1))
    total = 0
    for current, length, runs in plan[:steps]:
        s.write("CURRENT", current)
        for _ in range(runs):
            s.write("RUN", length)
            s.wait_idle()
            spiked = False
            for _ in range(length):
                state, sp = hh_int_step(state, np.array([current]), p)
                spiked |= bool(sp[0])
            total += length
            check(f"after step {total} (I = {current / uA:g} uA/cm^2)" if length else
                  f"after an empty run at step {total}")
    return s


def _describe(params: dict[str, Any], regmap: RegisterMap) -> BlockText:
    p = _params(params)
    a = regmap.address
    per_mv = 2.0 ** p.table_bits
    interp = ", interpolated linearly between them" if p.interp else ""
    if p.table_sig:
        interp += f", each entry rounded to {p.table_sig} significant bits"
    how = f"""\
One Hodgkin-Huxley neuron (the squid-axon model of NEURON's `hh.mod` at 6.3 degC), integrated by
forward Euler with a {p.dt_us} us step. V is a signed {p.v_width}-bit number (mV, {p.v_frac}
fraction bits, saturating at [-128, 128) mV); the gates m, h, n have {p.gate_frac} fraction bits.
The rate functions are tables indexed by V ({per_mv:g} entries per mV over [{p.table_lo},
{p.table_hi}) mV{interp}), so all three
gates follow V. One multiplier, shared by the {ops_per_step(p)} products of a step and consuming
{p.mul_bits} bits per cycle, computes a step in {cycles_per_step(p)} clock cycles.

The arithmetic is exactly neurotile's integer reference (`hh_int_step`); the test in `test/`
compares V{', m, h, n' if params.get('gate_readback') else ''} and the spike flag after every run
with it.
"""
    test = f"""\
1. Reset the design and wait until `busy` is low: the neuron is at rest (V = -65 mV).
2. Read `ID` (0x00): it must be 0x{ADAPTER_ID:02X}.
3. Write the stimulus to `CURRENT` (0x{a('CURRENT'):02X}, two bytes, low first; 10 uA/cm^2 is
   {10 << CURRENT_FRAC} = 0x{10 << CURRENT_FRAC:04X}).
4. Write a number of steps to `RUN` (0x{a('RUN'):02X}) and wait for `busy` to fall; read `V`
   (0x{a('V'):02X}..) and `STATUS` (0x{a('STATUS'):02X}). At 10 uA/cm^2 the
   neuron fires repetitively, the first spike about 2 ms in.
"""
    return BlockText(
        title="neurotile Hodgkin-Huxley neuron",
        description=(f"Hodgkin-Huxley neuron, forward Euler ({p.dt_us} us), table rate "
                     "functions, byte-wide register interface"),
        how_it_works=how,
        how_to_test=test,
    )


def _resolve(params: dict[str, Any]) -> dict[str, Any]:
    _params(params)
    return params


ADAPTER = TapeoutAdapter(
    block="hh",
    summary="Hodgkin-Huxley neuron behind a byte-wide register interface",
    ident=ADAPTER_ID,
    # The defaults are the smallest design measured to meet the accuracy targets (docs/hh.md,
    # "One tile (1x1)?"): its project fits a 1x1 tile; the block's own defaults (neurotile
    # generate hh) are the more accurate 2-tile design.
    params=(
        Param("v_frac", int, 8, "fraction bits of V (mV)"),
        Param("gate_frac", int, 15, "fraction bits of the gates and rate tables"),
        Param("dt_us", int, 25, "forward-Euler step in microseconds"),
        Param("table_bits", int, 0, "rate-table entries per mV = 2**table_bits"),
        Param("mul_bits", int, 1, "multiplier bits per cycle"),
        Param("interp", int, 0, "1: interpolate linearly between table nodes"),
        Param("table_sig", int, 7, "significant bits kept per table entry (0: all)"),
        Param("lean", int, 1, "1: fewer adders for the same arithmetic"),
        Param("table_lo", int, -74, f"lower end of the rate tables (mV; {TABLE_V_MIN} for "
              "the full range)"),
        Param("table_hi", int, 22, f"upper end of the rate tables (mV; {TABLE_V_MAX} for the "
              "full range)"),
        Param("latch_state", int, 1, "1: V, m, h, n in latches instead of flip-flops"),
        Param("gate_readback", bool, False, "add registers M, H, N to read the gates (costs area)"),
    ),
    regmap=hh_regmap,
    build_core=_build,
    connect=_connect,
    vectors=_vectors,
    describe=_describe,
    resolve=_resolve,
    test_steps=7,
    # The default design's deepest path is 42 cells (the latched V through the operand
    # multiplexers into the accumulator), about 21 ns at the timing sanity check's 0.5 ns per
    # cell: over 50 MHz's 20 ns, within 40 MHz's 25 ns. A Euler step takes microseconds either
    # way, far below any host's rate.
    clock_hz=40_000_000,
)
