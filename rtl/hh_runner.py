# SPDX-License-Identifier: Apache-2.0
"""A run controller for the Hodgkin-Huxley neuron: "run N Euler steps at this current".

It sits between a simple command port (a register interface, say) and the neuron's streams
(:class:`~neurotile.rtl.hodgkin_huxley.HHNeuron`), so that the command side needs no knowledge of
the neuron's protocol or timing.
"""

from __future__ import annotations

from amaranth.hdl import Module, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from neurotile.neurons.hodgkin_huxley import CURRENT_WIDTH, HHIntParams
from neurotile.rtl.hodgkin_huxley import output_layout

__all__ = ["HHRunner"]


class HHRunner(wiring.Component):
    """Run a number of forward-Euler steps of one neuron at a constant stimulus.

    A transfer on ``run`` with payload ``N`` starts a *run*: ``N`` transfers are offered on
    ``step`` (to the neuron's ``current`` stream) and ``N`` results are taken from ``result``
    (the neuron's ``output`` stream). At most one step is in flight: the first step is offered
    from the cycle after ``run`` transfers, each further one from the cycle the previous step's
    result arrives (so a neuron that is ready again at once runs its steps back to back).
    ``step.payload`` is ``current`` itself: a step carries the value ``current`` has in the
    cycle it transfers, so keep ``current`` steady during a run if the neuron side relies on a
    payload not changing while it is offered.

    ``busy`` is high from the cycle after ``run`` transfers until the cycle after the ``N``-th
    result transfers; ``run.ready`` is ``~busy``, so runs never overlap. ``spiked`` is cleared
    when a run is accepted and set by every result of that run whose ``spike`` is set: at the
    end of a run it says whether any of its steps spiked. A run of 0 steps only clears
    ``spiked``. ``result.ready`` is always high: the runner never stalls the neuron. A result
    transfer while no step is in flight (not possible with a neuron that keeps its contract) is
    ignored. Reset: idle, ``spiked`` low.

    The runner keeps no copy of the neuron's state: read it from the neuron's output payload,
    which :class:`~neurotile.rtl.hodgkin_huxley.HHNeuron` holds between steps.

    Parameters
    ----------
    params : HHIntParams
        The neuron's parameters (they fix the ``result`` payload layout).
    run_bits : int
        Width of the step count, 1 to 16: a run is at most ``2**run_bits - 1`` steps.

    Members
    -------
    run : In(stream.Signature(unsigned(run_bits)))
        Start a run of ``payload`` steps.
    current : In(signed(16))
        Stimulus of every step (uA/cm^2, 8 fraction bits); may change at any time.
    step : Out(stream.Signature(signed(16)))
        One transfer per step, to the neuron's ``current``.
    result : In(stream.Signature(output_layout(params)))
        The neuron's ``output``.
    busy : Out(1)
        A run is in progress.
    spiked : Out(1)
        A step of the latest run spiked.

    Raises
    ------
    TypeError, ValueError
        For parameters of the wrong type or out of range.
    """

    def __init__(self, params: HHIntParams, *, run_bits: int = 4) -> None:
        if not isinstance(params, HHIntParams):
            raise TypeError(f"Params must be HHIntParams, not {params!r}")
        if not isinstance(run_bits, int) or isinstance(run_bits, bool):
            raise TypeError(f"Run width must be an integer, not {run_bits!r}")
        if not 1 <= run_bits <= 16:
            raise ValueError(f"Run width must be between 1 and 16, not {run_bits}")
        self.p = params
        self.run_bits = run_bits
        super().__init__({
            "run": In(stream.Signature(unsigned(run_bits))),
            "current": In(signed(CURRENT_WIDTH)),
            "step": Out(stream.Signature(signed(CURRENT_WIDTH))),
            "result": In(stream.Signature(output_layout(params))),
            "busy": Out(1),
            "spiked": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        to_issue = Signal(unsigned(self.run_bits))  # steps still to offer on ``step``
        in_flight = Signal()                        # a step was taken, its result not yet
        spiked = Signal()

        idle = (to_issue == 0) & ~in_flight
        accept = self.run.valid & self.run.ready
        issued = self.step.valid & self.step.ready
        received = self.result.valid & self.result.ready & in_flight

        m.d.comb += [
            self.run.ready.eq(idle),
            self.busy.eq(~idle),
            self.spiked.eq(spiked),
            self.step.valid.eq((to_issue != 0) & (~in_flight | self.result.valid)),
            self.step.payload.eq(self.current),
            self.result.ready.eq(1),
        ]
        with m.If(accept):
            m.d.sync += [to_issue.eq(self.run.payload), spiked.eq(0)]
        with m.If(received):
            m.d.sync += in_flight.eq(0)
            with m.If(self.result.payload.spike):
                m.d.sync += spiked.eq(1)
        with m.If(issued):
            m.d.sync += [to_issue.eq(to_issue - 1), in_flight.eq(1)]
        return m
