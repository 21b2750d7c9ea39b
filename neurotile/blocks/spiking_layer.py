# SPDX-License-Identifier: Apache-2.0
"""Catalogue entry of the spiking layer: sparse synapses into a LIF population."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from neurotile.blocks import Block, Param, SimSummary, with_waves
from neurotile.neurons.lif import LIFIntParams
from neurotile.blocks.sparse_matmul import (LAYOUT, SIM_PARAMS, STORAGE, bulk_run, cocotb_run,
                                             design_options, sim_options)

__all__ = ["BLOCK", "layer_kwargs", "run_design", "run_bulk_design", "simulate"]

#: The neurons' structural parameters, as the LIF model declares them (the layer's membranes
#: default to 16 bits; the input width is ``acc_width``).
_NEURON = tuple(replace(p, default=16) if p.name == "width" else p
                for p in LIFIntParams.PARAMS if p.name != "input_width")
_STRUCTURAL = ("inputs", "neurons", "weight_width", "acc_width", "depth", "act_width",
               "banks") + tuple(p.name for p in _NEURON)


def layer_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    """The layer's generator keywords among ``params``, validated."""
    from neurotile.rtl.spiking_layer import layer_params

    kw = {k: params[k] for k in _STRUCTURAL if params.get(k) is not None}
    layer_params(**kw)
    return kw


def _build(params: dict[str, Any]):
    from neurotile.rtl.spiking_layer import SpikingLayer

    layer = SpikingLayer(**layer_kwargs(params), **design_options(params))
    top = f"spiking_layer_{layer.sp.inputs}x{layer.lp.neurons}_w{layer.sp.weight_width}"
    return layer, top


def _design(params: dict[str, Any]) -> dict[str, Any]:
    """The generator's keywords with the storage and weight layout of the Verilog (the checkers'
    reference needs only :func:`layer_kwargs`; Amaranth's simulator runs latch storage as its
    equivalent), validated."""
    from neurotile.rtl.sparse_matmul import check_layout
    from neurotile.rtl.spiking_layer import layer_params

    kw = layer_kwargs(params)
    options = design_options(params)
    check_layout(options.get("layout", "csr"), options["storage"], layer_params(**kw)[0])
    return kw | options


def _layout_cfg(design: dict[str, Any]) -> dict[str, Any]:
    """The testbench configuration's ``storage`` and ``layout`` for a dense tile (how it is
    programmed, and what Amaranth's simulator builds); nothing for the CSR layout."""
    if design.get("layout", "csr") == "csr":
        return {}
    return {"storage": design["storage"], "layout": design["layout"]}


def run_design(kw: dict[str, Any], *, sim: str, steps: int, seed: int, build_dir: Path,
               **options: Any) -> dict[str, Any]:
    """Check the layer built from ``kw`` on ``sim`` (``icarus``, ``verilator``, ``amaranth``).

    Returns the testbench report (``updates``, ``steps``, ``spikes``, ``periods``,
    ``mismatches``, ``first_mismatches``, ``cycles``, ``seconds``) plus ``passed``. ``options``
    go into the testbench configuration (``density``, ``rate``, ``gap``, ``stall``,
    ``directed``, ``run_length``, ``plant``). ``kw`` may hold ``storage`` and ``layout``.
    """
    design = _design(kw)
    kw = layer_kwargs(kw)
    cfg = {"params": kw, "steps": steps, "seed": seed, **options, **_layout_cfg(design)}
    if sim == "amaranth":
        from neurotile.testbench.spiking_layer import run_amaranth

        report = run_amaranth(cfg)
        return report | {"passed": report["mismatches"] == (1 if options.get("plant") is not None
                                                            else 0)}
    return cocotb_run(BLOCK, design, sim=sim, cfg=cfg, seed=seed, build_dir=build_dir,
                      test_module="neurotile.testbench.spiking_layer")


def run_bulk_design(kw: dict[str, Any], *, sim: str, steps: int, seed: int, build_dir: Path,
                    **options: Any) -> dict[str, Any]:
    """As :func:`run_design` on ``icarus`` or ``verilator``, through the bulk path
    (:mod:`neurotile.testbench.sparse_bulk`)."""
    from neurotile.testbench.sparse_bulk import run_layer_bulk

    design = _design(kw)
    kw = layer_kwargs(kw)
    cfg = {"params": kw, "steps": steps, "seed": seed, **options, **_layout_cfg(design)}
    return bulk_run(BLOCK, design, sim=sim, runner=run_layer_bulk, cfg=cfg, build_dir=build_dir)


def simulate(params: dict[str, Any], *, sim: str, steps: int, seed: int,
             build_dir: Path) -> SimSummary:
    """``neurotile simulate spiking-layer``: every output spike event of every step checked."""
    run = run_bulk_design if params.get("bulk", True) and sim != "amaranth" else run_design
    report = run(params, sim=sim, steps=steps, seed=seed, build_dir=build_dir,
                 **sim_options(params))
    mismatches = report["mismatches"]
    if not report["passed"] and mismatches == 0:
        mismatches = -1
    detail = "" if report["passed"] else f"see {report.get('run_dir', build_dir)}"
    return SimSummary(sim, report.get("updates", 0), mismatches, report.get("spikes", 0),
                      report.get("seconds", 0.0), unit="neuron-updates",
                      detail=with_waves(detail, report))


BLOCK = Block(
    name="spiking-layer",
    summary="sparse synapse tile feeding a LIF population: spike events in, spike events out",
    params=(
        Param("inputs", int, 16, "input addresses, rows of W (1..4096)"),
        Param("neurons", int, 16, "LIF neurons, columns of W (1..4096)"),
        Param("weight_width", int, 8, "bits of a signed weight (2..16)"),
        Param("acc_width", int, 12, "bits of the saturating accumulators = neuron input "
              "current (weight_width..32)"),
        Param("depth", int, 256, "non-zero weights the synapse memory holds (1..65536)"),
        Param("act_width", int, 1, "bits of an input activation; 1 = binary spikes (1..8)"),
        Param("banks", int, 1, "accumulator banks: 2 accumulates a step while the previous one "
              "drains (1..2)"),
        *_NEURON,
        STORAGE,
        LAYOUT,
    ),
    build=_build,
    simulate=simulate,
    sim_params=SIM_PARAMS,
    extras={"check": _design},
)
