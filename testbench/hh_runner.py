# SPDX-License-Identifier: Apache-2.0
"""Cycle-level testbench of the Hodgkin-Huxley run controller
(:class:`neurotile.rtl.hh_runner.HHRunner`) against a reference model of its contract.

:class:`RunnerChecker` plays both sides of the runner: the host, which requests seeded runs of
0 to ``2**run_bits - 1`` steps (with random idle cycles between them) while changing ``current``
every cycle, and a stand-in neuron, which takes steps with random back-pressure and answers
each with a result after a random latency (random spike bits, random payload). Every cycle,
:class:`RunnerModel` says what ``run.ready``, ``busy``, ``step.valid`` and ``result.ready``
must be and the checker compares; every step payload must be the current of its cycle; at the
end of every run the number of steps and ``spiked`` are compared with what the run should have
produced. The same checker runs under cocotb (Icarus, Verilator) and Amaranth's simulator.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neurotile.neurons.hodgkin_huxley import CURRENT_WIDTH, HHIntParams
from neurotile.testbench.common import (
    Scoreboard,
    amaranth_loop,
    apply_plant,
    assert_found,
    cocotb_loop,
    read_config,
    write_report,
)

__all__ = ["RunnerModel", "RunnerStimulus", "make_stimulus", "RunnerChecker", "check_config",
           "run_amaranth", "run_sim", "verdict"]

log = logging.getLogger("neurotile.testbench.hh_runner")

_MASK = (1 << CURRENT_WIDTH) - 1


# -- reference model ----------------------------------------------------------------------------

class RunnerModel:
    """What :class:`~neurotile.rtl.hh_runner.HHRunner` must do, cycle by cycle.

    :meth:`outputs` gives the control outputs due in the current cycle (``step.valid`` may
    depend on whether a result is offered in it); :meth:`clock` advances the model by the
    transfers that happened in it.
    """

    def __init__(self) -> None:
        self.to_issue = 0       # steps of the run not yet handed over
        self.in_flight = False  # a step handed over, its result not yet in
        self.spiked = 0

    @property
    def idle(self) -> bool:
        return self.to_issue == 0 and not self.in_flight

    def outputs(self, *, result_valid: int) -> dict[str, int]:
        return {"run__ready": int(self.idle), "busy": int(not self.idle),
                "step__valid": int(self.to_issue != 0 and (not self.in_flight or
                                                           bool(result_valid))),
                "result__ready": 1}

    def clock(self, *, run: int | None, step: bool, result_spike: int | None) -> None:
        """``run``: the payload of an accepted run; ``step``: a step transferred;
        ``result_spike``: the spike bit of a result transferred."""
        if run is not None:
            self.to_issue = run
            self.spiked = 0
        if result_spike is not None and self.in_flight:
            self.in_flight = False
            self.spiked |= result_spike
        if step:
            self.to_issue -= 1
            self.in_flight = True


# -- stimulus ------------------------------------------------------------------------------------

@dataclass
class RunnerStimulus:
    """Seeded runs and the stand-in neuron's answers.

    ``runs[k]`` is the step count of run ``k``; ``spikes[k]`` the spike bits the neuron returns
    for its steps; ``expected[k]`` the ``spiked`` flag the run must end with.
    """

    run_bits: int
    runs: np.ndarray
    spikes: list[np.ndarray]
    expected: np.ndarray

    def plant_error(self, run: int) -> None:
        """Invert the expected ``spiked`` of one run, to show the checker reports it."""
        self.expected[run] ^= 1


def make_stimulus(run_bits: int, runs: int, seed: int, *, spike_rate: float = 0.15
                  ) -> RunnerStimulus:
    """``runs`` runs: 0 steps, one step, the longest run, then random lengths; each step's
    result spikes with probability ``spike_rate`` (so runs end with ``spiked`` both ways)."""
    rng = np.random.default_rng(seed)
    longest = (1 << run_bits) - 1
    lengths = rng.integers(0, longest + 1, runs)
    lengths[:3] = [0, 1, longest][:runs]
    spikes = [(rng.random(int(n)) < spike_rate).astype(np.int64) for n in lengths]
    expected = np.array([int(s.any()) for s in spikes], np.int64)
    return RunnerStimulus(run_bits, lengths, spikes, expected)


# -- checker -------------------------------------------------------------------------------------

class RunnerChecker:
    """Drive an :class:`~neurotile.rtl.hh_runner.HHRunner` as host and neuron; check it.

    ``gap``: probability per cycle that a due run is not yet offered; ``stall``: that the neuron
    does not take a step; results come 1 to ``latency`` cycles after their step.
    """

    sampled = ("run__valid", "run__ready", "step__valid", "step__ready", "step__payload",
               "result__valid", "result__ready", "busy", "spiked")

    def __init__(self, stim: RunnerStimulus, p: HHIntParams, *, seed: int, gap: float = 0.3,
                 stall: float = 0.3, latency: int = 6) -> None:
        from neurotile.rtl.hodgkin_huxley import output_layout

        self.stim = stim
        self.board = Scoreboard()
        self.model = RunnerModel()
        self.gap, self.stall, self.latency = gap, stall, latency
        self.rng = np.random.default_rng(seed + 1)
        self.layout = output_layout(p)
        self.spike_offset = self.layout["spike"].offset
        self.payload_bits = self.layout.size
        self.done = stim.runs.size == 0
        self.steps = 0
        self._run = -1              # the run in progress (accepted), or the last one
        self._next = 0              # the next run to offer
        self._offer = 0
        self._issued = 0            # steps of the current run the runner handed over
        self._answers: deque[int] = deque()   # spike bits of steps taken, not yet answered
        self._delays: deque[int] = deque()
        self._result: tuple[int, int] | None = None  # (spike, payload) being offered
        self._ended = True          # the current run's end has been checked
        self._current = 0
        self._reset = 2

    def _payload(self, spike: int) -> int:
        """A random result payload whose ``spike`` field is ``spike``."""
        bits = self.payload_bits
        word = int.from_bytes(self.rng.bytes((bits + 7) // 8), "little") & ((1 << bits) - 1)
        return (word & ~(1 << self.spike_offset)) | (spike << self.spike_offset)

    def drive(self) -> Mapping[str, int]:
        if self._reset:
            self._reset -= 1
            return {"rst": int(self._reset > 0), "run__valid": 0, "run__payload": 0,
                    "current": 0, "step__ready": 0, "result__valid": 0, "result__payload": 0}
        out: dict[str, int] = {}
        if self._next < self.stim.runs.size and not self._offer:
            self._offer = int(self.rng.random() >= self.gap)
        out["run__valid"] = self._offer
        if self._next < self.stim.runs.size:
            out["run__payload"] = int(self.stim.runs[self._next])
        self._current = int(self.rng.integers(-(1 << (CURRENT_WIDTH - 1)),
                                              1 << (CURRENT_WIDTH - 1)))
        out["current"] = self._current
        out["step__ready"] = int(self.rng.random() >= self.stall)
        if self._result is None and self._delays and self._delays[0] <= 0:
            self._delays.popleft()
            spike = self._answers.popleft()
            self._result = (spike, self._payload(spike))
        for i in range(len(self._delays)):
            self._delays[i] -= 1
        out["result__valid"] = int(self._result is not None)
        if self._result is not None:
            out["result__payload"] = self._result[1]
        return out

    def sample(self, v: Mapping[str, int]) -> None:
        if self._reset:
            return
        b, model = self.board, self.model
        run = max(self._run, 0)
        for name, want in model.outputs(result_valid=v["result__valid"]).items():
            b.compare(run, 0, name, want, v[name])
        if not self._ended and model.idle:
            self._end_of_run(v)
        accepted = None
        if v["run__valid"] and v["run__ready"]:
            self._run = self._next
            self._next += 1
            self._offer = 0
            self._issued = 0
            self._ended = False
            accepted = int(self.stim.runs[self._run])
        step = bool(v["step__valid"] and v["step__ready"])
        if step:
            b.compare(run, 0, "step current", self._current & _MASK,
                      v["step__payload"] & _MASK)
            spikes = self.stim.spikes[run]
            self._answers.append(int(spikes[self._issued]) if self._issued < spikes.size else 0)
            self._delays.append(int(self.rng.integers(0, self.latency)))
            self._issued += 1
            self.steps += 1
        result = None
        if self._result is not None and v["result__valid"] and v["result__ready"]:
            result = self._result[0]
            self._result = None
        model.clock(run=accepted, step=step, result_spike=result)
        if self._next >= self.stim.runs.size and self._ended and not self._answers \
                and self._result is None:
            self.done = True

    def _end_of_run(self, v: Mapping[str, int]) -> None:
        k = self._run
        self.board.checked += 1
        self.board.compare(k, 0, "steps", int(self.stim.runs[k]), self._issued)
        self.board.compare(k, 0, "spiked", int(self.stim.expected[k]), v["spiked"])
        self._ended = True

    def report(self) -> dict[str, Any]:
        return {"updates": self.board.checked, "steps": self.steps,
                "spiked_runs": int(self.stim.expected.sum()), **self.board.as_dict()}


# -- runs ------------------------------------------------------------------------------------------

def check_config(cfg: Mapping[str, Any]) -> tuple[RunnerStimulus, RunnerChecker]:
    """Stimulus and checker for a configuration dict.

    Keys: ``run_bits``, ``runs``, ``seed``, optional ``params`` (:class:`HHIntParams` fields, for
    the result layout), ``gap``, ``stall``, ``latency``, ``plant`` (the run whose expected
    ``spiked`` is inverted; the run must report it as its only mismatch) and ``corrupt`` (the
    same, unannounced: the run must fail).
    """
    stim = make_stimulus(int(cfg["run_bits"]), int(cfg["runs"]), int(cfg["seed"]))
    apply_plant(cfg, stim)
    p = HHIntParams(**cfg.get("params", {}))
    checker = RunnerChecker(stim, p, seed=int(cfg["seed"]), gap=float(cfg.get("gap", 0.3)),
                            stall=float(cfg.get("stall", 0.3)),
                            latency=int(cfg.get("latency", 6)))
    return stim, checker


def max_cycles(stim: RunnerStimulus) -> int:
    """A generous bound on the cycles a run may take."""
    return 40 * (int(stim.runs.sum()) + stim.runs.size) + 100


def verdict(cfg: Mapping[str, Any], stim: RunnerStimulus, report: Mapping[str, Any]) -> None:
    """Assert the run found exactly what it should: nothing, or exactly the planted error."""
    assert report["updates"] == stim.runs.size, (
        f"checked {report['updates']} runs, expected {stim.runs.size}")
    plant = cfg.get("plant")
    assert_found(report, None if plant is None else (int(plant),), "spiked")


def _ports(dut: Any, name: str) -> Any:
    obj = dut
    for part in name.split("__"):
        obj = getattr(obj, part)
    return obj.as_value() if hasattr(obj, "as_value") else obj


def build(cfg: Mapping[str, Any]) -> Any:
    """The runner a configuration describes."""
    from neurotile.rtl.hh_runner import HHRunner

    return HHRunner(HHIntParams(**cfg.get("params", {})), run_bits=int(cfg["run_bits"]))


def run_amaranth(cfg: Mapping[str, Any], dut: Any = None) -> dict[str, Any]:
    """Run the checker in Amaranth's simulator (on ``dut``, default :func:`build`)."""
    stim, checker = check_config(cfg)
    return amaranth_loop(build(cfg) if dut is None else dut, checker,
                         max_cycles=max_cycles(stim), ports=_ports)


