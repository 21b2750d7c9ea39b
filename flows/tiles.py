# SPDX-License-Identifier: Apache-2.0
"""TinyTapeout tile sizes, utilisation and the smallest tile a design fits at a placement density.

A tile's *core* is the die (the tile outline) less the margins TinyTapeout's floorplan keeps: six
placement sites (0.46 um each) left and right, one standard-cell row (2.72 um) top and bottom. A 1x1
tile (161.00 x 111.52 um) therefore has a core of 155.48 x 106.08 um = 16,493 um^2. Utilisation is
cell area over core area; a design *fits* a tile when its utilisation is at most the placement
density (TinyTapeout's default is 60%).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Tile", "TileFit", "TILES", "DEFAULT_DENSITY", "get_tile", "utilisation", "fit",
           "smallest_tile"]

#: TinyTapeout's default placement density (``PL_TARGET_DENSITY_PCT`` 60).
DEFAULT_DENSITY = 0.60

_SITE_WIDTH = 0.46   # um, sky130_fd_sc_hd "unithd" site
_ROW_HEIGHT = 2.72   # um
_MARGIN_X = 6 * _SITE_WIDTH   # LEFT/RIGHT_MARGIN_MULT 6
_MARGIN_Y = 1 * _ROW_HEIGHT   # TOP/BOTTOM_MARGIN_MULT 1


@dataclass(frozen=True)
class Tile:
    """A TinyTapeout tile size.

    Members
    -------
    name : str
        ``info.yaml`` spelling, ``"1x1"`` .. ``"8x4"``.
    width, height : float
        Die size in um.
    """

    name: str
    width: float
    height: float

    @property
    def die_area(self) -> float:
        """Die area in um^2."""
        return self.width * self.height

    @property
    def core_area(self) -> float:
        """Area available to standard cells in um^2 (die less the floorplan margins)."""
        return (self.width - 2 * _MARGIN_X) * (self.height - 2 * _MARGIN_Y)


@dataclass(frozen=True)
class TileFit:
    """How a cell area sits in one tile at one density.

    Members
    -------
    tile : Tile
    area : float
        Cell area in um^2.
    density : float
        Target placement density, 0..1.
    utilisation : float
        ``area / tile.core_area``.
    fits : bool
        ``utilisation <= density``.
    """

    tile: Tile
    area: float
    density: float
    utilisation: float
    fits: bool

    @property
    def capacity(self) -> float:
        """Cell area the tile takes at ``density``, in um^2."""
        return self.tile.core_area * self.density


_TALL = 511.36
#: Every tile size a TinyTapeout shuttle offers, smallest first.
TILES: tuple[Tile, ...] = (
    Tile("1x1", 161.00, 111.52),
    Tile("1x2", 161.00, 225.76),
    Tile("2x2", 334.88, 225.76),
    Tile("3x2", 508.76, 225.76),
    Tile("4x2", 682.64, 225.76),
    Tile("6x2", 1030.40, 225.76),
    Tile("8x2", 1378.16, 225.76),
    Tile("3x4", 508.76, _TALL),
    Tile("4x4", 682.64, _TALL),
    Tile("5x4", 856.52, _TALL),
    Tile("6x4", 1030.40, _TALL),
    Tile("8x4", 1378.16, _TALL),
)


def _check_density(density: float) -> float:
    if isinstance(density, bool) or not isinstance(density, (int, float)) or not 0 < density <= 1:
        raise ValueError(f"Density must be a number in (0, 1], not {density!r}")
    return float(density)


def get_tile(name: str) -> Tile:
    """The tile called ``name`` (``"1x1"``, ``"2x2"``, ...).

    Raises
    ------
    ValueError
        For an unknown name; the message lists the tile names.
    """
    for tile in TILES:
        if tile.name == name:
            return tile
    raise ValueError(f"Tile must be one of {', '.join(t.name for t in TILES)}, not {name!r}")


def utilisation(area: float, tile: Tile | str) -> float:
    """Cell ``area`` (um^2) over the core area of ``tile`` (a :class:`Tile` or its name)."""
    tile = get_tile(tile) if isinstance(tile, str) else tile
    return area / tile.core_area


def fit(area: float, tile: Tile | str, density: float = DEFAULT_DENSITY) -> TileFit:
    """How ``area`` (um^2) fits ``tile`` at ``density`` (0..1)."""
    tile = get_tile(tile) if isinstance(tile, str) else tile
    density = _check_density(density)
    u = area / tile.core_area
    return TileFit(tile, area, density, u, u <= density)


def smallest_tile(area: float, density: float = DEFAULT_DENSITY) -> Tile | None:
    """The smallest tile (by core area) whose core holds ``area`` at ``density``; ``None`` if none."""
    density = _check_density(density)
    for tile in sorted(TILES, key=lambda t: t.core_area):
        if area <= tile.core_area * density:
            return tile
    return None
