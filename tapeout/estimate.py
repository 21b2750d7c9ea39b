# SPDX-License-Identifier: Apache-2.0
"""The area of a TinyTapeout top and the tile it needs: synthesis to Sky130 cells, cached."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from neurotile.errors import UsageError

__all__ = ["AreaEstimate", "DENSITY_PCT", "synth_estimator", "choose_tile"]

#: Placement density the tile choice assumes (TinyTapeout's PL_TARGET_DENSITY_PCT).
DENSITY_PCT = 60


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


def choose_tile(area: float) -> tuple[str, float]:
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
