# SPDX-License-Identifier: Apache-2.0
"""Hodgkin-Huxley reference models: a float64 solution and the hardware's integer model.

The model is the squid axon of NEURON's ``hh.mod`` at 6.3 degC (units: mV, ms, uA/cm^2,
mS/cm^2, uF/cm^2)::

    C dV/dt = I - gNa m^3 h (V - ENa) - gK n^4 (V - EK) - gL (V - EL)
    dx/dt   = a_x(V) (1 - x) - b_x(V) x          for x in m, h, n

with the rate functions of :func:`rates` (the two removable singularities, ``a_m(-40) = 1`` and
``a_n(-55) = 0.1``, are evaluated by a series). Two models live here:

* :func:`hh_float_run`: the accuracy yardstick, classic fourth-order Runge-Kutta at a small step
  (10 us by default; halving it moves no spike of the 200 ms, 10 uA/cm^2 run by more than
  0.02 us).
* :func:`hh_int_run`: the integer model that :class:`neurotile.rtl.hodgkin_huxley.HHNeuron`
  implements bit for bit (formats, rate tables, forward Euler, rounding, saturation).

Both are vectorised over neurons (one current per neuron) and detect a spike as an upward
crossing of ``SPIKE_THRESHOLD_MV``: the step at whose end ``V >= 0`` after ``V < 0``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, ClassVar

import numpy as np

from neurotile.neurons.spec import Field, NeuronConfig, Param

__all__ = [
    "HH",
    "SPIKE_THRESHOLD_MV",
    "FLOAT_DT_MS",
    "rates",
    "steady_state",
    "hh_float_run",
    "HHIntParams",
    "HHIntState",
    "hh_int_step",
    "hh_int_run",
    "FloatRun",
    "IntRun",
    "CURRENT_FRAC",
    "CURRENT_WIDTH",
    "TABLE_V_MIN",
    "TABLE_V_MAX",
    "round_significant",
    "round_diffused",
    "HHConfig",
    "MODEL",
]

#: Spike detection: upward crossing of this membrane potential (mV).
SPIKE_THRESHOLD_MV = 0.0
#: Step of the float reference's RK4 integration (ms).
FLOAT_DT_MS = 0.01


@dataclass(frozen=True)
class _Constants:
    c_m: float = 1.0     # membrane capacitance, uF/cm^2
    g_na: float = 120.0  # mS/cm^2
    g_k: float = 36.0    # mS/cm^2
    g_l: float = 0.3     # mS/cm^2
    e_na: float = 50.0   # mV
    e_k: float = -77.0   # mV
    e_l: float = -54.3   # mV
    v_rest: float = -65.0  # mV


#: The squid-axon constants (NEURON ``hh.mod``).
HH = _Constants()


# -- rate functions ----------------------------------------------------------------------------

def _linoid(x: np.ndarray, k: float) -> np.ndarray:
    """``x / (1 - exp(-x/k))`` with its removable singularity at ``x = 0`` (value ``k``)."""
    x = np.asarray(x, dtype=np.float64)
    small = np.abs(x / k) < 1e-6
    safe = np.where(small, 1.0, x)
    exact = safe / -np.expm1(-safe / k)
    series = k + x / 2.0 + x * x / (12.0 * k)
    return np.where(small, series, exact)


def rates(v: np.ndarray | float) -> dict[str, np.ndarray]:
    """The six voltage-dependent rates (1/ms) at membrane potential ``v`` (mV).

    Returns a dict with keys ``am, bm, ah, bh, an, bn``.
    """
    v = np.asarray(v, dtype=np.float64)
    return {
        "am": 0.1 * _linoid(v + 40.0, 10.0),
        "bm": 4.0 * np.exp(-(v + 65.0) / 18.0),
        "ah": 0.07 * np.exp(-(v + 65.0) / 20.0),
        "bh": 1.0 / (1.0 + np.exp(-(v + 35.0) / 10.0)),
        "an": 0.01 * _linoid(v + 55.0, 10.0),
        "bn": 0.125 * np.exp(-(v + 65.0) / 80.0),
    }


def steady_state(v: float) -> tuple[float, float, float]:
    """Gate values ``(m, h, n)`` at rest at ``v`` (mV): ``a / (a + b)``."""
    r = rates(v)
    m, h, n = (float(r["a" + g] / (r["a" + g] + r["b" + g])) for g in "mhn")
    return m, h, n


def _currents(current: np.ndarray | float, steps: int, neurons: int | None) -> np.ndarray:
    """Normalise a current spec to shape ``(steps, neurons)`` (float, uA/cm^2)."""
    cur = np.asarray(current, dtype=np.float64)
    if cur.ndim == 0:
        cur = np.full((steps, 1 if neurons is None else neurons), float(cur))
    elif cur.ndim == 1:
        # one constant current per neuron
        cur = np.broadcast_to(cur, (steps, cur.shape[0]))
    elif cur.ndim != 2 or cur.shape[0] != steps:
        raise ValueError(f"current must be a scalar, shape (neurons,) or (steps={steps}, neurons), "
                         f"not shape {cur.shape}")
    return cur


def _check_duration(duration_ms: float, dt_ms: float) -> int:
    if not isinstance(duration_ms, (int, float)) or isinstance(duration_ms, bool):
        raise TypeError(f"duration_ms must be a number, not {duration_ms!r}")
    if not duration_ms > 0 or math.isinf(duration_ms):
        raise ValueError(f"duration_ms must be positive and finite, not {duration_ms}")
    return int(round(duration_ms / dt_ms))


# -- float reference ---------------------------------------------------------------------------

@dataclass(frozen=True)
class FloatRun:
    """Result of :func:`hh_float_run`.

    ``t``: sample times (ms, shape ``(samples,)``); ``v``: V at those times (mV, shape
    ``(samples, neurons)``); ``spike_times``: one list of crossing times (ms, linearly
    interpolated between steps) per neuron; ``dt``: the integration step (ms).
    """

    t: np.ndarray
    v: np.ndarray
    spike_times: list[list[float]]
    dt: float


def _derivs(y: np.ndarray, cur: np.ndarray) -> np.ndarray:
    v, m, h, n = y
    r = rates(v)
    i_ion = (HH.g_na * m ** 3 * h * (v - HH.e_na) + HH.g_k * n ** 4 * (v - HH.e_k)
             + HH.g_l * (v - HH.e_l))
    return np.stack([
        (cur - i_ion) / HH.c_m,
        r["am"] * (1 - m) - r["bm"] * m,
        r["ah"] * (1 - h) - r["bh"] * h,
        r["an"] * (1 - n) - r["bn"] * n,
    ])


def hh_float_run(
    current: np.ndarray | float,
    duration_ms: float,
    *,
    dt_ms: float = FLOAT_DT_MS,
    record_every: int = 1,
) -> FloatRun:
    """Integrate the Hodgkin-Huxley equations with classic RK4 from rest.

    Parameters
    ----------
    current : float or array
        Stimulus in uA/cm^2: a scalar, one constant per neuron ``(neurons,)``, or per step
        ``(steps, neurons)`` (held constant within each RK4 step).
    duration_ms : float
        Simulated time (ms).
    dt_ms : float
        RK4 step (ms); 0.01 by default.
    record_every : int
        Keep V every this many steps.

    Raises
    ------
    ValueError
        When the stimulus drives V so far that the rate functions overflow (a current far from
        the physiological range, e.g. 1e9 or -30 uA/cm^2): the run stops rather than returning
        meaningless numbers.
    """
    if not dt_ms > 0:
        raise ValueError(f"dt_ms must be positive, not {dt_ms}")
    steps = _check_duration(duration_ms, dt_ms)
    cur = _currents(current, steps, None)
    neurons = cur.shape[1]
    m0, h0, n0 = steady_state(HH.v_rest)
    y = np.array([[HH.v_rest], [m0], [h0], [n0]]) * np.ones((4, neurons))
    ts = [0.0]
    vs = [y[0].copy()]
    spikes: list[list[float]] = [[] for _ in range(neurons)]
    for k in range(steps):
        c = cur[k]
        try:
            with np.errstate(over="raise", invalid="raise"):
                k1 = _derivs(y, c)
                k2 = _derivs(y + 0.5 * dt_ms * k1, c)
                k3 = _derivs(y + 0.5 * dt_ms * k2, c)
                k4 = _derivs(y + dt_ms * k3, c)
                y_new = y + dt_ms / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        except FloatingPointError:
            raise ValueError(
                f"the stimulus drives the float model out of its numerical range at "
                f"{k * dt_ms:g} ms (the rate functions overflow); give a current closer to "
                f"0 uA/cm^2") from None
        crossed = (y[0] < SPIKE_THRESHOLD_MV) & (y_new[0] >= SPIKE_THRESHOLD_MV)
        for i in np.flatnonzero(crossed):
            frac = (SPIKE_THRESHOLD_MV - y[0, i]) / (y_new[0, i] - y[0, i])
            spikes[i].append((k + frac) * dt_ms)
        y = y_new
        if (k + 1) % record_every == 0:
            ts.append((k + 1) * dt_ms)
            vs.append(y[0].copy())
    return FloatRun(np.array(ts), np.array(vs), spikes, dt_ms)


# -- integer model of the hardware -------------------------------------------------------------

#: Fraction bits and width of the stimulus-current port (signed, uA/cm^2).
CURRENT_FRAC = 8
CURRENT_WIDTH = 16
#: Voltage range (mV) the rate tables cover; V outside it uses the nearest end entry.
TABLE_V_MIN = -100
TABLE_V_MAX = 60
#: Integer bits of V (sign included): V is clamped to [-128, 128) mV.
V_INT_BITS = 8
GATES = ("m", "h", "n")


def round_significant(x: int, k: int) -> int:
    """``x >= 0`` rounded (half up) to its ``k`` most significant bits; ``k = 0``: ``x`` itself.

    ``x`` of at most ``k`` bits is unchanged; otherwise the bits below the top ``k`` become 0
    (the rounding may carry into one more bit, e.g. ``0b1111`` to 3 bits is ``0b10000``).
    """
    drop = x.bit_length() - k
    if k == 0 or drop <= 0:
        return x
    return ((x + (1 << (drop - 1))) >> drop) << drop


def round_diffused(exact: np.ndarray, k: int) -> tuple[int, ...]:
    """The values ``exact`` (non-negative floats, in table order) as integers of at most ``k``
    significant bits, rounding with error diffusion: entry ``i`` is
    ``round_significant(floor(exact[i] + c + 1/2), k)`` (at least 0) with ``c`` the error carried
    so far, and ``c`` becomes ``exact[i] + c - entry``. Each entry is within about one unit of
    its last kept bit of the exact value, and the sum of any run of entries within about one
    such unit of the exact sum, so a rate averaged over a few table cells keeps its accuracy."""
    out, carry = [], 0.0
    for x in np.asarray(exact, dtype=np.float64):
        want = float(x) + carry
        q = round_significant(max(0, math.floor(want + 0.5)), k)
        carry = want - q
        out.append(q)
    return tuple(out)


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


@dataclass(frozen=True)
class HHIntParams:
    """Structure of the hardware Hodgkin-Huxley neuron.

    ``v_frac``: fraction bits of V (mV); V is a signed ``8 + v_frac``-bit number in
    ``[-128, 128)`` mV. ``gate_frac``: fraction bits of m, h, n, of the rate tables and of the
    conductance constants (gates are unsigned ``gate_frac``-bit numbers in ``[0, 1)``).
    ``dt_us``: forward-Euler step (microseconds). ``table_bits``: the rate tables hold
    ``2**table_bits`` entries per mV over [``table_lo``, ``table_hi``) mV (-1: one per 2 mV);
    V outside that range reads the nearest end entry. The range defaults to [-100, 60) mV
    (:data:`TABLE_V_MIN`, :data:`TABLE_V_MAX`); a narrower one is a smaller ROM.
    ``mul_bits``: bits of the multiplier's second operand the hardware consumes per clock cycle
    (a digit-serial multiplier; at least the operand width means one product per cycle). It sets
    area and cycles per step only: the results are the same for every value.
    ``interp``: 0 reads the entry of V's table cell (its value at the cell's midpoint); 1 keeps
    the rates at the cell edges (``table_size + 1`` nodes) with the slope to the next node and
    interpolates linearly on the multiplier (coarser tables for the same accuracy; six more
    multiplications per step). ``table_bits`` goes down to -2 (one node per 4 mV) with it.
    ``table_sig``: 0 rounds every table entry (or node) to the nearest integer; ``K`` > 0 keeps
    only its ``K`` most significant bits, carrying each entry's rounding error into the next
    (:func:`round_diffused`), so the ROM stores mostly zeros in the low bits of its larger
    entries (a smaller ROM) and the error averaged over a few neighbouring entries stays small.
    ``lean``: 1 builds the same arithmetic from fewer adders (hardware only, like ``mul_bits``).
    ``latch_state``: 1 keeps V, m, h, n in Sky130 latches instead of flip-flops (hardware only;
    nearest-entry tables).
    """

    v_frac: int = 10      # fraction bits of V (mV), 8..16
    gate_frac: int = 16   # fraction bits of m, h, n, tables and constants, 8..20
    dt_us: int = 25       # Euler step (us), 1..100 and dt*(alpha+beta) < 1
    table_bits: int = 0   # log2 of table entries per mV, -1..3
    mul_bits: int = 4     # multiplier digit (bits per clock), 1..32; hardware only
    interp: int = 0       # 1: linear interpolation between table nodes, 0: nearest entry
    table_sig: int = 0    # significant bits kept per table entry, 0 (all) or 1..20
    lean: int = 0         # 1: fewer adders for the same arithmetic; hardware only
    table_lo: int = TABLE_V_MIN   # lower end of the rate tables (mV), -128..-40
    table_hi: int = TABLE_V_MAX   # upper end of the rate tables (mV), 20..127
    latch_state: int = 0  # 1: V, m, h, n in latches (hardware only; interp=0)

    def __post_init__(self) -> None:
        for name, lo, hi in (("v_frac", 8, 16), ("gate_frac", 8, 20), ("dt_us", 1, 100),
                             ("interp", 0, 1), ("table_bits", -2 if self.interp == 1 else -1, 3),
                             ("mul_bits", 1, 32), ("table_sig", 0, 20),
                             ("lean", 0, 1), ("table_lo", -128, -40), ("table_hi", 20, 127),
                             ("latch_state", 0, 1)):
            value = getattr(self, name)
            if not _is_int(value):
                raise TypeError(f"{name} must be an integer, not {value!r}")
            if not lo <= value <= hi:
                raise ValueError(f"{name} must be between {lo} and {hi}, not {value}")
        if self.latch_state and self.interp:
            raise ValueError("latch_state=1 needs interp=0 (nearest-entry tables)")
        step = 1 << max(0, -self.table_bits)   # mV per table cell (at least 1)
        for name in ("table_lo", "table_hi"):
            if getattr(self, name) % step:
                raise ValueError(f"{name} must be a multiple of the table cell ({step} mV with "
                                 f"table_bits={self.table_bits}), not {getattr(self, name)}")
        worst = self._worst_b()
        if worst >= 1.0:
            raise ValueError(
                f"dt_us={self.dt_us} is too large for forward Euler of the gates: "
                f"dt*(alpha+beta) reaches {worst:.2f} (must stay below 1) inside the table range; "
                f"use dt_us <= {int(1000.0 / (worst * 1000.0 / self.dt_us))}"
            )

    # Derived quantities ------------------------------------------------------------------------
    @property
    def dt_ms(self) -> float:
        return self.dt_us / 1000.0

    @property
    def one(self) -> int:
        """The integer that stands for 1.0 in gate format."""
        return 1 << self.gate_frac

    @property
    def v_width(self) -> int:
        return V_INT_BITS + self.v_frac

    @property
    def v_min(self) -> int:
        return -(1 << (self.v_width - 1))

    @property
    def v_max(self) -> int:
        return (1 << (self.v_width - 1)) - 1

    @property
    def gate_max(self) -> int:
        return self.one - 1

    @property
    def table_size(self) -> int:
        return int((self.table_hi - self.table_lo) * 2.0 ** self.table_bits)

    @property
    def table_offset(self) -> int:
        """Index of the table's first cell counted from 0 mV: ``table_lo * 2**table_bits``."""
        return int(self.table_lo * 2.0 ** self.table_bits)

    def _table_voltages(self) -> np.ndarray:
        """Voltage (mV) of each table entry: each cell's midpoint, or with ``interp`` each
        cell's lower edge and the top end (``table_size + 1`` nodes)."""
        step = 2.0 ** -self.table_bits
        if self.interp:
            return self.table_lo + np.arange(self.table_size + 1) * step
        return self.table_lo + (np.arange(self.table_size) + 0.5) * step

    @property
    def frac_bits(self) -> int:
        """Bits of V below the table index (V's position within its cell)."""
        return self.v_frac - self.table_bits

    def _worst_b(self) -> float:
        r = rates(self._table_voltages())
        return float(max(np.max(r["a" + g] + r["b" + g]) for g in GATES) * self.dt_ms)

    @cached_property
    def tables(self) -> dict[str, tuple[int, ...]]:
        """Rate tables: ``A_x = round(dt a_x 2**G)`` and ``B_x = round(dt (a_x + b_x) 2**G)``.

        Keys ``Am, Bm, Ah, Bh, An, Bn``; entry ``i`` is the rate at the midpoint of cell ``i``,
        or with ``interp`` at the lower edge of cell ``i`` (``table_size + 1`` entries: the last
        is the top end). With ``table_sig`` the entries are rounded to that many significant bits
        along the table, each error carried into the next entry (:func:`round_diffused`).
        """
        r = rates(self._table_voltages())
        out = {}
        for g in GATES:
            a = r["a" + g]
            b = r["b" + g]
            for key, value in (("A" + g, a), ("B" + g, a + b)):
                exact = self.dt_ms * value * self.one
                out[key] = (round_diffused(exact, self.table_sig) if self.table_sig
                            else tuple(int(x) for x in np.round(exact)))
        return out

    @cached_property
    def slopes(self) -> dict[str, tuple[int, ...]]:
        """With ``interp``: ``D_x[i] = T_x[i + 1] - T_x[i]`` for each table (signed,
        ``table_size`` entries), the difference the interpolation scales. Empty without."""
        if not self.interp:
            return {}
        return {k: tuple(b - a for a, b in zip(t[:-1], t[1:])) for k, t in self.tables.items()}

    def _const(self, value: float) -> int:
        return int(round(value * self.one))

    @property
    def k_na(self) -> int:
        """``dt gNa / C`` in gate format."""
        return self._const(self.dt_ms * HH.g_na / HH.c_m)

    @property
    def k_k(self) -> int:
        return self._const(self.dt_ms * HH.g_k / HH.c_m)

    @property
    def k_l(self) -> int:
        return self._const(self.dt_ms * HH.g_l / HH.c_m)

    @property
    def k_i(self) -> int:
        """``dt / C`` in gate format (multiplies the current)."""
        return self._const(self.dt_ms / HH.c_m)

    def _volt(self, mv: float) -> int:
        return int(round(mv * (1 << self.v_frac)))

    @property
    def e_na(self) -> int:
        return self._volt(HH.e_na)

    @property
    def e_k(self) -> int:
        return self._volt(HH.e_k)

    @property
    def e_l(self) -> int:
        return self._volt(HH.e_l)

    @property
    def acc_bound(self) -> int:
        """An upper bound on ``|acc|`` (the unsaturated next V) over all states and currents."""
        span = (1 << (self.v_width - 1)) + max(abs(self.e_na), abs(self.e_k), abs(self.e_l))
        cur = (1 << (CURRENT_WIDTH - 1)) << (self.v_frac - CURRENT_FRAC)
        terms = (self.k_na + self.k_k + self.k_l) * span + self.k_i * cur
        return (1 << (self.v_width - 1)) + (terms >> self.gate_frac) + 4

    def initial_state(self, neurons: int = 1) -> HHIntState:
        """Rest: V = -65 mV and each gate at its steady state there, rounded to format."""
        m0, h0, n0 = steady_state(HH.v_rest)
        full = lambda x: np.full(neurons, x, dtype=np.int64)  # noqa: E731
        return HHIntState(full(self._volt(HH.v_rest)), full(int(round(m0 * self.one))),
                          full(int(round(h0 * self.one))), full(int(round(n0 * self.one))))

    def current_code(self, ua_per_cm2: float) -> int:
        """The stimulus-port value for a current in uA/cm^2 (rounded, range checked)."""
        code = int(round(float(ua_per_cm2) * (1 << CURRENT_FRAC)))
        lo, hi = -(1 << (CURRENT_WIDTH - 1)), (1 << (CURRENT_WIDTH - 1)) - 1
        if not lo <= code <= hi:
            raise ValueError(f"current {ua_per_cm2} uA/cm^2 is outside the stimulus port's range "
                             f"{lo / (1 << CURRENT_FRAC)}..{hi / (1 << CURRENT_FRAC)}")
        return code

    def to_mv(self, v: np.ndarray | int) -> np.ndarray:
        return np.asarray(v, dtype=np.float64) / (1 << self.v_frac)

    def to_gate(self, x: np.ndarray | int) -> np.ndarray:
        return np.asarray(x, dtype=np.float64) / self.one

    def structural(self) -> dict[str, int]:
        """The generator parameters (what the hardware is built from)."""
        return {"v_frac": self.v_frac, "gate_frac": self.gate_frac, "dt_us": self.dt_us,
                "table_bits": self.table_bits, "mul_bits": self.mul_bits, "interp": self.interp,
                "table_sig": self.table_sig, "lean": self.lean, "table_lo": self.table_lo,
                "table_hi": self.table_hi, "latch_state": self.latch_state}


