# SPDX-License-Identifier: Apache-2.0
"""The bulk checking path: record encoding, agreement with the cycle checker, caught errors."""

from __future__ import annotations

import numpy as np
import pytest

from neurotile.blocks.lif import BLOCK, int_params, run_design
from neurotile.design import elaborate, port_list
from neurotile.rtl.export import to_verilog
from neurotile.testbench.bulk import field_of, hex_records, parse_records
from neurotile.testbench.lif_bulk import run_lif_bulk


def test_hex_records_round_trip_across_lanes():
    rng = np.random.default_rng(0)
    rows = 1000
    a = rng.integers(-(1 << 20), 1 << 20, rows)
    b = rng.integers(0, 1 << 50, rows)
    c = rng.integers(0, 2, rows)
    text = hex_records([(a, 0, 21), (b, 21, 50), (c, 71, 1)], 72, rows)
    assert text.count(b"\n") == rows and len(text) == rows * 19
    lanes = parse_records(text, 72)
    assert np.array_equal(field_of(lanes, 0, 21, signed=True), a)
    assert np.array_equal(field_of(lanes, 21, 50), b)
    assert np.array_equal(field_of(lanes, 71, 1), c)


def test_parse_records_rejects_unknown_bits():
    with pytest.raises(RuntimeError, match="record 1 is not hexadecimal"):
        parse_records(b"0a\nx1\n", 8)


# -- on the simulators ----------------------------------------------------------------------------

pytest_sim = pytest.mark.sim
SIMS = ("icarus", "verilator")


def _default():
    design = elaborate(BLOCK, {})
    return design, int_params({})


def _cfg(steps, seed, **kw):
    p = int_params({})
    fields = {k: getattr(p, k) for k in p.__dataclass_fields__}
    return dict(params=fields, steps=steps, seed=seed, **kw)


@pytest_sim
@pytest.mark.parametrize("sim", SIMS)
def test_bulk_regression_bit_exact(sim, build_root):
    """The default population, 100,000+ neuron-updates with gaps, stalls and resets."""
    design, _ = _default()
    report = run_lif_bulk(_cfg(3300, 21), sim=sim, verilog=design.verilog, top=design.top,
                          ports=design.ports, build_dir=build_root / "bulk" / "default")
    assert report["mismatches"] == 0, report["first_mismatches"][:3]
    assert report["updates"] == report["sent"] >= 100_000
    assert report["spikes"] > 0


@pytest_sim
@pytest.mark.parametrize("sim", SIMS)
def test_bulk_reports_planted_error(sim, build_root):
    design, _ = _default()
    report = run_lif_bulk(_cfg(200, 5, plant=[150, 17]), sim=sim, verilog=design.verilog,
                          top=design.top, ports=design.ports,
                          build_dir=build_root / "bulk" / "default")
    assert report["mismatches"] == 1
    first = report["first_mismatches"][0]
    assert (first["step"], first["neuron"], first["field"]) == (150, 17, "membrane")
    assert abs(first["expected"] - first["observed"]) == 1


@pytest_sim
def test_bulk_agrees_with_cycle_checker(build_root):
    """Same stimulus through both paths: same outputs checked, same spikes, no mismatch."""
    design, p = _default()
    cfg = _cfg(150, 8)
    bulk = run_lif_bulk(cfg, sim="icarus", verilog=design.verilog, top=design.top,
                        ports=design.ports, build_dir=build_root / "bulk" / "default")
    cycle = run_design(p, sim="icarus", steps=150, seed=8,
                       build_dir=build_root / "lif" / "default")
    assert bulk["mismatches"] == cycle["mismatches"] == 0
    assert (bulk["updates"], bulk["spikes"]) == (cycle["updates"], cycle["spikes"])


@pytest_sim
def test_bulk_catches_faulty_hardware(build_root):
    from tests.test_lif_rtl import _Mutant

    mutant = _Mutant(neurons=32)
    verilog = to_verilog(mutant, name="lif_mutant")
    report = run_lif_bulk(_cfg(300, 4), sim="verilator", verilog=verilog, top="lif_mutant",
                          ports=port_list(mutant), build_dir=build_root / "bulk" / "mutant")
    assert report["mismatches"] > 0
    assert "spike" in {m["field"] for m in report["first_mismatches"]}
