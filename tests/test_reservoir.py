# SPDX-License-Identifier: Apache-2.0
"""The seeded reservoir: generator, integer model, readout, hardware against the model."""

from __future__ import annotations

import numpy as np
import pytest

from neurotile.neurons.network import run_network
from neurotile.neurons.reservoir import (ReservoirParams, accumulator_width, float_weights,
                                         integer_weights, quantisation, reservoir_network,
                                         run_reservoir)


# -- generator -----------------------------------------------------------------------------------

def test_same_seed_same_network_other_seed_other_network():
    a = reservoir_network(ReservoirParams(neurons=24, seed=5))
    b = reservoir_network(ReservoirParams(neurons=24, seed=5))
    c = reservoir_network(ReservoirParams(neurons=24, seed=6))
    wa, wb, wc = (n.layers[0].weights.to_dense() for n in (a, b, c))
    assert np.array_equal(wa, wb)
    assert not np.array_equal(wa, wc)


def test_distribution_dale_no_self_synapses_radius():
    p = ReservoirParams(neurons=40, density=0.3, excitatory=0.75, radius=0.8, seed=3)
    w_in, w_rec, exc = float_weights(p)
    assert exc.sum() == 30
    assert np.all(np.diag(w_rec) == 0)
    assert np.all(w_rec[exc] >= 0) and np.all(w_rec[~exc] <= 0)
    assert np.max(np.abs(np.linalg.eigvals(w_rec))) == pytest.approx(0.8)
    assert np.all(np.abs(w_in[w_in != 0]) * p.in_max <= p.input_gain)
    i_in, i_rec = integer_weights(p)
    assert np.all(i_rec[exc] >= 0) and np.all(i_rec[~exc] <= 0)
    q = quantisation(p)
    assert q["kept"] == np.count_nonzero(i_in) + np.count_nonzero(i_rec)
    assert q["synapses"] == q["kept"] + q["dropped"]


def test_accumulators_never_saturate_so_the_current_is_exact():
    p = ReservoirParams(neurons=16, density=0.9, input_density=1.0, radius=3.0, seed=2)
    net = reservoir_network(p)
    layer = net.layers[0]
    w_in, w_rec = integer_weights(p)
    assert layer.sparse.acc_width == accumulator_width(p, w_in, w_rec)
    x = np.full((1, 6, p.inputs), p.in_max)
    run = run_reservoir(p, x)
    assert run.acc_saturations == [0]
    assert np.array_equal(run.spikes[0], run_network(net, x).spikes[0])


@pytest.mark.parametrize("kw, message", [
    ({"neurons": 1}, "neurons must be between 2 and 1024, not 1"),
    ({"density": 1.5}, "density must be between 0 and 1, not 1.5"),
    ({"threshold": 600}, "threshold must be between 1 and 511 for a 10-bit membrane, not 600"),
    ({"decay": 0}, "decay must be between 1 and 9 for a 10-bit membrane, not 0"),
    ({"seed": -1}, r"seed must be between 0 and \d+, not -1"),
])
def test_invalid_parameters_are_named(kw, message):
    with pytest.raises(ValueError, match=rf"^{message}$"):
        ReservoirParams(**kw)


def test_empty_reservoir_is_silent():
    p = ReservoirParams(neurons=8, density=0.0, input_density=0.0)
    run = run_reservoir(p, np.full((2, 4, p.inputs), 3))
    assert not run.spikes[0].any()


# -- hardware against the integer model ----------------------------------------------------------

from neurotile.blocks.reservoir import BLOCK, check_reservoir, reservoir_top  # noqa: E402
from neurotile.design import elaborate  # noqa: E402

SMALL = ReservoirParams(neurons=12, inputs=4, density=0.3, seed=4)


@pytest.mark.sim
@pytest.mark.parametrize("plant", [None, (2, 3, 5)])
def test_icarus_bulk_every_spike_matches_and_a_planted_error_is_caught(tmp_path, plant):
    report = check_reservoir(SMALL, sim="icarus", samples=6, sample_steps=6, seed=11,
                             build_dir=tmp_path, plant=plant)
    assert report["spikes"] > 0
    if plant is None:
        assert report["mismatches"] == 0, report["first_mismatches"][:3]
    else:
        first = report["first_mismatches"][0]
        assert report["mismatches"] == 1
        assert (first["sample"], first["step"], first["neuron"]) == plant


