# SPDX-License-Identifier: Apache-2.0
"""Current-based LIF ``cuba-lif`` (NIR ``CubaLIF``, snnTorch ``Synaptic``): models, hardware."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from neurotile.neurons.cuba_lif import (CubaLIFIntParams, NIRCubaLIFParams, SynapticParams,
                                        nir_cubalif_step, synaptic_step)
from neurotile.neurons.integrate_fire import leaky_f32_step
from neurotile.neurons.lif import LeakyParams, LIFIntParams
from neurotile.neurons.spec import run_model
from neurotile.rtl.cuba_lif import CubaLIFDatapath
from neurotile.testbench.population import _verdict, check_config, run_amaranth
from tests.test_leaky_integrator import run_checker, sweep_ports

GOLDEN = Path(__file__).parent / "data" / "snntorch_golden.npz"
MODES = [(reset, delay) for reset in ("subtract", "zero", "none") for delay in (True, False)]


def _tag(delay: bool) -> str:
    return "delay" if delay else "nodelay"


def _synaptic_run(x: np.ndarray, p: SynapticParams) -> tuple[np.ndarray, ...]:
    syn = np.zeros(1, np.float32)
    mem = np.zeros(1, np.float32)
    out = np.empty((3, x.shape[0]), np.float32)
    for t in range(x.shape[0]):
        syn, mem, spk = synaptic_step(syn, mem, x[t:t + 1], p)
        out[:, t] = syn[0], mem[0], spk[0]
    return out[0], out[1], out[2] > 0


# -- structure and settings --------------------------------------------------------------------

@pytest.mark.parametrize("kw,exc,message", [
    (dict(width=1), ValueError, "width must be between 2 and 32, not 1"),
    (dict(syn_width=40), ValueError, "syn_width must be between 2 and 32, not 40"),
    (dict(reset="half"), ValueError,
     "reset must be one of 'subtract', 'zero', 'none', not 'half'"),
    (dict(reset="none", refractory_width=2), ValueError,
     "refractory_width must be 0 with reset 'none', not 2"),
    (dict(syn_decay=0), ValueError, "syn_decay must be between 1 and 7 (alpha = 1 - 2**-k in "
     "(0, 1)) for a 8-bit synaptic current, not 0"),
    (dict(syn_width=4, syn_decay=4), ValueError, "syn_decay must be between 1 and 3 (alpha = "
     "1 - 2**-k in (0, 1)) for a 4-bit synaptic current, not 4"),
    (dict(leak="multiply", syn_decay=256), ValueError,
     "syn_decay must be between 1 and 255 (alpha = b / 2**8 in (0, 1)), not 256"),
    (dict(refractory=1), ValueError, "refractory cannot be set for a 0-bit counter"),
    (dict(reset_delay=1), TypeError, "reset_delay must be a bool, not 1"),
    (dict(alpha=0.9), TypeError, "unknown cuba-lif parameter(s) alpha; allowed: neurons, "
     "width, syn_width, input_width, leak, beta_bits, refractory_width, reset, reset_delay, "
     "threshold, decay, syn_decay, refractory"),
])
def test_parameters_are_validated(kw, exc, message):
    with pytest.raises(exc, match=f"^{re.escape(message)}$"):
        CubaLIFIntParams(**kw)


def test_fields_ports_and_factors():
    c = CubaLIFIntParams(neurons=2, width=10, syn_width=12, refractory_width=2, leak="multiply",
                         beta_bits=6, decay=48, syn_decay=40)
    assert [f.name for f in c.state_fields()] == ["synaptic", "membrane", "countdown"]
    assert [(f.name, f.width) for f in c.output_fields()] == [
        ("spike", 1), ("membrane", 10), ("synaptic", 12)]
    assert [s.name for s in c.ports()] == ["threshold", "decay", "syn_decay", "refractory"]
    assert (c.alpha, c.beta) == (40 / 64, 48 / 64)
    s = CubaLIFIntParams(syn_width=5)
    assert (s.syn_decay, s.setting_fields()[2].width) == (3, 3)
    assert CubaLIFIntParams(leak="multiply", beta_bits=2).decay == 3  # held inside its range


# -- float models ------------------------------------------------------------------------------

@pytest.mark.parametrize("reset,delay", MODES)
def test_synaptic_float32_is_snntorch_exactly(reset, delay):
    """Every neuron of the golden file (alpha 0 and 1, beta 0 and 1 included), float32-equal."""
    g = np.load(GOLDEN)
    assert str(g["snntorch_version"]) == "1.0.0"
    key = f"synaptic_{reset}_{_tag(delay)}"
    x = g["input"]
    for i in range(x.shape[1]):
        p = SynapticParams(alpha=float(g["synaptic_alpha"][i]), beta=float(g["synaptic_beta"][i]),
                           threshold=float(g["synaptic_threshold"][i]), reset=reset,
                           reset_delay=delay)
        syn, mem, spk = _synaptic_run(x[:, i], p)
        assert np.array_equal(syn, g[f"{key}_syn"][:, i]), (key, i)
        assert np.array_equal(mem, g[f"{key}_mem"][:, i]), (key, i)
        assert np.array_equal(spk, g[f"{key}_spk"][:, i].astype(bool)), (key, i)


def test_golden_file_is_small_and_varied():
    g = np.load(GOLDEN)
    assert GOLDEN.stat().st_size < 200_000
    assert g["input"].dtype == np.float32 and g["input"].shape[0] >= 300
    assert len(set(g["synaptic_alpha"].tolist())) >= 5 and len(set(g["leaky_beta"].tolist())) >= 5
    assert (g["synaptic_zero_delay_spk"].sum(0) < g["synaptic_none_delay_spk"].sum(0)).all()


def test_export_mapping():
    p = NIRCubaLIFParams.from_synaptic(alpha=0.9, beta=0.8, threshold=2.0)
    assert p.tau_syn == pytest.approx(1e-3) and p.w_in == pytest.approx(10.0)
    assert p.tau_mem == pytest.approx(5e-4) and p.r == pytest.approx(5.0)
    assert (p.v_leak, p.v_threshold, p.v_reset) == (0.0, 2.0, 0.0)


def test_nir_euler_is_synaptic_zero_now():
    """Forward Euler of the exported node coincides with ``Synaptic(reset_mechanism="zero",
    reset_delay=False)`` (float32 rounding apart, same spikes); snnTorch's default
    (subtract, delayed) does not."""
    g = np.load(GOLDEN)
    x = g["input"]
    alpha, beta, th = g["synaptic_alpha"], g["synaptic_beta"], g["synaptic_threshold"]
    finite = [i for i in range(x.shape[1]) if alpha[i] < 1 and beta[i] < 1]
    assert len(finite) >= 4
    differ = moderate = 0
    for i in finite:
        p = NIRCubaLIFParams.from_synaptic(float(alpha[i]), float(beta[i]), float(th[i]))
        syn, v = np.zeros(1), np.zeros(1)
        spikes = []
        for t in range(x.shape[0]):
            syn, v, s = nir_cubalif_step(syn, v, x[t, i:i + 1].astype(np.float64), p)
            np.testing.assert_allclose(syn[0], g["synaptic_zero_nodelay_syn"][t, i], rtol=1e-5,
                                       atol=1e-5)
            np.testing.assert_allclose(v[0], g["synaptic_zero_nodelay_mem"][t, i], rtol=1e-5,
                                       atol=1e-5)
            spikes.append(bool(s[0]))
        assert spikes == g["synaptic_zero_nodelay_spk"][:, i].astype(bool).tolist()
        if not all(spikes):  # a neuron driven to fire on every step fires so in every mode
            moderate += 1
            differ += spikes != g["synaptic_subtract_delay_spk"][:, i].astype(bool).tolist()
    assert differ == moderate >= 3


def test_synaptic_zero_reset_clears_the_whole_membrane():
    """``Synaptic`` clears the membrane, input included, the step after a spike (``Leaky`` keeps
    that step's input); the synaptic current is never reset."""
    p = SynapticParams(alpha=0.5, beta=0.5, reset="zero")
    syn, mem, spk = synaptic_step(np.float32([0]), np.float32([0]), np.float32([2.0]), p)
    assert spk[0] and mem[0] == 2.0
    syn, mem, spk = synaptic_step(syn, mem, np.float32([0.25]), p)
    assert (syn[0], mem[0], spk[0]) == (1.25, 0.0, False)
    leaky, _ = leaky_f32_step(np.float32([2.0]), np.float32([1.25]), LeakyParams(0.5, reset="zero"))
    assert leaky[0] == 1.25


# -- integer model -----------------------------------------------------------------------------

def test_saturates_both_ways():
    c = CubaLIFIntParams(neurons=2, width=6, syn_width=5, input_width=6, threshold=31)
    out, _ = run_model(c, np.tile([[31, -32]], (30, 1)))
    assert out["synaptic"][-1].tolist() == [15, -16]
    assert out["membrane"][-1].tolist() == [31, -32] and not out["spike"].any()
    assert out["membrane"].max() <= 31 and out["synaptic"].min() >= -16


@pytest.mark.parametrize("reset", ["subtract", "zero", "none"])
@pytest.mark.parametrize("delay", [True, False])
def test_threshold_is_strict(reset, delay):
    c = CubaLIFIntParams(neurons=2, threshold=20, reset=reset, reset_delay=delay)
    out, _ = run_model(c, np.array([[20, 21]]))  # from rest: I' = X and U' = I'
    assert out["synaptic"][0].tolist() == [20, 21]
    assert out["spike"][0].tolist() == [False, True]


@pytest.mark.parametrize("reset,delay,membrane,synaptic", [
    # decay k = 1 for both: L(x) = x - (x >> 1); drive 30 then 0: I = 30, 15
    ("subtract", True, [30, 15 + 15 - 20], [30, 15]),
    ("zero", True, [30, 0], [30, 15]),           # Synaptic: the whole membrane cleared
    ("subtract", False, [10, 5 + 15], [30, 15]),
    ("zero", False, [0, 15], [30, 15]),
    ("none", True, [30, 15 + 15], [30, 15]),
    ("none", False, [30, 15 + 15], [30, 15]),
])
def test_reset_modes(reset, delay, membrane, synaptic):
    c = CubaLIFIntParams(neurons=1, threshold=20, decay=1, syn_decay=1, reset=reset,
                         reset_delay=delay)
    out, _ = run_model(c, np.array([[30], [0]]))
    assert out["membrane"][:, 0].tolist() == membrane
    assert out["synaptic"][:, 0].tolist() == synaptic
    assert out["spike"][:, 0].tolist() == [True, reset == "none"]


def test_membrane_is_the_lif_population_on_the_synaptic_current():
    c = CubaLIFIntParams(neurons=3, syn_width=10, refractory_width=2, refractory=2)
    x = np.random.default_rng(5).integers(-60, 100, (80, 3))
    out, _ = run_model(c, x)
    lif = LIFIntParams(neurons=3, input_width=10, refractory_width=2, refractory=2)
    ref, _ = run_model(lif, out["synaptic"])
    assert np.array_equal(ref["membrane"], out["membrane"])
    assert np.array_equal(ref["spike"], out["spike"]) and out["spike"].any()


def test_refractory_ignores_the_current_but_keeps_filtering():
    c = CubaLIFIntParams(neurons=1, threshold=10, refractory_width=2, refractory=2, decay=1,
                         syn_decay=1)
    out, _ = run_model(c, np.array([[30], [0], [0], [20]]))
    assert out["spike"][:, 0].tolist() == [True, False, False, True]
    assert out["synaptic"][:, 0].tolist() == [30, 15, 8, 24]
    assert out["membrane"][:, 0].tolist()[:3] == [30, 15 - 10, 3]


# -- hardware ----------------------------------------------------------------------------------

STRUCTURES = {
    "default": dict(neurons=4),
    "zero-multiply-refractory": dict(neurons=3, reset="zero", refractory_width=2,
                                     leak="multiply", beta_bits=5),
    "none-wide-synapse": dict(neurons=2, reset="none", syn_width=10, width=6),
    "zero-now-neuron": dict(neurons=1, reset="zero", reset_delay=False, input_width=6,
                            syn_width=6, threshold=12),
    "subtract-now-narrow": dict(neurons=3, reset_delay=False, width=4, syn_width=3,
                                input_width=5, refractory_width=1),
    "per-neuron-bias": dict(neurons=3, per_neuron={"threshold": [10, 40, 100],
                                                   "syn_decay": [1, 2, 5]}, bias=[0, 5, -5]),
}


@pytest.mark.parametrize("name", list(STRUCTURES))
@pytest.mark.parametrize("storage", ["memory", "ring"])
def test_population_matches_reference(name, storage):
    report = run_checker(CubaLIFIntParams(**STRUCTURES[name]), 160, 3, storage=storage,
                         reset_rate=0.01)
    assert report["spikes"] > 0


@pytest.mark.parametrize("kw", [
    dict(width=3, syn_width=3, input_width=2),
    dict(width=3, syn_width=2, input_width=2, reset="zero", refractory_width=1),
    dict(width=4, syn_width=3, input_width=2, reset="none", leak="multiply", beta_bits=2),
    dict(width=3, syn_width=3, input_width=3, reset="zero", reset_delay=False),
    dict(width=4, syn_width=4, input_width=3, reset_delay=False, refractory_width=2,
         leak="multiply", beta_bits=3),
])
def test_datapath_is_exact_for_every_port_value(kw):
    assert sweep_ports(CubaLIFIntParams(**kw), CubaLIFDatapath, limit=3000) == 0


def test_planted_error_is_the_only_mismatch():
    c = CubaLIFIntParams(neurons=4)
    cfg = dict(model="cuba-lif", params=c.as_dict(), steps=60, seed=9, plant=[30, 2])
    stim, _ = check_config(cfg)
    report = run_amaranth(cfg)
    assert report["mismatches"] == 1
    first = report["first_mismatches"][0]
    assert (first["step"], first["neuron"], first["field"]) == (30, 2, "membrane")
    _verdict(cfg, stim, report)
    with pytest.raises(AssertionError, match="mismatches against the reference model"):
        _verdict(dict(cfg, plant=None), stim, report)


class _StaleCurrent(CubaLIFDatapath):
    """A classic bug: the membrane integrates the previous step's synaptic current."""

    def elaborate(self, platform):
        m = super().elaborate(platform)
        m.d.comb += m.submodules.soma.current.eq(self.synaptic)
        return m


def test_faulty_datapath_is_caught():
    c = CubaLIFIntParams(neurons=4)
    report = run_checker(c, 100, 4, datapath=_StaleCurrent)
    assert report["mismatches"] > 0
    assert {m["field"] for m in report["first_mismatches"]} >= {"membrane"}
    assert sweep_ports(CubaLIFIntParams(width=3, syn_width=3, input_width=2), _StaleCurrent) > 0
