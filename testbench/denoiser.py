# SPDX-License-Identifier: Apache-2.0
"""Cycle-level testbench of the event-camera denoiser against the integer reference model.

A stimulus is a list of *runs*: each starts with a reset (the filter memory forgets every
event), sets ``window`` and sends a stream of events; the expected decision of every event
comes from :func:`neurotile.neurons.denoiser.denoise`. :class:`DenoiserChecker` offers the
events with random gaps, reads the decisions with random back-pressure and compares every one.
The same checker runs under cocotb (Icarus, Verilator) and Amaranth's simulator.

Directed runs cover the window boundary (``window - 1`` passes, ``window`` drops), the smallest
and largest windows, sensor borders and corners, diagonal neighbours, repeated events at one
pixel, events outside the sensor, back-to-back events that read what the previous one wrote,
time wrap-around, epoch changes shown by events and by time markers, and long gaps that alias;
random runs mix clustered activity, background noise, time markers and the synthetic scenes of
:func:`~neurotile.neurons.denoiser.synthetic_stream`.

Reproduce a failing run with the command line, e.g.
``neurotile simulate denoiser --sim icarus --steps 2000 --seed 7``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from neurotile.neurons.denoiser import DenoiserParams, denoise, synthetic_stream
from neurotile.testbench.common import (
    Scoreboard,
    amaranth_loop,
    apply_plant,
    assert_found,
    cocotb_loop,
    read_config,
    write_report,
)

__all__ = ["Run", "DenoiserStimulus", "make_runs", "pack_event", "component_ports",
           "DenoiserChecker", "check_config", "run_amaranth"]

log = logging.getLogger("neurotile.testbench.denoiser")


# -- stimulus ----------------------------------------------------------------------------------

@dataclass
class Run:
    """After a reset, set ``window`` and send the events ``(x[i], y[i], t[i])`` (``t`` full
    width; the hardware gets ``t mod 2**ts_bits``)."""

    window: int
    x: np.ndarray
    y: np.ndarray
    t: np.ndarray


def _run(p: DenoiserParams, window: int, events: list[tuple[int, int, int]]) -> Run:
    """A run of the events whose coordinates the payload can carry (on a small sensor some
    directed neighbours fall outside it)."""
    fits = [e for e in events if 0 <= e[0] < 1 << p.x_field_bits and 0 <= e[1] < 1 << p.y_bits]
    a = np.array(fits, np.int64).reshape(-1, 3)
    return Run(window, a[:, 0], a[:, 1], a[:, 2])


def _directed(p: DenoiserParams) -> list[Run]:
    w, h, m = p.width, p.height, 1 << p.ts_bits
    win = max(1, m // 4)
    cx, cy = w // 2, h // 2
    runs = []
    # Window boundary around a centre pixel, each neighbour in turn; the same pixel repeated
    # (never its own neighbour); diagonals (pass only with 8 neighbours).
    ev, t = [], 0
    for dx, dy in ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (1, 1), (1, -1), (-1, 1)):
        for gap in (win - 1, win, 0, 1):
            ev += [(cx + dx, cy + dy, t), (cx, cy, t + gap)]
            t += gap + m  # the next pair starts long after, but aliases: a full period later
    ev += [(cx, cy, t), (cx, cy, t + 1), (cx, cy, t + 1)]
    runs.append(_run(p, win, ev))
    # Smallest and largest windows, back-to-back neighbours at one time.
    for window in (1, m // 2):
        ev = [(0, 0, 5), (1, 0, 5), (0, 1, 5), (1, 1, 5 + window - 1), (2, 1, 5 + window),
              (2, 2, 5 + 2 * window), (2, 2, 5 + 2 * window)]
        runs.append(_run(p, window, ev))
    # Borders and corners: walk the edge of the sensor one pixel per time unit.
    edge = [(x, 0) for x in range(w)] + [(w - 1, y) for y in range(1, h)] + \
        [(x, h - 1) for x in range(w - 2, -1, -1)] + [(0, y) for y in range(h - 2, 0, -1)]
    runs.append(_run(p, 2, [(x, y, k) for k, (x, y) in enumerate(edge)]))
    # Outside the sensor (when its size is not a power of two): dropped, not stored.
    xs, ys = (1 << p.x_field_bits) - 1, (1 << p.y_bits) - 1
    if xs >= w or ys >= h:
        ev = [(min(xs, w - 1) if xs < w else xs, ys if ys >= h else 0, 3),
              (xs if xs >= w else 0, 0, 4), (w - 1, h - 1, 4), (w - 2, h - 1, 5),
              (xs if xs >= w else w - 1, ys if ys >= h else h - 1, 6), (w - 1, h - 2, 6)]
        runs.append(_run(p, win, ev))
    # Wrap-around: times cross 2**ts_bits many times, with gaps near multiples of it.
    rng = np.random.default_rng(p.ts_bits)
    ev, t = [], m - 3
    for _ in range(60):
        x, y = int(rng.integers(max(0, cx - 1), min(w, cx + 2))), int(rng.integers(
            max(0, cy - 1), min(h, cy + 2)))
        ev.append((x, y, t))
        t += int(rng.choice([0, 1, win - 1, win, m - 1, m, m + 1, m + win - 1]))
    runs.append(_run(p, win, ev))
    # Epochs: a neighbour two half-periods old expires at the change of the time's top bit,
    # shown by a real event or by a time marker (x = width) during a long gap.
    h2 = m // 2
    ev = [(cx, cy, 1), (p.width, 0, 1 + h2), (cx, cy, 2 + 2 * h2), (p.width, 0, 3 + 3 * h2),
          (p.width, 0, 3 + 4 * h2), (cx + 1, cy, 4 + 4 * h2), (cx, cy + 1, 5 + 4 * h2),
          (cx, cy, 5 + 6 * h2), (cx, cy + 1, 6 + 8 * h2)]
    runs.append(_run(p, h2, ev))
    return runs


def random_run(p: DenoiserParams, rng: np.random.Generator, n: int) -> Run:
    """``n`` events: a random walk of activity (neighbour events, dense in time) mixed with
    uniform background noise and a few time markers, times advancing by small random gaps (so
    they wrap often; some runs have gaps up to a full period); a random window."""
    m = 1 << p.ts_bits
    window = int(rng.integers(1, m // 2 + 1))
    x = np.empty(n, np.int64)
    y = np.empty(n, np.int64)
    px, py = int(rng.integers(0, p.width)), int(rng.integers(0, p.height))
    noise = rng.random(n) < rng.uniform(0.1, 0.6)
    marker = rng.random(n) < 0.05
    for i in range(n):
        if marker[i]:  # a time marker: outside the sensor, advances the epoch only
            x[i], y[i] = p.width, rng.integers(0, p.height)
        elif noise[i]:
            x[i], y[i] = rng.integers(0, p.width), rng.integers(0, p.height)
        else:
            px = min(max(px + int(rng.integers(-1, 2)), 0), p.width - 1)
            py = min(max(py + int(rng.integers(-1, 2)), 0), p.height - 1)
            x[i], y[i] = px, py
    scale = max(1, window // 2) if rng.random() < 0.7 else m
    t = np.cumsum(rng.integers(0, scale + 1, n))
    return Run(window, x, y, t)


def make_runs(p: DenoiserParams, steps: int, seed: int, *,
              directed: bool = True) -> list[Run]:
    """Seeded runs: the directed corners (when ``directed``), then random runs and a synthetic
    scene until ``steps`` events are planned."""
    rng = np.random.default_rng(seed)
    m = 1 << p.ts_bits
    runs = _directed(p) if directed else []
    left = max(0, steps - sum(r.t.size for r in runs))
    if left >= 200:
        scene = synthetic_stream(p.width, p.height, duration=4 * left, noise_rate=10.0,
                                 seed=seed, tick=4)
        n = min(left // 2, len(scene))
        runs.append(Run(int(rng.integers(min(4, m // 2), m // 2 + 1)), scene.x[:n], scene.y[:n],
                        scene.t[:n]))
        left -= n
    while left > 0:
        n = min(left, int(rng.integers(50, 400)))
        runs.append(random_run(p, rng, n))
        left -= n
    return runs


@dataclass
class DenoiserStimulus:
    """Runs and the expected decision of every event (all runs, in order)."""

    params: DenoiserParams
    runs: list[Run]
    expected: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.expected = np.concatenate(
            [denoise(self.params, r.x, r.y, r.t, r.window) for r in self.runs] or
            [np.zeros(0, bool)]).astype(np.int64)

    @property
    def events(self) -> int:
        return int(self.expected.size)

    def plant_error(self, index: int) -> None:
        """Flip the expected decision of event ``index`` (the run must report it)."""
        self.expected[index] ^= 1


def pack_event(p: DenoiserParams, x: int, y: int, t: int) -> int:
    """An event's payload bits (``t`` is reduced modulo ``2**ts_bits``)."""
    from neurotile.rtl.denoiser import event_layout

    if not (0 <= x < 1 << p.x_field_bits and 0 <= y < 1 << p.y_bits):
        raise ValueError(f"event ({x}, {y}) does not fit the payload's coordinates")
    layout = event_layout(p)
    x_off, y_off, t_off = (layout["x"].offset, layout["y"].offset, layout["t"].offset)
    return (x << x_off) | (y << y_off) | ((t & ((1 << p.ts_bits) - 1)) << t_off)


