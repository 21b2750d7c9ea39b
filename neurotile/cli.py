# SPDX-License-Identifier: Apache-2.0
"""The ``neurotile`` command line.

Each subcommand is a module in :mod:`neurotile.commands` with a module-level
``COMMAND = Command(...)``. Every problem the user can fix is raised as
:class:`~neurotile.errors.UsageError` and printed as one line on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from neurotile import __version__, progress
from neurotile.errors import UsageError

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage block
        raise UsageError(f"{self.prog}: {message} (see '{self.prog} --help')")


def _commands() -> list:
    from neurotile import commands
    from neurotile.catalogue import scan

    return sorted(scan(commands, "COMMAND", commands.Command), key=lambda c: c.order)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="neurotile",
        description="Spiking neurons and sparse synapse tiles from Amaranth to verified Sky130 Verilog.",
    )
    parser.add_argument("--version", action="version", version=f"neurotile {__version__}")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress lines on stderr (a command's --json implies it)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in _commands():
        p = sub.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(p)
        p.set_defaults(_run=command.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(_route(sys.argv[1:] if argv is None else list(argv)))
        if not getattr(args, "_run", None):
            parser.print_help()
            return 2
        if not (args.quiet or getattr(args, "json", False)):
            progress.enable()
        code = int(args._run(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, inside the handlers below
        return code
    except UsageError as exc:
        print(f"neurotile: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("neurotile: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (``neurotile model ... | head``): stop quietly, as other tools
        # do, and keep Python from reporting the failed flush of stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a tool stopped by a closed pipe
    finally:
        progress.disable()


def _route(argv: list[str]) -> list[str]:
    """``flow NET.nir ...`` (a path, not a block) goes to the network flow."""
    from neurotile.commands.flow_network import route

    return route(argv)


if __name__ == "__main__":
    sys.exit(main())
