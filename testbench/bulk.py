# SPDX-License-Identifier: Apache-2.0
"""Bulk checking: stimulus in, outputs out, whole runs at a time, no Python per clock cycle.

A generated Verilog harness (:class:`~neurotile.testbench.harness.BulkHarness`) wraps the design,
plays a list of actions prepared with NumPy and writes every captured output as a fixed-width
hexadecimal record (:mod:`neurotile.testbench.records`). This module builds the harness and the
design once per source digest on Icarus or Verilator, runs it, and parses the records, so Python
runs only before and after the simulation and the simulator runs at its own speed. Builds are
shared between processes as :mod:`~neurotile.testbench.runner` shares them (a lock, an atomic
stamp); each pytest-xdist worker runs in its own folder.

The harness and record names are re-exported here, so one import serves a bulk checker.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurotile.errors import UsageError
from neurotile.testbench.harness import HOLD_BITS, BulkHarness, Capture
from neurotile.testbench.records import compare_fields, field_of, hex_records, parse_records
from neurotile.testbench.runner import (build_lock, check_simulator, clear_build_folder,
                                        mark_built, run_folder_name, simulator_env, waves_requested,
                                        write_source)
from neurotile.testbench.waves import WAVE_SUFFIX, bulk_scope, write_gtkw

__all__ = ["BulkRun", "run_bulk",
           # re-exported from testbench.harness and testbench.records
           "HOLD_BITS", "Capture", "BulkHarness",
           "hex_records", "parse_records", "field_of", "compare_fields"]


# -- building and running --------------------------------------------------------------------------

@dataclass(frozen=True)
class BulkRun:
    """Outcome of one bulk simulation: parsed records and timings."""

    records: np.ndarray
    cycles: int
    build_seconds: float
    run_seconds: float
    #: The waveform file of the run (FST on Icarus, VCD on Verilator), when it recorded one;
    #: a GTKWave layout of the design's ports lies next to it (``.gtkw``).
    waves: Path | None = None


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

# The same driver, built with --trace: +waves=FILE records every signal as VCD at each edge.
_VERILATOR_MAIN_WAVES = """\
// neurotile bulk harness driver: toggles the clock until the harness calls $finish;
// +waves=FILE records every signal to FILE (VCD).
#include <cstring>
#include "Vnt_bulk.h"
#include "verilated.h"
#include "verilated_vcd_c.h"

int main(int argc, char** argv) {
    VerilatedContext* context = new VerilatedContext;
    context->commandArgs(argc, argv);
    context->traceEverOn(true);
    Vnt_bulk* top = new Vnt_bulk{context};
    VerilatedVcdC* trace = nullptr;
    const char* arg = context->commandArgsPlusMatch("waves=");
    if (arg && std::strlen(arg) > 7) {
        trace = new VerilatedVcdC;
        top->trace(trace, 99);
        trace->open(arg + 7);
    }
    top->clk = 0;
    top->eval();
    if (trace) trace->dump(context->time());
    while (!context->gotFinish()) {
        context->timeInc(5);
        top->clk = !top->clk;
        top->eval();
        if (trace) trace->dump(context->time());
    }
    top->final();
    if (trace) trace->close();
    delete trace;
    delete top;
    delete context;
    return 0;
}
"""

# Icarus: a second top-level module opens the dump named by +waves=FILE (vvp -fst makes it FST).
_ICARUS_WAVES = """\
// neurotile: waveform dump of the bulk harness for Icarus (Verilog-2005).
module nt_bulk_waves;
  reg [8*1024-1:0] nt_waves_path;
  initial begin
    if ($value$plusargs("waves=%s", nt_waves_path)) begin
      $dumpfile(nt_waves_path);
      $dumpvars(0, nt_bulk);
    end
  end
