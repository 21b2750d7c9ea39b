# SPDX-License-Identifier: Apache-2.0
# Reference answer to lab 02 (kept with the tests, never shipped to students).
from amaranth.hdl import Module, Mux, Signal, signed

from neurotile.neurons.lif import LIFIntParams
from neurotile.rtl.population import Datapath


class MyLIFDatapath(Datapath):
    """One step of the LIF neuron for one neuron (shift leak, no refractory counter).

    Ports (made by Datapath from the configuration, see neurotile.rtl.population):
      membrane        In(signed(width))        U, the membrane the step starts from
      current         In(signed(input_width))  I
      threshold       In(unsigned(width - 1))  th
      decay           In(unsigned(...))        k of the leak U - (U >> k)
      next_membrane   Out(signed(width))       what the neuron stores for the next step
      out_membrane    Out(signed(width))       what it reports (the same value)
      out_spike       Out(1)                   it fired
    The configuration is self.config: self.config.reset is "subtract" or "zero",
    self.config.reset_delay is True or False, self.config.mem_min / mem_max the range.
    """

    MODEL = LIFIntParams

    def elaborate(self, platform):
        m = Module()
        p = self.config
        u, th = self.membrane, self.threshold

        leaked = u - (u >> self.decay)

        # (1) The sum before saturation. With p.reset_delay the reset R = (u > th) is decided
        # from the membrane the step starts from: subtract takes th off, zero drops the leaked
        # membrane (the input is kept). Without the delay there is no R here.
        if p.reset_delay:
            r = u > th
            if p.reset == "subtract":
                total = leaked + self.current - Mux(r, th, 0)
            else:
                total = Mux(r, 0, leaked + self.current)  # wrong: drops the input too
        else:
            total = leaked + self.current

        v = Signal(signed(p.width))
        m.d.comb += v.eq(Mux(total > p.mem_max, p.mem_max,
                             Mux(total < p.mem_min, p.mem_min, total)))
        fire = v > th

        # (2) What is stored. With p.reset_delay it is v; without, a neuron that fired stores
        # v - th (subtract) or 0 (zero) in this same step.
        if p.reset_delay:
            new = v
        elif p.reset == "subtract":
            new = Mux(fire, v - th, v)
        else:
            new = Mux(fire, 0, v)

        m.d.comb += [self.out_spike.eq(fire), self.out_membrane.eq(new),
                     self.next_membrane.eq(new)]
        return m
