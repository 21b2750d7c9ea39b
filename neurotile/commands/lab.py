# SPDX-License-Identifier: Apache-2.0
"""``neurotile lab list | start N DIR | check N [DIR]``: the graded labs of :mod:`neurotile.labs`.

``start`` copies the lab text and the starter files into a new (or empty) folder and never
overwrites anything. ``check`` runs the lab's checker on the student's folder (default: the
current one) and prints one line per criterion, ``PASS`` or ``FAIL`` with a hint; the exit code
is 0 only when every criterion passes (1 otherwise, 2 for a usage error).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from neurotile.commands import Command
from neurotile.errors import UsageError
from neurotile.output import check_output_dir, write_tree

__all__ = ["COMMAND"]


def _lab(number: int):
    from neurotile.labs import labs

    found = labs()
    if number not in found:
        raise UsageError(f"there is no lab {number}; choose one of "
                         f"{', '.join(str(n) for n in found)} (see 'neurotile lab list')")
    return found[number]


def _add(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True,
                                parser_class=type(parser))
    sub.add_parser("list", help="list the labs", description="list the labs")
    p = sub.add_parser("start", help="copy a lab's text and starter files into a new folder",
                       description="copy a lab's text and starter files into a new folder")
    p.add_argument("number", type=int, metavar="N", help="lab number")
    p.add_argument("folder", metavar="DIR", help="new or empty folder for your answers")
    p = sub.add_parser("check", help="grade your answers, one line per criterion",
                       description="grade your answers, one line per criterion; exit 0 only "
                       "when every criterion passes")
    p.add_argument("number", type=int, metavar="N", help="lab number")
    p.add_argument("folder", metavar="DIR", nargs="?", default=".",
                   help="your lab folder (default: the current folder)")


def _list() -> int:
    from neurotile.labs import labs

    for lab in labs().values():
        print(f"{lab.number:2d}  {lab.title}  ({len(lab.criteria)} criteria; you fill in "
              f"{', '.join(lab.files)})")
    return 0


def _start(number: int, folder: str) -> int:
    from neurotile.labs import starter_files

    lab = _lab(number)
    out = Path(folder).expanduser()
    if out.exists() and not out.is_dir():
        raise UsageError(f"{folder} is a file, not a folder; choose a new folder")
    if out.is_dir() and any(out.iterdir()):
        raise UsageError(f"lab folder {folder} is not empty; lab start never overwrites: "
                         "choose a new folder")
    check_output_dir(out, force=False)
    written = write_tree(out, starter_files(lab), force=False)
    print(f"lab {lab.number} ({lab.title}) in {written}: read README.md, then fill in "
          f"{', '.join(lab.files)}; grade with 'neurotile lab check {lab.number} {folder}'")
    return 0


def _check(number: int, folder: str) -> int:
    lab = _lab(number)
    path = Path(folder).expanduser()
    if path.exists() and not path.is_dir():
        raise UsageError(f"{folder} is a file; give the lab folder that holds your answers")
    if not path.is_dir():
        raise UsageError(f"lab folder {folder} does not exist; start it with "
                         f"'neurotile lab start {number} {folder}'")
    if not os.access(path, os.R_OK | os.X_OK):
        raise UsageError(f"lab folder {folder} is not readable")
    results = lab.check(path.resolve())
    for r in results:
        print(r.line())
    passed = sum(r.passed for r in results)
    print(f"lab {lab.number}: {passed} of {len(results)} criteria pass")
    return 0 if passed == len(results) else 1


def _run(args: argparse.Namespace) -> int:
    if args.action == "list":
        return _list()
    if args.action == "start":
        return _start(args.number, args.folder)
    return _check(args.number, args.folder)


COMMAND = Command("lab", "graded labs: list them, start one in a folder, check your answers",
                  _add, _run, order=90)
