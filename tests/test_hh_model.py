# SPDX-License-Identifier: Apache-2.0
"""Hodgkin-Huxley reference models: the float64 yardstick and the hardware's integer model."""

from __future__ import annotations

import numpy as np
import pytest

from neurotile.neurons.hodgkin_huxley import (
    CURRENT_WIDTH,
    HH,
    TABLE_V_MAX,
    TABLE_V_MIN,
    HHIntParams,
    HHIntState,
    hh_float_run,
    hh_int_run,
    hh_int_step,
    rates,
    round_significant,
    steady_state,
    table_index,
)
from neurotile.rtl.hodgkin_huxley import hh_params

CUR_MAX = (1 << (CURRENT_WIDTH - 1)) - 1
CUR_MIN = -(1 << (CURRENT_WIDTH - 1))


@pytest.fixture(scope="module")
def float_10ua():
    return hh_float_run(10.0, 200.0)


# -- rate functions ------------------------------------------------------------------------------

def test_removable_singularities_take_their_limits():
    r = rates(np.array([-40.0, -55.0]))
    assert r["am"][0] == pytest.approx(1.0, abs=1e-12)
    assert r["an"][1] == pytest.approx(0.1, abs=1e-12)
    # continuous across the singular points
    for v, key in ((-40.0, "am"), (-55.0, "an")):
        near = rates(np.array([v - 1e-4, v + 1e-4]))[key]
        assert np.all(np.abs(near - rates(v)[key]) < 1e-5)


def test_rates_match_the_closed_forms_away_from_singularities():
    v = np.array([-90.0, -65.0, -20.0, 30.0])
    r = rates(v)
    np.testing.assert_allclose(r["am"], 0.1 * (v + 40) / (1 - np.exp(-(v + 40) / 10)))
    np.testing.assert_allclose(r["an"], 0.01 * (v + 55) / (1 - np.exp(-(v + 55) / 10)))
    np.testing.assert_allclose(r["bm"], 4 * np.exp(-(v + 65) / 18))
    np.testing.assert_allclose(r["ah"], 0.07 * np.exp(-(v + 65) / 20))
    np.testing.assert_allclose(r["bh"], 1 / (1 + np.exp(-(v + 35) / 10)))
    np.testing.assert_allclose(r["bn"], 0.125 * np.exp(-(v + 65) / 80))


def test_float_model_stays_near_rest_without_input():
    run = hh_float_run(0.0, 20.0, record_every=100)
    assert run.spike_times == [[]]
    assert np.max(np.abs(run.v[:, 0] - HH.v_rest)) < 1.0  # -65 mV is rest to within 0.5 mV


# -- float reference -------------------------------------------------------------------------------

def test_float_reference_fires_14_spikes_at_10_ua(float_10ua):
    times = float_10ua.spike_times[0]
    assert len(times) == 14
    assert 1.8 < times[0] < 2.0


def test_float_reference_has_converged_in_its_step():
    coarse = hh_float_run(10.0, 50.0, dt_ms=0.01).spike_times[0]
    fine = hh_float_run(10.0, 50.0, dt_ms=0.005).spike_times[0]
    assert len(coarse) == len(fine) == 4
    assert np.max(np.abs(np.subtract(coarse, fine))) < 1e-3


def test_float_model_is_vectorised_over_neurons():
    both = hh_float_run(np.array([0.0, 10.0]), 30.0)
    single = hh_float_run(10.0, 30.0)
    assert both.spike_times[0] == []
    assert both.spike_times[1] == single.spike_times[0]


# -- integer model ---------------------------------------------------------------------------------

