# SPDX-License-Identifier: Apache-2.0
"""Current-based LIF neurons (NIR ``CubaLIF``, snnTorch ``Synaptic``): the update datapath.

The arithmetic is specified once, by :meth:`neurotile.neurons.cuba_lif.CubaLIFIntParams.step`;
this module is its hardware and is checked against it bit for bit.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux

from neurotile.neurons.cuba_lif import CubaLIFIntParams
from neurotile.rtl.leaky_integrator import LIDatapath
from neurotile.rtl.lif import LIFDatapath
from neurotile.rtl.population import Datapath

__all__ = ["CubaLIFDatapath", "DATAPATH"]


class CubaLIFDatapath(Datapath):
    """The combinational current-based LIF update, shared by every neuron of a population.

    Two stages, each an existing datapath: the synaptic current is a leaky integrator
    (:class:`~neurotile.rtl.leaky_integrator.LIDatapath`, sized by ``syn_width``, decay
    ``syn_decay``) of the input; its new value drives the LIF membrane
    (:class:`~neurotile.rtl.lif.LIFDatapath`: leak, reset, saturation, strict threshold,
    refractory counter). With reset ``"zero"`` and ``reset_delay`` the drive is zero on the step
    after a spike (snnTorch ``Synaptic`` clears the whole membrane); with reset ``"none"`` the
    membrane is a second leaky integrator and the spike a compare ``U' > th``.

    Parameters
    ----------
    config : CubaLIFIntParams
        The structure.

    Members
    -------
    synaptic : In(signed(syn_width))
    membrane : In(signed(width))
    countdown : In(unsigned(refractory_width))
        Present only when ``refractory_width > 0``.
    current : In(signed(input_width))
    threshold, decay, syn_decay, refractory : In(unsigned(...))
        The run-time settings (``refractory`` only with a counter).
    next_synaptic, next_membrane, next_countdown : Out(...)
        The new state.
    out_spike : Out(1)
    out_membrane : Out(signed(width))
    out_synaptic : Out(signed(syn_width))
    """

    MODEL = CubaLIFIntParams


    def elaborate(self, platform):
        m = Module()
        p = self.config

        m.submodules.synapse = syn = LIDatapath(p.synapse)
        m.d.comb += [syn.membrane.eq(self.synaptic), syn.current.eq(self.current),
                     syn.decay.eq(self.syn_decay)]
        current = syn.next_membrane

        if p.soma is None:
            m.submodules.soma = soma = LIDatapath(p.integrator)
            m.d.comb += [soma.membrane.eq(self.membrane), soma.current.eq(current),
                         soma.decay.eq(self.decay),
                         self.out_spike.eq(soma.next_membrane > self.threshold)]
        else:
            m.submodules.soma = soma = LIFDatapath(p.soma)
            cleared = (self.membrane > self.threshold) if p.reset == "zero" and p.reset_delay \
                else 0
            m.d.comb += [soma.membrane.eq(self.membrane), soma.current.eq(Mux(cleared, 0, current)),
                         soma.threshold.eq(self.threshold), soma.decay.eq(self.decay),
                         self.out_spike.eq(soma.out_spike)]
            if p.refractory_width:
                m.d.comb += [soma.countdown.eq(self.countdown), soma.refractory.eq(self.refractory),
                             self.next_countdown.eq(soma.next_countdown)]
        m.d.comb += [self.next_membrane.eq(soma.next_membrane),
                     self.out_membrane.eq(soma.next_membrane),
                     self.next_synaptic.eq(current), self.out_synaptic.eq(current)]
        return m


DATAPATH = CubaLIFDatapath
