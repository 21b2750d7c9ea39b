# SPDX-License-Identifier: Apache-2.0
"""The leaky integrator ``li`` (NIR ``LI`` / ``I``): float models, integer model, hardware.

Also holds :func:`sweep_ports`, the datapath-against-model check over every value the ports can
carry, which the IF and CubaLIF tests use too.
"""

from __future__ import annotations

import re
import itertools
from pathlib import Path

import numpy as np
import pytest
from amaranth.sim import Simulator

from neurotile.neurons.leaky_integrator import (LIIntParams, NIRIParams, NIRLIParams, li_step,
                                                nir_i_step, nir_li_step)
from neurotile.neurons.spec import NeuronConfig, run_model
from neurotile.rtl.leaky_integrator import LIDatapath
from neurotile.rtl.population import datapath_signature
from neurotile.testbench.population import _verdict, check_config, run_amaranth

GOLDEN = Path(__file__).parent / "data" / "snntorch_golden.npz"


# -- the datapath over every value its ports can carry ------------------------------------------

def port_fields(config: NeuronConfig) -> dict[str, tuple[int, int]]:
    """``name -> (lo, hi)`` of every input port of the datapath (the full field range)."""
    out = {}
    for name, member in datapath_signature(config).members.items():
        if member.flow.name == "In":
            shape = member.shape
            lo = -(1 << (shape.width - 1)) if shape.signed else 0
            hi = (1 << (shape.width - 1)) - 1 if shape.signed else (1 << shape.width) - 1
            out[name] = (lo, hi)
    return out


