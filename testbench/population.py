# SPDX-License-Identifier: Apache-2.0
"""Cycle-level checking of any population (:class:`neurotile.rtl.population.Population`).

One checker for every neuron model: the stimulus (currents, run-time settings, resets in the
middle of a timestep) is prepared from a seed and the model's own directed episodes; the expected
output of every neuron-update comes from the model's integer reference
(:func:`neurotile.neurons.spec.run_model`). :class:`PopulationChecker` drives the ``current``
stream with random gaps, reads ``output`` with random back-pressure and compares every field of
every result, decoded with the payload layout. The same checker runs under cocotb (Icarus,
Verilator) and Amaranth's simulator.
"""

from __future__ import annotations

import importlib
import logging
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurotile.neurons.spec import NeuronConfig, get_model, run_model
from neurotile.testbench.common import (
    Scoreboard,
    amaranth_loop,
    apply_plant,
    assert_found,
    cocotb_loop,
    read_config,
    write_report,
)

__all__ = ["Stimulus", "make_stimulus", "config_of", "payload_fields", "decode_payload",
           "planted_field", "PopulationChecker", "check_config", "stimulus_of", "run_amaranth",
           "max_cycles", "model_ref"]

log = logging.getLogger("neurotile.testbench.population")

_RESET = "reset"  # plan item: assert rst once every earlier output has been received


# -- payload -----------------------------------------------------------------------------------

def payload_fields(config: NeuronConfig) -> list[tuple[str, int, int, bool]]:
    """``(name, lsb, width, signed)`` of every field of the output payload, from its layout."""
    from neurotile.rtl.population import output_layout

    out = []
    for name, member in output_layout(config):
        shape = member.shape
        out.append((name, member.offset, shape.width, bool(shape.signed)))
    return out


def decode_payload(fields: list[tuple[str, int, int, bool]], payload: int) -> dict[str, int]:
    """Split a payload into its fields (two's complement where signed)."""
    out = {}
    for name, lsb, width, signed in fields:
        raw = (payload >> lsb) & ((1 << width) - 1)
        out[name] = raw - (1 << width) if signed and raw >> (width - 1) else raw
    return out


def planted_field(config: NeuronConfig) -> str:
    """The output field a planted error changes: the first multi-bit one (else the first)."""
    fields = config.output_fields()
    return next((f.name for f in fields if f.width > 1), fields[0].name)


# -- stimulus ----------------------------------------------------------------------------------

@dataclass
class Stimulus:
    """A whole run: inputs per timestep, settings per step, where resets cut in, expectations.

    ``cut[t] = k`` (``0 <= k <= neurons``) means only neurons ``0..k-1`` of step ``t`` are sent,
    then ``rst`` is asserted; step ``t+1`` starts from the reset state. ``cut[t] = -1``: no
    reset. ``settings`` holds one ``[steps]`` array per setting port.
    """

    config: NeuronConfig
    currents: np.ndarray
    settings: dict[str, np.ndarray]
    cut: np.ndarray
    expected: dict[str, np.ndarray] | None = None

    @property
    def params(self) -> NeuronConfig:
        return self.config

    @property
    def steps(self) -> int:
        return self.currents.shape[0]

    @property
    def updates(self) -> int:
        """Neuron-updates the run checks."""
        n = self.config.neurons
        return int(sum(n if k < 0 else k for k in self.cut))

    def compute_expected(self) -> None:
        """Run the reference model over the stimulus (resets included)."""
        c = self.config
        expected = {f.name: np.zeros(self.currents.shape, np.int64) for f in c.output_fields()}
        start = 0
        ends = [t for t in range(self.steps) if self.cut[t] >= 0] + [self.steps - 1]
        for end in ends:
            if end < start:
                continue
            sl = slice(start, end + 1)
            out, _ = run_model(c, self.currents[sl],
                               settings={k: v[sl] for k, v in self.settings.items()})
            for k, v in out.items():
                expected[k][sl] = v
            start = end + 1
        self.expected = expected

    def plant_error(self, step: int, neuron: int) -> None:
        """Change one expected value by one LSB, to show the checker reports it."""
        assert self.expected is not None
        name = planted_field(self.config)
        f = next(f for f in self.config.output_fields() if f.name == name)
        value = self.expected[name][step, neuron]
        self.expected[name][step, neuron] = value - 1 if value == f.hi else value + 1


