# SPDX-License-Identifier: Apache-2.0
"""Sky130 cells instantiated by name: the integrated clock gate and the transparent-high latch.

Latch storage is built from two ``sky130_fd_sc_hd`` cells placed as instances, never inferred:

* ``sky130_fd_sc_hd__dlclkp_1`` (integrated clock gate): ``GCLK = CLK & enable``, where
  ``enable`` is ``GATE`` caught by a latch that is transparent while ``CLK`` is low, so ``GATE``
  needs set-up to the rising edge of ``CLK`` like a flip-flop's ``D`` and ``GCLK`` never glitches;
* ``sky130_fd_sc_hd__dlxtp_1`` (latch): ``Q`` follows ``D`` while ``GATE`` is high and holds it
  when ``GATE`` falls.

A design elaborated with :data:`CELLS` as its platform (what :func:`neurotile.rtl.export.to_verilog`
passes) instantiates the cells; elaborated without a platform (Amaranth's simulator, which has no
latches) it describes the same behaviour at its ports with flip-flops and gated clock domains.
:func:`with_models` appends behavioural Verilog models of the cells to a design's text, guarded so
that only simulators see them: Yosys defines ``SYNTHESIS`` and LibreLane defines
``SCL_sky130_fd_sc_hd`` (in synthesis and in its lint step, which reads the library's own
models), so synthesis keeps the instances as the library's cells and gate-level runs use the
library's models.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["CLOCK_GATE", "LATCH", "CELLS", "CellPlatform", "instantiates_cells", "models",
           "verilog_instantiates_cells", "with_models"]

CLOCK_GATE = "sky130_fd_sc_hd__dlclkp_1"
LATCH = "sky130_fd_sc_hd__dlxtp_1"


class CellPlatform:
    """The platform a design is elaborated with when its Verilog may instantiate Sky130 cells.

    It offers nothing else: ``amaranth.lib.memory`` and every other library component behave as
    with no platform.
    """

    def __repr__(self) -> str:
        return "CellPlatform()"


#: The platform of Verilog export (see :func:`instantiates_cells`).
CELLS = CellPlatform()


def instantiates_cells(platform: Any) -> bool:
    """Whether ``elaborate(platform)`` should place Sky130 cell instances (Verilog export) rather
    than their equivalent behaviour (Amaranth's simulator)."""
    return isinstance(platform, CellPlatform)


_MODELS = {
    CLOCK_GATE: f"""\
module {CLOCK_GATE} (CLK, GATE, GCLK);
  input CLK;
  input GATE;
  output GCLK;
  // The cell: GATE caught by a latch transparent while CLK is low, GCLK = CLK AND that latch.
  // GCLK follows CLK at once, as in the library's model (a gate of no delay): it rises in the
  // same step as CLK, before any register clocked by CLK changes, so registers on GCLK take the
  // values from before the edge, as registers on CLK do.
  reg enable = 1'b0;
  always @(CLK or GATE) if (!CLK) enable <= GATE;
  assign GCLK = CLK & enable;
endmodule
""",
    LATCH: f"""\
module {LATCH} (D, GATE, Q);
  input D;
  input GATE;
  output Q;
  // Transparent while GATE is high; holds what D had when GATE fell. It opens and closes a
  // step after GATE changes, as the library's model does (a unit delay): registers clocked at
  // the edge that opens it take Q from before (GATE is a gated clock that rises with CLK). (Q is
  // a continuous assignment rather than an always block, which simulators evaluate far faster.)
  reg open = 1'b0;
  always @(posedge GATE or negedge GATE) open <= GATE;
  reg held = 1'b0;
`ifdef VERILATOR
  // The same latch with every process triggered by GATE alone: the latches of a word share their
  // GATE, so Verilator schedules one trigger a word rather than one a bit. held takes D as GATE
  // falls, a step before open does; D is steady around the fall (the writer holds it).
  always @(negedge GATE) held <= D;
`else
  always @(negedge open) held <= D;
`endif
  assign Q = open ? D : held;
endmodule
""",
}


def models(cells: tuple[str, ...] = (CLOCK_GATE, LATCH)) -> str:
    """Behavioural Verilog of ``cells``, guarded against synthesis and LibreLane (see above)."""
    body = "".join(_MODELS[c] for c in cells)
    return ("// Behavioural models of the Sky130 cells this design instantiates, for RTL\n"
            "// simulation only: synthesis (SYNTHESIS) and LibreLane (SCL_sky130_fd_sc_hd) use\n"
            "// the library's cells.\n"
            "`ifndef SYNTHESIS\n`ifndef SCL_sky130_fd_sc_hd\n" + body + "`endif\n`endif\n")


def verilog_instantiates_cells(verilog: str) -> bool:
    """Whether Verilog text instantiates a cell of this module (and so carries its models)."""
    return any(re.search(rf"^\s*{c}\s", verilog, re.MULTILINE) for c in _MODELS)


def with_models(verilog: str) -> str:
    """``verilog`` followed by :func:`models` of the cells it instantiates (unchanged if none)."""
    used = tuple(c for c in _MODELS if re.search(rf"^\s*{c}\s", verilog, re.MULTILINE))
    return verilog if not used else verilog + models(used)
