# SPDX-License-Identifier: Apache-2.0
"""The default Hodgkin-Huxley design and the smallest one (lean adders, tables rounded to 6
significant bits, 1-bit multiplier) through Sky130 synthesis: area and tile, and the gate-level
netlist (sky130 functional cell models, TinyTapeout's defines, power pins) running the same
bit-exact check as the RTL."""

from __future__ import annotations

import pytest

from neurotile.blocks.hh import BLOCK, int_params
from neurotile.design import elaborate
from neurotile.testbench.hodgkin_huxley import run_gate_level

pytestmark = pytest.mark.flows


SMALL = {"lean": 1, "table_sig": 6, "mul_bits": 1}
#: The state in latches, with narrower tables and formats (the smallest design measured).
LATCHED = {"lean": 1, "table_sig": 7, "mul_bits": 1, "v_frac": 8, "gate_frac": 15,
           "table_lo": -84, "table_hi": 52, "latch_state": 1}


def _synthesise(params, root):
    from neurotile.flows.synth import synthesize

    design = elaborate(BLOCK, params)
    work = root / "hh" / "flows" / design.top
    work.mkdir(parents=True, exist_ok=True)
    src = work / f"{design.top}.v"
    src.write_text(design.verilog)
    return design, synthesize([src], top=design.top, work_dir=work / "synth")


@pytest.fixture(scope="module")
def synthesised(worker_root):
    return _synthesise({}, worker_root)


@pytest.fixture(scope="module")
def small(worker_root):
    return _synthesise(SMALL, worker_root)


def test_default_design_fits_two_tiles(synthesised):
    """V, m, h, n (18 + 3 x 16), accumulator, running product, digit product and counters."""
    _, r = synthesised
    assert r.latches == 0
    assert 125 <= r.flip_flops <= 160
    assert 15_000 < r.area < 22_000
    assert r.smallest_tile().name == "1x2"


def test_small_design_area_and_gate_level(small, build_root):
    """About 12,700 um^2 (one flip-flop fewer than the 1-bit default), still above 60 % of a 1x1
    tile; its netlist runs the bit-exact check of 100 Euler steps including a spike."""
    design, r = small
    assert r.latches == 0
    assert 125 <= r.flip_flops <= 160
    assert 11_000 < r.area < 14_000
    report = run_gate_level(r.netlist, top=design.top, params=int_params(SMALL).structural(),
                            steps=100, seed=4, build_dir=build_root / "hh" / "flows" / "gl-small")
    assert report["passed"], f"see {report['run_dir']}"
    assert report["mismatches"] == 0
    assert report["updates"] == 100 and report["spikes"] == 1


@pytest.fixture(scope="module")
def latched(worker_root):
    return _synthesise(LATCHED, worker_root)


def test_latched_state_gate_level(latched, build_root):
    """V (16 bits) and m, h, n (15 bits each) are 61 latches, plus 3 clock gates (counted as
    latches too); the netlist runs the bit-exact check with resets in the run (each reopens every
    latch with the rest state)."""
    design, r = latched
    assert r.latches == 61 + 3
    assert 60 <= r.flip_flops <= 80
    report = run_gate_level(r.netlist, top=design.top, params=int_params(LATCHED).structural(),
                            steps=120, seed=4, reset_rate=0.02, directed=False,
                            build_dir=build_root / "hh" / "flows" / "gl-latched")
    assert report["passed"], f"see {report['run_dir']}"
    assert report["mismatches"] == 0
    assert report["updates"] == 120 and report["resets"] >= 1 and report["spikes"] >= 1


def test_gate_level_is_bit_exact(synthesised, build_root):
    design, r = synthesised
    fields = int_params({}).structural()
    report = run_gate_level(r.netlist, top=design.top, params=fields, steps=100, seed=4,
                            build_dir=build_root / "hh" / "flows" / "gl")
    assert report["passed"], f"see {report['run_dir']}"
    assert report["mismatches"] == 0
    assert report["updates"] == 100 and report["spikes"] == 1


def test_gate_level_reports_a_planted_error(synthesised, build_root):
    design, r = synthesised
    fields = int_params({}).structural()
    report = run_gate_level(r.netlist, top=design.top, params=fields, steps=100, seed=4,
                            build_dir=build_root / "hh" / "flows" / "gl", plant=80)
    assert report["passed"]  # the test asserts it found exactly the planted mismatch
    assert report["mismatches"] == 1
    assert report["first_mismatches"][0]["step"] == 80
