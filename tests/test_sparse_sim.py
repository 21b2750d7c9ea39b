# SPDX-License-Identifier: Apache-2.0
"""The generated sparse-tile and spiking-layer Verilog on Icarus and Verilator, via cocotb.

Every accumulator (tile) and every output spike event (layer) is compared with the reference
model; stimulus: saturation corners, random matrices at densities 1 % to 100 %, random spike
trains, weights reprogrammed between runs, resets, gaps and back-pressure on the streams. Each
design is built once per simulator (cached by source digest under build/tests) and every test
of that design reuses the build.
"""

from __future__ import annotations


import pytest

from neurotile.blocks import get_block
from neurotile.blocks import sparse_matmul as sparse_block
from neurotile.blocks import spiking_layer as layer_block
from neurotile.design import elaborate
from neurotile.testbench.runner import SIMULATORS, lint

pytestmark = pytest.mark.sim

SPARSE = {
    "default": (dict(), 300),
    "odd-multibit": (dict(inputs=13, outputs=7, weight_width=5, acc_width=9, depth=60,
                          act_width=3, banks=2), 200),
    "one-by-one": (dict(inputs=1, outputs=1, weight_width=3, acc_width=4, depth=1), 60),
}


def _sparse(sim, name, build_root, **options):
    params, steps = SPARSE[name]
    p = sparse_block.sparse_params(params)
    return sparse_block.run_design(p, sim=sim, steps=steps, seed=options.pop("seed", 1),
                                   build_dir=build_root / "sparse-matmul" / name, **options)


def _layer(sim, build_root, steps=150, **options):
    return layer_block.run_design({}, sim=sim, steps=steps, seed=options.pop("seed", 1),
                                  build_dir=build_root / "spiking-layer" / "default", **options)


@pytest.mark.parametrize("sim", SIMULATORS)
@pytest.mark.parametrize("name", ["default", "odd-multibit"])
def test_sparse_bit_exact(sim, name, build_root):
    report = _sparse(sim, name, build_root)
    assert report["passed"], f"see {report['run_dir']}"
    assert report["mismatches"] == 0
    assert report["steps"] >= SPARSE[name][1]
    assert report["synaptic_ops"] > 1000


def test_sparse_one_by_one_icarus(build_root):
    """The degenerate tile (one input, one output, one weight) on Icarus."""
    report = _sparse("icarus", "one-by-one", build_root)
    assert report["passed"], f"see {report['run_dir']}"
    assert report["mismatches"] == 0 and report["synaptic_ops"] > 0


@pytest.mark.parametrize("sim", SIMULATORS)
def test_sparse_planted_error_is_caught(sim, build_root):
    """One expected accumulator is off by one LSB: the run reports exactly that mismatch."""
    report = _sparse(sim, "default", build_root, plant=[40, 3])
    assert report["passed"]  # the cocotb test asserts it found exactly the planted error
    assert report["mismatches"] == 1
    assert report["first_mismatches"][0] | {"expected": 0, "observed": 0} == {
        "step": 40, "neuron": 3, "field": "value", "expected": 0, "observed": 0}


def test_sparse_unannounced_error_fails_the_cocotb_test(build_root):
    report = _sparse("icarus", "default", build_root, corrupt=[40, 3])
    assert not report["passed"]
    assert report["mismatches"] == 1


@pytest.mark.parametrize("sim", SIMULATORS)
def test_layer_bit_exact(sim, build_root):
    report = _layer(sim, build_root)
    assert report["passed"], f"see {report['run_dir']}"
    assert report["mismatches"] == 0
    assert report["spikes"] > 50


@pytest.mark.parametrize("sim", SIMULATORS)
def test_layer_planted_error_is_caught(sim, build_root):
    """One neuron's expected spike is flipped: the run reports exactly that mismatch."""
    report = _layer(sim, build_root, steps=80, plant=[70, 4])
    assert report["passed"]
    assert report["mismatches"] == 1
    first = report["first_mismatches"][0]
    assert (first["step"], first["neuron"], first["field"]) == (70, 4, "spike")


@pytest.mark.parametrize(("name", "params"), [
    ("sparse-matmul", dict()),
    ("sparse-matmul", dict(inputs=13, outputs=7, act_width=3, depth=60, banks=2)),
    ("sparse-matmul", dict(inputs=1, outputs=1, depth=1)),
    ("spiking-layer", dict()),
    ("spiking-layer", dict(inputs=1, neurons=1, depth=1, refractory_width=0, leak="multiply",
                           banks=2)),
])
def test_verilator_lint_clean(name, params, tmp_path):
    """``verilator --lint-only -Wall`` passes with the waivers the LIF tests explain (WIDTH,
    UNUSEDSIGNAL, DECLFILENAME, PROCASSINIT), also for one-input, one-output degenerate sizes."""
    design = elaborate(get_block(name), params)
    result = lint(design.verilog, design.top, tmp_path)
    assert result.returncode == 0, result.stderr
