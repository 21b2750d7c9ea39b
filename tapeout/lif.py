# SPDX-License-Identifier: Apache-2.0
"""Tape-out adapter of the LIF population (:class:`neurotile.rtl.lif.LIFPopulation`).

Registers: the three run-time settings (``THRESHOLD``, ``LEAK``, ``REFRACTORY``) as ``config``;
``CURRENT`` as ``push`` -- each write is one input to the next neuron in index order, so
``neurons`` writes make one timestep; the result of the latest update as ``status``
(``STATUS`` = spike | last << 1, ``INDEX``, ``MEMBRANE``) and, with ``spike_vector`` (up to 32
neurons), ``SPIKES``: bit ``i`` is neuron ``i``'s spike in its latest update.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from amaranth.hdl import Module, Signal

from neurotile.blocks import Param
from neurotile.neurons.lif import LIFIntParams, LIFIntState, lif_int_step
from neurotile.rtl.lif import LIFPopulation
from neurotile.tapeout.adapters import BlockText, TapeoutAdapter
from neurotile.tapeout.host import Register, RegisterMap
from neurotile.tapeout.vectors import Script

__all__ = ["ADAPTER", "lif_regmap"]

_STRUCTURAL = ("neurons", "width", "input_width", "leak", "beta_bits", "refractory_width",
               "reset", "reset_delay")
_RUNTIME = ("threshold", "leak_shift", "beta_code", "refractory")
#: Largest population whose spikes are also readable as one bit vector.
SPIKE_VECTOR_MAX = 32


def _int_params(params: dict[str, Any]) -> LIFIntParams:
    return LIFIntParams(**{k: params[k] for k in _STRUCTURAL + _RUNTIME
                           if params.get(k) is not None})


def lif_regmap(params: dict[str, Any]) -> RegisterMap:
    """The LIF population's registers for ``params``."""
    p = _int_params(params)
    index_bits = max(1, (p.neurons - 1).bit_length())
    leak_doc = ("leak shift k: beta = 1 - 2^-k" if p.leak == "shift"
                else f"leak factor b: beta = b / 2^{p.beta_bits}")
    regs = [
        Register("ID", "const", 8, "identification byte (0x4C, 'L')", reset=ADAPTER_ID),
        Register("THRESHOLD", "config", p.width - 1, "firing threshold (membrane units); a "
                 "neuron fires when its membrane exceeds it", reset=p.threshold),
        Register("LEAK", "config", p.leak_port_width, leak_doc, reset=p.leak_value),
    ]
    if p.refractory_width:
        regs.append(Register("REFRACTORY", "config", p.refractory_width,
                             "steps a neuron ignores its input after a spike",
                             reset=p.refractory))
    regs += [
        Register("CURRENT", "push", p.input_width, "input current of the next neuron; each "
                 "write updates one neuron, in index order", signed=True),
        Register("STATUS", "status", 2, "latest update: bit 0 spike, bit 1 last neuron of the "
                 "timestep"),
        Register("INDEX", "status", index_bits, "latest update: neuron index"),
        Register("MEMBRANE", "status", p.width, "latest update: membrane after the step",
                 signed=True),
    ]
    if params.get("spike_vector"):
        regs.append(Register("SPIKES", "status", p.neurons,
                             "bit i: spike of neuron i in its latest update"))
    return RegisterMap(tuple(regs), event="spike of the latest update")


def _build(params: dict[str, Any]) -> LIFPopulation:
    return LIFPopulation(**{k: params[k] for k in _STRUCTURAL},
                         storage=params.get("storage") or "memory")


def _connect(m: Module, core: LIFPopulation, host: Any, params: dict[str, Any]) -> None:
    p = core.p
    out = core.spikes
    m.d.comb += [
        core.threshold.eq(host.threshold),
        core.leak.eq(host.leak),
        core.current.valid.eq(host.current.valid),
        core.current.payload.eq(host.current.payload),
        host.current.ready.eq(core.current.ready),
        out.ready.eq(1),
        host.block_busy.eq(out.valid | ~core.current.ready),
    ]
    if p.refractory_width:
        m.d.comb += core.refractory.eq(host.refractory)

    # The population's output register keeps the latest result until the next update, so the
    # status registers read it directly.
    result = out.payload
    m.d.comb += [
        host.status.eq(result.spike | (result.last << 1)),
        host.index.eq(result.index),
        host.membrane.eq(result.membrane),
        host.block_event.eq(result.spike),
    ]
    if params.get("spike_vector"):
        vector = Signal(p.neurons)
        with m.If(out.valid):
            m.d.sync += vector.bit_select(out.payload.index, 1).eq(out.payload.spike)
        m.d.comb += host.spikes.eq(vector)


# -- test vectors ---------------------------------------------------------------------------------

