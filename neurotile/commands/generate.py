# SPDX-License-Identifier: Apache-2.0
"""``neurotile generate BLOCK [params] -o DIR``: write Verilog and a manifest."""

from __future__ import annotations

import argparse

from neurotile.commands import Command, add_block_parsers, block_params
from neurotile.commands.inputs import check_params
from neurotile.commands.tapeout import add_output_options
from neurotile.design import elaborate
from neurotile.output import check_output_dir, write_tree


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("-o", "--output", required=True, metavar="DIR",
                   help="folder to write <top>.v and <top>.json into")
    add_output_options(p)


def _add(parser: argparse.ArgumentParser) -> None:
    add_block_parsers(parser, common=_common)


def _run(args: argparse.Namespace) -> int:
    block = args._block
    check_params(args, block.params)
    check_output_dir(args.output, force=args.force or args.overwrite)
    design = elaborate(block, block_params(block, args))
    out = write_tree(args.output, design.files(), force=args.force, overwrite=args.overwrite)
    print(f"wrote {out / (design.top + '.v')} and {design.top}.json")
    return 0


COMMAND = Command("generate", "write a block's Verilog and a JSON manifest", _add, _run, order=10)
