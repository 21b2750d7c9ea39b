# SPDX-License-Identifier: Apache-2.0
"""The block of any neuron model, derived from its declaration: nothing listed twice.

:func:`neuron_block` turns a :class:`~neurotile.neurons.spec.NeuronConfig` subclass into a
:class:`~neurotile.blocks.Block`: its structural parameters and run-time settings become the
command-line options, the generator is the shared :class:`~neurotile.rtl.population.Population`
around the model's datapath, and ``simulate`` is the shared checker.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from neurotile.blocks import Block, SimSummary
from neurotile.neurons.spec import NeuronConfig, Param, Setting
from neurotile.rtl.population import STORAGES, Population, datapath_for, top_name
from neurotile.testbench.check import check_population
from neurotile.testbench.runner import waves_requested

__all__ = ["STORAGE", "SIM_PARAMS", "setting_param", "neuron_block"]

STORAGE = Param("storage", str, "memory", "state storage: memory (register file, fully "
                "synchronous), ring (clock-gated flip-flop ring, ~40% smaller) or latch "
                "(Sky130 latches and clock gates; docs/latches.md)", choices=STORAGES)

SIM_PARAMS = (
    Param("gap", float, 0.2, "probability an input is not offered on a cycle"),
    Param("stall", float, 0.2, "probability the output is not read on a cycle"),
    Param("bulk", bool, True, "check whole runs at once, no Python per cycle (icarus, "
          "verilator); --no-bulk uses the cycle-level cocotb checker"),
)


def setting_param(s: Setting) -> Param:
    """The command-line option of a run-time setting (unset: the model's default)."""
    unit = f", {s.unit}" if s.unit else ""
    return Param(s.name, int, None, f"{s.help} (run-time{unit}; default derived from the "
                 "structure)")


Prepare = Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]]


def neuron_block(model: type[NeuronConfig], *, summary: str | None = None,
                 extra: tuple[Param, ...] = (), prepare: Prepare | None = None) -> Block:
    """The block of ``model``.

    ``extra`` adds options of the block's own; ``prepare(params, kwargs)`` turns them into
    keyword arguments of the model (``kwargs`` already holds the declared ones that were given).
    """
    names = [p.name for p in model.params()] + [s.name for s in model.SETTINGS]

    def config_of(params: dict[str, Any]) -> tuple[NeuronConfig, str]:
        kwargs = {k: params[k] for k in names if params.get(k) is not None}
        if prepare is not None:
            kwargs = prepare(params, kwargs)
        return model(**kwargs), params.get("storage") or "memory"

    def build(params: dict[str, Any]) -> tuple[Population, str]:
        config, storage = config_of(params)
        dut = Population(config, datapath=datapath_for(model.NAME), storage=storage)
        return dut, top_name(config, storage)

    def simulate(params: dict[str, Any], *, sim: str, steps: int, seed: int,
                 build_dir: Path) -> SimSummary:
        config, storage = config_of(params)
        # Waveforms come from the cycle checker (cocotb): WAVES=1 selects it.
        bulk = bool(params.get("bulk", True)) and sim != "amaranth" and not waves_requested()
        report = check_population(
            config, sim=sim, steps=steps, seed=seed, build_dir=build_dir, storage=storage,
            bulk=bulk, gap=params.get("gap", 0.2), stall=params.get("stall", 0.2))
        mismatches = report["mismatches"]
        if not report["passed"] and mismatches == 0:
            mismatches = -1  # the simulation failed without reporting (see its log)
        detail = "" if report["passed"] else f"see {report.get('run_dir', build_dir)}"
        if report.get("waves"):
            detail = "; ".join(filter(None, [detail, f"waves: {report['waves']}"]))
        return SimSummary(sim, report["updates"], mismatches, report["spikes"],
                          report.get("seconds", 0.0), detail=detail)

    params = tuple(model.params()) + tuple(setting_param(s) for s in model.SETTINGS) + \
        extra + (STORAGE,)
    return Block(name=model.NAME, summary=summary or f"population of {model.TITLE} neurons "
                 "sharing one datapath", params=params, build=build, simulate=simulate,
                 sim_params=SIM_PARAMS, model=model,
                 extras={"config": config_of, "extra": extra, "prepare": prepare})
