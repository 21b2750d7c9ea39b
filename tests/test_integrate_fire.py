# SPDX-License-Identifier: Apache-2.0
"""Integrate-and-fire ``if`` (NIR ``IF``, snnTorch ``Leaky(beta=1)``): models and hardware."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from neurotile.neurons.integrate_fire import (IFIntParams, IFParams, NIRIFParams, if_step,
                                              leaky_f32_step, nir_if_step)
from neurotile.neurons.lif import LeakyParams
from neurotile.neurons.spec import run_model
from neurotile.rtl.integrate_fire import IFDatapath
from neurotile.testbench.population import _verdict, check_config, run_amaranth
from tests.test_leaky_integrator import run_checker, sweep_ports

GOLDEN = Path(__file__).parent / "data" / "snntorch_golden.npz"
MODES = [(reset, delay) for reset in ("subtract", "zero", "none") for delay in (True, False)]


def _tag(delay: bool) -> str:
    return "delay" if delay else "nodelay"


# -- structure and settings --------------------------------------------------------------------

@pytest.mark.parametrize("kw,exc,message", [
    (dict(width=1), ValueError, "width must be between 2 and 32, not 1"),
    (dict(reset="none"), ValueError, "reset must be one of 'subtract', 'zero', not 'none'"),
    (dict(reset_delay=0), TypeError, "reset_delay must be a bool, not 0"),
    (dict(threshold=128), ValueError,
     "threshold must be between 0 and 127 for a 8-bit membrane, not 128"),
    (dict(decay=2), TypeError, "unknown if parameter(s) decay; allowed: neurons, width, "
     "input_width, reset, reset_delay, threshold"),
])
def test_parameters_are_validated(kw, exc, message):
    with pytest.raises(exc, match=f"^{re.escape(message)}$"):
        IFIntParams(**kw)


def test_fields_and_ports():
    c = IFIntParams(neurons=2, width=10)
    assert [(f.name, f.width) for f in c.output_fields()] == [("spike", 1), ("membrane", 10)]
    assert [s.name for s in c.ports()] == ["threshold"] and c.threshold == 256


# -- float models ------------------------------------------------------------------------------

@pytest.mark.parametrize("reset,delay", MODES)
def test_leaky_float32_is_snntorch_exactly(reset, delay):
    """Every neuron of the golden file, every beta (1 included), equal in float32."""
    g = np.load(GOLDEN)
    assert str(g["snntorch_version"]) == "1.0.0"
    x = g["input"]
    key = f"leaky_{reset}_{_tag(delay)}"
    want_mem, want_spk = g[f"{key}_mem"], g[f"{key}_spk"]
    for i, (beta, th) in enumerate(zip(g["leaky_beta"], g["leaky_threshold"])):
        p = LeakyParams(beta=float(beta), threshold=float(th), reset=reset, reset_delay=delay)
        mem = np.zeros(1, np.float32)
        got = np.empty(x.shape[0], np.float32)
        spk = np.empty(x.shape[0], bool)
        for t in range(x.shape[0]):
            mem, s = leaky_f32_step(mem, x[t, i:i + 1], p)
            got[t], spk[t] = mem[0], s[0]
        assert np.array_equal(got, want_mem[:, i]), (reset, delay, i)
        assert np.array_equal(spk, want_spk[:, i].astype(bool)), (reset, delay, i)
    assert want_spk.any()


def test_if_is_leaky_with_beta_one():
    g = np.load(GOLDEN)
    i = int(np.flatnonzero(g["leaky_beta"] == 1.0)[0])
    x = g["input"][:, i]
    p = IFParams(threshold=float(g["leaky_threshold"][i]))
    mem = np.zeros(1, np.float32)
    for t in range(x.shape[0]):
        mem, _ = if_step(mem, x[t:t + 1], p)
        assert mem[0] == g["leaky_subtract_delay_mem"][t, i]


def test_nir_if_euler_is_leaky_zero_now():
    """NIR's IF with ``dt r = 1``, ``v_reset = 0`` is ``Leaky(beta=1, "zero", reset_delay=False)``
    up to float32 rounding (same spikes); snnTorch's default fires on other steps."""
    g = np.load(GOLDEN)
    i = int(np.flatnonzero(g["leaky_beta"] == 1.0)[0])
    th = float(g["leaky_threshold"][i])
    x = g["input"][:, i].astype(np.float64)
    p = NIRIFParams.from_leaky(th)
    assert p.r == pytest.approx(1e4)
    v = np.zeros(1)
    spikes = []
    for t in range(x.shape[0]):
        v, s = nir_if_step(v, x[t:t + 1], p)
        np.testing.assert_allclose(v[0], g["leaky_zero_nodelay_mem"][t, i], rtol=1e-5, atol=1e-5)
        spikes.append(bool(s[0]))
    assert spikes == g["leaky_zero_nodelay_spk"][:, i].astype(bool).tolist()
    assert spikes != g["leaky_subtract_delay_spk"][:, i].astype(bool).tolist()


