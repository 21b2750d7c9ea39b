# SPDX-License-Identifier: Apache-2.0
"""Cycle-level testbench of the Hodgkin-Huxley neuron against its integer reference model.

The stimulus (a current per Euler step, resets between or in the middle of steps) is prepared up
front from a seed; the expected V, m, h, n and spike flag of every step come from
:func:`neurotile.neurons.hodgkin_huxley.hh_int_run`. :class:`HHChecker` drives ``current`` and
``enable`` (low on random cycles, which delays steps), and compares every output each time
``done`` reports a finished step. The same checker runs under cocotb (Icarus, Verilator) and
Amaranth's simulator.

Reproduce a failing run with the command line, e.g.
``neurotile simulate hh --sim icarus --steps 2000 --seed 7``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from neurotile.neurons.hodgkin_huxley import CURRENT_WIDTH, HHIntParams, hh_int_run
from neurotile.testbench.common import (
    Scoreboard,
    amaranth_loop,
    apply_plant,
    assert_found,
    cocotb_loop,
    read_config,
    signed_field,
    write_report,
)

__all__ = [
    "HHStimulus",
    "make_stimulus",
    "HHChecker",
    "check_config",
    "run_amaranth",
    "run_gate_level",
    "verdict",
]

log = logging.getLogger("neurotile.testbench.hodgkin_huxley")

FIELDS = ("v", "m", "h", "n", "spike")
CURRENT_MIN = -(1 << (CURRENT_WIDTH - 1))
CURRENT_MAX = (1 << (CURRENT_WIDTH - 1)) - 1


# -- stimulus ----------------------------------------------------------------------------------

@dataclass
class HHStimulus:
    """A whole run: the current code of every step, where resets cut in, expected outputs.

    ``reset_after[t]``: after step ``t`` finishes, ``rst`` is asserted (possibly while the next
    step has already begun, which aborts it); step ``t+1`` starts from rest.
    """

    params: HHIntParams
    currents: np.ndarray
    reset_after: np.ndarray
    expected: dict[str, np.ndarray] | None = None

    @property
    def steps(self) -> int:
        return int(self.currents.shape[0])

    def compute_expected(self) -> None:
        """Run the reference model over the whole stimulus (fills :attr:`expected`)."""
        self.expected = _expected(self.params, self.currents, self.reset_after)

    def plant_error(self, step: int) -> None:
        """Change the expected V of one step by one LSB, to show the checker reports it."""
        v = self.expected["v"]
        v[step] += -1 if v[step] == self.params.v_max else 1


def _expected(p: HHIntParams, currents: np.ndarray, reset_after: np.ndarray) -> dict:
    out = {k: np.zeros(len(currents), dtype=np.int64) for k in FIELDS}
    start = 0
    ends = list(np.flatnonzero(reset_after)) + [len(currents) - 1]
    for end in ends:
        if end < start:
            continue
        run = hh_int_run(p, currents[start:end + 1])
        sl = slice(start, end + 1)
        for k in ("v", "m", "h", "n"):
            out[k][sl] = getattr(run, k)[:, 0]
        out["spike"][sl] = run.spikes[:, 0]
        start = end + 1
    return out


def make_stimulus(p: HHIntParams, steps: int, seed: int, *, directed: bool = True,
                  reset_rate: float = 0.0005, expected: bool = True) -> HHStimulus:
    """Seeded stimulus: directed current steps first (when ``directed``), then random episodes.

    Directed (in model time, so every ``dt`` sees the same story): 10 uA/cm^2 (repetitive
    firing), a jump to 25, then 0 (recovery), the most negative current (V saturates at -128 mV,
    the rate tables clamp at their low end), the most positive one, 6.5 uA/cm^2 near the onset of
    repetitive firing, and a reset. Random: episodes of 0.5-5 ms with currents drawn from the
    physiological range (-10..60 uA/cm^2), the full port range, or near the onset, and resets at
    random steps. With ``expected=False`` the reference model is left for
    :meth:`HHStimulus.compute_expected`.
    """
    rng = np.random.default_rng(seed)
    per_ms = 1000 / p.dt_us
    cur = np.zeros(steps, dtype=np.int64)
    reset_after = np.zeros(steps, dtype=bool)
    code = p.current_code
    t = 0

    def block(ms: float, value: int) -> None:
        nonlocal t
        n = min(steps - t, max(1, int(ms * per_ms)))
        cur[t:t + n] = value
        t += n

    if directed:
        for ms, value in ((6.0, code(10.0)), (3.0, code(25.0)), (2.0, 0), (2.0, CURRENT_MIN),
                          (1.5, CURRENT_MAX), (4.0, code(6.5))):
            if t < steps:
                block(ms, value)
        if t < steps:
            reset_after[t - 1] = True
    while t < steps:
        kind = rng.integers(0, 4)
        if kind == 0:
            value = rng.integers(CURRENT_MIN, CURRENT_MAX + 1)
        elif kind == 1:
            value = code(rng.uniform(6.0, 7.0))
        else:
            value = code(rng.uniform(-10.0, 60.0))
        start = t
        block(rng.uniform(0.5, 5.0), int(value))
        hits = rng.random(t - start) < reset_rate
        reset_after[start:t] |= hits
    reset_after[-1] = False
    stim = HHStimulus(p, cur, reset_after)
    if expected:
        stim.compute_expected()
    return stim


# -- checker -----------------------------------------------------------------------------------

class HHChecker:
    """Drive a :class:`~neurotile.rtl.hodgkin_huxley.HHNeuron` and check every finished step.

    ``gap`` is the probability that ``enable`` is low on a cycle (a step due on that cycle is
    delayed). The current of step ``t`` is driven from the cycle after step ``t-1`` started, so
    it is in place whenever the hardware begins step ``t``.
    """

    sampled = ("start", "done", "v", "m", "h", "n", "spike")

    def __init__(self, stim: HHStimulus, *, seed: int, gap: float = 0.1,
                 reset_cycles: int = 2) -> None:
        self.stim = stim
        self.p = stim.params
        self.gap = gap
        self.reset_cycles = reset_cycles
        self.board = Scoreboard()
        self.spikes = 0
        self.started = 0
        self.finished = 0
        self.done = stim.steps == 0
        self._reset_due = True  # every run starts from a reset, as on real hardware
        self._in_reset = 0
        self._coins = np.random.default_rng(seed + 1).random(1 << 16)
        self._coin = 0

    def _flip(self, prob: float) -> bool:
        self._coin = (self._coin + 1) & 0xFFFF
        return bool(self._coins[self._coin] < prob)

    def drive(self) -> Mapping[str, int]:
        out: dict[str, int] = {}
        if self._in_reset:
            self._in_reset -= 1
            if self._in_reset:
                return out
            out["rst"] = 0
        elif self._reset_due:
            self._reset_due = False
            self._in_reset = self.reset_cycles
            self.started = self.finished  # a step begun before the reset is aborted
            return {"rst": 1, "enable": 0}
        step = min(self.started, self.stim.steps - 1)
        out["current"] = int(self.stim.currents[step])
        out["enable"] = 0 if self._flip(self.gap) or self.started >= self.stim.steps else 1
        return out

    def sample(self, values: Mapping[str, int]) -> None:
        if self._in_reset:
            return
        if values["start"]:
            self.started += 1
        if values["done"]:
            self._check(self.finished, values)
            if self.stim.reset_after[self.finished]:
                self._reset_due = True
            self.finished += 1
            if self.finished >= self.stim.steps:
                self.done = True

    def _check(self, t: int, values: Mapping[str, int]) -> None:
        p, exp, b = self.p, self.stim.expected, self.board
        b.checked += 1
        b.compare(t, 0, "v", exp["v"][t], signed_field(values["v"], 0, p.v_width))
        for gate in ("m", "h", "n"):
            b.compare(t, 0, gate, exp[gate][t], values[gate] & p.gate_max)
        b.compare(t, 0, "spike", exp["spike"][t], values["spike"])
        self.spikes += int(values["spike"])

    def report(self) -> dict[str, Any]:
        return {"updates": self.board.checked, "spikes": self.spikes,
                "resets": int(self.stim.reset_after.sum()), **self.board.as_dict()}


# -- runs ----------------------------------------------------------------------------------------

def check_config(cfg: Mapping[str, Any]) -> tuple[HHStimulus, HHChecker]:
    """Stimulus and checker for a configuration dict (what the simulators receive).

    Keys: ``params`` (:class:`HHIntParams` fields), ``steps``, ``seed``, optional ``directed``,
    ``gap``, ``reset_rate``, ``plant`` (the step whose expected V is made wrong; the run must
    report it as its only mismatch), ``corrupt`` (the same error, unannounced: the run must
    fail) and ``gate_level`` (sample at the falling clock edge, for netlists with cell delays).
    """
    p = HHIntParams(**cfg.get("params", {}))
    stim = make_stimulus(p, int(cfg["steps"]), int(cfg["seed"]),
                         directed=bool(cfg.get("directed", True)),
                         reset_rate=float(cfg.get("reset_rate", 0.0005)))
    apply_plant(cfg, stim)
    checker = HHChecker(stim, seed=int(cfg["seed"]), gap=float(cfg.get("gap", 0.1)))
    return stim, checker


def max_cycles(stim: HHStimulus) -> int:
    """A generous bound on the cycles a run may take (enable gaps, resets, aborted steps)."""
    from neurotile.rtl.hodgkin_huxley import cycles_per_step

    resets = int(stim.reset_after.sum()) + 1
    return 2 * (cycles_per_step(stim.params) + 2) * (stim.steps + resets) + 100


def verdict(cfg: Mapping[str, Any], stim: HHStimulus, report: Mapping[str, Any]) -> None:
    """Assert the run found exactly what it should: nothing, or exactly the planted error."""
    assert report["updates"] == stim.steps, (
        f"checked {report['updates']} steps, expected {stim.steps}")
    plant = cfg.get("plant")
    assert_found(report, None if plant is None else (int(plant),), "v")


def _ports(dut: Any, name: str) -> Any:
    return getattr(dut, name)


def run_amaranth(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Run the checker in Amaranth's simulator on a freshly built neuron; return the report."""
    from neurotile.rtl.hodgkin_huxley import HHNeuron

    stim, checker = check_config(cfg)
    dut = HHNeuron(**stim.params.structural())
    return amaranth_loop(dut, checker, max_cycles=max_cycles(stim), ports=_ports)


