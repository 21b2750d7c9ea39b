# SPDX-License-Identifier: Apache-2.0
"""Example pictures of every neuron model, and what a picture costs.

Draws, with :mod:`neurotile.plots`, what ``neurotile model BLOCK --plot`` draws for each neuron
model (float model, integer model, raster, f-I curve; for ``lif`` also the RTL's own recording on
Icarus) and what ``neurotile simulate lif --plot`` draws for a checked bulk run, into
``build/bench/pictures/``; times preparing the series (the models and the f-I sweep, or the RTL
run) and drawing. Writes ``build/bench/pictures.json`` and ``.md``; ``--docs`` also copies the
pictures to ``docs/figures/<name>.png``. Run::

    python bench/pictures.py --docs      # about a minute (Hodgkin-Huxley's f-I sweep dominates)
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

import numpy as np

from neurotile.neurons.spec import models
from neurotile.plots import codes_of, draw_model, draw_run, model_picture, run_picture

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "figures"

#: (picture name, model, configuration, constant input in the model's unit, steps, with RTL).
MODELS: list[tuple[str, str, dict[str, Any], float, int, bool]] = [
    ("lif_model", "lif", {"neurons": 8}, 20.0, 120, True),
    ("cuba_lif_model", "cuba-lif", {"neurons": 8}, 4.0, 120, False),
    ("if_model", "if", {"neurons": 8}, 9.0, 120, False),
    ("li_model", "li", {"neurons": 8}, 9.0, 120, False),
    ("izhikevich_model", "izhikevich", {"neurons": 8}, 10.0, 400, False),
    ("hh_model", "hh", {"neurons": 4}, 10.0, 2000, False),
]


def _stimulus(name: str, neurons: int, level: float, steps: int) -> np.ndarray:
    """``level`` for every neuron, scaled from 0.6x (neuron 0) to 1.4x (the last), so the
    raster shows the rate grow with the input; seeded noise of 5% on top."""
    rng = np.random.default_rng(2026)
    scale = np.linspace(0.6, 1.4, neurons) if neurons > 1 else np.ones(1)
    return level * scale * (1 + 0.05 * rng.standard_normal((steps, neurons)))


def model_figure(out: Path, name: str, model: str, params: dict[str, Any], level: float,
                 steps: int, rtl: bool) -> dict[str, Any]:
    config = models()[model](**params)
    currents = _stimulus(model, config.neurons, level, steps)
    t0 = time.perf_counter()
    recorded = None
    if rtl:
        from neurotile.testbench.check import record_population

        recorded, report = record_population(config, codes_of(config, currents), sim="icarus",
                                             build_dir=ROOT / "build" / "bench" / "pictures-rtl")
        assert report["mismatches"] == 0, report["first_mismatches"]
    t1 = time.perf_counter()
    pic = model_picture(config, currents, rtl=recorded, rtl_label="RTL (icarus)")
    t2 = time.perf_counter()
    draw_model(pic, out / f"{name}.png")
    t3 = time.perf_counter()
    return {"picture": f"{name}.png", "model": model, "neurons": config.neurons,
            "steps": steps, "rtl_seconds": round(t1 - t0, 2), "series_seconds": round(t2 - t1, 2),
            "draw_seconds": round(t3 - t2, 2),
            "spikes": {t.label: int(t.spikes.sum()) for t in pic.traces if t.spikes is not None}}


def run_figure(out: Path) -> dict[str, Any]:
    from neurotile.testbench.check import check_population

    config = models()["lif"](neurons=8)
    t0 = time.perf_counter()
    report = check_population(config, sim="icarus", steps=300, seed=1, trace=True,
                              build_dir=ROOT / "build" / "bench" / "pictures-run")
    t1 = time.perf_counter()
    pic = run_picture(report["trace"], title="neurotile simulate lif --neurons 8 --steps 300 "
                      f"--sim icarus: {report['mismatches']} mismatches")
    draw_run(pic, out / "lif_run.png")
    t2 = time.perf_counter()
    return {"picture": "lif_run.png", "model": "lif", "neurons": 8, "steps": 300,
            "rtl_seconds": round(t1 - t0, 2), "series_seconds": 0.0,
            "draw_seconds": round(t2 - t1, 2), "mismatches": report["mismatches"]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "bench",
                        help="output folder (default: build/bench)")
    parser.add_argument("--docs", action="store_true",
                        help="also copy the pictures to docs/figures/")
    args = parser.parse_args(argv)
    pictures = args.out / "pictures"
    pictures.mkdir(parents=True, exist_ok=True)
    rows = [model_figure(pictures, *case) for case in MODELS]
    rows.append(run_figure(pictures))
    (args.out / "pictures.json").write_text(json.dumps(rows, indent=2) + "\n")
    lines = ["Pictures of `neurotile model BLOCK --plot` and `neurotile simulate lif --plot`, "
             "made by `python bench/pictures.py` (wall seconds on this machine).", "",
             "| picture | neurons x steps | RTL run (s) | series (s) | draw (s) |",
             "|---|---|---|---|---|"]
    lines += [f"| {r['picture']} | {r['neurons']} x {r['steps']} | {r['rtl_seconds']:.2f} | "
              f"{r['series_seconds']:.2f} | {r['draw_seconds']:.2f} |" for r in rows]
    (args.out / "pictures.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    if args.docs:
        DOCS.mkdir(parents=True, exist_ok=True)
        for r in rows:
            shutil.copyfile(pictures / r["picture"], DOCS / r["picture"])
        print(f"copied {len(rows)} pictures to {DOCS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