def test_snntorch_nodelay_subtract_keeps_the_delayed_reset():
    """From a stored membrane above the threshold, snnTorch's ``reset_delay=False`` subtract
    needs ``V > 2 theta`` to fire and then subtracts theta once (``leaky_step`` of the LIF module
    would fire at ``V > theta``)."""
    p = LeakyParams(beta=1.0, threshold=1.0, reset_delay=False)
    mem, s = leaky_f32_step(np.float32([1.5]), np.float32([0.2]), p)
    one, v = np.float32(1), np.float32(1.5) + np.float32(0.2) - np.float32(1)
    assert not s[0] and mem[0] == v + one
    mem, s = leaky_f32_step(np.float32([1.5]), np.float32([1.0]), p)
    assert s[0] and mem[0] == np.float32(1.5)


# -- integer model -----------------------------------------------------------------------------

def test_saturates_both_ways():
    c = IFIntParams(neurons=2, width=6, input_width=6, threshold=31)
    out, _ = run_model(c, np.tile([[31, -32]], (5, 1)))
    assert out["membrane"][-1].tolist() == [31, -32] and not out["spike"].any()


@pytest.mark.parametrize("delay", [True, False])
def test_threshold_is_strict(delay):
    c = IFIntParams(neurons=2, threshold=20, reset_delay=delay)
    out, _ = run_model(c, np.array([[20, 21]]))
    assert out["spike"][0].tolist() == [False, True]


@pytest.mark.parametrize("reset,delay,after", [
    ("subtract", True, [30, 30 - 20 + 5]),   # fires at 30; next step 30 + 5 - 20
    ("zero", True, [30, 5]),                 # next step (0) + 5
    ("subtract", False, [10, 15]),            # 30 - 20 at once, then + 5
    ("zero", False, [0, 5]),
])
def test_reset_modes(reset, delay, after):
    c = IFIntParams(neurons=1, threshold=20, reset=reset, reset_delay=delay)
    out, _ = run_model(c, np.array([[30], [5]]))
    assert out["membrane"][:, 0].tolist() == after
    assert out["spike"][:, 0].tolist() == [True, False]


# -- hardware ----------------------------------------------------------------------------------

STRUCTURES = {
    "default": dict(neurons=4),
    "zero-now": dict(neurons=3, reset="zero", reset_delay=False, width=5, input_width=7),
    "subtract-now": dict(neurons=2, reset_delay=False, width=12, input_width=4),
    "neuron": dict(neurons=1, width=3, input_width=2, reset="zero"),
}


@pytest.mark.parametrize("name", list(STRUCTURES))
@pytest.mark.parametrize("storage", ["memory", "ring"])
def test_population_matches_reference(name, storage):
    report = run_checker(IFIntParams(**STRUCTURES[name]), 200, 3, storage=storage,
                         reset_rate=0.01)
    assert report["spikes"] > 0


@pytest.mark.parametrize("reset,delay", [(r, d) for r in ("subtract", "zero")
                                         for d in (True, False)])
def test_datapath_is_exact_for_every_port_value(reset, delay):
    c = IFIntParams(width=4, input_width=3, reset=reset, reset_delay=delay)
    assert sweep_ports(c, IFDatapath) == 0


def test_planted_error_is_the_only_mismatch():
    c = IFIntParams(neurons=4)
    cfg = dict(model="if", params=c.as_dict(), steps=60, seed=9, plant=[30, 2])
    stim, _ = check_config(cfg)
    report = run_amaranth(cfg)
    assert report["mismatches"] == 1
    first = report["first_mismatches"][0]
    assert (first["step"], first["neuron"], first["field"]) == (30, 2, "membrane")
    _verdict(cfg, stim, report)


class _InclusiveCompare(IFDatapath):
    """A classic bug: ``>=`` instead of ``>`` in the threshold compare."""

    def elaborate(self, platform):
        m = super().elaborate(platform)
        m.d.comb += self.out_spike.eq(self.next_membrane >= self.threshold)
        return m


def test_faulty_datapath_is_caught():
    c = IFIntParams(neurons=4)
    report = run_checker(c, 100, 4, datapath=_InclusiveCompare)
    assert report["mismatches"] > 0
    assert {m["field"] for m in report["first_mismatches"]} >= {"spike"}
