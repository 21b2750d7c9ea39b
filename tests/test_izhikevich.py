# SPDX-License-Identifier: Apache-2.0
"""The Izhikevich neuron: parameters, float reference, fixed-point accuracy and the RTL."""

from __future__ import annotations

import numpy as np
import pytest

from neurotile.neurons.izhikevich import (
    PATTERNS,
    PRESETS,
    QUAD_CODE,
    QUAD_FRAC,
    QUAD_TERMS,
    U_RESET_MV,
    V_RESET_MV,
    IzhikevichIntParams,
    IzhikevichParams,
    izhikevich_float_run,
    pattern_run,
)
from neurotile.neurons.spec import get_model
from neurotile.rtl.izhikevich import DATAPATH, IzhikevichDatapath, multiplier_widths
from neurotile.testbench.population import check_config, run_amaranth

#: Spike-time tolerance of the fixed-point model against the float reference over 300 ms.
TOLERANCE_MS = 2.5
DURATION_MS = 300.0


# -- parameters --------------------------------------------------------------------------------

@pytest.mark.parametrize("kw,exc,message", [
    (dict(v_width=9), ValueError, "v_width must be between 10 and 24, not 9"),
    (dict(v_frac=0), ValueError, "v_frac must be between 1 and 16, not 0"),
    (dict(dt_shift=5), ValueError, "dt_shift must be between 0 and 4, not 5"),
    (dict(u_frac="12"), TypeError, "u_frac must be an integer, not '12'"),
    (dict(v_width=16, v_frac=9), ValueError,
     r"v needs at least 8 integer bits \(-128..128 mV\): v_width 16 - v_frac 9 = 7"),
    (dict(u_width=16, u_frac=11), ValueError,
     r"u needs at least 6 integer bits \(-32..32 mV\): u_width 16 - u_frac 11 = 5"),
    (dict(input_width=4, input_frac=4), ValueError,
     r"input_frac must be less than input_width \(4\), not 4"),
    (dict(a_frac=4), ValueError,
     r"a_width 10 and a_frac 4 cannot hold the default a = 0.02 \(code 0\)"),
    (dict(b_width=3, b_frac=10), ValueError,
     r"b_width 3 and b_frac 10 cannot hold the default b = 0.2 \(code 205\)"),
    (dict(v_width=24, v_frac=1, u_width=24, u_frac=18, b_width=16, b_frac=3, a_width=16),
     ValueError, r"this structure needs 68-bit intermediates; the integer model computes in "
     r"int64 \(at most 62 bits\)"),
    (dict(a=1024), ValueError, "a must be between 0 and 1023 for this structure, not 1024"),
    (dict(c=1 << 15), ValueError,
     "c must be between -32768 and 32767 for this structure, not 32768"),
    (dict(spike=1), TypeError, r"unknown izhikevich parameter\(s\) spike; allowed: neurons, "
     "v_width, v_frac, u_width, u_frac, input_width, input_frac, dt_shift, a_width, a_frac, "
     "b_width, b_frac, a, b, c, d"),
])
def test_parameters_are_validated(kw, exc, message):
    with pytest.raises(exc, match=f"^{message}$"):
        IzhikevichIntParams(**kw)


def test_model_is_in_the_catalogue_with_its_datapath():
    assert get_model("izhikevich") is IzhikevichIntParams
    assert DATAPATH is IzhikevichDatapath and DATAPATH.MODEL is IzhikevichIntParams
    p = IzhikevichIntParams()
    assert [f.name for f in p.output_fields()] == ["spike", "v"]
    assert p.output_fields()[0].width == 1
    assert [f.name for f in p.state_fields()] == ["v", "u"]


def test_defaults_are_regular_spiking_and_reset_is_constant():
    p = IzhikevichIntParams()
    assert p.runtime() == p.to_codes(PRESETS["rs"]) == {"a": 82, "b": 205, "c": -65 * 256,
                                                        "d": 8 * 4096}
    for q in (p, p.with_preset("fs"), IzhikevichIntParams(v_frac=4, v_width=12)):
        assert q.reset_state() == {"v": int(V_RESET_MV * 2 ** q.v_frac),
                                   "u": int(U_RESET_MV * 2 ** q.u_frac)}