def test_integer_model_meets_the_spike_time_target_at_10_ua(float_10ua):
    p = HHIntParams()
    run = hh_int_run(p, p.current_code(10.0), 200_000 // p.dt_us)
    fixed = np.array(run.spike_times[0])
    ref = np.array(float_10ua.spike_times[0])
    assert len(fixed) == len(ref) == 14
    assert np.max(np.abs(fixed - ref)) <= 0.5


def test_initial_state_is_rest_in_format():
    p = HHIntParams()
    s = p.initial_state(3)
    m0, h0, n0 = steady_state(HH.v_rest)
    assert np.all(s.v == -65 << p.v_frac)
    assert np.all(np.abs(p.to_gate(s.m) - m0) <= 0.5 / p.one)
    assert np.all(np.abs(p.to_gate(s.h) - h0) <= 0.5 / p.one)
    assert np.all(np.abs(p.to_gate(s.n) - n0) <= 0.5 / p.one)


def test_tables_hold_dt_times_the_rates_at_cell_midpoints():
    p = HHIntParams(table_bits=1)
    assert len(p.tables["Am"]) == p.table_size == (TABLE_V_MAX - TABLE_V_MIN) * 2
    i = 37
    v = TABLE_V_MIN + (i + 0.5) / 2
    r = rates(v)
    assert p.tables["Am"][i] == round(p.dt_ms * float(r["am"]) * p.one)
    assert p.tables["Bn"][i] == round(p.dt_ms * float(r["an"] + r["bn"]) * p.one)
    assert all(a <= b for a, b in zip(p.tables["Ah"], p.tables["Bh"]))


def test_round_significant_keeps_the_top_bits():
    assert round_significant(0b1011_0111, 0) == 0b1011_0111
    assert round_significant(0b1011_0111, 4) == 0b1011_0000     # below half of the dropped LSB
    assert round_significant(0b1011_1000, 4) == 0b1100_0000     # half rounds up
    assert round_significant(0b1111_1000, 4) == 0b1_0000_0000   # and may carry into a new bit
    assert round_significant(0b1011, 4) == 0b1011               # short enough: unchanged
    assert round_significant(0, 3) == 0


@pytest.mark.parametrize("interp, table_bits", [(0, 0), (1, -2)])
def test_tables_rounded_to_significant_bits_with_error_diffusion(interp, table_bits):
    """With ``table_sig`` every entry (or node) has at most K significant bits, lies within one
    unit of its last kept bit (or of its predecessor's, whose error it takes over) of the exact
    value, and the running sum of the errors stays within
    one such unit of the largest entry: the error does not build up along the table."""
    k = 6
    p = HHIntParams(interp=interp, table_bits=table_bits, table_sig=k)
    r = rates(p._table_voltages())
    changed = 0
    for key, table in p.tables.items():
        g = key[1]
        value = r["a" + g] + (r["b" + g] if key[0] == "B" else 0.0)
        exact = p.dt_ms * value * p.one
        got = np.array(table)
        assert all(round_significant(int(x), k) == x for x in got)
        ulp = np.array([1 << max(0, int(x).bit_length() - k) for x in np.maximum(got, 1)])
        near = np.maximum(ulp, np.concatenate([ulp[:1], ulp[:-1]]))
        assert np.all(np.abs(got - exact) <= near + 0.5), key
        assert np.abs(np.cumsum(got - exact)).max() <= ulp.max(), key
        changed += int(np.sum(got != np.round(exact)))
        if interp:
            assert np.array_equal(np.diff(table), p.slopes[key])
    assert changed > 100
    assert HHIntParams(table_sig=k).structural()["table_sig"] == k
    assert HHIntParams(table_sig=0).tables == HHIntParams().tables


def test_table_index_clamps_at_both_ends():
    p = HHIntParams()
    mv = np.array([-128.0, TABLE_V_MIN - 0.001, TABLE_V_MIN, -64.5, TABLE_V_MAX, 127.99])
    idx = table_index(np.floor(mv * (1 << p.v_frac)).astype(np.int64), p)
    assert list(idx) == [0, 0, 0, 35, p.table_size - 1, p.table_size - 1]


@pytest.mark.parametrize("interp, table_bits", [(0, 0), (0, -1), (1, -2)])
def test_a_narrower_table_range_is_the_same_tables_cut_at_its_ends(interp, table_bits):
    """``table_lo``/``table_hi`` keep the entries (or nodes) of the default tables inside the
    range, and V outside it reads the new end entries."""
    wide = HHIntParams(interp=interp, table_bits=table_bits)
    p = HHIntParams(interp=interp, table_bits=table_bits, table_lo=-84, table_hi=52)
    per_mv = 2.0 ** table_bits
    first = int((-84 - TABLE_V_MIN) * per_mv)
    assert p.table_size == int(136 * per_mv)
    for key, table in p.tables.items():
        assert table == wide.tables[key][first:first + len(table)], key
    mv = np.array([-128.0, -84.001, -84.0, 51.99, 52.0, 127.99])
    idx = table_index(np.floor(mv * (1 << p.v_frac)).astype(np.int64), p)
    assert list(idx) == [0, 0, 0, p.table_size - 1, p.table_size - 1, p.table_size - 1]
    assert p.structural()["table_lo"] == -84 and p.structural()["table_hi"] == 52


def test_rest_stays_near_rest_without_input():
    p = HHIntParams()
    run = hh_int_run(p, 0, 800)
    assert not run.spikes.any()
    assert np.max(np.abs(p.to_mv(run.v[:, 0]) - HH.v_rest)) < 1.0


def test_extreme_currents_saturate_and_stay_in_range():
    """The most negative current drives V into its lower clamp; nothing leaves its format."""
    p = HHIntParams()
    currents = np.concatenate([np.full(400, CUR_MIN), np.full(400, CUR_MAX),
                               np.full(400, CUR_MIN)])
    run = hh_int_run(p, currents)
    assert run.v.min() == p.v_min
    assert run.v.max() <= p.v_max
    for x in (run.m, run.h, run.n):
        assert x.min() >= 0 and x.max() <= p.gate_max
    assert np.abs(run.v).max() < p.acc_bound


def test_gates_clamp_at_their_top_value():
    p = HHIntParams()
    top = HHIntState(np.array([40 << p.v_frac]), np.array([p.gate_max]), np.array([p.gate_max]),
                     np.array([p.gate_max]))
    state, _ = hh_int_step(top, 0, p)
    for x in (state.m, state.h, state.n):
        assert 0 <= x[0] <= p.gate_max


def test_spike_flag_marks_upward_crossings_of_zero():
    p = HHIntParams()
    run = hh_int_run(p, p.current_code(10.0), 2000)
    v = run.v[:, 0]
    before = np.concatenate([[p.initial_state().v[0]], v[:-1]])
    np.testing.assert_array_equal(run.spikes[:, 0], (before < 0) & (v >= 0))
    assert run.spikes.sum() == 4


def test_integer_model_is_vectorised_over_neurons():
    p = HHIntParams(gate_frac=12, v_frac=8)
    codes = np.array([0, p.current_code(10.0), CUR_MIN, CUR_MAX])
    many = hh_int_run(p, codes, 300)
    for i, c in enumerate(codes):
        one = hh_int_run(p, int(c), 300)
        np.testing.assert_array_equal(many.v[:, i], one.v[:, 0])
        np.testing.assert_array_equal(many.n[:, i], one.n[:, 0])


def test_current_codes_and_their_range():
    p = HHIntParams()
    assert p.current_code(10.0) == 2560
    assert p.current_code(-128.0) == CUR_MIN
    with pytest.raises(ValueError, match=r"^current 128.0 uA/cm\^2 is outside the stimulus "
                                         r"port's range -128.0..127.99609375$"):
        p.current_code(128.0)
    with pytest.raises(ValueError, match=r"^current code out of range for the 16-bit port: "
                                         r"allowed -32768..32767$"):
        hh_int_step(p.initial_state(), 40000, p)


# -- parameter validation ---------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, exc, message", [
    (dict(v_frac=7), ValueError, r"^v_frac must be between 8 and 16, not 7$"),
    (dict(gate_frac=21), ValueError, r"^gate_frac must be between 8 and 20, not 21$"),
    (dict(table_bits=4), ValueError, r"^table_bits must be between -1 and 3, not 4$"),
    (dict(table_bits=-2), ValueError, r"^table_bits must be between -1 and 3, not -2$"),
    (dict(table_bits=-3, interp=1), ValueError, r"^table_bits must be between -2 and 3, not -3$"),
    (dict(interp=2), ValueError, r"^interp must be between 0 and 1, not 2$"),
    (dict(table_sig=21), ValueError, r"^table_sig must be between 0 and 20, not 21$"),
    (dict(lean=2), ValueError, r"^lean must be between 0 and 1, not 2$"),
    (dict(latch_state=2), ValueError, r"^latch_state must be between 0 and 1, not 2$"),
    (dict(latch_state=1, interp=1), ValueError,
     r"^latch_state=1 needs interp=0 \(nearest-entry tables\)$"),
    (dict(table_lo=-39), ValueError, r"^table_lo must be between -128 and -40, not -39$"),
    (dict(table_hi=128), ValueError, r"^table_hi must be between 20 and 127, not 128$"),
    (dict(table_lo=-83, table_bits=-1), ValueError,
     r"^table_lo must be a multiple of the table cell \(2 mV with table_bits=-1\), not -83$"),
    (dict(table_hi=50, table_bits=-2, interp=1), ValueError,
     r"^table_hi must be a multiple of the table cell \(4 mV with table_bits=-2\), not 50$"),
    (dict(mul_bits=0), ValueError, r"^mul_bits must be between 1 and 32, not 0$"),
    (dict(dt_us=0), ValueError, r"^dt_us must be between 1 and 100, not 0$"),
    (dict(dt_us=2.5), TypeError, r"^dt_us must be an integer, not 2.5$"),
    (dict(v_frac=True), TypeError, r"^v_frac must be an integer, not True$"),
    (dict(dt_us=50), ValueError,
     r"^dt_us=50 is too large for forward Euler of the gates: dt\*\(alpha\+beta\) reaches 1.36 "
     r"\(must stay below 1\) inside the table range; use dt_us <= 36$"),
])
def test_parameter_errors(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        HHIntParams(**kwargs)


def test_unknown_hardware_parameter_is_a_type_error():
    with pytest.raises(TypeError, match=r"^unknown Hodgkin-Huxley parameter\(s\) width; allowed: "
                                        r"v_frac, gate_frac, dt_us, table_bits, mul_bits, "
                                        r"interp, table_sig, lean, table_lo, table_hi, "
                                        r"latch_state$"):
        hh_params(width=8)


def test_float_run_rejects_bad_durations():
    with pytest.raises(ValueError, match=r"^duration_ms must be positive and finite, not -1.0$"):
        hh_float_run(10.0, -1.0)
    with pytest.raises(TypeError, match=r"^duration_ms must be a number, not '5'$"):
        hh_float_run(10.0, "5")


# -- interpolated tables ------------------------------------------------------------------------

def test_interpolated_tables_hold_nodes_and_slopes():
    p = HHIntParams(interp=1, table_bits=-2)
    assert p.table_size == 40
    for key, table in p.tables.items():
        assert len(table) == p.table_size + 1
        assert np.array_equal(np.diff(table), p.slopes[key])
    assert HHIntParams().slopes == {}
    # node j sits at -100 + 4 j mV: its entry is the rate there, rounded
    r = rates(-100.0 + 4 * 17)
    assert p.tables["Bh"][17] == round(p.dt_ms * (r["ah"] + r["bh"]) * p.one)


def test_interpolation_between_nodes_and_outside_the_table():
    from neurotile.neurons.hodgkin_huxley import table_fraction, table_rates

    p = HHIntParams(interp=1, table_bits=-2)
    lsb = 1 << p.v_frac
    node = lambda j: (-100 + 4 * j) * lsb  # noqa: E731
    v = np.array([node(17), node(17) + 2 * lsb, node(17) + lsb, -128 * lsb, 60 * lsb - 1,
                  127 * lsb, node(0)])
    f = table_fraction(v, p)
    top = ((1 << p.frac_bits) - 1) << (p.gate_frac - p.frac_bits)  # just under the top node
    assert list(f) == [0, p.one // 2, p.one // 4, 0, top, top, 0]
    got = table_rates(v, p)
    for key, t in p.tables.items():
        d = t[18] - t[17]
        assert got[key][0] == t[17]                       # on a node: its entry
        assert got[key][1] == t[17] + ((d * p.one // 2 + p.one // 2) >> p.gate_frac)
        assert got[key][3] == t[0] and got[key][6] == t[0]   # below the table: the first node
        assert got[key][4] == got[key][5]                  # above it: as at its top
        assert abs(got[key][5] - t[-1]) <= max(1, abs(t[-1] - t[-2]) >> 10)


def test_interpolation_tracks_the_rates_closer_than_nearest_entries():
    """At 4 mV nodes the interpolated rates stay within 3 % over -80..50 mV where at least 32 LSB
    (2.5 % measured, the rounding of the smallest entries; the 1 mV nearest-entry table: 4.5 %)."""
    from neurotile.neurons.hodgkin_huxley import table_rates

    p = HHIntParams(interp=1, table_bits=-2)
    mv = np.arange(-80.0, 50.0, 1.0 / 64)
    codes = np.round(mv * (1 << p.v_frac)).astype(np.int64)
    got = table_rates(codes, p)
    exact = rates(mv)
    for g in "mhn":
        for key, want in (("A" + g, exact["a" + g]), ("B" + g, exact["a" + g] + exact["b" + g])):
            want = p.dt_ms * want * p.one
            big = want >= 32
            rel = np.abs(got[key][big] - want[big]) / want[big]
            assert rel.max() < 0.03, (key, rel.max())
