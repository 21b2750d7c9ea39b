# SPDX-License-Identifier: Apache-2.0
"""Cycles per timestep of the sparse synapse tile against weight density and spike rate.

Runs the generated tile in a simulator with no gaps and no back-pressure, over a grid of weight
densities and input spike rates (one weight matrix per grid point, several timesteps each), and
measures the cycles between the starts of consecutive timesteps, in a steady state (neither the
first step after programming nor the last step of a run is timed). Every accumulator is still
checked against the reference model. Both accumulator configurations are measured: one bank
(the drain follows the synaptic work) and two (the drain overlaps the next step's synaptic
work). For comparison it gives the *dense equivalent*: the same
one-operation-per-cycle datapath visiting every synapse, ``inputs * outputs + outputs + 2``
cycles per step whatever the activity.

Writes ``build/bench/sparse_scaling.json``, ``.md`` (tables) and ``.png`` (plot); ``--docs``
also copies the plot to ``docs/figures/sparse_scaling.png``.

Usage::

    python bench/sparse_scaling.py                      # 64 x 64, Amaranth's simulator
    python bench/sparse_scaling.py --inputs 256 --outputs 256 --sim verilator --steps 4
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DENSITIES = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0)
RATES = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0)


def predicted_periods(work: list[int], outputs: int, banks: int) -> list[int]:
    """Cycles from each step's first event to the next step's, for back-to-back input.

    One bank: ``W + outputs + 2``. Two banks: a step's marker leaves the front end ``W + 1``
    cycles after its first event, but no sooner than ``outputs + 1`` cycles after the previous
    marker (whose drain must be over); the next step starts one cycle later.
    """
    if banks == 1:
        return [w + outputs + 2 for w in work[:-1]]
    out, start, marker = [], 0, None
    for w in work[:-1]:
        marker = start + w + 1 if marker is None else max(start + w + 1, marker + outputs + 1)
        out.append(marker + 1 - start)
        start = marker + 1
    return out


def measure(*, inputs: int, outputs: int, banks: int, sim: str, steps: int, seed: int,
            build_dir: Path) -> dict:
    """Simulate the grid; return the per-point figures and the totals."""
    from neurotile.blocks.sparse_matmul import run_design
    from neurotile.neurons.synapses import SparseParams
    from neurotile.testbench.sparse_matmul import check_config

    p = SparseParams(inputs=inputs, outputs=outputs, weight_width=8, acc_width=16,
                     depth=inputs * outputs, banks=banks)
    grid = [[d, r] for d in DENSITIES for r in RATES]
    options = dict(directed=False, run_length=steps, grid=grid, gap=0.0, stall=0.0)
    t0 = time.perf_counter()
    report = run_design(p, sim=sim, steps=steps * len(grid), seed=seed, build_dir=build_dir,
                        **options)
    seconds = time.perf_counter() - t0
    if not report["passed"] or report["mismatches"]:
        raise SystemExit(f"the tile disagreed with the reference ({report['mismatches']} "
                         f"mismatches); see {report.get('run_dir', 'the log above')}")
    stim, _ = check_config({"params": p.structural(), "steps": steps * len(grid), "seed": seed,
                            **options})
    periods = iter(report["periods"])
    dense = inputs * outputs + outputs + 2
    points, total_ops, total_work, worst = [], 0, 0, 0
    for (d, r), run in zip(grid, stim.runs):
        lengths = run.csr.row_lengths()
        work = [sum(max(1, int(lengths[a])) for a, _ in e) for e in run.steps]
        cycles = [next(periods) for _ in run.steps[:-1]]  # the last step has no successor
        predicted = predicted_periods(work, outputs, banks)
        worst = max(worst, max(abs(c - q) for c, q in zip(cycles, predicted)))
        # Steady state: the first step of a run follows programming, not another step's drain.
        timed = run.steps[1:-1]
        cycles = cycles[1:]
        ops = [sum(int(lengths[a]) for a, _ in e) for e in timed]
        total_ops += sum(ops)
        total_work += sum(work[1:-1])
        mean = float(np.mean(cycles))
        points.append({
            "density": d, "rate": r, "nnz": run.csr.nnz, "steps": len(cycles),
            "events_per_step": float(np.mean([len(e) for e in timed])),
            "synaptic_ops_per_step": float(np.mean(ops)),
            "cycles_per_step": mean,
            "dense_cycles_per_step": dense,
            "speedup_vs_dense": dense / mean,
        })
    return {
        "params": p.structural(), "sim": sim, "seed": seed, "steps_per_point": steps,
        "formula": ("cycles/step = sum over events of max(1, L(a)) + outputs + 2" if banks == 1
                    else "marker_t = max(start_t + W_t + 1, marker_(t-1) + outputs + 1)"),
        "max_formula_error_cycles": worst,
        "synaptic_ops_per_cycle_while_events_pending": total_ops / total_work,
        "dense_cycles_per_step": dense,
        "cycles_simulated": report.get("cycles", 0),
        "seconds": seconds,
        "points": points,
    }


def _table(result: dict, key: str, fmt: str) -> list[str]:
    pts = {(x["density"], x["rate"]): x for x in result["points"]}
    lines = ["| density \\ spike rate | " + " | ".join(f"{r:.0%}" for r in RATES) + " |",
             "|---|" + "---:|" * len(RATES)]
    for d in DENSITIES:
        lines.append(f"| {d:.0%} | " + " | ".join(
            format(pts[d, r][key], fmt) + ("x" if key == "speedup_vs_dense" else "")
            for r in RATES) + " |")
    return lines


def markdown(results: dict[int, dict]) -> str:
    """Cycles per step and speed-up over the dense equivalent per bank count, plus a summary."""
    first = next(iter(results.values()))
    p = first["params"]
    lines = [
        f"Sparse tile {p['inputs']} x {p['outputs']}, {p['weight_width']}-bit weights, "
        f"simulated on {first['sim']} ({first['steps_per_point'] - 2} timed steps per point, "
        f"no back-pressure); dense equivalent {first['dense_cycles_per_step']} cycles per step.",
    ]
    for banks, result in results.items():
        lines += ["", f"Cycles per timestep, {banks} accumulator bank{'s' * (banks > 1)}:", ""]
        lines += _table(result, "cycles_per_step", ".0f")
        lines += ["", f"Speed-up over the dense equivalent, {banks} bank{'s' * (banks > 1)}:",
                  ""]
        lines += _table(result, "speedup_vs_dense", ".1f")
    lines.append("")
    for banks, result in results.items():
        lines.append(
            f"{banks} bank{'s' * (banks > 1)}: "
            f"{result['synaptic_ops_per_cycle_while_events_pending']:.3f} synaptic operations per "
            f"cycle while events are pending (an event on an empty row costs one cycle); largest "
            f"difference between a measured step and `{result['formula']}`: "
            f"{result['max_formula_error_cycles']} cycles.")
    return "\n".join(lines) + "\n"


def plot(results: dict[int, dict], path: Path) -> None:
    """Cycles per step against spike rate (one line per density) and against synaptic ops."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first = next(iter(results.values()))
    p = first["params"]
    dense = first["dense_cycles_per_step"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.4))
    styles = {1: ("o-", 1.0), 2: ("s--", 0.6)}
    for banks, result in results.items():
        marker, alpha = styles[banks]
        for i, d in enumerate(DENSITIES):
            pts = [x for x in result["points"] if x["density"] == d]
            left.plot([x["rate"] for x in pts], [x["cycles_per_step"] for x in pts], marker,
                      color=f"C{i}", alpha=alpha,
                      label=f"density {d:.0%}" if banks == min(results) else None)
    left.axhline(dense, color="k", ls=":", label="dense equivalent")
    left.set(xscale="log", yscale="log", xlabel="input spike rate per step",
             ylabel="cycles per timestep",
             title=f"{p['inputs']} x {p['outputs']} tile (solid: 1 bank, dashed: 2 banks)")
    left.legend(fontsize=8)
    for banks, result in results.items():
        ops = np.array([x["synaptic_ops_per_step"] for x in result["points"]])
        cyc = np.array([x["cycles_per_step"] for x in result["points"]])
        right.plot(ops + 1, cyc, styles[banks][0][0], alpha=0.8,
                   label=f"measured, {banks} bank{'s' * (banks > 1)}")
    top = max(max(x["synaptic_ops_per_step"] for x in r["points"]) for r in results.values())
    line = np.logspace(0, np.log10(top + 1), 60)
    right.plot(line, line - 1 + p["outputs"] + 2, "-", label="1 bank: ops + outputs + 2")
    right.plot(line, np.maximum(line - 1 + 2, p["outputs"] + 1), "--",
               label="2 banks: max(ops + 2, outputs + 1)")
    right.axhline(dense, color="k", ls=":", label="dense equivalent")
    right.set(xscale="log", yscale="log", xlabel="synaptic operations per timestep (+1)",
              ylabel="cycles per timestep", title="work follows the active synapses")
    right.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=64, help="tile inputs (default: 64)")
    parser.add_argument("--outputs", type=int, default=64, help="tile outputs (default: 64)")
    parser.add_argument("--sim", choices=("amaranth", "icarus", "verilator"), default="amaranth",
                        help="simulator (default: amaranth)")
    parser.add_argument("--banks", type=int, nargs="+", choices=(1, 2), default=[1, 2],
                        help="accumulator banks to measure (default: 1 2)")
    parser.add_argument("--steps", type=int, default=5,
                        help="timesteps per grid point; the first and the last are not timed "
                             "(default: 5)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench",
                        help="output folder (default: build/bench)")
    parser.add_argument("--docs", action="store_true",
                        help="also copy the plot to docs/figures/sparse_scaling.png")
    args = parser.parse_args(argv)
    if args.steps < 3:
        parser.error(f"--steps must be at least 3, not {args.steps}")
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    for banks in sorted(set(args.banks)):
        try:
            results[banks] = measure(
                inputs=args.inputs, outputs=args.outputs, banks=banks, sim=args.sim,
                steps=args.steps, seed=args.seed,
                build_dir=ROOT / "build" / "bench" / "sparse-matmul")
        except (TypeError, ValueError) as exc:
            parser.error(str(exc))
    (args.out / "sparse_scaling.json").write_text(
        json.dumps({str(b): r for b, r in results.items()}, indent=2) + "\n")
    table = markdown(results)
    (args.out / "sparse_scaling.md").write_text(table)
    png = args.out / "sparse_scaling.png"
    plot(results, png)
    if args.docs:
        figures = ROOT / "docs" / "figures"
        figures.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, figures / "sparse_scaling.png")
    sys.stdout.write(table)
    cycles = sum(r["cycles_simulated"] for r in results.values())
    seconds = sum(r["seconds"] for r in results.values())
    print(f"wrote {args.out / 'sparse_scaling.json'}, .md and .png "
          f"({cycles} cycles simulated in {seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