def test_amaranth_programmable_weights_match(tmp_path):
    p = ReservoirParams(neurons=6, inputs=3, density=0.5, input_width=2, seed=9)
    report = check_reservoir(p, sim="amaranth", samples=2, sample_steps=4, seed=3,
                             build_dir=tmp_path, weights="programmable", gap=0.3, stall=0.3)
    assert report["spikes"] > 0
    assert report["mismatches"] == 0, report["first_mismatches"][:3]


def test_same_parameters_byte_identical_verilog_other_seed_other_top():
    params = {"neurons": 8, "inputs": 3, "seed": 2}
    a = elaborate(BLOCK, params)
    b = elaborate(BLOCK, dict(params))
    assert a.verilog == b.verilog
    assert a.top == reservoir_top(ReservoirParams(neurons=8, inputs=3, seed=2))
    assert elaborate(BLOCK, params | {"seed": 3}).top != a.top


# -- command line --------------------------------------------------------------------------------

from neurotile.cli import main  # noqa: E402


def test_cli_generate_and_simulate(tmp_path, capsys):
    assert main(["generate", "reservoir", "--neurons", "8", "--inputs", "3", "--seed", "5",
                 "-o", str(tmp_path / "v")]) == 0
    top = reservoir_top(ReservoirParams(neurons=8, inputs=3, seed=5))
    assert (tmp_path / "v" / f"{top}.v").is_file()
    capsys.readouterr()
    assert main(["simulate", "reservoir", "--neurons", "6", "--inputs", "3", "--sim",
                 "amaranth", "--steps", "8", "--sample-steps", "4"]) == 0
    line = capsys.readouterr().out
    assert line.startswith("amaranth: 48 neuron-updates checked, 0 mismatches")


@pytest.mark.parametrize("args, message", [
    (["--density", "1.5"], "reservoir: density must be between 0 and 1, not 1.5"),
    (["--neurons", "1"], "reservoir: neurons must be between 2 and 1024, not 1"),
    (["--threshold", "0"], "reservoir: threshold must be between 1 and 511 for a 10-bit "
                           "membrane, not 0"),
])
def test_cli_bad_parameter_is_one_line_exit_2_nothing_written(tmp_path, capsys, args, message):
    out = tmp_path / "v"
    assert main(["generate", "reservoir", *args, "-o", str(out)]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(message)
    assert not out.exists()


# -- readout -------------------------------------------------------------------------------------

from neurotile.neurons.readout import (DIGITS, digits_series, digits_split, filtered,  # noqa: E402
                                       memory_capacity, ridge_fit, ridge_predict)


def test_filtered_is_the_first_order_recursion():
    s = np.array([[[1], [0], [1], [0]]])
    assert np.allclose(filtered(s, 0.5)[0, :, 0], [1, 0.5, 1.25, 0.625])
    with pytest.raises(ValueError, match=r"^lam must be in \[0, 1\), not 1.0$"):
        filtered(s, 1.0)


def test_ridge_recovers_a_linear_map():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5))
    y = x @ np.array([1.0, -2.0, 0.0, 0.5, 3.0]) + 4.0
    assert np.allclose(ridge_predict(ridge_fit(x, y, 1e-6), x), y, atol=1e-4)


def test_memory_capacity_of_a_delay_line_counts_its_taps():
    u = np.random.default_rng(1).integers(0, 16, 3000).astype(float)
    taps = np.stack([np.roll(u, k) for k in range(1, 4)], axis=1)  # u[t-1], u[t-2], u[t-3]
    mc = memory_capacity(taps, u, max_delay=10, alpha=1e-6)
    assert mc["r2"][:3] == pytest.approx([1, 1, 1])
    assert mc["mc"] == pytest.approx(3.0, abs=0.05)


def test_digits_rows_are_steps_and_the_split_is_the_examples():
    d = digits_split()
    x = digits_series(d["pixels"])
    assert x.shape == (1797, 8, 8) and x.min() == 0 and x.max() == 15
    assert np.array_equal(x[:, 2], np.floor(d["pixels"].reshape(-1, 8, 8)[:, 2] * 15 / 16 + 0.5))
    test = np.load(DIGITS.parent / "digits_test.npz")["index"]
    assert np.array_equal(d["test"], test) and len(d["train"]) == 1437


# -- TinyTapeout project and gate level ----------------------------------------------------------

