# SPDX-License-Identifier: Apache-2.0
"""Cycle-level testbench of the spiking layer (sparse synapses into LIF neurons).

The stimulus reuses the synapse tile's runs (:func:`neurotile.testbench.sparse_matmul.make_runs`:
random matrices at densities 1 % to 100 %, random spike trains, saturation corners, weights
reprogrammed between runs, resets) and gives every run its own neuron settings (threshold, decay,
refractory period). The expected output of every step, the addresses of the neurons that fired,
comes from :func:`neurotile.neurons.synapses.spiking_layer_step`; neuron state carries over from
run to run unless the run starts with a reset. :class:`LayerChecker` compares every output event
and every end marker, under random gaps and back-pressure, in cocotb (Icarus, Verilator) and in
Amaranth's simulator.

Reproduce a failing run with the command line, e.g.
``neurotile simulate spiking-layer --sim icarus --steps 300 --seed 7``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import InitVar, dataclass, field
from typing import Any

import numpy as np

from neurotile.neurons.lif import LIFIntParams, LIFIntState
from neurotile.neurons.synapses import CSRMatrix, SparseParams, spiking_layer_step
from neurotile.testbench.common import (
    amaranth_loop,
    apply_plant,
    cocotb_loop,
    read_config,
    write_report,
)
from neurotile.testbench.sparse_matmul import (
    Run,
    StepChecker,
    component_ports,
    make_runs,
    max_cycles,
    verdict,
)

__all__ = ["LayerStimulus", "make_stimulus", "LayerChecker", "check_config", "run_amaranth"]

log = logging.getLogger("neurotile.testbench.spiking_layer")


# -- stimulus ----------------------------------------------------------------------------------

@dataclass
class LayerStimulus:
    """Runs with neuron settings, and the neurons expected to fire in every step.

    With ``compute=False`` the reference model is left for :meth:`compute_expected`.
    """

    sparse: SparseParams
    lif: LIFIntParams
    runs: list[Run]
    expected: list[list[int]] = field(init=False)
    currents: list[np.ndarray] = field(init=False)
    compute: InitVar[bool] = True

    def __post_init__(self, compute: bool) -> None:
        for run in self.runs:
            run.csr.check(self.sparse)
        if compute:
            self.compute_expected()

    def compute_expected(self) -> None:
        """Run the reference model over every step (fills :attr:`expected`, :attr:`currents`)."""
        state = LIFIntState.zeros(self.lif.neurons)
        self.expected, self.currents = [], []
        for run in self.runs:
            if run.reset or run.abort:
                state = LIFIntState.zeros(self.lif.neurons)
            lp = self.lif.with_runtime(**self._settings(run.settings))
            for events in run.steps:
                state, spikes, current = spiking_layer_step(state, run.csr, events, self.sparse, lp)
                self.expected.append([int(i) for i in np.flatnonzero(spikes)])
                self.currents.append(current)

    def _settings(self, ports: Mapping[str, int]) -> dict[str, int]:
        names = {s.name for s in self.lif.ports()}
        return {k: v for k, v in ports.items() if k in names}

    @property
    def steps(self) -> int:
        return sum(len(run.steps) for run in self.runs)

    @property
    def updates(self) -> int:
        return self.steps * self.lif.neurons

    @property
    def fired(self) -> int:
        return sum(len(e) for e in self.expected)

    def plant_error(self, step: int, neuron: int) -> None:
        """Flip whether one neuron is expected to fire, to show the checker reports it."""
        fired = self.expected[step]
        if neuron in fired:
            fired.remove(neuron)
        else:
            fired.append(neuron)
            fired.sort()


def _settings(sp: SparseParams, lp: LIFIntParams, rng: np.random.Generator) -> dict[str, int]:
    """Random neuron settings that keep the layer active: thresholds near the input scale."""
    scale = sp.weight_max * max(1, sp.act_max)
    choices = [0, scale // 4, scale // 2, scale, 4 * scale]
    threshold = int(min(lp.mem_max, choices[int(rng.integers(0, len(choices)))]))
    if lp.leak == "shift":
        leak = int(rng.integers(1, lp.width))
    else:
        leak = int(rng.integers(1, 1 << lp.beta_bits))
    out = {"threshold": threshold, "decay": leak}
    if lp.refractory_width:
        out["refractory"] = int(rng.integers(0, lp.refractory_max + 1))
    return out


def make_stimulus(sp: SparseParams, lp: LIFIntParams, steps: int, seed: int, *,
                  directed: bool = True, expected: bool = True, **options: Any) -> LayerStimulus:
    """Seeded runs of :func:`~neurotile.testbench.sparse_matmul.make_runs` with neuron settings.

    Directed runs first (when ``directed``): membrane saturation at both ends (threshold at its
    maximum, the strongest inputs for many steps, so the neurons pin at the membrane limits),
    then a step where the inputs land exactly on a small threshold (``v == th`` must not fire).
    With ``expected=False`` the reference model is left for
    :meth:`LayerStimulus.compute_expected`.
    """
    rng = np.random.default_rng(seed + 7)
    runs: list[Run] = []
    if directed:
        x = sp.act_max
        for value in (sp.weight_max, sp.weight_min):
            w = np.zeros((sp.inputs, sp.outputs), np.int64)
            w[0, : min(sp.outputs, sp.depth)] = value
            per_step = -(-sp.acc_max // (abs(value) * x)) + 1
            hold = -(-(lp.mem_max + 1) // sp.acc_max) + 3
            slow = lp.width - 1 if lp.leak == "shift" else (1 << lp.beta_bits) - 1
            settings = {"threshold": lp.mem_max, "decay": slow}
            if lp.refractory_width:
                settings["refractory"] = 0
            runs.append(Run(CSRMatrix.from_dense(w), [[(0, x)] * per_step] * hold, reset=True,
                            settings=settings))
        w = np.zeros((sp.inputs, sp.outputs), np.int64)
        k = min(sp.outputs, sp.depth)
        w[0, :k] = 1
        w[0, : k // 2] = min(2, sp.weight_max)
        runs.append(Run(CSRMatrix.from_dense(w), [[(0, 1)]], reset=True, settings={
            "threshold": min(1, lp.mem_max),
            "decay": lp.width - 1 if lp.leak == "shift" else (1 << lp.beta_bits) - 1}))
    used = sum(len(r.steps) for r in runs)
    for run in make_runs(sp, max(0, steps - used), seed, directed=directed, **options):
        run.settings = _settings(sp, lp, rng)
        runs.append(run)
    return LayerStimulus(sp, lp, runs, compute=expected)


# -- checker -----------------------------------------------------------------------------------

class LayerChecker(StepChecker):
    """Check every output event and end marker of the layer against :class:`LayerStimulus`."""

    output = "spikes"

    def __init__(self, stim: LayerStimulus, **kwargs: Any) -> None:
        super().__init__(stim.sparse, stim.runs, **kwargs)
        self.stim = stim
        self.addr_width = max(1, (stim.lif.neurons - 1).bit_length())
        self._fired: list[int] = []
        self.spikes = 0

    def check_output(self, step: int, payload: int) -> None:
        addr = payload & ((1 << self.addr_width) - 1)
        if not (payload >> self.addr_width) & 1:
            self._fired.append(addr)
            self.spikes += 1
            return
        b = self.board
        got, want = self._fired, self.stim.expected[step]
        b.checked += self.stim.lif.neurons
        for n in sorted(set(got) ^ set(want)):
            b.compare(step, n, "spike", int(n in want), int(n in got))
        if not b.compare(step, -1, "events in index order", 1, int(got == sorted(set(got)))):
            log.error("step %d: fired %s, expected %s", step, got, want)
        self._fired = []
        self.step_finished(step)

    def report(self) -> dict[str, Any]:
        return {"updates": len(self.finish) * self.stim.lif.neurons, "steps": len(self.finish),
                "spikes": self.spikes, "periods": self.periods(), **self.board.as_dict()}


# -- runs ----------------------------------------------------------------------------------------

def layer_params_of(cfg: Mapping[str, Any]) -> tuple[SparseParams, LIFIntParams]:
    """Synapse and neuron parameters from a configuration's ``params`` (layer keywords)."""
    from neurotile.rtl.spiking_layer import layer_params

    return layer_params(**cfg["params"])


