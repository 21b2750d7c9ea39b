# SPDX-License-Identifier: Apache-2.0
"""``neurotile model BLOCK [params] --current I --duration-ms T [--float | --fixed] [--json]``.

Runs a block's reference models without any hardware: the float model of the continuous-time
equations or the integer model that the RTL matches bit for bit. A block takes part by putting a
function in its catalogue entry's ``extras["model"]``::

    model(params: dict, *, kind: "float" | "fixed", current: float, duration_ms: float) -> dict

returning at least ``{"spike_times_ms": [...], "model": kind, "params": {...}}`` (JSON-ready).
``params`` are the block's generator parameters as given on the command line (unset ones left
out); the function raises ``TypeError``/``ValueError`` for bad values.
"""

from __future__ import annotations

import argparse
import json

from neurotile.blocks import blocks
from neurotile.commands import Command, block_params
from neurotile.commands.inputs import check_duration_ms, check_finite, check_params
from neurotile.errors import UsageError

KINDS = ("float", "fixed")


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--current", type=float, required=True, metavar="I",
                   help="constant stimulus current (the block's unit, e.g. uA/cm^2 for hh)")
    p.add_argument("--duration-ms", type=float, required=True, metavar="T",
                   help="simulated time in milliseconds")
    kind = p.add_mutually_exclusive_group()
    kind.add_argument("--float", dest="kind", action="store_const", const="float",
                      help="the float64 model of the continuous-time equations")
    kind.add_argument("--fixed", dest="kind", action="store_const", const="fixed",
                      help="the integer model the hardware matches bit for bit (default)")
    p.set_defaults(kind="fixed")
    p.add_argument("--json", action="store_true",
                   help="print one JSON object: spike_times_ms, model, params")


def _add(parser: argparse.ArgumentParser) -> None:
    from neurotile.commands import add_param

    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    with_model = {name: b for name, b in blocks().items() if "model" in b.extras}
    parser.epilog = "blocks with reference models: " + (", ".join(with_model) or "none")
    sub = parser.add_subparsers(dest="block", metavar="BLOCK", required=True,
                                parser_class=type(parser))
    for block in with_model.values():
        p = sub.add_parser(block.name, help=block.summary, description=block.summary)
        for param in block.params:
            add_param(p, param)
        _common(p)
        p.set_defaults(_block=block)


def _run(args: argparse.Namespace) -> int:
    block = args._block
    check_params(args, block.params)
    check_finite(args.current, "--current")
    check_duration_ms(args.duration_ms)
    try:
        result = block.extras["model"](block_params(block, args), kind=args.kind,
                                       current=args.current, duration_ms=args.duration_ms)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"{block.name}: {exc}") from None
    if args.json:
        print(json.dumps(result, sort_keys=True))
        return 0
    times = result["spike_times_ms"]
    print(f"{block.name} {result['model']} model, {args.current:g} for {args.duration_ms:g} ms: "
          f"{len(times)} spikes")
    if times:
        print("spike times (ms): " + " ".join(f"{t:.3f}" for t in times))
    return 0


COMMAND = Command("model", "run a block's float or bit-exact integer reference model", _add, _run,
                  order=30)