def _plan(p: LIFIntParams, steps: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """Per-step settings and currents: directed corner cases first, then random steps."""
    n = p.neurons
    lo, hi = p.input_min, p.input_max
    leak_max = (1 << p.leak_port_width) - 1
    base = {"threshold": p.threshold, "leak": p.leak_value, "refractory": p.refractory,
            "reset": False}
    plan = []
    # Saturate upward then downward (threshold at its maximum: nothing can fire).
    for value in (hi, hi, lo, lo):
        plan.append(base | {"threshold": p.mem_max, "current": np.full(n, value)})
    # From the reset state, v == threshold must not fire and v == threshold + 1 must.
    edge = max(0, min(p.threshold, hi - 1))
    plan.append(base | {"reset": True, "threshold": edge,
                        "current": np.where(np.arange(n) % 2 == 0, edge, edge + 1)})
    # Strong input with the refractory period at its maximum.
    plan.append(base | {"threshold": max(0, min(p.threshold, hi // 2)),
                        "refractory": p.refractory_max, "current": np.full(n, hi)})
    plan.append(plan[-1] | {"current": rng.integers(hi // 2, hi + 1, n)})
    while len(plan) < steps:
        plan.append(base | {
            "threshold": int(rng.integers(0, p.mem_max + 1)),
            "leak": int(rng.integers(1, leak_max + 1)),
            "refractory": int(rng.integers(0, p.refractory_max + 1)),
            "current": rng.integers(max(lo, -hi // 4), hi + 1, n),
        })
    return plan[:steps]


def _vectors(params: dict[str, Any], regmap: RegisterMap, seed: int, steps: int) -> Script:
    p = _int_params(params)
    rng = np.random.default_rng(seed)
    has_refr = p.refractory_width > 0
    has_vector = "SPIKES" in {r.name for r in regmap.registers}
    s = Script(regmap)

    def check_reset_values(when: str) -> None:
        s.wait_idle()
        s.expect("ID", ADAPTER_ID, f"ID {when}")
        s.expect("THRESHOLD", p.threshold, f"THRESHOLD {when}")
        s.expect("LEAK", p.leak_value, f"LEAK {when}")
        if has_refr:
            s.expect("REFRACTORY", p.refractory, f"REFRACTORY {when}")

    check_reset_values("after reset")
    current = {"threshold": p.threshold, "leak": p.leak_value, "refractory": p.refractory}
    state = LIFIntState.zeros(p.neurons)
    spikes = np.zeros(p.neurons, dtype=bool)
    for t, step in enumerate(_plan(p, steps, rng)):
        if step["reset"]:
            s.reset()
            check_reset_values(f"after the reset before step {t}")
            current = {"threshold": p.threshold, "leak": p.leak_value, "refractory": p.refractory}
            state = LIFIntState.zeros(p.neurons)
            spikes = np.zeros(p.neurons, dtype=bool)
        for name, reg in (("threshold", "THRESHOLD"), ("leak", "LEAK"),
                          ("refractory", "REFRACTORY")):
            if name == "refractory" and not has_refr:
                continue
            if step[name] != current[name]:
                s.write(reg, step[name])
                s.expect(reg, step[name], f"step {t} {reg} read back")
                current[name] = step[name]
        state, fired = lif_int_step(state, step["current"], p, threshold=current["threshold"],
                                    leak=current["leak"], refractory=current["refractory"])
        for i in range(p.neurons):
            s.write("CURRENT", int(step["current"][i]))
            s.wait_idle()
            where = f"step {t} neuron {i}"
            s.expect("MEMBRANE", int(state.mem[i]), f"{where} membrane")
            s.expect("STATUS", int(fired[i]) | (int(i == p.neurons - 1) << 1), f"{where} status")
            s.expect("INDEX", i, f"{where} index")
        spikes = fired
        if has_vector:
            s.expect("SPIKES", sum(1 << i for i in range(p.neurons) if spikes[i]),
                     f"step {t} spike vector")
    return s


# -- documentation --------------------------------------------------------------------------------

def _describe(params: dict[str, Any], regmap: RegisterMap) -> BlockText:
    p = _int_params(params)
    if p.leak == "shift":
        leak = (f"`U - (U >> k)` with `k` from `LEAK` (default {p.leak_shift}, "
                f"beta = {p.beta:g})")
    else:
        leak = (f"`(U * b) >> {p.beta_bits}` with `b` from `LEAK` (default {p.beta_code}, "
                f"beta = {p.beta:g})")
    reset = ("subtracts the threshold" if p.reset == "subtract" else "sets the membrane to zero")
    when = ("on the step after the spike (snnTorch's default `reset_delay=True`)" if p.reset_delay
            else "in the step the spike fires")
    refr = (f"After a spike a neuron ignores its input for `REFRACTORY` steps "
            f"(a {p.refractory_width}-bit counter, default {p.refractory})." if p.refractory_width
            else "There is no refractory period.")
    vector_text = (", and `SPIKES` keeps the latest spike of every neuron"
                   if params.get("spike_vector") else "")
    refr_text = (f" and `REFRACTORY` (0x{regmap.address('REFRACTORY'):02X})"
                 if p.refractory_width else "")
    how = f"""\
A population of {p.neurons} leaky integrate-and-fire neurons that share one update datapath. Each
neuron has a {p.width}-bit two's-complement membrane `U` stored on chip; inputs are
{p.input_width}-bit signed currents `I`. One timestep updates every neuron once, in index order
0 to {p.neurons - 1}:

- leak: {leak}, arithmetic shifts rounding toward minus infinity;
- integrate: `v = leak(U) + I`, saturated once to {p.mem_min}..{p.mem_max};
- fire: a spike when `v > THRESHOLD` (strictly greater; default {p.threshold});
- reset: a spike {reset} {when}.

{refr}

The arithmetic is exactly neurotile's integer reference model (`lif_int_step`), and the test in
`test/` compares every membrane, spike and index the chip reports with it.

The neurons are driven through a byte-wide register port: `ui[7:0]` carries write data,
`uio[4:0]` a register address and `uio[5]` a write strobe; `uo[7:0]` returns the addressed
register. Each write to `CURRENT` updates the next neuron; `STATUS`, `INDEX` and `MEMBRANE` then
hold its result{vector_text}.
`uio[7]` shows the spike of the latest update (wire an LED to it).
"""
    test = f"""\
1. Reset the design (`rst_n` low, then high) and wait until `busy` (`uio[6]`) is low: after
   reset the chip clears all {p.neurons} membranes, one per clock cycle.
2. Read `ID` (address 0x00): it must be 0x{ADAPTER_ID:02X}.
3. Optionally write `THRESHOLD` (0x{regmap.address('THRESHOLD'):02X}) and `LEAK`
   (0x{regmap.address('LEAK'):02X}){refr_text}.
4. For each of the {p.neurons} neurons write its input current to `CURRENT`
   (0x{regmap.address('CURRENT'):02X}, two's complement), wait for `busy` to fall, and read
   `MEMBRANE` (0x{regmap.address('MEMBRANE'):02X}) and `STATUS` (0x{regmap.address('STATUS'):02X}).
   After {p.neurons} writes one timestep is complete (`STATUS` bit 1 set).
5. Repeat step 4 for as many timesteps as you like. A constant current of, say, 20 makes every
   neuron fire periodically at the default threshold ({p.threshold}); the `uio[7]` LED blinks.
"""
    return BlockText(
        title=f"neurotile LIF population ({p.neurons} neurons)",
        description=(f"{p.neurons} leaky integrate-and-fire neurons ({p.width}-bit membrane) "
                     "with a byte-wide register interface"),
        how_it_works=how,
        how_to_test=test,
    )


def _resolve(params: dict[str, Any]) -> dict[str, Any]:
    """Validate ``params`` and fill in the run-time defaults that scale with the structure."""
    p = _int_params(params)
    if params.get("spike_vector") and p.neurons > SPIKE_VECTOR_MAX:
        raise ValueError(f"spike_vector needs at most {SPIKE_VECTOR_MAX} neurons, not {p.neurons}")
    return params | {k: getattr(p, k) for k in _RUNTIME}


ADAPTER_ID = 0x4C

ADAPTER = TapeoutAdapter(
    block="lif",
    summary="LIF population behind a byte-wide register interface",
    ident=ADAPTER_ID,
    params=(
        Param("neurons", int, 32, "population size"),
        Param("width", int, 8, "membrane bits"),
        Param("input_width", int, 8, "input current bits"),
        Param("leak", str, "shift", "leak mode", choices=("shift", "multiply")),
        Param("beta_bits", int, 8, "fraction bits of b in multiply mode"),
        Param("refractory_width", int, 2, "refractory counter bits (0: none)"),
        Param("reset", str, "subtract", "reset mechanism", choices=("subtract", "zero")),
        Param("reset_delay", bool, True, "apply the reset on the next step (snnTorch default)"),
        Param("storage", str, "memory", "state storage: memory (register file, fully "
              "synchronous) or ring (clock-gated flip-flop ring, fits 32 neurons in 1x1; "
              "see docs/flows.md before taping it out)", choices=("memory", "ring")),
        Param("threshold", int, None, "THRESHOLD after reset (default: 2**(width-2))"),
        Param("leak_shift", int, None,
              "LEAK after reset in shift mode, k (default: min(3, width-1))"),
        Param("beta_code", int, None,
              "LEAK after reset in multiply mode, b (default: round(0.875 * 2**beta_bits))"),
        Param("refractory", int, 0, "REFRACTORY after reset"),
        Param("spike_vector", bool, False, "add the SPIKES register: every neuron's latest spike "
              f"as one bit vector (up to {SPIKE_VECTOR_MAX} neurons; costs area)"),
    ),
    regmap=lif_regmap,
    build_core=_build,
    connect=_connect,
    vectors=_vectors,
    describe=_describe,
    resolve=_resolve,
    test_steps=8,
)
