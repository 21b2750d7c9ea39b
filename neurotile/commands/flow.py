# SPDX-License-Identifier: Apache-2.0
"""``neurotile flow BLOCK [params] -o DIR``: generate, verify and size a TinyTapeout design.

The whole path in one command:

1. write the TinyTapeout project (``neurotile tapeout``), synthesised to Sky130 cells for its area
   and tile, and checked against TinyTapeout's rules;
2. check the block's RTL against its reference model on Icarus and on Verilator
   (``neurotile simulate``);
3. run the project's own cocotb test (``make`` in ``DIR/test``) on the RTL and on the
   synthesised gate-level netlist.

Each stage prints one line; the exit status is 0 only when every stage passes.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from neurotile.blocks import get_block
from neurotile.commands import Command
from neurotile.errors import UsageError


def _add(parser: argparse.ArgumentParser) -> None:
    from neurotile.commands.tapeout import _add as add_tapeout

    add_tapeout(parser)
    for sub in parser._subparsers._group_actions[0].choices.values():  # type: ignore[union-attr]
        sub.add_argument("--sim-steps", type=int, default=None, metavar="N",
                         help="timesteps of the RTL check on each simulator (default: about "
                              "100,000 neuron-updates on Icarus, 1,000,000 on Verilator)")
        sub.add_argument("--no-gates", action="store_true",
                         help="skip the gate-level run of the project's test")


def _steps(block: str, resolved: dict, sim: str, given: int | None) -> int:
    if given is not None:
        if given < 1:
            raise UsageError(f"--sim-steps must be at least 1, not {given}")
        return given
    neurons = int(resolved.get("neurons") or resolved.get("outputs") or 1)
    if block == "lif":
        return max(1, (100_000 if sim == "icarus" else 1_000_000) // neurons)
    return 2000


def _run(args: argparse.Namespace) -> int:
    from neurotile.commands.tapeout import work_dir
    from neurotile.output import check_output_dir, write_tree
    from neurotile.tapeout.adapters import COMMON_PARAMS
    from neurotile.tapeout.check import check_project
    from neurotile.tapeout.project import (
        gate_level_make_args,
        generate,
        run_make,
        synth_estimator,
    )

    adapter = args._adapter
    block = get_block(adapter.block)
    check_output_dir(args.output, force=args.force)
    names = [p.name for p in adapter.params + COMMON_PARAMS]
    params = {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
    failures = []

    # 1. project, area, rules
    t0 = time.perf_counter()
    project = generate(adapter, params, estimator=synth_estimator(work_dir(args)))
    out = write_tree(args.output, project.files, force=args.force)
    problems = check_project(out)
    for problem in problems:
        print(f"check: {problem}")
    if problems:
        failures.append("TinyTapeout rules")
    print(f"project: {project.top} in {out} ({time.perf_counter() - t0:.1f} s)")
    print(project.report())

    # 2. RTL against the reference model on both simulators
    try:
        resolved = adapter.resolve(dict(adapter.defaults()) | params)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{adapter.block}: {exc}") from None
    sim_params = {p.name: resolved[p.name] for p in block.params if p.name in resolved}
    sim_params = block.defaults() | {p.name: p.default for p in block.sim_params} | sim_params
    if block.simulate is not None:
        for sim in ("icarus", "verilator"):
            summary = block.simulate(sim_params, sim=sim,
                                     steps=_steps(block.name, resolved, sim, args.sim_steps),
                                     seed=resolved.get("seed", 1),
                                     build_dir=work_dir(args) / "simulate" / block.name)
            print(f"rtl: {summary.line()}")
            if summary.mismatches:
                failures.append(f"RTL on {sim}")

    # 3. the project's own test, RTL and gate level
    runs = [("test (RTL, Icarus)", [])]
    if not args.no_gates:
        if project.estimate.netlist is None:
            raise UsageError("no gate-level netlist was produced; rerun with --no-gates")
        runs.append(("test (gate level, Icarus)", gate_level_make_args(project.estimate.netlist)))
    for name, extra in runs:
        t0 = time.perf_counter()
        result = run_make(out, extra)
        ok = result.returncode == 0 and "FAIL=0" in result.stdout
        print(f"{name}: {'passed' if ok else 'FAILED'} ({time.perf_counter() - t0:.1f} s)")
        if not ok:
            log = out / "test" / ("make-gl.log" if extra else "make.log")
            log.write_text(result.stdout)
            print(f"  see {log}")
            failures.append(name)

    if failures:
        print(f"flow: FAILED: {', '.join(failures)}")
        return 1
    print(f"flow: {project.top} verified and fits tile {project.tile}; project in {out}")
    return 0


COMMAND = Command("flow", "generate, verify and size a TinyTapeout-ready design in one go",
                  _add, _run, order=5)
