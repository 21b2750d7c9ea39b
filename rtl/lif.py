# SPDX-License-Identifier: Apache-2.0
"""Leaky integrate-and-fire neurons: the update datapath, on the shared population engine.

The arithmetic is specified once, by :meth:`neurotile.neurons.lif.LIFIntParams.step`; this
module is its hardware and is checked against it bit for bit.
"""

from __future__ import annotations

from typing import Any

from amaranth.hdl import Module, Mux, Signal, signed

from neurotile.neurons.lif import LIFIntParams
from neurotile.rtl.population import Datapath, Population, output_layout

__all__ = ["LIFDatapath", "DATAPATH", "LIFPopulation", "LIFNeuron", "output_layout"]


class LIFDatapath(Datapath):
    """The combinational LIF update, shared by every neuron of a population.

    Computes one step of :meth:`~neurotile.neurons.lif.LIFIntParams.step` for one neuron: leak
    (an arithmetic shift ``U - (U >> k)`` or a multiply ``(U * b) >> beta_bits``, both rounding
    toward minus infinity), input, reset (subtract or zero, delayed as in snnTorch or in the same
    step), saturation once at the end of the full-width sum, a strict threshold compare
    ``v > th`` and a refractory counter. Ports: :func:`~neurotile.rtl.population.datapath_signature`.
    """

    MODEL = LIFIntParams
    #: Output fields that always equal the next state's field of the same name (the membrane
    #: after the step); a population may read them from its stored state.
    OUTPUTS_FROM_STATE = ("membrane",)

    def elaborate(self, platform):
        m = Module()
        p = self.config
        u = self.membrane
        th = self.threshold

        active = (self.countdown == 0) if p.refractory_width else 1
        current = Mux(active, self.current, 0)
        if p.leak == "shift" and p.reset == "subtract" and p.reset_delay:
            # The delayed reset's compare is the sign of u - th, and that difference is the base
            # the leak and the input are added to: U - th - (U >> k) + I when U > th, else
            # U - (U >> k) + I (the same sum as below, 86-120 um^2 smaller in the 8-bit LIF
            # projects).
            above = Signal(signed(p.width + 1))
            reset_pending = Signal()
            base = Signal(signed(p.width + 1))
            m.d.comb += [above.eq(u - th), reset_pending.eq(above > 0),
                         base.eq(Mux(reset_pending, above, u))]
            total = Signal(signed(max(p.width + 1, p.input_width) + 2))
            m.d.comb += total.eq(base - (u >> self.decay) + current)
        else:
            reset_pending = (u > th) if p.reset_delay else 0
            if p.leak == "shift":
                leaked = u - (u >> self.decay)
            else:
                leaked = (u * self.decay) >> p.beta_bits
            if p.reset == "subtract":
                total = leaked + current - Mux(reset_pending, th, 0)
            else:
                total = Mux(reset_pending, 0, leaked) + current

        v = Signal(signed(p.width))
        m.d.comb += v.eq(Mux(total > p.mem_max, p.mem_max,
                             Mux(total < p.mem_min, p.mem_min, total)))
        fire = active & (v > th)
        if p.reset_delay:
            new = v
        else:
            new = Mux(fire, (v - th) if p.reset == "subtract" else 0, v)
        m.d.comb += [self.out_spike.eq(fire), self.out_membrane.eq(new),
                     self.next_membrane.eq(new)]

        if p.refractory_width:
            m.d.comb += self.next_countdown.eq(
                Mux(fire, self.refractory, Mux(active, 0, self.countdown - 1)))
        return m


DATAPATH = LIFDatapath


class LIFPopulation(Population):
    """A population of LIF neurons sharing one :class:`LIFDatapath`.

    :class:`~neurotile.rtl.population.Population` with the LIF model; takes the structural
    parameters of :class:`~neurotile.neurons.lif.LIFIntParams` as keywords (``neurons``,
    ``width``, ``input_width``, ``leak``, ``beta_bits``, ``refractory_width``, ``reset``,
    ``reset_delay``, ``per_neuron``, ``bias``) and ``storage``; or a ready ``config``.

    Members
    -------
    current : In(stream.Signature(signed(input_width)))
    output : Out(stream.Signature(output_layout))
        ``spike``, ``membrane`` (after the step, after any same-step reset), ``index``, ``last``.
    threshold : In(unsigned(width - 1))
    decay : In(unsigned(...))
        ``k`` in shift mode (``bits_for(width - 1)`` bits), ``b`` in multiply mode.
    refractory : In(unsigned(refractory_width))
        Present only when ``refractory_width > 0``.
    """

    #: The update datapath class; a subclass may be substituted (tests plant faults this way).
    datapath = LIFDatapath

    def __init__(self, *, config: LIFIntParams | None = None, storage: str = "memory",
                 **structural: Any) -> None:
        if config is None:
            config = LIFIntParams(**structural)
        elif structural:
            raise TypeError("give config or structural parameters, not both")
        super().__init__(config, datapath=self.datapath, storage=storage)


class LIFNeuron(LIFPopulation):
    """A single LIF neuron: :class:`LIFPopulation` with ``neurons=1``, state in registers."""

    def __init__(self, **kwargs: Any) -> None:
        if "neurons" in kwargs:
            raise TypeError("LIFNeuron has no 'neurons' parameter; use LIFPopulation")
        super().__init__(neurons=1, **kwargs)