def test_codes_round_trip():
    p = IzhikevichIntParams()
    for name, preset in PRESETS.items():
        back = p.from_codes(p.to_codes(preset))
        assert back.c == preset.c and back.d == preset.d
        assert abs(back.a - preset.a) <= 2 ** -(p.a_frac + 1)
        assert abs(back.b - preset.b) <= 2 ** -(p.b_frac + 1)
        assert p.to_codes(back) == p.to_codes(preset)
    with pytest.raises(ValueError, match=r"^a = 0.5 does not fit: code 2048 is outside 0..1023$"):
        p.to_codes(IzhikevichParams(a=0.5, b=0.2, c=-65.0, d=8.0))
    with pytest.raises(ValueError, match="^unknown preset 'xx'; choose one of: rs, ib, ch, fs, "
                                         "lts$"):
        p.with_preset("xx")


# -- the float reference -----------------------------------------------------------------------

def _isis(name: str) -> np.ndarray:
    t = 0.5 * np.arange(1, int(DURATION_MS / 0.5) + 1)
    pat = PATTERNS[name]
    run = izhikevich_float_run(pat.params, np.where(t > pat.onset_ms, pat.current, 0.0))
    return np.diff(run.spike_times)


def test_float_reference_patterns():
    rs, ib, ch, fs, lts = (_isis(n) for n in ("rs", "ib", "ch", "fs", "lts"))
    # RS: tonic with adaptation (ISIs lengthen, then settle; no burst).
    assert len(rs) >= 5 and rs.min() > 15 and rs[-1] > rs[0]
    assert np.all(np.abs(np.diff(rs[-3:])) <= 1.0)
    # IB: an initial burst of short ISIs, then regular tonic spikes.
    assert np.all(ib[:2] < 6) and np.all(ib[2:] > 25)
    assert np.ptp(ib[3:]) <= 1.0
    # CH: repeated bursts: short intra-burst and long inter-burst ISIs, alternating.
    assert (ch < 10).sum() >= 10 and (ch > 20).sum() >= 4
    # FS: fast, hardly adapting; several times the RS rate.
    assert len(fs) > 3 * len(rs) and fs.max() < 10
    # LTS: faster than RS, with adaptation.
    assert len(rs) < len(lts) < len(fs) and lts[-1] > 2 * lts[0]


def test_float_reference_facts():
    p = PRESETS["rs"]
    quiet = izhikevich_float_run(p, np.zeros(400))
    assert not quiet.spikes.any() and abs(quiet.v[-1] + 70.0) < 0.1  # rest at -70 mV
    run = izhikevich_float_run(p, np.full(40, 10.0))
    first = np.flatnonzero(run.spikes)[0]
    assert run.v[first] == p.c
    assert run.u[first] == pytest.approx(run.u[first - 1] + 0.5 * p.a * (
        p.b * run.v[first - 1] - run.u[first - 1]) + p.d)
    paper = izhikevich_float_run(p, np.full(300, 10.0), dt_ms=1.0, scheme="paper")
    assert 5 <= paper.spikes.sum() <= 8
    with pytest.raises(ValueError, match="^scheme must be 'euler' or 'paper', not 'rk4'$"):
        izhikevich_float_run(p, [0.0], scheme="rk4")


# -- fixed point against the float reference ---------------------------------------------------

@pytest.mark.parametrize("reference", ["codes", "paper"])
@pytest.mark.parametrize("name", list(PATTERNS))
def test_fixed_point_reproduces_pattern(name, reference):
    run = pattern_run(IzhikevichIntParams(), name, DURATION_MS, reference=reference)
    assert len(run.spike_times) == len(run.reference.spike_times) >= 5, name
    assert run.max_time_error() <= TOLERANCE_MS, (name, run.spike_times,
                                                  run.reference.spike_times)


# -- saturation --------------------------------------------------------------------------------

def _one(p, v, u, current, **settings):
    s = p.runtime() | settings
    new, out = p.step({"v": np.array([v]), "u": np.array([u])}, np.array([current]), s)
    return int(new["v"][0]), int(new["u"][0]), bool(out["spike"][0])


@pytest.mark.parametrize("kw", [dict(input_width=12), dict(
    v_width=12, v_frac=3, u_width=10, u_frac=4, input_width=10, input_frac=0, dt_shift=0)])
