# SPDX-License-Identifier: Apache-2.0
"""Sky130 cell area of every block at its defaults, and of the LIF population against its size.

Synthesises with Yosys to sky130_fd_sc_hd (see ``neurotile.flows.synth``; cell area only, no
routing) and writes ``build/bench/area.json`` and ``build/bench/area.md`` (Markdown tables for the
README). Run from the repository root::

    python bench/area.py            # every block + LIF sweep 8..256 neurons
    python bench/area.py --quick    # LIF sweep 8..64 only (and the storage and project tables)

Each synthesis takes a few seconds (the first Yosys run on a machine compiles for ~30 s).
"""

from __future__ import annotations

import argparse
import inspect
import json
import math
import sys
import time
from pathlib import Path
from typing import Any

from neurotile.bench.figures import from_area
from neurotile.blocks import blocks
from neurotile.design import elaborate
from neurotile.flows.synth import SynthResult, synthesize
from neurotile.flows.tiles import DEFAULT_DENSITY, get_tile
from neurotile.tapeout.estimate import DENSITY_MARGIN_PCT

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench"
SIZES = (8, 16, 32, 64, 128, 256)
TARGET_NEURONS = 32

# Three ways to hold 32 words of 10 bits (a 32-neuron population's state), in plain Verilog so the
# comparison does not depend on how a generator describes them.
STORAGE_VERILOG = """\
// Latch register file: 32 x 10, combinational read, synchronous write (posted write data,
// per-word clock gate = transparent-low enable latch + AND).
module latchrf(input clk, input we, input [4:0] waddr, input [9:0] wdata,
               input [4:0] raddr, output [9:0] rdata);
  reg [9:0] wdata_q;
  always @(posedge clk) wdata_q <= wdata;
  reg [9:0] mem [0:31];
  genvar i;
  generate for (i = 0; i < 32; i = i + 1) begin : w
    reg en_l;
    always @* if (!clk) en_l = we && (waddr == i);
    wire g = clk & en_l;
    always @* if (g) mem[i] = wdata_q;
  end endgenerate
  assign rdata = mem[raddr];
endmodule
module flopring(input clk, input we, input [9:0] wdata, output [9:0] rdata);
  reg pend; reg [9:0] pd;
  always @(posedge clk) begin pend <= we; pd <= wdata; end
  wire g = ~clk & pend;
  reg [9:0] words [0:31];
  integer k;
  always @(posedge g) begin for (k = 0; k < 31; k = k + 1) words[k] <= words[k+1]; words[31] <= pd; end
  assign rdata = words[0];
endmodule
module floprf(input clk, input we, input [4:0] waddr, input [9:0] wdata,
               input [4:0] raddr, output [9:0] rdata);
  reg [9:0] mem [0:31];
  always @(posedge clk) if (we) mem[waddr] <= wdata;
  assign rdata = mem[raddr];
endmodule
"""
STORAGE_KINDS = {
    "floprf": "flip-flop register file (like amaranth.lib.memory)",
    "latchrf": "latch register file (per-word clock gate, 32:1 read)",
    "flopring": "clock-gated flip-flop ring (like RingRegisterFile)",
}
#: The generators' own storage, 32 x 10 bits, as neurotile exports it (Sky130 cells instantiated).
GENERATED_STORAGE = {
    "LatchRegisterFile (dlxtp_1 latches, dlclkp_1 per word, 32:1 read)": "LatchRegisterFile",
    "RingRegisterFile (flip-flops, dlclkp_1 gate)": "RingRegisterFile",
}
#: Complete TinyTapeout LIF projects (host interface and wrapper included): (neurons,
#: refractory bits) per storage; the goals are 48 neurons with the counter, 64 without.
PROJECTS = ((32, 2), (48, 2), (64, 0))


def _synth(name: str, params: dict[str, Any], work: Path) -> tuple[SynthResult, float]:
    block = blocks()[name]
    design = elaborate(block, params)
    work.mkdir(parents=True, exist_ok=True)
    src = work / f"{design.top}.v"
    src.write_text(design.verilog)
    t0 = time.perf_counter()
    result = synthesize([src], top=design.top, work_dir=work / "synth")
    return result, time.perf_counter() - t0


