# SPDX-License-Identifier: Apache-2.0
"""Check a population against its reference model on any simulator, by either path.

One entry point for every neuron model: :func:`check_population` builds the population's Verilog
(unless given), then runs the bulk path (:mod:`testbench.population_bulk`) or the cycle-level
cocotb checker (:mod:`testbench.population`) on Icarus or Verilator, or the cycle-level checker
in Amaranth's simulator.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from neurotile.neurons.spec import NeuronConfig
from neurotile.rtl.export import port_list, to_verilog
from neurotile.rtl.population import Population, datapath_for, top_name
from neurotile.testbench.population import model_ref, run_amaranth
from neurotile.testbench.population_bulk import record_population_bulk, run_population_bulk
from neurotile.testbench.runner import check_simulator, run_checker

__all__ = ["SIMULATORS", "population_verilog", "check_population", "record_population"]

SIMULATORS = ("icarus", "verilator", "amaranth")


def population_verilog(config: NeuronConfig, storage: str = "memory", *,
                       datapath: type | None = None) -> tuple[str, str, list[dict]]:
    """``(verilog, top, ports)`` of the population ``config`` describes."""
    dut = Population(config, datapath=datapath or datapath_for(config.NAME), storage=storage)
    top = top_name(config, storage)
    return to_verilog(dut, name=top), top, port_list(dut)


def check_population(config: NeuronConfig, *, sim: str, steps: int, seed: int,
                     build_dir: str | Path, storage: str = "memory", bulk: bool = True,
                     verilog: str | None = None, top: str | None = None,
                     ports: list[dict] | None = None, datapath: type | None = None,
                     trace: bool = False, **options: Any) -> dict[str, Any]:
    """Check the population ``config`` on ``sim``; return the report plus ``passed``.

    ``options`` go into the run configuration (``gap``, ``stall``, ``directed``, ``plant``,
    ``corrupt``, ``reset_rate``, ``gate_level``). ``bulk`` picks the bulk path on Icarus and
    Verilator. ``verilog``/``top``/``ports`` check a given netlist (e.g. a gate-level one)
    instead of the generated population; ``datapath`` replaces the model's (planted faults).
    The report has ``updates``, ``spikes``, ``mismatches``, ``first_mismatches``, ``cycles``
    and ``seconds``; ``passed`` means the run found exactly what it should. ``waves`` names the
    waveform file when the run recorded one (``WAVES=1``, either path); ``trace`` keeps the bulk
    run itself in the report (:class:`~neurotile.testbench.population_bulk.RunTrace`).
    """
    cfg = {"model": model_ref(config), "params": config.as_dict(), "steps": int(steps),
           "seed": int(seed), "storage": storage, **options}
    expected = 1 if options.get("plant") else 0
    if sim == "amaranth":
        report = run_amaranth(cfg, datapath=datapath)
        return report | {"passed": report["mismatches"] == expected}
    if sim not in SIMULATORS:
        raise ValueError(f"sim must be one of {', '.join(SIMULATORS)}, not {sim!r}")
    check_simulator(sim)
    if verilog is None:
        verilog, top, ports = population_verilog(config, storage, datapath=datapath)
    assert top is not None
    if bulk:
        if ports is None:
            raise ValueError("the bulk path needs the design's ports")
        report = run_population_bulk(cfg, sim=sim, verilog=verilog, top=top, ports=ports,
                                     build_dir=Path(build_dir) / "bulk", trace=trace)
        return report | {"passed": report["mismatches"] == expected}
    return run_checker(sim, verilog=verilog, top=top,
                       test_module="neurotile.testbench.population", build_dir=build_dir,
                       config=cfg, seed=int(seed), ports=ports)


def record_population(config: NeuronConfig, currents: np.ndarray, *, sim: str,
                      build_dir: str | Path, storage: str = "memory", seed: int = 1
                      ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Play integer ``currents`` (``[steps, neurons]``) on the population's RTL through the
    bulk path and return ``(outputs, report)``: every output field as the RTL reported it,
    ``[steps, neurons]``, and the comparison with the integer model
    (:func:`~neurotile.testbench.population_bulk.record_population_bulk`)."""
    if sim not in ("icarus", "verilator"):
        raise ValueError(f"the RTL is recorded on icarus or verilator, not {sim!r}")
    check_simulator(sim)
    verilog, top, ports = population_verilog(config, storage)
    return record_population_bulk(config, currents, sim=sim, verilog=verilog, top=top,
                                  ports=ports, build_dir=Path(build_dir) / "bulk", seed=seed)
