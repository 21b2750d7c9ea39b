# SPDX-License-Identifier: Apache-2.0
"""``neurotile simulate BLOCK [params] --sim SIM [--waves] [--plot FILE.png]``: check the RTL
against the reference model; ``--waves`` (or ``WAVES=1``) records waveforms with a GTKWave
layout, ``--plot`` draws the checked run (population blocks, bulk path)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from neurotile import progress
from neurotile.commands import Command, add_block_parsers, block_params
from neurotile.commands.inputs import check_params, check_seed, check_steps
from neurotile.commands.pictures import (add_plot_options, add_waves_option, ask_waves,
                                         plot_path, run_plot)
from neurotile.errors import UsageError

SIMS = ("icarus", "verilator", "amaranth")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--sim", choices=SIMS, default="icarus", help="simulator (default: icarus)")
    p.add_argument("--steps", type=int, default=1000, help="timesteps to run (default: 1000)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    p.add_argument("--work-dir", "--build-dir", dest="build_dir", default="build/simulate",
                   metavar="DIR", help="where simulator builds and logs go, as --work-dir of "
                   "tapeout, flow and check (default: build/simulate; --build-dir is the older "
                   "spelling)")
    add_waves_option(p)
    add_plot_options(p, "the checked run: membranes of the first neurons, RTL against the "
                     "model, the raster and any mismatches (population blocks, bulk path)")


def _add(parser: argparse.ArgumentParser) -> None:
    add_block_parsers(parser, with_sim=True, needs="simulate", common=_common)


def _run(args: argparse.Namespace) -> int:
    block = args._block
    check_params(args, block.params + block.sim_params)
    check_seed(args.seed)
    params = block_params(block, args)
    for p in block.sim_params:
        if getattr(args, p.name, None) is not None:
            params[p.name] = getattr(args, p.name)
    full = block.defaults() | {p.name: p.default for p in block.sim_params} | params
    check_steps(args.steps, "--steps", full)
    picture = plot_path(args)
    extra = {}
    if picture is not None:
        if not block.extras.get("trace"):
            raise UsageError(f"--plot draws population blocks' runs; {block.name} has no "
                             "picture of its run (neurotile model BLOCK --plot draws models)")
        if args.sim == "amaranth" or not full.get("bulk", True):
            raise UsageError("--plot draws the bulk path's recording: use --sim icarus or "
                             "--sim verilator, without --no-bulk")
        extra["trace"] = True
    check = block.extras.get("check")
    if check is not None:  # parameters that only make sense together, before any progress
        try:
            check(full)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"{block.name}: {exc}") from None
    if args.sim != "amaranth":  # a missing simulator is one error line, before any progress
        from neurotile.testbench.runner import check_simulator

        check_simulator(args.sim)
    ask_waves(args)
    try:
        with progress.stage(f"checking {block.name} on {args.sim}: {args.steps} timesteps "
                            "(the first run of a design builds the simulation)"):
            summary = block.simulate(
                full, sim=args.sim, steps=args.steps, seed=args.seed,
                build_dir=Path(args.build_dir) / block.name, **extra,
            )
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{block.name}: {exc}") from None
    print(summary.line())
    if picture is not None and summary.trace is not None:
        run_plot(summary.trace, picture, f"neurotile simulate {block.name} --sim {args.sim} "
                 f"--steps {args.steps} --seed {args.seed}: {summary.mismatches} mismatches")
    if summary.mismatches:
        print(f"neurotile: {summary.mismatches} mismatches; reproduce with --seed {args.seed}",
              file=sys.stderr)
        return 1
    return 0


COMMAND = Command("simulate", "run a block's RTL against its reference model", _add, _run, order=20)
