# SPDX-License-Identifier: Apache-2.0
"""Bulk checking of the event-camera denoiser, checked in NumPy.

The runs of :func:`neurotile.testbench.denoiser.make_runs` become harness actions
(:mod:`testbench.bulk`): one action per event, offered on ``events`` with random gaps and
holding the run's ``window``; each run's first action carries ``rst`` (drain every decision,
then reset, as the cycle checker does). Every ``decisions`` transfer is recorded under random
back-pressure. The reference model runs while the simulator does; every decision is then
compared at once, mismatches reported with the event's index.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from neurotile.neurons.denoiser import DenoiserParams
from neurotile.testbench.bulk import BulkHarness, Capture, compare_fields, run_bulk
from neurotile.testbench.common import Scoreboard, apply_plant

__all__ = ["denoiser_harness", "run_actions", "compare_decisions", "run_denoiser_bulk"]


def denoiser_harness(top: str, ports: list[dict], rows: int) -> BulkHarness:
    """The harness for a denoiser with these ports, sized for ``rows`` actions."""
    return BulkHarness(top, ports, [Capture("decisions", ("decisions__payload",))],
                       max_actions=1 << max(10, (rows - 1).bit_length()))


def run_actions(h: BulkHarness, p: DenoiserParams, runs: list) -> tuple[bytes, int]:
    """Actions that play ``runs`` (a reset before each); returns ``(hex, rows)``."""
    from neurotile.rtl.denoiser import event_layout

    layout = event_layout(p)
    x = np.concatenate([r.x for r in runs])
    y = np.concatenate([r.y for r in runs])
    t = np.concatenate([r.t for r in runs])
    window = np.concatenate([np.full(r.t.size, r.window, np.int64) for r in runs])
    first = np.zeros(t.size, bool)
    first[np.cumsum([0] + [r.t.size for r in runs[:-1]])] = True
    payload = (x << layout["x"].offset) | (y << layout["y"].offset) | \
        ((t & ((1 << p.ts_bits) - 1)) << layout["t"].offset)
    rows = int(t.size)
    return h.actions(rows, {"stream": h.stream_index("events"), "rst": first, "hold": 1,
                            "events__payload": payload, "window": window}), rows


def compare_decisions(h: BulkHarness, stim: Any, records: np.ndarray) -> dict[str, Any]:
    """Compare every recorded decision with the stimulus' expectation; return the report."""
    board = Scoreboard()
    want, got = stim.events, len(records)
    if got != want:
        board.compare(-1, -1, "decision count", want, got)
    k = min(got, want)
    index = np.arange(k)
    observed = {"pass": h.field(records[:k], 0, "decisions__payload")}
    compare_fields(board, index, np.zeros(k, np.int64), {"pass": stim.expected[:k]}, observed)
    board.checked = k
    return {"events": want, "decisions": k, "updates": k, "spikes": int(observed["pass"].sum()),
            "runs": len(stim.runs), **board.as_dict()}


def run_denoiser_bulk(cfg: Mapping[str, Any], *, sim: str, verilog: str, top: str,
                      ports: list[dict], build_dir: str | Path) -> dict[str, Any]:
    """Run a configuration (as :func:`testbench.denoiser.check_config` takes) through the bulk
    path; the report has ``events``, ``decisions``, ``spikes`` (passed), ``mismatches``,
    ``first_mismatches``, ``cycles`` and the time split into ``prepare``, ``build``,
    ``simulate`` and ``compare`` seconds."""
    from neurotile.testbench.denoiser import DenoiserStimulus, make_runs

    t0 = time.perf_counter()
    p = DenoiserParams(**cfg["params"])
    runs = make_runs(p, int(cfg["steps"]), int(cfg["seed"]),
                     directed=bool(cfg.get("directed", True)))
    h = denoiser_harness(top, ports, sum(r.t.size for r in runs))
    actions, rows = run_actions(h, p, runs)
    t1 = time.perf_counter()
    stim: list[DenoiserStimulus] = []

    def expect() -> None:
        stim.append(DenoiserStimulus(p, runs))
        apply_plant(cfg, stim[0])

    gap = min(255, int(round(256 * float(cfg.get("gap", 0.2)))))
    stall = min(255, int(round(256 * float(cfg.get("stall", 0.2)))))
    run = run_bulk(sim, h, verilog, actions, rows, build_dir=build_dir, seed=int(cfg["seed"]),
                   gap=gap, stall=stall, drain=8, max_cycles=40 * rows + 100 * len(runs) + 10_000,
                   meanwhile=expect)
    t2 = time.perf_counter()
    report = compare_decisions(h, stim[0], run.records)
    t3 = time.perf_counter()
    return report | {"cycles": run.cycles, "prepare_seconds": t1 - t0,
                     "build_seconds": run.build_seconds, "simulate_seconds": run.run_seconds,
                     "compare_seconds": t3 - t2, "seconds": (t1 - t0) + run.run_seconds + (t3 - t2)}
