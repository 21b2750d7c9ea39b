# SPDX-License-Identifier: Apache-2.0
"""``neurotile bench [NAME ...]``: run the benchmarks (speed, area, accuracy)."""

from __future__ import annotations

import argparse

from neurotile.commands import Command


def _add(parser: argparse.ArgumentParser) -> None:
    from neurotile.bench import ORDER

    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default: all of {', '.join(ORDER)})")


def _run(args: argparse.Namespace) -> int:
    from neurotile.bench.run import main

    return main(args.names)


COMMAND = Command("bench", "measure speed, area and accuracy into build/bench", _add, _run,
                  order=80)
