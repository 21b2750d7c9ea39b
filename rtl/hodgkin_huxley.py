# SPDX-License-Identifier: Apache-2.0
"""A Hodgkin-Huxley neuron on one shared, digit-serial multiplier.

The arithmetic is specified once, by :func:`neurotile.neurons.hodgkin_huxley.hh_int_step`; this
module is its hardware and is checked against it bit for bit.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from neurotile.neurons.hodgkin_huxley import CURRENT_FRAC, CURRENT_WIDTH, HHIntParams

__all__ = ["HHNeuron", "hh_params", "OPS_PER_STEP", "operand_widths", "cycles_per_op",
           "cycles_per_step"]

#: Multiplications in one forward-Euler step (one per multiplier operation).
OPS_PER_STEP = 15

_ALLOWED = ("v_frac", "gate_frac", "dt_us", "table_bits", "mul_bits")


def hh_params(**kwargs: object) -> HHIntParams:
    """Validate generator parameters of the Hodgkin-Huxley hardware; return :class:`HHIntParams`.

    Raises
    ------
    TypeError
        For an unknown parameter name or a value of the wrong type.
    ValueError
        For a value out of range (see :class:`HHIntParams`).
    """
    unknown = sorted(set(kwargs) - set(_ALLOWED))
    if unknown:
        raise TypeError(f"unknown Hodgkin-Huxley parameter(s) {', '.join(unknown)}; "
                        f"allowed: {', '.join(_ALLOWED)}")
    return HHIntParams(**kwargs)  # type: ignore[arg-type]


def operand_widths(p: HHIntParams) -> tuple[int, int]:
    """Widths ``(a, b)`` of the multiplier: ``a`` signed (voltages, gates), ``b`` unsigned
    (gates, rate tables, constants)."""
    a = max(p.v_width + 1, p.gate_frac + 1)
    largest = max([p.k_na, p.k_k, p.k_l, p.k_i, p.gate_max] + [max(t) for t in p.tables.values()])
    return a, largest.bit_length()


def cycles_per_op(p: HHIntParams) -> int:
    """Clock cycles of one multiplication: ``ceil(b_width / mul_bits)``."""
    return -(-operand_widths(p)[1] // p.mul_bits)


def cycles_per_step(p: HHIntParams) -> int:
    """Clock cycles of one forward-Euler step: ``15 * cycles_per_op``."""
    return OPS_PER_STEP * cycles_per_op(p)


class HHNeuron(wiring.Component):
    """One Hodgkin-Huxley neuron, forward Euler, one multiplier shared by the whole update.

    Each Euler step of ``dt_us`` microseconds is 15 multiplier operations. Each operation forms
    ``r = (a * b + 2**(G-1)) >> G`` (``G = gate_frac``) for one term of
    :func:`~neurotile.neurons.hodgkin_huxley.hh_int_step` and takes :func:`cycles_per_op`
    clock cycles: the multiplier consumes ``mul_bits`` bits of ``b`` per cycle, most significant
    digit first (``mul_bits`` at least the width of ``b``: one cycle). The operations, in order:

    ====== ============================== ==============================
    op     ``a * b``                      result
    ====== ============================== ==============================
    0      ``(I << (v_frac-8)) * Ki``     ``acc = V + r``
    1-4    ``(V-ENa)*m, *m, *m, *h``      ``p = r`` (running product)
    5      ``p * Kna``                    ``acc -= r``
    6-9    ``(V-EK)*n, *n, *n, *n``       ``p = r``
    10     ``p * Kk``                     ``acc -= r``
    11     ``(V-EL) * Kl``                ``acc -= r``
    12-14  ``x * B_x[k]`` for m, h, n     ``x = clamp(x + A_x[k] - r)``
    14     (same operation)               ``V = sat(acc)``, ``spike``, ``done``
    ====== ============================== ==============================

    ``k`` is the rate-table index of the old V; the tables ``A_x = dt a_x`` and
    ``B_x = dt (a_x + b_x)`` (``2**table_bits`` entries per mV over [-100, 60) mV, value at each
    cell's midpoint) are constant ``case`` ROMs. Gates update in place after the ionic terms have
    used their old values, so no second copy of the state is kept.

    Formats: V signed ``8 + v_frac`` bits (mV, saturating at [-128, 128)); m, h, n unsigned
    ``gate_frac`` fraction bits (clamped to [0, 1 - 2**-G]); stimulus signed 16 bits with 8
    fraction bits (uA/cm^2). Reset puts the neuron at rest (V = -65 mV, gates at steady state).

    Parameters
    ----------
    v_frac, gate_frac, dt_us, table_bits, mul_bits : int
        See :class:`~neurotile.neurons.hodgkin_huxley.HHIntParams`.

    Members
    -------
    current : In(signed(16))
        Stimulus (uA/cm^2, 8 fraction bits), read only in the first cycle of every step
        (``start``); it may change at any other time.
    enable : In(1)
        A step starts only while high; low holds the neuron between steps.
    start : Out(1)
        High in the cycle a step begins (``enable`` high with the previous step finished); the
        step uses the ``current`` of this cycle.
    v : Out(signed(8 + v_frac))
        Membrane potential (mV, ``v_frac`` fraction bits).
    m, h, n : Out(unsigned(gate_frac))
        Gates, for inspection.
    spike : Out(1)
        Set by a step whose V crossed 0 mV upward; held until the next step ends.
    done : Out(1)
        High for one cycle after each step; ``v``, ``m``, ``h``, ``n``, ``spike`` then hold the
        new state and stay valid until operation 12 of the next step.

    Raises
    ------
    TypeError, ValueError
        For parameters of the wrong type or out of range.
    """

    def __init__(self, *, v_frac: int = 10, gate_frac: int = 16, dt_us: int = 25,
                 table_bits: int = 0, mul_bits: int = 4) -> None:
        self.p = p = hh_params(v_frac=v_frac, gate_frac=gate_frac, dt_us=dt_us,
                               table_bits=table_bits, mul_bits=mul_bits)
        super().__init__({
            "current": In(signed(CURRENT_WIDTH)),
            "enable": In(1),
            "start": Out(1),
            "v": Out(signed(p.v_width)),
            "m": Out(unsigned(p.gate_frac)),
            "h": Out(unsigned(p.gate_frac)),
            "n": Out(unsigned(p.gate_frac)),
            "spike": Out(1),
            "done": Out(1),
        })

    @property
    def cycles_per_step(self) -> int:
        """Clock cycles of one Euler step."""
        return cycles_per_step(self.p)

    def elaborate(self, platform):
        m = Module()
        p = self.p
        g = p.gate_frac
        aw, bw = operand_widths(p)
        digits = cycles_per_op(p)
        k = min(p.mul_bits, bw)
        acc_width = p.acc_bound.bit_length() + 1

        # -- state -----------------------------------------------------------------------
        s0 = p.initial_state(1)
        v = Signal(signed(p.v_width), init=int(s0.v[0]))
        gm = Signal(unsigned(g), init=int(s0.m[0]))
        gh = Signal(unsigned(g), init=int(s0.h[0]))
        gn = Signal(unsigned(g), init=int(s0.n[0]))
        acc = Signal(signed(acc_width))
        prod = Signal(signed(aw))
        phase = Signal(range(OPS_PER_STEP))   # which operation
        digit = Signal(range(max(2, digits)))  # which digit of b, most significant first
        spike = Signal()
        done = Signal()
        m.d.comb += [self.v.eq(v), self.m.eq(gm), self.h.eq(gh), self.n.eq(gn),
                     self.spike.eq(spike), self.done.eq(done)]

        # -- rate tables: case ROMs indexed by the old V ----------------------------------
        shift = p.v_frac - p.table_bits
        raw = Signal(signed(p.v_width - shift + 1))
        m.d.comb += raw.eq((v >> shift) - p.table_offset)
        index = Signal(range(p.table_size))
        with m.If(raw < 0):
            m.d.comb += index.eq(0)
        with m.Elif(raw > p.table_size - 1):
            m.d.comb += index.eq(p.table_size - 1)
        with m.Else():
            m.d.comb += index.eq(raw)

        gate_sel = Signal(range(3))   # which gate's table pair cycles 12-14 read
        rate_a = Signal(unsigned(g))
        rate_b = Signal(unsigned(g))
        with m.Switch(Cat(index, gate_sel)):
            for gi, name in enumerate("mhn"):
                ta, tb = p.tables["A" + name], p.tables["B" + name]
                for i in range(p.table_size):
                    with m.Case(i | (gi << len(index))):
                        m.d.comb += [rate_a.eq(ta[i]), rate_b.eq(tb[i])]
            with m.Default():  # unused codes: the ROM reads 0
                m.d.comb += [rate_a.eq(0), rate_b.eq(0)]

        # -- the shared multiplier: digit-serial, most significant digit of b first ------------
        op_a = Signal(signed(aw))
        op_b = Signal(unsigned(bw))
        product = Signal(signed(aw + bw + 1))   # a * b, complete in the last digit cycle
        r = Signal(signed(aw + bw + 1 - g))
        op_last = Signal()
        if digits == 1:
            m.d.comb += [product.eq(op_a * op_b), op_last.eq(1)]
        else:
            padded = Signal(unsigned(digits * k))
            b_digit = Signal(unsigned(k))
            word = Signal(range(digits))
            partial = Signal(signed(aw + bw + 1))  # a * (the digits of b consumed so far)
            m.d.comb += [
                padded.eq(op_b),
                word.eq(digits - 1 - digit),
                b_digit.eq(padded.word_select(word, k)),
                product.eq(Mux(digit == 0, 0, partial << k) + op_a * b_digit),
                op_last.eq(digit == digits - 1),
            ]
            m.d.sync += partial.eq(product)
        m.d.comb += r.eq((product + (1 << (g - 1))) >> g)

        cur_scaled = self.current << (p.v_frac - CURRENT_FRAC)

        # Gate update of cycles 12-14, where op_a is the gate being updated.
        gate_full = Signal(signed(max(aw, g + 2) + 2))
        gate_next = Signal(unsigned(g))
        m.d.comb += [
            gate_full.eq(op_a + rate_a - r),
            gate_next.eq(Mux(gate_full < 0, 0,
                             Mux(gate_full > p.gate_max, p.gate_max, gate_full))),
        ]

        v_next = Signal(signed(p.v_width))
        m.d.comb += v_next.eq(Mux(acc > p.v_max, p.v_max, Mux(acc < p.v_min, p.v_min, acc)))

        # -- sequence -----------------------------------------------------------------------
        m.d.sync += done.eq(0)
        first = (phase == 0) & (digit == 0)
        m.d.comb += self.start.eq(first & self.enable)
        with m.If(~first | self.enable):
            if digits > 1:
                m.d.sync += digit.eq(Mux(op_last, 0, digit + 1))
            with m.If(op_last):
                m.d.sync += phase.eq(Mux(phase == OPS_PER_STEP - 1, 0, phase + 1))

        # The current is read in the start cycle only: it is kept in ``prod`` (free until
        # operation 1 writes it) for the remaining digit cycles of operation 0.
        if digits > 1:
            with m.If(self.start):
                m.d.sync += prod.eq(cur_scaled)
            cur_operand = Mux(digit == 0, cur_scaled, prod)
        else:
            cur_operand = cur_scaled

        # Operand selection: every case assigns both operands (and the default covers the
        # unused phase code), so the emitted case statements are complete.
        with m.Switch(phase):
            with m.Case(0):
                m.d.comb += [op_a.eq(cur_operand), op_b.eq(p.k_i)]
            with m.Case(1):
                m.d.comb += [op_a.eq(v - p.e_na), op_b.eq(gm)]
            with m.Case(2, 3):
                m.d.comb += [op_a.eq(prod), op_b.eq(gm)]
            with m.Case(4):
                m.d.comb += [op_a.eq(prod), op_b.eq(gh)]
            with m.Case(5):
                m.d.comb += [op_a.eq(prod), op_b.eq(p.k_na)]
            with m.Case(6):
                m.d.comb += [op_a.eq(v - p.e_k), op_b.eq(gn)]
            with m.Case(7, 8, 9):
                m.d.comb += [op_a.eq(prod), op_b.eq(gn)]
            with m.Case(10):
                m.d.comb += [op_a.eq(prod), op_b.eq(p.k_k)]
            with m.Case(11):
                m.d.comb += [op_a.eq(v - p.e_l), op_b.eq(p.k_l)]
            with m.Case(12):
                m.d.comb += [gate_sel.eq(0), op_a.eq(gm), op_b.eq(rate_b)]
            with m.Case(13):
                m.d.comb += [gate_sel.eq(1), op_a.eq(gh), op_b.eq(rate_b)]
            with m.Default():  # cycle 14 (15 never occurs)
                m.d.comb += [gate_sel.eq(2), op_a.eq(gn), op_b.eq(rate_b)]

        # Destinations, one condition per register, written in an operation's last cycle.
        to_prod = ((phase >= 1) & (phase <= 4)) | ((phase >= 6) & (phase <= 9))
        sub_acc = (phase == 5) | (phase == 10) | (phase == 11)
        with m.If(op_last & (phase == 0) & (~first | self.enable)):
            m.d.sync += acc.eq(v + r)
        with m.If(op_last & sub_acc):
            m.d.sync += acc.eq(acc - r)
        with m.If(op_last & to_prod):
            m.d.sync += prod.eq(r)
        with m.If(op_last & (phase == 12)):
            m.d.sync += gm.eq(gate_next)
        with m.If(op_last & (phase == 13)):
            m.d.sync += gh.eq(gate_next)
        with m.If(op_last & (phase == OPS_PER_STEP - 1)):
            m.d.sync += [
                gn.eq(gate_next),
                v.eq(v_next),
                spike.eq((v < 0) & (v_next >= 0)),
                done.eq(1),
            ]
        return m
