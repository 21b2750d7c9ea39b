# SPDX-License-Identifier: Apache-2.0
"""The spiking reservoir: digits accuracy, memory capacity, RTL agreement and area by size.

For each reservoir size (default reservoir parameters, :class:`ReservoirParams`, otherwise):

* **digits**: scikit-learn's 8x8 digits as 8 steps of 8 4-bit inputs (one image row per step,
  :func:`~neurotile.neurons.readout.digits_series`), the split of ``examples/digits`` (1,437
  training, 360 test images). Two ridge readouts are trained on the training images and scored
  on the test images: *final state*, the exponentially filtered spike counts at the last step
  (``lam``, one value per neuron), *counts*, each neuron's spike count over the image (what
  the hardware's ``result`` and the TinyTapeout project's ``COUNT`` registers hold), and *per
  step*, every step's spikes (8 per neuron). The baselines are the same readouts on the raw
  inputs (no reservoir): the filtered input at the last step (8 values), the inputs summed
  over the steps (8 column sums), and every input of every step (all 64 pixels).
* **memory capacity**: one input channel of i.i.d. 4-bit values, one 6,000-step run,
  ``MC = sum_k r^2`` over delays 1 .. 40 of a ridge readout of the filtered spikes trained on
  the first half after a 100-step washout and scored on the second
  (:func:`~neurotile.neurons.readout.memory_capacity`).
* **RTL** (``--rtl-sizes``): the reservoir's Verilog runs the 360 test images on a simulator
  (bulk checker, random gaps and stalls); every spike must equal the integer model's, so the
  test accuracy is the accuracy of the hardware.
* **area** (``--area-sizes``): Yosys synthesis of the reservoir (constant weights) to Sky130
  cells, and the smallest TinyTapeout tile at the default density.

Writes ``build/bench/reservoir.json``, ``.md`` and ``.png``; ``--docs`` copies the figure to
``docs/figures/reservoir.png``.

Usage::

    python -m neurotile.bench reservoir
    python bench/reservoir.py --sizes 16 32 64 128 --rtl-sizes 32 --area-sizes 16 32 --docs
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench"
SIZES = (16, 32, 64, 128)
MC_STEPS = 6000
MC_DELAYS = 40


def digits(sizes: tuple[int, ...], lam: float, seed: int) -> dict[str, Any]:
    """Test accuracies of the readouts and baselines (see the module docstring)."""
    from neurotile.neurons.readout import (digits_accuracy, digits_series, digits_split,
                                           filtered)
    from neurotile.neurons.reservoir import ReservoirParams, run_reservoir

    d = digits_split()
    x, y, train, test = digits_series(d["pixels"]), d["labels"], d["train"], d["test"]
    fx = filtered(x, lam)
    out: dict[str, Any] = {
        "baseline_final": digits_accuracy(fx[:, -1], y, train, test),
        "baseline_all": digits_accuracy(x, y, train, test),
        "baseline_counts": digits_accuracy(x.sum(axis=1), y, train, test),
        "sizes": {},
    }
    for n in sizes:
        t0 = time.perf_counter()
        run = run_reservoir(ReservoirParams(neurons=n, seed=seed), x)
        s = run.spikes[0]
        out["sizes"][n] = {
            "final": digits_accuracy(filtered(s, lam)[:, -1], y, train, test),
            "counts": digits_accuracy(run.counts, y, train, test),
            "per_step": digits_accuracy(s, y, train, test),
            "spike_rate": float(s.mean()),
            "seconds": round(time.perf_counter() - t0, 1),
        }
    return out


def memory(sizes: tuple[int, ...], lam: float, seed: int) -> dict[str, Any]:
    """Memory capacity per size, and each delay's r^2."""
    from neurotile.neurons.readout import filtered, memory_capacity
    from neurotile.neurons.reservoir import ReservoirParams, reservoir_spikes

    u = np.random.default_rng([seed, 2]).integers(0, 16, MC_STEPS)
    out = {}
    for n in sizes:
        p = ReservoirParams(neurons=n, inputs=1, input_density=1.0, seed=seed)
        s = reservoir_spikes(p, u[None, :, None])
        mc = memory_capacity(filtered(s, lam)[0], u, max_delay=MC_DELAYS, alpha=10.0)
        out[n] = {"mc": mc["mc"], "r2": [round(float(v), 5) for v in mc["r2"]],
                  "spike_rate": float(s.mean())}
    return out


