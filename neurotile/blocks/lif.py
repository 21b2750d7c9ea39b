# SPDX-License-Identifier: Apache-2.0
"""Catalogue entry of the LIF population."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neurotile.blocks import Block, Param, SimSummary
from neurotile.neurons.lif import LIFIntParams

__all__ = ["BLOCK", "int_params", "simulate", "run_design", "run_bulk_design"]

_STRUCTURAL = ("neurons", "width", "input_width", "leak", "beta_bits", "refractory_width",
               "reset", "reset_delay")


def int_params(params: dict[str, Any]) -> LIFIntParams:
    """Validated :class:`LIFIntParams` from command-line style parameters.

    ``leak_shift`` selects shift mode; ``beta`` (a float in (0, 1)) selects multiply mode with
    ``beta_bits`` fraction bits. Giving both is an error.
    """
    kw = {k: params[k] for k in _STRUCTURAL if params.get(k) is not None}
    for k in ("threshold", "refractory"):
        if params.get(k) is not None:
            kw[k] = params[k]
    shift, beta = params.get("leak_shift"), params.get("beta")
    if shift is not None and beta is not None:
        raise ValueError("give either leak_shift (shift leak) or beta (multiply leak), not both")
    if beta is not None:
        if params.get("leak") == "shift":
            raise ValueError("beta selects the multiply leak; it cannot be used with leak='shift'")
        kw.pop("leak", None)
        return LIFIntParams.from_beta(beta, **kw)
    if shift is not None:
        kw["leak_shift"] = shift
    return LIFIntParams(**kw)


def _build(params: dict[str, Any]):
    from neurotile.rtl.lif import LIFPopulation

    p = int_params(params)
    storage = params.get("storage") or "memory"
    top = f"lif_population_n{p.neurons}_w{p.width}" + ("" if storage == "memory" else f"_{storage}")
    return LIFPopulation(**p.structural(), storage=storage), top


def run_design(p: LIFIntParams, *, sim: str, steps: int, seed: int, build_dir: Path,
               verilog: str | None = None, top: str | None = None, storage: str = "memory",
               **options: Any) -> dict:
    """Check the population ``p`` on ``sim`` (``icarus``, ``verilator`` or ``amaranth``).

    Returns the testbench report (``updates``, ``spikes``, ``mismatches``, ``first_mismatches``,
    ``cycles``, ``seconds``) plus ``passed``. ``options`` go into the testbench configuration
    (``gap``, ``stall``, ``directed``, ``plant``, ``reset_rate``). ``storage`` picks the
    population's state storage (the behaviour is the same).
    """
    from neurotile.testbench.lif import run_amaranth

    fields = {k: getattr(p, k) for k in LIFIntParams.__dataclass_fields__}
    cfg = {"params": fields, "steps": steps, "seed": seed, "storage": storage, **options}
    if sim == "amaranth":
        report = run_amaranth(cfg)
        return report | {"passed": report["mismatches"] == (1 if options.get("plant") else 0)}

    from neurotile.design import elaborate
    from neurotile.testbench.runner import check_simulator, run_checker

    check_simulator(sim)
    if verilog is None:
        design = elaborate(BLOCK, _params_of(p, storage))
        verilog, top = design.verilog, design.top
    return run_checker(sim, verilog=verilog, top=top, test_module="neurotile.testbench.lif",
                       build_dir=build_dir, config=cfg, seed=seed)


def run_bulk_design(p: LIFIntParams, *, sim: str, steps: int, seed: int, build_dir: Path,
                    storage: str = "memory", **options: Any) -> dict:
    """As :func:`run_design`, through the bulk path (:mod:`neurotile.testbench.lif_bulk`)."""
    from neurotile.design import elaborate
    from neurotile.testbench.lif_bulk import run_lif_bulk

    fields = {k: getattr(p, k) for k in LIFIntParams.__dataclass_fields__}
    cfg = {"params": fields, "steps": steps, "seed": seed, **options}
    design = elaborate(BLOCK, _params_of(p, storage))
    report = run_lif_bulk(cfg, sim=sim, verilog=design.verilog, top=design.top,
                          ports=design.ports, build_dir=Path(build_dir) / "bulk")
    return report | {"passed": report["mismatches"] == (1 if options.get("plant") else 0)}


def _params_of(p: LIFIntParams, storage: str) -> dict[str, Any]:
    return dict(p.structural(), storage=storage)


def simulate(params: dict[str, Any], *, sim: str, steps: int, seed: int,
             build_dir: Path) -> SimSummary:
    """``neurotile simulate lif``: random and directed stimulus, every output checked."""
    p = int_params(params)
    options = {"gap": params.get("gap", 0.2), "stall": params.get("stall", 0.2),
               "storage": params.get("storage") or "memory"}
    if params.get("bulk", True) and sim != "amaranth":
        report = run_bulk_design(p, sim=sim, steps=steps, seed=seed, build_dir=build_dir,
                                 **options)
    else:
        report = run_design(p, sim=sim, steps=steps, seed=seed, build_dir=build_dir, **options)
    mismatches = report["mismatches"]
    if not report["passed"] and mismatches == 0:
        mismatches = -1  # the simulation failed without reporting (see its log)
    detail = "" if report["passed"] else f"see {report.get('run_dir', build_dir)}"
    return SimSummary(sim, report["updates"], mismatches, report["spikes"],
                      report.get("seconds", 0.0), detail=detail)


BLOCK = Block(
    name="lif",
    summary="population of leaky integrate-and-fire neurons sharing one datapath",
    params=(
        Param("neurons", int, 32, "number of neurons (1..4096)"),
        Param("width", int, 8, "membrane bits, two's complement (2..32)"),
        Param("input_width", int, 8, "input current bits, two's complement (1..32)"),
        Param("leak", str, None, "leak by arithmetic shift or by fixed-point multiply "
              "(shift unless --beta is given)", choices=("shift", "multiply")),
        Param("leak_shift", int, None, "shift leak k: beta = 1 - 2**-k (run-time default 3)",
              metavar="K"),
        Param("beta", float, None, "multiply leak: beta in (0, 1), rounded to beta_bits",
              metavar="B"),
        Param("beta_bits", int, 8, "fraction bits of the multiply leak's beta"),
        Param("threshold", int, None, "firing threshold, run-time default (2**(width-2))"),
        Param("refractory_width", int, 2, "bits of the refractory counter (0 removes it)"),
        Param("refractory", int, None, "refractory period in steps, run-time default (0)"),
        Param("reset", str, "subtract", "reset after a spike", choices=("subtract", "zero")),
        Param("reset_delay", bool, True, "apply the reset on the step after the spike (snnTorch)"),
        Param("storage", str, "memory", "state storage: memory (register file, fully "
              "synchronous) or ring (clock-gated flip-flop ring, ~40% smaller; docs/flows.md)",
              choices=("memory", "ring")),
    ),
    build=_build,
    simulate=simulate,
    sim_params=(
        Param("gap", float, 0.2, "probability an input is not offered on a cycle"),
        Param("stall", float, 0.2, "probability the output is not read on a cycle"),
        Param("bulk", bool, True, "check whole runs at once, no Python per cycle (icarus, "
              "verilator); --no-bulk uses the cycle-level cocotb checker"),
    ),
)
