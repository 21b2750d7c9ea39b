# SPDX-License-Identifier: Apache-2.0
"""Bulk checking: stimulus in, outputs out, whole runs at a time, no Python per clock cycle.

A generated Verilog harness wraps the design. It reads a list of *actions* prepared with NumPy
(``$readmemh``), plays them on the design's ports, and writes every captured output to a text
file with one fixed-width hexadecimal record per line. Python then parses that file with
vectorised NumPy and compares it against the reference model. Python runs only before and after
the simulation, so the simulator runs at its own speed.

An action sets every plain input port and may offer one input stream:

* ``stream`` (0 = none, ``k`` = the ``k``-th input stream): hold ``valid`` (after random idle
  cycles, probability ``gap``/256 per cycle) until the design takes the transfer;
* with no stream, the values are held for ``hold`` cycles, or, when ``until`` names a 1-bit
  output (an *event* such as ``done``), until that output has been high on ``hold`` cycles;
* ``rst``: before applying the action, drain (read every output until none arrives for
  ``drain`` cycles), then assert ``rst`` for two cycles;
* ``settle`` (only in a harness built with ``settle=True``): drain as for ``rst``, then apply
  the action without a reset (for inputs that may only change while the design is idle, such
  as memory writes).

Output streams are read with random back-pressure (``ready`` low with probability
``stall``/256). A capture is a strobe (an output stream's transfer, or a pulse port such as
``done``) and the ports recorded when it fires. The randomness comes from an xorshift generator in
the harness seeded by a plusarg, so Icarus and Verilator see the same cycles.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from neurotile.errors import UsageError
from neurotile.testbench.runner import check_simulator, simulator_env, write_source

__all__ = ["Capture", "BulkHarness", "BulkRun", "hex_records", "parse_records", "compare_fields"]

HOLD_BITS = 16
_CTRL_RST = "rst"
_CTRL_SETTLE = "settle"


# -- fixed-width hexadecimal, vectorised --------------------------------------------------------

_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _lanes(words: Sequence[tuple[np.ndarray, int, int]], width: int, rows: int) -> np.ndarray:
    """Pack (values, lsb, bits) fields into 64-bit lanes, least significant lane first."""
    nlanes = (width + 63) // 64
    lanes = np.zeros((rows, nlanes), dtype=np.uint64)
    for values, lsb, bits in words:
        v = np.asarray(values).astype(np.int64).astype(np.uint64)
        if bits < 64:
            v &= np.uint64((1 << bits) - 1)
        done = 0
        while done < bits:
            pos = lsb + done
            lane, off = divmod(pos, 64)
            take = min(bits - done, 64 - off)
            part = (v >> np.uint64(done)) & np.uint64((1 << take) - 1)  # take <= 64
            lanes[:, lane] |= part << np.uint64(off)
            done += take
    return lanes


def hex_records(fields: Sequence[tuple[np.ndarray, int, int]], width: int, rows: int) -> bytes:
    """``$readmemh`` text: one line of ``ceil(width/4)`` hex digits per row."""
    lanes = _lanes(fields, width, rows)
    digits = (width + 3) // 4
    out = np.empty((rows, digits + 1), dtype=np.uint8)
    for d in range(digits):  # d = 0 is the least significant digit, written last
        lane, off = divmod(4 * d, 64)
        nib = (lanes[:, lane] >> np.uint64(off)) & np.uint64(15)
        out[:, digits - 1 - d] = _HEX[nib.astype(np.intp)]
    out[:, digits] = ord("\n")
    return out.tobytes()


def parse_records(text: bytes, width: int) -> np.ndarray:
    """Parse fixed-width hex lines into 64-bit lanes, shape ``(rows, ceil(width/64))``."""
    digits = (width + 3) // 4
    if not text:
        return np.zeros((0, (width + 63) // 64), dtype=np.uint64)
    raw = np.frombuffer(text, dtype=np.uint8)
    if raw.size % (digits + 1):
        raise RuntimeError(f"output records are not {digits} hex digits per line")
    raw = raw.reshape(-1, digits + 1)[:, :digits]
    table = np.full(256, 255, dtype=np.uint8)
    table[np.frombuffer(b"0123456789", np.uint8)] = np.arange(10)
    table[np.frombuffer(b"abcdef", np.uint8)] = np.arange(10, 16)
    table[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16)
    nibbles = table[raw]
    if (nibbles == 255).any():
        bad = int(np.argwhere(nibbles == 255)[0, 0])
        raise RuntimeError(f"output record {bad} is not hexadecimal (x or z bits reached an output?)")
    lanes = np.zeros((raw.shape[0], (width + 63) // 64), dtype=np.uint64)
    for d in range(digits):
        lane, off = divmod(4 * d, 64)
        lanes[:, lane] |= nibbles[:, digits - 1 - d].astype(np.uint64) << np.uint64(off)
    return lanes


def field_of(lanes: np.ndarray, lsb: int, bits: int, *, signed: bool = False) -> np.ndarray:
    """Extract a field (at most 63 bits) from parsed records as int64."""
    lane, off = divmod(lsb, 64)
    v = lanes[:, lane] >> np.uint64(off)
    if off + bits > 64 and lane + 1 < lanes.shape[1]:
        v |= lanes[:, lane + 1] << np.uint64(64 - off)
    v = (v & np.uint64((1 << bits) - 1)).astype(np.int64)
    if signed:
        v = np.where(v >> (bits - 1), v - (1 << bits), v)
    return v


def compare_fields(board: Any, step: np.ndarray, neuron: np.ndarray,
                   expected: Mapping[str, np.ndarray], observed: Mapping[str, np.ndarray]) -> int:
    """Compare fields row by row into ``board`` (a :class:`~testbench.common.Scoreboard`).

    Every differing value is counted; the first ones, in row order and then in the order of
    ``expected``, are kept with their ``step``, ``neuron``, field name and both values. Returns
    the number of rows with at least one mismatch.
    """
    names = list(expected)
    bad = np.stack([np.asarray(observed[n]) != np.asarray(expected[n]) for n in names], axis=1) \
        if names else np.zeros((len(step), 0), bool)
    rows, cols = np.nonzero(bad)  # row-major: row order, then field order
    keep = max(0, board.keep - len(board.first))
    for r, c in zip(rows[:keep], cols[:keep]):
        n = names[c]
        board.compare(int(step[r]), int(neuron[r]), n, int(expected[n][r]), int(observed[n][r]))
    board.count += max(0, len(rows) - min(len(rows), keep))
    return int(bad.any(axis=1).sum()) if names else 0


# -- the harness ---------------------------------------------------------------------------------

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
    events: list[str] = field(init=False)
    out_streams: list[str] = field(init=False)
    inputs: list[dict] = field(init=False)
    action_fields: dict[str, tuple[int, int]] = field(init=False)
    action_width: int = field(init=False)
    record_fields: list[dict[str, tuple[int, int]]] = field(init=False)
    record_width: int = field(init=False)

    def __post_init__(self) -> None:
        names = {p["name"]: p for p in self.ports}
        self.in_streams = [n[:-7] for n, p in names.items()
                           if n.endswith("__valid") and p["direction"] == "input"]
        self.out_streams = [n[:-7] for n, p in names.items()
                            if n.endswith("__valid") and p["direction"] == "output"]
        driven = {f"{s}__valid" for s in self.in_streams} | {f"{s}__ready" for s in self.out_streams}
        stream_ports = driven | {f"{s}__ready" for s in self.in_streams} | {
            f"{s}__valid" for s in self.out_streams}
        self.events = [n for n, p in names.items() if p["direction"] == "output"
                       and p["width"] == 1 and n not in stream_ports]
        self.inputs = [p for p in self.ports if p["direction"] == "input"
                       and p["name"] not in driven | {"clk", "rst"}]
        sel_bits = max(1, len(self.in_streams).bit_length())
        layout: dict[str, tuple[int, int]] = {}
        pos = 0
        until_bits = max(1, len(self.events).bit_length())
        control = [("stream", sel_bits), (_CTRL_RST, 1), ("hold", HOLD_BITS),
                   ("until", until_bits)]
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

        Fields: ``stream`` (0 or 1-based input stream index), ``rst``, ``hold``, ``until`` (0 or
        1-based event index), ``settle`` (when the harness has it) and every plain input port
        (stream payloads included). Missing fields are zero.
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

    def event_index(self, name: str) -> int:
        """The ``until`` field value that waits for 1-bit output ``name``."""
        return self.events.index(name) + 1

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
        aw, rw = self.action_width, self.record_width
        af = self.action_fields
        names = {p["name"]: p for p in self.ports}

        def rng(lsb: int, bits: int) -> str:
            return f"[{lsb + bits - 1}:{lsb}]"

        lines = [
            "// neurotile bulk-checking harness (generated). Plays actions, records outputs.",
            "`timescale 1ns/1ps",
            "`ifdef NT_EXTERNAL_CLOCK",
            "module nt_bulk(input wire clk);  // clocked by a C++ loop (Verilator)",
            "`else",
            "module nt_bulk;",
            "  reg clk = 1'b0;",
            "  always #5 clk = ~clk;",
            "`endif",
            f"  localparam AW = {aw};",
            f"  localparam RW = {rw};",
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
            f"    .{p['name']}({p['name']})" for p in self.ports if p["name"] not in ("clk", "rst")])
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

        apply = [f"      {p['name']} <= a{rng(*af[p['name']])};" for p in self.inputs]
        offer = []
        for i, s in enumerate(self.in_streams, start=1):
            offer.append(f"      {s}__valid <= (a{rng(*af['stream'])} == {i}) && "
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
            "  task automatic start_action(input [AW-1:0] a);",
            "    begin",
            "      act <= a;",
            *apply,
            *offer,
            f"      cnt <= a{rng(*af['hold'])};",
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
            lines += [f"    if (!rst && {s}) begin",
                      f"      if (capture_on) $fwrite(fd, \"%h\\n\", {rec});",
                      "      records = records + 1;",
                      "    end"]
        for i, s in enumerate(self.out_streams):
            byte = (8 * (len(self.in_streams) + i)) % 32
            lines.append(f"    {s}__ready <= (phase == 2 || phase == 4) ? 1'b1 : "
                         f"(rnd[{byte + 7}:{byte}] >= stall);")
        stream_done = " || ".join(
            f"(act{rng(*af['stream'])} == {i} && {s}__valid && {s}__ready)"
            for i, s in enumerate(self.in_streams, start=1)) or "1'b0"
        until_fired = " || ".join(
            f"(act{rng(*af['until'])} == {i} && {e})"
            for i, e in enumerate(self.events, start=1)) or "1'b0"
        regain = []
        for i, s in enumerate(self.in_streams, start=1):
            regain.append(f"        if (act{rng(*af['stream'])} == {i} && !{s}__valid) "
                          f"{s}__valid <= (rnd[{(8 * (i - 1)) % 32 + 7}:{(8 * (i - 1)) % 32}] >= gap);")
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
            f"        end else if (act{rng(*af['until'])} != 0) begin",
            f"          if ({until_fired}) begin",
            "            if (cnt <= 1) next_action;",
            "            else cnt <= cnt - 1;",
            "          end",
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


# -- building and running --------------------------------------------------------------------------

@dataclass(frozen=True)
class BulkRun:
    """Outcome of one bulk simulation: parsed records and timings."""

    records: np.ndarray
    cycles: int
    build_seconds: float
    run_seconds: float


_VERILATOR_MAIN = """\
// neurotile bulk harness driver: toggles the clock until the harness calls $finish.
#include "Vnt_bulk.h"
#include "verilated.h"

