# SPDX-License-Identifier: Apache-2.0
"""Bulk checking of the Hodgkin-Huxley neuron: the stimulus of :mod:`testbench.hodgkin_huxley`,
checked in NumPy.

The same seeded currents and resets as the cycle-level checker
(:func:`~neurotile.testbench.hodgkin_huxley.make_stimulus`) become harness actions
(:mod:`testbench.bulk`): one action per Euler step offers the step's current on the neuron's
``current`` stream (after random idle cycles, probability ``gap`` per cycle) until the neuron
takes it, and the harness reads ``output`` with random back-pressure (probability ``stall`` per
cycle). After a random share ``gap`` of the steps, a plain action offers nothing for 1 to
``2 * cycles_per_step`` cycles, so the neuron also waits idle with its output read or unread. A
reset point is the reset flag on the next step's action: the harness first reads every
outstanding output (its drain outlasts a step), then resets. Every output transfer is recorded;
the reference model runs while the simulator does, and every record is decoded with the output
layout and compared at once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from neurotile.neurons.hodgkin_huxley import HHIntParams
from neurotile.rtl.hodgkin_huxley import cycles_per_step
from neurotile.testbench.bulk import BulkHarness, Capture, compare_fields, run_bulk
from neurotile.testbench.common import Scoreboard, apply_plant
from neurotile.testbench.hodgkin_huxley import (
    FIELDS,
    FRAMING,
    HHStimulus,
    field_slices,
    make_stimulus,
)

__all__ = ["hh_harness", "hh_actions", "compare_outputs", "run_hh_bulk", "record_hh_bulk"]

PAYLOAD = "output__payload"


def hh_harness(top: str, ports: list[dict], rows: int) -> BulkHarness:
    """The harness for a neuron with these ports, sized for ``rows`` actions."""
    return BulkHarness(top, ports, [Capture("output", (PAYLOAD,))],
                       max_actions=1 << max(10, (rows - 1).bit_length()))


def _plan(stim: HHStimulus, *, seed: int, gap: float) -> tuple[np.ndarray, np.ndarray]:
    """Per action: the step it belongs to and its idle hold (0: the step's own action)."""
    n = stim.steps
    cps = cycles_per_step(stim.params)
    rng = np.random.default_rng(seed + 2)
    idle = rng.random(n) < gap
    per_step = 1 + idle
    step = np.repeat(np.arange(n), per_step)
    first = np.concatenate([[0], np.cumsum(per_step)[:-1]]).astype(np.intp)
    hold = np.zeros(len(step), np.int64)
    hold[first[idle] + 1] = rng.integers(1, 2 * cps + 1, int(idle.sum()))
    return step, hold


def action_rows(stim: HHStimulus, *, seed: int, gap: float) -> int:
    """How many actions :func:`hh_actions` makes for ``stim`` (to size the harness)."""
    return len(_plan(stim, seed=seed, gap=gap)[0])


def hh_actions(h: BulkHarness, stim: HHStimulus, *, seed: int,
               gap: float) -> tuple[bytes, int]:
    """Actions for ``stim``; returns ``(hex, rows)``.

    Step ``t``'s action offers ``current[t]`` on the ``current`` stream, with the reset flag on
    step 0 and on the step after every reset point; an idle action may follow it.
    """
    step, hold = _plan(stim, seed=seed, gap=gap)
    own = hold == 0
    reset_before = np.concatenate([[True], stim.reset_after[:-1].astype(bool)])
    values: dict[str, Any] = {
        "stream": np.where(own, h.stream_index("current"), 0),
        "rst": own & reset_before[step],
        "current__payload": stim.currents[step],
        "hold": np.maximum(hold, 1),
    }
    return h.actions(len(step), values), len(step)


def compare_outputs(h: BulkHarness, stim: HHStimulus, records: np.ndarray) -> dict[str, Any]:
    """Compare every recorded output with the expectation of its step; return the report."""
    board = Scoreboard()
    got = len(records)
    if got != stim.steps:
        board.compare(-1, 0, "output count", stim.steps, got)
    k = min(got, stim.steps)
    r = records[:k]
    observed = {name: h.field(r, 0, PAYLOAD, lsb=offset, bits=width, signed=is_signed)
                for name, (offset, width, is_signed) in field_slices(stim.params).items()}
    expected = {name: stim.expected[name][:k] for name in FIELDS}
    expected |= {name: np.full(k, value, np.int64) for name, value in FRAMING.items()}
    t = np.arange(k)
    compare_fields(board, t, np.zeros(k, np.int64), expected, observed)
    board.checked = k
    return {"updates": k, "spikes": int(observed["spike"].sum()),
            "resets": int(stim.reset_after.sum()), **board.as_dict()}


def run_hh_bulk(cfg: Mapping[str, Any], *, sim: str, verilog: str, top: str, ports: list[dict],
                build_dir: str | Path) -> dict[str, Any]:
    """Run a configuration (as :func:`testbench.hodgkin_huxley.check_config` takes) through the
    bulk path.

    The report has ``updates`` (Euler steps checked), ``spikes``, ``mismatches``,
    ``first_mismatches``, ``cycles`` and the time split into ``prepare``, ``build``,
    ``simulate`` and ``compare`` seconds.
    """
    t0 = time.perf_counter()
    p = HHIntParams(**cfg.get("params", {}))
    seed = int(cfg["seed"])
    gap = float(cfg.get("gap", 0.1))
    stall = float(cfg.get("stall", 0.1))
    stim = make_stimulus(p, int(cfg["steps"]), seed, directed=bool(cfg.get("directed", True)),
                         reset_rate=float(cfg.get("reset_rate", 0.0005)), expected=False)
    rows = action_rows(stim, seed=seed, gap=gap)
    h = hh_harness(top, ports, rows)
    actions, rows = hh_actions(h, stim, seed=seed, gap=gap)
    t1 = time.perf_counter()

    def expect() -> None:
        stim.compute_expected()
        apply_plant(cfg, stim)

    cps = cycles_per_step(p)
    run = run_bulk(sim, h, verilog, actions, rows, build_dir=build_dir, seed=seed,
                   gap=min(255, int(round(256 * gap))), stall=min(255, int(round(256 * stall))),
                   drain=cps + 8, max_cycles=3 * (cps + 8) * (rows + 1) + 10_000,
                   meanwhile=expect)
    t2 = time.perf_counter()
    report = compare_outputs(h, stim, run.records)
    t3 = time.perf_counter()
    if run.waves is not None:
        report["waves"] = str(run.waves)
    return report | {
        "cycles": run.cycles,
        "sent": stim.steps,
        "prepare_seconds": t1 - t0,
        "build_seconds": run.build_seconds,
        "simulate_seconds": run.run_seconds,  # the reference model runs meanwhile
        "compare_seconds": t3 - t2,
        "seconds": (t1 - t0) + run.run_seconds + (t3 - t2),
    }


def record_hh_bulk(p: HHIntParams, currents: np.ndarray, *, sim: str, verilog: str, top: str,
                   ports: list[dict], build_dir: str | Path, seed: int = 1
                   ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Play the current codes ``currents`` (``[steps]`` or ``[steps, 1]``, from rest, no gaps
    or stalls) on the neuron's RTL and return what it reported.

    Returns ``(outputs, report)``: ``spike`` and ``v`` as ``[steps, 1]`` int64 arrays of the
    RTL's values (0 where it reported nothing), and :func:`compare_outputs`' report against the
    integer model (``waves`` included when recorded).
    """
    cur = np.asarray(currents, np.int64).reshape(-1)
    stim = HHStimulus(p, cur, np.zeros(len(cur), bool))
    rows = action_rows(stim, seed=seed, gap=0.0)
    h = hh_harness(top, ports, rows)
    actions, rows = hh_actions(h, stim, seed=seed, gap=0.0)
    cps = cycles_per_step(p)
    run = run_bulk(sim, h, verilog, actions, rows, build_dir=build_dir, seed=seed, drain=cps + 8,
                   max_cycles=3 * (cps + 8) * (rows + 1) + 10_000,
                   meanwhile=stim.compute_expected)
    report = compare_outputs(h, stim, run.records)
    if run.waves is not None:
        report["waves"] = str(run.waves)
    k = min(len(run.records), stim.steps)
    slices = field_slices(p)
    outputs = {}
    for name in ("spike", "v"):
        offset, width, signed = slices[name]
        arr = np.zeros((stim.steps, 1), np.int64)
        arr[:k, 0] = h.field(run.records[:k], 0, PAYLOAD, lsb=offset, bits=width, signed=signed)
        outputs[name] = arr
    return outputs, report
