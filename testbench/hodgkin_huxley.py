# SPDX-License-Identifier: Apache-2.0
"""Cycle-level testbench of the Hodgkin-Huxley neuron against its integer reference model.

The stimulus (a current per Euler step, resets between or in the middle of steps) is prepared up
front from a seed; the expected V, m, h, n and spike flag of every step come from
:func:`neurotile.neurons.hodgkin_huxley.hh_int_run`. :class:`HHChecker` offers the currents on
the neuron's ``current`` stream with random gaps, reads its ``output`` stream with random
back-pressure, and compares every output transfer (decoded with
:func:`~neurotile.rtl.hodgkin_huxley.output_layout`) with the expectation of its step. The same
checker runs under cocotb (Icarus, Verilator) and Amaranth's simulator.

Reproduce a failing run with the command line, e.g.
``neurotile simulate hh --sim icarus --steps 2000 --seed 7``.
"""

from __future__ import annotations

import logging
from collections import deque
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
    write_report,
)

__all__ = [
    "HHStimulus",
    "make_stimulus",
    "HHChecker",
    "decode_output",
    "check_config",
    "run_amaranth",
    "run_gate_level",
    "verdict",
]

log = logging.getLogger("neurotile.testbench.hodgkin_huxley")

FIELDS = ("v", "m", "h", "n", "spike")
#: Output payload fields besides the state: constant for a population of one neuron.
FRAMING = {"index": 0, "last": 1}
CURRENT_MIN = -(1 << (CURRENT_WIDTH - 1))
CURRENT_MAX = (1 << (CURRENT_WIDTH - 1)) - 1


# -- stimulus ----------------------------------------------------------------------------------

