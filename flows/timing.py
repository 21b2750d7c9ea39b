# SPDX-License-Identifier: Apache-2.0
"""A timing sanity check without a timing library: logic depth in cells against the clock.

Synthesis here has no liberty timing (see :mod:`neurotile.flows.sky130`), so this check counts
cells instead of adding delays: it finds, in a synthesised netlist, the longest chain of cells
between two clock edges and charges every cell (the launching flip-flop or latch included, and
one more for the capturing element's set-up) a fixed delay, :data:`CELL_DELAY_NS`, chosen to be
pessimistic for ``sky130_fd_sc_hd`` cells of drive 1-2 under ordinary load. Paths between edges
of opposite polarity (the flip-flop ring rotates on the falling edge; latches close on it) get
half a period.

This is a sanity check, not timing signoff. Signoff - static timing with the real liberty files
at every corner, after placement, clock-tree synthesis and routing - happens in TinyTapeout's
GDS workflow (LibreLane/OpenROAD), with the ``CLOCK_PERIOD`` of the project's ``config.json``.

How the netlist is read:

* the clock network starts at the ``clk`` port and runs through inverters, buffers and integrated
  clock gates (``dlclkp``); each clock net has a polarity (rising with ``clk`` or with its fall);
* flip-flops launch at their active edge and capture at their next active edge;
* latches (``dlxtp`` and kin) pass data from ``D`` while open and launch at their opening edge
  (behind their clock gate, one more cell); data at ``D`` must arrive before they close;
* a clock gate's ``GATE`` must arrive before its clock rises (its enable latch closes then);
* ports launch and capture at the rising edge.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neurotile.errors import UsageError
from neurotile.flows.sky130 import LIBRARY, cell_family, cell_signal_ports

__all__ = ["CELL_DELAY_NS", "DEFAULT_CLOCK_HZ", "TimingCheck", "check_timing", "timing_message"]

#: Delay charged per cell on a path, ns. Typical sky130_fd_sc_hd gates switch in 0.1-0.3 ns at
#: the typical corner; 0.5 ns covers the slow corner with a few loads per output.
CELL_DELAY_NS = 0.5
#: The clock TinyTapeout hardens with (CLOCK_PERIOD 20 ns).
DEFAULT_CLOCK_HZ = 50_000_000


@dataclass(frozen=True)
class TimingCheck:
    """The longest register-to-register path of a design, in cells, against its clock.

    Members
    -------
    cells : int
        Cells on the worst path (launching element, logic, one for set-up).
    budget_ns : float
        Time the worst path has: the period, or half of it between opposite edges.
    delay_ns : float
        ``cells * cell_delay_ns``.
    half_period : bool
        Whether the worst path runs between opposite clock edges.
    endpoint : str
        Where the worst path ends: a port, or a cell's pin and the net on it.
    clock_hz : int
    cell_delay_ns : float
    deepest : int
        Cells on the longest path of a whole period (0 when there is none): the datapath's depth
        when the worst path is a short half-period one.
    fits : bool
        ``delay_ns <= budget_ns``.
    """

    cells: int
    budget_ns: float
    delay_ns: float
    half_period: bool
    endpoint: str
    clock_hz: int
    cell_delay_ns: float
    deepest: int = 0

    @property
    def fits(self) -> bool:
        return self.delay_ns <= self.budget_ns + 1e-9

    @property
    def max_cells(self) -> int:
        """The most cells the worst path's budget holds at ``cell_delay_ns``."""
        return int(self.budget_ns / self.cell_delay_ns + 1e-9)

    def to_dict(self) -> dict[str, Any]:
        return {"cells": self.cells, "max_cells": self.max_cells, "budget_ns": self.budget_ns,
                "delay_ns": self.delay_ns, "half_period": self.half_period,
                "endpoint": self.endpoint, "clock_hz": self.clock_hz,
                "cell_delay_ns": self.cell_delay_ns, "deepest": self.deepest, "fits": self.fits}


def timing_message(check: TimingCheck) -> str:
    """One line: the worst path against the clock, and whether it fits."""
    mhz = check.clock_hz / 1e6
    budget = f"{'half ' if check.half_period else ''}a {1e3 / mhz:g} ns period" if mhz else ""
    verdict = "fits" if check.fits else "does NOT fit"
    deepest = ""
    if check.half_period and check.deepest:
        deepest = f"; the longest whole-period path is {check.deepest} cells"
    return (f"timing sanity check: tightest path {check.cells} cells x {check.cell_delay_ns:g} ns "
            f"= {check.delay_ns:g} ns against {budget} ({check.budget_ns:g} ns at {mhz:g} MHz): "
            f"{verdict}; ends at {check.endpoint}{deepest} (not signoff: TinyTapeout's GDS "
            f"workflow runs static timing)")


