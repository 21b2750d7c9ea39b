# SPDX-License-Identifier: Apache-2.0
"""LIF hardware in Amaranth's simulator (fast tier), its parameter checks and its Verilog."""

from __future__ import annotations

import pytest

from neurotile.neurons.lif import LIFIntParams
from neurotile.rtl.export import to_verilog
from neurotile.rtl.lif import LIFDatapath, LIFNeuron, LIFPopulation
from neurotile.testbench.population import _verdict, check_config, run_amaranth

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
    return dict(model="lif", params=LIFIntParams(**params).as_dict(), steps=steps, seed=seed,
                **kw)


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
        active = (self.countdown == 0) if self.config.refractory_width else 1
        m.d.comb += self.out_spike.eq(active & (self.out_membrane >= self.threshold))
        return m


def test_faulty_datapath_is_caught():
    cfg = _cfg(dict(neurons=4), 300, 4)
    report = run_amaranth(cfg, datapath=_OffByOneCompare)
    assert report["mismatches"] > 0
    assert {m["field"] for m in report["first_mismatches"]} >= {"spike"}


@pytest.mark.parametrize("kw,exc,message", [
    (dict(neurons=0), ValueError, "neurons must be between 1 and 4096, not 0"),
    (dict(neurons="8"), TypeError, "neurons must be an integer, not '8'"),
    (dict(width=1), ValueError, "width must be between 2 and 32, not 1"),
    (dict(leak="linear"), ValueError, "leak must be one of 'shift', 'multiply', not 'linear'"),
    (dict(refractory_width=9), ValueError, "refractory_width must be between 0 and 8, not 9"),
    (dict(reset_delay="yes"), TypeError, "reset_delay must be a bool, not 'yes'"),
])
def test_generator_parameters_are_validated(kw, exc, message):
    with pytest.raises(exc, match=f"^{message}$"):
        LIFPopulation(**kw)


@pytest.mark.parametrize("kw,exc,message", [
    (dict(threshold=128), ValueError, "threshold must be between 0 and 127 for a 8-bit membrane, "
     "not 128"),
    (dict(decay=0), ValueError, r"decay must be between 1 and 7 \(beta = 1 - 2\*\*-k in \(0, 1\)\) for a 8-bit membrane, not 0"),
    (dict(leak="multiply", beta_bits=4, decay=16), ValueError,
     r"decay must be between 1 and 15 \(beta = b / 2\*\*4 in \(0, 1\)\), not 16"),
    (dict(refractory_width=0, refractory=1), ValueError,
     "refractory cannot be set for a 0-bit counter"),
    (dict(per_neuron={"leak": [1, 2]}, neurons=2), ValueError,
     "per_neuron names 'leak', which is not a run-time setting for this structure; settings: "
     "threshold, decay, refractory"),
    (dict(bias=[1, 2], neurons=3), ValueError,
     r"bias must be 3 integers \(one per neuron\), not shape \(2,\) of int64"),
    (dict(spikes=3), TypeError, "unknown lif parameter\\(s\\) spikes; allowed: neurons, width, "
     "input_width, leak, beta_bits, refractory_width, reset, reset_delay, threshold, decay, "
     "refractory"),
])
def test_settings_are_validated(kw, exc, message):
    with pytest.raises(exc, match=f"^{message}$"):
        LIFIntParams(**kw)


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
