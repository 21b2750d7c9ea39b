# SPDX-License-Identifier: Apache-2.0
"""Background-activity filter for event cameras, one event per cycle.

The filter rule, its two architectures and the modular time comparison are specified by
:mod:`neurotile.neurons.denoiser`; this module is the hardware, checked against
:func:`neurotile.neurons.denoiser.denoise` bit for bit.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, unsigned
from amaranth.lib import data, memory, stream, wiring
from amaranth.lib.wiring import In, Out

from neurotile.neurons.denoiser import DenoiserParams, neighbour_offsets

__all__ = ["Denoiser", "event_layout"]


def event_layout(p: DenoiserParams) -> data.StructLayout:
    """Payload of the event stream, least significant field first: ``x`` (``bits(width)``
    wide, so ``x = width`` exists: a time marker), ``y``, ``t`` (the event time modulo
    ``2**ts_bits``)."""
    return data.StructLayout({"x": unsigned(p.x_field_bits), "y": unsigned(p.y_bits),
                              "t": unsigned(p.ts_bits)})


class Denoiser(wiring.Component):
    """Background-activity filter: pass an event when a neighbour fired within ``window``.

    Each event accepted on ``events`` produces one decision on ``decisions`` (payload 1: pass,
    0: drop), in order. The filter takes one event per cycle: an accepted event's decision is
    registered and offered the next cycle, and ``events.ready`` is high whenever the decision
    register is empty or being read, so with ``decisions.ready`` held high the throughput is one
    event per cycle and the latency one cycle.

    Memory (``amaranth.lib.memory.Memory`` with asynchronous read ports, written on the clock
    edge that accepts the event, so the next event reads what this one wrote) holds the low
    ``ts_bits - 1`` bits of each stored time; the top bits and the valid bits are registers
    (cleared by reset), so an epoch change can expire every entry at once:

    * ``exact``: ``width * height`` entries, one read port per neighbour (4 or 8);
    * ``rowcol``: ``width`` entries ``(time, row)`` and ``height`` entries ``(time, column)``,
      three read ports each (columns ``x - 1 .. x + 1``, rows ``y - 1 .. y + 1``).

    A stored time ``s`` is recent for an event at ``t`` when its entry is valid and
    ``(t - s) mod 2**ts_bits < window``. When the top bit of ``t`` differs from the previous
    event's, the entries whose stored top bit equals it expire, before this event's decision
    (see :mod:`neurotile.neurons.denoiser` for why). Events outside the sensor are dropped and
    stored nowhere, but their time counts for the epochs (time markers).

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
        The time window, ``1 .. 2**(ts_bits - 1)`` (0 drops every event; larger windows
        meet aliased entries).

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
        low = p.ts_bits - 1
        accept = self.events.valid & self.events.ready
        inside = (x < p.width) & (y < p.height)
        write = accept & inside

        # Epochs: a change of the time's top bit expires the entries with that top bit.
        top = t[low]
        last_top = Signal()
        changed = Signal()
        m.d.comb += changed.eq(top != last_top)
        with m.If(accept):
            m.d.sync += last_top.eq(top)

        def recent(valid, tops, addr, stored_low):
            """``valid`` and ``tops`` (bit vectors) at ``addr``, with the stored low bits."""
            stored_top = tops.bit_select(addr, 1)
            live = valid.bit_select(addr, 1) & ~(changed & (stored_top == top))
            age = Signal(p.ts_bits)
            m.d.comb += age.eq(t - Cat(stored_low, stored_top))
            return live & (age < self.window)

        def table(name, depth, shape):
            """A memory of ``shape`` (the entries' low time bits and more), with valid and
            top-bit registers."""
            mem = memory.Memory(shape=shape, depth=depth, init=[])
            m.submodules[name] = mem
            valid = Signal(depth, name=f"{name}_valid")
            tops = Signal(depth, name=f"{name}_tops")
            return mem, valid, tops

        def update(valid, tops, depth, addr):
            """Expire on an epoch change; mark ``addr`` written with the current top bit."""
            one = Signal(depth, name=f"{valid.name}_one")
            same = Signal(depth, name=f"{valid.name}_same")
            m.d.comb += [one.eq(Const(1, depth) << addr),
                         same.eq(Mux(top, tops, ~tops))]
            expired = Mux(changed, same, 0)
            with m.If(accept):
                m.d.sync += valid.eq((valid & ~expired) | Mux(inside, one, 0))
            with m.If(write):
                m.d.sync += tops.eq((tops & ~one) | Mux(top, one, 0))

        hits = []
        if p.filter == "exact":
            n = p.width * p.height
            times, valid, tops = table("times", n, unsigned(low))
            for k, (dx, dy) in enumerate(neighbour_offsets(p.neighbours)):
                ok = Signal(name=f"in_sensor_{k}")
                addr = Signal(range(n), name=f"addr_{k}")
                rd = times.read_port(domain="comb")
                m.d.comb += [
                    ok.eq(_within(x, dx, p.width) & _within(y, dy, p.height)),
                    addr.eq((y + dy) * p.width + (x + dx)),
                    rd.addr.eq(addr),
                ]
                hits.append(ok & recent(valid, tops, addr, rd.data))
            own = Signal(range(n))
            wr = times.write_port()
            m.d.comb += [own.eq(y * p.width + x),
                         wr.addr.eq(own), wr.data.eq(t[:low]), wr.en.eq(write)]
            update(valid, tops, n, own)
        else:
            cols, col_valid, col_tops = table("cols", p.width, data.StructLayout(
                {"t": unsigned(low), "y": unsigned(p.y_bits)}))
            rows, row_valid, row_tops = table("rows", p.height, data.StructLayout(
                {"t": unsigned(low), "x": unsigned(p.x_bits)}))
            col_rd, row_rd = {}, {}
            for d in (-1, 0, 1):
                c_ok, r_ok = Signal(name=f"col_ok_{d + 1}"), Signal(name=f"row_ok_{d + 1}")
                crd, rrd = cols.read_port(domain="comb"), rows.read_port(domain="comb")
                m.d.comb += [c_ok.eq(_within(x, d, p.width)), r_ok.eq(_within(y, d, p.height)),
                             crd.addr.eq(x + d), rrd.addr.eq(y + d)]
                col_rd[d] = (c_ok, crd)
                row_rd[d] = (r_ok, rrd)
            for dx, dy in neighbour_offsets(p.neighbours):
                c_ok, c = col_rd[dx]
                r_ok, r = row_rd[dy]
                by_col = (c.data.y == (y + dy)[:p.y_bits]) & \
                    recent(col_valid, col_tops, c.addr, c.data.t)
                by_row = (r.data.x == (x + dx)[:p.x_bits]) & \
                    recent(row_valid, row_tops, r.addr, r.data.t)
                hits.append(c_ok & r_ok & (by_col | by_row))
            col_wr, row_wr = cols.write_port(), rows.write_port()
            m.d.comb += [
                col_wr.addr.eq(x), col_wr.data.t.eq(t[:low]), col_wr.data.y.eq(y),
                col_wr.en.eq(write),
                row_wr.addr.eq(y), row_wr.data.t.eq(t[:low]), row_wr.data.x.eq(x),
                row_wr.en.eq(write),
            ]
            update(col_valid, col_tops, p.width, x)
            update(row_valid, row_tops, p.height, y)

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