def test_saturation_corners(kw):
    p = IzhikevichIntParams(neurons=1, **kw)
    vf, uf = p.state_fields()
    af, bf = p.setting("a").field(p), p.setting("b").field(p)
    lo, hi = p.input_min, p.input_max
    # v at the top fires (the cut-off), u saturates high with the largest d.
    assert _one(p, vf.hi, uf.hi, hi, d=uf.hi, c=vf.hi) == (vf.hi, uf.hi, True)
    # u saturates low with the most negative d.
    assert _one(p, vf.hi, uf.lo, lo, d=uf.lo, a=0) == (p.c, uf.lo, True)
    # v saturates low (the quadratic alone turns v round above -125 mV): one step from -50 mV
    # with u at its top and a current below -130 mV/ms.
    assert _one(p, -50 << p.v_frac, uf.hi, lo, a=0)[0] == vf.lo
    # u runs to each end under the largest a and b of either sign (v held at 100 mV).
    v100 = np.array([100 << p.v_frac])
    for b, end in ((bf.hi, uf.hi), (bf.lo, uf.lo)):
        state = {"v": v100, "u": np.array([0])}
        seen = []
        for _ in range(300):
            new, _ = p.step(state, np.array([0]), p.runtime() | {"a": af.hi, "b": b})
            state = {"v": v100, "u": new["u"]}
            seen.append(int(new["u"][0]))
        assert uf.lo <= min(seen) and max(seen) <= uf.hi and seen[-1] == end


# -- the RTL, bit for bit ----------------------------------------------------------------------

STRUCTURES = {
    "default": dict(neurons=3),
    "one": dict(neurons=1),
    "narrow-dt1": dict(neurons=2, v_width=12, v_frac=3, u_width=10, u_frac=4, input_width=6,
                       input_frac=0, dt_shift=0, a_width=6, a_frac=8, b_width=6, b_frac=4),
    "wide-fine": dict(neurons=2, v_width=20, v_frac=12, u_width=24, u_frac=18,
                      input_width=14, input_frac=13, dt_shift=3, a_width=16, a_frac=16,
                      b_width=16, b_frac=14),
}


@pytest.mark.parametrize("storage", ["memory", "ring"])
@pytest.mark.parametrize("name", list(STRUCTURES))
def test_rtl_matches_integer_model(name, storage):
    params = IzhikevichIntParams(**STRUCTURES[name]).as_dict()
    cfg = {"model": "izhikevich", "params": params, "steps": 200, "seed": 3,
           "storage": storage, "reset_rate": 0.01}
    stim, _ = check_config(cfg)
    report = run_amaranth(cfg)
    assert report["mismatches"] == 0, report["first_mismatches"]
    assert report["updates"] == stim.updates and report["spikes"] > 0


def test_planted_error_is_the_only_mismatch():
    params = IzhikevichIntParams(neurons=3).as_dict()
    cfg = {"model": "izhikevich", "params": params, "steps": 80, "seed": 5, "plant": [40, 1]}
    report = run_amaranth(cfg)
    assert report["mismatches"] == 1
    first = report["first_mismatches"][0]
    assert (first["step"], first["neuron"], first["field"]) == (40, 1, "v")


class _NoSaturationOfU(IzhikevichDatapath):
    """A classic bug: the recovery sum is truncated to its field (wraps) instead of clamped."""

    def saturate(self, value, field):
        return value if field.name == "u" else super().saturate(value, field)


def test_faulty_datapath_is_caught():
    params = IzhikevichIntParams(neurons=2).as_dict()
    cfg = {"model": "izhikevich", "params": params, "steps": 200, "seed": 3}
    report = run_amaranth(cfg, datapath=_NoSaturationOfU)
    assert report["mismatches"] > 0
    assert {m["field"] for m in report["first_mismatches"]} & {"v", "spike"}


def test_multiplier_widths_and_the_quadratic_constant():
    assert sum(sign << shift for shift, sign in QUAD_TERMS) == QUAD_CODE
    assert abs(QUAD_CODE / 2 ** QUAD_FRAC - 0.04) < 1e-6
    assert multiplier_widths(IzhikevichIntParams()) == {
        "square": (17, 17), "b_v": (11, 16), "a_diff": (10, 22)}