@functools.cache
def _directions(cell: str) -> dict[str, str]:
    return dict(cell_signal_ports(cell))


_CLOCK_BUFFERS = ("buf", "clkbuf", "bufbuf", "clkdlybuf4s15", "dlygate4sd1")
_CLOCK_INVERTERS = ("inv", "clkinv", "clkinvlp")


def _kind(cell: str) -> str:
    family = cell_family(cell)
    if family in ("dlclkp", "sdlclkp"):
        return "gate"
    if family.startswith(("df", "sdf", "edf", "sedf")):
        return "ff"
    if family.startswith("dl") and not family.startswith("dly"):
        return "latch"
    return "comb"


def check_timing(netlist_json: str | Path, *, top: str, clock_hz: int = DEFAULT_CLOCK_HZ,
                 cell_delay_ns: float = CELL_DELAY_NS, clock_port: str = "clk") -> TimingCheck:
    """The worst path of ``top`` in a Yosys JSON netlist of sky130_fd_sc_hd cells.

    Raises
    ------
    UsageError
        For a missing netlist or module, or a clock of 0 Hz or less.
    ValueError
        For a cell delay that is not positive.
    """
    if not cell_delay_ns > 0:
        raise ValueError(f"Cell delay must be positive, not {cell_delay_ns!r}")
    if clock_hz <= 0:
        raise UsageError(f"clock must be a positive frequency for a timing check, not {clock_hz}")
    path = Path(netlist_json)
    if not path.is_file():
        raise UsageError(f"netlist {path} does not exist")
    modules = json.loads(path.read_text()).get("modules", {})
    module = modules.get(top)
    if module is None:
        raise UsageError(f"netlist {path} has no module {top!r}")
    return _analyse(module, clock_hz, cell_delay_ns, clock_port)


