# SPDX-License-Identifier: Apache-2.0
"""The LIF reference models: snnTorch and NIR conventions, and the integer model's arithmetic."""

from __future__ import annotations

import numpy as np
import pytest

from neurotile.neurons.lif import (
    LeakyParams,
    LIFIntParams,
    LIFIntState,
    NIRLIFParams,
    leaky_step,
    lif_int_run,
    lif_int_step,
    nir_lif_step,
)

MODES = [(r, d) for r in ("subtract", "zero", "none") for d in (True, False)]


def _snntorch_scalar(beta, theta, reset, delay, currents):
    """snnTorch ``Leaky`` transcribed literally, one neuron, plain Python floats."""
    u, out_u, out_s = 0.0, [], []
    for i in currents:
        r = 1.0 if (delay and u - theta > 0) else 0.0
        if reset == "subtract":
            u = beta * u + i - r * theta
        elif reset == "zero":
            u = beta * (1 - r) * u + i
        else:
            u = beta * u + i
        s = 1.0 if u - theta > 0 else 0.0
        if not delay and s:
            u = u - theta if reset == "subtract" else (0.0 if reset == "zero" else u)
        out_u.append(u)
        out_s.append(s)
    return np.array(out_u), np.array(out_s, dtype=bool)


@pytest.mark.parametrize("reset,delay", MODES)
def test_leaky_reproduces_snntorch_equations(reset, delay):
    rng = np.random.default_rng(11)
    currents = rng.normal(0.25, 0.4, size=(200, 8))
    p = LeakyParams(beta=0.87, threshold=1.0, reset=reset, reset_delay=delay)
    mem = np.zeros(8)
    got_u, got_s = [], []
    for t in range(200):
        mem, s = leaky_step(mem, currents[t], p)
        got_u.append(mem)
        got_s.append(s)
    for n in range(8):
        ref_u, ref_s = _snntorch_scalar(0.87, 1.0, reset, delay, currents[:, n])
        np.testing.assert_allclose(np.array(got_u)[:, n], ref_u, rtol=0, atol=1e-12)
        np.testing.assert_array_equal(np.array(got_s)[:, n], ref_s)


def _spike_steps(step, state, params, current, steps=15):
    out = []
    for t in range(steps):
        state, s = step(state, np.full(1, current), params)
        if s[0]:
            out.append(t + 1)
    return out


def test_snntorch_default_and_nir_fire_on_documented_steps():
    default = LeakyParams(beta=0.9)
    zero_now = LeakyParams(beta=0.9, reset="zero", reset_delay=False)
    assert _spike_steps(leaky_step, np.zeros(1), default, 0.3)[:2] == [4, 9]
    assert _spike_steps(leaky_step, np.zeros(1), zero_now, 0.3)[:3] == [4, 8, 12]
    nir = NIRLIFParams.from_leaky(0.9)
    assert _spike_steps(nir_lif_step, np.zeros(1), nir, 0.3)[:3] == [4, 8, 12]


def test_nir_forward_euler_equals_snntorch_zero_reset_without_delay():
    rng = np.random.default_rng(5)
    currents = rng.uniform(-0.2, 0.6, size=(500, 16))
    beta = 0.93
    nir = NIRLIFParams.from_leaky(beta, threshold=1.0)
    assert nir.tau == pytest.approx(1e-4 / (1 - beta))
    leaky = LeakyParams(beta=beta, reset="zero", reset_delay=False)
    v = u = np.zeros(16)
    for t in range(500):
        v, sv = nir_lif_step(v, currents[t], nir)
        u, su = leaky_step(u, currents[t], leaky)
        np.testing.assert_array_equal(sv, su)
        np.testing.assert_allclose(v, u, atol=1e-12)


@pytest.mark.parametrize("reset,delay,expected", [
    ("subtract", True, [4, 9, 13]),
    ("zero", False, [4, 8, 12]),
])
def test_integer_model_fires_with_the_float_model(reset, delay, expected):
    """At 16-bit precision the integer model keeps snnTorch's spike steps (I = 0.3, beta = 0.9)."""
    p = LIFIntParams.from_beta(0.9, neurons=1, width=16, input_width=16, beta_bits=16,
                               threshold=1000, refractory_width=0, reset=reset,
                               reset_delay=delay)
    _, spikes, _ = lif_int_run(p, np.full((15, 1), 300))
    assert list(np.flatnonzero(spikes[:, 0]) + 1) == expected
    assert _spike_steps(leaky_step, np.zeros(1), LeakyParams(0.9, 1.0, reset, delay), 0.3) == expected