def run_gate_level(netlist: str | Path, *, top: str, params: Mapping[str, Any], steps: int,
                   seed: int, build_dir: str | Path, **options: Any) -> dict[str, Any]:
    """Run the same check on a synthesised netlist (Icarus, sky130 functional cell models with
    TinyTapeout's defines and power pins); return the report plus ``passed`` and ``run_dir``.

    ``params`` are :class:`HHIntParams` fields; ``options`` go into the configuration. Unknown
    (``x``) outputs read as random bits, so an ``x`` reaching a checked output is a mismatch.
    """
    from neurotile.flows.gatelevel import bundle
    from neurotile.testbench.runner import run_checker

    cfg = {"params": dict(params), "steps": steps, "seed": seed, "gate_level": True, **options}
    return run_checker("icarus", verilog=bundle(netlist, top=top, power_pins=True), top=top,
                       test_module=__name__, build_dir=build_dir, config=cfg, seed=seed,
                       extra_env={"COCOTB_RESOLVE_X": "random"})


# -- cocotb entry point ------------------------------------------------------------------------

try:
    import cocotb
except ImportError:  # pragma: no cover - cocotb is a dependency; keep the models importable
    cocotb = None

if cocotb is not None:

    @cocotb.test()
    async def hh_check(dut: Any) -> None:
        """V, m, h, n and the spike flag of every Euler step against the integer reference."""
        cfg = read_config()
        stim, checker = check_config(cfg)
        log.info("HH check: %d steps, %d resets, seed %d", stim.steps,
                 int(stim.reset_after.sum()), cfg["seed"])
        report = await cocotb_loop(dut, checker, max_cycles=max_cycles(stim),
                                   settle=bool(cfg.get("gate_level")))
        write_report(report)
        verdict(cfg, stim, report)
