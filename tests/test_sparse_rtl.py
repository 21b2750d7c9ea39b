# SPDX-License-Identifier: Apache-2.0
"""The sparse synapse tile and the spiking layer in Amaranth's simulator, against the reference.

Fast tier: no HDL simulator. Each run covers directed saturation corners, random matrices at
densities 1 % to 100 %, random spike trains, weights reprogrammed between runs, resets, and
random gaps and back-pressure on the streams.
"""

from __future__ import annotations

import pytest

from neurotile.blocks import get_block
from neurotile.design import elaborate
from neurotile.rtl.sparse_matmul import SparseMatmul
from neurotile.rtl.spiking_layer import SpikingLayer
from neurotile.testbench import sparse_matmul as tb_sparse
from neurotile.testbench import spiking_layer as tb_layer
from neurotile.testbench.common import amaranth_loop

SPARSE = {
    "default": (dict(), 40),
    "odd-sizes-multibit-2banks": (dict(inputs=13, outputs=7, weight_width=5, acc_width=9,
                                       depth=50, act_width=3, banks=2), 50),
    "one-by-one": (dict(inputs=1, outputs=1, weight_width=3, acc_width=4, depth=1), 25),
    "shallow-memory": (dict(inputs=5, outputs=9, weight_width=8, acc_width=8, depth=3,
                            act_width=2), 30),
    "one-by-one-2banks": (dict(inputs=1, outputs=1, weight_width=3, acc_width=4, depth=1,
                               banks=2), 25),
}

LAYER = {
    "default": (dict(), 60),
    "multiply-zero-now-2banks": (dict(inputs=11, neurons=6, weight_width=5, acc_width=9,
                                      depth=40, act_width=2, banks=2, width=10,
                                      leak="multiply", reset="zero", reset_delay=False,
                                      refractory_width=0), 60),
}


@pytest.mark.parametrize("name", list(SPARSE))
def test_sparse_bit_exact(name):
    params, steps = SPARSE[name]
    report = tb_sparse.run_amaranth({"params": params, "steps": steps, "seed": 11})
    assert report["mismatches"] == 0, report["first_mismatches"][:3]
    assert report["steps"] == steps
    assert report["synaptic_ops"] > 0


@pytest.mark.parametrize("name", list(LAYER))
def test_layer_bit_exact(name):
    params, steps = LAYER[name]
    report = tb_layer.run_amaranth({"params": params, "steps": steps, "seed": 12})
    assert report["mismatches"] == 0, report["first_mismatches"][:3]
    assert report["steps"] == steps
    assert report["spikes"] > 0


def test_sparse_planted_error_is_caught():
    report = tb_sparse.run_amaranth({"params": {}, "steps": 30, "seed": 4, "plant": [20, 5]})
    assert report["mismatches"] == 1
    assert report["first_mismatches"][0] | {"expected": 0, "observed": 0} == {
        "step": 20, "neuron": 5, "field": "value", "expected": 0, "observed": 0}


def test_layer_planted_error_is_caught():
    report = tb_layer.run_amaranth({"params": {}, "steps": 60, "seed": 4, "plant": [50, 2]})
    assert report["mismatches"] == 1
    first = report["first_mismatches"][0]
    assert (first["step"], first["neuron"], first["field"]) == (50, 2, "spike")


def _row_work(run, events):
    lengths = run.csr.row_lengths()
    return sum(max(1, int(lengths[a])) for a, _ in events)


def _expected_periods(stim, outputs, banks):
    """Cycles from each step's first event to the next step's, for back-to-back input.

    One bank: ``W + outputs + 2``. Two banks: the marker of step ``t`` leaves the front end
    ``W + 1`` cycles after the step's first event, but not before ``outputs + 1`` cycles after
    the previous marker (whose drain must be over); the next step starts one cycle later.
    """
    out = []
    for run in stim.runs:
        work = [_row_work(run, events) for events in run.steps]
        if banks == 1:
            out += [w + outputs + 2 for w in work[:-1]]
            continue
        start, marker = 0, None
        for w in work[:-1]:
            marker = start + w + 1 if marker is None else max(start + w + 1,
                                                              marker + outputs + 1)
            out.append(marker + 1 - start)
            start = marker + 1
    return out