def _analyse(module: Mapping[str, Any], clock_hz: int, d: float, clock_port: str) -> TimingCheck:
    period = 1e9 / clock_hz
    cells: dict[str, tuple[str, dict[str, list], dict[str, str]]] = {}
    for name, c in module.get("cells", {}).items():
        ctype = c["type"]
        if not ctype.startswith(LIBRARY + "__"):
            continue
        dirs = dict(c.get("port_directions") or {}) or _directions(ctype)
        conns = {p: [b for b in bits if isinstance(b, int)] for p, bits in
                 c.get("connections", {}).items() if p in dirs}
        cells[name] = (ctype, conns, dirs)
    readers: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for name, (_, conns, dirs) in cells.items():
        for pin, bits in conns.items():
            if dirs.get(pin) == "input":
                for b in bits:
                    readers[b].append((name, pin))

    # The clock network and each clock net's polarity (0: rises with clk, 1: with its fall).
    phase: dict[int, int] = {}
    ports = module.get("ports", {})
    clock_bits = [b for b in ports.get(clock_port, {}).get("bits", []) if isinstance(b, int)]
    todo = [(b, 0) for b in clock_bits]
    while todo:
        bit, p = todo.pop()
        if bit in phase:
            continue
        phase[bit] = p
        for name, pin in readers.get(bit, ()):
            ctype, conns, dirs = cells[name]
            family = cell_family(ctype)
            outs = [b for q, bits in conns.items() if dirs.get(q) == "output" for b in bits]
            if _kind(ctype) == "gate" and pin == "CLK":
                todo += [(b, p) for b in outs]
            elif family in _CLOCK_BUFFERS:
                todo += [(b, p) for b in outs]
            elif family in _CLOCK_INVERTERS:
                todo += [(b, 1 - p) for b in outs]

    names: dict[int, tuple[int, str]] = {}
    for net, info in module.get("netnames", {}).items():
        rank = int(info.get("hide_name", 0))
        bits = info.get("bits", [])
        for i, b in enumerate(bits):
            label = net if len(bits) == 1 else f"{net}[{i}]"
            if isinstance(b, int) and (b not in names or rank < names[b][0]):
                names[b] = (rank, label)

    def net_of(bits: list[int]) -> str:
        return names.get(bits[0], (1, "?"))[1] if bits else "?"

    # Arrival (in cells) per launch polarity, by longest path through the combinational graph.
    arrival: dict[int, dict[int, int]] = {0: {}, 1: {}}
    gated_by_gate = {b for name, (ctype, conns, dirs) in cells.items() if _kind(ctype) == "gate"
                     for b in conns.get("GCLK", [])}
    sources: list[tuple[int, int, int]] = []  # (bit, launch polarity, cells so far)
    for pname, port in ports.items():
        if port.get("direction") == "input" and pname != clock_port:
            sources += [(b, 0, 0) for b in port.get("bits", []) if isinstance(b, int)]
    endpoints: list[tuple[int, int, str]] = []  # (bit, capture polarity, label)
    latch_paths: list[tuple[list[int], list[int]]] = []  # (D bits, Q bits) of transparent latches
    comb: dict[str, tuple[list[int], list[int]]] = {}
    for name, (ctype, conns, dirs) in cells.items():
        kind = _kind(ctype)
        ins = {p: bits for p, bits in conns.items() if dirs.get(p) == "input"}
        outs = [b for p, bits in conns.items() if dirs.get(p) == "output" for b in bits]
        if kind == "ff":
            clock_bits_ff = conns.get("CLK", conns.get("CLK_N", []))
            p = phase.get(clock_bits_ff[0], 0) if clock_bits_ff else 0
            if "CLK_N" in conns:
                p = 1 - p
            sources += [(b, p, 1) for b in outs]
            endpoints += [(b, p, f"{pin} of flip-flop {net_of(outs)}") for pin, bits in ins.items()
                          if pin not in ("CLK", "CLK_N") for b in bits]
        elif kind == "latch":
            gate = conns.get("GATE", conns.get("GATE_N", []))
            p = phase.get(gate[0], 0) if gate else 0
            if "GATE_N" in conns:
                p = 1 - p
            extra = 1 if gate and gate[0] in gated_by_gate else 0
            sources += [(b, p, 1 + extra) for b in outs]
            endpoints += [(b, 1 - p, f"D of latch {net_of(outs)}") for b in conns.get("D", [])]
            latch_paths.append((conns.get("D", []), outs))
        elif kind == "gate":
            clk = conns.get("CLK", [])
            p = phase.get(clk[0], 0) if clk else 0
            endpoints += [(b, p, f"GATE of clock gate {net_of(conns.get('GCLK', []))}")
                          for b in conns.get("GATE", [])]
        elif not any(b in phase for b in outs):
            comb[name] = ([b for bits in ins.values() for b in bits if b not in phase], outs)
    for pname, port in ports.items():
        if port.get("direction") == "output":
            endpoints += [(b, 0, f"output {pname}") for b in port.get("bits", [])
                          if isinstance(b, int)]

    # Combinational graph: each cell's inputs feed its outputs; transparent latches pass D to Q.
    fanout: dict[int, list[int]] = defaultdict(list)
    indegree: dict[int, int] = defaultdict(int)
    for ins, outs in comb.values():
        for o in outs:
            for i in set(ins):
                fanout[i].append(o)
                indegree[o] += 1
    for ds, qs in latch_paths:
        for q in qs:
            for i in ds:
                fanout[i].append(q)
                indegree[q] += 1
    order: list[int] = []
    ready = [b for b in list(fanout) if indegree[b] == 0]
    seen_degree = dict(indegree)
    while ready:
        b = ready.pop()
        order.append(b)
        for o in fanout[b]:
            seen_degree[o] -= 1
            if seen_degree[o] == 0:
                ready.append(o)
    for launch in (0, 1):
        arr = arrival[launch]
        for b, p, n in sources:
            if p == launch:
                arr[b] = max(arr.get(b, 0), n)
        for b in order:
            if b in arr:
                for o in fanout[b]:
                    arr[o] = max(arr.get(o, 0), arr[b] + 1)

    worst: tuple[float, int, float, bool, str] | None = None
    deepest = 0
    for b, capture, label in endpoints:
        for launch in (0, 1):
            if b not in arrival[launch]:
                continue
            n = arrival[launch][b] + 1  # set-up of the capturing element
            half = launch != capture
            if not half:
                deepest = max(deepest, n)
            budget = period / 2 if half else period
            slack = budget - n * d
            if worst is None or slack < worst[0]:
                worst = (slack, n, budget, half, label)
    if worst is None:
        return TimingCheck(0, period, 0.0, False, "no register-to-register path", clock_hz, d)
    _, n, budget, half, label = worst
    return TimingCheck(n, round(budget, 4), round(n * d, 4), half, label, clock_hz, d, deepest)