def component_ports(dut: Any, name: str) -> Any:
    """Map a Verilog port name (``events__payload``) to the component's Amaranth value."""
    obj = dut
    for part in name.split("__"):
        obj = getattr(obj, part)
    return obj.as_value() if hasattr(obj, "as_value") else obj


# -- checker -----------------------------------------------------------------------------------

class DenoiserChecker:
    """Drive the runs with random gaps and back-pressure; compare every decision."""

    sampled = ("events__valid", "events__ready", "decisions__valid", "decisions__ready",
               "decisions__payload")

    def __init__(self, stim: DenoiserStimulus, *, seed: int, gap: float = 0.2,
                 stall: float = 0.2) -> None:
        self.stim, self.p = stim, stim.params
        self.board = Scoreboard()
        rng = np.random.default_rng(seed + 1)
        self._coins = rng.random(4096)
        self._coin = 0
        self.gap, self.stall = gap, stall
        self._plan = [(k, i) for k, r in enumerate(stim.runs) for i in range(r.t.size)]
        self._payloads = [pack_event(self.p, int(r.x[i]), int(r.y[i]), int(r.t[i]))
                          for r in stim.runs for i in range(r.t.size)]
        self._sent = 0        # events accepted
        self._decided = 0     # decisions received
        self._run = -1        # run whose window is set
        self._reset = False
        self._valid = 0
        self._ready = 0
        self.passed = 0
        self.done = not self._plan

    def _flip(self, prob: float) -> bool:
        self._coin = (self._coin + 1) % len(self._coins)
        return self._coins[self._coin] < prob

    def drive(self) -> Mapping[str, int]:
        out: dict[str, int] = {"rst": 0}
        if self._sent < len(self._plan):
            run = self._plan[self._sent][0]
            if run != self._run:
                if self._decided < self._sent:  # drain the run before resetting
                    out |= {"events__valid": 0, "decisions__ready": 1}
                    self._valid, self._ready = 0, 1
                    return out
                self._run, self._reset = run, True
                self._valid, self._ready = 0, 0
                return {"rst": 1, "events__valid": 0, "decisions__ready": 0,
                        "window": self.stim.runs[run].window, "events__payload": 0}
            if not self._valid:  # once offered, an event stays valid until it is taken
                self._valid = 0 if self._flip(self.gap) else 1
            out["events__payload"] = self._payloads[self._sent]
        else:
            self._valid = 0
        self._ready = 0 if self._flip(self.stall) else 1
        out |= {"events__valid": self._valid, "decisions__ready": self._ready}
        return out

    def sample(self, v: Mapping[str, int]) -> None:
        if self._reset:
            self._reset = False
            return
        if v["decisions__valid"] and v["decisions__ready"]:
            k = self._decided
            if k >= self._sent:
                self.board.compare(k, 0, "unexpected decision", 0, 1)
            else:
                self.board.checked += 1
                self.board.compare(k, 0, "pass", int(self.stim.expected[k]),
                                   int(v["decisions__payload"]))
                self.passed += int(v["decisions__payload"])
            self._decided += 1
        if v["events__valid"] and v["events__ready"]:
            self._sent += 1
            self._valid = 0
        if self._sent >= len(self._plan) and self._decided >= self._sent:
            self.done = True

    def report(self) -> dict[str, Any]:
        return {"events": self.stim.events, "decisions": self._decided, "updates": self._decided,
                "spikes": self.passed, "expected_passed": int(self.stim.expected.sum()),
                "runs": len(self.stim.runs), **self.board.as_dict()}