@dataclass
class HHIntState:
    """State of the integer model: V and the three gates, each an int64 array ``(neurons,)``."""

    v: np.ndarray
    m: np.ndarray
    h: np.ndarray
    n: np.ndarray

    def copy(self) -> HHIntState:
        return HHIntState(self.v.copy(), self.m.copy(), self.h.copy(), self.n.copy())


def _mul(a: np.ndarray, b: np.ndarray | int, shift: int) -> np.ndarray:
    """The shared multiplier: ``(a * b + 2**(shift-1)) >> shift`` (round half up)."""
    return (np.asarray(a, dtype=np.int64) * b + (1 << (shift - 1))) >> shift


def table_index(v: np.ndarray, p: HHIntParams) -> np.ndarray:
    """Rate-table index of V: ``floor((V - Vmin) * 2**table_bits)`` clamped to the table."""
    raw = (np.asarray(v, dtype=np.int64) >> p.frac_bits) - p.table_offset
    return np.clip(raw, 0, p.table_size - 1)


def table_fraction(v: np.ndarray, p: HHIntParams) -> np.ndarray:
    """With ``interp``: V's position within its table cell as a gate-format fraction.

    The ``frac_bits`` bits of V below the index, shifted to ``gate_frac`` bits (truncated when
    there are more); 0 below the table and all ones (just under the top node) above it.
    """
    v = np.asarray(v, dtype=np.int64)
    fb = p.frac_bits
    raw = (v >> fb) - p.table_offset
    low = v & ((1 << fb) - 1)
    low = np.where(raw < 0, 0, np.where(raw > p.table_size - 1, (1 << fb) - 1, low))
    shift = p.gate_frac - fb
    return low << shift if shift >= 0 else low >> -shift


