# SPDX-License-Identifier: Apache-2.0
"""Verification speed of the LIF population on every path, and how it grows.

Run with ``./dev bench`` (all benchmarks) or ``neurotile bench speed``. Writes
``build/bench/speed.json`` and ``build/bench/speed.md``. Every figure is the median of
``--repeat`` runs (default 3) after a warm-up build; builds are timed separately.

Rates are *verified* neuron-updates per second of wall time: stimulus generation, reference
model, simulation and comparison (simulator builds excluded, reported on their own).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

from neurotile.blocks import blocks
from neurotile.design import elaborate
from neurotile.neurons.lif import LIFIntParams
from neurotile.testbench.check import check_population, population_verilog
from neurotile.testbench.population import model_ref, run_amaranth
from neurotile.testbench.population_bulk import run_population_bulk
from neurotile.testbench.runner import simulator_env

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench"
WORK = OUT / "speed-work"


def _cfg(neurons: int, steps: int, seed: int = 1, **kw: Any) -> dict[str, Any]:
    p = LIFIntParams(neurons=neurons)
    return {"model": model_ref(p), "params": p.as_dict(), "steps": steps, "seed": seed, **kw}


def _bulk(neurons: int, steps: int, sim: str, build_dir: Path, **kw: Any) -> dict[str, Any]:
    verilog, top, ports = population_verilog(LIFIntParams(neurons=neurons))
    return run_population_bulk(_cfg(neurons, steps, **{k: v for k, v in kw.items()
                                                       if k != "capture"}),
                               sim=sim, verilog=verilog, top=top, ports=ports,
                               build_dir=build_dir, capture=kw.get("capture", True))


def _median(fn, repeat: int) -> dict[str, Any]:
    runs = [fn() for _ in range(repeat)]
    rate = statistics.median(r["updates"] / r["seconds"] for r in runs)
    assert all(r["mismatches"] == 0 for r in runs), "a benchmark run found mismatches"
    return {"updates": runs[0]["updates"], "rate": rate, "unit": runs[0].get("unit"),
            "seconds": statistics.median(r["seconds"] for r in runs)}


def paths(repeat: int, neurons: int = 32) -> list[dict[str, Any]]:
    """Each verification path on the default population."""
    p = LIFIntParams(neurons=neurons)
    bulk_dir = WORK / "bulk"

    def cocotb(sim: str, steps: int):
        def run():
            r = check_population(p, sim=sim, steps=steps, seed=1, build_dir=WORK / "cycle",
                                 bulk=False)
            return r | {"seconds": r["wall_seconds"]}
        return run

    def bulk(sim: str, steps: int, capture: bool = True, gap: float = 0.2):
        def run():
            r = _bulk(neurons, steps, sim, bulk_dir, gap=gap, stall=gap, capture=capture)
            if not capture:  # the ceiling: simulation alone, nothing compared
                r = r | {"updates": r["sent"], "seconds": r["simulate_seconds"]}
            return r
        return run

    def amaranth(steps: int):
        def run():
            t0 = time.perf_counter()
            r = run_amaranth(_cfg(neurons, steps))
            return r | {"seconds": time.perf_counter() - t0}
        return run

    rows = [
        ("cocotb per cycle, Icarus (TinyTapeout style)", cocotb("icarus", 600)),
        ("cocotb per cycle, Verilator", cocotb("verilator", 1500)),
        ("Amaranth simulator, per cycle", amaranth(150)),
        ("bulk, Icarus", bulk("icarus", 6000)),
        ("Icarus harness alone, no checking (Icarus's own ceiling)",
         bulk("icarus", 6000, False, 0.0)),
        ("bulk, Verilator", bulk("verilator", 31250)),
        ("bulk, Verilator, no stalls or gaps", bulk("verilator", 31250, gap=0.0)),
        ("Verilator harness alone, no checking (ceiling)", bulk("verilator", 31250, False, 0.0)),
    ]
    results = []
    for name, fn in rows:
        fn()  # warm-up: builds, caches
        results.append({"path": name, **_median(fn, repeat)})
    ceiling = results[-1]["rate"]  # the Verilator harness alone, last row
    for r in results:
        r["of_ceiling"] = r["rate"] / ceiling
    return results


def builds() -> list[dict[str, Any]]:
    """Verilog generation and a fresh Verilator build, per block at default parameters."""
    out = []
    for block in blocks().values():
        t0 = time.perf_counter()
        design = elaborate(block, {})
        gen = time.perf_counter() - t0
        src = WORK / "builds" / block.name
        shutil.rmtree(src, ignore_errors=True)
        src.mkdir(parents=True)
        path = src / f"{design.top}.v"
        path.write_text(design.verilog)
        obj = src / "obj"
        t0 = time.perf_counter()
        with simulator_env("verilator"):
            exe = shutil.which("verilator")
            subprocess.run([exe, "--cc", "-O3", "-Wno-fatal", "-Wno-WIDTH", "--build", "-j", "2",
                            "-Mdir", str(obj), "--top-module", design.top, str(path)],
                           check=True, capture_output=True)
        out.append({"block": block.name, "top": design.top, "verilog_seconds": gen,
                    "verilator_build_seconds": time.perf_counter() - t0,
                    "verilog_bytes": len(design.verilog)})
    return out


def per_block(repeat: int) -> list[dict[str, Any]]:
    """Every block at its defaults: the bulk path against the cycle-level checker, both simulators.

    Rates are as ``neurotile simulate`` reports them: for the bulk path the wall time of stimulus,
    reference model, simulation and comparison; for the cocotb checker the time inside the
    simulation (its start-up excluded, which favours it).
    """
    steps = {"lif": (31250, 600), "hh": (20000, 2000), "sparse-matmul": (3000, 3000),
             "spiking-layer": (3000, 3000)}
    out = []
    for block in blocks().values():
        bulk_steps, cycle_steps = steps.get(block.name, (1000, 200))
        params = block.defaults() | {p.name: p.default for p in block.sim_params}
        row: dict[str, Any] = {"block": block.name}
        for sim in ("icarus", "verilator"):
            for bulk, n in ((True, bulk_steps // (10 if sim == "icarus" else 1)),
                            (False, cycle_steps)):
                def run(bulk=bulk, n=n, sim=sim):
                    s = block.simulate(params | {"bulk": bulk}, sim=sim, steps=n, seed=5,
                                       build_dir=WORK / "blocks" / block.name)
                    return {"updates": s.updates, "seconds": s.seconds,
                            "mismatches": s.mismatches, "unit": s.unit}
                run()
                m = _median(run, repeat)
                row[f"{sim}_{'bulk' if bulk else 'cycle'}"] = m["rate"]
                row["unit"] = m["unit"]
        out.append(row)
    return out


def growth(repeat: int) -> dict[str, list[dict[str, Any]]]:
    """Bulk Verilator verification time against neuron count and against run length."""
    by_neurons = []
    for n in (8, 32, 64, 128, 256):
        steps = max(1, 200_000 // n)

        def run(n=n, steps=steps):
            return _bulk(n, steps, "verilator", WORK / f"growth-n{n}")
        run()
        by_neurons.append({"neurons": n, **_median(run, repeat)})
    by_length = []
    for updates in (10_000, 100_000, 1_000_000):
        steps = updates // 32

        def run(steps=steps):
            return _bulk(32, steps, "verilator", WORK / "bulk")
        run()
        by_length.append({"steps": steps, **_median(run, repeat)})
    return {"neurons": by_neurons, "length": by_length}


def markdown(data: dict[str, Any]) -> str:
    lines = ["### Verification speed, LIF population (32 neurons, 8-bit)", "",
             "| path | neuron-updates verified/s | share of ceiling |", "|---|---:|---:|"]
    for r in data["paths"]:
        lines.append(f"| {r['path']} | {r['rate']:,.0f} | {r['of_ceiling']:.1%} |")
    lines += ["", "### Bulk path against the cycle-level checker, each block at its defaults", "",
              "| block | unit | Icarus bulk | Icarus per cycle | Verilator bulk | "
              "Verilator per cycle |", "|---|---|---:|---:|---:|---:|"]
    for r in data["blocks"]:
        lines.append(f"| {r['block']} | {r['unit']}/s | {r['icarus_bulk']:,.0f} | "
                     f"{r['icarus_cycle']:,.0f} | {r['verilator_bulk']:,.0f} | "
                     f"{r['verilator_cycle']:,.0f} |")
    lines += ["", "### Generation and build, each block at default parameters", "",
              "| block | Verilog generation (s) | Verilator build (s) |", "|---|---:|---:|"]
    for r in data["builds"]:
        lines.append(f"| {r['block']} | {r['verilog_seconds']:.2f} | "
                     f"{r['verilator_build_seconds']:.1f} |")
    lines += ["", "### Bulk verification (Verilator) against population size, ~200,000 updates",
              "", "| neurons | updates | seconds | updates/s |", "|---:|---:|---:|---:|"]
    for r in data["growth"]["neurons"]:
        lines.append(f"| {r['neurons']} | {r['updates']:,} | {r['seconds']:.2f} | {r['rate']:,.0f} |")
    lines += ["", "### Bulk verification (Verilator) against run length, 32 neurons", "",
              "| updates | seconds | updates/s |", "|---:|---:|---:|"]
    for r in data["growth"]["length"]:
        lines.append(f"| {r['updates']:,} | {r['seconds']:.2f} | {r['rate']:,.0f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    data = {"paths": paths(args.repeat), "blocks": per_block(args.repeat), "builds": builds(),
            "growth": growth(args.repeat)}
    (OUT / "speed.json").write_text(json.dumps(data, indent=2) + "\n")
    text = markdown(data)
    (OUT / "speed.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
