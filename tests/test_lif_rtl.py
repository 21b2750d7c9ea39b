# SPDX-License-Identifier: Apache-2.0
"""LIF hardware in Amaranth's simulator (fast tier), its parameter checks and its Verilog."""

from __future__ import annotations

import pytest

from neurotile.rtl.export import to_verilog
from neurotile.rtl.lif import LIFDatapath, LIFNeuron, LIFPopulation
from neurotile.testbench.common import amaranth_loop
from neurotile.testbench.lif import _verdict, check_config, lif_ports, run_amaranth

DESIGNS = {
    "default-n4": dict(neurons=4),
    "neuron": dict(neurons=1),
    "multiply-zero-now": dict(neurons=5, leak="multiply", beta_bits=6, reset="zero",
                              reset_delay=False, refractory_width=0),
    "subtract-now-wide": dict(neurons=3, width=12, input_width=5, reset_delay=False,
                              refractory_width=3),
    "narrow": dict(neurons=2, width=3, input_width=2, refractory_width=1),
}


def _cfg(params, steps, seed, **kw):
    return dict(params=params, steps=steps, seed=seed, **kw)


@pytest.mark.parametrize("name", list(DESIGNS))
@pytest.mark.parametrize("seed", [1, 2])
def test_population_matches_reference(name, seed):
    cfg = _cfg(DESIGNS[name], 400, seed, reset_rate=0.01)
    stim, _ = check_config(cfg)
    report = run_amaranth(cfg)
    _verdict(cfg, stim, report)
    assert report["spikes"] > 0


def test_without_backpressure_one_update_per_cycle():
    cfg = _cfg(dict(neurons=8), 50, 3, gap=0.0, stall=0.0, directed=False, reset_rate=0.0)
    stim, _ = check_config(cfg)
    report = run_amaranth(cfg)
    _verdict(cfg, stim, report)
    # one reset (2 cycles), the clearing sweep (8), then one update per cycle plus the last output
    assert report["cycles"] == 2 + 8 + stim.updates + 1


def test_planted_error_is_reported():
    cfg = _cfg(dict(neurons=4), 60, 9, plant=[30, 2])
    stim, _ = check_config(cfg)
    report = run_amaranth(cfg)
    assert report["mismatches"] == 1
    assert report["first_mismatches"][0]["step"] == 30
    assert report["first_mismatches"][0]["neuron"] == 2
    _verdict(cfg, stim, report)
    with pytest.raises(AssertionError, match="mismatches against the reference model"):
        _verdict(dict(cfg, plant=None), stim, report)


class _OffByOneCompare(LIFDatapath):
    """A classic bug: ``>=`` instead of ``>`` in the threshold compare."""

    def elaborate(self, platform):
        m = super().elaborate(platform)
        active = (self.refr == 0) if self.p.refractory_width else 1
        m.d.comb += self.spike.eq(active & (self.next_membrane >= self.threshold))
        return m


class _Mutant(LIFPopulation):
    datapath = _OffByOneCompare


def test_faulty_datapath_is_caught():
    cfg = _cfg(dict(neurons=4), 300, 4)
    stim, checker = check_config(cfg)
    amaranth_loop(_Mutant(neurons=4), checker, max_cycles=100_000, ports=lif_ports)
    report = checker.report()
    assert report["mismatches"] > 0
    assert {m["field"] for m in report["first_mismatches"]} >= {"spike"}


@pytest.mark.parametrize("kw,exc,message", [
    (dict(neurons=0), ValueError, "neurons must be between 1 and 4096, not 0"),
    (dict(neurons="8"), TypeError, "neurons must be an integer, not '8'"),
    (dict(width=1), ValueError, "width must be between 2 and 32, not 1"),
    (dict(leak="linear"), ValueError, "leak must be 'shift' or 'multiply', not 'linear'"),
    (dict(refractory_width=9), ValueError, "refractory_width must be between 0 and 8, not 9"),
    (dict(reset_delay="yes"), TypeError, "reset_delay must be a bool, not 'yes'"),
])
def test_generator_parameters_are_validated(kw, exc, message):
    with pytest.raises(exc, match=f"^{message}$"):
        LIFPopulation(**kw)


def test_neuron_has_no_neurons_parameter():
    with pytest.raises(TypeError, match="^LIFNeuron has no 'neurons' parameter; use LIFPopulation$"):
        LIFNeuron(neurons=3)


def test_verilog_is_deterministic_and_parameter_dependent():
    a = to_verilog(LIFPopulation(neurons=16), name="lif")
    b = to_verilog(LIFPopulation(neurons=16), name="lif")
    c = to_verilog(LIFPopulation(neurons=17), name="lif")
    assert a == b
    assert a != c
    assert "/*" not in a.split("\n", 1)[1] or "src" not in a  # no source locations


def test_population_of_256_elaborates():
    text = to_verilog(LIFPopulation(neurons=256), name="lif256")
    assert "module lif256" in text