def table_rates(v: np.ndarray, p: HHIntParams) -> dict[str, np.ndarray]:
    """The six rate operands ``A_x``, ``B_x`` at V, as the hardware forms them: the entry of
    V's cell, or with ``interp`` ``T[k] + mul(D[k], f)`` (:func:`table_fraction`)."""
    k = table_index(v, p)
    out = {}
    for key, table in p.tables.items():
        t = np.asarray(table, dtype=np.int64)[k]
        if p.interp:
            f = table_fraction(v, p)
            t = t + _mul(np.asarray(p.slopes[key], dtype=np.int64)[k], f, p.gate_frac)
        out[key] = t
    return out


def hh_int_step(
    state: HHIntState, current: np.ndarray | int, p: HHIntParams
) -> tuple[HHIntState, np.ndarray]:
    """Advance the integer model by one forward-Euler step; return ``(state, spikes)``.

    ``current`` is the stimulus-port value (signed, ``CURRENT_FRAC`` fraction bits). With
    ``G = gate_frac``, ``mul(a, b) = (a*b + 2**(G-1)) >> G``, every quantity of V in V's format,
    table index ``k`` from the old V (:func:`table_index`) and all right shifts arithmetic::

        acc  = V + mul(I << (v_frac - 8), Ki)
        acc -= mul(mul(mul(mul(V - ENa, m), m), m), h) * Kna      (the last product also by mul)
        acc -= mul(mul(mul(mul(V - EK,  n), n), n), n) * Kk
        acc -= mul(V - EL, Kl)
        x'   = clamp(x + A_x[k] - mul(x, B_x[k]), 0, 2**G - 1)      for x = m, h, n
        V'   = clamp(acc, -2**(v_width-1), 2**(v_width-1) - 1)
        spike = V < 0 <= V'

    With ``interp`` each rate operand is ``T[k] + mul(D[k], f)`` instead of the entry ``T[k]``
    (:func:`table_rates`).

    The Na and K chains use the old gates, exactly as forward Euler does; ``acc`` is formed at
    full width and saturated once.
    """
    g = p.gate_frac
    v, m, h, n = state.v, state.m, state.h, state.n
    cur = np.asarray(current, dtype=np.int64)
    lo, hi = -(1 << (CURRENT_WIDTH - 1)), (1 << (CURRENT_WIDTH - 1)) - 1
    if cur.min(initial=0) < lo or cur.max(initial=0) > hi:
        raise ValueError(f"current code out of range for the {CURRENT_WIDTH}-bit port: "
                         f"allowed {lo}..{hi}")
    acc = v + _mul(cur << (p.v_frac - CURRENT_FRAC), p.k_i, g)
    x = v - p.e_na
    for gate in (m, m, m, h):
        x = _mul(x, gate, g)
    acc = acc - _mul(x, p.k_na, g)
    x = v - p.e_k
    for gate in (n, n, n, n):
        x = _mul(x, gate, g)
    acc = acc - _mul(x, p.k_k, g)
    acc = acc - _mul(v - p.e_l, p.k_l, g)

    rate = table_rates(v, p)
    new = {}
    for name, x in (("m", m), ("h", h), ("n", n)):
        new[name] = np.clip(x + rate["A" + name] - _mul(x, rate["B" + name], g), 0, p.gate_max)
    v_new = np.clip(acc, p.v_min, p.v_max)
    spikes = (v < 0) & (v_new >= 0)
    return HHIntState(v_new, new["m"], new["h"], new["n"]), spikes


