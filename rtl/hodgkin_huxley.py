# SPDX-License-Identifier: Apache-2.0
"""A Hodgkin-Huxley neuron on one shared, digit-serial multiplier.

The arithmetic is specified once, by :func:`neurotile.neurons.hodgkin_huxley.hh_int_step`; this
module is its hardware and is checked against it bit for bit.
"""

from __future__ import annotations

from amaranth.hdl import (
    Cat,
    ClockSignal,
    Instance,
    Module,
    Mux,
    ResetSignal,
    Signal,
    Value,
    signed,
    unsigned,
)
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from neurotile.rtl.cells import CLOCK_GATE, LATCH, instantiates_cells
from neurotile.neurons.hodgkin_huxley import (
    CURRENT_FRAC,
    CURRENT_WIDTH,
    TABLE_V_MAX,
    TABLE_V_MIN,
    HHIntParams,
)

__all__ = ["HHNeuron", "hh_params", "output_layout", "OPS_PER_STEP", "ops_per_step",
           "operand_widths", "cycles_per_op", "cycles_per_step"]

#: Multiplications in one forward-Euler step with nearest-entry tables (``interp=0``).
OPS_PER_STEP = 15

_ALLOWED = ("v_frac", "gate_frac", "dt_us", "table_bits", "mul_bits", "interp", "table_sig",
            "lean", "table_lo", "table_hi", "latch_state")


def ops_per_step(p: HHIntParams) -> int:
    """Multiplier operations in one Euler step: 15, or 21 with ``interp`` (one more per rate)."""
    return OPS_PER_STEP + 6 * p.interp


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
    """Clock cycles of one forward-Euler step: ``ops_per_step * cycles_per_op``."""
    return ops_per_step(p) * cycles_per_op(p)


def _multiplier(m: Module, p: HHIntParams, op_a: Signal, op_b: Signal,
                digit: Signal) -> tuple[Signal, Signal]:
    """The shared multiplier: ``r = (a * b + 2**(G-1)) >> G`` and the flag of its last cycle.

    Digit-serial with ``digits = cycles_per_op(p)`` cycles per product: cycle ``digit`` adds
    ``a`` times the ``digit``-th ``mul_bits``-bit digit of ``b`` (least significant first) to
    ``high``, the part of the product above the digits consumed, and shifts ``high`` down by a
    digit. The bits shifted out are kept only from bit ``G-1`` up (those below cannot change
    the rounded result), so the running product is about as wide as ``a`` and its adder too.
    ``r`` is valid in the last cycle; one cycle (``mul_bits`` at least the width of ``b``) is a
    plain product.
    """
    g = p.gate_frac
    aw, bw = operand_widths(p)
    digits = cycles_per_op(p)
    k = min(p.mul_bits, bw)
    r = Signal(signed(aw + bw + 1 - g))
    op_last = Signal()
    if digits == 1:
        product = Signal(signed(aw + bw + 1))
        m.d.comb += [product.eq(op_a * op_b), op_last.eq(1),
                     r.eq((product + (1 << (g - 1))) >> g)]
        return r, op_last
    padded = Signal(unsigned(digits * k))
    b_digit = Signal(unsigned(k))
    high = Signal(signed(aw + 1))        # floor(a * (digits consumed) / 2**(k * digit))
    total = Signal(signed(aw + k + 2))   # high + a * this digit
    last_shift = k * (digits - 1)        # weight of the last cycle's total: 2**last_shift
    running = Mux(digit == 0, 0, high) + op_a * b_digit
    if p.lean:
        # The rounding constant 2**(G-1) enters the running sum in the cycle whose digit holds
        # its weight, as a carry-in when that weight is the digit's lowest bit: no rounding
        # adder after the last cycle.
        d0 = (g - 1) // k
        bit = (g - 1) - k * d0
        inject = Signal(unsigned(bit + 1))
        m.d.comb += inject.eq(Mux(digit == d0, 1 << bit, 0))
        running = running + inject
    m.d.comb += [
        padded.eq(op_b),
        b_digit.eq(padded.word_select(digit, k)),
        total.eq(running),
        op_last.eq(digit == digits - 1),
    ]
    m.d.sync += high.eq(total >> k)
    if last_shift >= g - 1:
        kept = last_shift - (g - 1)      # shifted-out bits G-1 .. last_shift-1
        if kept:
            low = Signal(unsigned(kept))
            m.d.sync += low.eq(Cat(low, total[:k])[k:])
            upper = Cat(low, total).as_signed()   # the product >> (G-1)
        else:
            upper = total
        m.d.comb += r.eq(upper >> 1 if p.lean else (upper + 1) >> 1)
    elif p.lean:  # every shifted-out bit lies below G-1; the rounding is already in total
        m.d.comb += r.eq(total >> (g - last_shift))
    else:  # every shifted-out bit lies below G-1
        m.d.comb += r.eq((total + (1 << (g - 1 - last_shift))) >> (g - last_shift))
    return r, op_last