@pytest.mark.parametrize("banks", [1, 2])
@pytest.mark.parametrize("block", ["sparse", "layer"])
def test_cycles_per_step_follow_the_formula(block, banks):
    """With no gaps and no back-pressure a step takes sum(max(1, L(a))) + outputs + 2 cycles
    (one bank): one synaptic operation per cycle, nothing for inputs that did not spike or zero
    weights. With two banks the drain of a step overlaps the next step's synaptic work."""
    cfg = {"steps": 24, "seed": 9, "gap": 0.0, "stall": 0.0, "directed": False,
           "run_length": 6}
    if block == "sparse":
        cfg["params"] = dict(inputs=24, outputs=20, depth=480, banks=banks)
        stim, checker = tb_sparse.check_config(cfg)
        dut = SparseMatmul(**cfg["params"])
    else:
        cfg["params"] = dict(inputs=24, neurons=20, depth=480, banks=banks)
        stim, checker = tb_layer.check_config(cfg)
        dut = SpikingLayer(**cfg["params"])
    amaranth_loop(dut, checker, ports=tb_sparse.component_ports, max_cycles=200_000)
    assert checker.board.count == 0
    assert checker.periods() == _expected_periods(stim, 20, banks)


def test_two_banks_overlap_the_drain():
    """Steps with little synaptic work run at the drain rate with two banks."""
    runs = {}
    for banks in (1, 2):
        cfg = {"params": dict(inputs=24, outputs=20, depth=480, banks=banks), "steps": 12,
               "seed": 2, "gap": 0.0, "stall": 0.0, "directed": False, "grid": [[0.5, 0.3]],
               "run_length": 12}
        stim, checker = tb_sparse.check_config(cfg)
        amaranth_loop(SparseMatmul(**cfg["params"]), checker, ports=tb_sparse.component_ports,
                      max_cycles=100_000)
        assert checker.board.count == 0
        runs[banks] = sum(checker.periods())
    assert runs[2] < runs[1]


@pytest.mark.parametrize(
    ("cls", "kwargs", "error", "message"),
    [
        (SparseMatmul, dict(inputs=0), ValueError, "inputs must be between 1 and 4096, not 0"),
        (SparseMatmul, dict(depth="big"), TypeError, "depth must be an integer, not 'big'"),
        (SparseMatmul, dict(banks=3), ValueError, "banks must be between 1 and 2, not 3"),
        (SparseMatmul, dict(weight_width=12, acc_width=10), ValueError,
         r"acc_width must be at least weight_width \(12\) so that one weight fits an "
         r"accumulator, not 10"),
        (SpikingLayer, dict(neurons=5000), ValueError,
         "neurons must be between 1 and 4096, not 5000"),
        (SpikingLayer, dict(leak="linear"), ValueError,
         "leak must be one of 'shift', 'multiply', not 'linear'"),
        (SpikingLayer, dict(width=40), ValueError, "width must be between 2 and 32, not 40"),
    ],
)
def test_parameter_errors(cls, kwargs, error, message):
    with pytest.raises(error, match=f"^{message}$"):
        cls(**kwargs)


def test_256_by_256_elaborates():
    tile = SparseMatmul(inputs=256, outputs=256, depth=65536)
    assert len(tile.events.payload.addr) == 8
    assert len(tile.ptr_write.addr) == 9 and len(tile.ptr_write.data) == 17
    assert len(tile.syn_write.addr) == 16


@pytest.mark.parametrize("name", ["sparse-matmul", "spiking-layer"])
def test_verilog_is_deterministic(name):
    block = get_block(name)
    params = {"inputs": 10, "depth": 64}
    first, second = elaborate(block, params), elaborate(block, dict(params))
    assert first.verilog == second.verilog
    assert f"module {first.top}(" in first.verilog
    other = elaborate(block, params | {"weight_width": 6})
    assert other.verilog != first.verilog


def test_block_simulate_amaranth(tmp_path):
    summary = get_block("sparse-matmul").simulate(
        {"inputs": 8, "outputs": 6, "depth": 48, "density": 0.5, "rate": 0.5},
        sim="amaranth", steps=20, seed=3, build_dir=tmp_path)
    assert summary.mismatches == 0 and summary.unit == "synaptic-ops"
    assert summary.updates > 0 and summary.spikes > 0
    summary = get_block("spiking-layer").simulate(
        {"inputs": 8, "neurons": 6, "depth": 48}, sim="amaranth", steps=30, seed=3,
        build_dir=tmp_path)
    assert summary.mismatches == 0 and summary.unit == "neuron-updates"
    assert summary.updates >= 30 * 6 and summary.updates % 6 == 0  # directed runs come first


@pytest.mark.parametrize("command", ["generate", "simulate"])
@pytest.mark.parametrize("name", ["sparse-matmul", "spiking-layer"])
def test_cli_help(command, name, capsys):
    from neurotile.cli import main

    with pytest.raises(SystemExit) as exc:
        main([command, name, "--help"])
    assert exc.value.code == 0
    assert "--inputs" in capsys.readouterr().out
