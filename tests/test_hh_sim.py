# SPDX-License-Identifier: Apache-2.0
"""The generated Hodgkin-Huxley Verilog on Icarus and Verilator through cocotb, bit for bit
against the integer model: V, m, h, n and the spike flag of every Euler step.

Each design is built once per simulator (cached by source digest under build/tests) and every
test of that design reuses the build.
"""

from __future__ import annotations


import pytest

from neurotile.blocks.hh import BLOCK, int_params, run_design
from neurotile.design import elaborate
from neurotile.testbench.runner import SIMULATORS, lint

pytestmark = pytest.mark.sim

DESIGNS = {
    # The default design over 25 ms of model time: 10, 25, 0, -128, +128 and 6.5 uA/cm^2, then
    # random currents; one reset in the middle.
    "default": (dict(), 1000),
    # One product per cycle, coarser formats, finer table, a different dt: 20 ms.
    "parallel-small": (dict(mul_bits=32, v_frac=8, gate_frac=12, dt_us=20, table_bits=1), 1000),
    # Rates interpolated between 4 mV table nodes (21 products per step): 20 ms.
    "interp-4mV": (dict(interp=1, table_bits=-2), 800),
    # Lean adders (the rounding injected as bit 3 of a 4-bit digit) and tables rounded to 6
    # significant bits: 20 ms.
    "lean-sig6": (dict(lean=1, table_sig=6), 800),
    # V, m, h, n in latches: on the 1-bit multiplier with tables over [-84, 52) mV (the write
    # opens the latches in the cycle after the operation's last), and on the one-cycle
    # multiplier (that cycle is already the next operation's last): 20 ms each.
    "latch-range-1bit": (dict(latch_state=1, lean=1, table_sig=7, mul_bits=1, v_frac=8,
                              gate_frac=15, table_lo=-84, table_hi=52), 800),
    "latch-parallel": (dict(latch_state=1, mul_bits=32, v_frac=8, gate_frac=12, dt_us=20,
                            table_bits=1), 1000),
}


def _run(sim, name, build_root, **options):
    params, steps = DESIGNS[name]
    return run_design(int_params(params), sim=sim, steps=options.pop("steps", steps),
                      seed=options.pop("seed", 1), build_dir=build_root / "hh" / name, **options)


@pytest.mark.parametrize("sim", SIMULATORS)
@pytest.mark.parametrize("name", list(DESIGNS))
def test_hh_bit_exact(sim, name, build_root):
    report = _run(sim, name, build_root)
    assert report["passed"], f"see {report['run_dir']}"
    assert report["mismatches"] == 0
    assert report["updates"] == DESIGNS[name][1]
    assert report["spikes"] >= 2
    assert report["resets"] >= 1


@pytest.mark.parametrize("sim", SIMULATORS)
def test_planted_error_is_caught(sim, build_root):
    """One expected V is off by one LSB: the run must report exactly that mismatch."""
    report = _run(sim, "default", build_root, plant=150, steps=200, seed=3)
    assert report["passed"]  # the cocotb test asserts it found exactly the planted error
    assert report["mismatches"] == 1
    first = report["first_mismatches"][0]
    assert (first["step"], first["field"]) == (150, "v")
    assert abs(first["expected"] - first["observed"]) == 1


def test_unannounced_error_fails_the_cocotb_test(build_root):
    """The same wrong expectation, unannounced: cocotb records a failure in results.xml."""
    report = _run("icarus", "default", build_root, corrupt=150, steps=200, seed=3)
    assert not report["passed"]
    assert report["mismatches"] == 1


@pytest.mark.parametrize("name", list(DESIGNS))
def test_verilator_lint_clean(name, tmp_path):
    """``verilator --lint-only -Wall`` passes with the waivers the README explains.

    WIDTH: Amaranth widens and narrows operands freely (legal Verilog). PROCASSINIT: registers
    carry their power-on value in the declaration and are also assigned in always blocks.
    UNUSEDSIGNAL, DECLFILENAME: as for every generated block.
    """
    design = elaborate(BLOCK, DESIGNS[name][0])
    result = lint(design.verilog, design.top, tmp_path)
    assert result.returncode == 0, result.stderr
