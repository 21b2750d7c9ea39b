# SPDX-License-Identifier: Apache-2.0
"""Izhikevich (2003) neurons: the update datapath, on the shared population engine.

The arithmetic is specified once, by :meth:`neurotile.neurons.izhikevich.IzhikevichIntParams.step`;
this module is its hardware and is checked against it bit for bit (``tests/test_izhikevich.py``).
:class:`~neurotile.rtl.population.Population` with :data:`DATAPATH` gives the whole population.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, Value, signed

from neurotile.neurons.izhikevich import QUAD_FRAC, QUAD_TERMS, IzhikevichIntParams
from neurotile.neurons.spec import Field
from neurotile.rtl.population import Datapath

__all__ = ["IzhikevichDatapath", "DATAPATH", "multiplier_widths"]


def _align(x: Value, frm: int, to: int) -> Value:
    """``x`` with ``frm`` fraction bits re-expressed with ``to``: exact shift left (widening), or
    arithmetic shift right (floor)."""
    return x.shift_left(to - frm) if to >= frm else x.shift_right(frm - to)


def _round_shift(x: Value, shift: int) -> Value:
    """``(x + 2**(shift-1)) >> shift`` at full width: round half up, arithmetic shift."""
    if shift == 0:
        return x
    return (x + (1 << (shift - 1))).shift_right(shift)


def multiplier_widths(config: IzhikevichIntParams) -> dict[str, tuple[int, int]]:
    """Operand widths (bits, sign included) of the datapath's three multipliers: the squarer of
    ``v + 62.5 mV``, ``b * v`` and ``a * (b v - u)`` (``a`` unsigned)."""
    c = config
    w = c.v_width + 1
    bv = c.b_width + c.v_width
    aligned = bv - max(0, c.b_frac + c.v_frac - c.u_frac) + max(0, c.u_frac - c.b_frac - c.v_frac)
    diff = max(aligned, c.u_width) + 1
    return {"square": (w, w), "b_v": (c.b_width, c.v_width), "a_diff": (c.a_width, diff)}


class IzhikevichDatapath(Datapath):
    """The combinational Izhikevich update, shared by every neuron of a population.

    One forward-Euler step of ``dt = 2**-dt_shift`` ms of ``v' = 0.04 v^2 + 5 v + 140 - u + I``
    and ``u' = a (b v - u)`` from the stored state, written as
    ``v' = 0.04 (v + 62.5)^2 - 16.25 - u + I``: one squarer on ``v + 62.5 mV``
    (``v_width + 1`` bits), the constant ``0.04 = 5243 / 2**17`` as five shifted copies of the
    square, and two multipliers for ``b * v`` and ``a * (b v - u)``. Rounding: half up (add half
    an LSB, arithmetic shift) where the square, ``dt`` and ``a`` are divided out; floor where
    ``u``, and ``b v``, drop fraction bits to meet ``v`` and ``u``. Spike when the new ``v`` is
    at least 30 mV, then ``v <- c`` and ``u <- u + d``; ``v`` and ``u`` saturate to their fields
    once, at the end of each full-width sum. Ports:
    :func:`~neurotile.rtl.population.datapath_signature` (``v``, ``u``, ``current``, ``a``,
    ``b``, ``c``, ``d`` in; ``next_v``, ``next_u``, ``out_spike``, ``out_v`` out).

    Parameters
    ----------
    config : IzhikevichIntParams
        The structure (formats, ``dt_shift``).
    """

    MODEL = IzhikevichIntParams


    def saturate(self, value: Value, field: Field) -> Value:
        """``value`` clamped to ``field``'s range (the only way a sum meets a narrower field)."""
        return Mux(value > field.hi, field.hi, Mux(value < field.lo, field.lo, value))

    def elaborate(self, platform):
        m = Module()
        p = self.config
        fv, fu, k = p.v_frac, p.u_frac, p.dt_shift
        vf, uf = p.state_fields()
        v, u = self.v, self.u

        # 0.04 (v + 62.5)^2 - 16.25, in v units: one squarer, shift-adds for 0.04.
        w = Signal(signed(p.v_width + 1))
        m.d.comb += w.eq(v + (125 << (fv - 1)))
        square = Signal(signed(2 * p.v_width + 2))
        m.d.comb += square.eq(w * w)
        (first, _), *rest = QUAD_TERMS                    # 5243 = 2^12 + 2^10 + 2^7 - 2^2 - 1
        scaled = square.shift_left(first)
        for shift, sign in rest:
            term = square.shift_left(shift)
            scaled = scaled + term if sign > 0 else scaled - term
        sq = QUAD_FRAC + fv
        quad = _round_shift(scaled - (65 << (sq + fv - 2)), sq)

        total = quad - _align(u, fu, fv) + _align(self.current, p.input_frac, fv)
        v_pre = Signal(signed(max(p.v_width, len(total)) + 2))
        m.d.comb += v_pre.eq(v + _round_shift(total, k))

        bv = Signal(signed(p.b_width + p.v_width))
        m.d.comb += bv.eq(self.b * v)
        diff = _align(bv, p.b_frac + fv, fu) - u
        du = _round_shift(self.a * diff, p.a_frac + k)

        fire = Signal()
        m.d.comb += fire.eq(v_pre >= p.peak)
        v_new = Signal(signed(p.v_width))
        m.d.comb += v_new.eq(Mux(fire, self.c, self.saturate(v_pre, vf)))
        u_sum = u + du + Mux(fire, self.d, 0)
        m.d.comb += [
            self.next_v.eq(v_new),
            self.next_u.eq(self.saturate(u_sum, uf)),
            self.out_spike.eq(fire),
            self.out_v.eq(v_new),
        ]
        return m


DATAPATH = IzhikevichDatapath
