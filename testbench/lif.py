# SPDX-License-Identifier: Apache-2.0
"""Cycle-level testbench of the LIF population against the integer reference model.

The stimulus (currents, run-time settings, resets in the middle of a timestep) is prepared up
front from a seed; the expected output of every neuron-update comes from
:func:`neurotile.neurons.lif.lif_int_run`. :class:`LIFChecker` drives the DUT's streams with
random gaps and back-pressure and compares every output (spike, membrane, index, last) it
receives. The same checker runs under cocotb (Icarus, Verilator) and Amaranth's simulator.

Reproduce a failing run with the command line, e.g.
``neurotile simulate lif --neurons 32 --sim icarus --steps 2000 --seed 7``.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurotile.neurons.lif import LIFIntParams, LIFIntState, lif_int_run
from neurotile.testbench.common import (
    Scoreboard,
    apply_plant,
    assert_found,
    amaranth_loop,
    cocotb_loop,
    read_config,
    signed_field,
    write_report,
)

__all__ = [
    "LIFStimulus",
    "make_stimulus",
    "LIFChecker",
    "lif_ports",
    "decode_output",
    "check_config",
    "stimulus_of",
    "run_amaranth",
]

log = logging.getLogger("neurotile.testbench.lif")

_RESET = "reset"  # plan item: assert rst once every earlier output has been received


# -- stimulus ----------------------------------------------------------------------------------

@dataclass
class LIFStimulus:
    """A whole run: inputs per timestep, where resets cut in, and the expected outputs.

    ``cut[t] = k`` (``0 <= k <= neurons``) means only neurons ``0..k-1`` of step ``t`` are sent,
    then ``rst`` is asserted; step ``t+1`` starts from the reset state. ``cut[t] = -1``: no reset.
    """

    params: LIFIntParams
    currents: np.ndarray
    threshold: np.ndarray
    leak: np.ndarray
    refractory: np.ndarray
    cut: np.ndarray
    expected_mem: np.ndarray
    expected_spike: np.ndarray

    @property
    def steps(self) -> int:
        return self.currents.shape[0]

    @property
    def updates(self) -> int:
        """Neuron-updates the run checks."""
        n = self.params.neurons
        return int(sum(n if k < 0 else k for k in self.cut))

    def compute_expected(self) -> None:
        """Run the reference model over the stimulus (resets included)."""
        self.expected_mem, self.expected_spike = _expected(
            self.params, self.currents, self.threshold, self.leak, self.refractory, self.cut)

    def plant_error(self, step: int, neuron: int) -> None:
        """Change one expected membrane by one LSB, to show the checker reports it."""
        p = self.params
        self.expected_mem[step, neuron] += -1 if self.expected_mem[step, neuron] == p.mem_max else 1


def _expected(p: LIFIntParams, currents, threshold, leak, refractory, cut):
    mem = np.zeros_like(currents)
    spk = np.zeros(currents.shape, dtype=bool)
    start = 0
    state = LIFIntState.zeros(p.neurons)
    ends = [t for t in range(len(cut)) if cut[t] >= 0] + [len(cut) - 1]
    for end in ends:
        if end < start:
            continue
        sl = slice(start, end + 1)
        mem[sl], spk[sl], _ = lif_int_run(
            p, currents[sl], state=state,
            threshold=threshold[sl], leak=leak[sl], refractory=refractory[sl])
        start = end + 1
    return mem, spk


def make_stimulus(p: LIFIntParams, steps: int, seed: int, *, directed: bool = True,
                  reset_rate: float = 0.002, expected: bool = True) -> LIFStimulus:
    """Seeded stimulus: directed corner cases first (when ``directed``), then random steps.

    Directed: maximum and minimum input until the membrane saturates (threshold at its maximum so
    nothing fires), inputs landing exactly on the threshold and one above it (strict compare),
    refractory at its maximum under strong input, a threshold and leak change, and a reset in the
    middle of a timestep. Random: currents from several distributions (full range, near the
    threshold, sparse bursts, silence), run-time settings that change at step boundaries, and
    resets at random points. With ``expected=False`` the reference model is not run yet (call
    :meth:`LIFStimulus.compute_expected`, e.g. while a simulator runs).
    """
    rng = np.random.default_rng(seed)
    n = p.neurons
    lo, hi = p.input_min, p.input_max
    cur = np.zeros((steps, n), np.int64)
    th = np.full(steps, p.threshold, np.int64)
    lk = np.full(steps, p.leak_value, np.int64)
    rf = np.full(steps, p.refractory, np.int64)
    cut = np.full(steps, -1, np.int64)
    leak_max = (1 << p.leak_port_width) - 1

    t = 0

    def block(length: int) -> slice | None:
        nonlocal t
        if t + length > steps:
            return None
        s = slice(t, t + length)
        t += length
        return s

    if directed:
        sat = 2 * ((p.mem_max - p.mem_min) // max(1, hi) + 2)
        s = block(sat)  # saturate upward: nothing can fire above the maximum threshold
        if s:
            cur[s], th[s] = hi, p.mem_max
            cut[s.stop - 1] = n
        s = block(sat)  # saturate downward
        if s:
            cur[s] = lo
            th[s] = p.mem_max
            cut[s.stop - 1] = n
        edge = min(p.threshold, hi - 1)
        if edge >= 0:
            s = block(1)  # from the reset state: v == th must not fire, v == th + 1 must
            if s:
                th[s] = edge
                cur[s] = np.where(np.arange(n) % 2 == 0, edge, edge + 1)
                cut[s.stop - 1] = n
        s = block(12)  # refractory at its maximum under strong input
        if s:
            cur[s], rf[s], th[s] = hi, p.refractory_max, max(0, min(p.threshold, hi // 2))
        s = block(8)  # run-time change of threshold and leak, then a reset mid-step
        if s:
            cur[s] = rng.integers(0, hi + 1, (8, n))
            th[s.start + 4:s.stop] = rng.integers(0, p.mem_max + 1)
            lk[s.start + 4:s.stop] = rng.integers(0, leak_max + 1)
            cut[s.stop - 1] = n // 2

    # Random steps, in episodes with their own settings and input statistics.
    while t < steps:
        length = int(min(steps - t, rng.integers(5, 60)))
        s = block(length)
        assert s is not None
        kind = rng.integers(0, 4)
        if kind == 0:
            c = rng.integers(lo, hi + 1, (length, n))
        elif kind == 1:
            centre = max(1, min(hi, p.mem_max) // 3)
            c = rng.integers(-centre // 2, centre + 1, (length, n))
        elif kind == 2:
            c = np.where(rng.random((length, n)) < 0.1, rng.integers(lo, hi + 1, (length, n)), 0)
        else:
            c = rng.integers(min(0, lo // 8), max(1, hi // 4) + 1, (length, n))
        cur[s] = np.clip(c, lo, hi)
        th[s] = rng.integers(0, p.mem_max + 1) if rng.random() < 0.2 else rng.integers(
            0, max(1, p.mem_max // 2) + 1)
        lk[s] = rng.integers(0, leak_max + 1) if rng.random() < 0.3 else p.leak_value
        rf[s] = rng.integers(0, p.refractory_max + 1)
        resets = rng.random(length) < reset_rate
        for i in np.flatnonzero(resets):
            cut[s.start + i] = rng.integers(0, n + 1)

    cut[-1] = -1 if cut[-1] == n else cut[-1]
    stim = LIFStimulus(p, cur, th, lk, rf, cut, None, None)  # type: ignore[arg-type]
    if expected:
        stim.compute_expected()
    return stim


# -- ports and payload -------------------------------------------------------------------------

def decode_output(p: LIFIntParams, payload: int) -> tuple[int, int, int, int]:
    """Split the ``spikes`` payload into ``(spike, membrane, index, last)``."""
    index_bits = max(1, (p.neurons - 1).bit_length())
    spike = payload & 1
    membrane = signed_field(payload, 1, p.width)
    index = (payload >> (1 + p.width)) & ((1 << index_bits) - 1)
    last = (payload >> (1 + p.width + index_bits)) & 1
    return spike, membrane, index, last


def lif_ports(dut: Any, name: str) -> Any:
    """Map a Verilog port name of :class:`LIFPopulation` to its Amaranth signal."""
    obj = dut
    for part in name.split("__"):
        obj = getattr(obj, part)
    return obj.as_value() if hasattr(obj, "as_value") else obj


# -- checker -----------------------------------------------------------------------------------

class LIFChecker:
    """Drive a :class:`~neurotile.rtl.lif.LIFPopulation` with a stimulus and check every output.

    ``gap`` is the probability that no input is offered on a cycle; ``stall`` the probability
    that the output is not read (back-pressure). Both come from their own seeded generator.
    """

    def __init__(self, stim: LIFStimulus, *, seed: int, gap: float = 0.2, stall: float = 0.2,
                 reset_cycles: int = 2) -> None:
        self.stim = stim
        self.p = stim.params
        self.rng = np.random.default_rng(seed + 1)
        self.gap, self.stall = gap, stall
        self.reset_cycles = reset_cycles
        self.board = Scoreboard()
        self.spikes = 0
        self.received = 0
        self.sampled = ("current__valid", "current__ready", "spikes__valid", "spikes__ready",
                        "spikes__payload")
        self.done = False
        self._plan = self._items()
        self._next: Any = _RESET  # every run starts from a reset, as on real hardware
        self._pending: deque[tuple[int, int]] = deque()
        self._valid = 0
        self._in_reset = 0
        self._settings: dict[str, int] = {}
        self._has_refractory = self.p.refractory_width > 0
        # Pre-draw the random gap/stall decisions in bulk; cycling through them is cheap.
        self._coins = self.rng.random(1 << 16)
        self._coin = 0

    def _items(self):
        n = self.p.neurons
        for t in range(self.stim.steps):
            k = int(self.stim.cut[t])
            for i in range(n if k < 0 else k):
                yield (t, i)
            if k >= 0:
                yield _RESET

    def _flip(self, prob: float) -> bool:
        self._coin = (self._coin + 1) & 0xFFFF
        return self._coins[self._coin] < prob

    def drive(self) -> Mapping[str, int]:
        out: dict[str, int] = {}
        if self._in_reset:
            self._in_reset -= 1
            if self._in_reset:
                return out
            out["rst"] = 0
        item = self._next
        if item is _RESET:
            self._valid = 0
            if not self._pending:  # every output of the cut step is in: reset now
                self._next = next(self._plan, None)
                self._in_reset = self.reset_cycles
                return {"rst": 1, "current__valid": 0, "spikes__ready": 0}
        elif item is not None:
            t, i = item
            if not self._valid:  # once offered, an input stays valid until it is taken
                self._valid = 0 if self._flip(self.gap) else 1
            settings = {"threshold": int(self.stim.threshold[t]), "leak": int(self.stim.leak[t])}
            if self._has_refractory:
                settings["refractory"] = int(self.stim.refractory[t])
            for k, v in settings.items():
                if self._settings.get(k) != v:
                    out[k] = self._settings[k] = v
            out["current__payload"] = int(self.stim.currents[t, i])
        out["current__valid"] = self._valid
        out["spikes__ready"] = 0 if self._flip(self.stall) else 1
        return out

    def sample(self, v: Mapping[str, int]) -> None:
        if self._in_reset:
            return
        if v["current__valid"] and v["current__ready"]:
            self._pending.append(self._next)  # type: ignore[arg-type]
            self._valid = 0
            self._next = next(self._plan, None)
        if v["spikes__valid"] and v["spikes__ready"]:
            self._check(v["spikes__payload"])
        if self._next is None and not self._pending:
            self.done = True

    def _check(self, payload: int) -> None:
        if not self._pending:
            self.board.compare(-1, -1, "unexpected output", 0, 1)
            return
        t, i = self._pending.popleft()
        spike, membrane, index, last = decode_output(self.p, payload)
        b = self.board
        b.checked += 1
        b.compare(t, i, "index", i, index)
        b.compare(t, i, "last", int(i == self.p.neurons - 1), last)
        b.compare(t, i, "spike", int(self.stim.expected_spike[t, i]), spike)
        b.compare(t, i, "membrane", int(self.stim.expected_mem[t, i]), membrane)
        self.spikes += spike
        self.received += 1

    def report(self) -> dict[str, Any]:
        return {"updates": self.received, "spikes": self.spikes, **self.board.as_dict()}


# -- runs ----------------------------------------------------------------------------------------

def stimulus_of(cfg: Mapping[str, Any], *, expected: bool = True) -> LIFStimulus:
    """The stimulus a configuration describes (see :func:`check_config`)."""
    p = LIFIntParams(**cfg["params"])
    return make_stimulus(p, int(cfg["steps"]), int(cfg["seed"]),
                         directed=bool(cfg.get("directed", True)),
                         reset_rate=float(cfg.get("reset_rate", 0.002)), expected=expected)


def check_config(cfg: Mapping[str, Any]) -> tuple[LIFStimulus, LIFChecker]:
    """Stimulus and checker for a configuration dict (what the simulators receive).

    Keys: ``params`` (:class:`LIFIntParams` fields), ``steps``, ``seed``, optional ``directed``,
    ``gap``, ``stall``, ``reset_rate``, ``plant`` (``[step, neuron]`` of a planted error the run
    must report as its only mismatch), ``corrupt`` (the same error, unannounced: the run must
    fail), ``gate_level`` (sample outputs at the falling edge, for netlists) and ``storage`` (the
    population's state storage, for the Amaranth simulator).
    """
    stim = stimulus_of(cfg)
    apply_plant(cfg, stim)
    checker = LIFChecker(stim, seed=int(cfg["seed"]), gap=float(cfg.get("gap", 0.2)),
                         stall=float(cfg.get("stall", 0.2)))
    return stim, checker


def _max_cycles(stim: LIFStimulus) -> int:
    return 20 * stim.updates + 8 * stim.params.neurons * (1 + int((stim.cut >= 0).sum())) + 100


def _verdict(cfg: Mapping[str, Any], stim: LIFStimulus, report: Mapping[str, Any]) -> None:
    """Assert the run found exactly what it should: nothing, or exactly the planted error."""
    assert report["updates"] == stim.updates, (
        f"received {report['updates']} outputs, expected {stim.updates}")
    assert_found(report, cfg.get("plant"), "membrane")


def run_amaranth(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Run the checker in Amaranth's simulator on a freshly built population; return the report."""
    from neurotile.rtl.lif import LIFPopulation

    stim, checker = check_config(cfg)
    dut = LIFPopulation(**stim.params.structural(), storage=cfg.get("storage", "memory"))
    return amaranth_loop(dut, checker, max_cycles=_max_cycles(stim), ports=lif_ports)


# -- cocotb entry point ------------------------------------------------------------------------

try:
    import cocotb
except ImportError:  # pragma: no cover - cocotb is a dependency; keep the models importable
    cocotb = None

if cocotb is not None:

    @cocotb.test()
    async def lif_check(dut: Any) -> None:
        """Every output of the population against the integer reference, with random stalls."""
        cfg = read_config()
        stim, checker = check_config(cfg)
        log.info("LIF check: %d steps, %d neuron-updates, seed %d", stim.steps, stim.updates,
                 cfg["seed"])
        report = await cocotb_loop(dut, checker, max_cycles=_max_cycles(stim),
                                   settle=bool(cfg.get("gate_level")))
        write_report(report)
        _verdict(cfg, stim, report)
