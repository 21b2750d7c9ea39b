# SPDX-License-Identifier: Apache-2.0
"""Cycles per timestep of the sparse synapse tile against weight density and spike rate.

Runs the generated tile in a simulator with no gaps and no back-pressure, over a grid of weight
densities and input spike rates (one weight matrix per grid point, several timesteps each), and
measures the cycles between the starts of consecutive timesteps. Every accumulator is still
checked against the reference model. For comparison it gives the *dense equivalent*: the same
one-operation-per-cycle datapath visiting every synapse, ``inputs * outputs + outputs + 2``
cycles per step whatever the activity.

Writes ``build/bench/sparse_scaling.json``, ``.md`` (tables) and ``.png`` (plot); ``--docs``
also copies the plot to ``docs/figures/sparse_scaling.png``.

Usage::

    python bench/sparse_scaling.py                      # 64 x 64, Amaranth's simulator
    python bench/sparse_scaling.py --inputs 256 --outputs 256 --sim verilator
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


def measure(*, inputs: int, outputs: int, sim: str, steps: int, seed: int,
            build_dir: Path) -> dict:
    """Simulate the grid; return the per-point figures and the totals."""
    from neurotile.blocks.sparse_matmul import run_design
    from neurotile.neurons.synapses import SparseParams
    from neurotile.testbench.sparse_matmul import check_config

    p = SparseParams(inputs=inputs, outputs=outputs, weight_width=8, acc_width=16,
                     depth=inputs * outputs)
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
        measured = run.steps[:-1]  # the last step of a run has no successor to time it by
        cycles = [next(periods) for _ in measured]
        work = [sum(max(1, int(lengths[a])) for a, _ in e) for e in measured]
        ops = [sum(int(lengths[a]) for a, _ in e) for e in measured]
        worst = max(worst, max(abs(c - (w + outputs + 2)) for c, w in zip(cycles, work)))
        total_ops += sum(ops)
        total_work += sum(work)
        mean = float(np.mean(cycles))
        points.append({
            "density": d, "rate": r, "nnz": run.csr.nnz, "steps": len(cycles),
            "events_per_step": float(np.mean([len(e) for e in measured])),
            "synaptic_ops_per_step": float(np.mean(ops)),
            "cycles_per_step": mean,
            "dense_cycles_per_step": dense,
            "speedup_vs_dense": dense / mean,
        })
    return {
        "params": p.structural(), "sim": sim, "seed": seed, "steps_per_point": steps,
        "formula": "cycles/step = sum over events of max(1, L(a)) + outputs + 2",
        "max_formula_error_cycles": worst,
        "synaptic_ops_per_cycle_while_events_pending": total_ops / total_work,
        "dense_cycles_per_step": dense,
        "cycles_simulated": report.get("cycles", 0),
        "seconds": seconds,
        "points": points,
    }


def markdown(result: dict) -> str:
    """Two tables (cycles per step, and speed-up over the dense equivalent) plus a summary."""
    p = result["params"]
    pts = {(x["density"], x["rate"]): x for x in result["points"]}
    head = "| density \\ spike rate | " + " | ".join(f"{r:.0%}" for r in RATES) + " |"
    rule = "|---|" + "---:|" * len(RATES)
    lines = [
        f"Sparse tile {p['inputs']} x {p['outputs']}, {p['weight_width']}-bit weights, "
        f"simulated on {result['sim']} ({result['steps_per_point'] - 1} timed steps per point, "
        f"no back-pressure).",
        "",
        f"Cycles per timestep (dense equivalent: {result['dense_cycles_per_step']}):",
        "",
        head, rule,
    ]
    for d in DENSITIES:
        lines.append(f"| {d:.0%} | " + " | ".join(
            f"{pts[d, r]['cycles_per_step']:.0f}" for r in RATES) + " |")
    lines += ["", "Speed-up over the dense equivalent:", "", head, rule]
    for d in DENSITIES:
        lines.append(f"| {d:.0%} | " + " | ".join(
            f"{pts[d, r]['speedup_vs_dense']:.1f}x" for r in RATES) + " |")
    lines += [
        "",
        f"Synaptic operations per cycle while events are pending: "
        f"{result['synaptic_ops_per_cycle_while_events_pending']:.3f} (1 per cycle for every "
        f"event whose row has weights; an event on an empty row costs one cycle).",
        f"Largest difference between a measured step and `{result['formula']}`: "
        f"{result['max_formula_error_cycles']} cycles.",
    ]
    return "\n".join(lines) + "\n"


def plot(result: dict, path: Path) -> None:
    """Cycles per step against spike rate (one line per density) and against synaptic ops."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = result["params"]
    dense = result["dense_cycles_per_step"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for d in DENSITIES:
        pts = [x for x in result["points"] if x["density"] == d]
        left.plot([x["rate"] for x in pts], [x["cycles_per_step"] for x in pts], "o-",
                  label=f"density {d:.0%}")
    left.axhline(dense, color="k", ls="--", label="dense equivalent")
    left.set(xscale="log", yscale="log", xlabel="input spike rate per step",
             ylabel="cycles per timestep",
             title=f"{p['inputs']} x {p['outputs']} tile: event-driven cost")
    left.legend(fontsize=8)
    ops = np.array([x["synaptic_ops_per_step"] for x in result["points"]])
    cyc = np.array([x["cycles_per_step"] for x in result["points"]])
    right.plot(ops + 1, cyc, "o", label="measured (per grid point)")
    line = np.logspace(0, np.log10(max(ops.max(), 1) + 1), 50)
    right.plot(line, line - 1 + p["outputs"] + 2, "-", label="synaptic ops + outputs + 2")
    right.axhline(dense, color="k", ls="--", label="dense equivalent")
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
    parser.add_argument("--steps", type=int, default=5,
                        help="timesteps per grid point, the first of which is not timed "
                             "(default: 5)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default: 1)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench",
                        help="output folder (default: build/bench)")
    parser.add_argument("--docs", action="store_true",
                        help="also copy the plot to docs/figures/sparse_scaling.png")
    args = parser.parse_args(argv)
    if args.steps < 2:
        parser.error(f"--steps must be at least 2, not {args.steps}")
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        result = measure(inputs=args.inputs, outputs=args.outputs, sim=args.sim,
                         steps=args.steps, seed=args.seed,
                         build_dir=ROOT / "build" / "bench" / "sparse-matmul")
    except (TypeError, ValueError) as exc:
        parser.error(str(exc))
    (args.out / "sparse_scaling.json").write_text(json.dumps(result, indent=2) + "\n")
    table = markdown(result)
    (args.out / "sparse_scaling.md").write_text(table)
    png = args.out / "sparse_scaling.png"
    plot(result, png)
    if args.docs:
        figures = ROOT / "docs" / "figures"
        figures.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(png, figures / "sparse_scaling.png")
    sys.stdout.write(table)
    print(f"wrote {args.out / 'sparse_scaling.json'}, .md and .png "
          f"({result['cycles_simulated']} cycles simulated in {result['seconds']:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
