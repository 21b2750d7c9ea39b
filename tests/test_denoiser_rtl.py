# SPDX-License-Identifier: Apache-2.0
"""The denoiser's RTL against its integer model: Amaranth's simulator, Icarus and Verilator.

Every decision is compared; stimulus: the window boundary, smallest and largest windows,
borders, diagonals, repeated pixels, out-of-sensor events, back-to-back neighbours, time
wrap-around with aliasing, random and synthetic streams, random gaps, back-pressure and a reset
before each stream. Small sensors with odd sizes keep the builds short; each design is built
once per simulator (cached by source digest under build/tests).
"""

from __future__ import annotations

import pytest

from neurotile.blocks import denoiser as block
from neurotile.design import elaborate
from neurotile.neurons.denoiser import DenoiserParams
from neurotile.rtl.denoiser import Denoiser
from neurotile.testbench import denoiser as tb
from neurotile.testbench.common import amaranth_loop
from neurotile.testbench.runner import SIMULATORS, lint

DESIGNS = {
    "exact4": dict(width=5, height=3, ts_bits=4),
    "exact8": dict(width=4, height=4, ts_bits=5, neighbours=8),
    "rowcol4": dict(width=6, height=5, ts_bits=4, filter="rowcol"),
    "rowcol8": dict(width=7, height=4, ts_bits=5, filter="rowcol", neighbours=8),
    "tiny": dict(width=2, height=3, ts_bits=2, neighbours=8),
}


@pytest.mark.parametrize("name", DESIGNS)
def test_amaranth_bit_exact(name):
    report = tb.run_amaranth({"params": DESIGNS[name], "steps": 700, "seed": 3})
    assert report["mismatches"] == 0, report["first_mismatches"][:3]
    assert report["decisions"] == report["events"] >= 700
    assert 0 < report["spikes"] < report["events"]


def test_one_event_per_cycle():
    """Without gaps or back-pressure each event takes one cycle (plus a reset and a drain
    cycle per stream)."""
    cfg = {"params": DESIGNS["rowcol8"], "steps": 300, "seed": 5, "gap": 0.0, "stall": 0.0,
           "directed": False}
    stim, checker = tb.check_config(cfg)
    report = amaranth_loop(Denoiser(**cfg["params"]), checker, ports=tb.component_ports,
                           max_cycles=10_000)
    assert report["mismatches"] == 0
    assert report["cycles"] == stim.events + 2 * len(stim.runs)


def test_planted_error_is_caught():
    report = tb.run_amaranth({"params": DESIGNS["exact4"], "steps": 200, "seed": 4,
                              "plant": 77})
    assert report["mismatches"] == 1
    first = report["first_mismatches"][0]
    assert (first["step"], first["field"]) == (77, "pass")


@pytest.mark.sim
@pytest.mark.parametrize("sim", SIMULATORS)
@pytest.mark.parametrize("name", ["exact4", "rowcol8"])
def test_hdl_bit_exact(sim, name, build_root):
    p = DenoiserParams(**DESIGNS[name])
    report = block.run_design(p, sim=sim, steps=600, seed=2,
                              build_dir=build_root / "denoiser" / name)
    assert report["passed"], f"see {report['run_dir']}"
    assert report["mismatches"] == 0 and report["decisions"] == report["events"] >= 600


@pytest.mark.sim
@pytest.mark.parametrize("sim", SIMULATORS)
def test_hdl_planted_error_fails_the_run(sim, build_root):
    """An unannounced wrong expectation fails the cocotb test on both simulators."""
    p = DenoiserParams(**DESIGNS["exact4"])
    report = block.run_design(p, sim=sim, steps=150, seed=2, corrupt=40,
                              build_dir=build_root / "denoiser" / "exact4")
    assert not report["passed"]
    assert report["mismatches"] == 1


@pytest.mark.sim
def test_lint_clean(build_root):
    for name in ("exact8", "rowcol4"):
        design = elaborate(block.BLOCK, DESIGNS[name])
        result = lint(design.verilog, design.top, build_root / "denoiser" / "lint")
        assert result.returncode == 0, result.stderr


def test_verilog_is_byte_identical():
    a = elaborate(block.BLOCK, DESIGNS["rowcol4"]).verilog
    b = elaborate(block.BLOCK, dict(DESIGNS["rowcol4"])).verilog
    assert a == b and "denoiser_rowcol_6x5_n4_t4" in a


@pytest.mark.parametrize("kwargs, message", [
    (dict(width=1), r"^width must be between 2 and 1024, not 1$"),
    (dict(filter="exact", width=100, height=100),
     r"^width x height must be at most 4096 pixels for the exact filter, not 100 x 100; use "
     r"filter rowcol$"),
])
def test_generator_rejects(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Denoiser(**kwargs)


# -- bulk path ---------------------------------------------------------------------------------

@pytest.mark.sim
@pytest.mark.parametrize("sim", SIMULATORS)
@pytest.mark.parametrize("name", ["exact8", "rowcol4"])
def test_bulk_bit_exact(sim, name, build_root):
    p = DenoiserParams(**DESIGNS[name])
    report = block.run_bulk_design(p, sim=sim, steps=3000, seed=6,
                                   build_dir=build_root / "denoiser" / name)
    assert report["passed"] and report["mismatches"] == 0, report["first_mismatches"][:3]
    assert report["decisions"] == report["events"] >= 3000
    assert 0 < report["spikes"] < report["events"]


@pytest.mark.sim
@pytest.mark.parametrize("sim", SIMULATORS)
def test_bulk_reports_planted_error(sim, build_root):
    p = DenoiserParams(**DESIGNS["exact8"])
    report = block.run_bulk_design(p, sim=sim, steps=500, seed=6, plant=321,
                                   build_dir=build_root / "denoiser" / "exact8")
    assert report["passed"] and report["mismatches"] == 1
    first = report["first_mismatches"][0]
    assert (first["step"], first["field"]) == (321, "pass")