def output_layout(p: HHIntParams) -> data.StructLayout:
    """Payload of the output stream: the neuron's state after one Euler step.

    Fields, least significant first: ``spike`` (the step's V crossed 0 mV upward), ``v``
    (signed ``8 + v_frac`` bits, mV), ``m``, ``h``, ``n`` (unsigned ``gate_frac`` bits),
    ``index`` (1 bit, always 0: a population of one neuron) and ``last`` (1 bit, always 1: the
    last neuron of the step), as in every neuron block's output stream.
    """
    g = unsigned(p.gate_frac)
    return data.StructLayout({
        "spike": unsigned(1),
        "v": signed(p.v_width),
        "m": g,
        "h": g,
        "n": g,
        "index": unsigned(1),
        "last": unsigned(1),
    })


class HHNeuron(wiring.Component):
    """One Hodgkin-Huxley neuron, forward Euler, one multiplier shared by the whole update.

    Each Euler step of ``dt_us`` microseconds is 15 multiplier operations. Each operation forms
    ``r = (a * b + 2**(G-1)) >> G`` (``G = gate_frac``) for one term of
    :func:`~neurotile.neurons.hodgkin_huxley.hh_int_step` and takes :func:`cycles_per_op`
    clock cycles: the multiplier consumes ``mul_bits`` bits of ``b`` per cycle, least significant
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
    14     (same operation)               ``V = sat(acc)``, ``spike``, output valid
    ====== ============================== ==============================

    ``k`` is the rate-table index of the old V; the tables ``A_x = dt a_x`` and
    ``B_x = dt (a_x + b_x)`` (``2**table_bits`` entries per mV over [``table_lo``,
    ``table_hi``) mV, value at each cell's midpoint) are constant ``case`` ROMs. Gates update in
    place after the ionic terms have used their old values, so no second copy of the state is
    kept. With ``latch_state`` V, m, h, n are Sky130 latches in Verilog (see
    :meth:`_state_latches`).

    Formats: V signed ``8 + v_frac`` bits (mV, saturating at [-128, 128)); m, h, n unsigned
    ``gate_frac`` fraction bits (clamped to [0, 1 - 2**-G]); stimulus signed 16 bits with 8
    fraction bits (uA/cm^2). Reset puts the neuron at rest (V = -65 mV, gates at steady state)
    and empties the output register.

    Streams (``amaranth.lib.stream``; a transfer happens on a cycle with ``valid`` and ``ready``
    both high): every transfer accepted on ``current`` is the stimulus of one Euler step, and
    ``output`` carries exactly one transfer per accepted current, in order: the state after that
    step. ``current.ready`` is high only when a step can start: the previous step has finished
    and the output register is empty or being read in the same cycle. The output is registered
    and holds until read; while it waits, no step starts (back-pressure stalls the neuron). With
    the output read at once and a current always offered, a step starts every
    :func:`cycles_per_step` cycles and its output is valid that many cycles after its current
    was accepted.

    ``output.payload`` is the neuron's state whether or not ``output.valid`` is high: the rest
    state after reset, then the state after the latest step. It changes only in the last three
    operations of a step, so it holds from a step's end until operation 12 of the next one.

    Parameters
    ----------
    v_frac, gate_frac, dt_us, table_bits, mul_bits, interp, table_sig, lean : int
        See :class:`~neurotile.neurons.hodgkin_huxley.HHIntParams`.
    table_lo, table_hi, latch_state : int
        See :class:`~neurotile.neurons.hodgkin_huxley.HHIntParams`.

    Members
    -------
    current : In(stream.Signature(signed(16)))
        Stimulus of one step (uA/cm^2, 8 fraction bits), read only in the cycle it transfers.
    output : Out(stream.Signature(output_layout(p)))
        The state after each step (see :func:`output_layout`).

    Raises
    ------
    TypeError, ValueError
        For parameters of the wrong type or out of range.
    """

    def __init__(self, *, v_frac: int = 10, gate_frac: int = 16, dt_us: int = 25,
                 table_bits: int = 0, mul_bits: int = 4, interp: int = 0,
                 table_sig: int = 0, lean: int = 0, table_lo: int = TABLE_V_MIN,
                 table_hi: int = TABLE_V_MAX, latch_state: int = 0) -> None:
        self.p = p = hh_params(v_frac=v_frac, gate_frac=gate_frac, dt_us=dt_us,
                               table_bits=table_bits, mul_bits=mul_bits, interp=interp,
                               table_sig=table_sig, lean=lean, table_lo=table_lo,
                               table_hi=table_hi, latch_state=latch_state)
        super().__init__({
            "current": In(stream.Signature(signed(CURRENT_WIDTH))),
            "output": Out(stream.Signature(output_layout(p))),
        })

    @property
    def cycles_per_step(self) -> int:
        """Clock cycles of one Euler step."""
        return cycles_per_step(self.p)

    def elaborate(self, platform):
        if self.p.interp:
            return self._elaborate_interp()
        m = Module()
        p = self.p
        g = p.gate_frac
        aw, bw = operand_widths(p)
        digits = cycles_per_op(p)
        acc_width = p.acc_bound.bit_length() + 1

        # -- state -----------------------------------------------------------------------
        s0 = p.initial_state(1)
        v = Signal(signed(p.v_width), init=int(s0.v[0]))
        gm = Signal(unsigned(g), init=int(s0.m[0]))
        gh = Signal(unsigned(g), init=int(s0.h[0]))
        gn = Signal(unsigned(g), init=int(s0.n[0]))
        # With latch_state, acc resets to the rest V, which the V latches take at reset.
        acc = Signal(signed(acc_width), init=int(s0.v[0]) if p.latch_state else 0)
        prod = Signal(signed(aw))
        phase = Signal(range(OPS_PER_STEP))   # which operation
        digit = Signal(range(max(2, digits)))  # which digit of b, least significant first
        spike = Signal()
        out = self.output.payload
        m.d.comb += [out.spike.eq(spike), out.v.eq(v), out.m.eq(gm), out.h.eq(gh), out.n.eq(gn),
                     out.index.eq(0), out.last.eq(1)]

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

        # -- the shared multiplier: digit-serial, least significant digit of b first ----------
        op_a = Signal(signed(aw))
        op_b = Signal(unsigned(bw))
        r, op_last = _multiplier(m, p, op_a, op_b, digit)

        cur_scaled = self.current.payload << (p.v_frac - CURRENT_FRAC)

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

        force = self._forces(m, phase, v)

        # -- sequence -----------------------------------------------------------------------
        cur_operand, advance = self._sequence(m, phase, digit, op_last, prod, cur_scaled,
                                              OPS_PER_STEP)

        # Operand selection: every case assigns both operands (and the default covers the
        # unused phase code), so the emitted case statements are complete.
        with m.Switch(phase):
            with m.Case(0):
                m.d.comb += [op_a.eq(cur_operand), op_b.eq(p.k_i)]
            with m.Case(1):
                m.d.comb += [op_a.eq(force[1]), op_b.eq(gm)]
            with m.Case(2, 3):
                m.d.comb += [op_a.eq(prod), op_b.eq(gm)]
            with m.Case(4):
                m.d.comb += [op_a.eq(prod), op_b.eq(gh)]
            with m.Case(5):
                m.d.comb += [op_a.eq(prod), op_b.eq(p.k_na)]
            with m.Case(6):
                m.d.comb += [op_a.eq(force[6]), op_b.eq(gn)]
            with m.Case(7, 8, 9):
                m.d.comb += [op_a.eq(prod), op_b.eq(gn)]
            with m.Case(10):
                m.d.comb += [op_a.eq(prod), op_b.eq(p.k_k)]
            with m.Case(11):
                m.d.comb += [op_a.eq(force[11]), op_b.eq(p.k_l)]
            with m.Case(12):
                m.d.comb += [gate_sel.eq(0), op_a.eq(gm), op_b.eq(rate_b)]
            with m.Case(13):
                m.d.comb += [gate_sel.eq(1), op_a.eq(gh), op_b.eq(rate_b)]
            with m.Default():  # cycle 14 (15 never occurs)
                m.d.comb += [gate_sel.eq(2), op_a.eq(gn), op_b.eq(rate_b)]

        # Destinations, one condition per register, written in an operation's last cycle.
        to_prod = ((phase >= 1) & (phase <= 4)) | ((phase >= 6) & (phase <= 9))
        sub_acc = (phase == 5) | (phase == 10) | (phase == 11)
        self._accumulate(m, phase, v, acc, r, op_last & (phase == 0) & advance,
                         op_last & sub_acc)
        with m.If(op_last & to_prod):
            m.d.sync += prod.eq(r)
        write_m = op_last & (phase == 12)
        write_h = op_last & (phase == 13)
        write_nv = op_last & (phase == OPS_PER_STEP - 1)
        if p.latch_state:
            # prod, unused in operations 11-14, holds each new gate for its latches
            with m.If(op_last & (phase >= 12)):
                m.d.sync += prod.eq(gate_next)
        if p.latch_state and instantiates_cells(platform):
            self._state_latches(m, [
                (write_m, [(gm, prod[:g], int(s0.m[0]))]),
                (write_h, [(gh, prod[:g], int(s0.h[0]))]),
                (write_nv, [(gn, prod[:g], int(s0.n[0])), (v, v_next, None)]),
            ])
            with m.If(write_nv):
                m.d.sync += [spike.eq((v < 0) & (v_next >= 0)), self.output.valid.eq(1)]
            return m
        with m.If(write_m):
            m.d.sync += gm.eq(gate_next)
        with m.If(write_h):
            m.d.sync += gh.eq(gate_next)
        with m.If(write_nv):
            m.d.sync += [
                gn.eq(gate_next),
                v.eq(v_next),
                spike.eq((v < 0) & (v_next >= 0)),
                self.output.valid.eq(1),  # the output register is empty during a step
            ]
        return m

    def _state_latches(self, m: Module, groups: list) -> None:
        """V, m, h, n in ``sky130_fd_sc_hd__dlxtp_1`` latches (``latch_state=1``, Verilog export).

        ``groups`` lists, per write condition, ``(state signal, data, reset value)``: one
        ``sky130_fd_sc_hd__dlclkp_1`` clock gate per condition, enabled by the condition or the
        reset. A write requested in cycle k (the last cycle of operation 12, 13 or 14) opens the
        latches in the high phase of cycle k+1; they close at its falling edge. Their data is
        stable all that time: each new gate was written to ``prod`` at the edge that ends cycle k
        and ``prod`` next changes at the end of cycle k+1 at the earliest; V's data is
        ``sat(acc)``, and ``acc`` changes only at the end of operation 0's last cycle, the end
        of cycle k+1 at the earliest. No state word feeds its own data while its latches are
        open (operation 13 does not read m; the cycle after operation 14 is operation 0, which
        reads V only into ``acc``, a flip-flop), so at every rising edge the latches hold what
        flip-flops written at the end of cycle k would. Reset: ``boot`` is high in the cycle
        after every reset cycle, when the reset's write happens, and selects the gates' rest
        values; V's data is then ``sat(acc)`` with ``acc`` reset to the rest V. Elaborated
        without cells (Amaranth's simulator) the state stays in flip-flops written at the end
        of cycle k: the same values at every rising edge."""
        boot = Signal(init=1)
        m.d.sync += boot.eq(0)
        for i, (cond, words) in enumerate(groups):
            gclk = Signal(name=f"state_gclk{i}")
            m.submodules[f"state_gate{i}"] = Instance(
                CLOCK_GATE, i_CLK=ClockSignal("sync"), i_GATE=cond | ResetSignal("sync"),
                o_GCLK=gclk)
            for word, data, init in words:
                # (no named signal for the data: where two gates' rest values share a bit, one
                # net feeds both latches)
                d = data if init is None else Mux(boot, init, data)
                for b in range(len(word)):
                    m.submodules[f"{word.name}_latch{b}"] = Instance(
                        LATCH, i_GATE=gclk, i_D=d[b], o_Q=word[b])

    def _forces(self, m: Module, phase: Signal, v: Signal) -> dict[int, Value]:
        """The driving forces ``V - E`` of operations 1 (Na), 6 (K) and 11 (leak): three
        constant subtractors, or with ``lean`` one adder of V and the constant the operation
        selects."""
        p = self.p
        if not p.lean:
            return {1: v - p.e_na, 6: v - p.e_k, 11: v - p.e_l}
        force = Signal(signed(p.v_width + 1))
        e = Mux(phase == 1, -p.e_na, Mux(phase == 6, -p.e_k, -p.e_l))
        m.d.comb += force.eq(v + e)
        return {1: force, 6: force, 11: force}

    def _accumulate(self, m: Module, phase: Signal, v: Signal, acc: Signal, r: Value,
                    start: Value, sub: Value) -> None:
        """``acc = V + r`` when ``start``, ``acc -= r`` when ``sub``: two adders, or with
        ``lean`` one (``base + (r xor s) + s`` with the carry-in as an extra low bit)."""
        if not self.p.lean:
            with m.If(start):
                m.d.sync += acc.eq(v + r)
            with m.If(sub):
                m.d.sync += acc.eq(acc - r)
            return
        w = len(acc) + 1
        neg = Signal()
        base = Signal(signed(w))
        term = Signal(signed(w))
        total = Signal(signed(w + 2))
        m.d.comb += [
            neg.eq(phase != 0),
            base.eq(Mux(neg, acc, v)),
            term.eq(Mux(neg, ~r, r)),
            total.eq(Cat(neg, base).as_signed() + Cat(neg, term).as_signed()),
        ]
        with m.If(start | sub):
            m.d.sync += acc.eq(total >> 1)

    def _sequence(self, m: Module, phase: Signal, digit: Signal, op_last: Value, prod: Signal,
                  cur_scaled: Value, ops: int) -> tuple[Value, Value]:
        """The operation sequence shared by both designs: ``phase`` steps through ``ops``
        operations of ``cycles_per_op`` digits each; a step starts when a current transfers,
        which it can only do in the first cycle of operation 0 with the output register empty or
        being read. Returns operation 0's ``a`` operand (the current is read in the start cycle
        only and kept in ``prod``, free until operation 1 writes it, for its remaining digit
        cycles) and whether the sequence advances in this cycle."""
        digits = cycles_per_op(self.p)
        first = (phase == 0) & (digit == 0)
        start = Signal()
        m.d.comb += [
            self.current.ready.eq(first & (~self.output.valid | self.output.ready)),
            start.eq(self.current.valid & self.current.ready),
        ]
        with m.If(self.output.ready):
            m.d.sync += self.output.valid.eq(0)
        advance = ~first | start
        with m.If(advance):
            if digits > 1:
                m.d.sync += digit.eq(Mux(op_last, 0, digit + 1))
            with m.If(op_last):
                m.d.sync += phase.eq(Mux(phase == ops - 1, 0, phase + 1))
        if digits > 1:
            with m.If(start):
                m.d.sync += prod.eq(cur_scaled)
            return Mux(digit == 0, cur_scaled, prod), advance
        return cur_scaled, advance

    def _elaborate_interp(self):
        """The design with interpolated tables (``interp=1``): 21 operations per step.

        Operations 0-11 are those of the nearest-entry design. Then, for each gate x of m, h, n
        in turn (``i`` = 0, 1, 2), with ``f`` V's position within its table cell
        (:func:`~neurotile.neurons.hodgkin_huxley.table_fraction`):

        ========== ====================== =================================
        op         ``a * b``              result
        ========== ====================== =================================
        12 + 3i    ``DB_x[k] * f``        ``rate = TB_x[k] + r``
        13 + 3i    ``DA_x[k] * f``        ``p = TA_x[k] + r``
        14 + 3i    ``x * rate``           ``x = clamp(x + p - r)``
        20         (same operation)       ``V = sat(acc)``, ``spike``, output valid
        ========== ====================== =================================

        One ROM holds the node value ``T`` and the slope ``D`` of all six tables, selected by
        the operation; ``rate`` is the one register this design adds.
        """
        m = Module()
        p = self.p
        g = p.gate_frac
        ops = ops_per_step(p)
        aw, bw = operand_widths(p)
        digits = cycles_per_op(p)
        acc_width = p.acc_bound.bit_length() + 1

        # -- state -----------------------------------------------------------------------
        s0 = p.initial_state(1)
        v = Signal(signed(p.v_width), init=int(s0.v[0]))
        gm = Signal(unsigned(g), init=int(s0.m[0]))
        gh = Signal(unsigned(g), init=int(s0.h[0]))
        gn = Signal(unsigned(g), init=int(s0.n[0]))
        acc = Signal(signed(acc_width))
        prod = Signal(signed(aw))
        rate = Signal(unsigned(bw))             # the interpolated B of the gate being updated
        phase = Signal(range(ops))              # which operation
        digit = Signal(range(max(2, digits)))   # which digit of b, least significant first
        spike = Signal()
        out = self.output.payload
        m.d.comb += [out.spike.eq(spike), out.v.eq(v), out.m.eq(gm), out.h.eq(gh), out.n.eq(gn),
                     out.index.eq(0), out.last.eq(1)]

        # -- rate tables: node values and slopes, indexed by the old V ----------------------
        fb = p.frac_bits
        raw = Signal(signed(p.v_width - fb + 1))
        m.d.comb += raw.eq((v >> fb) - p.table_offset)
        index = Signal(range(p.table_size))
        frac = Signal(unsigned(fb))
        with m.If(raw < 0):
            m.d.comb += [index.eq(0), frac.eq(0)]
        with m.Elif(raw > p.table_size - 1):
            m.d.comb += [index.eq(p.table_size - 1), frac.eq((1 << fb) - 1)]
        with m.Else():
            m.d.comb += [index.eq(raw), frac.eq(v[:fb])]
        frac_g = Signal(unsigned(g))   # f in gate format
        m.d.comb += frac_g.eq(frac << (g - fb) if g >= fb else frac >> (fb - g))

        slope_width = 1 + max(abs(d) for t in p.slopes.values() for d in t).bit_length()
        table_sel = Signal(range(6))   # 2 * gate + (0: B, 1: A)
        rom_t = Signal(unsigned(g))
        rom_d = Signal(signed(slope_width))
        with m.Switch(Cat(index, table_sel)):
            for gi, name in enumerate("mhn"):
                for half, kind in enumerate("BA"):
                    t, d = p.tables[kind + name], p.slopes[kind + name]
                    for i in range(p.table_size):
                        with m.Case(i | ((2 * gi + half) << len(index))):
                            m.d.comb += [rom_t.eq(t[i]), rom_d.eq(d[i])]
            with m.Default():  # unused codes: the ROM reads 0
                m.d.comb += [rom_t.eq(0), rom_d.eq(0)]

        # -- the shared multiplier: digit-serial, least significant digit of b first ----------
        op_a = Signal(signed(aw))
        op_b = Signal(unsigned(bw))
        r, op_last = _multiplier(m, p, op_a, op_b, digit)

        cur_scaled = self.current.payload << (p.v_frac - CURRENT_FRAC)

        # Gate update of the third operation of each gate, where op_a is the gate and prod
        # holds its interpolated A.
        gate_full = Signal(signed(max(aw, g + 2) + 2))
        gate_next = Signal(unsigned(g))
        m.d.comb += [
            gate_full.eq(op_a + prod - r),
            gate_next.eq(Mux(gate_full < 0, 0,
                             Mux(gate_full > p.gate_max, p.gate_max, gate_full))),
        ]
        rate_next = Signal(signed(g + 2))   # T + r of the first two operations of each gate
        m.d.comb += rate_next.eq(rom_t + r)

        v_next = Signal(signed(p.v_width))
        m.d.comb += v_next.eq(Mux(acc > p.v_max, p.v_max, Mux(acc < p.v_min, p.v_min, acc)))

        force = self._forces(m, phase, v)

        # -- sequence -----------------------------------------------------------------------
        cur_operand, advance = self._sequence(m, phase, digit, op_last, prod, cur_scaled, ops)

        gates = (gm, gh, gn)
        with m.Switch(phase):
            with m.Case(0):
                m.d.comb += [op_a.eq(cur_operand), op_b.eq(p.k_i)]
            with m.Case(1):
                m.d.comb += [op_a.eq(force[1]), op_b.eq(gm)]
            with m.Case(2, 3):
                m.d.comb += [op_a.eq(prod), op_b.eq(gm)]
            with m.Case(4):
                m.d.comb += [op_a.eq(prod), op_b.eq(gh)]
            with m.Case(5):
                m.d.comb += [op_a.eq(prod), op_b.eq(p.k_na)]
            with m.Case(6):
                m.d.comb += [op_a.eq(force[6]), op_b.eq(gn)]
            with m.Case(7, 8, 9):
                m.d.comb += [op_a.eq(prod), op_b.eq(gn)]
            with m.Case(10):
                m.d.comb += [op_a.eq(prod), op_b.eq(p.k_k)]
            with m.Case(11):
                m.d.comb += [op_a.eq(force[11]), op_b.eq(p.k_l)]
            for gi in range(3):
                with m.Case(12 + 3 * gi):
                    m.d.comb += [table_sel.eq(2 * gi), op_a.eq(rom_d), op_b.eq(frac_g)]
                with m.Case(13 + 3 * gi):
                    m.d.comb += [table_sel.eq(2 * gi + 1), op_a.eq(rom_d), op_b.eq(frac_g)]
                if gi < 2:
                    with m.Case(14 + 3 * gi):
                        m.d.comb += [op_a.eq(gates[gi]), op_b.eq(rate)]
            with m.Default():  # operation 20 (codes above it never occur)
                m.d.comb += [table_sel.eq(0), op_a.eq(gn), op_b.eq(rate)]

        to_prod = ((phase >= 1) & (phase <= 4)) | ((phase >= 6) & (phase <= 9))
        sub_acc = (phase == 5) | (phase == 10) | (phase == 11)
        to_rate = (phase == 12) | (phase == 15) | (phase == 18)
        a_to_prod = (phase == 13) | (phase == 16) | (phase == 19)
        self._accumulate(m, phase, v, acc, r, op_last & (phase == 0) & advance,
                         op_last & sub_acc)
        with m.If(op_last & (to_prod | a_to_prod)):
            m.d.sync += prod.eq(Mux(to_prod, r, rate_next))
        with m.If(op_last & to_rate):
            m.d.sync += rate.eq(rate_next)
        with m.If(op_last & (phase == 14)):
            m.d.sync += gm.eq(gate_next)
        with m.If(op_last & (phase == 17)):
            m.d.sync += gh.eq(gate_next)
        with m.If(op_last & (phase == ops - 1)):
            m.d.sync += [
                gn.eq(gate_next),
                v.eq(v_next),
                spike.eq((v < 0) & (v_next >= 0)),
                self.output.valid.eq(1),
            ]
        return m
