# SPDX-License-Identifier: Apache-2.0
"""Every neuron model of the catalogue on the shared population engine, without a table here.

The models are read from the catalogue (a model with a datapath is covered the day it is
registered): each structural choice of each model in Amaranth's simulator, both storages, one
neuron, per-neuron settings and bias, a planted expectation error and a planted hardware fault;
on Icarus and Verilator the cycle-level and bulk checkers, planted errors, and Verilator lint;
the generated TinyTapeout project's own test.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
from amaranth.hdl import Module

from neurotile.neurons.spec import NeuronConfig, models
from neurotile.rtl.population import datapath_for, datapaths
from neurotile.testbench.check import check_population, population_verilog
from neurotile.testbench.population import planted_field
from neurotile.testbench.runner import lint

MODELS = sorted(datapaths())


def _small(model: type[NeuronConfig], **kw) -> NeuronConfig:
    return model(neurons=4, **kw)


def _variants(model: type[NeuronConfig]) -> dict[str, dict]:
    """The default structure and one structure per other value of every choice or flag."""
    out: dict[str, dict] = {"default": {}}
    for p in model.PARAMS:
        values = p.choices if p.choices is not None else (
            (not p.default,) if p.type is bool else ())
        for v in values:
            if v == p.default:
                continue
            try:
                _small(model, **{p.name: v})
            except ValueError:
                continue  # a value that needs another parameter changed too
            out[f"{p.name}={v}"] = {p.name: v}
    return out


CASES = [(m, name, kw) for m in MODELS for name, kw in _variants(models()[m]).items()]


def _amaranth(config: NeuronConfig, **options) -> dict:
    return check_population(config, sim="amaranth", steps=options.pop("steps", 150),
                            seed=options.pop("seed", 3), build_dir="unused", **options)


@pytest.mark.parametrize("model,name,kw", CASES, ids=[f"{m}-{n}" for m, n, _ in CASES])
def test_every_structure_is_bit_exact_in_amaranth(model, name, kw):
    report = _amaranth(_small(models()[model], **kw))
    assert report["passed"], report["first_mismatches"][:3]
    assert report["updates"] > 500


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("storage", ["memory", "ring"])
def test_storage_and_single_neuron(model, storage):
    cls = models()[model]
    for config in (cls(neurons=1), cls(neurons=5)):
        report = _amaranth(config, storage=storage, steps=120)
        assert report["passed"], report["first_mismatches"][:3]


@pytest.mark.parametrize("model", MODELS)
def test_per_neuron_settings_and_bias(model):
    """Every setting held per neuron as a constant table, and a per-neuron bias."""
    cls = models()[model]
    base = _small(cls)
    rng = np.random.default_rng(1)
    tables = {}
    for s in base.present_settings():
        lo, hi = s.bounds(base)
        tables[s.name] = rng.integers(lo, hi + 1, 4)
    f = base.input_field()
    bias = rng.integers(f.lo, f.hi + 1, 4)
    config = cls(neurons=4, per_neuron=tables, bias=bias)
    assert not config.ports()  # every setting is a table: no setting port remains
    report = _amaranth(config)
    assert report["passed"], report["first_mismatches"][:3]


@pytest.mark.parametrize("model", MODELS)
def test_planted_expectation_error_is_the_only_mismatch(model):
    config = _small(models()[model])
    report = _amaranth(config, plant=[100, 2])
    assert report["passed"] and report["mismatches"] == 1
    first = report["first_mismatches"][0]
    assert (first["step"], first["neuron"], first["field"]) == (100, 2, planted_field(config))


def _faulty(model: str) -> type:
    """The model's datapath with one output LSB flipped whenever the input is at its maximum."""
    base = datapath_for(model)

    class Faulty(base):  # type: ignore[misc, valid-type]
        def elaborate(self, platform):
            m = Module()
            m.submodules.good = good = base(self.config)
            for name in self.signature.members:
                port = getattr(self, name)
                if self.signature.members[name].flow.name == "In":
                    m.d.comb += getattr(good, name).eq(port)
                else:
                    m.d.comb += port.eq(getattr(good, name))
            name = planted_field(self.config)
            out = getattr(good, f"out_{name}")
            at_max = self.current == self.config.input_field().hi
            m.d.comb += getattr(self, f"out_{name}").eq(out ^ at_max)
            return m

    return Faulty