@dataclass(frozen=True)
class IntRun:
    """Result of :func:`hh_int_run`: per-step arrays of shape ``(steps, neurons)`` after each step
    (``v``, ``m``, ``h``, ``n`` as integers, ``spikes`` as bool), the final state, and
    ``spike_times`` in ms (end of the step that fired) per neuron."""

    v: np.ndarray
    m: np.ndarray
    h: np.ndarray
    n: np.ndarray
    spikes: np.ndarray
    state: HHIntState
    spike_times: list[list[float]]


def hh_int_run(
    p: HHIntParams,
    currents: np.ndarray | int,
    steps: int | None = None,
    *,
    state: HHIntState | None = None,
) -> IntRun:
    """Run the integer model from rest (or ``state``).

    ``currents`` are stimulus-port codes: a scalar (with ``steps``), one per neuron
    ``(neurons,)`` (with ``steps``), or per step ``(steps, neurons)`` / ``(steps,)`` for one
    neuron when ``steps`` is omitted.
    """
    cur = np.asarray(currents, dtype=np.int64)
    if steps is None:
        if cur.ndim == 1:
            cur = cur[:, None]
        if cur.ndim != 2:
            raise ValueError("give steps, or currents of shape (steps,) or (steps, neurons)")
        steps = cur.shape[0]
    else:
        if not _is_int(steps) or steps < 0:
            raise ValueError(f"steps must be a non-negative integer, not {steps!r}")
        if cur.ndim <= 1:  # a scalar, or one constant current per neuron
            row = cur.reshape(1, -1)
            cur = np.broadcast_to(row, (steps, row.shape[1]))
        elif cur.shape[0] != steps:
            raise ValueError(f"currents have {cur.shape[0]} steps, not {steps}")
    neurons = cur.shape[1]
    state = p.initial_state(neurons) if state is None else state.copy()
    out = {k: np.empty((steps, neurons), dtype=np.int64) for k in ("v", "m", "h", "n")}
    spikes = np.empty((steps, neurons), dtype=bool)
    for t in range(steps):
        state, s = hh_int_step(state, cur[t], p)
        out["v"][t], out["m"][t], out["h"][t], out["n"][t] = state.v, state.m, state.h, state.n
        spikes[t] = s
    times = [list((np.flatnonzero(spikes[:, i]) + 1) * p.dt_ms) for i in range(neurons)]
    return IntRun(out["v"], out["m"], out["h"], out["n"], spikes, state, times)


