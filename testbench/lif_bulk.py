# SPDX-License-Identifier: Apache-2.0
"""Bulk checking of the LIF population: the stimulus of :mod:`testbench.lif`, checked in NumPy.

The same seeded stimulus and expectations as the cycle-level checker (:func:`make_stimulus`),
played by the harness of :mod:`testbench.bulk` with random gaps and back-pressure, every output
compared at once. Mismatches are reported with step, neuron, field and values.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from neurotile.testbench.bulk import BulkHarness, Capture, run_bulk
from neurotile.testbench.common import Scoreboard, apply_plant
from neurotile.testbench.lif import LIFStimulus, stimulus_of

__all__ = ["lif_harness", "lif_actions", "compare_outputs", "run_lif_bulk"]


def lif_harness(top: str, ports: list[dict], rows: int) -> BulkHarness:
    """The harness for a population with these ports, sized for ``rows`` actions."""
    return BulkHarness(top, ports, [Capture("spikes", ("spikes__payload",))],
                       max_actions=1 << max(10, (rows - 1).bit_length()))


def lif_actions(h: BulkHarness, stim: LIFStimulus) -> tuple[bytes, int, np.ndarray, np.ndarray]:
    """Actions for ``stim``; returns ``(hex, rows, steps, neurons)`` of the updates sent in order.

    Every update is one action offering ``current``; the first update of a run (the start and
    every step after a cut) carries the reset flag.
    """
    p = stim.params
    n = p.neurons
    t_idx, n_idx = np.divmod(np.arange(stim.steps * n), n)
    cut = stim.cut
    keep = (cut[t_idx] < 0) | (n_idx < cut[t_idx])
    t_idx, n_idx = t_idx[keep], n_idx[keep]
    # A reset precedes step 0 and every step that follows a cut step.
    reset_steps = np.concatenate([[0], np.flatnonzero(cut >= 0) + 1])
    first_of_step = np.concatenate([[True], t_idx[1:] != t_idx[:-1]])
    rst = first_of_step & np.isin(t_idx, reset_steps)
    # A cut at k = 0 leaves a step with no update: its reset moves to the next update sent.
    if len(t_idx):
        sent_steps = np.unique(t_idx)
        for t in reset_steps:
            if t < stim.steps and t not in set(sent_steps.tolist()):
                later = np.flatnonzero(t_idx > t)
                if later.size:
                    rst[later[0]] = True
    rows = len(t_idx)
    values: dict[str, Any] = {
        "stream": h.stream_index("current"),
        "rst": rst,
        "current__payload": stim.currents[t_idx, n_idx],
        "threshold": stim.threshold[t_idx],
        "leak": stim.leak[t_idx],
    }
    if p.refractory_width:
        values["refractory"] = stim.refractory[t_idx]
    return h.actions(rows, values), rows, t_idx, n_idx


def compare_outputs(h: BulkHarness, stim: LIFStimulus, records: np.ndarray, t_idx: np.ndarray,
                    n_idx: np.ndarray) -> dict[str, Any]:
    """Compare every recorded output with the expectation; return the report."""
    p = stim.params
    board = Scoreboard()
    got = len(records)
    if got != len(t_idx):
        board.compare(-1, -1, "output count", len(t_idx), got)
    k = min(got, len(t_idx))
    t, i = t_idx[:k], n_idx[:k]
    index_bits = max(1, (p.neurons - 1).bit_length())
    observed = {
        "spike": h.field(records[:k], 0, "spikes__payload", lsb=0, bits=1),
        "membrane": h.field(records[:k], 0, "spikes__payload", lsb=1, bits=p.width, signed=True),
        "index": h.field(records[:k], 0, "spikes__payload", lsb=1 + p.width, bits=index_bits),
        "last": h.field(records[:k], 0, "spikes__payload", lsb=1 + p.width + index_bits, bits=1),
    }
    expected = {
        "spike": stim.expected_spike[t, i].astype(np.int64),
        "membrane": stim.expected_mem[t, i],
        "index": i,
        "last": (i == p.neurons - 1).astype(np.int64),
    }
    bad_rows = np.zeros(k, dtype=bool)
    for name in ("index", "last", "spike", "membrane"):
        bad = np.flatnonzero(observed[name] != expected[name])
        bad_rows[bad] = True
        for j in bad[: board.keep]:
            board.compare(int(t[j]), int(i[j]), name, int(expected[name][j]), int(observed[name][j]))
        board.count += max(0, len(bad) - min(len(bad), board.keep))
    board.checked = k
    return {"updates": k, "spikes": int(observed["spike"].sum()), **board.as_dict()}


def run_lif_bulk(cfg: Mapping[str, Any], *, sim: str, verilog: str, top: str, ports: list[dict],
                 build_dir: str | Path, capture: bool = True) -> dict[str, Any]:
    """Run a configuration (as :func:`testbench.lif.check_config` takes) through the bulk path.

    The report has ``updates``, ``spikes``, ``mismatches``, ``first_mismatches``, ``cycles`` and
    the time split into ``prepare``, ``build``, ``simulate`` and ``compare`` seconds.
    """
    t0 = time.perf_counter()
    stim = stimulus_of(cfg, expected=False)
    rows = stim.updates
    h = lif_harness(top, ports, rows)
    actions, rows, t_idx, n_idx = lif_actions(h, stim)
    gap = int(round(256 * float(cfg.get("gap", 0.2))))
    stall = int(round(256 * float(cfg.get("stall", 0.2))))
    t1 = time.perf_counter()

    def expect(s: LIFStimulus) -> None:
        s.compute_expected()
        apply_plant(cfg, s)

    run = run_bulk(sim, h, verilog, actions, rows, build_dir=build_dir, seed=int(cfg["seed"]),
                   gap=min(gap, 255), stall=min(stall, 255), drain=4, capture=capture,
                   max_cycles=40 * rows + 10_000, meanwhile=lambda: expect(stim))
    t2 = time.perf_counter()
    if capture:
        report = compare_outputs(h, stim, run.records, t_idx, n_idx)
    else:
        report = {"updates": 0, "spikes": 0, "mismatches": 0, "first_mismatches": []}
    t3 = time.perf_counter()
    return report | {
        "cycles": run.cycles,
        "sent": rows,
        "prepare_seconds": t1 - t0,
        "build_seconds": run.build_seconds,
        "simulate_seconds": run.run_seconds,  # the reference model runs meanwhile
        "compare_seconds": t3 - t2,
        "seconds": (t1 - t0) + run.run_seconds + (t3 - t2),
    }