def rtl(sizes: tuple[int, ...], sim: str, seed: int) -> dict[str, Any]:
    """The test images through each size's RTL: mismatches against the integer model."""
    from neurotile.neurons.readout import digits_series, digits_split
    from neurotile.neurons.reservoir import ReservoirParams, reservoir_network
    from neurotile.testbench.network_bulk import run_network_bulk

    d = digits_split()
    x = digits_series(d["pixels"])[d["test"]]
    out = {}
    for n in sizes:
        net = reservoir_network(ReservoirParams(neurons=n, seed=seed))
        r = run_network_bulk(net, x, sim=sim, weights="constant",
                             build_dir=OUT / "reservoir" / "rtl", seed=seed, gap=0.1, stall=0.1)
        out[n] = {"sim": sim, "samples": r["samples"], "spikes": r["spikes"],
                  "mismatches": r["mismatches"], "samples_identical": r["samples_identical"],
                  "cycles_per_step": round(r["cycles_per_step"], 1),
                  "run_seconds": round(r["run_seconds"], 2)}
    return out


def area(sizes: tuple[int, ...], seed: int) -> dict[str, Any]:
    """Sky130 cell area, flip-flops and smallest tile of each size's constant-weight design."""
    from neurotile.blocks import get_block
    from neurotile.design import elaborate
    from neurotile.flows.synth import synthesize
    from neurotile.flows.tiles import DEFAULT_DENSITY

    out = {}
    for n in sizes:
        design = elaborate(get_block("reservoir"), {"neurons": n, "seed": seed})
        work = OUT / "reservoir" / "area" / design.top
        work.mkdir(parents=True, exist_ok=True)
        src = work / f"{design.top}.v"
        src.write_text(design.verilog)
        t0 = time.perf_counter()
        r = synthesize([src], top=design.top, work_dir=work / "synth")
        best = r.smallest_tile(DEFAULT_DENSITY)
        out[n] = {"top": design.top, "cells": r.cells, "area_um2": round(r.area, 1),
                  "flip_flops": r.flip_flops, "tile": best.name if best else None,
                  "seconds": round(time.perf_counter() - t0, 1)}
    return out


def _pct(v: float) -> str:
    return f"{100 * v:.1f}%"


