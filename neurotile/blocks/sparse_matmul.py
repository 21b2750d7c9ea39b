# SPDX-License-Identifier: Apache-2.0
"""Catalogue entry of the event-driven sparse synapse tile."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from neurotile.blocks import Block, Param, SimSummary, with_waves
from neurotile.neurons.synapses import SparseParams

__all__ = ["BLOCK", "LAYOUT", "check_design", "design_options", "sparse_params", "run_design",
           "run_bulk_design", "simulate", "cocotb_run", "bulk_run", "SIM_PARAMS"]

_STRUCTURAL = ("inputs", "outputs", "weight_width", "acc_width", "depth", "act_width",
               "banks")

SIM_PARAMS = (
    Param("density", float, None, "weight density of the random matrices, 0..1; unset: "
          "runs sweep 0.01 to 1", metavar="D"),
    Param("rate", float, None, "probability an input spikes in a step, 0..1; unset: runs "
          "sweep 0.02 to 1", metavar="R"),
    Param("gap", float, 0.2, "probability an input event is not offered on a cycle"),
    Param("stall", float, 0.2, "probability the output is not read on a cycle"),
    Param("bulk", bool, True, "check whole runs at once, no Python per cycle (icarus, "
          "verilator); --no-bulk uses the cycle-level cocotb checker"),
)


#: Where the synapse memory and the accumulators live (the TinyTapeout project defaults to latch).
STORAGE = Param("storage", str, "memory", "synapse memory and accumulators: memory (flip-flops) "
                "or latch (Sky130 latches and clock gates; docs/latches.md)",
                choices=("memory", "latch"))

#: How the weights are laid out (``dense`` needs latch storage and a depth of inputs x outputs).
LAYOUT = Param("layout", str, "csr", "weight layout: csr (non-zero weights with their column, "
               "row pointers) or dense (every weight in its place; needs --storage latch and "
               "--depth of at least inputs x outputs; docs/sparse.md)", choices=("csr", "dense"))


def design_options(params: dict[str, Any]) -> dict[str, str]:
    """The generator's ``storage`` and ``layout`` keywords among ``params`` (``layout`` only
    when it is not the default, so the CSR designs' Verilog and manifests stay as they were)."""
    layout = params.get("layout") or "csr"
    return {"storage": params.get("storage") or "memory"} | (
        {"layout": layout} if layout != "csr" else {})


def sparse_params(params: dict[str, Any]) -> SparseParams:
    """Validated :class:`SparseParams` from command-line style parameters."""
    return SparseParams(**{k: params[k] for k in _STRUCTURAL if params.get(k) is not None})


def check_design(params: dict[str, Any]) -> SparseParams:
    """The tile's parameters among ``params``, with its storage and layout, validated
    (``TypeError``/``ValueError``) before anything runs."""
    from neurotile.rtl.sparse_matmul import check_layout

    p = sparse_params(params)
    options = design_options(params)
    check_layout(options.get("layout", "csr"), options["storage"], p)
    return p


def _build(params: dict[str, Any]):
    from neurotile.rtl.sparse_matmul import SparseMatmul

    p = sparse_params(params)
    top = f"sparse_matmul_{p.inputs}x{p.outputs}_w{p.weight_width}"
    return SparseMatmul(**p.structural(), **design_options(params)), top


def sim_options(params: dict[str, Any]) -> dict[str, Any]:
    """The testbench options among ``params``, validated."""
    out: dict[str, Any] = {}
    for name in ("density", "rate", "gap", "stall"):
        value = params.get(name)
        if value is None:
            continue
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"{name} must be between 0 and 1, not {value}")
        out[name] = float(value)
    return out


def cocotb_run(block: Block, structural: dict[str, Any], *, sim: str, test_module: str,
               cfg: dict[str, Any], seed: int, build_dir: Path) -> dict[str, Any]:
    """Generate ``block``'s Verilog, run ``test_module`` on ``sim`` with ``cfg``; the report.

    The report gains ``passed`` and ``run_dir``; a run that failed without a report gets
    ``mismatches`` -1.
    """
    from neurotile.design import elaborate
    from neurotile.testbench.runner import check_simulator, run_checker

    check_simulator(sim)
    design = elaborate(block, structural)
    return run_checker(sim, verilog=design.verilog, top=design.top, test_module=test_module,
                       build_dir=build_dir, config=cfg, seed=seed, ports=design.ports)


def bulk_run(block: Block, structural: dict[str, Any], *, sim: str, runner: Any,
             cfg: dict[str, Any], build_dir: Path) -> dict[str, Any]:
    """Generate ``block``'s Verilog and check ``cfg`` through the bulk path with ``runner``
    (e.g. :mod:`neurotile.testbench.sparse_bulk`); the report gains ``passed``: no mismatch, or
    exactly one when ``cfg`` plants one (a plant at step or event 0 counts)."""
    from neurotile.design import elaborate

    design = elaborate(block, structural)
    report = runner(cfg, sim=sim, verilog=design.verilog, top=design.top, ports=design.ports,
                    build_dir=Path(build_dir) / "bulk")
    return report | {"passed": report["mismatches"] == (1 if cfg.get("plant") is not None else 0)}