# -- runs ----------------------------------------------------------------------------------------

def check_config(cfg: Mapping[str, Any]) -> tuple[DenoiserStimulus, DenoiserChecker]:
    """Stimulus and checker for a configuration dict (what the simulators receive).

    Keys: ``params`` (:class:`DenoiserParams` fields), ``steps`` (events), ``seed``; optional
    ``directed``, ``gap``, ``stall``, ``plant`` (the index of an event whose expected decision
    is flipped, which the run must report as its only mismatch), ``corrupt`` (the same,
    unannounced) and ``gate_level`` (sample at the falling clock edge, for netlists whose cell
    models switch a unit delay after the rising one).
    """
    p = DenoiserParams(**cfg["params"])
    stim = DenoiserStimulus(p, make_runs(p, int(cfg["steps"]), int(cfg["seed"]),
                                         directed=bool(cfg.get("directed", True))))
    apply_plant(cfg, stim)
    checker = DenoiserChecker(stim, seed=int(cfg["seed"]), gap=float(cfg.get("gap", 0.2)),
                              stall=float(cfg.get("stall", 0.2)))
    return stim, checker


def max_cycles(stim: DenoiserStimulus) -> int:
    """A generous bound on the cycles a run may take, even under heavy back-pressure."""
    return 20 * (stim.events + 4 * len(stim.runs)) + 1000


