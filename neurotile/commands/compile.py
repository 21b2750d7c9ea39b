# SPDX-License-Identifier: Apache-2.0
"""``neurotile compile NET.nir --data DATA.npz -o DIR``: a trained network to verified Verilog.

Reads the NIR graph, runs its float reference on the data, quantises it (or searches the
smallest widths within ``--max-drop`` points), generates the network top (constant weights, or
programmable ones in latches or flip-flops: ``--storage``, ``--layout``), checks it spike for
spike against the integer network on every sample (Verilator; Icarus on a subset), sizes it in
Sky130 cells and writes the Verilog, the quantised network, ``report.json``, ``report.md`` and
``predictions.npz`` into ``DIR``. Exit 0 when the RTL equals the integer network on every
sample checked, 1 when it does not, 2 for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace

from neurotile import progress
from neurotile.blocks.sparse_matmul import LAYOUT, STORAGE
from neurotile.commands import Command, add_param
from neurotile.errors import UsageError


def _widths(text: str) -> int | tuple[int, ...]:
    try:
        parts = tuple(int(p) for p in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a width or a comma-separated list "
                                         "of widths (e.g. 16 or 16,12)") from None
    return parts[0] if len(parts) == 1 else parts


def add_network_options(p: argparse.ArgumentParser) -> None:
    """The options ``compile`` and ``flow`` share."""
    p.add_argument("graph", metavar="NET.nir", help="the trained network as a NIR graph")
    p.add_argument("--data", required=True, metavar="FILE.npz",
                   help="'inputs' (float [samples, steps, inputs]) and 'labels' (int [samples])")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="folder to write into")
    g = p.add_argument_group("reading the graph (NIR does not record these)")
    g.add_argument("--reset", choices=("subtract", "zero"), default="subtract",
                   help="reset after a spike (default: subtract, snnTorch's)")
    g.add_argument("--reset-delay", action=argparse.BooleanOptionalAction, default=True,
                   help="apply a spike's reset on the next step (default: on, snnTorch's)")
    g.add_argument("--dt", type=float, default=1e-4, metavar="S",
                   help="time step in seconds (default: 1e-4, what snnTorch's exporter uses)")
    q = p.add_argument_group("quantising")
    q.add_argument("--weight-bits", type=int, default=8, metavar="N",
                   help="signed weight bits (default: 8)")
    q.add_argument("--membrane-bits", type=_widths, default=16, metavar="N[,N...]",
                   help="signed membrane bits, one for all layers or one per layer "
                        "(default: 16)")
    q.add_argument("--input-bits", type=int, default=4, metavar="N",
                   help="bits of a multi-bit input value (default: 4; binary spike data "
                        "uses 1)")
    q.add_argument("--leak", choices=("multiply", "shift"), default="multiply",
                   help="leak arithmetic: (U * b) >> beta_bits, or U - (U >> k) "
                        "(default: multiply)")
    q.add_argument("--beta-bits", type=int, default=8, metavar="N",
                   help="fraction bits of a multiply leak (default: 8)")
    q.add_argument("--per-channel", action="store_true",
                   help="one scale per neuron instead of per layer")
    q.add_argument("--max-drop", type=float, default=None, metavar="PP",
                   help="search the smallest widths whose integer accuracy is within PP "
                        "percentage points of the float accuracy; prints the table searched")
    h = p.add_argument_group("hardware and checks")
    h.add_argument("--weights", choices=("constant", "programmable"), default="constant",
                   help="weights baked into logic, or in memories the host writes "
                        "(default: constant)")
    # The sparse tile's own options, so each is spelled and chosen the same everywhere.
    add_param(h, replace(STORAGE, default=None, help=(
        "what programmable weights (and the tiles' accumulators) are built from: memory "
        "(flip-flops) or latch (Sky130 latches and clock gates, little more than half the "
        "area; docs/latches.md) (default: latch with --weights programmable; constant "
        "weights are ROMs in logic: memory only)")))
    add_param(h, replace(LAYOUT, default=None, help=(
        "programmable weights' layout: csr (non-zero weights with their column, row "
        "pointers) or dense (every weight in its place; needs --storage latch; docs/sparse.md) "
        "(default: with latches whichever stores fewer bits, dense for mostly non-zero "
        "matrices; csr otherwise)")))
    h.add_argument("--icarus-samples", type=int, default=20, metavar="N",
                   help="samples checked on Icarus (default: 20; Verilator checks all)")
    h.add_argument("--gate-samples", type=int, default=3, metavar="N",
                   help="samples the synthesised gate-level netlist runs on Icarus "
                        "(default: 3; 0: none)")
    h.add_argument("--no-verify", action="store_true", help="skip the RTL checks")
    h.add_argument("--no-synth", action="store_true", help="skip sizing in Sky130 cells")
    h.add_argument("--seed", type=int, default=1, help="seed of the checks' random gaps")
    p.add_argument("--json", action="store_true", help="print the report as JSON on stdout")
    p.add_argument("--force", action="store_true",
                   help="write into a non-empty folder (files neurotile wrote there and nobody "
                        "edited are updated, others kept)")
    p.add_argument("--overwrite", action="store_true",
                   help="with --force, also replace files that were edited or not neurotile's")


def compile_options(args: argparse.Namespace):
    """:class:`~neurotile.compiler.pipeline.CompileOptions` from the parsed options."""
    from neurotile.compiler.pipeline import CompileOptions
    from neurotile.compiler.quantise import QuantOptions

    if args.max_drop is not None and not 0 <= args.max_drop <= 100:
        raise UsageError(f"--max-drop must be between 0 and 100 percentage points, not "
                         f"{args.max_drop}")
    for flag, value in (("--icarus-samples", args.icarus_samples),
                        ("--gate-samples", args.gate_samples)):
        if value < 0:
            raise UsageError(f"{flag} must be 0 or more, not {value}")
    quant = QuantOptions(weight_bits=args.weight_bits, membrane_bits=args.membrane_bits,
                         leak=args.leak, beta_bits=args.beta_bits, input_bits=args.input_bits,
                         per_channel=args.per_channel)
    verify: tuple[str, ...] = () if args.no_verify else ("verilator", "icarus")
    if args.icarus_samples == 0:
        verify = tuple(s for s in verify if s != "icarus")
    options = CompileOptions(reset=args.reset, reset_delay=args.reset_delay, dt=args.dt,
                             quant=quant, max_drop=args.max_drop, weights=args.weights,
                             storage=args.storage, layout=args.layout,
                             verify=verify, icarus_samples=args.icarus_samples,
                             gate_samples=args.gate_samples,
                             synth=not args.no_synth, seed=args.seed)
    options.check()
    return options


def progress_line(text: str) -> None:
    """A compile stage's line on stderr (silent under ``--quiet`` and ``--json``)."""
    progress.note(text)


def _run(args: argparse.Namespace) -> int:
    from neurotile.compiler.pipeline import compile_network, format_report
    from neurotile.output import check_output_dir, write_tree

    check_output_dir(args.output, force=args.force or args.overwrite)
    options = compile_options(args)
    if options.verify:
        from neurotile.testbench.runner import check_simulator

        for sim in options.verify:
            check_simulator(sim)
    result = compile_network(args.graph, args.data, options, progress=progress_line)
    out = write_tree(args.output, result.files, force=args.force, overwrite=args.overwrite)
    report = result.report
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(format_report(report), end="")
        print(f"wrote {out}/: {', '.join(sorted(result.files))}")
    checked = report["rtl_checks"]
    failed = [sim for sim, c in checked.items() if c["mismatches"]]
    if failed:
        print(f"neurotile: error: the RTL differs from the integer network on "
              f"{', '.join(failed)} (first mismatches in {out / 'report.json'})", file=sys.stderr)
        return 1
    return 0


COMMAND = Command("compile", "compile a trained network (NIR graph) into verified Verilog, "
                  "with its accuracy, cycles and area", add_network_options, _run, order=35)
