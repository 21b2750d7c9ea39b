# Lab 03: a cocotb test for the LIF population. The TB class is ready to use; write the two
# tests at the bottom. Grade with `neurotile lab check 3 .` in this folder.
#
# The checker builds the design with Icarus (timescale 1ns/1ps) and runs this module against
# a correct design and two designs with a planted bug. Run it yourself the same way with
# `python run_test.py` (see the lab text).
import random

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from neurotile.neurons.lif import LIFIntParams, LIFIntState, lif_int_step
from neurotile.rtl.population import output_layout

#: The design under test: 4 neurons, 8-bit membrane and input, no refractory counter,
#: reset by subtraction, delayed as snnTorch's default.
CONFIG = LIFIntParams(neurons=4, width=8, input_width=8, refractory_width=0)
LAYOUT = output_layout(CONFIG)   # output payload: spike, membrane, index, last (LSB first)


class TB:
    """Clock, reset and the two streams of the population.

    Timing rule used throughout (it avoids writing in the read-only phase): inputs are written
    just after a rising edge; outputs are read in the ReadOnly phase of the same cycle; then we
    wait for the next rising edge before writing again.
    """

    def __init__(self, dut):
        self.dut = dut
        self.n = CONFIG.neurons
        Clock(dut.clk, 10, unit="ns").start()   # the checker builds with timescale 1ns/1ps

    async def reset(self, threshold: int, decay: int) -> None:
        """Reset, set the run-time settings and wait for the clearing sweep to finish."""
        dut = self.dut
        dut.rst.value = 1
        dut.current__valid.value = 0
        dut.current__payload.value = 0
        dut.output__ready.value = 1
        dut.threshold.value = threshold
        dut.decay.value = decay
        await ClockCycles(dut.clk, 2)
        dut.rst.value = 0
        await ClockCycles(dut.clk, self.n + 2)   # the population clears its neurons

    def decode(self, payload: int) -> dict:
        """The output payload as {"spike", "membrane", "index", "last"}, by the layout's
        field offsets (never by hand-written shifts)."""
        out = {}
        for name, field in LAYOUT:
            width = field.shape.width
            value = (payload >> field.offset) & ((1 << width) - 1)
            if field.shape.signed and value >> (width - 1):
                value -= 1 << width
            out[name] = value
        return out

    async def step(self, currents: list[int]) -> list[dict]:
        """One timestep: send one current per neuron (in index order) and return the
        population's outputs, one dict per neuron."""
        dut, outputs, sent = self.dut, [], 0
        mask = (1 << len(dut.current__payload)) - 1     # the port is unsigned in Verilog
        while len(outputs) < self.n:
            if sent < self.n:
                dut.current__valid.value = 1
                dut.current__payload.value = currents[sent] & mask
            else:
                dut.current__valid.value = 0
            await ReadOnly()
            taken = sent < self.n and int(dut.current__ready.value) == 1
            if int(dut.output__valid.value):
                outputs.append(self.decode(int(dut.output__payload.value)))
            await RisingEdge(dut.clk)
            sent += taken
        return outputs


def model_step(state: LIFIntState, currents: list[int], threshold: int, decay: int):
    """The reference: (new state, spikes) of the kit's integer model for one timestep."""
    return lif_int_step(state, np.array(currents), CONFIG, threshold=threshold, decay=decay)


# -- your tests ------------------------------------------------------------------------------

@cocotb.test()
async def test_directed(dut):
    """Directed cases: the corners where hardware bugs hide. Compare EVERY output with the
    model: spike and membrane of each neuron, each step."""
    tb = TB(dut)
    await tb.reset(threshold=64, decay=3)
    state = LIFIntState.zeros(CONFIG.neurons)
    # TODO: drive the cases of the lab text (step 2), and assert each output against
    # model_step(...). A test without assertions passes on every design.


@cocotb.test()
async def test_random(dut):
    """Seeded random currents and settings, compared with the model."""
    rng = random.Random(cocotb.RANDOM_SEED)
    dut._log.info("seed %d", cocotb.RANDOM_SEED)
    tb = TB(dut)
    # TODO: pick a threshold and decay with rng, reset, then run 100 steps of random currents
    # (-128..127), asserting every output against the model.