@pytest.mark.parametrize("model", MODELS)
def test_faulty_datapath_is_caught(model):
    config = _small(models()[model])
    report = _amaranth(config, datapath=_faulty(model), steps=200)
    assert report["mismatches"] > 0
    assert planted_field(config) in {m["field"] for m in report["first_mismatches"]}


# -- Icarus and Verilator -----------------------------------------------------------------------

@cache
def _design(model: str) -> tuple[NeuronConfig, str, str, list]:
    config = models()[model](neurons=8)
    return (config, *population_verilog(config))


@pytest.mark.sim
@pytest.mark.parametrize("sim", ["icarus", "verilator"])
@pytest.mark.parametrize("model", MODELS)
def test_simulators_bit_exact_on_both_paths(model, sim, build_root):
    config, verilog, top, ports = _design(model)
    run = dict(sim=sim, seed=7, build_dir=build_root / "population" / model, verilog=verilog,
               top=top, ports=ports)
    bulk = check_population(config, steps=800, **run)
    assert bulk["passed"], bulk["first_mismatches"][:3]
    assert bulk["updates"] >= 8 * 700
    cycle = check_population(config, steps=150, bulk=False, **run)
    assert cycle["passed"], f"see {cycle.get('run_dir')}"
    # The bulk harness is sized by the run's length: as long as the first run, the planted
    # one reuses its build instead of compiling a second harness.
    planted = check_population(config, steps=800, plant=[120, 5], **run)
    assert planted["passed"] and planted["mismatches"] == 1
    planted = check_population(config, steps=150, plant=[120, 5], bulk=False, **run)
    assert planted["passed"] and planted["mismatches"] == 1


@pytest.mark.sim
@pytest.mark.parametrize("model", MODELS)
def test_unannounced_error_fails_cocotb(model, build_root):
    config, verilog, top, ports = _design(model)
    report = check_population(config, sim="icarus", steps=100, seed=7, bulk=False,
                              build_dir=build_root / "population" / model, verilog=verilog,
                              top=top, ports=ports, corrupt=[60, 1])
    assert not report["passed"] and report["mismatches"] == 1


@pytest.mark.sim
@pytest.mark.parametrize("model", MODELS)
def test_verilator_lint_clean(model, tmp_path):
    _, verilog, top, _ = _design(model)
    result = lint(verilog, top, tmp_path)
    assert result.returncode == 0, result.stderr


# -- gate level ---------------------------------------------------------------------------------

@pytest.mark.flows
@pytest.mark.parametrize("model", MODELS)
def test_gate_level_netlist_is_bit_exact(model, build_root):
    """Every model's population, synthesised to Sky130 cells, passes the RTL's checker on the
    cell models (power pins, TinyTapeout's defines), and a planted error is reported there."""
    from neurotile.flows.gl_population import run_gate_level
    from neurotile.flows.synth import synthesize

    config = models()[model](neurons=3)
    verilog, top, _ = population_verilog(config)
    work = build_root / "population-gl" / model
    work.mkdir(parents=True, exist_ok=True)
    src = work / f"{top}.v"
    src.write_text(verilog)
    netlist = synthesize([src], top=top, work_dir=work / "synth").netlist
    run = dict(top=top, config=config, steps=60, seed=5, build_dir=work / "gl")
    report = run_gate_level(netlist, **run)
    assert report["passed"], f"see {report['run_dir']}"
    assert report["updates"] > 120 and report["mismatches"] == 0
    planted = run_gate_level(netlist, **run, plant=[40, 1])
    assert planted["passed"] and planted["mismatches"] == 1
