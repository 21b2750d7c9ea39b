# SPDX-License-Identifier: Apache-2.0
"""Quality and size of the event-camera denoiser: precision and recall, Sky130 area and tile.

Quality: synthetic scenes (a moving edge and two moving blobs,
:func:`neurotile.neurons.denoiser.synthetic_stream`) on a 32 x 32 sensor with uniform
background noise at several rates; every architecture filters the same streams with the
integer model the hardware matches. *Precision* is the share of passed events that belong to
the scene, *recall* the share of scene events passed. The narrow-timestamp rows use the block's
default ``ts_bits`` (4, window at most 8) with its epoch rule; the others store 16 bits.

Area: each architecture at 16 x 16, 32 x 32 and 64 x 64 pixels (4 neighbours, 4-bit
timestamps), synthesised to sky130_fd_sc_hd cells (:func:`neurotile.flows.synth.synthesize`:
cell area only) and placed in the smallest TinyTapeout tile that holds it at 60 % density.
Each synthesis is cached in ``build/bench/denoiser_area/<top>.json`` (delete it to redo); a
size given to ``--skip-exact`` (default 64) is not synthesised for the per-pixel filter (its
memory grows with the pixel count: 64 x 64 holds 20,480 flip-flops, more than any TinyTapeout
tile holds).

Writes ``build/bench/denoiser.json``, ``.md`` (tables) and ``.png`` (plot); ``--docs`` also copies
the plot to ``docs/figures/denoiser_quality.png``. Usage::

    neurotile bench denoiser
    python bench/denoiser.py --docs --skip-exact 64
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
SENSOR = 32
DURATION = 4000
NOISE_RATES = (1.0, 3.0, 10.0, 30.0)   # events per pixel per 1000 time units
WINDOW = 8
SEEDS = (1, 2, 3)
#: (label, filter, neighbours, ts_bits)
CONFIGS = (
    ("exact, 4 neighbours", "exact", 4, 16),
    ("exact, 8 neighbours", "exact", 8, 16),
    ("rowcol, 4 neighbours", "rowcol", 4, 16),
    ("rowcol, 8 neighbours", "rowcol", 8, 16),
    ("exact, 4 neighbours, 4-bit times", "exact", 4, 4),
    ("rowcol, 4 neighbours, 4-bit times", "rowcol", 4, 4),
)
AREA_SIZES = (16, 32, 64)


def quality() -> list[dict[str, Any]]:
    """Precision and recall of every configuration at every noise rate (summed over seeds)."""
    from neurotile.neurons.denoiser import DenoiserParams, denoise, synthetic_stream

    rows = []
    for rate in NOISE_RATES:
        streams = [synthetic_stream(SENSOR, SENSOR, duration=DURATION, noise_rate=rate, seed=s)
                   for s in SEEDS]
        signal = np.concatenate([s.signal for s in streams])
        base = {"noise_rate": rate, "events": int(signal.size),
                "noise_share": float(1.0 - signal.mean())}
        for label, filt, neighbours, bits in CONFIGS:
            p = DenoiserParams(width=SENSOR, height=SENSOR, filter=filt, neighbours=neighbours,
                               ts_bits=bits)
            passed = np.concatenate([denoise(p, s.x, s.y, s.t, WINDOW) for s in streams])
            hits = int((passed & signal).sum())
            rows.append(base | {
                "config": label, "filter": filt, "neighbours": neighbours, "ts_bits": bits,
                "passed": int(passed.sum()),
                "precision": hits / max(1, int(passed.sum())),
                "recall": hits / max(1, int(signal.sum())),
            })
    return rows


def area(sizes: tuple[int, ...], skip_exact: tuple[int, ...]) -> list[dict[str, Any]]:
    """Synthesised area and tile of both architectures at ``sizes`` (cached per design)."""
    from neurotile.blocks.denoiser import BLOCK
    from neurotile.design import elaborate
    from neurotile.flows.synth import synthesize
    from neurotile.flows.tiles import smallest_tile
    from neurotile.neurons.denoiser import DenoiserParams

    cache = OUT / "denoiser_area"
    rows = []
    for size in sizes:
        for filt in ("exact", "rowcol"):
            params = dict(width=size, height=size, filter=filt, ts_bits=4, neighbours=4)
            p = DenoiserParams(**params)
            row: dict[str, Any] = {"size": size, "filter": filt,
                                   "memory_bits": p.memory_bits()}
            if filt == "exact" and size in skip_exact:
                rows.append(row | {"area": None})
                continue
            design = elaborate(BLOCK, params)
            saved = cache / f"{design.top}.json"
            if saved.exists():
                rows.append(json.loads(saved.read_text()))
                continue
            work = cache / design.top
            work.mkdir(parents=True, exist_ok=True)
            src = work / f"{design.top}.v"
            src.write_text(design.verilog)
            t0 = time.perf_counter()
            result = synthesize([src], top=design.top, work_dir=work / "synth")
            tile = smallest_tile(result.area)
            row |= {"top": design.top, "area": round(result.area, 1), "cells": result.cells,
                    "flip_flops": result.flip_flops, "tile": tile.name if tile else None,
                    "synth_seconds": round(time.perf_counter() - t0, 1)}
            saved.write_text(json.dumps(row, indent=1, sort_keys=True))
            print(f"  {design.top}: {row['area']:,.0f} um^2, {row['flip_flops']} flip-flops, "
                  f"tile {row['tile']}", flush=True)
            rows.append(row)
    return rows


def markdown(q: list[dict[str, Any]], a: list[dict[str, Any]]) -> str:
    lines = [f"Synthetic scenes on a {SENSOR} x {SENSOR} sensor, {DURATION} time units, seeds "
             f"{', '.join(map(str, SEEDS))}; window {WINDOW}. Noise rate: background events per "
             "pixel per 1000 time units.", "",
             "| noise rate | noise share | architecture | passed | precision | recall |",
             "|---:|---:|---|---:|---:|---:|"]
    for r in q:
        lines.append(f"| {r['noise_rate']:g} | {100 * r['noise_share']:.0f} % | {r['config']} | "
                     f"{r['passed']:,} of {r['events']:,} | {r['precision']:.3f} | "
                     f"{r['recall']:.3f} |")
    lines += ["", "Sky130 cell area (sky130_fd_sc_hd, no routing), 4 neighbours, 4-bit "
              "timestamps; tile: the smallest TinyTapeout tile holding it at 60 % density.", "",
              "| sensor | architecture | memory bits | flip-flops | cell area (um^2) | tile |",
              "|---|---|---:|---:|---:|---|"]
    for r in a:
        if r.get("area") is None:
            lines.append(f"| {r['size']} x {r['size']} | {r['filter']} | {r['memory_bits']:,} | "
                         "- | not synthesised | - |")
            continue
        lines.append(f"| {r['size']} x {r['size']} | {r['filter']} | {r['memory_bits']:,} | "
                     f"{r['flip_flops']:,} | {r['area']:,.0f} | {r['tile'] or 'none fits'} |")
    return "\n".join(lines) + "\n"


def plot(q: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax_p, ax_r) = plt.subplots(1, 2, figsize=(10, 4))
    rates = list(NOISE_RATES)
    unfiltered = [1.0 - next(r["noise_share"] for r in q if r["noise_rate"] == x) for x in rates]
    ax_p.plot(rates, unfiltered, "k:", label="no filter")
    for label, *_ in CONFIGS:
        rows = [r for r in q if r["config"] == label]
        style = "--" if "4-bit" in label else "-"
        ax_p.plot(rates, [r["precision"] for r in rows], style, marker="o", label=label)
        ax_r.plot(rates, [r["recall"] for r in rows], style, marker="o", label=label)
    for ax, name in ((ax_p, "precision"), (ax_r, "recall")):
        ax.set_xscale("log")
        ax.set_xlabel("background noise (events / pixel / 1000 time units)")
        ax.set_ylabel(name)
        ax.set_ylim(0, 1.02)
        ax.grid(True, alpha=0.3)
    ax_p.legend(fontsize=7, loc="lower left")
    fig.suptitle(f"Denoiser on synthetic scenes, {SENSOR} x {SENSOR} sensor, window {WINDOW}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="bench/denoiser.py", description=__doc__.split("\n")[0])
    ap.add_argument("--docs", action="store_true",
                    help="also copy the plot to docs/figures/denoiser_quality.png")
    ap.add_argument("--sizes", type=int, nargs="*", default=list(AREA_SIZES),
                    help="sensor sizes to synthesise (default: 16 32 64)")
    ap.add_argument("--skip-exact", type=int, nargs="*", default=[64],
                    help="sizes whose per-pixel filter is not synthesised (default: 64; give "
                    "the option alone to synthesise every size)")
    args = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    q = quality()
    print(f"quality: {len(q)} rows in {time.perf_counter() - t0:.1f} s", flush=True)
    a = area(tuple(args.sizes), tuple(args.skip_exact))
    (OUT / "denoiser.json").write_text(json.dumps({"quality": q, "area": a}, indent=1,
                                                  sort_keys=True))
    text = markdown(q, a)
    (OUT / "denoiser.md").write_text(text)
    png = OUT / "denoiser.png"
    plot(q, png)
    if args.docs:
        shutil.copyfile(png, ROOT / "docs" / "figures" / "denoiser_quality.png")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
