# SPDX-License-Identifier: Apache-2.0
"""Bulk checking of any population: the stimulus of :mod:`testbench.population`, checked in NumPy.

The same seeded stimulus and expectations as the cycle-level checker, played by the harness of
:mod:`testbench.bulk` with random gaps and back-pressure, every output field compared at once
(decoded with the payload layout). Mismatches are reported with step, neuron, field and values.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neurotile.neurons.spec import NeuronConfig
from neurotile.testbench.bulk import BulkHarness, Capture, compare_fields, run_bulk
from neurotile.testbench.common import Scoreboard, apply_plant
from neurotile.testbench.population import Stimulus, payload_fields, stimulus_of

__all__ = ["population_harness", "population_actions", "compare_outputs", "observed_outputs",
           "run_population_bulk", "record_population_bulk"]


@dataclass(frozen=True)
class RunTrace:
    """What a bulk run played and recorded: the stimulus (with its expectation) and, for each
    recorded output in order, its step ``t``, neuron ``n`` and decoded fields ``observed``."""

    stim: Stimulus
    t: np.ndarray
    n: np.ndarray
    observed: dict[str, np.ndarray]


def population_harness(top: str, ports: list[dict], rows: int) -> BulkHarness:
    """The harness for a population with these ports, sized for ``rows`` actions."""
    return BulkHarness(top, ports, [Capture("output", ("output__payload",))],
                       max_actions=1 << max(10, (rows - 1).bit_length()))


def population_actions(h: BulkHarness, stim: Stimulus
                       ) -> tuple[bytes, int, np.ndarray, np.ndarray]:
    """Actions for ``stim``; returns ``(hex, rows, steps, neurons)`` of the updates sent in order.

    Every update is one action offering ``current`` with the step's settings; the first update
    of a run (the start and every step after a cut) carries the reset flag.
    """
    n = stim.config.neurons
    t_idx, n_idx = np.divmod(np.arange(stim.steps * n), n)
    cut = stim.cut
    keep = (cut[t_idx] < 0) | (n_idx < cut[t_idx])
    t_idx, n_idx = t_idx[keep], n_idx[keep]
    # A reset precedes step 0 and every step that follows a cut step; a step that sends no
    # update (a cut at 0) passes its reset on to the next update sent.
    reset_steps = np.concatenate([[0], np.flatnonzero(cut >= 0) + 1])
    rst = np.zeros(len(t_idx), bool)
    if len(t_idx):
        firsts = np.searchsorted(t_idx, reset_steps[reset_steps < stim.steps])
        rst[firsts[firsts < len(t_idx)]] = True
    rows = len(t_idx)
    values: dict[str, Any] = {
        "stream": h.stream_index("current"),
        "rst": rst,
        "current__payload": stim.currents[t_idx, n_idx],
    }
    for name, per_step in stim.settings.items():
        values[name] = per_step[t_idx]
    return h.actions(rows, values), rows, t_idx, n_idx


def observed_outputs(h: BulkHarness, config: NeuronConfig, records: np.ndarray
                     ) -> dict[str, np.ndarray]:
    """Every field of the recorded output payloads, decoded with the payload layout."""
    return {name: h.field(records, 0, "output__payload", lsb=lsb, bits=width, signed=signed)
            for name, lsb, width, signed in payload_fields(config)}


def compare_outputs(h: BulkHarness, stim: Stimulus, records: np.ndarray, t_idx: np.ndarray,
                    n_idx: np.ndarray) -> dict[str, Any]:
    """Compare every recorded output with the expectation; return the report."""
    board = Scoreboard()
    got = len(records)
    if got != len(t_idx):
        board.compare(-1, -1, "output count", len(t_idx), got)
    k = min(got, len(t_idx))
    t, i = t_idx[:k], n_idx[:k]
    observed = observed_outputs(h, stim.config, records[:k])
    assert stim.expected is not None
    expected = {"index": i, "last": (i == stim.config.neurons - 1).astype(np.int64)}
    expected |= {f.name: stim.expected[f.name][t, i].astype(np.int64)
                 for f in stim.config.output_fields()}
    compare_fields(board, t, i, expected, observed)
    board.checked = k
    spikes = int(observed["spike"].sum()) if "spike" in observed else 0
    return {"updates": k, "spikes": spikes, **board.as_dict()}


def run_population_bulk(cfg: Mapping[str, Any], *, sim: str, verilog: str, top: str,
                        ports: list[dict], build_dir: str | Path,
                        capture: bool = True, trace: bool = False) -> dict[str, Any]:
    """Run a configuration (as :func:`testbench.population.check_config` takes) in bulk.

    The report has ``updates``, ``spikes``, ``mismatches``, ``first_mismatches``, ``cycles`` and
    the time split into ``prepare``, ``build``, ``simulate`` and ``compare`` seconds, and
    ``waves`` when the run recorded waveforms (``WAVES=1``). With ``trace`` it also holds the
    run itself, ``trace`` (a :class:`RunTrace`), for pictures.
    """
    t0 = time.perf_counter()
    stim = stimulus_of(cfg, expected=False)
    h = population_harness(top, ports, stim.updates)
    actions, rows, t_idx, n_idx = population_actions(h, stim)
    gap = min(255, int(round(256 * float(cfg.get("gap", 0.2)))))
    stall = min(255, int(round(256 * float(cfg.get("stall", 0.2)))))
    t1 = time.perf_counter()

    def expect(s: Stimulus) -> None:
        s.compute_expected()
        apply_plant(cfg, s)

    run = run_bulk(sim, h, verilog, actions, rows, build_dir=build_dir, seed=int(cfg["seed"]),
                   gap=gap, stall=stall, drain=4, capture=capture,
                   max_cycles=40 * rows + 10_000 + 4 * stim.config.neurons * len(stim.cut),
                   meanwhile=lambda: expect(stim))
    t2 = time.perf_counter()
    if capture:
        report = compare_outputs(h, stim, run.records, t_idx, n_idx)
    else:
        report = {"updates": 0, "spikes": 0, "mismatches": 0, "first_mismatches": []}
    t3 = time.perf_counter()
    if run.waves is not None:
        report["waves"] = str(run.waves)
    if trace and capture:
        k = min(len(run.records), len(t_idx))
        report["trace"] = RunTrace(stim, t_idx[:k], n_idx[:k],
                                   observed_outputs(h, stim.config, run.records[:k]))
    return report | {
        "cycles": run.cycles,
        "sent": rows,
        "prepare_seconds": t1 - t0,
        "build_seconds": run.build_seconds,
        "simulate_seconds": run.run_seconds,  # the reference model runs meanwhile
        "compare_seconds": t3 - t2,
        "seconds": (t1 - t0) + run.run_seconds + (t3 - t2),
    }


def record_population_bulk(config: NeuronConfig, currents: np.ndarray, *, sim: str, verilog: str,
                           top: str, ports: list[dict], build_dir: str | Path, seed: int = 1
                           ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Play integer ``currents`` (``[steps, neurons]``, the configuration's settings, one reset
    at the start) on the population's RTL and return what it reported.

    Returns ``(outputs, report)``: ``outputs`` maps every output field to a ``[steps, neurons]``
    int64 array of the RTL's values (a neuron-step the RTL never reported holds 0; the report's
    ``mismatches`` counts those as well as every field that differs from the integer model);
    ``report`` is :func:`run_population_bulk`'s (``waves`` included).
    """
    c = config
    cur = np.asarray(currents, np.int64)
    settings = {s.name: np.full(cur.shape[0], getattr(c, s.name), np.int64) for s in c.ports()}
    stim = Stimulus(c, cur, settings, np.full(cur.shape[0], -1, np.int64))
    h = population_harness(top, ports, stim.updates)
    actions, rows, t_idx, n_idx = population_actions(h, stim)
    run = run_bulk(sim, h, verilog, actions, rows, build_dir=build_dir, seed=seed, drain=4,
                   max_cycles=40 * rows + 10_000, meanwhile=stim.compute_expected)
    report = compare_outputs(h, stim, run.records, t_idx, n_idx)
    if run.waves is not None:
        report["waves"] = str(run.waves)
    k = min(len(run.records), len(t_idx))
    observed = observed_outputs(h, c, run.records[:k])
    outputs = {}
    for f in c.output_fields():
        arr = np.zeros(cur.shape, np.int64)
        arr[t_idx[:k], n_idx[:k]] = observed[f.name]
        outputs[f.name] = arr
    return outputs, report
