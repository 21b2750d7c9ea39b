# SPDX-License-Identifier: Apache-2.0
"""``neurotile tapeout BLOCK [params] -o DIR``: write a complete TinyTapeout project."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from neurotile.commands import Command, add_param
from neurotile.commands.inputs import check_params, check_steps
from neurotile.errors import UsageError
from neurotile.output import check_output_dir, remove_new_on_failure, write_tree


def add_output_options(p: argparse.ArgumentParser) -> None:
    """``--force`` and ``--overwrite``, the two ways of writing into a folder that has files."""
    p.add_argument("--force", action="store_true",
                   help="write into DIR even if it is not empty: files neurotile wrote there "
                        "before and nobody edited are updated, all others are kept")
    p.add_argument("--overwrite", action="store_true",
                   help="like --force, and also replace files neurotile did not write or that "
                        "were edited since (the refusal without it names them)")


def _add(parser: argparse.ArgumentParser) -> None:
    from neurotile.tapeout.adapters import COMMON_PARAMS, adapters

    sub = parser.add_subparsers(dest="block", metavar="BLOCK", required=True,
                                parser_class=type(parser))
    for adapter in adapters().values():
        # An adapter parameter may share a common option's name (the reservoir's --seed): the
        # common option, added last, takes the flag, and the project reads it for both.
        p = sub.add_parser(adapter.block, help=adapter.summary, description=adapter.summary,
                           conflict_handler="resolve")
        for param in adapter.params + COMMON_PARAMS:
            add_param(p, param)
        p.add_argument("-o", "--output", required=True, metavar="DIR",
                       help="project folder to write")
        add_output_options(p)
        p.add_argument("--work-dir", default=None, metavar="DIR",
                       help="where synthesis for the area estimate runs (not under /tmp; "
                            "default: build/tapeout, or ~/.cache/neurotile/tapeout when the "
                            "current folder is under /tmp)")
        p.set_defaults(_adapter=adapter)


def work_dir(args: argparse.Namespace) -> Path:
    """``--work-dir``, or ``tapeout`` under the flows' default work root."""
    from neurotile.flows.synth import work_root

    return Path(args.work_dir) if args.work_dir else work_root() / "tapeout"


def project_params(args: argparse.Namespace) -> dict:
    """The block and common parameters given on the command line, checked generically."""
    from neurotile.tapeout.adapters import COMMON_PARAMS

    adapter = args._adapter
    given = adapter.params + COMMON_PARAMS
    check_params(args, given)
    params = {p.name: getattr(args, p.name) for p in given
              if getattr(args, p.name, None) is not None}
    if params.get("steps") is not None:
        check_steps(params["steps"], "--steps", adapter.defaults() | params)
    return params


def _run(args: argparse.Namespace) -> int:
    from neurotile.tapeout.check import check_project
    from neurotile.tapeout.project import generate, synth_estimator

    adapter = args._adapter
    params = project_params(args)
    check_output_dir(args.output, force=args.force or args.overwrite)
    work = work_dir(args)
    with remove_new_on_failure(work):  # a refused project leaves no synthesis behind
        project = generate(adapter, params, estimator=synth_estimator(work))
        out = write_tree(args.output, project.files, force=args.force, overwrite=args.overwrite)
    print(f"wrote TinyTapeout project {project.top} to {out}")
    print(project.report())
    timing = project.timing
    if timing is not None and not timing.fits:
        print(f"warning: {project.top} may not meet timing at {timing.clock_hz / 1e6:g} MHz: its "
              f"tightest path is {timing.cells} cells, about {timing.max_cells} fit (choose a "
              f"slower --clock-hz or another --storage; TinyTapeout's GDS workflow decides)",
              file=sys.stderr)
    problems = check_project(out)
    for problem in problems:
        print(f"check: {problem}")
    if problems:
        raise UsageError(f"the generated project breaks {len(problems)} TinyTapeout rule(s)")
    print(f"check: passed ({out})")
    print(f"run its test: neurotile check {args.output} --test --gates")
    return 0


COMMAND = Command("tapeout",
                  "write a TinyTapeout project (Verilog, wrapper, docs, test) for a block",
                  _add, _run, order=40)