int main(int argc, char** argv) {
    VerilatedContext* context = new VerilatedContext;
    context->commandArgs(argc, argv);
    Vnt_bulk* top = new Vnt_bulk{context};
    top->clk = 0;
    while (!context->gotFinish()) {
        context->timeInc(5);
        top->clk = !top->clk;
        top->eval();
    }
    top->final();
    delete top;
    delete context;
    return 0;
}
"""


def _build(sim: str, sources: Sequence[Path], build_dir: Path) -> tuple[list[str], float]:
    """Compile the harness and design once per source digest; return the run command."""
    h = hashlib.sha256(sim.encode())
    for s in sources:
        h.update(Path(s).read_bytes())
    out = build_dir / f"bulk-{sim}-{h.hexdigest()[:16]}"
    stamp = out / "built.stamp"
    t0 = time.perf_counter()
    if sim == "icarus":
        exe = out / "sim.vvp"
        cmd = ["vvp", "-n", str(exe)]
        if not stamp.exists():
            out.mkdir(parents=True, exist_ok=True)
            _call(["iverilog", "-g2005", "-s", "nt_bulk", "-o", str(exe), *map(str, sources)], out)
    else:
        exe = out / "Vnt_bulk"
        cmd = [str(exe)]
        if not stamp.exists():
            out.mkdir(parents=True, exist_ok=True)
            main = out / "nt_bulk_main.cpp"
            main.write_text(_VERILATOR_MAIN)
            with simulator_env("verilator"):
                _call([shutil.which("verilator") or "verilator", "--cc", "--exe", "--build",
                       "-O3", "--no-timing", "-DNT_EXTERNAL_CLOCK",
                       "--x-assign", "fast", "--x-initial", "fast", "--noassert",
                       "-Wno-WIDTH", "-Wno-STMTDLY", "-Wno-INITIALDLY", "-Wno-MULTIDRIVEN",
                       "-Wno-PROCASSINIT", "-Wno-BLKSEQ", "-Wno-CASEINCOMPLETE",
                       "-Wno-TIMESCALEMOD",
                       "--top-module", "nt_bulk", "-j", str(os.cpu_count() or 2),
                       "-Mdir", str(out), "-o", "Vnt_bulk", str(main), *map(str, sources)], out)
    if not stamp.exists():
        stamp.write_text("ok\n")
    return cmd, time.perf_counter() - t0


def _call(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        (cwd / "build.log").write_text(result.stdout + result.stderr)
        raise RuntimeError(f"{Path(cmd[0]).name} failed (exit {result.returncode}); see {cwd / 'build.log'}")
    return result


def run_bulk(sim: str, harness: BulkHarness, design_verilog: str, actions: bytes, rows: int, *,
             build_dir: str | os.PathLike, seed: int, gap: int = 0, stall: int = 0,
             drain: int = 8, capture: bool = True, max_cycles: int | None = None,
             meanwhile: Callable[[], None] | None = None) -> BulkRun:
    """Build (cached) and run ``harness`` around ``design_verilog`` on ``sim``.

    ``gap`` and ``stall`` are probabilities in 256ths. With ``capture=False`` nothing is
    recorded (the speed ceiling: the design and the harness alone). ``meanwhile`` is called while
    the simulator runs (for example to compute the expected outputs).
    """
    if sim not in ("icarus", "verilator"):
        raise UsageError(f"the bulk path runs on icarus or verilator, not {sim!r}")
    check_simulator(sim)
    build_dir = Path(build_dir).resolve()
    src = build_dir / "src"
    src.mkdir(parents=True, exist_ok=True)
    files = {f"{harness.top}.v": design_verilog, "nt_bulk.v": harness.verilog()}
    paths = [write_source(src / name, text) for name, text in files.items()]
    cmd, build_seconds = _build(sim, paths, build_dir)
    run_dir = build_dir / f"run-{sim}"
    run_dir.mkdir(exist_ok=True)
    act_path = run_dir / "actions.hex"
    act_path.write_bytes(actions)
    out_path = run_dir / "records.hex"
    out_path.unlink(missing_ok=True)
    args = [f"+actions={act_path}", f"+n={rows}", f"+gap={gap}", f"+stall={stall}",
            f"+drain={drain}", f"+seed={seed}"]
    if max_cycles:
        args.append(f"+maxcycles={max_cycles}")
    if capture:
        args.append(f"+out={out_path}")
    t0 = time.perf_counter()
    log_path = run_dir / "sim.log"
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen(cmd + args, cwd=run_dir, stdout=log_file,
                                stderr=subprocess.STDOUT)
        try:
            if meanwhile is not None:
                meanwhile()  # Python work that does not need the simulation, on the other core
        finally:
            returncode = proc.wait()
    run_seconds = time.perf_counter() - t0
    log = log_path.read_text()
    done = [ln for ln in log.splitlines() if ln.startswith("nt_bulk: done")]
    if returncode != 0 or not done:
        tail = log.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"bulk simulation on {sim} did not finish: {tail[0]} "
                           f"(see {run_dir / 'sim.log'})")
    cycles = int(done[0].split()[2])
    records = parse_records(out_path.read_bytes(), harness.record_width) if capture else \
        np.zeros((0, 1), np.uint64)
    return BulkRun(records, cycles, build_seconds, run_seconds)
