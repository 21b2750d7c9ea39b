# SPDX-License-Identifier: Apache-2.0
"""``neurotile tapeout BLOCK [params] -o DIR``: write a complete TinyTapeout project."""

from __future__ import annotations

import argparse
from pathlib import Path

from neurotile.commands import Command, add_param
from neurotile.errors import UsageError
from neurotile.output import check_output_dir, write_tree


def _add(parser: argparse.ArgumentParser) -> None:
    from neurotile.tapeout.adapters import COMMON_PARAMS, adapters

    sub = parser.add_subparsers(dest="block", metavar="BLOCK", required=True,
                                parser_class=type(parser))
    for adapter in adapters().values():
        p = sub.add_parser(adapter.block, help=adapter.summary, description=adapter.summary)
        for param in adapter.params + COMMON_PARAMS:
            add_param(p, param)
        p.add_argument("-o", "--output", required=True, metavar="DIR",
                       help="project folder to write")
        p.add_argument("--force", action="store_true",
                       help="write into DIR even if it is not empty (same-named files are "
                            "replaced)")
        p.add_argument("--work-dir", default=None, metavar="DIR",
                       help="where synthesis for the area estimate runs (not under /tmp; "
                            "default: build/tapeout, or ~/.cache/neurotile/tapeout when the "
                            "current folder is under /tmp)")
        p.set_defaults(_adapter=adapter)


def work_dir(args: argparse.Namespace) -> Path:
    """``--work-dir``, or ``tapeout`` under the flows' default work root."""
    from neurotile.flows.synth import work_root

    return Path(args.work_dir) if args.work_dir else work_root() / "tapeout"


def _run(args: argparse.Namespace) -> int:
    from neurotile.tapeout.adapters import COMMON_PARAMS
    from neurotile.tapeout.check import check_project
    from neurotile.tapeout.project import generate, synth_estimator

    adapter = args._adapter
    check_output_dir(args.output, force=args.force)
    names = [p.name for p in adapter.params + COMMON_PARAMS]
    params = {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}
    project = generate(adapter, params, estimator=synth_estimator(work_dir(args)))
    out = write_tree(args.output, project.files, force=args.force)
    print(f"wrote TinyTapeout project {project.top} to {out}")
    print(project.report())
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
