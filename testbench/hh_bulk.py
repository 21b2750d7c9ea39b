# SPDX-License-Identifier: Apache-2.0
"""Bulk checking of the Hodgkin-Huxley neuron: the stimulus of :mod:`testbench.hodgkin_huxley`,
checked in NumPy.

The same seeded currents and resets as the cycle-level checker
(:func:`~neurotile.testbench.hodgkin_huxley.make_stimulus`) become harness actions
(:mod:`testbench.bulk`): one action per Euler step holds ``enable`` high with the step's current
until ``start`` shows the neuron took it (the current is read in that cycle only); the next
step's current is then applied while the step runs. Between steps, ``enable`` is held low for a
random number of cycles (``gap``: the probability per step), which delays the next step when it
outlasts the current one. A reset waits for the step before it to finish with ``enable`` still
high, so the step that starts right after is aborted by the reset, as in the cycle checker. The
harness records V, m, h, n and the spike flag each time ``done`` fires; the reference model runs
while the simulator does, and every record is compared at once.
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
from neurotile.testbench.hodgkin_huxley import FIELDS, HHStimulus, make_stimulus

__all__ = ["hh_harness", "hh_actions", "compare_outputs", "run_hh_bulk"]

_NONE, _GAP, _RESET, _FINAL = 0, 1, 2, 3


def hh_harness(top: str, ports: list[dict], rows: int) -> BulkHarness:
    """The harness for a neuron with these ports, sized for ``rows`` actions."""
    return BulkHarness(top, ports, [Capture("done", FIELDS)],
                       max_actions=1 << max(10, (rows - 1).bit_length()))


def action_rows(stim: HHStimulus, *, seed: int, gap: float) -> int:
    """How many actions :func:`hh_actions` makes for ``stim`` (to size the harness)."""
    return len(_plan(stim, seed=seed, gap=gap)[0])


def _plan(stim: HHStimulus, *, seed: int, gap: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per action: the step it belongs to, its kind, and the hold of gap actions."""
    n = stim.steps
    cps = cycles_per_step(stim.params)
    rng = np.random.default_rng(seed + 2)
    extra = np.where(rng.random(n) < gap, _GAP, _NONE)
    extra[stim.reset_after.astype(bool)] = _RESET
    if n:
        extra[-1] = _FINAL
    per_step = 1 + (extra != _NONE)
    step = np.repeat(np.arange(n), per_step)
    first = np.concatenate([[0], np.cumsum(per_step)[:-1]]).astype(np.intp)
    kind = np.full(len(step), -1, np.int64)  # -1: the step's own action
    kind[first[extra != _NONE] + 1] = extra[extra != _NONE]
    hold = np.ones(len(step), np.int64)
    gaps = kind == _GAP
    hold[gaps] = rng.integers(1, 2 * cps + 1, int(gaps.sum()))
    return step, kind, hold


def hh_actions(h: BulkHarness, stim: HHStimulus, *, seed: int,
               gap: float) -> tuple[bytes, int]:
    """Actions for ``stim``; returns ``(hex, rows)``.

    Step ``t``'s action carries ``current[t]``, ``enable`` high and waits for ``start`` (with
    the reset flag on step 0 and after every reset point). After it, optionally: a gap (enable
    low, the next current applied), a wait for ``done`` with enable high before a reset, or,
    after the last step, a wait for its ``done`` with enable low.
    """
    step, kind, hold = _plan(stim, seed=seed, gap=gap)
    rows = len(step)
    own = kind < 0
    cur = stim.currents
    nxt = np.minimum(step + 1, max(stim.steps - 1, 0))
    reset_before = np.concatenate([[True], stim.reset_after[:-1].astype(bool)])
    values: dict[str, Any] = {
        "rst": own & reset_before[step],
        "current": np.where(own | (kind == _RESET), cur[step], cur[nxt]),
        "enable": (kind != _GAP) & (kind != _FINAL),
        "until": np.where(own, h.event_index("start"),
                          np.where(kind == _GAP, 0, h.event_index("done"))),
        "hold": hold,
    }
    return h.actions(rows, values), rows


def compare_outputs(h: BulkHarness, stim: HHStimulus, records: np.ndarray) -> dict[str, Any]:
    """Compare every recorded step with the expectation; return the report."""
    board = Scoreboard()
    got = len(records)
    if got != stim.steps:
        board.compare(-1, 0, "output count", stim.steps, got)
    k = min(got, stim.steps)
    r = records[:k]
    observed = {
        "v": h.field(r, 0, "v", signed=True),
        "m": h.field(r, 0, "m"),
        "h": h.field(r, 0, "h"),
        "n": h.field(r, 0, "n"),
        "spike": h.field(r, 0, "spike"),
    }
    expected = {name: stim.expected[name][:k] for name in FIELDS}
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
    run = run_bulk(sim, h, verilog, actions, rows, build_dir=build_dir, seed=seed, drain=4,
                   max_cycles=3 * (cps + 4) * (rows + 1) + 10_000, meanwhile=expect)
    t2 = time.perf_counter()
    report = compare_outputs(h, stim, run.records)
    t3 = time.perf_counter()
    return report | {
        "cycles": run.cycles,
        "sent": stim.steps,
        "prepare_seconds": t1 - t0,
        "build_seconds": run.build_seconds,
        "simulate_seconds": run.run_seconds,  # the reference model runs meanwhile
        "compare_seconds": t3 - t2,
        "seconds": (t1 - t0) + run.run_seconds + (t3 - t2),
    }
