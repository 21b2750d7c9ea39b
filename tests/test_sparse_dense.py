# SPDX-License-Identifier: Apache-2.0
"""The sparse tile's dense layout and its latch memories (``rtl/synapse_memory.py``).

``SparseMatmul(storage="latch", layout="dense")`` keeps every weight of the matrix in its place
(no column index, no row pointer) and walks the non-zero weights of a spiking input's row, one per
cycle. Checked bit-exact against the reference on Amaranth's simulator, Icarus and Verilator
(weights reprogrammed between runs, random gaps and back-pressure, a planted error reported),
at gate level, with the same cycles per step as the CSR layout, and lint clean.
"""

from __future__ import annotations

import numpy as np
import pytest

from neurotile.neurons.synapses import CSRMatrix, SparseParams, dense_writes
from neurotile.rtl.cells import CLOCK_GATE, LATCH
from neurotile.rtl.export import to_verilog

DENSE = dict(inputs=6, outputs=5, weight_width=6, acc_width=8, depth=30, banks=2)
ONE_BANK = dict(inputs=5, outputs=7, weight_width=4, acc_width=7, depth=35, act_width=3)


def test_parameters():
    from neurotile.rtl.sparse_matmul import SparseMatmul

    with pytest.raises(ValueError, match=r"^layout must be 'csr' or 'dense', not 'coo'$"):
        SparseMatmul(layout="coo")
    with pytest.raises(TypeError, match=r"^layout must be a string, not 1$"):
        SparseMatmul(layout=1)
    with pytest.raises(ValueError, match=r"^layout 'dense' needs storage='latch'"):
        SparseMatmul(layout="dense")
    with pytest.raises(ValueError, match=r"needs depth of at least inputs x outputs \(256\), "
                                         r"not 255$"):
        SparseMatmul(layout="dense", storage="latch", depth=255)
    dut = SparseMatmul(layout="dense", storage="latch")
    assert not hasattr(dut, "ptr_write") and not hasattr(dut, "syn_write")
    assert dut.weight_write.addr.shape().width == 8


def test_dense_writes_place_every_weight():
    p = SparseParams(inputs=3, outputs=5, weight_width=4, depth=15)
    w = np.array([[0, 1, 0, -8, 0], [0, 0, 0, 0, 0], [7, 0, -1, 0, 2]])
    addr, val = dense_writes(CSRMatrix.from_dense(w), p)
    assert len(addr) == 15
    assert addr[5 + 3] == (1 << 3) | 3 and addr[10] == 2 << 3
    assert list(val[:5]) == [0, 1, 0, 8, 0] and list(val[10:]) == [7, 0, 15, 0, 2]


@pytest.mark.parametrize("params", [DENSE, ONE_BANK])
def test_amaranth_simulator(params):
    """Directed corners and random runs, weights reprogrammed between runs, resets in the
    middle of a step; every accumulator checked; a planted error is the only mismatch."""
    from neurotile.testbench.sparse_matmul import run_amaranth

    cfg = {"params": params, "steps": 80, "seed": 3, "storage": "latch", "layout": "dense"}
    report = run_amaranth(cfg)
    assert report["mismatches"] == 0, report["first_mismatches"][:3]
    assert report["steps"] >= 80
    assert run_amaranth(cfg | {"plant": [30, 2]})["mismatches"] == 1


def test_cycles_per_step_match_the_csr_layout():
    """Zero weights cost no cycle: every step takes as long as on the CSR tile."""
    from neurotile.testbench.sparse_matmul import run_amaranth

    base = {"params": DENSE, "steps": 40, "seed": 11, "storage": "latch", "gap": 0, "stall": 0}
    csr = run_amaranth(base)
    dense = run_amaranth(base | {"layout": "dense"})
    assert dense["mismatches"] == csr["mismatches"] == 0
    assert dense["periods"] == csr["periods"] and len(dense["periods"]) >= 20


@pytest.mark.sim
@pytest.mark.parametrize("sim", ["icarus", "verilator"])
def test_simulators(sim, build_root):
    from neurotile.rtl.export import port_list
    from neurotile.rtl.sparse_matmul import SparseMatmul
    from neurotile.testbench.sparse_bulk import run_sparse_bulk

    dut = SparseMatmul(**DENSE, storage="latch", layout="dense")
    design = dict(sim=sim, verilog=to_verilog(dut, name="dense"), top="dense",
                  ports=port_list(dut), build_dir=build_root / "dense" / sim)
    cfg = {"params": DENSE, "steps": 200, "seed": 8, "layout": "dense"}
    report = run_sparse_bulk(cfg, **design)
    assert report["mismatches"] == 0, report["first_mismatches"][:3]
    assert report["steps"] >= 200
    assert run_sparse_bulk(cfg | {"plant": [40, 3]}, **design)["mismatches"] == 1


