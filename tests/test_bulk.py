# SPDX-License-Identifier: Apache-2.0
"""The bulk checking path: record encoding, agreement with the cycle checker, caught errors."""

from __future__ import annotations

import numpy as np
import pytest

from neurotile.neurons.lif import LIFIntParams
from neurotile.testbench.bulk import field_of, hex_records, parse_records
from neurotile.testbench.check import check_population


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
DEFAULT = LIFIntParams()


def _bulk(sim, build_root, steps, seed, **options):
    return check_population(DEFAULT, sim=sim, steps=steps, seed=seed,
                            build_dir=build_root / "lif" / "default", **options)


@pytest_sim
@pytest.mark.parametrize("sim", SIMS)
def test_bulk_regression_bit_exact(sim, build_root):
    """The default population, 100,000+ neuron-updates with gaps, stalls and resets."""
    report = _bulk(sim, build_root, 3300, 21)
    assert report["mismatches"] == 0, report["first_mismatches"][:3]
    assert report["updates"] == report["sent"] >= 100_000
    assert report["spikes"] > 0


@pytest_sim
@pytest.mark.parametrize("sim", SIMS)
def test_bulk_reports_planted_error(sim, build_root):
    report = _bulk(sim, build_root, 200, 5, plant=[150, 17])
    assert report["mismatches"] == 1
    first = report["first_mismatches"][0]
    assert (first["step"], first["neuron"], first["field"]) == (150, 17, "membrane")
    assert abs(first["expected"] - first["observed"]) == 1


@pytest_sim
def test_bulk_agrees_with_cycle_checker(build_root):
    """Same stimulus through both paths: same outputs checked, same spikes, no mismatch."""
    bulk = _bulk("icarus", build_root, 150, 8)
    cycle = _bulk("icarus", build_root, 150, 8, bulk=False)
    assert bulk["mismatches"] == cycle["mismatches"] == 0
    assert (bulk["updates"], bulk["spikes"]) == (cycle["updates"], cycle["spikes"])


@pytest_sim
def test_bulk_catches_faulty_hardware(build_root):
    from tests.test_lif_rtl import _OffByOneCompare

    report = check_population(DEFAULT, sim="verilator", steps=300, seed=4,
                              build_dir=build_root / "lif" / "mutant", datapath=_OffByOneCompare)
    assert report["mismatches"] > 0
    assert "spike" in {m["field"] for m in report["first_mismatches"]}


# -- the harness ----------------------------------------------------------------------------------

def _lif_harness():
    from neurotile.testbench.check import population_verilog
    from neurotile.testbench.population_bulk import population_harness

    verilog, top, ports = population_verilog(DEFAULT)
    return verilog, population_harness(top, ports, 1000)


def test_bulk_reexports_harness_and_records():
    """The bulk module still serves every name of the harness and record modules."""
    from neurotile.testbench import bulk, harness, records

    for module in (harness, records):
        for name in module.__all__:
            assert getattr(bulk, name) is getattr(module, name), name


def test_harness_action_layout():
    """Control fields (``stream``, ``rst``, ``hold``) come first, then the plain inputs in order."""
    from neurotile.testbench.bulk import HOLD_BITS

    _, h = _lif_harness()
    control = {"stream": (0, 1), "rst": (1, 1), "hold": (2, HOLD_BITS)}
    assert list(h.action_fields)[:3] == list(control)
    assert {k: h.action_fields[k] for k in control} == control
    assert list(h.action_fields)[3:] == [p["name"] for p in h.inputs]
    assert h.action_width == 2 + HOLD_BITS + sum(p["width"] for p in h.inputs)


@pytest_sim
@pytest.mark.parametrize("clock", ["internal", "external"])
def test_harness_lint_clean(clock, tmp_path):
    """``verilator --lint-only -Wall`` passes on the harness and its design with the design's
    waivers (:data:`~neurotile.testbench.runner.LINT_WAIVERS`), self-clocked (Icarus) or clocked
    from C++ (the Verilator build)."""
    from neurotile.testbench.runner import lint

    verilog, h = _lif_harness()
    define = "`define NT_EXTERNAL_CLOCK\n" if clock == "external" else ""
    result = lint(define + verilog + "\n" + h.verilog(), "nt_bulk", tmp_path)
    assert result.returncode == 0, result.stderr


def test_harness_refuses_ports_named_like_its_own_variables():
    """A design port called like a harness variable (a neuron setting ``seed``, say) would be
    shadowed inside the harness and never driven: refused with the names."""
    from neurotile.testbench.harness import BulkHarness

    ports = [{"name": n, "direction": "input", "width": 4, "signed": False}
             for n in ("seed", "gap", "threshold")]
    with pytest.raises(ValueError, match=r"^design ports gap, seed clash with names of the bulk "
                                         r"harness; rename them$"):
        BulkHarness("top", ports, [])
