# SPDX-License-Identifier: Apache-2.0
"""Accuracy of the fixed-point Izhikevich neuron against the float64 reference.

For each of the five patterns of Izhikevich (2003) (``rs``, ``ib``, ``ch``, ``fs``, ``lts``;
10 mV/ms from 10 ms, 300 ms, both models from the reset state v = -65 mV, u = -13 mV, forward
Euler at the hardware's dt): spike counts, the largest spike-time error, against the float model
run with the values the codes stand for ("codes") and with the paper's exact values ("paper").
A second table repeats the measure for a few other formats. The fixed model is the integer model
the RTL matches bit for bit (tests/test_izhikevich.py), so its accuracy is the hardware's.

Writes build/bench/izhikevich.json, build/bench/izhikevich.md and build/bench/izhikevich.png and
copies the figure to docs/figures/izhikevich_patterns.png. Run::

    python bench/izhikevich.py      # a few seconds

Exit status 1 when the default design misses the target (equal counts, error <= 2.5 ms).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from neurotile.neurons.izhikevich import PATTERNS, IzhikevichIntParams, pattern_run
from neurotile.rtl.izhikevich import multiplier_widths

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench"
FIGURE = ROOT / "docs" / "figures" / "izhikevich_patterns.png"

DURATION_MS = 300.0
TARGET_MS = 2.5

# (label, structural parameters). The first is the default design.
CONFIGS = [
    ("default", dict()),
    ("u 16 bits, 10 frac", dict(u_width=16, u_frac=10)),
    ("u 16 bits, 8 frac", dict(u_width=16, u_frac=8)),
    ("v 14 bits, 6 frac", dict(v_width=14, v_frac=6)),
    ("dt 0.25 ms", dict(dt_shift=2)),
    ("dt 1 ms", dict(dt_shift=0)),
]


def _fmt(x: float) -> str:
    return "n/a" if x != x else f"{x:.1f}"  # NaN (counts differ) -> n/a


def measure(p: IzhikevichIntParams) -> dict:
    """Counts and errors of every pattern for structure ``p``."""
    out: dict = {"params": p.structural(), "patterns": {}}
    ok = True
    for name in PATTERNS:
        row = {}
        for ref in ("codes", "paper"):
            run = pattern_run(p, name, DURATION_MS, reference=ref)
            row[ref] = {"float_spikes": len(run.reference.spike_times),
                        "fixed_spikes": len(run.spike_times),
                        "max_error_ms": run.max_time_error(),
                        "float_times_ms": run.reference.spike_times,
                        "fixed_times_ms": run.spike_times}
            err = row[ref]["max_error_ms"]
            ok &= bool(err == err and err <= TARGET_MS)
        out["patterns"][name] = row
    out["meets_target"] = ok
    return out


def markdown(rows: list[dict]) -> str:
    default = rows[0]
    p = IzhikevichIntParams()
    lines = [
        f"Default design, {DURATION_MS:g} ms, dt = {p.dt_ms:g} ms "
        f"({int(DURATION_MS / p.dt_ms)} steps); spike-time error = largest |fixed - float|.",
        "",
        "| pattern | a, b, c, d | float spikes | fixed spikes | max error vs codes (ms) "
        "| float spikes (paper values) | max error vs paper values (ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, pat in PATTERNS.items():
        r = default["patterns"][name]
        q = pat.params
        lines.append(f"| {name} ({pat.title}) | {q.a:g}, {q.b:g}, {q.c:g}, {q.d:g} | "
                     f"{r['codes']['float_spikes']} | {r['codes']['fixed_spikes']} | "
                     f"{_fmt(r['codes']['max_error_ms'])} | {r['paper']['float_spikes']} | "
                     f"{_fmt(r['paper']['max_error_ms'])} |")
    lines += ["", "Other formats (fixed spikes / float spikes, max error in ms, against the "
              "float model with the codes' values):", "",
              "| configuration | " + " | ".join(PATTERNS) + " | target |",
              "|---|" + "---|" * (len(PATTERNS) + 1)]
    for r in rows:
        cells = []
        for name in PATTERNS:
            c = r["patterns"][name]["codes"]
            cells.append(f"{c['fixed_spikes']}/{c['float_spikes']}, {_fmt(c['max_error_ms'])}")
        lines.append(f"| {r['label']} | " + " | ".join(cells) +
                     f" | {'met' if r['meets_target'] else 'missed'} |")
    widths = multiplier_widths(p)
    lines += ["", "Target: equal counts and spike-time error <= "
              f"{TARGET_MS:g} ms for every pattern, against both references. Multipliers of the "
              "default datapath (operand bits): " +
              ", ".join(f"{k} {a}x{b}" for k, (a, b) in widths.items()) + "."]
    return "\n".join(lines) + "\n"


def figure(p: IzhikevichIntParams, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(PATTERNS), 1, figsize=(10, 11), sharex=True)
    for ax, name in zip(axes, PATTERNS):
        run = pattern_run(p, name, DURATION_MS, reference="paper")
        ref = run.reference
        # Draw each spike as the 30 mV cut-off, as the paper's figures do.
        v_ref = ref.v.copy()
        v_ref[ref.spikes] = 30.0
        v_fix = run.v.copy()
        v_fix[run.spikes] = 30.0
        ax.plot(ref.t, v_ref, color="black", lw=1.2, label="float64 (paper values)")
        ax.plot(run.t, v_fix, color="tab:orange", lw=0.9, ls="--",
                label="fixed point (default design)")
        ax.set_ylabel("v (mV)")
        ax.set_ylim(-90, 40)
        err = run.max_time_error()
        ax.set_title(f"{name.upper()}: {run.pattern.title}; {len(ref.spike_times)} / "
                     f"{len(run.spike_times)} spikes, max spike-time error {_fmt(err)} ms",
                     fontsize=9)
        ax.legend(loc="lower right", fontsize=7)
    axes[-1].set_xlabel("time (ms); 10 mV/ms from 10 ms")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.parse_args(argv)
    t0 = time.perf_counter()
    rows = []
    for label, kw in CONFIGS:
        r = measure(IzhikevichIntParams(**kw)) | {"label": label}
        rows.append(r)
        print(f"{label}: {'met' if r['meets_target'] else 'missed'}", flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    table = markdown(rows)
    (OUT / "izhikevich.md").write_text(table)
    png = OUT / "izhikevich.png"
    figure(IzhikevichIntParams(), png)
    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(png, FIGURE)
    data = {"duration_ms": DURATION_MS, "target_ms": TARGET_MS,
            "multipliers": multiplier_widths(IzhikevichIntParams()),
            "configs": rows, "seconds": round(time.perf_counter() - t0, 1)}
    (OUT / "izhikevich.json").write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    print()
    print(table)
    print(f"wrote {OUT / 'izhikevich.json'}, {OUT / 'izhikevich.md'}, {png} and {FIGURE}")
    return 0 if rows[0]["meets_target"] else 1


if __name__ == "__main__":
    sys.exit(main())