# -- the integer model against a scalar transcription of the hardware rules ----------------------

def _hw_scalar(p, u, refr, i, th, lk, rf):
    """One neuron, one step, written from the RTL's rules with Python integers."""
    r = p.reset_delay and u > th
    leaked = u - (u >> lk) if p.leak == "shift" else (u * lk) >> p.beta_bits
    active = refr == 0
    i = i if active else 0
    if p.reset == "subtract":
        total = leaked + i - (th if r else 0)
    else:
        total = (0 if r else leaked) + i
    v = max(p.mem_min, min(p.mem_max, total))
    s = active and v > th
    if s and not p.reset_delay:
        v = v - th if p.reset == "subtract" else 0
    refr = rf if s else (0 if active else refr - 1)
    return v, refr, s


@pytest.mark.parametrize("kw", [
    dict(),
    dict(leak="multiply", beta_bits=6, reset="zero"),
    dict(reset_delay=False, refractory_width=3, width=6, input_width=7),
    dict(leak="multiply", reset_delay=False, width=12, input_width=4),
])
def test_integer_model_matches_scalar_rules(kw):
    p = LIFIntParams(neurons=6, **kw)
    rng = np.random.default_rng(2)
    state = LIFIntState.zeros(6)
    ref = [(0, 0)] * 6
    leak_max = (1 << p.decay_width) - 1
    for _ in range(3000):
        th = int(rng.integers(0, p.mem_max + 1))
        lk = int(rng.integers(0, leak_max + 1))
        rf = int(rng.integers(0, p.refractory_max + 1))
        cur = rng.integers(p.input_min, p.input_max + 1, 6)
        state, s = lif_int_step(state, cur, p, threshold=th, decay=lk, refractory=rf)
        for n in range(6):
            u, c, sp = _hw_scalar(p, *ref[n], int(cur[n]), th, lk, rf)
            ref[n] = (u, c)
            assert (state.mem[n], state.refr[n], s[n]) == (u, c, sp)


def test_integer_model_saturates_at_both_ends():
    p = LIFIntParams(neurons=2, threshold=LIFIntParams().mem_max, refractory_width=0)
    cur = np.tile([p.input_max, p.input_min], (40, 1))
    mem, spikes, _ = lif_int_run(p, cur)
    assert mem[-1].tolist() == [p.mem_max, p.mem_min]
    assert not spikes.any()


def test_integer_model_threshold_is_strict():
    p = LIFIntParams(neurons=2, threshold=20)
    state, spikes = lif_int_step(LIFIntState.zeros(2), np.array([20, 21]), p)
    assert spikes.tolist() == [False, True]


def test_integer_model_refractory_ignores_input():
    p = LIFIntParams(neurons=1, threshold=10, refractory=3, reset="zero", reset_delay=False)
    _, spikes, _ = lif_int_run(p, np.full((10, 1), 50))
    assert np.flatnonzero(spikes[:, 0]).tolist() == [0, 4, 8]


@pytest.mark.parametrize("kw,exc,message", [
    (dict(neurons=0), ValueError, "neurons must be between 1 and 4096, not 0"),
    (dict(neurons=2.5), TypeError, "neurons must be an integer, not 2.5"),
    (dict(width=8, threshold=128), ValueError,
     "threshold must be between 0 and 127 for a 8-bit membrane, not 128"),
    (dict(leak="exp"), ValueError, "leak must be one of 'shift', 'multiply', not 'exp'"),
    (dict(reset="none"), ValueError, "reset must be one of 'subtract', 'zero', not 'none'"),
    (dict(decay=8), ValueError,
     r"decay must be between 1 and 7 \(beta = 1 - 2\*\*-k in \(0, 1\)\) for a 8-bit membrane, not 8"),
    (dict(leak="multiply", beta_bits=4, decay=0), ValueError,
     r"decay must be between 1 and 15 \(beta = b / 2\*\*4 in \(0, 1\)\), not 0"),
    (dict(refractory=4), ValueError, "refractory must be between 0 and 3 for a 2-bit counter, not 4"),
    (dict(reset_delay=1), TypeError, "reset_delay must be a bool, not 1"),
])
def test_integer_params_are_validated(kw, exc, message):
    with pytest.raises(exc, match=f"^{message}$"):
        LIFIntParams(**kw)


@pytest.mark.parametrize("beta", [0.0, 1.0, -0.5, 1.5])
def test_beta_outside_open_unit_interval_is_rejected(beta):
    with pytest.raises(ValueError, match=rf"^beta must be in the open interval \(0, 1\), not {beta}$"):
        LIFIntParams.from_beta(beta)
