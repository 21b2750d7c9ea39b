# SPDX-License-Identifier: Apache-2.0
"""Catalogue entry of the event-camera denoiser (background-activity filter)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neurotile.blocks import Block, Param, SimSummary
from neurotile.blocks.sparse_matmul import bulk_run, cocotb_run
from neurotile.neurons.denoiser import PARAMS, DenoiserParams

__all__ = ["BLOCK", "denoiser_params", "run_design", "run_bulk_design", "simulate",
           "SIM_PARAMS"]

SIM_PARAMS = (
    Param("gap", float, 0.2, "probability an event is not offered on a cycle"),
    Param("stall", float, 0.2, "probability a decision is not read on a cycle"),
    Param("bulk", bool, True, "check whole runs at once, no Python per cycle (icarus, "
          "verilator); --no-bulk uses the cycle-level cocotb checker"),
)


def denoiser_params(params: dict[str, Any]) -> DenoiserParams:
    """Validated :class:`DenoiserParams` from command-line style parameters."""
    return DenoiserParams(**{p.name: params[p.name] for p in PARAMS
                             if params.get(p.name) is not None})


def _build(params: dict[str, Any]):
    from neurotile.rtl.denoiser import Denoiser

    p = denoiser_params(params)
    top = f"denoiser_{p.filter}_{p.width}x{p.height}_n{p.neighbours}_t{p.ts_bits}"
    return Denoiser(**p.structural()), top


def sim_options(params: dict[str, Any]) -> dict[str, Any]:
    """The testbench options among ``params``, validated."""
    out: dict[str, Any] = {}
    for name in ("gap", "stall"):
        value = params.get(name)
        if value is None:
            continue
        if not 0.0 <= float(value) < 1.0:
            raise ValueError(f"{name} must be at least 0 and below 1, not {value}")
        out[name] = float(value)
    return out


def run_design(p: DenoiserParams, *, sim: str, steps: int, seed: int, build_dir: Path,
               **options: Any) -> dict[str, Any]:
    """Check the filter ``p`` on ``sim`` (``icarus``, ``verilator`` or ``amaranth``).

    Returns the testbench report (``events``, ``decisions``, ``spikes`` (events passed),
    ``mismatches``, ``first_mismatches``, ``cycles``, ``seconds``) plus ``passed``.
    ``options`` go into the testbench configuration (``gap``, ``stall``, ``directed``,
    ``plant``, ``corrupt``).
    """
    cfg = {"params": p.structural(), "steps": steps, "seed": seed, **options}
    expected = 1 if options.get("plant") is not None else 0
    if sim == "amaranth":
        from neurotile.testbench.denoiser import run_amaranth

        report = run_amaranth(cfg)
        return report | {"passed": report["mismatches"] == expected}
    return cocotb_run(BLOCK, p.structural(), sim=sim, test_module="neurotile.testbench.denoiser",
                      cfg=cfg, seed=seed, build_dir=build_dir)


def run_bulk_design(p: DenoiserParams, *, sim: str, steps: int, seed: int, build_dir: Path,
                    **options: Any) -> dict[str, Any]:
    """As :func:`run_design` on ``icarus`` or ``verilator``, through the bulk path
    (:mod:`neurotile.testbench.denoiser_bulk`)."""
    from neurotile.testbench.denoiser_bulk import run_denoiser_bulk

    cfg = {"params": p.structural(), "steps": steps, "seed": seed, **options}
    return bulk_run(BLOCK, p.structural(), sim=sim, runner=run_denoiser_bulk, cfg=cfg,
                    build_dir=build_dir)


def simulate(params: dict[str, Any], *, sim: str, steps: int, seed: int,
             build_dir: Path) -> SimSummary:
    """``neurotile simulate denoiser``: directed corners and random streams, every decision
    checked (``--steps``: events)."""
    p = denoiser_params(params)
    run = run_bulk_design if params.get("bulk", True) and sim != "amaranth" else run_design
    report = run(p, sim=sim, steps=steps, seed=seed, build_dir=build_dir, **sim_options(params))
    mismatches = report["mismatches"]
    if not report["passed"] and mismatches == 0:
        mismatches = -1  # the simulation failed without reporting (see its log)
    detail = (f"{report.get('runs', 0)} streams over {report.get('cycles', 0)} cycles, with "
              f"random gaps, stalls and resets" if report["passed"]
              else f"see {report.get('run_dir', build_dir)}")
    return SimSummary(sim, report.get("decisions", 0), mismatches, report.get("spikes", 0),
                      report.get("seconds", 0.0), unit="events", detail=detail)


BLOCK = Block(
    name="denoiser",
    summary="event-camera background-activity filter: pass an event when a neighbour fired "
            "within a window",
    params=PARAMS,
    build=_build,
    simulate=simulate,
    sim_params=SIM_PARAMS,
)
