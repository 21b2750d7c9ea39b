# SPDX-License-Identifier: Apache-2.0
"""Trained networks to silicon: accuracy, agreement, cycles, area and verification speed.

For every digits network shipped in ``examples/digits`` (exported by snnTorch): ``neurotile
compile`` with the defaults (8-bit weights, 16-bit membranes, constant weights) on the 360 test
images, with the RTL checked on Verilator on every sample; the same on all 1,797 images for the
agreement of the integer network with the float one. Then the weight modes compared on two
networks (64-32-10 and 64-8-10 on spike input): constant weights, and programmable weights in
flip-flops, in latches (the default for programmable weights) and in latches with the dense
layout; and a sweep of hidden-layer sizes (``examples/digits/sizes``), each compiled with
``--max-drop 0.5`` (the smallest widths within half a point of the float accuracy), to find the
smallest digits network within half a point that fits a TinyTapeout design of at most four tiles.

Writes build/bench/compile.json and build/bench/compile.md. Run::

    python bench/compile.py                  # about a quarter of an hour on two cores
    python bench/compile.py --quick          # the test split of one network only
    python bench/compile.py --weight-modes   # the weight modes only (a few minutes)

``--update-docs`` stores the weight modes' figures in docs/figures.json (``compile.*``, see
:mod:`neurotile.bench.figures`) and rewrites the docs' markers.

Exit status 1 when the 64-48-10 LIF network loses more than half a point, or its RTL differs
from the integer network on any sample.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench"
DIGITS = ROOT / "examples" / "digits"
WORK = ROOT / "build" / "bench" / "compile"

#: The weight modes: constant, or programmable in ``<storage>[-<layout>]``.
WEIGHT_MODES = ("constant", "memory", "latch", "latch-dense")
#: The networks the weight modes are measured on: (name, graph).
MODE_NETWORKS = (("lif-spikes", "lif-spikes"),
                 ("lif-spikes-h8", str(DIGITS / "sizes" / "digits_lif-spikes_h8.nir")))

NETWORKS = [("lif", "digits_test", "digits_all"), ("cuba", "digits_test", "digits_all"),
            ("recurrent", "digits_test", "digits_all"),
            ("lif-spikes", "digits_spikes_test", None)]
#: Tiles of at most four tile units.
SMALL_TILES = ("1x1", "1x2", "2x2")


def _compile(net: str, data: str, **changes):
    from neurotile.compiler.pipeline import CompileOptions, compile_network

    # One sample at gate level (the tests run more): a large netlist simulates slowly.
    options = replace(CompileOptions(verify=("verilator",), gate_samples=1), **changes)
    path = net if str(net).endswith(".nir") else DIGITS / f"digits_{net}.nir"
    return compile_network(path, DIGITS / f"{data}.npz", options, build_dir=WORK).report


def _row(name: str, r: dict) -> dict:
    v = r["rtl_checks"].get("verilator", {})
    return {
        "network": name, "shape": "-".join([str(r["layers"][0]["inputs"])] +
                                           [str(l["neurons"]) for l in r["layers"]]),
        "widths": r["widths"], "weights": r["weights"], "storage": r.get("storage"),
        "layout": r.get("layout"),
        "float": r["float_accuracy"], "integer": r["integer_accuracy"], "rtl": r["rtl_accuracy"],
        "drop_pp": 100 * (r["float_accuracy"] - r["integer_accuracy"]),
        "rtl_matches_integer": r["rtl_matches_integer"],
        "agreement": r["integer_float_agreement"],
        "area_um2": r["area_um2"], "cells": r["cells"], "flip_flops": r["flip_flops"],
        "tile": r["tile"],
        "cycles_per_sample": r["cycles_per_sample"],
        "latency_us": r["latency_us_at_50MHz"],
        "synaptic_ops": r["synaptic_ops_per_sample"],
        "samples_per_second": v.get("samples_per_second"),
        "samples": r["samples"],
    }


def _pct(v) -> str:
    return "-" if v is None else f"{100 * v:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--weight-modes", action="store_true",
                        help="measure the weight modes only")
    parser.add_argument("--update-docs", action="store_true",
                        help="store the weight modes' figures in docs/figures.json and rewrite "
                             "the docs' markers from them (not with --quick)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    nets = [] if args.weight_modes else NETWORKS[:1] if args.quick else NETWORKS
    rows, agreement = [], []
    for net, test, full in nets:
        print(f"compile {net} on {test}", flush=True)
        rows.append(_row(net, _compile(net, test)))
        if full and not args.quick:
            print(f"compile {net} on {full}", flush=True)
            agreement.append(_row(net, _compile(net, full, synth=False)))
    modes = []
    if not args.quick:
        for name, net in MODE_NETWORKS:
            for mode in WEIGHT_MODES:
                print(f"compile {name} with weights: {mode}", flush=True)
                storage, _, layout = mode.partition("-")
                changes = {} if mode == "constant" else {
                    "weights": "programmable", "storage": storage, "layout": layout or "csr"}
                # Areas only: the RTL of every mode is checked by the tests, and Verilator
                # takes minutes to build a network of a few thousand memory words.
                modes.append(_row(name, _compile(net, "digits_spikes_test", verify=(),
                                                 gate_samples=0, **changes)) | {"mode": mode})
    sweep = []
    sizes = sorted((DIGITS / "sizes").glob("*.nir")) if not (args.quick or args.weight_modes) \
        else []
    for path in sizes:
        data = "digits_spikes_test" if "spikes" in path.name else "digits_test"
        print(f"compile {path.name} with --max-drop 0.5", flush=True)
        sweep.append(_row(path.stem, _compile(str(path), data, max_drop=0.5)))
    fits = [r for r in sweep if r["tile"] in SMALL_TILES and r["drop_pp"] <= 0.5]
    smallest = min(fits, key=lambda r: r["area_um2"]) if fits else None

    OUT.mkdir(parents=True, exist_ok=True)
    result = {"networks": rows, "all_images": agreement, "weight_modes": modes,
              "sweep": sweep, "smallest_within_half_point_in_4_tiles": smallest,
              "seconds": round(time.perf_counter() - t0)}
    # The weight modes alone go to files of their own, so they never replace a whole run's.
    stem = "compile-weight-modes" if args.weight_modes else "compile"
    (OUT / f"{stem}.json").write_text(json.dumps(result, indent=2) + "\n")
    md = [] if not rows else [
        "Digits networks (examples/digits), 360 test images, defaults (8-bit weights, 16-bit "
        "membranes, constant weights); RTL checked on Verilator on every sample.",
        "",
        "| network | shape | float % | integer % | RTL % | drop (pp) | RTL = integer | "
        "cells | area (um^2) | tile | cycles/sample | us at 50 MHz | verified samples/s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        md.append(f"| {r['network']} | {r['shape']} | {_pct(r['float'])} | {_pct(r['integer'])} "
                  f"| {_pct(r['rtl'])} | {r['drop_pp']:+.2f} | {_pct(r['rtl_matches_integer'])} "
                  f"| {r['cells']} | {r['area_um2']:.0f} | {r['tile'] or 'none'} | "
                  f"{r['cycles_per_sample']:.0f} | {r['latency_us']:.0f} | "
                  f"{r['samples_per_second']:.0f} |")
    if agreement:
        md += ["", "All 1,797 images (training and test): agreement of predictions.", "",
               "| network | float % | integer % | integer = float | RTL = integer |",
               "|---|---|---|---|---|"]
        for r in agreement:
            md.append(f"| {r['network']} | {_pct(r['float'])} | {_pct(r['integer'])} | "
                      f"{_pct(r['agreement'])} | {_pct(r['rtl_matches_integer'])} |")
    if modes:
        md += ["", "Weight modes (spike input, 8-bit weights, 16-bit membranes): constant "
               "(ROMs in logic), or programmable (by default in latches, in the layout that "
               "stores fewer bits) in flip-flops (`--storage memory`), in latches with the "
               "non-zero weights and their columns (`--storage latch --layout csr`) or in "
               "latches with every weight in its place (`--layout dense`, the default for "
               "these almost full matrices):", "",
               "| network | shape | weights | cells | flip-flops | area (um^2) | tile |",
               "|---|---|---|---|---|---|---|"]
        for r in modes:
            md.append(f"| {r['network']} | {r['shape']} | {r['mode']} | {r['cells']} | "
                      f"{r['flip_flops']} | {r['area_um2']:.0f} | {r['tile'] or 'none'} |")
    if sweep:
        md += ["", "Hidden-layer sizes, each with the smallest widths within 0.5 points "
               "(`--max-drop 0.5`), constant weights:", "",
               "| network | shape | widths | float % | integer % | drop (pp) | cells | "
               "area (um^2) | tile |", "|---|---|---|---|---|---|---|---|---|"]
        for r in sweep:
            md.append(f"| {r['network']} | {r['shape']} | {r['widths']} | {_pct(r['float'])} "
                      f"| {_pct(r['integer'])} | {r['drop_pp']:+.2f} | {r['cells']} | "
                      f"{r['area_um2']:.0f} | {r['tile'] or 'none'} |")
        md += ["", "Smallest within half a point in at most four tiles: " +
               (f"{smallest['network']} ({smallest['shape']}, {smallest['widths']}, "
                f"{smallest['area_um2']:.0f} um^2, {smallest['tile']})" if smallest else
                "none of those tried.")]
    command = "python bench/compile.py" + (" --weight-modes" if args.weight_modes else "")
    md += ["", f"Command: `{command}` ({result['seconds']} s)."]
    (OUT / f"{stem}.md").write_text("\n".join(md).lstrip("\n") + "\n")
    print("\n".join(md))
    if args.update_docs:
        if args.quick:
            print("--update-docs needs the weight modes; docs/figures.json left alone",
                  file=sys.stderr)
        else:
            from neurotile.bench.figures import from_compile, update_docs

            update_docs(from_compile(result), "neurotile bench compile")
    if not rows:
        return 0
    lif = rows[0]
    ok = lif["drop_pp"] <= 0.5 and lif["rtl_matches_integer"] == 1.0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