def sweep_ports(config: NeuronConfig, datapath: type, *, limit: int = 4096,
                seed: int = 0) -> int:
    """Drive ``datapath`` with every combination of port values (or, when there are more than
    ``limit``, the corners of the port ranges and ``limit`` random ones) and compare each output
    with ``config.step``; return the mismatches."""
    ranges = port_fields(config)
    names = list(ranges)
    total = int(np.prod([hi - lo + 1 for lo, hi in ranges.values()]))
    if total <= limit:
        grid = np.array(list(itertools.product(*(range(lo, hi + 1)
                                                 for lo, hi in ranges.values()))), np.int64)
    else:
        rng = np.random.default_rng(seed)
        grid = np.stack([rng.integers(lo, hi + 1, limit) for lo, hi in ranges.values()], axis=1)
        corners = np.array(list(itertools.product(*((lo, hi) for lo, hi in ranges.values()))))
        grid = np.concatenate([corners[:limit // 4], grid])
    cases = {name: grid[:, k] for k, name in enumerate(names)}
    state = {f.name: cases[f.name] for f in config.state_fields()}
    settings = {s.name: cases.get(s.name, getattr(config, s.name)) for s in config.SETTINGS}
    new, out = config.step(state, cases["current"], settings)
    expected = {f"next_{k}": np.asarray(v, np.int64) for k, v in new.items()}
    expected |= {f"out_{k}": np.asarray(v, np.int64) for k, v in out.items()}
    dut = datapath(config)
    mismatches = 0

    async def bench(ctx):
        nonlocal mismatches
        for row in range(grid.shape[0]):
            for name in names:
                ctx.set(getattr(dut, name), int(cases[name][row]))
            for name, values in expected.items():
                if ctx.get(getattr(dut, name)) != int(values[row]):
                    mismatches += 1

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    return mismatches


def run_checker(config: NeuronConfig, steps: int, seed: int, **kw) -> dict:
    """The population checker in Amaranth's simulator; asserts its verdict."""
    cfg = dict(model=config.NAME, params=config.as_dict(), steps=steps, seed=seed, **kw)
    stim, _ = check_config(cfg)
    report = run_amaranth(cfg, datapath=kw.get("datapath"))
    if "datapath" not in kw:
        _verdict(cfg, stim, report)
    return report


# -- structure and settings --------------------------------------------------------------------

@pytest.mark.parametrize("kw,exc,message", [
    (dict(width=1), ValueError, "width must be between 2 and 32, not 1"),
    (dict(input_width=33), ValueError, "input_width must be between 1 and 32, not 33"),
    (dict(leak="linear"), ValueError,
     "leak must be one of 'shift', 'multiply', 'none', not 'linear'"),
    (dict(decay=8), ValueError,
     "decay must be between 1 and 7 (beta = 1 - 2**-k in (0, 1)) for a 8-bit membrane, not 8"),
    (dict(leak="multiply", decay=0), ValueError,
     "decay must be between 1 and 255 (beta = b / 2**8 in (0, 1)), not 0"),
    (dict(leak="none", decay=3), ValueError, "decay cannot be set without a leak (leak 'none')"),
    (dict(threshold=3), TypeError, "unknown li parameter(s) threshold; allowed: neurons, "
     "width, input_width, leak, beta_bits, decay"),
])
def test_parameters_are_validated(kw, exc, message):
    with pytest.raises(exc, match=f"^{re.escape(message)}$"):
        LIIntParams(**kw)


def test_fields_and_ports():
    c = LIIntParams(neurons=3, width=10, leak="multiply", beta_bits=6)
    assert [(f.name, f.width, f.signed) for f in c.output_fields()] == [("membrane", 10, True)]
    assert [s.name for s in c.ports()] == ["decay"]
    assert c.beta == c.decay / 64
    assert [s.name for s in LIIntParams(leak="none").ports()] == []
    assert LIIntParams(leak="none").beta == 1.0


# -- float models ------------------------------------------------------------------------------

def test_li_float_is_snntorch_readout_exactly():
    """snnTorch ``Leaky(reset_mechanism="none")``'s membrane, equal in float32 (both delays)."""
    g = np.load(GOLDEN)
    x = g["input"]
    for delay in ("delay", "nodelay"):
        want = g[f"leaky_none_{delay}_mem"]
        for i, beta in enumerate(g["leaky_beta"]):
            mem = np.zeros(1, np.float32)
            got = np.empty(x.shape[0], np.float32)
            for t in range(x.shape[0]):
                mem = li_step(mem, x[t, i:i + 1], float(beta))
                got[t] = mem[0]
            assert got.dtype == want.dtype and np.array_equal(got, want[:, i]), (delay, i)


def test_nir_li_euler_is_the_discrete_leak():
    """With snnTorch's export mapping, Euler of NIR's LI is ``beta U + I`` up to rounding; NIR's
    integrator ``I`` with ``r = 1/dt`` is ``beta = 1``."""
    g = np.load(GOLDEN)
    x = g["input"].astype(np.float64)
    for beta in (0.9, 0.5):
        p = NIRLIParams.from_beta(beta)
        assert p.tau == pytest.approx(1e-4 / (1 - beta)) and p.r == pytest.approx(p.tau / 1e-4)
        v = np.zeros(x.shape[1])
        u = np.zeros(x.shape[1], np.float32)
        for t in range(x.shape[0]):
            v = nir_li_step(v, x[t], p)
            u = li_step(u, x[t], beta)
            np.testing.assert_allclose(v, u, rtol=1e-5, atol=1e-5)
    v = np.zeros(x.shape[1])
    for t in range(x.shape[0]):
        v = nir_i_step(v, x[t], NIRIParams(r=1e4))
    np.testing.assert_allclose(v, x.sum(axis=0), rtol=1e-9)


# -- integer model -----------------------------------------------------------------------------

@pytest.mark.parametrize("leak", ["shift", "multiply", "none"])
def test_saturates_both_ways(leak):
    c = LIIntParams(neurons=2, width=6, input_width=6, leak=leak)
    out, _ = run_model(c, np.tile([[31, -32]], (40, 1)))
    assert out["membrane"][-1].tolist() == [31, -32]
    assert out["membrane"].min() >= -32 and out["membrane"].max() <= 31


def test_leaks_round_toward_minus_infinity():
    c = LIIntParams(neurons=4, width=8, decay=2)
    state = {"membrane": np.array([7, -7, 1, -1])}
    new, _ = c.step(state, np.zeros(4, np.int64), {"decay": 2})
    assert new["membrane"].tolist() == [7 - 1, -7 + 2, 1, -1 + 1]  # 7>>2 = 1, -7>>2 = -2
    assert LIIntParams(leak="multiply", beta_bits=2).decay == 3  # LIF's default, clamped
    m = LIIntParams(neurons=2, width=8, leak="multiply", beta_bits=2, decay=3)
    new, _ = m.step({"membrane": np.array([5, -5])}, np.zeros(2, np.int64), {"decay": 3})
    assert new["membrane"].tolist() == [3, -4]  # 15 >> 2, -15 >> 2


def test_integrator_has_no_leak():
    c = LIIntParams(neurons=1, width=12, leak="none")
    out, _ = run_model(c, np.array([[5], [-2], [7]]))
    assert out["membrane"][:, 0].tolist() == [5, 3, 10]


# -- hardware ----------------------------------------------------------------------------------

STRUCTURES = {
    "shift": dict(neurons=4),
    "multiply": dict(neurons=3, leak="multiply", beta_bits=5, width=10, input_width=4),
    "integrator": dict(neurons=2, leak="none", width=6),
    "neuron": dict(neurons=1, width=3, input_width=2),
}


@pytest.mark.parametrize("name", list(STRUCTURES))
@pytest.mark.parametrize("storage", ["memory", "ring"])
def test_population_matches_reference(name, storage):
    run_checker(LIIntParams(**STRUCTURES[name]), 200, 3, storage=storage, reset_rate=0.01)


@pytest.mark.parametrize("kw", [dict(width=4, input_width=3), dict(width=4, leak="multiply",
                                                                   beta_bits=3),
                                dict(width=5, input_width=2, leak="none")])
def test_datapath_is_exact_for_every_port_value(kw):
    assert sweep_ports(LIIntParams(**kw), LIDatapath) == 0


def test_planted_error_is_the_only_mismatch():
    c = LIIntParams(neurons=4)
    cfg = dict(model="li", params=c.as_dict(), steps=60, seed=9, plant=[30, 2])
    stim, _ = check_config(cfg)
    report = run_amaranth(cfg)
    assert report["mismatches"] == 1
    first = report["first_mismatches"][0]
    assert (first["step"], first["neuron"], first["field"]) == (30, 2, "membrane")
    _verdict(cfg, stim, report)


class _Wrapping(LIDatapath):
    """A classic bug: the integrator's sum wraps instead of saturating."""

    def elaborate(self, platform):
        m = super().elaborate(platform)
        m.d.comb += [self.next_membrane.eq(self.membrane + self.current),
                     self.out_membrane.eq(self.membrane + self.current)]
        return m


def test_faulty_datapath_is_caught():
    c = LIIntParams(neurons=3, leak="none", width=6)
    report = run_checker(c, 120, 4, datapath=_Wrapping)
    assert report["mismatches"] > 0
    assert sweep_ports(c, _Wrapping) > 0