endmodule
"""


def _build(sim: str, files: dict[str, str], build_dir: Path, waves: bool = False
           ) -> tuple[list[str], float]:
    """Compile the harness and design once per source digest; return the run command.

    ``files`` maps file names to Verilog text. They are written into the build's own folder
    (``bulk-<sim>-<digest>/src``), under the build's lock, so processes sharing ``build_dir``
    never compile a source that another is rewriting; the first builds, the others reuse it.
    With ``waves`` the build can record waveforms (a build of its own).
    """
    if waves and sim == "icarus":
        files = files | {"nt_bulk_waves.v": _ICARUS_WAVES}
    main_text = _VERILATOR_MAIN_WAVES if waves else _VERILATOR_MAIN
    h = hashlib.sha256(sim.encode())
    if sim == "verilator":
        h.update(main_text.encode())
    for text in files.values():
        h.update(text.encode())
    out = build_dir / f"bulk-{sim}-{h.hexdigest()[:16]}"
    stamp = out / "built.stamp"
    exe = out / ("sim.vvp" if sim == "icarus" else "Vnt_bulk")
    cmd = (["vvp", "-n", str(exe)] + (["-fst"] if waves else [])) if sim == "icarus" \
        else [str(exe)]
    t0 = time.perf_counter()
    with build_lock(out):
        if not stamp.exists():
            clear_build_folder(out)
            sources = [write_source(out / "src" / name, text) for name, text in files.items()]
            if sim == "icarus":
                tops = ["-s", "nt_bulk"] + (["-s", "nt_bulk_waves"] if waves else [])
                _call(["iverilog", "-g2005", *tops, "-o", str(exe), *map(str, sources)], out)
            else:
                main = write_source(out / "nt_bulk_main.cpp", main_text)
                with simulator_env("verilator"):
                    _call([shutil.which("verilator") or "verilator", "--cc", "--exe", "--build",
                           "-O3", "--no-timing", "-DNT_EXTERNAL_CLOCK",
                           "--x-assign", "fast", "--x-initial", "fast", "--noassert",
                           "-Wno-WIDTH", "-Wno-STMTDLY", "-Wno-INITIALDLY", "-Wno-MULTIDRIVEN",
                           "-Wno-PROCASSINIT", "-Wno-BLKSEQ", "-Wno-CASEINCOMPLETE",
                           "-Wno-TIMESCALEMOD", *(["--trace"] if waves else []),
                           "--top-module", "nt_bulk", "-j", str(os.cpu_count() or 2),
                           "-Mdir", str(out), "-o", "Vnt_bulk", str(main),
                           *map(str, sources)], out)
            mark_built(stamp)
    return cmd, time.perf_counter() - t0


def _call(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """Run a build step in ``cwd``; on failure keep its output in ``build.log`` and raise."""
    result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        (cwd / "build.log").write_text(result.stdout + result.stderr)
        raise RuntimeError(f"{Path(cmd[0]).name} failed (exit {result.returncode}); "
                           f"see {cwd / 'build.log'}")
    return result


def run_bulk(sim: str, harness: BulkHarness, design_verilog: str, actions: bytes, rows: int, *,
             build_dir: str | os.PathLike, seed: int, gap: int = 0, stall: int = 0,
             drain: int = 8, capture: bool = True, max_cycles: int | None = None,
             meanwhile: Callable[[], None] | None = None, waves: bool | None = None) -> BulkRun:
    """Build (cached) and run ``harness`` around ``design_verilog`` on ``sim``.

    ``gap`` and ``stall`` are probabilities in 256ths. With ``capture=False`` nothing is
    recorded (the speed ceiling: the design and the harness alone). ``meanwhile`` is called while
    the simulator runs (for example to compute the expected outputs). ``waves`` (default: the
    ``WAVES`` environment variable) records every signal to ``<top>.fst`` (Icarus) or
    ``<top>.vcd`` (Verilator) in the run folder, with a GTKWave layout beside it
    (:mod:`neurotile.testbench.waves`).
    """
    if sim not in ("icarus", "verilator"):
        raise UsageError(f"the bulk path runs on icarus or verilator, not {sim!r}")
    check_simulator(sim)
    build_dir = Path(build_dir).resolve()
    if waves is None:
        waves = waves_requested()
    files = {f"{harness.top}.v": design_verilog, "nt_bulk.v": harness.verilog()}
    cmd, build_seconds = _build(sim, files, build_dir, waves)
    # One run folder per pytest-xdist worker: runs of one built design never share files.
    run_dir = build_dir / run_folder_name(f"run-{sim}")
    run_dir.mkdir(parents=True, exist_ok=True)
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
    wave_path = run_dir / f"{harness.top}{WAVE_SUFFIX[sim]}"
    if waves:
        wave_path.unlink(missing_ok=True)
        args.append(f"+waves={wave_path}")
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
    recorded = wave_path if waves and wave_path.exists() else None
    if recorded is not None:
        write_gtkw(recorded, bulk_scope(sim), harness.ports)
    return BulkRun(records, cycles, build_seconds, run_seconds, recorded)
