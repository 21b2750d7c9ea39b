# SPDX-License-Identifier: Apache-2.0
"""Waveform files of the simulators and a ready GTKWave layout (``.gtkw``) for each.

A run that records waves (``WAVES=1`` or ``neurotile simulate --waves``) writes one file per run:
FST on Icarus (``vvp -fst``), VCD on Verilator (its FST writer needs Debian's ``liblz4-dev`` at
build time, which these machines do not have). :func:`write_gtkw` puts a layout next to it,
``<wave file stem>.gtkw``, listing the clock, the reset and every port of the design under the
scope the simulator gave it, inputs first; ``gtkwave FILE.gtkw`` opens the dump with them shown.
The signal names come from the design's port list (:func:`neurotile.rtl.export.port_list`),
never from a hand-written list.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

__all__ = ["WAVE_SUFFIX", "bulk_scope", "cocotb_scope", "gtkw_signals", "gtkw_text",
           "write_gtkw"]

#: The wave file each simulator writes.
WAVE_SUFFIX = {"icarus": ".fst", "verilator": ".vcd"}

# GTKWave trace flags as its save files write them: hexadecimal vectors, binary single bits.
_HEX, _BIN, _COMMENT = "@22", "@28", "@200"


def bulk_scope(sim: str) -> str:
    """Where the design sits in a bulk run's dump: the harness ``nt_bulk`` instantiates it as
    ``dut``; Verilator puts its own ``TOP`` above the model."""
    return "TOP.nt_bulk.dut" if sim == "verilator" else "nt_bulk.dut"


def cocotb_scope(sim: str, top: str) -> str:
    """Where the design sits in a cocotb run's dump: it is the top level on both simulators
    (Verilator's cocotb build names its ports' scope ``$rootio`` and the design by its name)."""
    return top


def _name(scope: str, port: dict) -> str:
    width = int(port["width"])
    return f"{scope}.{port['name']}" + (f"[{width - 1}:0]" if width > 1 else "")


def gtkw_signals(scope: str, ports: Sequence[dict]) -> list[tuple[str, str, int]]:
    """``(group, name, width)`` of every signal the layout shows: ``clk`` and ``rst``, then the
    design's inputs, then its outputs, in port order (GTKWave's names: ``scope.port[w-1:0]``)."""
    out = [("clock and reset", f"{scope}.clk", 1), ("clock and reset", f"{scope}.rst", 1)]
    for direction, group in (("input", "inputs"), ("output", "outputs")):
        out += [(group, _name(scope, p), int(p["width"])) for p in ports
                if p["direction"] == direction and p["name"] not in ("clk", "rst")]
    return out


def gtkw_text(wave: str | os.PathLike, scope: str, ports: Sequence[dict]) -> str:
    """The GTKWave save file showing ``ports`` of the design at ``scope`` in ``wave``."""
    wave = Path(wave).resolve()
    lines = [
        "[*] neurotile: the design's clock, reset and ports; open with: gtkwave "
        f"{wave.with_suffix('.gtkw').name}",
        f'[dumpfile] "{wave}"',
        f'[savefile] "{wave.with_suffix(".gtkw")}"',
        "[timestart] 0",
        "[sst_width] 260",
        "[signals_width] 300",
    ]
    parts = scope.split(".")
    lines += [f"[treeopen] {'.'.join(parts[:k])}." for k in range(1, len(parts) + 1)]
    group = None
    for g, name, width in gtkw_signals(scope, ports):
        if g != group:
            lines += [_COMMENT, f"-{g}"]
            group = g
        lines += [_BIN if width == 1 else _HEX, name]
    return "\n".join(lines) + "\n"


def write_gtkw(wave: str | os.PathLike, scope: str, ports: Sequence[dict]) -> Path:
    """Write :func:`gtkw_text` next to ``wave`` (same stem, ``.gtkw``); return its path."""
    path = Path(wave).with_suffix(".gtkw")
    path.write_text(gtkw_text(wave, scope, ports))
    return path
