# SPDX-License-Identifier: Apache-2.0
"""Leaky integrator (NIR ``LI``, and the integrator ``I``): the update datapath.

The arithmetic is specified once, by :meth:`neurotile.neurons.leaky_integrator.LIIntParams.step`;
this module is its hardware and is checked against it bit for bit.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, signed

from neurotile.neurons.leaky_integrator import LIIntParams
from neurotile.rtl.lif import LIFDatapath
from neurotile.rtl.population import Datapath

__all__ = ["LIDatapath", "DATAPATH"]


class LIDatapath(Datapath):
    """The combinational leaky-integrator update, shared by every neuron of a population.

    ``U' = sat(L(U) + I)``: with a leak, the LIF datapath
    (:class:`~neurotile.rtl.lif.LIFDatapath`, shift ``U - (U >> k)`` or multiply
    ``(U * b) >> beta_bits``, both rounding toward minus infinity) with its threshold tied to the
    top of the membrane range, where it can never fire; without a leak, one saturating adder.
    ``out_membrane`` is ``U'``.

    Parameters
    ----------
    config : LIIntParams
        The structure.

    Members
    -------
    membrane : In(signed(width))
    current : In(signed(input_width))
    decay : In(unsigned(...))
        ``k`` (shift) or ``b`` (multiply); absent with ``leak="none"``.
    next_membrane, out_membrane : Out(signed(width))
    """

    MODEL = LIIntParams


    def elaborate(self, platform):
        m = Module()
        p = self.config
        v = Signal(signed(p.width))
        if p.lif is None:
            total = self.membrane + self.current
            m.d.comb += v.eq(Mux(total > p.mem_max, p.mem_max,
                                 Mux(total < p.mem_min, p.mem_min, total)))
        else:
            m.submodules.lif = lif = LIFDatapath(p.lif)
            m.d.comb += [lif.membrane.eq(self.membrane), lif.current.eq(self.current),
                         lif.decay.eq(self.decay), lif.threshold.eq(p.mem_max),
                         v.eq(lif.next_membrane)]
        m.d.comb += [self.next_membrane.eq(v), self.out_membrane.eq(v)]
        return m


DATAPATH = LIDatapath