# -- the declaration ---------------------------------------------------------------------------

class HHConfig(NeuronConfig):
    """The Hodgkin-Huxley neuron as a :class:`~neurotile.neurons.spec.NeuronConfig`.

    The structural parameters are :class:`HHIntParams`' (plus ``neurons``); there are no
    run-time settings. :meth:`step` is :func:`hh_int_step`; the float model is
    :func:`hh_float_run` (RK4 at :data:`FLOAT_DT_MS`). Input: the stimulus port, signed
    ``CURRENT_WIDTH`` bits with ``CURRENT_FRAC`` fraction bits of uA/cm^2. Outputs: ``spike``
    (an upward crossing of 0 mV) and ``v`` (the code of V, ``v_frac`` fraction bits of mV).
    The hardware block itself is :mod:`neurotile.blocks.hh` (one neuron, its own runner).
    """

    NAME = "hh"
    TITLE = "Hodgkin-Huxley"
    PARAMS = (
        Param("v_frac", int, 10, "fraction bits of V (mV); V is 8 + v_frac bits", low=8,
              high=16),
        Param("gate_frac", int, 16, "fraction bits of gates m, h, n and rate tables", low=8,
              high=20),
        Param("dt_us", int, 25, "forward-Euler step in microseconds (gate-stable)", low=1,
              high=100),
        Param("table_bits", int, 0, "rate-table entries per mV = 2**table_bits", low=-2,
              high=3),
        Param("mul_bits", int, 4, "multiplier bits per cycle (hardware only)", low=1, high=32),
        Param("interp", int, 0, "1: interpolate linearly between table nodes", low=0, high=1),
        Param("table_sig", int, 0, "significant bits kept per table entry (0: all)", low=0,
              high=20),
        Param("lean", int, 0, "1: the same arithmetic from fewer adders (hardware only)", low=0,
              high=1),
        Param("table_lo", int, TABLE_V_MIN, "lower end of the rate tables (mV)", low=-128,
              high=-40),
        Param("table_hi", int, TABLE_V_MAX, "upper end of the rate tables (mV)", low=20,
              high=127),
        Param("latch_state", int, 0, "1: V, m, h, n in latches (hardware only)", low=0, high=1),
    )
    DT_MS = FLOAT_DT_MS
    INPUT_UNIT = "uA/cm^2"
    MEMBRANE_UNIT = "mV"
    OUTPUT_NAMES: ClassVar[Mapping[str, str]] = {"spike": "spikes", "v": "membrane"}

    @classmethod
    def float_run(cls, currents: np.ndarray, **options: Any) -> dict[str, np.ndarray]:
        """:func:`hh_float_run` from rest: ``spikes`` (a crossing of 0 mV in the step),
        ``membrane`` (V in mV after each step) and the interpolated ``spike_times_ms``."""
        x = np.asarray(currents, np.float64)
        run = hh_float_run(x, x.shape[0] * cls.DT_MS, dt_ms=cls.DT_MS)
        v = run.v
        spikes = (v[:-1] < SPIKE_THRESHOLD_MV) & (v[1:] >= SPIKE_THRESHOLD_MV)
        return {"spikes": spikes, "membrane": v[1:], "spike_times_ms": run.spike_times}

    @cached_property
    def int_params(self) -> HHIntParams:
        """The structure as :class:`HHIntParams`."""
        return HHIntParams(**{p.name: getattr(self, p.name) for p in self.PARAMS})

    def check(self) -> None:
        self.int_params  # noqa: B018  (its own checks: the gates' Euler stability)

    def step_ms(self) -> float:
        return self.int_params.dt_ms

    def input_lsb(self) -> float:
        return 2.0 ** -CURRENT_FRAC

    def membrane_lsb(self) -> float:
        return 2.0 ** -self.v_frac

    def float_equivalent(self) -> dict[str, Any]:
        """The float model has no options: NEURON's squid axon, which the tables quantise."""
        return self.float_options()

    def input_field(self) -> Field:
        return Field("current", CURRENT_WIDTH, True)

    def state_fields(self) -> tuple[Field, ...]:
        p = self.int_params
        return (Field("v", p.v_width, True, "membrane potential V"),
                *(Field(g, p.gate_frac, False, f"gate {g}") for g in GATES))

    def output_fields(self) -> tuple[Field, ...]:
        return (Field("spike", 1, False, "V crossed 0 mV upwards"),
                Field("v", self.int_params.v_width, True, "V after the step"))

    def reset_state(self) -> dict[str, int]:
        """Rest: V = -65 mV, the gates at their steady state (:meth:`HHIntParams.initial_state`)."""
        s = self.int_params.initial_state(1)
        return {k: int(getattr(s, k)[0]) for k in ("v", *GATES)}

    def step(self, state: Mapping[str, np.ndarray], current: np.ndarray,
             settings: Mapping[str, Any]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
        new, spikes = hh_int_step(HHIntState(*(state[k] for k in ("v", *GATES))), current,
                                  self.int_params)
        return ({"v": new.v, "m": new.m, "h": new.h, "n": new.n},
                {"spike": spikes, "v": new.v})


MODEL = HHConfig