@dataclass
class HHStimulus:
    """A whole run: the current code of every step, where resets cut in, expected outputs.

    ``reset_after[t]``: after the output of step ``t`` is read, ``rst`` is asserted (the
    cycle checker may first let the next step begin, which the reset then aborts); step ``t+1``
    starts from rest.
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

def field_slices(p: HHIntParams) -> dict[str, tuple[int, int, bool]]:
    """``{field: (offset, width, signed)}`` of the output payload, from :func:`output_layout`."""
    from neurotile.rtl.hodgkin_huxley import output_layout

    return {name: (f.offset, f.shape.width, f.shape.signed) for name, f in output_layout(p)}


def decode_output(p: HHIntParams, payload: int) -> dict[str, int]:
    """Split an ``output`` payload into its fields (signed ones as two's complement)."""
    out = {}
    for name, (offset, width, is_signed) in field_slices(p).items():
        raw = (payload >> offset) & ((1 << width) - 1)
        out[name] = raw - (1 << width) if is_signed and raw >> (width - 1) else raw
    return out


def rest_payload(p: HHIntParams) -> int:
    """The ``output`` payload of a neuron at rest (its value after reset)."""
    s = p.initial_state(1)
    values = {"spike": 0, "v": int(s.v[0]), "m": int(s.m[0]), "h": int(s.h[0]),
              "n": int(s.n[0]), **FRAMING}
    word = 0
    for name, (offset, width, _signed) in field_slices(p).items():
        word |= (values[name] & ((1 << width) - 1)) << offset
    return word


class HHChecker:
    """Drive a :class:`~neurotile.rtl.hodgkin_huxley.HHNeuron` and check every output.

    ``gap`` is the probability that no current is offered on a cycle (once offered, a current
    stays valid until taken); ``stall`` the probability that the output is not read on a cycle
    (back-pressure). At a reset point, the next step's current is offered for a random number of
    cycles shorter than a step once the output before it has been read, then ``rst`` is asserted:
    a step that began meanwhile is aborted, and its current is offered again from rest.

    Besides every output transfer, the checker holds the neuron to the rest of its contract:
    the payload of a waiting output does not change until it is read, and whenever a step could
    start (``current.ready``) with no output waiting, the payload shows the state of the latest
    step (the rest state after reset).
    """

    sampled = ("current__valid", "current__ready", "output__valid", "output__ready",
               "output__payload")

    def __init__(self, stim: HHStimulus, *, seed: int, gap: float = 0.1, stall: float = 0.1,
                 reset_cycles: int = 2) -> None:
        from neurotile.rtl.hodgkin_huxley import cycles_per_step

        self.stim = stim
        self.p = stim.params
        self.gap, self.stall = gap, stall
        self.reset_cycles = reset_cycles
        self.board = Scoreboard()
        self.spikes = 0
        self.aborted = 0
        self.done = stim.steps == 0
        self._next = 0                 # the step whose current is offered next
        self._pending: deque[int] = deque()
        self._received = 0
        self._valid = 0
        self._in_reset = 0
        self._reset_due = True         # every run starts from a reset, as on real hardware
        self._linger = 0               # cycles left before a due reset is asserted
        self._held: int | None = None  # payload of the output waiting to be read
        self._state = rest_payload(self.p)
        self._rest = self._state
        self._cps = cycles_per_step(self.p)
        rng = np.random.default_rng(seed + 1)
        self._coins = rng.random(1 << 16)
        self._coin = 0
        self._lingers = rng.integers(0, self._cps - 1, 1 << 10)
        self._linger_i = 0

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
        elif self._reset_due and not self._pending:
            if self._linger:
                self._linger -= 1
            else:
                self._reset_due = False
                self._in_reset = self.reset_cycles
                self._valid = 0
                self._state = self._rest
                self._held = None
                return {"rst": 1, "current__valid": 0, "output__ready": 0}
        if self._next < self.stim.steps and not self._valid:
            self._valid = 0 if self._flip(self.gap) else 1
        if self._next < self.stim.steps:
            out["current__payload"] = int(self.stim.currents[self._next])
        out["current__valid"] = self._valid
        out["output__ready"] = 0 if self._flip(self.stall) else 1
        return out

    def sample(self, v: Mapping[str, int]) -> None:
        if self._in_reset:
            return
        payload = v["output__payload"]
        if v["output__valid"]:
            if self._held is None:
                self._held = payload
            elif payload != self._held:
                self.board.compare(self._received, 0, "held output", self._held, payload)
        elif v["current__ready"] and payload != self._state:
            self.board.compare(self._received, 0, "idle state", self._state, payload)
        if v["output__valid"] and v["output__ready"]:
            self._check(payload)
            self._held = None
        if v["current__valid"] and v["current__ready"]:
            self._valid = 0
            if self._reset_due and not self._pending:
                self.aborted += 1  # a step the coming reset aborts; offered again from rest
            else:
                self._pending.append(self._next)
                self._next += 1
        if self._received >= self.stim.steps:
            self.done = True

    def _check(self, payload: int) -> None:
        b = self.board
        if not self._pending:
            b.compare(-1, 0, "unexpected output", 0, 1)
            return
        t = self._pending.popleft()
        got = decode_output(self.p, payload)
        exp = self.stim.expected
        b.checked += 1
        for name in FIELDS:
            b.compare(t, 0, name, exp[name][t], got[name])
        for name, value in FRAMING.items():
            b.compare(t, 0, name, value, got[name])
        self.spikes += got["spike"]
        self._state = payload
        self._received += 1
        if self.stim.reset_after[t]:
            self._reset_due = True
            self._linger = int(self._lingers[self._linger_i])
            self._linger_i = (self._linger_i + 1) & 0x3FF

    def report(self) -> dict[str, Any]:
        return {"updates": self.board.checked, "spikes": self.spikes,
                "resets": int(self.stim.reset_after.sum()), "aborted": self.aborted,
                **self.board.as_dict()}


# -- runs ----------------------------------------------------------------------------------------

def check_config(cfg: Mapping[str, Any]) -> tuple[HHStimulus, HHChecker]:
    """Stimulus and checker for a configuration dict (what the simulators receive).

    Keys: ``params`` (:class:`HHIntParams` fields), ``steps``, ``seed``, optional ``directed``,
    ``gap``, ``stall``, ``reset_rate``, ``plant`` (the step whose expected V is made wrong; the
    run must report it as its only mismatch), ``corrupt`` (the same error, unannounced: the run
    must fail) and ``gate_level`` (sample at the falling clock edge, for netlists with cell
    delays).
    """
    p = HHIntParams(**cfg.get("params", {}))
    stim = make_stimulus(p, int(cfg["steps"]), int(cfg["seed"]),
                         directed=bool(cfg.get("directed", True)),
                         reset_rate=float(cfg.get("reset_rate", 0.0005)))
    apply_plant(cfg, stim)
    checker = HHChecker(stim, seed=int(cfg["seed"]), gap=float(cfg.get("gap", 0.1)),
                        stall=float(cfg.get("stall", 0.1)))
    return stim, checker


def max_cycles(stim: HHStimulus) -> int:
    """A generous bound on the cycles a run may take (gaps, stalls, resets, aborted steps)."""
    from neurotile.rtl.hodgkin_huxley import cycles_per_step

    resets = int(stim.reset_after.sum()) + 1
    return 3 * (cycles_per_step(stim.params) + 4) * (stim.steps + resets) + 100


def verdict(cfg: Mapping[str, Any], stim: HHStimulus, report: Mapping[str, Any]) -> None:
    """Assert the run found exactly what it should: nothing, or exactly the planted error."""
    assert report["updates"] == stim.steps, (
        f"checked {report['updates']} steps, expected {stim.steps}")
    plant = cfg.get("plant")
    assert_found(report, None if plant is None else (int(plant),), "v")


def _ports(dut: Any, name: str) -> Any:
    """Map a Verilog port name of :class:`HHNeuron` (``output__payload``) to its signal."""
    obj = dut
    for part in name.split("__"):
        obj = getattr(obj, part)
    return obj.as_value() if hasattr(obj, "as_value") else obj


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