def check_config(cfg: Mapping[str, Any]) -> tuple[LayerStimulus, LayerChecker]:
    """Stimulus and checker for a configuration dict (what the simulators receive).

    Keys: ``params`` (:class:`~neurotile.rtl.spiking_layer.SpikingLayer` keywords),
    ``steps``, ``seed``; optional ``directed``, ``density``, ``rate``, ``run_length``, ``gap``,
    ``stall``, ``plant`` (``[step, neuron]`` of a planted error the run must report) and
    ``corrupt`` (the same, unannounced) and ``layout`` (the tile's weight layout, ``csr`` or
    ``dense``: how the layer is programmed).
    """
    sp, lp = layer_params_of(cfg)
    stim = make_stimulus(sp, lp, int(cfg["steps"]), int(cfg["seed"]),
                         directed=bool(cfg.get("directed", True)), density=cfg.get("density"),
                         rate=cfg.get("rate"), run_length=cfg.get("run_length"))
    apply_plant(cfg, stim)
    checker = LayerChecker(stim, seed=int(cfg["seed"]), gap=float(cfg.get("gap", 0.2)),
                           stall=float(cfg.get("stall", 0.2)),
                           layout=cfg.get("layout", "csr"))
    return stim, checker


def _max_cycles(stim: LayerStimulus) -> int:
    return max_cycles(stim.sparse, stim.runs, 2 * stim.lif.neurons)


def run_amaranth(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """Run the checker in Amaranth's simulator on a freshly built layer; return the report.

    ``cfg["storage"]`` and ``cfg["layout"]`` (optional) are the layer's ``storage`` and
    ``layout``."""
    from neurotile.rtl.spiking_layer import SpikingLayer

    stim, checker = check_config(cfg)
    options = {"layout": cfg["layout"]} if "layout" in cfg else {}
    dut = SpikingLayer(**cfg["params"], storage=cfg.get("storage", "memory"), **options)
    return amaranth_loop(dut, checker, ports=component_ports, max_cycles=_max_cycles(stim))


# -- cocotb entry point ------------------------------------------------------------------------

try:
    import cocotb
except ImportError:  # pragma: no cover - cocotb is a dependency; keep the models importable
    cocotb = None

if cocotb is not None:

    @cocotb.test()
    async def layer_check(dut: Any) -> None:
        """Every output event of every step against the reference, with gaps and back-pressure."""
        cfg = read_config()
        stim, checker = check_config(cfg)
        log.info("layer check: %d steps, %d neuron-updates, %d expected spikes, seed %d",
                 stim.steps, stim.updates, stim.fired, cfg["seed"])
        report = await cocotb_loop(dut, checker, max_cycles=_max_cycles(stim))
        write_report(report)
        verdict(cfg, stim.steps, report, "spike")
