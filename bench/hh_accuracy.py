# SPDX-License-Identifier: Apache-2.0
"""Accuracy of the fixed-point Hodgkin-Huxley neuron against the float64 reference.

Measures, for several hardware configurations (fraction bits, dt, table resolution):

* spike count and maximum spike-time error at 10 uA/cm^2 over 200 ms (target: 14 spikes,
  error <= 0.5 ms);
* the f-I curve from 0 to 50 uA/cm^2 in steps of 5 (firing rate within 2% or 1 Hz, whichever is
  larger) and the onset of repetitive firing on a 0.05 uA/cm^2 grid (target: within 0.5);
* the normalised RMS error of V(t) at 10 uA/cm^2;
* cycles per Euler step and, unless ``--no-area``, Sky130 cell area from Yosys synthesis.

The float reference is classic RK4 at 10 us. The fixed model is the integer model the RTL
matches bit for bit (see tests/test_hh_sim.py), so its accuracy is the hardware's.

Writes build/bench/hh_accuracy.json, build/bench/hh_accuracy.md and build/bench/hh_accuracy.png
and copies the figure to docs/figures/hh_accuracy.png. Run::

    python bench/hh_accuracy.py            # about a minute, plus ~10 s per synthesis
    python bench/hh_accuracy.py --no-area  # accuracy only

Exit status 1 when the default configuration misses a target.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from neurotile.neurons.hodgkin_huxley import (
    FLOAT_DT_MS,
    TABLE_V_MAX,
    TABLE_V_MIN,
    HHIntParams,
    hh_float_run,
    hh_int_run,
)
from neurotile.rtl.hodgkin_huxley import cycles_per_step

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench"
FIGURE = ROOT / "docs" / "figures" / "hh_accuracy.png"

TRAIN_CURRENT = 10.0      # uA/cm^2
TRAIN_MS = 200.0
SWEEP = np.arange(0.0, 50.0 + 1e-9, 5.0)          # 11 currents
ONSET_GRID = np.round(np.arange(5.0, 8.0 + 1e-9, 0.05), 2)
RATE_MS = 600.0           # f-I runs: rate from the spikes after the transient
TRANSIENT_MS = 100.0

TARGET_SPIKES = 14
TARGET_TIME_MS = 0.5
TARGET_RATE_REL = 0.02
TARGET_RATE_HZ = 1.0
TARGET_ONSET = 0.5

# (label, parameters). The first is the default design.
CONFIGS = [
    ("default", dict()),
    ("gates 18 bits", dict(gate_frac=18)),
    ("dt 20 us", dict(dt_us=20)),
    ("table 2 mV", dict(table_bits=-1)),
    ("interp 2 mV", dict(interp=1, table_bits=-1)),
    ("interp 4 mV", dict(interp=1, table_bits=-2)),
    ("interp 4 mV, 1-bit multiplier", dict(interp=1, table_bits=-2, mul_bits=1)),
    ("interp 4 mV, V 8, gates 15", dict(interp=1, table_bits=-2, v_frac=8, gate_frac=15)),
    ("lean, 1-bit multiplier", dict(lean=1, mul_bits=1)),
    ("interp 4 mV, lean, 1-bit", dict(interp=1, table_bits=-2, lean=1, mul_bits=1)),
    ("sig 8, lean, 1-bit", dict(table_sig=8, lean=1, mul_bits=1)),
    ("sig 7, lean, 1-bit", dict(table_sig=7, lean=1, mul_bits=1)),
    ("sig 6, lean, 1-bit", dict(table_sig=6, lean=1, mul_bits=1)),
    ("sig 5, lean, 1-bit", dict(table_sig=5, lean=1, mul_bits=1)),
    ("sig 6", dict(table_sig=6)),
    ("interp 4 mV, sig 6, lean, 1-bit", dict(interp=1, table_bits=-2, table_sig=6, lean=1,
                                             mul_bits=1)),
    ("interp 4 mV, sig 7, lean, 1-bit", dict(interp=1, table_bits=-2, table_sig=7, lean=1,
                                             mul_bits=1)),
    ("V 8, gates 15, sig 7, lean, 1-bit", dict(v_frac=8, gate_frac=15, table_sig=7, lean=1,
                                               mul_bits=1)),
    ("V 8, gates 15, sig 6, lean, 1-bit", dict(v_frac=8, gate_frac=15, table_sig=6, lean=1,
                                               mul_bits=1)),
    ("V 8, gates 15, sig 7, lean, 1-bit, tables [-84, 52) mV",
     dict(v_frac=8, gate_frac=15, table_sig=7, lean=1, mul_bits=1, table_lo=-84, table_hi=52)),
    ("V 8, gates 15, sig 7, lean, 1-bit, tables [-80, 48) mV",
     dict(v_frac=8, gate_frac=15, table_sig=7, lean=1, mul_bits=1, table_lo=-80, table_hi=48)),
    ("V 8, gates 15, sig 7, lean, 1-bit, latches",
     dict(v_frac=8, gate_frac=15, table_sig=7, lean=1, mul_bits=1, latch_state=1)),
    ("V 8, gates 15, sig 7, lean, 1-bit, tables [-74, 22) mV",
     dict(v_frac=8, gate_frac=15, table_sig=7, lean=1, mul_bits=1, table_lo=-74, table_hi=22)),
    ("V 8, gates 15, sig 7, lean, 1-bit, tables [-74, 22) mV, latches (tapeout default)",
     dict(v_frac=8, gate_frac=15, table_sig=7, lean=1, mul_bits=1, table_lo=-74, table_hi=22,
          latch_state=1)),
    ("V 8, gates 15, sig 7, lean, 1-bit, tables [-76, 20) mV",
     dict(v_frac=8, gate_frac=15, table_sig=7, lean=1, mul_bits=1, table_lo=-76, table_hi=20)),
    ("V 8, gates 15", dict(v_frac=8, gate_frac=15)),
    ("V 8, gates 14", dict(v_frac=8, gate_frac=14)),
    ("V 8, gates 12", dict(v_frac=8, gate_frac=12)),
]
# Multiplier digit widths: same results, different area and cycles.
MUL_BITS = (32, 4, 1)


def firing_rate(times: list[float]) -> float:
    """Repetitive firing rate (Hz): spikes after the transient, 1 / mean ISI; 0 below 2 spikes."""
    late = [t for t in times if t > TRANSIENT_MS]
    if len(late) < 2:
        return 0.0
    return 1000.0 * (len(late) - 1) / (late[-1] - late[0])


def onset(rates: np.ndarray) -> float:
    """Lowest current of the onset grid with repetitive firing."""
    firing = np.flatnonzero(rates > 0)
    return float(ONSET_GRID[firing[0]]) if len(firing) else float("nan")


@dataclass
class Reference:
    train_t: np.ndarray
    train_v: np.ndarray
    train_spikes: list[float]
    sweep_rates: np.ndarray
    grid_rates: np.ndarray
    onset: float


def reference() -> Reference:
    train = hh_float_run(TRAIN_CURRENT, TRAIN_MS)
    currents = np.concatenate([SWEEP, ONSET_GRID])
    rates = np.array([firing_rate(s) for s in hh_float_run(currents, RATE_MS,
                                                           record_every=10**9).spike_times])
    return Reference(train.t, train.v[:, 0], train.spike_times[0], rates[:len(SWEEP)],
                     rates[len(SWEEP):], onset(rates[len(SWEEP):]))


def measure(p: HHIntParams, ref: Reference) -> dict:
    train = hh_int_run(p, p.current_code(TRAIN_CURRENT), int(round(TRAIN_MS * 1000 / p.dt_us)))
    spikes = train.spike_times[0]
    t_fixed = np.arange(1, len(train.v) + 1) * p.dt_ms
    v_fixed = p.to_mv(train.v[:, 0])
    v_ref = np.interp(t_fixed, ref.train_t, ref.train_v)
    span = ref.train_v.max() - ref.train_v.min()
    nrmse = float(np.sqrt(np.mean((v_fixed - v_ref) ** 2)) / span)
    same_count = len(spikes) == len(ref.train_spikes)
    time_err = (float(np.max(np.abs(np.subtract(spikes, ref.train_spikes))))
                if same_count and spikes else float("nan"))

    currents = np.concatenate([SWEEP, ONSET_GRID])
    codes = np.array([p.current_code(c) for c in currents])
    run = hh_int_run(p, codes, int(round(RATE_MS * 1000 / p.dt_us)))
    rates = np.array([firing_rate(s) for s in run.spike_times])
    sweep = rates[:len(SWEEP)]
    err_hz = np.abs(sweep - ref.sweep_rates)
    allowed = np.maximum(TARGET_RATE_REL * ref.sweep_rates, TARGET_RATE_HZ)
    rel = np.where(ref.sweep_rates > 0, err_hz / np.maximum(ref.sweep_rates, 1e-12), 0.0)
    fixed_onset = onset(rates[len(SWEEP):])
    onset_err = abs(fixed_onset - ref.onset)
    result = {
        "params": p.structural(),
        "cycles_per_step": cycles_per_step(p),
        "spikes": len(spikes),
        "spike_times_ms": [round(t, 4) for t in spikes],
        "max_spike_time_error_ms": time_err,
        "v_nrmse": nrmse,
        "rates_hz": [round(float(r), 3) for r in sweep],
        "max_rate_error_hz": float(err_hz.max()),
        "max_rate_error_rel": float(rel.max()),
        "rates_within_tolerance": bool(np.all(err_hz <= allowed)),
        "onset": fixed_onset,
        "onset_error": onset_err,
    }
    result["meets_targets"] = bool(
        result["spikes"] == TARGET_SPIKES and time_err <= TARGET_TIME_MS
        and result["rates_within_tolerance"] and onset_err <= TARGET_ONSET)
    result["_trace"] = (t_fixed, v_fixed)
    result["_grid_rates"] = rates[len(SWEEP):]
    return result


def synth_area(p: HHIntParams) -> dict:
    """Sky130 cell area (um^2), cells, flip-flops and the smallest TinyTapeout tile at 60%."""
    from neurotile.blocks.hh import BLOCK
    from neurotile.design import elaborate
    from neurotile.flows.synth import synthesize

    design = elaborate(BLOCK, p.structural())
    work = OUT / "hh_synth" / design.top
    work.mkdir(parents=True, exist_ok=True)
    src = work / f"{design.top}.v"
    src.write_text(design.verilog)
    r = synthesize([src], top=design.top, work_dir=work)
    tile = r.smallest_tile()
    fit = r.fit(tile) if tile else None
    return {"area_um2": round(r.area), "cells": r.cells, "flip_flops": r.flip_flops,
            "tile": tile.name if tile else None,
            "utilisation": round(fit.utilisation, 3) if fit else None}


def _fmt(x: float, spec: str) -> str:
    return "n/a" if x != x else format(x, spec)  # NaN -> n/a


def _tile(area: dict | None) -> str:
    if not area:
        return "-"
    if not area["tile"]:
        return "none"
    return f"{area['tile']} {area['utilisation']:.0%}"


def _span(p: dict) -> str:
    """The table range when it is not the default [-100, 60) mV."""
    lo, hi = p.get("table_lo", TABLE_V_MIN), p.get("table_hi", TABLE_V_MAX)
    return "" if (lo, hi) == (TABLE_V_MIN, TABLE_V_MAX) else f", [{lo}, {hi}) mV"


def markdown(ref: Reference, rows: list[dict], mul_rows: list[dict]) -> str:
    lines = [
        f"Float reference: RK4 at {FLOAT_DT_MS * 1000:g} us; {len(ref.train_spikes)} spikes at "
        f"{TRAIN_CURRENT:g} uA/cm^2 in {TRAIN_MS:g} ms; onset of repetitive firing "
        f"{ref.onset:.2f} uA/cm^2.",
        "",
        "| configuration | V frac | gate frac | dt (us) | table (mV) | mul bits | spikes "
        "| max spike-time error (ms) | V NRMSE | max f-I error | onset error (uA/cm^2) | targets "
        "| area (um^2) | tile (60%) |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        p = r["params"]
        area = r.get("area")
        lines.append(
            f"| {r['label']} | {p['v_frac']} | {p['gate_frac']} | {p['dt_us']} | "
            f"{2.0 ** -p['table_bits']:g}{' interp' if p['interp'] else ''}"
            f"{', ' + str(p['table_sig']) + ' sig. bits' if p['table_sig'] else ''}"
            f"{_span(p)} | "
            f"{p['mul_bits']}{' lean' if p['lean'] else ''}"
            f"{' latch' if p.get('latch_state') else ''} | "
            f"{r['spikes']} | "
            f"{_fmt(r['max_spike_time_error_ms'], '.3f')} | {r['v_nrmse']:.4f} | "
            f"{100 * r['max_rate_error_rel']:.2f}% ({r['max_rate_error_hz']:.2f} Hz) | "
            f"{_fmt(r['onset_error'], '.2f')} | {'met' if r['meets_targets'] else 'missed'} | "
            f"{area['area_um2'] if area else '-'} | "
            f"{_tile(area)} |")
    if mul_rows:
        lines += ["", "Multiplier digit width (default formats; results are identical):", "",
                  "| mul_bits | cycles per Euler step | area (um^2) | cells | flip-flops "
                  "| tile (60%) |",
                  "|---|---|---|---|---|---|"]
        for r in mul_rows:
            a = r["area"]
            lines.append(f"| {r['mul_bits']} | {r['cycles_per_step']} | {a['area_um2']} | "
                         f"{a['cells']} | {a['flip_flops']} | {_tile(a)} |")
    lines += ["", "Targets: 14 spikes with spike-time error <= 0.5 ms at 10 uA/cm^2 over 200 ms; "
              "f-I rate within 2% or 1 Hz at 0, 5, ..., 50 uA/cm^2; onset within 0.5 uA/cm^2."]
    return "\n".join(lines) + "\n"


def figure(ref: Reference, rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    default = rows[0]
    fig, (ax_v, ax_f) = plt.subplots(1, 2, figsize=(12, 4.2),
                                     gridspec_kw={"width_ratios": [1.6, 1]})
    t_fix, v_fix = default["_trace"]
    show = ref.train_t <= 60.0
    ax_v.plot(ref.train_t[show], ref.train_v[show], color="black", lw=1.6, label="float64 (RK4)")
    show = t_fix <= 60.0
    ax_v.plot(t_fix[show], v_fix[show], color="tab:orange", lw=1.0, ls="--",
              label="fixed point (default design)")
    ax_v.set_xlabel("time (ms)")
    ax_v.set_ylabel("V (mV)")
    ax_v.set_title(f"V(t) at {TRAIN_CURRENT:g} uA/cm$^2$")
    ax_v.legend(loc="upper right", fontsize=8)

    def curve(sweep, grid):
        x = np.concatenate([SWEEP, ONSET_GRID])
        y = np.concatenate([sweep, grid])
        order = np.argsort(x, kind="stable")
        return x[order], y[order]

    ax_f.plot(*curve(ref.sweep_rates, ref.grid_rates), "-", color="black", lw=1.6,
              label="float64 (RK4)")
    ax_f.plot(SWEEP, ref.sweep_rates, "o", color="black")
    ax_f.plot(*curve(np.array(default["rates_hz"]), default["_grid_rates"]), "--",
              color="tab:orange", label="default design")
    ax_f.plot(SWEEP, default["rates_hz"], "x", color="tab:orange")
    worst = rows[-1]
    ax_f.plot(*curve(np.array(worst["rates_hz"]), worst["_grid_rates"]), ":", color="tab:blue",
              label=f"{worst['label']} (missed targets)" if not worst["meets_targets"]
              else worst["label"])
    ax_f.axvline(ref.onset, color="grey", lw=0.8)
    ax_f.annotate(f"onset {ref.onset:.2f}", (ref.onset, 10), xytext=(ref.onset + 2, 10),
                  fontsize=8, color="grey")
    ax_f.set_xlabel("current (uA/cm$^2$)")
    ax_f.set_ylabel("firing rate (Hz)")
    ax_f.set_title("f-I curve")
    ax_f.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-area", action="store_true", help="skip Yosys synthesis")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    ref = reference()
    print(f"float reference: {len(ref.train_spikes)} spikes, onset {ref.onset:.2f} uA/cm^2 "
          f"({time.perf_counter() - t0:.0f} s)", flush=True)
    rows = []
    measured = {}  # the multiplier digit and lean change no result: measure each arithmetic once
    for label, kw in CONFIGS:
        p = HHIntParams(**kw)
        key = tuple(sorted((k, v) for k, v in p.structural().items()
                           if k not in ("mul_bits", "lean", "latch_state")))
        if key not in measured:
            measured[key] = measure(p, ref)
        r = measured[key] | {"label": label, "params": p.structural(),
                             "cycles_per_step": cycles_per_step(p)}
        if not args.no_area:
            r["area"] = synth_area(p)
        rows.append(r)
        print(f"{label}: {r['spikes']} spikes, spike-time error "
              f"{_fmt(r['max_spike_time_error_ms'], '.3f')} ms, f-I error "
              f"{100 * r['max_rate_error_rel']:.2f}%, onset error {_fmt(r['onset_error'], '.2f')}"
              f" -> {'met' if r['meets_targets'] else 'missed'}", flush=True)
    mul_rows = []
    if not args.no_area:
        for k in MUL_BITS:
            p = HHIntParams(mul_bits=k)
            mul_rows.append({"mul_bits": k, "cycles_per_step": cycles_per_step(p),
                             "area": synth_area(p)})

    OUT.mkdir(parents=True, exist_ok=True)
    table = markdown(ref, rows, mul_rows)
    (OUT / "hh_accuracy.md").write_text(table)
    png = OUT / "hh_accuracy.png"
    figure(ref, rows, png)
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(png, FIGURE)
    data = {
        "reference": {"method": "rk4", "dt_ms": FLOAT_DT_MS, "spike_times_ms":
                      [round(t, 4) for t in ref.train_spikes], "rates_hz":
                      [round(float(r), 3) for r in ref.sweep_rates], "onset": ref.onset,
                      "onset_grid": ONSET_GRID.tolist()},
        "sweep_currents": SWEEP.tolist(),
        "configs": [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows],
        "multiplier": mul_rows,
        "seconds": round(time.perf_counter() - t0, 1),
    }
    (OUT / "hh_accuracy.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    print()
    print(table)
    print(f"wrote {OUT / 'hh_accuracy.json'}, {OUT / 'hh_accuracy.md'}, {png} and {FIGURE}")
    return 0 if rows[0]["meets_targets"] else 1


if __name__ == "__main__":
    sys.exit(main())