def make_stimulus(config: NeuronConfig, steps: int, seed: int, *, directed: bool = True,
                  reset_rate: float = 0.002, expected: bool = True) -> Stimulus:
    """Seeded stimulus: the model's directed episodes first (when ``directed``), a run-time
    change of every setting followed by a reset in the middle of a step, then random episodes.

    Random episodes draw currents from several distributions (full range, small values, sparse
    bursts, mostly positive) and their settings from :meth:`NeuronConfig.random_settings`;
    resets cut in at random points. With ``expected=False`` the reference model is not run yet
    (call :meth:`Stimulus.compute_expected`, e.g. while a simulator runs).
    """
    c = config
    rng = np.random.default_rng(seed)
    n = c.neurons
    lo, hi = c.input_min, c.input_max
    ports = [s.name for s in c.ports()]
    cur = np.zeros((steps, n), np.int64)
    settings = {k: np.full(steps, getattr(c, k), np.int64) for k in ports}
    cut = np.full(steps, -1, np.int64)
    t = 0

    def take(length: int) -> slice | None:
        nonlocal t
        if length <= 0 or t + length > steps:
            return None
        s = slice(t, t + length)
        t += length
        return s

    def apply(episode: Mapping[str, Any], s: slice) -> None:
        for k in ports:
            if k in episode:
                settings[k][s] = episode[k]

    if directed:
        for episode in c.directed(rng):
            values = np.clip(np.asarray(episode["current"], np.int64), lo, hi)
            s = take(values.shape[0])
            if s is None:
                continue  # too long for this run
            cur[s] = values
            apply(episode, s)
            if episode.get("reset_after"):
                cut[s.stop - 1] = n
        s = take(8)  # every setting changes at a step boundary, then a reset mid-step
        if s:
            cur[s] = rng.integers(0, hi + 1, (8, n))
            later = slice(s.start + 4, s.stop)
            apply(c.random_settings(rng), later)
            cut[s.stop - 1] = n // 2

    while t < steps:
        length = int(min(steps - t, rng.integers(5, 60)))
        s = take(length)
        assert s is not None
        kind = rng.integers(0, 4)
        if kind == 0:
            values = rng.integers(lo, hi + 1, (length, n))
        elif kind == 1:
            centre = max(1, hi // 3)
            values = rng.integers(-centre // 2, centre + 1, (length, n))
        elif kind == 2:
            values = np.where(rng.random((length, n)) < 0.1,
                              rng.integers(lo, hi + 1, (length, n)), 0)
        else:
            values = rng.integers(min(0, lo // 8), max(1, hi // 4) + 1, (length, n))
        cur[s] = np.clip(values, lo, hi)
        apply(c.random_settings(rng), s)
        for i in np.flatnonzero(rng.random(length) < reset_rate):
            cut[s.start + i] = rng.integers(0, n + 1)

    cut[-1] = -1 if cut[-1] == n else cut[-1]
    stim = Stimulus(c, cur, settings, cut)
    if expected:
        stim.compute_expected()
    return stim


# -- checker -----------------------------------------------------------------------------------

class PopulationChecker:
    """Drive a population with a stimulus and check every field of every output.

    ``gap`` is the probability that no input is offered on a cycle; ``stall`` the probability
    that the output is not read (back-pressure). Both come from their own seeded generator.
    """

    def __init__(self, stim: Stimulus, *, seed: int, gap: float = 0.2, stall: float = 0.2,
                 reset_cycles: int = 2) -> None:
        self.stim = stim
        self.config = stim.config
        self.fields = payload_fields(stim.config)
        self.rng = np.random.default_rng(seed + 1)
        self.gap, self.stall = gap, stall
        self.reset_cycles = reset_cycles
        self.board = Scoreboard()
        self.spikes = 0
        self.received = 0
        self.sampled = ("current__valid", "current__ready", "output__valid", "output__ready",
                        "output__payload")
        self.done = False
        self._plan = self._items()
        self._next: Any = _RESET  # every run starts from a reset, as on real hardware
        self._pending: deque[tuple[int, int]] = deque()
        self._valid = 0
        self._in_reset = 0
        self._settings: dict[str, int] = {}
        self._names = [f.name for f in stim.config.output_fields()]
        self._coins = self.rng.random(1 << 16)  # gap/stall decisions, drawn in bulk
        self._coin = 0

    def _items(self):
        n = self.config.neurons
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
                return {"rst": 1, "current__valid": 0, "output__ready": 0}
        elif item is not None:
            t, i = item
            if not self._valid:  # once offered, an input stays valid until it is taken
                self._valid = 0 if self._flip(self.gap) else 1
            for k, v in self.stim.settings.items():
                value = int(v[t])
                if self._settings.get(k) != value:
                    out[k] = self._settings[k] = value
            out["current__payload"] = int(self.stim.currents[t, i])
        out["current__valid"] = self._valid
        out["output__ready"] = 0 if self._flip(self.stall) else 1
        return out

    def sample(self, v: Mapping[str, int]) -> None:
        if self._in_reset:
            return
        if v["current__valid"] and v["current__ready"]:
            self._pending.append(self._next)  # type: ignore[arg-type]
            self._valid = 0
            self._next = next(self._plan, None)
        if v["output__valid"] and v["output__ready"]:
            self._check(v["output__payload"])
        if self._next is None and not self._pending:
            self.done = True

    def _check(self, payload: int) -> None:
        if not self._pending:
            self.board.compare(-1, -1, "unexpected output", 0, 1)
            return
        t, i = self._pending.popleft()
        got = decode_payload(self.fields, payload)
        b = self.board
        b.checked += 1
        b.compare(t, i, "index", i, got["index"])
        b.compare(t, i, "last", int(i == self.config.neurons - 1), got["last"])
        assert self.stim.expected is not None
        for name in self._names:
            b.compare(t, i, name, int(self.stim.expected[name][t, i]), got[name])
        self.spikes += got.get("spike", 0)
        self.received += 1

    def report(self) -> dict[str, Any]:
        return {"updates": self.received, "spikes": self.spikes, **self.board.as_dict()}


# -- runs --------------------------------------------------------------------------------------

def config_of(cfg: Mapping[str, Any]) -> NeuronConfig:
    """The model configuration a run configuration names: ``model`` (a name of the catalogue,
    or ``module:Class``) and ``params``."""
    name = cfg["model"]
    if ":" in name:
        module, _, cls = name.partition(":")
        model = getattr(importlib.import_module(module), cls)
    else:
        model = get_model(name)
    return model(**cfg["params"])


def model_ref(config: NeuronConfig) -> str:
    """``module:Class`` of a configuration's model, for run configurations."""
    return f"{type(config).__module__}:{type(config).__qualname__}"


def stimulus_of(cfg: Mapping[str, Any], *, expected: bool = True) -> Stimulus:
    """The stimulus a run configuration describes (see :func:`check_config`)."""
    return make_stimulus(config_of(cfg), int(cfg["steps"]), int(cfg["seed"]),
                         directed=bool(cfg.get("directed", True)),
                         reset_rate=float(cfg.get("reset_rate", 0.002)), expected=expected)


def check_config(cfg: Mapping[str, Any]) -> tuple[Stimulus, PopulationChecker]:
    """Stimulus and checker for a run configuration (what the simulators receive).

    Keys: ``model`` (a model name), ``params`` (its configuration, ``NeuronConfig.as_dict()``),
    ``steps``, ``seed``, optional ``directed``, ``gap``, ``stall``, ``reset_rate``, ``plant``
    (``[step, neuron]`` of a planted error the run must report as its only mismatch),
    ``corrupt`` (the same error, unannounced: the run must fail), ``gate_level`` (sample outputs
    at the falling edge, for netlists) and ``storage`` (for the Amaranth simulator).
    """
    stim = stimulus_of(cfg)
    apply_plant(cfg, stim)
    checker = PopulationChecker(stim, seed=int(cfg["seed"]), gap=float(cfg.get("gap", 0.2)),
                                stall=float(cfg.get("stall", 0.2)))
    return stim, checker


def max_cycles(stim: Stimulus) -> int:
    """A bound no correct run reaches (gaps, stalls, clearing sweeps included)."""
    return 20 * stim.updates + 8 * stim.config.neurons * (1 + int((stim.cut >= 0).sum())) + 100


def _verdict(cfg: Mapping[str, Any], stim: Stimulus, report: Mapping[str, Any]) -> None:
    """Assert the run found exactly what it should: nothing, or exactly the planted error."""
    assert report["updates"] == stim.updates, (
        f"received {report['updates']} outputs, expected {stim.updates}")
    assert_found(report, cfg.get("plant"), planted_field(stim.config))


def _port(dut: Any, name: str) -> Any:
    obj = dut
    for part in name.split("__"):
        obj = getattr(obj, part)
    return obj.as_value() if hasattr(obj, "as_value") else obj


def run_amaranth(cfg: Mapping[str, Any], *, datapath: type | None = None) -> dict[str, Any]:
    """Run the checker in Amaranth's simulator on a freshly built population; return the report.

    ``datapath`` replaces the model's datapath (tests plant faults this way).
    """
    from neurotile.rtl.population import Population, datapath_for

    stim, checker = check_config(cfg)
    dut = Population(stim.config, datapath=datapath or datapath_for(stim.config.NAME),
                     storage=cfg.get("storage", "memory"))
    return amaranth_loop(dut, checker, max_cycles=max_cycles(stim), ports=_port)


# -- cocotb entry point ------------------------------------------------------------------------

try:
    import cocotb
except ImportError:  # pragma: no cover - cocotb is a dependency; keep the models importable
    cocotb = None

if cocotb is not None:

    @cocotb.test()
    async def population_check(dut: Any) -> None:
        """Every output of the population against the integer reference, with random stalls."""
        cfg = read_config()
        stim, checker = check_config(cfg)
        log.info("%s check: %d steps, %d neuron-updates, seed %d", cfg["model"], stim.steps,
                 stim.updates, cfg["seed"])
        report = await cocotb_loop(dut, checker, max_cycles=max_cycles(stim),
                                   settle=bool(cfg.get("gate_level")))
        write_report(report)
        _verdict(cfg, stim, report)
