# SPDX-License-Identifier: Apache-2.0
"""The bulk-checking harness: a generated Verilog testbench that plays actions and records outputs.

The harness wraps one design. It reads a list of *actions* (``$readmemh``), plays them on the
design's ports, and writes every captured output to a text file with one fixed-width hexadecimal
record per line (:mod:`neurotile.testbench.records`). An action sets every plain input port and
may offer one input stream:

* ``stream`` (0 = none, ``k`` = the ``k``-th input stream): hold ``valid`` (after random idle
  cycles, probability ``gap``/256 per cycle) until the design takes the transfer;
* with no stream, the values are held for ``hold`` cycles;
* ``rst``: before applying the action, drain (read every output until none arrives for
  ``drain`` cycles), then assert ``rst`` for two cycles;
* ``settle`` (only in a harness built with ``settle=True``): drain as for ``rst``, then apply
  the action without a reset (for inputs that may only change while the design is idle, such
  as memory writes).

Output streams are read with random back-pressure (``ready`` low with probability
``stall``/256). A capture is a strobe (an output stream's transfer, or a pulse port such as
``done``) and the ports recorded when it fires. The randomness comes from an xorshift generator in
the harness seeded by a plusarg, so Icarus and Verilator see the same cycles. The harness passes
``verilator --lint-only -Wall`` with the design's waivers
(:data:`~neurotile.testbench.runner.LINT_WAIVERS`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from neurotile.testbench.records import field_of, hex_records

__all__ = ["HOLD_BITS", "Capture", "BulkHarness"]

HOLD_BITS = 16
_CTRL_RST = "rst"
_CTRL_SETTLE = "settle"


#: Identifiers the harness declares itself; a design port may not take one of them.
HARNESS_NAMES = frozenset({
    "actions", "act", "actions_file", "out_file", "n_actions", "pc", "fd", "gap", "stall",
    "drain", "quiet", "cnt", "phase", "capture_on", "records", "cycles", "max_cycles", "rnd",
    "seed", "xorshift", "y", "start_action", "next_action", "nt_a", "dut", "AW", "MAXA",
    "nt_bulk",
})


@dataclass(frozen=True)
class Capture:
    """Record ``ports`` (LSB first) on every cycle ``strobe`` is true.

    ``strobe`` is an output stream name (``"spikes"``: its transfer) or a 1-bit output port.
    """

    strobe: str
    ports: tuple[str, ...]


@dataclass
class BulkHarness:
    """A bulk-checking harness for one design.

    Parameters
    ----------
    top : str
        The design's module name.
    ports : list of dict
        The design's ports (:func:`neurotile.design.port_list`).
    captures : list of Capture
        What to record.
    max_actions : int
        Capacity of the action memory (a build-time size).
    settle : bool
        Give actions a ``settle`` flag: drain the outputs, then apply the action (no reset).
    """

    top: str
    ports: list[dict]
    captures: list[Capture]
    max_actions: int = 1 << 20
    settle: bool = False
    in_streams: list[str] = field(init=False)
    out_streams: list[str] = field(init=False)
    inputs: list[dict] = field(init=False)
    action_fields: dict[str, tuple[int, int]] = field(init=False)
    action_width: int = field(init=False)
    record_fields: list[dict[str, tuple[int, int]]] = field(init=False)
    record_width: int = field(init=False)

    def __post_init__(self) -> None:
        names = {p["name"]: p for p in self.ports}
        clash = sorted(set(names) & HARNESS_NAMES)
        if clash:
            raise ValueError(f"design ports {', '.join(clash)} clash with names of the bulk "
                             "harness; rename them")
        self.in_streams = [n[:-7] for n, p in names.items()
                           if n.endswith("__valid") and p["direction"] == "input"]
        self.out_streams = [n[:-7] for n, p in names.items()
                            if n.endswith("__valid") and p["direction"] == "output"]
        driven = ({f"{s}__valid" for s in self.in_streams}
                  | {f"{s}__ready" for s in self.out_streams})
        self.inputs = [p for p in self.ports if p["direction"] == "input"
                       and p["name"] not in driven | {"clk", "rst"}]
        sel_bits = max(1, len(self.in_streams).bit_length())
        layout: dict[str, tuple[int, int]] = {}
        pos = 0
        control = [("stream", sel_bits), (_CTRL_RST, 1), ("hold", HOLD_BITS)]
        if self.settle:
            control.append((_CTRL_SETTLE, 1))
        for name, bits in control:
            layout[name] = (pos, bits)
            pos += bits
        for p in self.inputs:
            layout[p["name"]] = (pos, p["width"])
            pos += p["width"]
        self.action_fields = layout
        self.action_width = pos
        id_bits = max(1, (len(self.captures) - 1).bit_length())
        self.record_fields = []
        widest = 0
        for cap in self.captures:
            off = id_bits
            fields = {}
            for port in cap.ports:
                fields[port] = (off, names[port]["width"])
                off += names[port]["width"]
            self.record_fields.append(fields)
            widest = max(widest, off)
        self.record_width = max(widest, id_bits + 1)
        self._id_bits = id_bits

    # Actions -------------------------------------------------------------------------------------
    def actions(self, rows: int, values: Mapping[str, np.ndarray | int]) -> bytes:
        """``$readmemh`` text of ``rows`` actions; ``values`` maps field names to arrays/ints.

        Fields: ``stream`` (0 or 1-based input stream index), ``rst``, ``hold``, ``settle``
        (when the harness has it) and every plain input port (stream payloads included).
        Missing fields are zero.

        Raises
        ------
        ValueError
            If ``rows`` exceeds :attr:`max_actions` or a field is unknown.
        """
        if rows > self.max_actions:
            raise ValueError(f"{rows} actions exceed the harness capacity of {self.max_actions}")
        unknown = set(values) - set(self.action_fields)
        if unknown:
            raise ValueError(f"unknown action fields {sorted(unknown)}")
        fields = []
        for name, v in values.items():
            lsb, bits = self.action_fields[name]
            arr = np.broadcast_to(np.asarray(v, dtype=np.int64), (rows,))
            fields.append((arr, lsb, bits))
        return hex_records(fields, self.action_width, rows)

    def stream_index(self, name: str) -> int:
        """The ``stream`` field value that offers input stream ``name``."""
        return self.in_streams.index(name) + 1

    # Records -------------------------------------------------------------------------------------
    def split(self, lanes: np.ndarray) -> list[np.ndarray]:
        """Row indices of each capture's records, in capture order."""
        ids = field_of(lanes, 0, self._id_bits)
        return [np.flatnonzero(ids == k) for k in range(len(self.captures))]

    def field(self, lanes: np.ndarray, capture: int, port: str, *, lsb: int = 0,
              bits: int | None = None, signed: bool = False) -> np.ndarray:
        """A port (or a bit range of it) of capture ``capture`` from parsed records."""
        off, width = self.record_fields[capture][port]
        return field_of(lanes, off + lsb, width - lsb if bits is None else bits, signed=signed)

    # Verilog -------------------------------------------------------------------------------------
    def verilog(self) -> str:
        """The harness as Verilog-2005: module ``nt_bulk``, instantiating the design as ``dut``.

        Defining ``NT_EXTERNAL_CLOCK`` makes ``clk`` an input (a C++ loop clocks it under
        Verilator); otherwise the harness clocks itself every 5 time units. Plusargs:
        ``+actions=FILE`` (required), ``+n``, ``+gap``, ``+stall``, ``+drain``, ``+seed``,
        ``+maxcycles`` and ``+out=FILE`` (records are written only when given).
        """
        aw, rw = self.action_width, self.record_width
        af = self.action_fields
        names = {p["name"]: p for p in self.ports}

        def rng(lsb: int, bits: int) -> str:
            return f"[{lsb + bits - 1}:{lsb}]"

        lines = [
            "// neurotile bulk-checking harness (generated). Plays actions, records outputs.",
            "`ifdef NT_EXTERNAL_CLOCK",
            "module nt_bulk(input wire clk);  // clocked by a C++ loop (Verilator)",
            "`else",
            "module nt_bulk;",
            "  reg clk = 1'b0;",
            "  always #5 clk = ~clk;",
            "`endif",
            f"  localparam AW = {aw};",
            f"  localparam MAXA = {self.max_actions};",
            "  reg rst = 1'b1;",
            "  reg [AW-1:0] actions [0:MAXA-1];",
            "  reg [AW-1:0] act;",
            "  reg [8*512-1:0] actions_file, out_file;",
            "  integer n_actions, pc, fd, gap, stall, drain, quiet, cnt, phase, capture_on;",
            "  integer records;",
            "  reg [63:0] cycles, max_cycles;",
            "  reg [31:0] rnd;",
            "  reg [31:0] seed;",
        ]
        for p in self.ports:
            if p["name"] in ("clk", "rst"):
                continue
            kind = "reg" if p["direction"] == "input" else "wire"
            init = " = 0" if kind == "reg" else ""
            lines.append(f"  {kind} [{p['width'] - 1}:0] {p['name']}{init};")
        conns = ",\n".join(["    .clk(clk)", "    .rst(rst)"] + [
            f"    .{p['name']}({p['name']})" for p in self.ports
            if p["name"] not in ("clk", "rst")])
        lines += [f"  {self.top} dut (", conns, "  );", ""]

        # One xorshift32 step per cycle; byte k of it decides stream k's gap or stall.
        strobes = []
        for k, cap in enumerate(self.captures):
            if cap.strobe in self.out_streams:
                s = f"({cap.strobe}__valid & {cap.strobe}__ready)"
            else:
                s = f"{cap.strobe}"
            parts = [names[p]["name"] for p in reversed(cap.ports)]
            used = self._id_bits + sum(names[p]["width"] for p in cap.ports)
            pad = f"{rw - used}'d0, " if rw > used else ""
            rec = f"{{{pad}{', '.join(parts)}, {self._id_bits}'d{k}}}" if parts else \
                f"{{{pad}{self._id_bits}'d{k}}}"
            strobes.append((s, rec))
        any_strobe = " | ".join(s for s, _ in strobes) or "1'b0"
        rst_bit = f"actions[pc][{af[_CTRL_RST][0]}]"
        if self.settle:
            drain_first = f"{rst_bit} || actions[pc][{af[_CTRL_SETTLE][0]}]"
            after_drain = [
                "        else if (quiet >= drain) begin",
                f"          if ({rst_bit}) begin rst <= 1'b1; cnt <= 2; phase <= 3; end",
                "          else begin start_action(actions[pc]); pc <= pc + 1; end",
                "        end",
            ]
        else:
            drain_first = rst_bit
            after_drain = [
                "        else if (quiet >= drain) begin rst <= 1'b1; cnt <= 2; phase <= 3; end"]

        apply = [f"      {p['name']} <= nt_a{rng(*af[p['name']])};" for p in self.inputs]
        offer = []
        for i, s in enumerate(self.in_streams, start=1):
            offer.append(f"      {s}__valid <= (nt_a{rng(*af['stream'])} == {i}) && "
                         f"(rnd[{(8 * (i - 1)) % 32 + 7}:{(8 * (i - 1)) % 32}] >= gap);")
        lines += [
            "  function [31:0] xorshift(input [31:0] x);",
            "    reg [31:0] y;",
            "    begin",
            "      y = x ^ (x << 13);",
            "      y = y ^ (y >> 17);",
            "      xorshift = y ^ (y << 5);",
            "    end",
            "  endfunction",
            "",
            "  task automatic start_action(input [AW-1:0] nt_a);",
            "    begin",
            "      act <= nt_a;",
            *apply,
            *offer,
            f"      cnt <= nt_a{rng(*af['hold'])};",
            "      phase <= 1;",
            "    end",
            "  endtask",
            "",
            "  task automatic next_action;",
            "    begin",
            "      if (pc >= n_actions) begin",
            *[f"        {s}__valid <= 1'b0;" for s in self.in_streams],
            "        phase <= 4; quiet <= 0;",
            f"      end else if ({drain_first}) begin",
            *[f"        {s}__valid <= 1'b0;" for s in self.in_streams],
            "        phase <= 2; quiet <= 0;",
            "      end else begin",
            "        start_action(actions[pc]);",
            "        pc <= pc + 1;",
            "      end",
            "    end",
            "  endtask",
            "",
            "  initial begin",
            "    if (!$value$plusargs(\"actions=%s\", actions_file)) begin",
            "      $display(\"nt_bulk: +actions=FILE missing\"); $finish;",
            "    end",
            "    if (!$value$plusargs(\"n=%d\", n_actions)) n_actions = 0;",
            "    if (!$value$plusargs(\"gap=%d\", gap)) gap = 0;",
            "    if (!$value$plusargs(\"stall=%d\", stall)) stall = 0;",
            "    if (!$value$plusargs(\"drain=%d\", drain)) drain = 8;",
            "    if (!$value$plusargs(\"seed=%d\", seed)) seed = 1;",
            "    if (!$value$plusargs(\"maxcycles=%d\", max_cycles)) max_cycles = 64'd1000000000;",
            "    capture_on = $value$plusargs(\"out=%s\", out_file);",
            "    $readmemh(actions_file, actions, 0, n_actions - 1);",
            "    fd = capture_on ? $fopen(out_file, \"w\") : 0;",
            "    rnd = (seed == 0) ? 32'h9e3779b9 : seed;",
            "    pc = 0; phase = 0; cycles = 0; records = 0; quiet = 0; cnt = 0;",
            "  end",
            "",
            "  always @(posedge clk) begin",
            "    cycles <= cycles + 1;",
            "    rnd <= xorshift(rnd);",
        ]
        for s, rec in strobes:
            lines.append(f"    if (!rst && {s} && capture_on) $fwrite(fd, \"%h\\n\", {rec});")
        if strobes:  # this cycle's records, counted with one non-blocking assignment
            fired = " + ".join(f"({s} ? 1 : 0)" for s, _ in strobes) if len(strobes) > 1 else "1"
            lines.append(f"    if (!rst && ({any_strobe})) records <= records + {fired};")
        for i, s in enumerate(self.out_streams):
            byte = (8 * (len(self.in_streams) + i)) % 32
            lines.append(f"    {s}__ready <= (phase == 2 || phase == 4) ? 1'b1 : "
                         f"(rnd[{byte + 7}:{byte}] >= stall);")
        stream_done = " || ".join(
            f"(act{rng(*af['stream'])} == {i} && {s}__valid && {s}__ready)"
            for i, s in enumerate(self.in_streams, start=1)) or "1'b0"
        regain = []
        for i, s in enumerate(self.in_streams, start=1):
            byte = (8 * (i - 1)) % 32
            regain.append(f"        if (act{rng(*af['stream'])} == {i} && !{s}__valid) "
                          f"{s}__valid <= (rnd[{byte + 7}:{byte}] >= gap);")
        lines += [
            "    if (cycles >= max_cycles) begin",
            "      $display(\"nt_bulk: timeout after %0d cycles at action %0d\", cycles, pc);",
            "      if (capture_on) $fclose(fd);",
            "      $finish;",
            "    end",
            "    case (phase)",
            "      0: next_action;",
            "      1: begin",
            f"        if (act{rng(*af['stream'])} != 0) begin",
            f"          if ({stream_done}) next_action;",
            *["  " + r for r in regain],
            "        end else if (cnt <= 1) next_action;",
            "        else cnt <= cnt - 1;",
            "      end",
            "      2: begin",
            f"        if ({any_strobe}) quiet <= 0;",
            *after_drain,
            "        else quiet <= quiet + 1;",
            "      end",
            "      3: begin",
            "        if (cnt <= 1) begin rst <= 1'b0; start_action(actions[pc]); pc <= pc + 1; end",
            "        else cnt <= cnt - 1;",
            "      end",
            "      4: begin",
            f"        if ({any_strobe}) quiet <= 0;",
            "        else if (quiet >= drain) begin",
            "          $display(\"nt_bulk: done, %0d cycles, %0d records\", cycles, records);",
            "          if (capture_on) $fclose(fd);",
            "          $finish;",
            "        end else quiet <= quiet + 1;",
            "      end",
            "    endcase",
            "  end",
            "endmodule",
            "",
        ]
        return "\n".join(lines)

