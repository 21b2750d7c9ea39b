# SPDX-License-Identifier: Apache-2.0
"""The Hodgkin-Huxley hardware in Amaranth's simulator against the integer model, bit for bit."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
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
)
from neurotile.testbench.hodgkin_huxley import check_config, run_amaranth, verdict

DESIGNS = {
    # name: (params, steps)
    "default": (dict(), 240),
    "parallel-small": (dict(mul_bits=32, v_frac=8, gate_frac=12, dt_us=20, table_bits=1), 400),
    "serial-1bit": (dict(mul_bits=1, v_frac=12, gate_frac=18, dt_us=10), 50),
    "digits-padded": (dict(mul_bits=7, table_bits=-1), 120),
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


def _step_trace(dut: HHNeuron, currents: list[int], *, idle_before: int = 0):
    """Drive ``currents`` with enable high (after ``idle_before`` cycles of enable low); return
    per step ``(cycle of done, v, m, h, n, spike)`` and the outputs seen while idle."""
    rows, idle = [], []

    async def bench(ctx):
        ctx.set(dut.enable, 0)
        for _ in range(idle_before):
            await ctx.tick()
            idle.append((ctx.get(dut.done), ctx.get(dut.v), ctx.get(dut.m), ctx.get(dut.start)))
        cycle = 0
        ctx.set(dut.current, currents[0])
        ctx.set(dut.enable, 1)
        for t in range(len(currents)):
            while True:
                await ctx.tick()
                cycle += 1
                if ctx.get(dut.done):
                    break
            rows.append((cycle, ctx.get(dut.v), ctx.get(dut.m), ctx.get(dut.h), ctx.get(dut.n),
                         ctx.get(dut.spike)))
            if t + 1 < len(currents):
                ctx.set(dut.current, currents[t + 1])

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return rows, idle


@pytest.mark.parametrize("mul_bits", [32, 4])
def test_a_step_takes_cycles_per_step_and_enable_low_holds(mul_bits):
    dut = HHNeuron(mul_bits=mul_bits)
    p = dut.p
    currents = [p.current_code(10.0)] * 6
    rows, idle = _step_trace(dut, currents, idle_before=40)
    # enable low: no step starts, outputs hold the reset state
    rest = p.initial_state()
    assert all(d == 0 and v == rest.v[0] and m == rest.m[0] and s == 0 for d, v, m, s in idle)
    cycles = [r[0] for r in rows]
    assert cycles[0] == cycles_per_step(p)
    assert np.all(np.diff(cycles) == cycles_per_step(p)) and dut.cycles_per_step == cycles[0]
    ref = hh_int_run(p, np.array(currents))
    for t, row in enumerate(rows):
        assert row[1:5] == (ref.v[t, 0], ref.m[t, 0], ref.h[t, 0], ref.n[t, 0])


def test_cycle_counts_follow_the_operand_width():
    p = HHIntParams()
    a, b = operand_widths(p)
    assert (a, b) == (p.v_width + 1, p.gate_frac + 2)
    assert cycles_per_op(p) == -(-b // 4) == 5
    assert cycles_per_step(p) == 75
    assert cycles_per_step(HHIntParams(mul_bits=32)) == 15
    assert cycles_per_step(HHIntParams(mul_bits=1)) == 15 * b


def test_same_parameters_give_identical_verilog():
    first = elaborate(BLOCK, {"gate_frac": 14}).verilog
    again = elaborate(BLOCK, {"gate_frac": 14}).verilog
    other = elaborate(BLOCK, {"gate_frac": 15}).verilog
    assert first == again
    assert first != other
    assert "module hh_neuron_v10_g14_dt25_t0_k4(" in first


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
    assert data["model"] == "fixed" and len(data["spike_times_ms"]) == 3
    assert data["params"]["dt_us"] == 25 and data["params"]["current_code"] == 2560
    fl = json.loads(_cli("model", "hh", "--current", "10", "--duration-ms", "40", "--float",
                         "--json").stdout)
    assert fl["model"] == "float" and len(fl["spike_times_ms"]) == 3
    assert max(abs(a - b) for a, b in zip(fl["spike_times_ms"], data["spike_times_ms"])) < 0.5
    bad = _cli("model", "hh", "--current", "500", "--duration-ms", "5")
    assert bad.returncode == 2
    assert bad.stderr.startswith("neurotile: error: hh: current 500.0 uA/cm^2 is outside")
