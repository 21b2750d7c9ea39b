# SPDX-License-Identifier: Apache-2.0
"""The Hodgkin-Huxley hardware in Amaranth's simulator against the integer model, bit for bit."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from amaranth.hdl import signed, unsigned
from amaranth.sim import Simulator

from neurotile.blocks.hh import BLOCK
from neurotile.design import elaborate
from neurotile.errors import UsageError
from neurotile.neurons.hodgkin_huxley import HHIntParams, hh_int_run
from neurotile.output import RECORD
from neurotile.rtl.hodgkin_huxley import (
    HHNeuron,
    cycles_per_op,
    cycles_per_step,
    operand_widths,
    output_layout,
)
from neurotile.testbench.hodgkin_huxley import check_config, run_amaranth, verdict

DESIGNS = {
    # name: (params, steps)
    "default": (dict(), 240),
    "parallel-small": (dict(mul_bits=32, v_frac=8, gate_frac=12, dt_us=20, table_bits=1), 400),
    "serial-1bit": (dict(mul_bits=1, v_frac=12, gate_frac=18, dt_us=10), 50),
    "digits-padded": (dict(mul_bits=7, table_bits=-1), 120),
    # interpolated tables: 4 mV nodes; and 0.5 mV nodes with more V bits below the index than
    # gate bits (the fraction is truncated) on the 1-bit serial multiplier
    "interp-4mV": (dict(interp=1, table_bits=-2), 240),
    "interp-fine-1bit": (dict(interp=1, table_bits=1, mul_bits=1, v_frac=16, gate_frac=14,
                              dt_us=10), 40),
    # lean adders (rounding injected into the multiplier's adder: as a carry-in at 1 bit, as a
    # higher bit of the digit at 7 bits, where no shifted-out bit is kept) with tables rounded
    # to 6 and 7 significant bits; and lean on the one-cycle multiplier
    "lean-sig6-1bit": (dict(lean=1, table_sig=6, mul_bits=1), 90),
    "lean-sig7-interp-7bit": (dict(lean=1, table_sig=7, interp=1, table_bits=-2, mul_bits=7), 150),
    "lean-parallel": (dict(lean=1, mul_bits=32, v_frac=9, gate_frac=13, dt_us=20), 200),
    # a narrower table range (V clamps to its end entries more often)
    "range-84-52-1bit": (dict(lean=1, table_sig=7, mul_bits=1, v_frac=8, gate_frac=15,
                              table_lo=-84, table_hi=52), 90),
    # state in latches (Amaranth sees flip-flops; the latches are checked in test_hh_sim)
    "latch-1bit": (dict(latch_state=1, lean=1, mul_bits=1), 60),
    "latch-parallel": (dict(latch_state=1, mul_bits=32), 200),
}


@pytest.mark.parametrize("name", list(DESIGNS))
def test_bit_exact_in_amaranth(name):
    params, steps = DESIGNS[name]
    cfg = {"params": params, "steps": steps, "seed": 11}
    report = run_amaranth(cfg)
    stim, _ = check_config(cfg)
    verdict(cfg, stim, report)
    assert report["updates"] == steps


def test_planted_error_is_reported():
    cfg = {"params": {"mul_bits": 32}, "steps": 120, "seed": 5, "plant": 77}
    report = run_amaranth(cfg)
    stim, _ = check_config(cfg)
    verdict(cfg, stim, report)  # exactly the planted mismatch, nothing else
    assert report["mismatches"] == 1
    first = report["first_mismatches"][0]
    assert (first["step"], first["field"]) == (77, "v")
    assert abs(first["expected"] - first["observed"]) == 1
    with pytest.raises(AssertionError, match="mismatches against the reference model"):
        verdict({k: v for k, v in cfg.items() if k != "plant"}, stim, report)


def _step_trace(dut: HHNeuron, currents: list[int], *, idle_before: int = 0,
                stall: int = 0):
    """Offer ``currents`` back to back (after ``idle_before`` cycles offering nothing); read each
    output ``stall`` cycles after it becomes valid. Return per step ``(cycle its current was
    accepted, cycle its output became valid, decoded output)`` and, per cycle of the idle start
    and of every stall, ``(current.ready, output.valid, decoded payload)``."""
    layout = output_layout(dut.p)
    rows, waiting = [], []

    def decode(ctx):
        payload = ctx.get(dut.output.payload)
        return {name: payload[name] for name, _ in layout}

    async def bench(ctx):
        ctx.set(dut.output.ready, 0)
        for _ in range(idle_before):
            await ctx.tick()
            waiting.append((ctx.get(dut.current.ready), ctx.get(dut.output.valid), decode(ctx)))
        cycle = 0
        for current in currents:
            ctx.set(dut.current.payload, current)
            ctx.set(dut.current.valid, 1)
            while not ctx.get(dut.current.ready):
                await ctx.tick()
                cycle += 1
            accepted = cycle
            await ctx.tick()
            cycle += 1
            ctx.set(dut.current.valid, 0)
            while not ctx.get(dut.output.valid):
                await ctx.tick()
                cycle += 1
            valid_at = cycle
            for _ in range(stall):
                await ctx.tick()
                cycle += 1
                waiting.append((ctx.get(dut.current.ready), ctx.get(dut.output.valid),
                                decode(ctx)))
            rows.append((accepted, valid_at, decode(ctx)))
            ctx.set(dut.output.ready, 1)
            await ctx.tick()
            cycle += 1
            ctx.set(dut.output.ready, 0)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return rows, waiting


def test_output_layout_fields_in_order():
    p = HHIntParams()
    layout = output_layout(p)
    fields = [(name, f.offset, f.shape) for name, f in layout]
    g = unsigned(p.gate_frac)
    w = 1 + p.v_width
    assert fields == [("spike", 0, unsigned(1)), ("v", 1, signed(p.v_width)), ("m", w, g),
                      ("h", w + 16, g), ("n", w + 32, g), ("index", w + 48, unsigned(1)),
                      ("last", w + 49, unsigned(1))]
    dut = HHNeuron()
    assert dut.current.payload.shape() == signed(16)
    assert dut.output.payload.shape() == layout


@pytest.mark.parametrize("kwargs", [dict(mul_bits=32), dict(mul_bits=4),
                                    dict(interp=1, table_bits=-2)])
def test_a_step_takes_cycles_per_step_and_back_pressure_holds(kwargs):
    dut = HHNeuron(**kwargs)
    p = dut.p
    cps = cycles_per_step(p)
    currents = [p.current_code(10.0)] * 6
    rows, waiting = _step_trace(dut, currents, idle_before=40, stall=7)
    rest = p.initial_state()
    rest_fields = {"spike": 0, "v": rest.v[0], "m": rest.m[0], "h": rest.h[0], "n": rest.n[0],
                   "index": 0, "last": 1}
    # nothing offered: ready to start, no output, the payload shows the rest state
    for ready, valid, fields in waiting[:40]:
        assert (ready, valid, fields) == (1, 0, rest_fields)
    # an unread output holds, and no step starts meanwhile
    stalls = waiting[40:]
    assert len(stalls) == 7 * len(currents)
    for t, (_, _, out) in enumerate(rows):
        for ready, valid, fields in stalls[7 * t:7 * t + 7]:
            assert (ready, valid, fields) == (0, 1, out)
    ref = hh_int_run(p, np.array(currents))
    for t, (accepted, valid_at, out) in enumerate(rows):
        assert valid_at - accepted == cps == dut.cycles_per_step
        if t:  # the next step is accepted the cycle after the output is read
            assert accepted == rows[t - 1][1] + 7 + 1
        assert (out["v"], out["m"], out["h"], out["n"], out["spike"]) == (
            ref.v[t, 0], ref.m[t, 0], ref.h[t, 0], ref.n[t, 0], ref.spikes[t, 0])
        assert (out["index"], out["last"]) == (0, 1)


def test_back_to_back_steps_every_cycles_per_step():
    """Current always offered, output always read: one step every cycles_per_step cycles."""
    dut = HHNeuron()
    cps = cycles_per_step(dut.p)
    starts = []

    async def bench(ctx):
        ctx.set(dut.current.valid, 1)
        ctx.set(dut.current.payload, dut.p.current_code(10.0))
        ctx.set(dut.output.ready, 1)
        for cycle in range(5 * cps + 1):
            if ctx.get(dut.current.ready):
                starts.append(cycle)
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert starts == [k * cps for k in range(6)]


def test_cycle_counts_follow_the_operand_width():
    p = HHIntParams()
    a, b = operand_widths(p)
    assert (a, b) == (p.v_width + 1, p.gate_frac + 2)
    assert cycles_per_op(p) == -(-b // 4) == 5
    assert cycles_per_step(p) == 75
    assert cycles_per_step(HHIntParams(mul_bits=32)) == 15
    assert cycles_per_step(HHIntParams(mul_bits=1)) == 15 * b
    # interpolation: two more products per gate and rate pair, 21 in all
    assert cycles_per_step(HHIntParams(interp=1, table_bits=-2)) == 21 * 5


def test_same_parameters_give_identical_verilog():
    first = elaborate(BLOCK, {"gate_frac": 14}).verilog
    again = elaborate(BLOCK, {"gate_frac": 14}).verilog
    other = elaborate(BLOCK, {"gate_frac": 15}).verilog
    assert first == again
    assert first != other
    assert "module hh_neuron_v10_g14_dt25_t0_k4(" in first
    interp = elaborate(BLOCK, {"interp": 1, "table_bits": -2}).verilog
    assert interp == elaborate(BLOCK, {"interp": 1, "table_bits": -2}).verilog
    assert "module hh_neuron_v10_g16_dt25_tm2_i_k4(" in interp


@pytest.mark.parametrize("kwargs, exc, message", [
    (dict(gate_frac=30), ValueError, r"^hh: gate_frac must be between 8 and 20, not 30$"),
    (dict(mul_bits="4"), TypeError, r"^hh: mul_bits must be an integer, not '4'$"),
    (dict(dt_us=40), ValueError, r"^hh: dt_us=40 is too large for forward Euler of the gates: "
                                 r"dt\*\(alpha\+beta\) reaches 1.09 \(must stay below 1\) inside "
                                 r"the table range; use dt_us <= 36$"),
])
def test_block_reports_bad_parameters(kwargs, exc, message):
    with pytest.raises(UsageError, match=message):
        elaborate(BLOCK, kwargs)
    with pytest.raises(exc, match=message[:1] + message[5:]):
        HHNeuron(**kwargs)


def test_neuron_parameters_are_keyword_only():
    with pytest.raises(TypeError):
        HHNeuron(10)  # type: ignore[misc]


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "neurotile", *args], capture_output=True,
                          text=True)


def test_generate_command_writes_verilog_and_manifest(tmp_path):
    out = _cli("generate", "hh", "--mul-bits", "2", "-o", str(tmp_path / "hh"))
    assert out.returncode == 0, out.stderr
    files = sorted(f.name for f in (tmp_path / "hh").iterdir() if f.name != RECORD)
    assert files == ["hh_neuron_v10_g16_dt25_t0_k2.json", "hh_neuron_v10_g16_dt25_t0_k2.v"]
    bad = _cli("generate", "hh", "--dt-us", "0", "-o", str(tmp_path / "bad"))
    assert bad.returncode == 2
    assert bad.stderr == "neurotile: error: hh: dt_us must be between 1 and 100, not 0\n"


def test_simulate_command_on_amaranth():
    out = _cli("simulate", "hh", "--sim", "amaranth", "--mul-bits", "32", "--steps", "120")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("amaranth: 120 neuron-updates checked, 0 mismatches, 1 spikes")


def test_model_command_json():
    import json

    out = _cli("model", "hh", "--current", "10", "--duration-ms", "40", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["model"] == "fixed" and len(data["spike_times_ms"][0]) == 3
    assert data["params"]["dt_us"] == 25 and data["params"]["current_code"] == 2560
    fl = json.loads(_cli("model", "hh", "--current", "10", "--duration-ms", "40", "--float",
                         "--json").stdout)
    assert fl["model"] == "float" and len(fl["spike_times_ms"][0]) == 3
    assert max(abs(a - b) for a, b in zip(fl["spike_times_ms"][0], data["spike_times_ms"][0])) < 0.5
    bad = _cli("model", "hh", "--current", "500", "--duration-ms", "5")
    assert bad.returncode == 2
    assert bad.stderr.startswith("neurotile: error: hh: current 500.0 uA/cm^2 is outside")
