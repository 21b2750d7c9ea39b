# SPDX-License-Identifier: Apache-2.0
"""The denoiser's bit-exact cocotb check, run on a synthesised gate-level netlist.

Same stimulus, reference model and checker as the RTL run (:mod:`neurotile.testbench.denoiser`);
outputs are sampled at the falling clock edge, when the cell models (``UNIT_DELAY`` flip-flops)
have settled. The timestamp memories have no reset and start unknown in the netlist; the valid
bits, cleared by reset, keep those unknowns out of every decision, and the run shows it: an
unknown reaching ``decisions`` would be read as a random bit and reported as a mismatch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neurotile.flows.gatelevel import bundle
from neurotile.neurons.denoiser import DenoiserParams
from neurotile.testbench.runner import run_checker

__all__ = ["run_gate_level"]


def run_gate_level(netlist: str | Path, *, top: str, params: DenoiserParams, steps: int,
                   seed: int, build_dir: str | Path, **options: Any) -> dict[str, Any]:
    """Run the denoiser check on ``netlist`` with Icarus and the sky130 cell models.

    ``options`` go into the testbench configuration (``gap``, ``stall``, ``plant``,
    ``corrupt``). Returns the testbench report plus ``passed`` and ``run_dir``.
    """
    cfg = {"params": params.structural(), "steps": steps, "seed": seed, "gate_level": True,
           **options}
    return run_checker("icarus", verilog=bundle(netlist, top=top, power_pins=True), top=top,
                       test_module="neurotile.testbench.denoiser", build_dir=build_dir,
                       config=cfg, seed=seed, extra_env={"COCOTB_RESOLVE_X": "random"})
