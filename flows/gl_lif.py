# SPDX-License-Identifier: Apache-2.0
"""The LIF population's bit-exact cocotb check, run on a gate-level netlist.

Same stimulus, same reference model and same checker as the RTL run
(:mod:`neurotile.testbench.lif`); only the moment outputs are sampled differs. In the RTL,
registers change in the same simulation step as the rising clock edge, so the RTL loop samples
right after it; in the gate-level netlist every flip-flop model has a ``UNIT_DELAY`` (1 ns), so the
outputs settle later. This loop drives inputs after the rising edge, as the RTL loop does, and
samples at the falling edge, when both kinds of netlist have settled.

Use :func:`run_gate_level` to run it; the cocotb test is the RTL's
(:func:`neurotile.testbench.lif.lif_check`), told by ``gate_level`` in its configuration to
sample at the falling edge.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["run_gate_level"]


def run_gate_level(netlist: str | Path, *, top: str, params: Mapping[str, Any], steps: int,
                   seed: int, build_dir: str | Path, power_pins: bool = True,
                   **options: Any) -> dict[str, Any]:
    """Run the LIF check on a synthesised netlist with Icarus and the sky130 cell models.

    ``params`` are the population's :class:`~neurotile.neurons.lif.LIFIntParams` fields (as
    :func:`neurotile.blocks.lif.int_params` gives them); ``options`` go into the testbench
    configuration (``gap``, ``stall``, ``plant``, ...). Returns the testbench report plus
    ``passed`` and ``run_dir``. Outputs that are unknown (``x``) are read as random bits, so an
    ``x`` that reaches a checked output shows up as a mismatch rather than stopping the run.
    """
    from neurotile.flows.gatelevel import bundle
    from neurotile.testbench.runner import run_checker

    cfg = {"params": dict(params), "steps": steps, "seed": seed, "gate_level": True, **options}
    return run_checker("icarus", verilog=bundle(netlist, top=top, power_pins=power_pins),
                       top=top, test_module="neurotile.testbench.lif", build_dir=build_dir,
                       config=cfg, seed=seed, extra_env={"COCOTB_RESOLVE_X": "random"})
