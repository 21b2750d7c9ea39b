# SPDX-License-Identifier: Apache-2.0
"""The default Hodgkin-Huxley design through Sky130 synthesis: its area and tile, and the
gate-level netlist (sky130 functional cell models, TinyTapeout's defines, power pins) running the
same bit-exact check as the RTL."""

from __future__ import annotations

import pytest

from neurotile.blocks.hh import BLOCK, int_params
from neurotile.design import elaborate
from neurotile.testbench.hodgkin_huxley import run_gate_level

pytestmark = pytest.mark.flows


@pytest.fixture(scope="module")
def synthesised(worker_root):
    from neurotile.flows.synth import synthesize

    design = elaborate(BLOCK, {})
    work = worker_root / "hh" / "flows"
    work.mkdir(parents=True, exist_ok=True)
    src = work / f"{design.top}.v"
    src.write_text(design.verilog)
    return design, synthesize([src], top=design.top, work_dir=work / "synth")


def test_default_design_fits_two_tiles(synthesised):
    """V, m, h, n (18 + 3 x 16), accumulator, running product, digit product and counters."""
    _, r = synthesised
    assert r.latches == 0
    assert 125 <= r.flip_flops <= 160
    assert 15_000 < r.area < 22_000
    assert r.smallest_tile().name == "1x2"


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