import json  # noqa: E402
import re  # noqa: E402

from neurotile.output import write_tree  # noqa: E402
from neurotile.tapeout.adapters import get_adapter  # noqa: E402
from neurotile.tapeout.check import check_project  # noqa: E402
from neurotile.tapeout.project import AreaEstimate, generate, run_make  # noqa: E402
from tests.planting import plant_wrong_read, sample_count  # noqa: E402

TT = {"neurons": 8, "density": 0.3}


def _estimate(verilog: str, top: str) -> AreaEstimate:
    return AreaEstimate(9_000.0, 1000, 100, "fixed estimate for tests")


@pytest.fixture(scope="module")
def tt_project(tmp_path_factory):
    project = generate(get_adapter("reservoir"), TT | {"seed": 2}, estimator=_estimate)
    return write_tree(tmp_path_factory.mktemp("tt") / "res", project.files, force=False)


def test_project_passes_the_rules_and_the_seed_draws_the_weights(tt_project):
    assert check_project(tt_project) == []
    manifest = json.loads((tt_project / "neurotile.json").read_text())
    assert manifest["params"]["seed"] == 2 and manifest["common"]["seed"] == 2
    other = generate(get_adapter("reservoir"), TT | {"seed": 3}, estimator=_estimate)
    mine = (tt_project / "src" / f"{other.top}.v").read_text()
    assert other.files[f"src/{other.top}.v"] != mine
    # The test replays digits test images (8 inputs) and checks every neuron's count.
    ops = json.loads((tt_project / "test" / "vectors.json").read_text())["ops"]
    assert sum(op[0] == "R" and op[3].endswith("count") for op in ops) == 3 * 8


def test_too_many_neurons_for_the_registers_is_one_line(tmp_path, capsys):
    assert main(["tapeout", "reservoir", "--neurons", "40", "-o", str(tmp_path / "p")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].endswith("reservoir: neurons must be at most 27 for the TinyTapeout project "
                            "(one spike-count register per neuron, 32 addresses), not 40")
    assert not (tmp_path / "p").exists()


@pytest.mark.sim
def test_projects_test_passes_and_a_planted_count_fails(tt_project, tmp_path):
    result = run_make(tt_project)
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"\d+ reads checked in \d+ cycles, 0 mismatches", result.stdout)
    broken = tmp_path / "broken"
    label = plant_wrong_read(tt_project, broken, sample_count)
    result = run_make(broken)
    assert result.returncode != 0 and "FAIL=1" in result.stdout
    assert "1 of " in result.stdout and label in result.stdout


@pytest.mark.flows
@pytest.mark.parametrize("plant", [None, (1, 2, 4)])
def test_gate_level_netlist_matches_the_model_and_a_planted_error_is_caught(build_root, plant):
    from neurotile.flows.synth import synthesize
    from neurotile.testbench.network_bulk import network_design

    p = ReservoirParams(neurons=8, inputs=3, density=0.3, seed=4)
    verilog, top, _ = network_design(reservoir_network(p), "constant")  # the checker's top
    work = build_root / "reservoir-gl" / top
    netlist = work / "synth" / f"{top}.gl.v"
    if not netlist.is_file():
        work.mkdir(parents=True, exist_ok=True)
        (work / f"{top}.v").write_text(verilog)
        synthesize([work / f"{top}.v"], top=top, work_dir=work / "synth")
    report = check_reservoir(p, sim="icarus", samples=3, sample_steps=5, seed=1,
                             build_dir=work / "bulk", netlist=netlist, plant=plant)
    assert report["spikes"] > 0
    assert report["passed"], report["first_mismatches"][:3]


# -- benchmark -----------------------------------------------------------------------------------

def test_bench_writes_tables_and_figure(tmp_path, capsys):
    from neurotile.bench.reservoir import main as bench

    assert bench(["--sizes", "8", "--rtl-sizes", "--area-sizes", "--out", str(tmp_path)]) == 0
    table = (tmp_path / "reservoir.md").read_text()
    assert "| readout | no reservoir | N = 8 |" in table and "| 8 | " in table
    assert (tmp_path / "reservoir.png").stat().st_size > 10_000
    data = json.loads((tmp_path / "reservoir.json").read_text())
    assert 0.5 < data["digits"]["baseline_all"]["test_accuracy"] <= 1.0
    assert data["memory"]["8"]["mc"] >= 0.0