def run_sim(sim: str, cfg: Mapping[str, Any], *, build_dir: str | Path) -> dict[str, Any]:
    """Run the checker through cocotb on ``sim`` (``icarus``, ``verilator``); return the report
    plus ``passed`` and ``run_dir``."""
    from neurotile.rtl.export import to_verilog
    from neurotile.testbench.runner import run_checker

    top = f"hh_runner_r{int(cfg['run_bits'])}"
    return run_checker(sim, verilog=to_verilog(build(cfg), name=top), top=top,
                       test_module=__name__, build_dir=build_dir, config=dict(cfg),
                       seed=int(cfg["seed"]))


# -- cocotb entry point ------------------------------------------------------------------------

try:
    import cocotb
except ImportError:  # pragma: no cover - cocotb is a dependency; keep the models importable
    cocotb = None

if cocotb is not None:

    @cocotb.test()
    async def hh_runner_check(dut: Any) -> None:
        """Every cycle of the run controller against its reference model."""
        cfg = read_config()
        stim, checker = check_config(cfg)
        log.info("HH runner check: %d runs, %d steps, seed %d", stim.runs.size,
                 int(stim.runs.sum()), cfg["seed"])
        report = await cocotb_loop(dut, checker, max_cycles=max_cycles(stim))
        write_report(report)
        verdict(cfg, stim, report)