def test_lint_clean(tmp_path):
    from neurotile.rtl.sparse_matmul import SparseMatmul
    from neurotile.testbench.runner import lint

    verilog = to_verilog(SparseMatmul(**DENSE, storage="latch", layout="dense"), name="dense")
    result = lint(verilog, "dense", tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.flows
def test_gate_level(build_root):
    """Synthesised (latches and clock gates kept as cells), on the sky130 cell models with power
    pins: every accumulator bit-exact, a planted error found."""
    from neurotile.flows.gatelevel import bundle
    from neurotile.flows.synth import synthesize
    from neurotile.rtl.sparse_matmul import SparseMatmul
    from neurotile.testbench.runner import run_checker

    params = dict(inputs=4, outputs=3, weight_width=4, acc_width=6, depth=12)
    work = build_root / "dense" / "gl"
    work.mkdir(parents=True, exist_ok=True)
    (work / "tile.v").write_text(to_verilog(SparseMatmul(**params, storage="latch",
                                                         layout="dense"), name="tile"))
    result = synthesize([work / "tile.v"], top="tile", work_dir=work / "synth")
    # Weights: 4 rows of one word of three 4-bit weights (the word's fourth slot is never read,
    # and synthesis drops its latches); accumulators 3 x 6.
    assert result.cell_counts[LATCH] == 4 * 3 * 4 + 3 * 6
    assert result.cell_counts[CLOCK_GATE] == 4 + 3
    verilog = bundle(result.netlist, top="tile", power_pins=True)
    run = dict(verilog=verilog, top="tile", test_module="neurotile.testbench.sparse_matmul",
               build_dir=work / "run", seed=4, extra_env={"COCOTB_RESOLVE_X": "random"})
    cfg = {"params": params, "steps": 60, "seed": 4, "gate_level": True, "layout": "dense"}
    report = run_checker("icarus", config=cfg, **run)
    assert report["passed"] and report["mismatches"] == 0, f"see {report['run_dir']}"
    planted = run_checker("icarus", config=cfg | {"plant": [30, 1]}, **run)
    assert planted["passed"] and planted["mismatches"] == 1


LAYER = dict(inputs=5, neurons=4, weight_width=5, acc_width=8, depth=20, width=10)


def test_layer_parameters():
    from neurotile.rtl.spiking_layer import SpikingLayer

    with pytest.raises(ValueError, match=r"^layout 'dense' needs storage='latch'"):
        SpikingLayer(layout="dense")
    layer = SpikingLayer(storage="latch", layout="dense")
    assert not hasattr(layer, "ptr_write") and hasattr(layer, "weight_write")


def test_layer_in_amaranth_simulator():
    from neurotile.testbench.spiking_layer import run_amaranth

    cfg = {"params": LAYER, "steps": 60, "seed": 6, "storage": "latch", "layout": "dense"}
    report = run_amaranth(cfg)
    assert report["mismatches"] == 0, report["first_mismatches"][:3]
    assert run_amaranth(cfg | {"plant": [20, 2]})["mismatches"] == 1


@pytest.mark.sim
@pytest.mark.parametrize("sim", ["icarus", "verilator"])
def test_layer_on_simulators(sim, build_root):
    from neurotile.rtl.export import port_list
    from neurotile.rtl.spiking_layer import SpikingLayer
    from neurotile.testbench.sparse_bulk import run_layer_bulk

    dut = SpikingLayer(**LAYER, storage="latch", layout="dense")
    design = dict(sim=sim, verilog=to_verilog(dut, name="layer_dense"), top="layer_dense",
                  ports=port_list(dut), build_dir=build_root / "dense" / f"layer-{sim}")
    cfg = {"params": LAYER, "steps": 200, "seed": 8, "layout": "dense"}
    report = run_layer_bulk(cfg, **design)
    assert report["mismatches"] == 0, report["first_mismatches"][:3]
    assert report["steps"] >= 200
    assert run_layer_bulk(cfg | {"plant": [40, 2]}, **design)["mismatches"] == 1