def markdown(data: dict[str, Any]) -> str:
    """The tables."""
    dg, mc = data["digits"], data["memory"]
    lines = [
        f"Digits (8 steps of 8 4-bit inputs, 1,437 training / 360 test images), ridge readout, "
        f"test accuracy; spike filter lam = {data['lam']}, reservoir seed {data['seed']}.",
        "",
        "| readout | no reservoir | " + " | ".join(f"N = {n}" for n in dg["sizes"]) + " |",
        "|---|---:|" + "---:|" * len(dg["sizes"]),
        "| final state (filtered counts at the last step) | "
        f"{_pct(dg['baseline_final']['test_accuracy'])} | "
        + " | ".join(_pct(v["final"]["test_accuracy"]) for v in dg["sizes"].values()) + " |",
        "| counts (the hardware's end-of-sample counters; inputs summed) | "
        f"{_pct(dg['baseline_counts']['test_accuracy'])} | "
        + " | ".join(_pct(v["counts"]["test_accuracy"]) for v in dg["sizes"].values()) + " |",
        "| per step (every step's spikes or inputs) | "
        f"{_pct(dg['baseline_all']['test_accuracy'])} | "
        + " | ".join(_pct(v["per_step"]["test_accuracy"]) for v in dg["sizes"].values()) + " |",
        "| reservoir spike rate per neuron and step | - | "
        + " | ".join(f"{v['spike_rate']:.3f}" for v in dg["sizes"].values()) + " |",
        "",
        f"Memory capacity (one input of i.i.d. 4-bit values, {MC_STEPS} steps, delays 1.."
        f"{MC_DELAYS}, held-out r^2):",
        "",
        "| N | MC | r^2 at delay 1 | 2 | 3 | 5 | spike rate |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, v in mc.items():
        r2 = v["r2"]
        lines.append(f"| {n} | {v['mc']:.2f} | {r2[0]:.3f} | {r2[1]:.3f} | {r2[2]:.3f} | "
                     f"{r2[4]:.3f} | {v['spike_rate']:.3f} |")
    if data.get("rtl"):
        lines += ["", "RTL against the integer model on the 360 test images:", "",
                  "| N | simulator | spikes | mismatches | identical samples | cycles per step |",
                  "|---:|---|---:|---:|---:|---:|"]
        for n, v in data["rtl"].items():
            lines.append(f"| {n} | {v['sim']} | {v['spikes']:,} | {v['mismatches']} | "
                         f"{_pct(v['samples_identical'])} | {v['cycles_per_step']} |")
    if data.get("area"):
        lines += ["", "Area (constant weights, Yosys to sky130_fd_sc_hd, cell area only):", "",
                  "| N | cells | flip-flops | area um^2 | smallest tile |",
                  "|---:|---:|---:|---:|---|"]
        for n, v in data["area"].items():
            lines.append(f"| {n} | {v['cells']:,} | {v['flip_flops']:,} | "
                         f"{v['area_um2']:,.0f} | {v['tile'] or 'none'} |")
    return "\n".join(lines) + "\n"


def plot(data: dict[str, Any], path: Path) -> None:
    """Digits accuracy and memory capacity against size; r^2 against delay."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dg, mc = data["digits"], data["memory"]
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(14, 4.2))
    ns = [int(n) for n in dg["sizes"]]
    a.plot(ns, [100 * v["final"]["test_accuracy"] for v in dg["sizes"].values()], "o-",
           color="C0", label="reservoir, final state")
    a.plot(ns, [100 * v["counts"]["test_accuracy"] for v in dg["sizes"].values()], "^-",
           color="C2", label="reservoir, spike counts")
    a.plot(ns, [100 * v["per_step"]["test_accuracy"] for v in dg["sizes"].values()], "s-",
           color="C1", label="reservoir, per step")
    a.axhline(100 * dg["baseline_final"]["test_accuracy"], color="C0", ls=":",
              label="no reservoir, final state")
    a.axhline(100 * dg["baseline_counts"]["test_accuracy"], color="C2", ls=":",
              label="no reservoir, inputs summed")
    a.axhline(100 * dg["baseline_all"]["test_accuracy"], color="C1", ls=":",
              label="no reservoir, all 64 pixels")
    a.set(xscale="log", xticks=ns, xticklabels=[str(n) for n in ns], xlabel="reservoir neurons",
          ylabel="test accuracy (%)", title="8x8 digits, row by row")
    a.minorticks_off()
    a.legend(fontsize=8)
    mns = [int(n) for n in mc]
    b.plot(mns, [v["mc"] for v in mc.values()], "o-")
    b.set(xscale="log", xticks=mns, xticklabels=[str(n) for n in mns],
          xlabel="reservoir neurons", ylabel="memory capacity", ylim=(0, None),
          title=f"memory capacity (delays 1..{MC_DELAYS})")
    b.minorticks_off()
    for n, v in mc.items():
        c.plot(np.arange(1, len(v["r2"]) + 1), v["r2"], ".-", label=f"N = {n}")
    c.set(xlabel="delay k (steps)", ylabel="r^2 of the readout of u[t-k]", xlim=(0.5, 12.5),
          title="memory by delay")
    c.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES),
                        help="reservoir sizes (default: 16 32 64 128)")
    parser.add_argument("--lam", type=float, default=0.75,
                        help="the readout's spike filter, r = lam r + s (default: 0.75)")
    parser.add_argument("--seed", type=int, default=1, help="the reservoirs' seed (default: 1)")
    parser.add_argument("--rtl-sizes", type=int, nargs="*", default=[32],
                        help="sizes whose RTL runs the test images (default: 32)")
    parser.add_argument("--sim", choices=("icarus", "verilator"), default="icarus",
                        help="simulator of the RTL runs (default: icarus)")
    parser.add_argument("--area-sizes", type=int, nargs="*", default=[16, 32],
                        help="sizes synthesised for area (default: 16 32)")
    parser.add_argument("--out", type=Path, default=OUT, help="output folder")
    parser.add_argument("--docs", action="store_true",
                        help="also copy the figure to docs/figures/reservoir.png")
    args = parser.parse_args(argv)
    for n in args.sizes + args.rtl_sizes + args.area_sizes:
        if not 2 <= n <= 1024:
            parser.error(f"sizes must be between 2 and 1024, not {n}")
    if not 0.0 <= args.lam < 1.0:
        parser.error(f"--lam must be in [0, 1), not {args.lam}")
    sizes = tuple(args.sizes)
    t0 = time.perf_counter()
    data: dict[str, Any] = {"lam": args.lam, "seed": args.seed,
                            "digits": digits(sizes, args.lam, args.seed),
                            "memory": memory(sizes, args.lam, args.seed)}
    if args.rtl_sizes:
        data["rtl"] = rtl(tuple(args.rtl_sizes), args.sim, args.seed)
    if args.area_sizes:
        data["area"] = area(tuple(args.area_sizes), args.seed)
    data["seconds"] = round(time.perf_counter() - t0, 1)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "reservoir.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    table = markdown(data)
    (args.out / "reservoir.md").write_text(table)
    png = args.out / "reservoir.png"
    plot(data, png)
    if args.docs:
        figures = ROOT / "docs" / "figures"
        figures.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, figures / "reservoir.png")
    sys.stdout.write(table)
    print(f"wrote {args.out / 'reservoir.json'}, .md and .png ({data['seconds']} s)")
    bad = [n for n, v in data.get("rtl", {}).items() if v["mismatches"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
