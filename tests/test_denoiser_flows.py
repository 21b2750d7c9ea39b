# SPDX-License-Identifier: Apache-2.0
"""The denoiser synthesised to sky130 cells and checked at gate level against its model."""

from __future__ import annotations

import pytest

from neurotile.blocks.denoiser import BLOCK
from neurotile.design import elaborate
from neurotile.flows.gl_denoiser import run_gate_level
from neurotile.flows.synth import synthesize
from neurotile.neurons.denoiser import DenoiserParams

pytestmark = pytest.mark.flows

PARAMS = dict(width=4, height=3, ts_bits=3, filter="rowcol", neighbours=8)


@pytest.fixture(scope="module")
def netlist(worker_root):
    design = elaborate(BLOCK, PARAMS)
    work = worker_root / "denoiser-gl"
    work.mkdir(parents=True, exist_ok=True)
    src = work / f"{design.top}.v"
    src.write_text(design.verilog)
    result = synthesize([src], top=design.top, work_dir=work / "synth")
    assert result.flip_flops > 0 and result.area > 0
    return result.netlist, design.top


def test_gate_level_bit_exact(netlist, worker_root):
    path, top = netlist
    report = run_gate_level(path, top=top, params=DenoiserParams(**PARAMS), steps=300, seed=3,
                            build_dir=worker_root / "denoiser-gl" / "sim")
    assert report["passed"], f"see {report['run_dir']}"
    assert report["mismatches"] == 0 and report["decisions"] == report["events"] >= 300


def test_gate_level_catches_a_wrong_expectation(netlist, worker_root):
    path, top = netlist
    report = run_gate_level(path, top=top, params=DenoiserParams(**PARAMS), steps=120, seed=3,
                            corrupt=50, build_dir=worker_root / "denoiser-gl" / "sim")
    assert not report["passed"] and report["mismatches"] == 1
