# SPDX-License-Identifier: Apache-2.0
"""The bulk checking path of the Hodgkin-Huxley neuron, the sparse tile and the spiking layer.

For each block, on Icarus and Verilator: a bulk run agrees with the reference model, a planted
error in the expectation is reported where it was planted; on Icarus, the bulk and cycle-level
checkers agree on the same stimulus.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from neurotile.blocks import hh, sparse_matmul, spiking_layer
from neurotile.design import elaborate
from neurotile.testbench.bulk import hex_records, parse_records
from neurotile.testbench.hh_bulk import run_hh_bulk
from neurotile.testbench.sparse_bulk import (compare_spikes, layer_harness, run_layer_bulk,
                                             run_sparse_bulk)
from neurotile.testbench.spiking_layer import layer_params_of, make_stimulus

SIMS = ("icarus", "verilator")


@cache
def _design(block: str, structural: tuple = ()):
    mod = {"hh": hh, "sparse": sparse_matmul, "layer": spiking_layer}[block]
    return elaborate(mod.BLOCK, dict(structural))


def _params(block: str, structural: tuple = ()) -> dict:
    if block == "hh":
        return hh.int_params(dict(structural)).structural()
    if block == "sparse":
        return sparse_matmul.sparse_params(dict(structural)).structural()
    return spiking_layer.layer_kwargs(dict(structural))


_RUN = {"hh": run_hh_bulk, "sparse": run_sparse_bulk, "layer": run_layer_bulk}
# Small but real: 2000 Euler steps (50 ms of model time, ~150,000 cycles) of the neuron;
# 600 timesteps of the tile and the layer (directed corners, five random matrices at densities
# 1 % to 100 %, reprogramming, resets, an aborted step).
_STEPS = {"hh": 2000, "sparse": 600, "layer": 600}
_PLANT = {"hh": (1234, 0, "v"), "sparse": ([321, 7], "value"), "layer": ([321, 7], "spike")}


def _bulk(block: str, sim: str, build_root, *, steps: int | None = None, seed: int = 11,
          structural: tuple = (), **options):
    design = _design(block, structural)
    cfg = {"params": _params(block, structural), "steps": steps or _STEPS[block], "seed": seed,
           **options}
    name = block + "".join(f"-{k}{v}" for k, v in structural)
    return _RUN[block](cfg, sim=sim, verilog=design.verilog, top=design.top,
                       ports=design.ports, build_dir=build_root / "bulk" / name)


# -- the spike comparison, without a simulator -------------------------------------------------

def _layer_records(stim, h, order=None):
    """The records a correct layer would produce for ``stim`` (``order`` permutes a step)."""
    aw = h.record_fields[0]["spikes__payload"][1] - 1
    payloads = []
    for t, fired in enumerate(stim.expected):
        events = list(fired) if order != t else list(reversed(fired))
        payloads += events + [1 << aw]
    payload = np.array(payloads, np.int64)
    off = h.record_fields[0]["spikes__payload"][0]
    text = hex_records([(payload, off, aw + 1)], h.record_width, len(payload))
    return parse_records(text, h.record_width)


def test_spike_comparison_reports_step_neuron_and_order():
    cfg = {"params": spiking_layer.layer_kwargs({}), "steps": 60, "seed": 3}
    stim = make_stimulus(*layer_params_of(cfg), 60, 3)
    design = _design("layer")
    h = layer_harness(design.top, design.ports, 100)
    busy = next(t for t, e in enumerate(stim.expected) if len(e) >= 2)
    good = compare_spikes(h, stim, _layer_records(stim, h))
    assert good["mismatches"] == 0 and good["steps"] == 60
    assert good["spikes"] == stim.fired > 0
    swapped = compare_spikes(h, stim, _layer_records(stim, h, order=busy))
    assert [(m["step"], m["neuron"], m["field"]) for m in swapped["first_mismatches"]] == [
        (busy, -1, "events in index order")]
    records = _layer_records(stim, h)
    fired = stim.expected[busy][0]
    stim.plant_error(busy, fired)
    planted = compare_spikes(h, stim, records)
    assert planted["mismatches"] == 1
    assert planted["first_mismatches"][0] == {"step": busy, "neuron": fired, "field": "spike",
                                             "expected": 0, "observed": 1}


# -- on the simulators -------------------------------------------------------------------------

def _work(block: str, report: dict) -> None:
    """The run did the work it was given, and some of it was interesting."""
    if block == "hh":
        assert report["updates"] == report["sent"] == _STEPS["hh"]
        assert report["spikes"] > 0 and report["resets"] > 0
    elif block == "sparse":
        assert report["steps"] == report["sent"] >= _STEPS["sparse"]
        assert report["results"] == 16 * report["steps"] and report["synaptic_ops"] > 10_000
    else:
        assert report["steps"] == report["sent"] >= _STEPS["layer"]
        assert report["updates"] == 16 * report["steps"] and report["spikes"] > 100


@pytest.mark.sim
@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("block", ("hh", "sparse", "layer"))
def test_bulk_bit_exact(block, sim, build_root):
    report = _bulk(block, sim, build_root)
    assert report["mismatches"] == 0, report["first_mismatches"][:3]
    _work(block, report)


@pytest.mark.sim
@pytest.mark.parametrize("sim", SIMS)
@pytest.mark.parametrize("block", ("hh", "sparse", "layer"))
def test_bulk_reports_planted_error(block, sim, build_root):
    if block == "hh":
        step, neuron, field = _PLANT["hh"]
        report = _bulk(block, sim, build_root, plant=step)
    else:
        (step, neuron), field = _PLANT[block]
        report = _bulk(block, sim, build_root, plant=[step, neuron])
    assert report["mismatches"] == 1, report["first_mismatches"][:3]
    first = report["first_mismatches"][0]
    assert (first["step"], first["neuron"], first["field"]) == (step, neuron, field)
    assert abs(first["expected"] - first["observed"]) == 1


@pytest.mark.sim
def test_bulk_sparse_two_banks_and_activations(build_root):
    """Two accumulator banks (the next step overlaps the drain) and 3-bit activations."""
    report = _bulk("sparse", "icarus", build_root, steps=300,
                   structural=(("act_width", 3), ("banks", 2)))
    assert report["mismatches"] == 0, report["first_mismatches"][:3]
    assert report["steps"] == report["sent"] >= 300


@pytest.mark.sim
@pytest.mark.parametrize("block", ("hh", "sparse", "layer"))
def test_bulk_agrees_with_cycle_checker(block, build_root):
    """Same stimulus through both paths: same outputs checked, same spikes, no mismatch."""
    steps = {"hh": 800, "sparse": 300, "layer": 300}[block]
    bulk = _bulk(block, "icarus", build_root, steps=steps, seed=8)
    build_dir = build_root / "bulk-cycle" / block
    if block == "hh":
        cycle = hh.run_design(hh.int_params({}), sim="icarus", steps=steps, seed=8,
                              build_dir=build_dir)
        keys = ("updates", "spikes")
    elif block == "sparse":
        cycle = sparse_matmul.run_design(sparse_matmul.sparse_params({}), sim="icarus",
                                         steps=steps, seed=8, build_dir=build_dir)
        keys = ("results", "steps", "events", "synaptic_ops")
    else:
        cycle = spiking_layer.run_design({}, sim="icarus", steps=steps, seed=8,
                                         build_dir=build_dir)
        keys = ("updates", "steps", "spikes")
    assert bulk["mismatches"] == cycle["mismatches"] == 0
    assert cycle["passed"]
    assert {k: bulk[k] for k in keys} == {k: cycle[k] for k in keys}


@pytest.mark.sim
def test_bulk_catches_faulty_tile(build_root):
    """A tile whose output 3 is off by one LSB: every step's output 3 is reported."""
    from amaranth.hdl import Module
    from amaranth.lib import wiring

    from neurotile.design import port_list
    from neurotile.rtl.export import to_verilog
    from neurotile.rtl.sparse_matmul import SparseMatmul

    class FaultyTile(wiring.Component):
        def __init__(self) -> None:
            self.inner = SparseMatmul()
            super().__init__(dict(self.inner.signature.members))

        def elaborate(self, platform):
            m = Module()
            m.submodules.inner = t = self.inner
            m.d.comb += [
                t.events.payload.eq(self.events.payload), t.events.valid.eq(self.events.valid),
                self.events.ready.eq(t.events.ready),
                self.results.valid.eq(t.results.valid), t.results.ready.eq(self.results.ready),
                self.results.payload.eq(t.results.payload),
            ]
            for port in ("ptr_write", "syn_write"):
                ours, theirs = getattr(self, port), getattr(t, port)
                m.d.comb += [theirs.en.eq(ours.en), theirs.addr.eq(ours.addr),
                             theirs.data.eq(ours.data)]
            with m.If(t.results.payload.index == 3):
                m.d.comb += self.results.payload.value.eq(t.results.payload.value ^ 1)
            return m

    tile = FaultyTile()
    cfg = {"params": _params("sparse"), "steps": 100, "seed": 4}
    report = run_sparse_bulk(cfg, sim="icarus", verilog=to_verilog(tile, name="sparse_faulty"),
                             top="sparse_faulty", ports=port_list(tile),
                             build_dir=build_root / "bulk" / "sparse-faulty")
    assert report["mismatches"] == report["steps"] >= 100
    assert {(m["neuron"], m["field"]) for m in report["first_mismatches"]} == {(3, "value")}
    assert [m["step"] for m in report["first_mismatches"]] == list(range(20))
