# SPDX-License-Identifier: Apache-2.0
"""A standalone LibreLane project (Classic flow, sky130A) for a neurotile design.

For users who harden a design outside TinyTapeout. TinyTapeout projects carry their own
``src/config.json`` in TinyTapeout's dialect (no ``meta`` key, 0/1 booleans, fixed floorplan); this
module writes the other kind: a ``config.json`` with ``"meta": {"version": 2, "flow": "Classic"}``
that LibreLane runs as ``librelane --pdk sky130A config.json``, next to a ``src/`` folder holding
the Verilog.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from neurotile.errors import UsageError

__all__ = ["librelane_config", "write_librelane_project"]


def _number(value: object, what: str, lo: float, hi: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{what} must be a number, not {value!r}")
    if not lo < value <= hi:
        raise ValueError(f"{what} must be in ({lo:g}, {hi:g}], not {value:g}")
    return int(value) if float(value).is_integer() else value


def librelane_config(*, top: str, verilog_files: Sequence[str] = ("dir::src/*.v",),
                     clock_port: str | None = "clk", clock_period_ns: float = 20.0,
                     core_util_pct: float = 40.0, density_pct: float | None = None,
                     pdk_cells: bool = False) -> dict[str, Any]:
    """The ``config.json`` contents for LibreLane's Classic flow.

    Parameters
    ----------
    top : str
        Top module (``DESIGN_NAME``).
    verilog_files : sequence of str
        ``VERILOG_FILES`` entries; ``dir::`` makes them relative to the config file.
    clock_port : str or None
        Clock input; ``None`` for a purely combinational design.
    clock_period_ns : float
        Target clock period, ns (20 = 50 MHz, TinyTapeout's default).
    core_util_pct : float
        Cell area as a percentage of the core area LibreLane sizes the die for (``FP_CORE_UTIL``).
    density_pct : float, optional
        Global placement density (``PL_TARGET_DENSITY_PCT``); LibreLane derives it when omitted.
    pdk_cells : bool
        The design instantiates standard cells by name (latch storage, clock gates): the linter
        then reads the PDK's cell models (``LINTER_INCLUDE_PDK_MODELS``), as TinyTapeout's
        config always does.

    Raises
    ------
    ValueError
        For out-of-range numbers or an empty file list.
    """
    if not top or not top.replace("_", "a").isalnum():
        raise ValueError(f"Top module must be a Verilog identifier, not {top!r}")
    files = list(verilog_files)
    if not files:
        raise ValueError("VERILOG_FILES must name at least one file")
    config: dict[str, Any] = {
        "meta": {"version": 2, "flow": "Classic"},
        "DESIGN_NAME": top,
        "VERILOG_FILES": files[0] if len(files) == 1 else files,
        "FP_CORE_UTIL": _number(core_util_pct, "Core utilisation", 0, 100),
    }
    if clock_port:
        config["CLOCK_PORT"] = clock_port
        config["CLOCK_PERIOD"] = _number(clock_period_ns, "Clock period", 0, 1e6)
    else:
        config["CLOCK_PORT"] = None
    if density_pct is not None:
        config["PL_TARGET_DENSITY_PCT"] = _number(density_pct, "Placement density", 0, 100)
    if pdk_cells:
        config["LINTER_INCLUDE_PDK_MODELS"] = True
    return config


def write_librelane_project(design: str | Path, out_dir: str | Path, *, force: bool = False,
                            overwrite: bool = False, clock_period_ns: float = 20.0,
                            core_util_pct: float = 40.0, density_pct: float | None = None) -> Path:
    """Write ``out_dir/config.json`` and ``out_dir/src/*.v`` for a design folder.

    ``design`` is what :func:`neurotile.flows.synth.load_design` accepts (a ``neurotile generate``
    folder or a TinyTapeout project). Returns the path of ``config.json``. ``force`` and
    ``overwrite`` are those of :func:`neurotile.output.write_tree`.

    Raises
    ------
    UsageError
        For an unusable design folder or output folder, or invalid numbers.
    """
    from neurotile.flows.synth import load_design
    from neurotile.rtl.cells import verilog_instantiates_cells as instantiates_cells
    from neurotile.output import check_output_dir, write_tree

    src = load_design(design)
    check_output_dir(out_dir, force=force or overwrite)
    names = [p.name for p in src.sources]
    if len(set(names)) != len(names):
        raise UsageError(f"{design}: two source files share a name; cannot flatten into src/")
    try:
        config = librelane_config(top=src.top, verilog_files=[f"dir::src/{n}" for n in names],
                                  clock_period_ns=clock_period_ns, core_util_pct=core_util_pct,
                                  density_pct=density_pct,
                                  pdk_cells=any(instantiates_cells(p.read_text())
                                                for p in src.sources))
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    files = {f"src/{p.name}": p.read_text() for p in src.sources}
    files["config.json"] = json.dumps(config, indent=2) + "\n"
    out = write_tree(out_dir, files, force=force, overwrite=overwrite)
    return out / "config.json"
