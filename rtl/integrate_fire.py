# SPDX-License-Identifier: Apache-2.0
"""Integrate-and-fire neurons (NIR ``IF``): the update datapath.

The arithmetic is specified once, by :meth:`neurotile.neurons.integrate_fire.IFIntParams.step`;
this module is its hardware and is checked against it bit for bit.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, signed

from neurotile.neurons.integrate_fire import IFIntParams
from neurotile.rtl.population import Datapath

__all__ = ["IFDatapath", "DATAPATH"]


class IFDatapath(Datapath):
    """The combinational integrate-and-fire update, shared by every neuron of a population.

    No leak; the input is added, the reset (subtract or zero, delayed as in snnTorch or in the
    same step) applied, the full-width sum saturated once to the membrane range, and the
    threshold compared strictly, ``v > th``.

    Parameters
    ----------
    config : IFIntParams
        The structure.

    Members
    -------
    membrane : In(signed(width))
    current : In(signed(input_width))
    threshold : In(unsigned(width - 1))
    next_membrane, out_membrane : Out(signed(width))
    out_spike : Out(1)
    """

    MODEL = IFIntParams


    def elaborate(self, platform):
        m = Module()
        p = self.config
        u = self.membrane
        th = self.threshold

        reset_pending = (u > th) if p.reset_delay else 0
        if p.reset == "subtract":
            total = u + self.current - Mux(reset_pending, th, 0)
        else:
            total = Mux(reset_pending, 0, u) + self.current

        v = Signal(signed(p.width))
        m.d.comb += v.eq(Mux(total > p.mem_max, p.mem_max,
                             Mux(total < p.mem_min, p.mem_min, total)))
        fire = v > th
        if p.reset_delay:
            new = v
        else:
            new = Mux(fire, (v - th) if p.reset == "subtract" else 0, v)
        m.d.comb += [self.out_spike.eq(fire), self.out_membrane.eq(new),
                     self.next_membrane.eq(new)]
        return m


DATAPATH = IFDatapath
