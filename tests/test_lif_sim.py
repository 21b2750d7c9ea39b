# SPDX-License-Identifier: Apache-2.0
"""The generated LIF Verilog on Icarus and Verilator through cocotb, against the reference.

Each design is built once per simulator (builds are cached by source digest under
build/tests), and every test of that design reuses the build.
"""

from __future__ import annotations


import pytest

from neurotile.blocks.lif import BLOCK
from neurotile.design import elaborate
from neurotile.neurons.lif import LIFIntParams
from neurotile.testbench.check import check_population
from neurotile.testbench.runner import SIMULATORS, lint

pytestmark = pytest.mark.sim

DESIGNS = {
    # The population at its defaults (the 100,000-update regression runs on the bulk path,
    # tests/test_bulk.py; here the cycle-level checker with its stalls and resets).
    "default": (dict(), 400),
    "n256": (dict(neurons=256), 40),
    "neuron-multiply-zero-now": (dict(neurons=1, leak="multiply", reset="zero",
                                      reset_delay=False, refractory_width=3), 3000),
    "wide-subtract-now": (dict(neurons=7, width=16, input_width=12, reset_delay=False,
                               refractory_width=0), 600),
    # The clock-gated flip-flop ring instead of the register file: the same behaviour.
    "ring": (dict(storage="ring", neurons=12), 400),
}


def _run(sim, name, build_root, **options):
    params, steps = DESIGNS[name]
    storage = params.get("storage", "memory")
    p = LIFIntParams(**{k: v for k, v in params.items() if k != "storage"})
    return p, check_population(p, sim=sim, steps=steps, seed=options.pop("seed", 1),
                               build_dir=build_root / "lif" / name, storage=storage,
                               bulk=False, **options)


@pytest.mark.parametrize("sim", SIMULATORS)
@pytest.mark.parametrize("name", list(DESIGNS))
def test_lif_bit_exact(sim, name, build_root):
    p, report = _run(sim, name, build_root)
    assert report["passed"], f"see {report['run_dir']}"
    assert report["mismatches"] == 0
    assert report["spikes"] > 0


@pytest.mark.parametrize("sim", SIMULATORS)
def test_planted_error_is_caught(sim, build_root):
    """One expected membrane is off by one LSB: the run must report exactly that mismatch."""
    _, report = _run(sim, "wide-subtract-now", build_root, plant=[200, 3])
    assert report["passed"]  # the cocotb test asserts it found exactly the planted error
    assert report["mismatches"] == 1
    assert report["first_mismatches"][0] | {"expected": 0, "observed": 0} == {
        "step": 200, "neuron": 3, "field": "membrane", "expected": 0, "observed": 0}


def test_unannounced_error_fails_the_cocotb_test(build_root):
    """The same wrong expectation, unannounced: cocotb records a failure in results.xml."""
    _, report = _run("icarus", "wide-subtract-now", build_root, corrupt=[200, 3])
    assert not report["passed"]
    assert report["mismatches"] == 1


@pytest.mark.parametrize("name", ["default", "neuron-multiply-zero-now"])
def test_verilator_lint_clean(name, tmp_path):
    """``verilator --lint-only -Wall`` passes with the waivers the README explains.

    WIDTH: Amaranth widens and narrows operands freely (legal Verilog). PROCASSINIT: registers
    carry their power-on value in the declaration and are also assigned in always blocks.
    UNUSEDSIGNAL: struct fields Amaranth unpacks but the logic does not read. DECLFILENAME: the
    module is named by the generator, not by the file.
    """
    design = elaborate(BLOCK, DESIGNS[name][0])
    result = lint(design.verilog, design.top, tmp_path)
    assert result.returncode == 0, result.stderr
