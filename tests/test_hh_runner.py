# SPDX-License-Identifier: Apache-2.0
"""The Hodgkin-Huxley run controller against the reference model of its contract: every cycle
of its handshakes, the current of every step, the step count and ``spiked`` of every run; on
Amaranth's simulator, Icarus and Verilator."""

from __future__ import annotations

import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring

from neurotile.neurons.hodgkin_huxley import HHIntParams
from neurotile.rtl.hh_runner import HHRunner
from neurotile.testbench.hh_runner import check_config, run_amaranth, run_sim, verdict
from neurotile.testbench.runner import SIMULATORS


def _cfg(**kw):
    return {"run_bits": 4, "runs": 120, "seed": 3} | kw


@pytest.mark.parametrize("cfg", [
    _cfg(),
    _cfg(run_bits=2, runs=200, seed=9, latency=1, stall=0.0, gap=0.0),
    _cfg(run_bits=6, runs=40, seed=5, latency=12, stall=0.6),
    _cfg(params={"gate_frac": 12, "v_frac": 8}, seed=7),
    _cfg(params={"lean": 1, "table_sig": 6, "mul_bits": 1}, runs=60, seed=4),
], ids=["default", "2-bit-no-stalls", "6-bit-slow-neuron", "other-layout", "lean-sig6-1bit"])
def test_runner_matches_its_model(cfg):
    report = run_amaranth(cfg)
    stim, _ = check_config(cfg)
    verdict(cfg, stim, report)
    assert report["mismatches"] == 0
    assert report["updates"] == cfg["runs"] and report["steps"] == int(stim.runs.sum())
    assert 0 < report["spiked_runs"] < cfg["runs"]  # runs end with spiked set and clear
    assert 0 in stim.runs and (1 << cfg["run_bits"]) - 1 in stim.runs


def test_planted_error_is_reported():
    cfg = _cfg(plant=17)
    report = run_amaranth(cfg)
    stim, _ = check_config(cfg)
    verdict(cfg, stim, report)  # exactly the planted mismatch
    first = report["first_mismatches"]
    assert report["mismatches"] == 1 and (first[0]["step"], first[0]["field"]) == (17, "spiked")
    with pytest.raises(AssertionError, match="mismatches against the reference model"):
        verdict({k: v for k, v in cfg.items() if k != "plant"}, stim, report)


class _DroppedSpike(wiring.Component):
    """A runner whose result port loses the spike bit: ``spiked`` never rises."""

    def __init__(self) -> None:
        self.inner = HHRunner(HHIntParams())
        super().__init__(dict(self.inner.signature.members))

    def elaborate(self, platform):
        m = Module()
        m.submodules.inner = r = self.inner
        wiring.connect(m, wiring.flipped(self.run), r.run)
        wiring.connect(m, r.step, wiring.flipped(self.step))
        m.d.comb += [
            r.current.eq(self.current), self.busy.eq(r.busy), self.spiked.eq(r.spiked),
            r.result.valid.eq(self.result.valid), self.result.ready.eq(r.result.ready),
            r.result.payload.eq(self.result.payload), r.result.payload.spike.eq(0),
        ]
        return m


def test_faulty_runner_is_caught():
    cfg = _cfg()
    report = run_amaranth(cfg, dut=_DroppedSpike())
    stim, _ = check_config(cfg)
    assert report["mismatches"] == int(stim.expected.sum()) > 0
    assert {m["field"] for m in report["first_mismatches"]} == {"spiked"}


@pytest.mark.parametrize("kwargs, exc, message", [
    (dict(run_bits=0), ValueError, r"^Run width must be between 1 and 16, not 0$"),
    (dict(run_bits=True), TypeError, r"^Run width must be an integer, not True$"),
])
def test_runner_reports_bad_parameters(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        HHRunner(HHIntParams(), **kwargs)
    with pytest.raises(TypeError, match=r"^Params must be HHIntParams, not 4$"):
        HHRunner(4)  # type: ignore[arg-type]


@pytest.mark.sim
@pytest.mark.parametrize("sim", SIMULATORS)
def test_runner_on_simulators(sim, build_root):
    work = build_root / "hh-runner"
    report = run_sim(sim, _cfg(runs=300), build_dir=work)
    assert report["passed"], f"see {report['run_dir']}"
    assert report["mismatches"] == 0 and report["updates"] == 300
    planted = run_sim(sim, _cfg(runs=300, plant=123), build_dir=work)
    assert planted["passed"] and planted["mismatches"] == 1
    assert planted["first_mismatches"][0]["step"] == 123


@pytest.mark.sim
def test_unannounced_error_fails_the_cocotb_test(build_root):
    report = run_sim("icarus", _cfg(runs=60, corrupt=20), build_dir=build_root / "hh-runner")
    assert not report["passed"] and report["mismatches"] == 1
