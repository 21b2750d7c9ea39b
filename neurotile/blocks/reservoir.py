# SPDX-License-Identifier: Apache-2.0
"""Catalogue entry of the spiking reservoir (liquid state machine).

The reservoir is :func:`neurotile.neurons.reservoir.reservoir_network`: one recurrent LIF layer
with seeded random weights, built as :class:`neurotile.rtl.network.NetworkTop`, whose
``spikes`` stream carries every reservoir spike (the readout is trained offline on them,
:mod:`neurotile.neurons.readout`). ``neurotile simulate reservoir`` plays random inputs through
the bulk path (:func:`neurotile.testbench.network_bulk.run_network_bulk`) and compares every
spike, step end and end-of-sample count with the integer model.

One seed: ``--seed`` draws the reservoir's weights; in ``simulate`` the same seed also draws
the random input values and the harness's gaps and stalls, so a failing run reproduces, weights
included, with that one number.
"""

from __future__ import annotations

import dataclasses
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from neurotile.blocks import Block, Param, SimSummary
from neurotile.neurons.reservoir import ReservoirParams, reservoir_network

__all__ = ["BLOCK", "PARAMS", "SIM_PARAMS", "reservoir_params", "reservoir_top", "simulate",
           "check_reservoir"]

_DEFAULTS = {f.name: f.default for f in dataclasses.fields(ReservoirParams)}


def _p(name: str, type_: type, help_: str, **kw: Any) -> Param:
    return Param(name, type_, _DEFAULTS[name], help_, **kw)


#: The generator's parameters: every field of :class:`ReservoirParams` and the weight mode.
PARAMS = (
    _p("neurons", int, "reservoir neurons (2..1024)"),
    _p("inputs", int, "input channels (1..256)"),
    _p("density", float, "probability of a recurrent synapse i->j, i != j (0..1)"),
    _p("input_density", float, "probability of an input synapse (0..1)"),
    _p("excitatory", float, "fraction of excitatory neurons; the others inhibit (0..1)"),
    _p("radius", float, "spectral radius of the recurrent matrix, in thresholds (0..4)"),
    _p("input_gain", float, "thresholds a full-scale input adds through a unit synapse (0..8)"),
    _p("input_width", int, "bits of an unsigned input value; 1 = binary spikes (1..8)"),
    _p("weight_width", int, "bits of a signed integer weight (2..16)"),
    _p("width", int, "membrane bits, two's complement (4..24)"),
    _p("threshold", int, "firing threshold in membrane units = one weight unit of 1/threshold"),
    _p("decay", int, "leak shift k: beta = 1 - 2**-k"),
    _p("count_width", int, "bits of each neuron's end-of-sample spike counter (1..16)"),
    _p("seed", int, "seed of the weights (and, when simulating, of the stimulus)"),
    Param("weights", str, "constant", "weights as constants of the logic, or host-written "
          "memories", choices=("constant", "programmable")),
)

SIM_PARAMS = (
    Param("sample_steps", int, 8, "timesteps of a sample (each sample starts from rest)",
          low=1, high=4096),
    Param("rate", float, 0.5, "probability an input is non-zero in a step, 0..1", low=0.0,
          high=1.0),
    Param("gap", float, 0.2, "probability an input event is not offered on a cycle"),
    Param("stall", float, 0.2, "probability the outputs are not read on a cycle"),
    Param("bulk", bool, True, "check whole runs at once, no Python per cycle (icarus, "
          "verilator); --no-bulk runs Amaranth's simulator cycle by cycle"),
)


def reservoir_params(params: dict[str, Any]) -> ReservoirParams:
    """Validated :class:`ReservoirParams` from command-line style parameters."""
    given = {k: params[k] for k in _DEFAULTS if params.get(k) is not None}
    return ReservoirParams(**given)


def _weights(params: dict[str, Any]) -> str:
    weights = params.get("weights") or "constant"
    if weights not in ("constant", "programmable"):
        raise ValueError(f"weights must be 'constant' or 'programmable', not {weights!r}")
    return weights


def reservoir_top(p: ReservoirParams, weights: str = "constant") -> str:
    """The top module's name: ``reservoir_<N>n_s<seed>_<digest8>`` (the hardware's digest)."""
    from neurotile.rtl.network import network_digest

    digest = network_digest(reservoir_network(p), weights)
    return f"reservoir_{p.neurons}n_s{p.seed}_{digest[:8]}"


