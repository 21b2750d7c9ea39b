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

``neurotile flow NET.nir --data DATA.npz -o DIR`` does the same for a trained network
(:mod:`neurotile.commands.flow_network`).
"""

from __future__ import annotations

import argparse
import time

from neurotile import progress
from neurotile.blocks import get_block
from neurotile.commands import Command
from neurotile.commands.inputs import check_steps, per_step
from neurotile.errors import UsageError


def _add(parser: argparse.ArgumentParser) -> None:
    from neurotile.commands.tapeout import _add as add_tapeout

    add_tapeout(parser)
    blocks = parser._subparsers._group_actions[0]  # type: ignore[union-attr]
    for sub in blocks.choices.values():
        sub.add_argument("--sim-steps", type=int, default=None, metavar="N",
                         help="timesteps of the RTL check on each simulator (default: about "
                              "100,000 neuron-updates on Icarus, 1,000,000 on Verilator)")
        sub.add_argument("--no-gates", action="store_true",
                         help="skip the gate-level run of the project's test")
    # A trained network instead of a block: `flow PATH.nir ...` (routed by the command line).
    from neurotile.commands import flow_network

    net = blocks.add_parser(flow_network.NETWORK, help=flow_network.SUMMARY,
                            description=flow_network.SUMMARY)
    flow_network.add_arguments(net)
    net.set_defaults(_run=flow_network.run)


def _steps(block: str, resolved: dict, sim: str, given: int | None) -> int:
    if given is not None:
        return check_steps(given, "--sim-steps", resolved)
    neurons = per_step(resolved)
    if block == "lif":
        return max(1, (100_000 if sim == "icarus" else 1_000_000) // neurons)
    return 2000


def _check_prerequisites(simulate: bool, gates: bool) -> None:
    """Every tool the flow runs, before anything is written."""
    import shutil

    from neurotile.testbench.runner import check_simulator

    if simulate:
        check_simulator("icarus")
        check_simulator("verilator")
    if shutil.which("iverilog") is None:
        raise UsageError("Icarus Verilog (iverilog) is not installed; it runs the project's "
                         "test: sudo apt-get install iverilog")
    if shutil.which("make") is None:
        raise UsageError("make is not installed; it runs the project's test: "
                         "sudo apt-get install make")
    if gates:
        from neurotile.flows.sky130 import package_dir

        package_dir()


def _run(args: argparse.Namespace) -> int:
    from neurotile.commands.tapeout import project_params, work_dir
    from neurotile.output import check_output_dir, remove_new_on_failure, write_tree
    from neurotile.tapeout.check import check_project
    from neurotile.tapeout.project import (
        gate_level_make_args,
        generate,
        run_make,
        synth_estimator,
    )

    adapter = args._adapter
    block = get_block(adapter.block)
    params = project_params(args)
    # Everything is checked before anything is written: parameters, steps, tools, the folder.
    try:
        resolved = adapter.resolve(dict(adapter.defaults()) | params)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{adapter.block}: {exc}") from None
    steps = {sim: _steps(block.name, resolved, sim, args.sim_steps)
             for sim in ("icarus", "verilator")}
    _check_prerequisites(block.simulate is not None, not args.no_gates)
    check_output_dir(args.output, force=args.force or args.overwrite)
    failures = []

    # 1. project, area, rules
    t0 = time.perf_counter()
    work = work_dir(args)
    with remove_new_on_failure(work):
        project = generate(adapter, params, estimator=synth_estimator(work))
        if not args.no_gates and project.estimate.netlist is None:
            raise UsageError("no gate-level netlist was produced; rerun with --no-gates")
        out = write_tree(args.output, project.files, force=args.force, overwrite=args.overwrite)
    problems = check_project(out)
    for problem in problems:
        print(f"check: {problem}")
    if problems:
        failures.append("TinyTapeout rules")
    print(f"project: {project.top} in {out} ({time.perf_counter() - t0:.1f} s)")
    print(project.report())

    # 2. RTL against the reference model on both simulators
    sim_params = {p.name: resolved[p.name] for p in block.params if p.name in resolved}
    sim_params = block.defaults() | {p.name: p.default for p in block.sim_params} | sim_params
    if block.simulate is not None:
        for sim in ("icarus", "verilator"):
            with progress.stage(f"checking the RTL on {sim}: {steps[sim]} timesteps "
                                "(the first run of a design builds the simulation)"):
                summary = block.simulate(sim_params, sim=sim,
                                         steps=steps[sim],
                                         seed=params.get("seed", 1),
                                         build_dir=work_dir(args) / "simulate" / block.name)
            print(f"rtl: {summary.line()}")
            if summary.mismatches:
                failures.append(f"RTL on {sim}")

    # 3. the project's own test, RTL and gate level
    runs = [("test (RTL, Icarus)", [])]
    if not args.no_gates:
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
