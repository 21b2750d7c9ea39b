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
    .github/workflows/   TinyTapeout's four workflows: test (the cocotb test), gds (hardening,
                         precheck, gate-level test, layout viewer), docs, fpga

The work is split by concern: :mod:`~neurotile.tapeout.estimate` (area and tile),
:mod:`~neurotile.tapeout.texts` (the file texts, most rendered from ``templates/``) and
:mod:`~neurotile.tapeout.testrun` (running the project's test); their public names are importable
from here too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from neurotile import __version__
from neurotile.errors import UsageError
from neurotile.flows.timing import DEFAULT_CLOCK_HZ, TimingCheck, check_timing, timing_message
from neurotile.rtl.export import to_verilog
from neurotile.tapeout.adapters import COMMON_PARAMS, TapeoutAdapter
from neurotile.tapeout.estimate import (DENSITY_CAP_PCT, DENSITY_MARGIN_PCT, DENSITY_PCT,
                                        AreaEstimate, TileChoice, choose_tile, denser_tile,
                                        synth_estimator)
from neurotile.tapeout.host import BUSY_PIN, UIO_OUTPUTS, WRITE_STROBE_PIN, RegisterMap
from neurotile.tapeout.testrun import gate_level_make_args, run_make
from neurotile.tapeout.texts import (
    CONFIG_JSON, config_json, info_md, info_yaml, render, submit_md, workflows,
)
from neurotile.tapeout.wrapper import TinyTapeoutTop

__all__ = ["AreaEstimate", "Project", "generate", "synth_estimator", "project_name",
           "gate_level_make_args", "run_make", "CONFIG_JSON", "DENSITY_PCT"]

#: Clock cycles the test waits for ``busy`` to fall before it reports a hang.
BUSY_TIMEOUT = 10_000


@dataclass(frozen=True)
class Project:
    """A generated project: its files, top module, estimate and chosen tile."""

    top: str
    files: dict[str, str]
    estimate: AreaEstimate
    tile: str
    utilisation: float
    regmap: RegisterMap
    timing: TimingCheck | None = None
    density_pct: int = DENSITY_PCT
    denser: TileChoice | None = None

    def report(self) -> str:
        """One line naming the area and the tile (and one with the timing sanity check, one
        with a smaller tile the project could take at a density given explicitly)."""
        e = self.estimate
        line = (f"area: {e.area:,.0f} um^2 in {e.cells} cells ({e.flip_flops} flip-flops); "
                f"tile {self.tile} at {self.utilisation:.0%} utilisation "
                f"(target density {self.density_pct}%")
        if self.density_pct > DENSITY_CAP_PCT:
            line += f", above the {DENSITY_CAP_PCT}% TinyTapeout projects are reported to route"
        line += ")"
        if self.timing is not None:
            line += "\n" + timing_message(self.timing)
        if self.denser is not None:
            d = self.denser
            line += (f"\nnote: a {d.tile} tile holds it at {d.utilisation:.0%} utilisation with "
                     f"--placement-density {d.density_pct}, above the {DENSITY_CAP_PCT}% "
                     "TinyTapeout projects are reported to route (its GDS workflow decides)")
        return line


def density_note(choice: TileChoice) -> str:
    """A README paragraph on a placement density above TinyTapeout's default (else nothing)."""
    if choice.density_pct <= DENSITY_PCT:
        return ""
    how = ("as given with --placement-density" if choice.declared else
           f"the synthesised utilisation plus {DENSITY_MARGIN_PCT} points for what the "
           "hardening flow adds")
    return (f"\n## Placement density\n\nThe cells take {choice.utilisation:.1%} of the {choice.tile} "
            f"core, more than TinyTapeout's default placement density of {DENSITY_PCT}% allows, "
            f"so `src/config.json` declares `PL_TARGET_DENSITY_PCT` {choice.density_pct} "
            f"({how}). Whether the design places and routes at that density is decided by "
            "TinyTapeout's GDS workflow (the `gds` action): if it fails there, regenerate with "
            "a lower `--placement-density` (a larger tile) or smaller parameters.\n")


def _option(name: str, value: Any) -> str:
    """``name=value`` as the command line spells it: ``--flag``/``--no-flag`` for a bool, the
    value quoted for the shell where it needs it."""
    import shlex

    flag = "--" + name.replace("_", "-")
    if isinstance(value, bool):
        return flag if value else "--no-" + flag[2:]
    return f"{flag} {shlex.quote(str(value))}"


def project_name(adapter: TapeoutAdapter, name: str | None) -> str:
    """The top module name ``tt_um_<name>``; ``UsageError`` for names Verilog cannot take."""
    name = name or f"neurotile_{adapter.block.replace('-', '_')}"
    if name.startswith("tt_um_"):
        name = name[len("tt_um_"):]
    if not name or not (name[0].isalpha() and all(c.isalnum() or c == "_" for c in name)):
        raise UsageError(f"--name must be letters, digits and '_' starting with a letter, "
                         f"not {name!r}")
    return f"tt_um_{name}"


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
    if adapter.clock_hz is not None:
        common["clock_hz"] = adapter.clock_hz
    block_params = adapter.defaults()
    for key, value in params.items():
        if value is None:
            continue
        if key in common:
            common[key] = value
        if key in block_params:  # a block parameter named like a common one reads it too
            block_params[key] = value
        elif key not in common:
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
    choice = choose_tile(estimate.area, common["placement_density"])
    tile, util, density_pct = choice.tile, choice.utilisation, choice.density_pct
    timing = None
    if estimate.netlist is not None:
        netlist_json = estimate.netlist.with_name(f"{top}.yosys.json")
        if netlist_json.is_file():
            timing = check_timing(netlist_json, top=top,
                                  clock_hz=common["clock_hz"] or DEFAULT_CLOCK_HZ)

    script = adapter.vectors(block_params, regmap, common["seed"], steps)
    clock_period_ns = 20 if common["clock_hz"] <= 0 else max(1, round(1e9 / common["clock_hz"]))
    meta = {"top": top, "block": adapter.block, "seed": common["seed"], "steps": steps,
            "reads": script.reads, "clock_period_ns": clock_period_ns,
            "generator": f"neurotile {__version__}"}
    text = adapter.describe(block_params, regmap)

    args = "".join(f"{_option(k, v)} " for k, v in sorted(params.items()) if v is not None)
    manifest = {
        "generator": f"neurotile {__version__}",
        "block": adapter.block,
        "top": top,
        "params": block_params,
        "common": common | {"steps": steps},
        "registers": regmap.to_dict(),
        "area": {"um2": round(estimate.area, 4), "cells": estimate.cells,
                 "flip_flops": estimate.flip_flops, "library": estimate.library,
                 "tile": tile, "utilisation": round(util, 4), "density_pct": density_pct},
        "test": {"reads": script.reads, "steps": steps, "seed": common["seed"]},
    }
    files = {
        "info.yaml": info_yaml(top, tile, common["clock_hz"], common["author"], text.title,
                               text.description, regmap),
        f"src/{top}.v": verilog,
        "src/config.json": config_json(common["clock_hz"], density_pct),
        "docs/info.md": info_md(text, regmap),
        "test/Makefile": render("Makefile", top=top),
        "test/tb.v": render("tb.v", top=top),
        "test/test.py": render("test.py", strobe=WRITE_STROBE_PIN, busy=BUSY_PIN,
                               uio_oe=sum(1 << p for p in UIO_OUTPUTS), timeout=BUSY_TIMEOUT),
        "test/vectors.json": script.to_json(meta),
        "test/requirements.txt": "cocotb==2.0.1\n",
        "test/README.md": render("test-README.md", top=top, reads=script.reads, steps=steps,
                                 seed=common["seed"]),
        "neurotile.json": json.dumps(manifest, indent=2, sort_keys=True) + "\n",
        "README.md": render("README.md", title=text.title, description=text.description,
                            version=__version__, block=adapter.block, args=args, top=top,
                            area=estimate.area, tile=tile) + density_note(choice)
                     + submit_md(top, tile),
        ".gitignore": render("gitignore"),
    } | workflows(top)
    return Project(top, files, estimate, tile, util, regmap, timing, density_pct,
                   denser_tile(estimate.area, choice))
