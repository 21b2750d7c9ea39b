# SPDX-License-Identifier: Apache-2.0
"""A population's bit-exact cocotb check, run on a gate-level netlist.

Same stimulus, same reference model and same checker as the RTL run
(:mod:`neurotile.testbench.population`); only the moment outputs are sampled differs. In the RTL,
registers change in the same simulation step as the rising clock edge, so the RTL loop samples
right after it; in the gate-level netlist every flip-flop model has a ``UNIT_DELAY`` (1 ns), so
the outputs settle later. This loop drives inputs after the rising edge, as the RTL loop does,
and samples at the falling edge, when both kinds of netlist have settled.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neurotile.flows.gatelevel import bundle
from neurotile.neurons.spec import NeuronConfig
from neurotile.testbench.population import model_ref
from neurotile.testbench.runner import run_checker

__all__ = ["run_gate_level"]


def run_gate_level(netlist: str | Path, *, top: str, config: NeuronConfig, steps: int,
                   seed: int, build_dir: str | Path, power_pins: bool = True,
                   **options: Any) -> dict[str, Any]:
    """Run the population check on a synthesised netlist with Icarus and the sky130 cell models.

    ``options`` go into the testbench configuration (``gap``, ``stall``, ``plant``, ...).
    Returns the testbench report plus ``passed`` and ``run_dir``. Outputs that are unknown
    (``x``) are read as random bits, so an ``x`` that reaches a checked output shows up as a
    mismatch rather than stopping the run.
    """
    cfg = {"model": model_ref(config), "params": config.as_dict(), "steps": steps, "seed": seed,
           "gate_level": True, **options}
    return run_checker("icarus", verilog=bundle(netlist, top=top, power_pins=power_pins),
                       top=top, test_module="neurotile.testbench.population",
                       build_dir=build_dir, config=cfg, seed=seed,
                       extra_env={"COCOTB_RESOLVE_X": "random"})
