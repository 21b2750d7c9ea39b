# SPDX-License-Identifier: Apache-2.0
"""Subcommands of the ``neurotile`` command line, one module each."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from neurotile.blocks import Block, Param, blocks

__all__ = ["Command", "add_param", "add_block_parsers", "block_params"]


@dataclass(frozen=True)
class Command:
    """A subcommand: ``add_arguments(parser)`` declares it, ``run(args) -> exit code`` runs it."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    run: Callable[[argparse.Namespace], int]
    order: int = 50


def add_param(parser: argparse.ArgumentParser, p: Param) -> None:
    """Add ``p`` as an option (``--name``; a bool also gets ``--no-name``); unset stays None."""
    shown = "" if p.default is None else f" (default: {p.default})"
    if p.type is bool:
        parser.add_argument(p.flag, dest=p.name, action=argparse.BooleanOptionalAction,
                            default=None, help=p.help + shown)
        return
    parser.add_argument(
        p.flag, dest=p.name, type=p.type, default=None, choices=p.choices,
        metavar=p.metavar or (None if p.choices else p.type.__name__.upper()),
        help=p.help + shown,
    )


def describe_blocks(with_sim: bool = False) -> str:
    """Text listing every block and its parameters, for ``--help`` epilogs."""
    lines = ["blocks and their parameters:"]
    for block in blocks().values():
        lines.append(f"  {block.name}: {block.summary}")
        params = block.params + (block.sim_params if with_sim else ())
        for p in params:
            lines.append(f"      {p.flag:<22} {p.help} (default: {p.default})")
    return "\n".join(lines)


def add_block_parsers(
    parser: argparse.ArgumentParser,
    *,
    with_sim: bool = False,
    needs: str | None = None,
    common: Callable[[argparse.ArgumentParser], None] | None = None,
) -> None:
    """Add one sub-parser per block, with the block's parameters as options.

    ``with_sim`` adds the block's simulation-only parameters; ``needs`` keeps only blocks with
    that attribute set (e.g. ``"simulate"``); ``common`` adds options every block shares.
    """
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.epilog = describe_blocks(with_sim)
    sub = parser.add_subparsers(dest="block", metavar="BLOCK", required=True,
                                parser_class=type(parser))
    for block in blocks().values():
        if needs and getattr(block, needs) is None:
            continue
        # A block parameter may share a common option's name (the reservoir's --seed): the
        # common option, added last, takes the flag, so both read one value.
        p = sub.add_parser(block.name, help=block.summary, description=block.summary,
                           conflict_handler="resolve")
        for param in block.params + (block.sim_params if with_sim else ()):
            add_param(p, param)
        if common:
            common(p)
        p.set_defaults(_block=block)


def block_params(block: Block, args: argparse.Namespace) -> dict[str, Any]:
    """The generator parameters given on the command line (unset ones left out)."""
    out = {}
    for p in block.params:
        value = getattr(args, p.name, None)
        if value is not None:
            out[p.name] = value
    return out