def _row(result: SynthResult, **extra: Any) -> dict[str, Any]:
    best = result.smallest_tile(DEFAULT_DENSITY)
    return extra | {
        "top": result.top,
        "cells": result.cells,
        "area_um2": round(result.area, 1),
        "flip_flops": result.flip_flops,
        "util_1x1": round(result.fit(get_tile("1x1")).utilisation, 4),
        "tile": best.name if best else None,
    }


def _storage_options() -> tuple[str, ...]:
    from neurotile.rtl.lif import LIFPopulation

    params = inspect.signature(LIFPopulation.__init__).parameters
    if "storage" not in params:
        return ("memory",)
    from neurotile.rtl.population import STORAGES

    return STORAGES


def _synth_lif(n: int, refr: int, storage: str, work: Path) -> tuple[SynthResult, float]:
    from neurotile.rtl.export import to_verilog
    from neurotile.rtl.lif import LIFPopulation

    kwargs: dict[str, Any] = {"neurons": n, "refractory_width": refr}
    if storage != "memory":
        kwargs["storage"] = storage
    top = f"lif_n{n}_r{refr}_{storage}"
    work.mkdir(parents=True, exist_ok=True)
    src = work / f"{top}.v"
    src.write_text(to_verilog(LIFPopulation(**kwargs), name=top))
    t0 = time.perf_counter()
    result = synthesize([src], top=top, work_dir=work / "synth")
    return result, time.perf_counter() - t0


