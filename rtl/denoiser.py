# SPDX-License-Identifier: Apache-2.0
"""Background-activity filter for event cameras, one event per cycle.

The filter rule, its two architectures and the modular time comparison are specified by
:mod:`neurotile.neurons.denoiser`; this module is the hardware, checked against
:func:`neurotile.neurons.denoiser.denoise` bit for bit.
"""

from __future__ import annotations

from amaranth.hdl import Const, Module, Signal, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from neurotile.neurons.denoiser import DenoiserParams, neighbour_offsets

__all__ = ["Denoiser", "event_layout"]


def event_layout(p: DenoiserParams) -> data.StructLayout:
    """Payload of the event stream, least significant field first: ``x``, ``y``, ``t`` (the
    event time modulo ``2**ts_bits``)."""
    return data.StructLayout({"x": unsigned(p.x_bits), "y": unsigned(p.y_bits),
                              "t": unsigned(p.ts_bits)})


class Denoiser(wiring.Component):
    """Background-activity filter: pass an event when a neighbour fired within ``window``.

    Each event accepted on ``events`` produces one decision on ``decisions`` (payload 1: pass,
    0: drop), in order. The filter takes one event per cycle: an accepted event's decision is
    registered and offered the next cycle, and ``events.ready`` is high whenever the decision
    register is empty or being read, so with ``decisions.ready`` held high the throughput is one
    event per cycle and the latency one cycle.

    Memory (``amaranth.lib.memory.Memory`` with asynchronous read ports, written on the clock
    edge that accepts the event, so the next event reads what this one wrote; valid bits are
    registers cleared by reset):

    * ``exact``: ``width * height`` times of ``ts_bits`` bits, one read port per neighbour (4 or
      8);
    * ``rowcol``: ``width`` entries ``(time, row)`` and ``height`` entries ``(time, column)``,
      three read ports each (columns ``x - 1 .. x + 1``, rows ``y - 1 .. y + 1``).

    A stored time ``s`` is recent for an event at ``t`` when its entry is valid and
    ``(t - s) mod 2**ts_bits < window``. Events outside the sensor are dropped and not stored.

    Parameters
    ----------
    width, height : int
        Sensor size in pixels.
    ts_bits : int
        Bits of an event time and of a stored time.
    filter : str
        ``"exact"`` or ``"rowcol"``.
    neighbours : int
        4 or 8.

    Members
    -------
    events : In(stream.Signature(event_layout))
        Events ``(x, y, t)``.
    decisions : Out(stream.Signature(1))
        One bit per event, 1 when it passes.
    window : In(ts_bits)
        The time window, ``1 .. 2**ts_bits - 1`` (0 drops every event).

    Raises
    ------
    ValueError, TypeError
        Parameters out of range (see :class:`~neurotile.neurons.denoiser.DenoiserParams`).
    """

    def __init__(self, *, width: int = 16, height: int = 16, ts_bits: int = 4,
                 filter: str = "exact", neighbours: int = 4) -> None:
        self.params = p = DenoiserParams(width=width, height=height, ts_bits=ts_bits,
                                         filter=filter, neighbours=neighbours)
        super().__init__({
            "events": In(stream.Signature(event_layout(p))),
            "decisions": Out(stream.Signature(1)),
            "window": In(p.ts_bits),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        ev = self.events.payload
        x, y, t = ev.x, ev.y, ev.t
        accept = self.events.valid & self.events.ready
        inside = (x < p.width) & (y < p.height)

        def recent(valid, stored):
            age = Signal(p.ts_bits)
            m.d.comb += age.eq(t - stored)
            return valid & (age < self.window)

        hits = []
        if p.filter == "exact":
            n = p.width * p.height
            m.submodules.times = times = memory.Memory(shape=unsigned(p.ts_bits), depth=n,
                                                       init=[])
            valid = Signal(n)
            wr = times.write_port()
            for k, (dx, dy) in enumerate(neighbour_offsets(p.neighbours)):
                nx, ny = x + dx, y + dy
                ok = Signal(name=f"in_sensor_{k}")
                m.d.comb += ok.eq(_within(x, dx, p.width) & _within(y, dy, p.height))
                addr = Signal(range(n), name=f"addr_{k}")
                m.d.comb += addr.eq(ny * p.width + nx)
                rd = times.read_port(domain="comb")
                m.d.comb += rd.addr.eq(addr)
                hits.append(ok & recent(valid.bit_select(addr, 1), rd.data))
            own = Signal(range(n))
            m.d.comb += [
                own.eq(y * p.width + x),
                wr.addr.eq(own), wr.data.eq(t), wr.en.eq(accept & inside),
            ]
            with m.If(accept & inside):
                m.d.sync += valid.eq(valid | (Const(1, n) << own))
        else:
            col_shape = data.StructLayout({"t": unsigned(p.ts_bits), "y": unsigned(p.y_bits)})
            row_shape = data.StructLayout({"t": unsigned(p.ts_bits), "x": unsigned(p.x_bits)})
            m.submodules.cols = cols = memory.Memory(shape=col_shape, depth=p.width, init=[])
            m.submodules.rows = rows = memory.Memory(shape=row_shape, depth=p.height, init=[])
            col_valid, row_valid = Signal(p.width), Signal(p.height)
            col_wr, row_wr = cols.write_port(), rows.write_port()
            col_rd, row_rd = {}, {}
            for d in (-1, 0, 1):
                cx, ry = x + d, y + d
                c_ok, r_ok = Signal(name=f"col_ok_{d + 1}"), Signal(name=f"row_ok_{d + 1}")
                m.d.comb += [c_ok.eq(_within(x, d, p.width)), r_ok.eq(_within(y, d, p.height))]
                crd, rrd = cols.read_port(domain="comb"), rows.read_port(domain="comb")
                m.d.comb += [crd.addr.eq(cx), rrd.addr.eq(ry)]
                col_rd[d] = (c_ok, crd.data, col_valid.bit_select(crd.addr, 1))
                row_rd[d] = (r_ok, rrd.data, row_valid.bit_select(rrd.addr, 1))
            for dx, dy in neighbour_offsets(p.neighbours):
                c_ok, c, c_v = col_rd[dx]
                r_ok, r, r_v = row_rd[dy]
                by_col = (c.y == (y + dy)[:p.y_bits]) & recent(c_v, c.t)
                by_row = (r.x == (x + dx)[:p.x_bits]) & recent(r_v, r.t)
                hits.append(c_ok & r_ok & (by_col | by_row))
            write = accept & inside
            m.d.comb += [
                col_wr.addr.eq(x), col_wr.data.t.eq(t), col_wr.data.y.eq(y), col_wr.en.eq(write),
                row_wr.addr.eq(y), row_wr.data.t.eq(t), row_wr.data.x.eq(x), row_wr.en.eq(write),
            ]
            with m.If(write):
                m.d.sync += [col_valid.eq(col_valid | (Const(1, p.width) << x)),
                             row_valid.eq(row_valid | (Const(1, p.height) << y))]

        decision = Signal()
        m.d.comb += [
            decision.eq(inside & _any(hits)),
            self.events.ready.eq(~self.decisions.valid | self.decisions.ready),
        ]
        with m.If(self.decisions.valid & self.decisions.ready):
            m.d.sync += self.decisions.valid.eq(0)
        with m.If(accept):
            m.d.sync += [self.decisions.valid.eq(1), self.decisions.payload.eq(decision)]
        return m


def _within(coord, delta, size):
    """Whether ``coord + delta`` (``delta`` in -1, 0, 1) is in ``0 .. size - 1``, for a
    ``coord`` that is."""
    if delta < 0:
        return coord != 0
    if delta > 0:
        return coord < size - 1
    return Const(1, 1)


def _any(values):
    out = Const(0, 1)
    for v in values:
        out = out | v
    return out
