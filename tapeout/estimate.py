# SPDX-License-Identifier: Apache-2.0
"""The area of a TinyTapeout top and the tile it needs: synthesis to Sky130 cells, cached."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from neurotile.errors import UsageError

__all__ = ["AreaEstimate", "DENSITY_PCT", "DENSITY_CAP_PCT", "DENSITY_MARGIN_PCT",
           "DENSITY_HINT_PCT", "TileChoice", "synth_estimator", "choose_tile", "denser_tile",
           "check_density_pct"]

#: TinyTapeout's default placement density (``PL_TARGET_DENSITY_PCT`` of its template).
DENSITY_PCT = 60
#: The highest placement density the automatic choice declares: what TinyTapeout projects are
#: reported to place and route with; above it only an explicit ``--placement-density`` goes.
DENSITY_CAP_PCT = 80
#: The highest density :func:`denser_tile` suggests giving explicitly.
DENSITY_HINT_PCT = 90
#: Percentage points the automatic choice declares above the synthesised utilisation, for what
#: the hardening flow adds to the synthesised cells: tap cells (about 3% of a 1x1 core), clock
#: tree, repair and hold buffers.
DENSITY_MARGIN_PCT = 5


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
            if netlist.exists() and netlist.with_name(f"{top}.yosys.json").exists():
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


@dataclass(frozen=True)
class TileChoice:
    """The tile of a project and the placement density it declares.

    Members
    -------
    tile : str
        ``info.yaml`` spelling.
    utilisation : float
        Cell area over the tile's core area.
    density_pct : int
        ``PL_TARGET_DENSITY_PCT`` for ``src/config.json``.
    declared : bool
        The density was given (``--placement-density``) rather than chosen.
    """

    tile: str
    utilisation: float
    density_pct: int
    declared: bool = False


def check_density_pct(density_pct: int) -> int:
    """``density_pct`` if it is a whole percentage from 1 to 100; ``UsageError`` otherwise."""
    if isinstance(density_pct, bool) or not isinstance(density_pct, int) \
            or not 1 <= density_pct <= 100:
        raise UsageError(f"--placement-density must be a whole percentage from 1 to 100, "
                         f"not {density_pct!r}")
    return density_pct


def choose_tile(area: float, density_pct: int | None = None) -> TileChoice:
    """The smallest tile for ``area`` um^2 of cells and the density the project declares.

    With ``density_pct`` given, the smallest tile whose core holds the area at that density.
    Without it, the smallest tile that holds the area either at TinyTapeout's default
    (:data:`DENSITY_PCT`, declared as is) or at a raised density: the utilisation plus
    :data:`DENSITY_MARGIN_PCT` points, rounded up, at most :data:`DENSITY_CAP_PCT`. A smaller
    tile at a raised density is preferred to a larger one at the default.

    Raises
    ------
    UsageError
        For a density out of range, or an area no tile holds.
    """
    from neurotile.flows.tiles import TILES

    tiles = sorted(TILES, key=lambda t: t.core_area)
    if density_pct is not None:
        density_pct = check_density_pct(density_pct)
        for tile in tiles:
            if area <= tile.core_area * density_pct / 100:
                return TileChoice(tile.name, area / tile.core_area, density_pct, True)
        limit, how = density_pct, f"{density_pct}% density"
    else:
        for tile in tiles:
            util = area / tile.core_area
            if util <= DENSITY_PCT / 100:
                return TileChoice(tile.name, util, DENSITY_PCT)
            raised = math.ceil(round(util * 100 + DENSITY_MARGIN_PCT, 6))
            if raised <= DENSITY_CAP_PCT:
                return TileChoice(tile.name, util, raised)
        limit = DENSITY_CAP_PCT - DENSITY_MARGIN_PCT
        how = (f"{limit}% utilisation ({DENSITY_CAP_PCT}% density less {DENSITY_MARGIN_PCT} "
               "points of margin)")
    biggest = tiles[-1]
    capacity = biggest.core_area * limit / 100
    raise UsageError(
        f"the design does not fit any tile: {area:,.0f} um^2 of cells, but the largest tile "
        f"({biggest.name}) holds {capacity:,.0f} um^2 at {how} "
        f"({area / capacity - 1:.0%} over); choose smaller parameters")


def denser_tile(area: float, choice: TileChoice) -> TileChoice | None:
    """A smaller tile than the automatic ``choice`` that would hold ``area`` um^2 at a density
    above :data:`DENSITY_CAP_PCT` (the utilisation plus :data:`DENSITY_MARGIN_PCT` points, at
    most :data:`DENSITY_HINT_PCT`), for the user to ask for explicitly; ``None`` when there is
    none or the density was given."""
    from neurotile.flows.tiles import TILES

    if choice.declared:
        return None
    current = next(t for t in TILES if t.name == choice.tile).core_area
    for tile in sorted(TILES, key=lambda t: t.core_area):
        if tile.core_area >= current:
            return None
        util = area / tile.core_area
        pct = math.ceil(round(util * 100 + DENSITY_MARGIN_PCT, 6))
        if pct <= DENSITY_HINT_PCT:
            return TileChoice(tile.name, util, pct, True)
    return None