def max_neurons(storage: str, refr: int, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The largest population (8-bit membranes, ``refr`` refractory bits) whose cell area fits a
    1x1 tile at the default density: a linear estimate from the sweep, then synthesis of the
    neighbours until the boundary is found."""
    capacity = get_tile("1x1").core_area * DEFAULT_DENSITY
    pts = sorted((r["neurons"], r["area_um2"]) for r in rows
                 if r["storage"] == storage and r["refractory_width"] == refr)
    (n0, a0), (n1, a1) = pts[1], pts[2]
    slope = (a1 - a0) / (n1 - n0)
    n = max(2, int(n0 + (capacity - a0) / slope))
    cache: dict[int, SynthResult] = {}

    def area(k: int) -> float:
        if k not in cache:
            cache[k], _ = _synth_lif(k, refr, storage, OUT / "lif" / f"max_n{k}_r{refr}_{storage}")
        return cache[k].area

    while area(n) > capacity and n > 2:
        n -= 1
    while area(n + 1) <= capacity:
        n += 1
    a = area(n)
    print(f"lif {storage} r{refr}: at most {n} neurons in 1x1 ({a:,.0f} um^2)", file=sys.stderr)
    return {"storage": storage, "refractory_width": refr, "neurons": n, "area_um2": round(a, 1),
            "util_1x1": round(a / get_tile("1x1").core_area, 4),
            "um2_per_neuron": round(a / n, 1), "marginal_um2_per_neuron": round(slope, 1),
            "next_area_um2": round(area(n + 1), 1)}


def storage_comparison() -> list[dict[str, Any]]:
    """Cell area of 32 x 10 bits held three ways."""
    work = OUT / "storage"
    work.mkdir(parents=True, exist_ok=True)
    src = work / "storage.v"
    src.write_text(STORAGE_VERILOG)
    rows = []
    for top, what in STORAGE_KINDS.items():
        r = synthesize([src], top=top, work_dir=work / top)
        rows.append({"storage": what, "area_um2": round(r.area, 1), "um2_per_bit":
                     round(r.area / 320, 2), "flip_flops": r.flip_flops, "latches": r.latches})
        print(f"storage {top}: {r.area:,.0f} um^2", file=sys.stderr)
    from neurotile.rtl import regfile
    from neurotile.rtl.export import to_verilog

    for what, cls in GENERATED_STORAGE.items():
        top = cls.lower()
        gen = work / top
        gen.mkdir(parents=True, exist_ok=True)
        (gen / f"{top}.v").write_text(to_verilog(getattr(regfile, cls)(shape=10, depth=32),
                                                 name=top))
        r = synthesize([gen / f"{top}.v"], top=top, work_dir=gen / "synth")
        rows.append({"storage": what, "area_um2": round(r.area, 1), "um2_per_bit":
                     round(r.area / 320, 2), "flip_flops": r.flip_flops, "latches": r.latches})
        print(f"storage {top}: {r.area:,.0f} um^2", file=sys.stderr)
    return rows


#: Published per-bit figures of TinyTapeout memories, um^2 per stored bit (cell area).
ANCHORS = {"32 x 32-bit register file in one tile": 15.4,
           "latch memory, 512 dlxtp_1 latches": 26.3,
           "flip-flop memories": 49.0}


def sparse_storage() -> list[dict[str, Any]]:
    """The sparse tile (16 x 16, 256 non-zero 8-bit weights) and the spiking layer at their
    defaults, with flip-flop and latch memories (and the tile with the dense layout,
    ``latch-dense``): area, and um^2 per stored bit (synapses with their column indices, row
    pointers, accumulators; the dense layout's weights and accumulators) and per weight bit,
    all-in."""
    from neurotile.neurons.synapses import SparseParams
    from neurotile.rtl.export import to_verilog
    from neurotile.rtl.sparse_matmul import SparseMatmul, synapse_layout
    from neurotile.rtl.spiking_layer import SpikingLayer

    p = SparseParams()
    acc_bits = p.banks * p.outputs * p.acc_width
    stored = p.depth * synapse_layout(p).size + (p.inputs + 1) * p.ptr_width + acc_bits
    # The dense layout (latch-dense): every weight in its place, no index, no row pointer.
    stored_dense = p.inputs * p.outputs * p.weight_width + acc_bits
    weight_bits = p.depth * p.weight_width
    rows = []
    for block, cls in (("sparse-matmul", SparseMatmul), ("spiking-layer", SpikingLayer)):
        storages = ("memory", "latch", "latch-dense")
        for storage in storages:
            top = f"{block.replace('-', '_')}_{storage.replace('-', '_')}"
            work = OUT / "sparse" / top
            work.mkdir(parents=True, exist_ok=True)
            options = ({"storage": "latch", "layout": "dense"} if storage == "latch-dense"
                       else {"storage": storage})
            bits = stored_dense if storage == "latch-dense" else stored
            (work / f"{top}.v").write_text(to_verilog(cls(**options), name=top))
            r = synthesize([work / f"{top}.v"], top=top, work_dir=work / "synth")
            timing = r.timing()
            best = r.smallest_tile()
            rows.append({"block": block, "storage": storage, "area_um2": round(r.area, 1),
                         "stored_bits": bits, "um2_per_stored_bit": round(r.area / bits, 1),
                         "um2_per_weight_bit": round(r.area / weight_bits, 1),
                         "flip_flops": r.flip_flops, "latches": r.latches,
                         "tile": best.name if best else None,
                         "timing_cells": timing.cells, "timing_fits": timing.fits})
            print(f"{block} {storage}: {r.area:,.0f} um^2", file=sys.stderr)
    return rows


def projects(storages: tuple[str, ...]) -> list[dict[str, Any]]:
    """Cell area of complete TinyTapeout LIF projects (``neurotile tapeout lif``)."""
    from neurotile.tapeout.adapters import get_adapter
    from neurotile.tapeout.estimate import synth_estimator
    from neurotile.tapeout.project import generate

    core = get_tile("1x1").core_area
    rows = []
    for storage in storages:
        for n, refr in PROJECTS:
            project = generate(get_adapter("lif"), {"neurons": n, "refractory_width": refr,
                                                    "storage": storage},
                               estimator=synth_estimator(OUT / "projects"))
            area = project.estimate.area
            # Fits: a 1x1 tile at the density the project declares by itself (60%, or raised up
            # to the automatic cap, docs/density.md); density_1x1_pct: what `--placement-density`
            # a 1x1 tile needs (the utilisation plus the margin).
            rows.append({"storage": storage, "neurons": n, "refractory_width": refr,
                         "area_um2": round(area, 1), "util_1x1": round(area / core, 4),
                         "fits_1x1": project.tile == "1x1", "tile": project.tile,
                         "density_pct": project.density_pct,
                         "density_1x1_pct": math.ceil(round(100 * area / core
                                                            + DENSITY_MARGIN_PCT, 6))})
            print(f"project lif n{n} r{refr} {storage}: {area:,.0f} um^2 "
                  f"({area / core:.1%} of 1x1)", file=sys.stderr)
    return rows


#: Complete TinyTapeout projects whose area the docs quote: name -> (block, ``neurotile
#: tapeout`` options).
TAPEOUT_PROJECTS: dict[str, tuple[str, dict[str, Any]]] = {
    "lif": ("lif", {}),
    "lif.n16": ("lif", {"neurons": 16}),
    "lif.ring": ("lif", {"storage": "ring"}),
    "lif.latch": ("lif", {"storage": "latch"}),
    "lif.memory": ("lif", {"storage": "memory"}),
    "sparse-matmul": ("sparse-matmul", {}),
    "sparse-matmul.memory": ("sparse-matmul", {"storage": "memory"}),
    "spiking-layer": ("spiking-layer", {}),
    "spiking-layer.memory": ("spiking-layer", {"storage": "memory"}),
    "sparse-matmul.dense": ("sparse-matmul", {"layout": "dense"}),
    "spiking-layer.dense": ("spiking-layer", {"layout": "dense"}),
    "hh": ("hh", {}),
}


def tapeout_projects() -> list[dict[str, Any]]:
    """Cell area of the whole TinyTapeout project (host interface and ``tt_um_`` wrapper
    included) of ``neurotile tapeout`` with the blocks and options of
    :data:`TAPEOUT_PROJECTS`."""
    from neurotile.tapeout.adapters import get_adapter
    from neurotile.tapeout.project import generate, synth_estimator

    rows = []
    for name, (block, params) in TAPEOUT_PROJECTS.items():
        t0 = time.perf_counter()
        project = generate(get_adapter(block), params,
                           estimator=synth_estimator(OUT / "tapeout"))
        e = project.estimate
        rows.append({"name": name, "block": block, "params": params, "top": project.top,
                     "area_um2": round(e.area, 1), "cells": e.cells, "flip_flops": e.flip_flops,
                     "tile": project.tile, "util_tile": round(project.utilisation, 4),
                     "util_1x1": round(e.area / get_tile("1x1").core_area, 4)})
        print(f"tapeout {name}: {e.area:,.0f} um^2, tile {project.tile} "
              f"({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return rows


def run(sizes: tuple[int, ...], all_blocks: bool) -> dict[str, Any]:
    data: dict[str, Any] = {"density": DEFAULT_DENSITY, "blocks": [], "lif": [], "max_1x1": [],
                            "storage": storage_comparison(), "tapeout": []}
    if all_blocks:
        data["tapeout"] = tapeout_projects()
        for name, block in blocks().items():
            result, secs = _synth(name, {}, OUT / "blocks" / name)
            data["blocks"].append(_row(result, block=name, params=block.defaults()))
            print(f"{name}: {result.area:,.0f} um^2 ({secs:.1f} s)", file=sys.stderr)
    for storage in _storage_options():
        for refr in (2, 0):
            for n in sizes:
                tag = f"n{n}_r{refr}_{storage}"
                result, secs = _synth_lif(n, refr, storage, OUT / "lif" / tag)
                row = _row(result, neurons=n, refractory_width=refr, storage=storage)
                row["um2_per_neuron"] = round(result.area / n, 1)
                data["lif"].append(row)
                print(f"lif {tag}: {result.area:,.0f} um^2 ({secs:.1f} s)", file=sys.stderr)
            data["max_1x1"].append(max_neurons(storage, refr, data["lif"]))
    data["projects"] = projects(_storage_options())
    data["sparse"] = sparse_storage()
    return data


def markdown(data: dict[str, Any]) -> str:
    pct = f"{data['density']:.0%}"
    lines = []
    if data["blocks"]:
        lines += [f"| block | cells | flip-flops | cell area (um^2) | 1x1 utilisation | "
                  f"smallest tile at {pct} |", "|---|---:|---:|---:|---:|---|"]
        for r in data["blocks"]:
            lines.append(f"| {r['block']} | {r['cells']} | {r['flip_flops']} | "
                         f"{r['area_um2']:,.0f} | {r['util_1x1']:.0%} | {r['tile'] or 'none'} |")
        lines.append("")
    lines += [f"| LIF neurons | refractory bits | storage | cell area (um^2) | um^2/neuron | "
              f"1x1 utilisation | smallest tile at {pct} |",
              "|---:|---:|---|---:|---:|---:|---|"]
    for r in data["lif"]:
        lines.append(f"| {r['neurons']} | {r['refractory_width']} | {r['storage']} | "
                     f"{r['area_um2']:,.0f} | {r['um2_per_neuron']:.0f} | {r['util_1x1']:.0%} | "
                     f"{r['tile'] or 'none'} |")
    if data.get("storage"):
        lines += ["", "| storage (32 words x 10 bits) | cell area (um^2) | um^2 per bit |",
                  "|---|---:|---:|"]
        for r in data["storage"]:
            lines.append(f"| {r['storage']} | {r['area_um2']:,.0f} | {r['um2_per_bit']:.1f} |")
    if data.get("max_1x1"):
        lines += ["", f"| storage | refractory bits | most neurons in 1x1 at {pct} | cell area "
                      f"(um^2) | 1x1 utilisation | um^2/neuron (all-in) | um^2/neuron (marginal) |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for r in data["max_1x1"]:
            lines.append(f"| {r['storage']} | {r['refractory_width']} | {r['neurons']} | "
                         f"{r['area_um2']:,.0f} | {r['util_1x1']:.1%} | {r['um2_per_neuron']:.0f} | "
                         f"{r['marginal_um2_per_neuron']:.0f} |")
    if data.get("projects"):
        lines += ["", "| complete TinyTapeout project | storage | cell area (um^2) | 1x1 "
                      "utilisation | tile (declared density) | 1x1 needs --placement-density |",
                  "|---|---|---:|---:|---|---:|"]
        for r in data["projects"]:
            lines.append(f"| LIF {r['neurons']} neurons, {r['refractory_width']} refractory bits "
                         f"| {r['storage']} | {r['area_um2']:,.0f} | {r['util_1x1']:.1%} | "
                         f"{r['tile']} ({r['density_pct']}%) | {r['density_1x1_pct']} |")
    if data.get("sparse"):
        lines += ["", "| block (16 x 16, 256 non-zero 8-bit weights) | storage | cell area (um^2) "
                      "| um^2 per stored bit | um^2 per weight bit | smallest tile |",
                  "|---|---|---:|---:|---:|---|"]
        for r in data["sparse"]:
            lines.append(f"| {r['block']} | {r['storage']} | {r['area_um2']:,.0f} | "
                         f"{r['um2_per_stored_bit']:.1f} | {r['um2_per_weight_bit']:.1f} | "
                         f"{r['tile'] or 'none'} |")
        lines += [""] + [f"Anchor: {k}, {v} um^2 per bit." for k, v in ANCHORS.items()]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="LIF sweep 8..64 only")
    parser.add_argument("--update-docs", action="store_true",
                        help="store the figures in docs/figures.json and rewrite the docs' "
                             "markers from them (not with --quick)")
    args = parser.parse_args(argv)
    sizes = SIZES[:4] if args.quick else SIZES
    data = run(sizes, all_blocks=not args.quick)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "area.json").write_text(json.dumps(data, indent=2) + "\n")
    md = markdown(data)
    (OUT / "area.md").write_text(md)
    print(md)
    print(f"wrote {OUT / 'area.json'} and {OUT / 'area.md'}", file=sys.stderr)
    for r in data.get("projects", []):
        if r["neurons"] >= 48 and not r["fits_1x1"]:
            print(f"note: the complete {r['neurons']}-neuron project with "
                  f"{r['refractory_width']} refractory bits and {r['storage']} storage needs "
                  f"{r['util_1x1']:.1%} of a 1x1 core: a 1x1 tile at --placement-density "
                  f"{r['density_1x1_pct']}", file=sys.stderr)
    tiles = [r for r in data.get("sparse", [])
             if r["block"] == "sparse-matmul" and r["storage"].startswith("latch")]
    if tiles and min(r["area_um2"] for r in tiles) > 60_000:
        best = min(tiles, key=lambda r: r["area_um2"])
        print(f"goal missed: the smallest sparse tile with latch memories ({best['storage']}) is "
              f"{best['area_um2']:,.0f} um^2 (goal 60,000)", file=sys.stderr)
    if args.update_docs:
        if args.quick:
            print("--update-docs needs the full run; docs/figures.json left alone",
                  file=sys.stderr)
        else:
            from neurotile.bench.figures import update_docs

            update_docs(from_area(data), "neurotile bench area")
    # Target: at least 32 LIF neurons (8-bit membranes, refractory counter) in a 1x1 tile.
    best = max((r["neurons"] for r in data["max_1x1"] if r["refractory_width"] == 2), default=0)
    if best < TARGET_NEURONS:
        print(f"target missed: at most {best} LIF neurons fit a 1x1 tile at "
              f"{DEFAULT_DENSITY:.0%}, target {TARGET_NEURONS}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