def _layout_cfg(storage: str, layout: str) -> dict[str, str]:
    """The testbench configuration's ``storage`` and ``layout`` for a dense tile (how it is
    programmed, and what Amaranth's simulator builds); nothing for the CSR layout."""
    return {"storage": storage, "layout": layout} if layout != "csr" else {}


def run_bulk_design(p: SparseParams, *, sim: str, steps: int, seed: int, build_dir: Path,
                    storage: str = "memory", layout: str = "csr",
                    **options: Any) -> dict[str, Any]:
    """As :func:`run_design` on ``icarus`` or ``verilator``, through the bulk path."""
    from neurotile.testbench.sparse_bulk import run_sparse_bulk

    cfg = {"params": p.structural(), "steps": steps, "seed": seed, **options,
           **_layout_cfg(storage, layout)}
    design = p.structural() | design_options({"storage": storage, "layout": layout})
    return bulk_run(BLOCK, design, sim=sim, runner=run_sparse_bulk, cfg=cfg,
                    build_dir=build_dir)


def run_design(p: SparseParams, *, sim: str, steps: int, seed: int, build_dir: Path,
               storage: str = "memory", layout: str = "csr", **options: Any) -> dict[str, Any]:
    """Check the tile ``p`` on ``sim`` (``icarus``, ``verilator`` or ``amaranth``).

    Returns the testbench report (``results``, ``steps``, ``events``, ``synaptic_ops``,
    ``periods``, ``mismatches``, ``first_mismatches``, ``cycles``, ``seconds``) plus ``passed``.
    ``options`` go into the testbench configuration (``density``, ``rate``, ``gap``, ``stall``,
    ``directed``, ``run_length``, ``plant``). ``storage`` selects the memories of the Verilog
    (Amaranth's simulator runs latch storage as its equivalent memory) and ``layout`` the weight
    layout (``dense``: programmed weight by weight, built with latches on every simulator).
    """
    cfg = {"params": p.structural(), "steps": steps, "seed": seed, **options,
           **_layout_cfg(storage, layout)}
    if sim == "amaranth":
        from neurotile.testbench.sparse_matmul import run_amaranth

        report = run_amaranth(cfg)
        return report | {"passed": report["mismatches"] == (1 if options.get("plant") is not None
                                                            else 0)}
    design = p.structural() | design_options({"storage": storage, "layout": layout})
    return cocotb_run(BLOCK, design, sim=sim, cfg=cfg, seed=seed, build_dir=build_dir,
                      test_module="neurotile.testbench.sparse_matmul")


def simulate(params: dict[str, Any], *, sim: str, steps: int, seed: int,
             build_dir: Path) -> SimSummary:
    """``neurotile simulate sparse-matmul``: directed corners and random runs, every
    accumulator checked; counts synaptic operations (``spikes``: input events)."""
    p = check_design(params)
    options = design_options(params)
    run = run_bulk_design if params.get("bulk", True) and sim != "amaranth" else run_design
    report = run(p, sim=sim, steps=steps, seed=seed, build_dir=build_dir, **options,
                 **sim_options(params))
    mismatches = report["mismatches"]
    if not report["passed"] and mismatches == 0:
        mismatches = -1  # the simulation failed without reporting (see its log)
    ops, cycles = report.get("synaptic_ops", 0), report.get("cycles", 0)
    detail = (f"{report.get('results', 0)} accumulators over {cycles} cycles, with random gaps "
              f"and stalls" if report["passed"] else f"see {report.get('run_dir', build_dir)}")
    return SimSummary(sim, ops, mismatches, report.get("events", 0), report.get("seconds", 0.0),
                      unit="synaptic-ops", detail=with_waves(detail, report))


BLOCK = Block(
    name="sparse-matmul",
    summary="event-driven sparse synapse tile: y = W^T s, weights stored CSR by input "
            "(or dense)",
    params=(
        Param("inputs", int, 16, "input addresses, rows of W (1..4096)"),
        Param("outputs", int, 16, "outputs, columns of W and accumulators (1..4096)"),
        Param("weight_width", int, 8, "bits of a signed weight (2..16)"),
        Param("acc_width", int, 12, "bits of a signed, saturating accumulator (weight_width..32)"),
        Param("depth", int, 256, "non-zero weights the synapse memory holds (1..65536)"),
        Param("act_width", int, 1, "bits of an input activation; 1 = binary spikes (1..8)"),
        Param("banks", int, 1, "accumulator banks: 2 accumulates a step while the previous one "
              "drains (1..2)"),
        STORAGE,
        LAYOUT,
    ),
    build=_build,
    simulate=simulate,
    sim_params=SIM_PARAMS,
    extras={"check": check_design},
)