def verdict(cfg: Mapping[str, Any], report: Mapping[str, Any]) -> None:
    """Assert the run found exactly what it should: nothing, or exactly the planted error."""
    assert report["decisions"] == report["events"], (
        f"received {report['decisions']} decisions for {report['events']} events")
    plant = cfg.get("plant")
    assert_found(report, None if plant is None else (plant,), "pass")


def run_amaranth(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Run the checker in Amaranth's simulator on a freshly built filter; return the report."""
    from neurotile.rtl.denoiser import Denoiser

    stim, checker = check_config(cfg)
    dut = Denoiser(**stim.params.structural())
    return amaranth_loop(dut, checker, ports=component_ports, max_cycles=max_cycles(stim))


# -- cocotb entry point ------------------------------------------------------------------------

try:
    import cocotb
except ImportError:  # pragma: no cover - cocotb is a dependency; keep the models importable
    cocotb = None

if cocotb is not None:

    @cocotb.test()
    async def denoiser_check(dut: Any) -> None:
        """Every decision against the reference, with gaps, back-pressure and resets."""
        cfg = read_config()
        stim, checker = check_config(cfg)
        log.info("denoiser check: %d runs, %d events, seed %d", len(stim.runs), stim.events,
                 cfg["seed"])
        report = await cocotb_loop(dut, checker, max_cycles=max_cycles(stim),
                                   settle=bool(cfg.get("gate_level")))
        write_report(report)
        verdict(cfg, report)