def _build(params: dict[str, Any]):
    from neurotile.rtl.network import NetworkTop

    p = reservoir_params(params)
    weights = _weights(params)
    return NetworkTop(reservoir_network(p), weights=weights), reservoir_top(p, weights)


def _option(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if value is None:
        value = next(s.default for s in SIM_PARAMS if s.name == name)
    spec = next(s for s in SIM_PARAMS if s.name == name)
    if spec.type is float and not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"{name} must be between 0 and 1, not {value}")
    return spec.check(value)


def check_reservoir(p: ReservoirParams, *, sim: str, samples: int, sample_steps: int, seed: int,
                    build_dir: Path, weights: str = "constant", rate: float = 0.5,
                    gap: float = 0.2, stall: float = 0.2, bulk: bool = True,
                    plant: tuple[int, int, int] | None = None,
                    netlist: str | Path | None = None) -> dict[str, Any]:
    """Play ``samples`` random samples through the reservoir's hardware and compare.

    Input values are drawn from ``default_rng([seed, 1])``: each input non-zero with
    probability ``rate``, uniform in ``1 .. 2**input_width - 1``. ``bulk`` runs the bulk
    checker on ``icarus`` or ``verilator``; otherwise (or on ``amaranth``) Amaranth's simulator
    runs cycle by cycle. ``plant = (sample, step, neuron)`` flips one expected spike.
    ``netlist``: run the synthesised gate-level netlist of the design (``<top>.gl.v``) on
    Icarus instead of the RTL. Returns
    the checker's report (:func:`~neurotile.testbench.network_bulk.run_network_bulk`) plus
    ``seconds`` and ``passed`` (no mismatch, or only the planted one).
    """
    from neurotile.testbench.network_bulk import (random_inputs, run_network_amaranth,
                                                  run_network_bulk)

    net = reservoir_network(p)
    x = random_inputs(net, samples, sample_steps, np.random.default_rng([seed, 1]), rate=rate)
    t0 = time.perf_counter()
    if bulk and sim != "amaranth":
        report = run_network_bulk(net, x, sim=sim, weights=weights, build_dir=build_dir,
                                  seed=seed, gap=gap, stall=stall, plant=plant,
                                  netlist=netlist)
    else:
        report = run_network_amaranth(net, x, weights=weights, seed=seed, gap=gap, stall=stall,
                                      plant=plant)
    report["seconds"] = report.get("run_seconds", time.perf_counter() - t0)
    report["passed"] = report["mismatches"] == (1 if plant else 0)
    return report


def simulate(params: dict[str, Any], *, sim: str, steps: int, seed: int,
             build_dir: Path) -> SimSummary:
    """``neurotile simulate reservoir``: ``steps`` timesteps of random input, in samples of
    ``sample_steps``, every reservoir spike compared with the integer model."""
    p = reservoir_params(params | {"seed": seed} if params.get("seed") is None else params)
    sample_steps = _option(params, "sample_steps")
    samples = max(1, math.ceil(steps / sample_steps))
    report = check_reservoir(p, sim=sim, samples=samples, sample_steps=sample_steps, seed=seed,
                             build_dir=Path(build_dir), weights=_weights(params),
                             rate=_option(params, "rate"), gap=_option(params, "gap"),
                             stall=_option(params, "stall"), bulk=_option(params, "bulk"))
    mismatches = report["mismatches"]
    if not report["passed"] and mismatches == 0:
        mismatches = -1
    per_step = report.get("cycles", 0) / (samples * sample_steps)
    detail = (f"{samples} samples of {sample_steps} steps, {per_step:.1f} cycles per step "
              f"with random gaps and stalls" if report["passed"] else f"see {build_dir}")
    return SimSummary(sim, samples * sample_steps * p.neurons, mismatches, report["spikes"],
                      report["seconds"], unit="neuron-updates", detail=detail)


BLOCK = Block(
    name="reservoir",
    summary="spiking reservoir (liquid state machine): seeded random recurrent LIF network, "
            "spikes streamed out",
    params=PARAMS,
    build=_build,
    simulate=simulate,
    sim_params=SIM_PARAMS,
)
