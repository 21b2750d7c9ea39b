# SPDX-License-Identifier: Apache-2.0
"""``neurotile bench [NAME ...] [--update-docs]``: run the benchmarks (speed, area, accuracy);
``neurotile bench docs`` rewrites the figures the docs quote from ``docs/figures.json``."""

from __future__ import annotations

import argparse

from neurotile.commands import Command
from neurotile.errors import UsageError


def _add(parser: argparse.ArgumentParser) -> None:
    from neurotile.bench import DOC_FIGURES, ORDER

    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default: all of {', '.join(ORDER)}); 'docs' "
                             "alone rewrites the docs' <!-- bench:KEY --> markers from "
                             "docs/figures.json without measuring")
    parser.add_argument("--update-docs", action="store_true",
                        help="store the measured figures the docs quote in docs/figures.json "
                             "and rewrite the docs' markers from them (benchmarks: "
                             f"{', '.join(DOC_FIGURES)})")


def _run(args: argparse.Namespace) -> int:
    from neurotile.bench.run import main

    if "docs" in args.names:
        from neurotile.bench.figures import update_docs

        if args.names != ["docs"] or args.update_docs:
            raise UsageError("'neurotile bench docs' takes no other benchmark or option")
        update_docs()
        return 0
    return main(args.names, update_docs=args.update_docs)


COMMAND = Command("bench", "measure speed, area and accuracy into build/bench", _add, _run,
                  order=80)
