# SPDX-License-Identifier: Apache-2.0
"""``neurotile flow NET.nir``: a trained network becomes a checked TinyTapeout project.

End to end on the smallest shipped digits network (64-8-10 LIF on spike input): compile, the
project (network behind the register interface, sized in Sky130 cells), TinyTapeout's rules and
the project's own cocotb test streaming real samples on the RTL and on the gate-level netlist;
the test's expectations are the integer model's; a planted error makes the test fail. Bad input
is refused in one line with nothing written.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

pytest.importorskip("nir")

import nir  # noqa: E402

from neurotile.cli import main  # noqa: E402
from neurotile.commands.flow_network import NETWORK, route  # noqa: E402
from neurotile.errors import UsageError  # noqa: E402
from neurotile.tapeout.adapters import adapters  # noqa: E402
from neurotile.tapeout.check import check_project  # noqa: E402
from neurotile.tapeout.network import check_fits, register_bytes  # noqa: E402
from neurotile.tapeout.project import run_make  # noqa: E402
from tests.planting import plant_wrong_read, sample_count  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DIGITS = ROOT / "examples" / "digits"
H8 = DIGITS / "sizes" / "digits_lif-spikes_h8.nir"
#: Widths given rather than searched, so the test's network is fixed.
WIDTHS = ("--weight-bits", "5", "--membrane-bits", "10")
TEST_SAMPLES = 3


def subset(folder: Path, n: int) -> Path:
    with np.load(DIGITS / "digits_spikes_test.npz") as d:
        x, y = d["inputs"][:n], d["labels"][:n]
    path = folder / f"spikes_{n}.npz"
    np.savez(path, inputs=x, labels=y)
    return path


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "neurotile", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=900)


# -- end to end ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def flow_run(tmp_path_factory, build_root):
    folder = tmp_path_factory.mktemp("flownet")
    data = subset(folder, 24)
    out = folder / "project"
    res = run("flow", str(H8), "--data", str(data), "-o", str(out), *WIDTHS,
              "--icarus-samples", "2", "--no-synth", "--test-samples", str(TEST_SAMPLES),
              "--name", "digits8", "--work-dir", str(build_root / "flow-network"), cwd=folder)
    return res, out, data


@pytest.mark.sim
@pytest.mark.flows
def test_flow_compiles_writes_checks_and_tests_on_rtl_and_gates(flow_run):
    res, out, _ = flow_run
    assert res.returncode == 0, res.stdout + res.stderr[-3000:]
    lines = res.stdout.splitlines()
    # One line per stage, in order.
    stages = [ln.split(":")[0] for ln in lines]
    assert stages == ["compile", "project", "timing sanity check", "check", "test (RTL, Icarus)",
                      "test (gate level, Icarus)", "flow"], res.stdout
    assert "verilator 24 samples 0 mismatches, icarus 2 samples 0 mismatches" in lines[0]
    assert lines[2].endswith("(not signoff: TinyTapeout's GDS workflow runs static timing)")
    assert lines[3] == "check: passed (TinyTapeout rules)"
    assert lines[4].startswith(f"test (RTL, Icarus): passed, {TEST_SAMPLES} samples")
    assert lines[5].startswith(f"test (gate level, Icarus): passed, {TEST_SAMPLES} samples")
    assert (out / "test" / "sim_build" / "gl" / "sim.vvp").is_file()
    assert check_project(out) == []

    # Tiles from the measured area of the whole top.
    match = re.search(r"area: ([\d,]+) um\^2 in \d+ cells .*; tile (\w+) at (\d+)%", lines[1])
    assert match, lines[1]
    manifest = json.loads((out / "neurotile.json").read_text())
    info = yaml.safe_load((out / "info.yaml").read_text())
    assert info["project"]["tiles"] == manifest["area"]["tile"] == match.group(2)
    assert info["project"]["top_module"] == "tt_um_digits8" == manifest["top"]
    assert manifest["block"] == "network"

    # The compile's report, with the project's figures.
    report = json.loads((out / "neurotile" / "report.json").read_text())
    assert report["rtl_matches_integer"] == 1.0 and report["widths"] == "w5 m10"
    t = report["tapeout"]
    assert t["tile"] == match.group(2) and t["top"] == "tt_um_digits8"
    assert f"{t['area_um2']:,.0f}" == match.group(1)
    assert t["registers"] == 14 and t["test_samples"] == TEST_SAMPLES
    assert "## TinyTapeout project" in (out / "neurotile" / "report.md").read_text()
    assert (out / "neurotile" / "network.json").is_file()

    # The documentation: pins, protocol, the network and its accuracy.
    doc = (out / "docs" / "info.md").read_text()
    for text in ("`EVENT`", "`CLS`", "`COUNT9`", "| 0x0D | `COUNT9` |", "bit 6 (END)",
                 "bit 7 (LAST)", "64-8-10", "| lif |", "integer network",
                 f"{100 * report['integer_accuracy']:.2f}%", "`uio[6]`"):
        assert text in doc, text
    readme = (out / "README.md").read_text()
    assert ("neurotile flow digits_lif-spikes_h8.nir --data spikes_24.npz --weight-bits 5 "
            "--membrane-bits 10 --name digits8 --test-samples 3 -o <dir>") in readme
    assert str(out) not in readme
    test_doc = " ".join((out / "test" / "README.md").read_text().split())
    assert f"the first {TEST_SAMPLES} samples of `spikes_24.npz`, every one of their 20 steps" \
        in test_doc


@pytest.mark.sim
@pytest.mark.flows
def test_the_test_expects_the_integer_model_on_real_samples(flow_run):
    from neurotile.compiler.floatsim import simulate
    from neurotile.compiler.graph import read_graph
    from neurotile.compiler.quantise import QuantOptions, quantise
    from neurotile.neurons.network import run_network

    res, out, data = flow_run
    assert res.returncode == 0, res.stderr[-3000:]
    vectors = json.loads((out / "test" / "vectors.json").read_text())
    reads = {op[3]: op[2] for op in vectors["ops"] if op[0] == "R"}
    # Recompute independently: the same graph, data and widths.
    graph = read_graph(H8)
    with np.load(data) as d:
        x, y = d["inputs"], d["labels"]
    q = quantise(graph, simulate(graph, x), x, QuantOptions(weight_bits=5, membrane_bits=10))
    xi = q.encode(x[:TEST_SAMPLES])
    r = run_network(q.network, xi)
    for n in range(TEST_SAMPLES):
        name = f"sample {n} (label {y[n]})"
        assert reads[f"{name} class"] == r.classes[n]
        assert reads[f"{name} result ready"] == 1
        for i in range(10):
            assert reads[f"{name} output {i} count"] == r.counts[n, i]
    assert r.counts.sum() > 0 and vectors["meta"]["reads"] == 13 + TEST_SAMPLES * 13
    # Every step of every sample goes through the pins: one EVENT write per event and marker.
    writes = sum(1 for op in vectors["ops"] if op[0] == "W")
    assert writes == int(np.count_nonzero(xi)) + TEST_SAMPLES * xi.shape[1]


@pytest.mark.sim
@pytest.mark.flows
def test_a_planted_error_in_the_vectors_fails_the_projects_test(flow_run, tmp_path):
    res, out, _ = flow_run
    assert res.returncode == 0, res.stderr[-3000:]
    broken = tmp_path / "broken"
    label = plant_wrong_read(out, broken, sample_count)
    result = run_make(broken)
    assert result.returncode != 0
    assert "FAIL=1" in result.stdout
    assert "1 of " in result.stdout and label in result.stdout


@pytest.mark.sim
def test_a_recurrent_network_with_multi_bit_input_streams_through_the_pins(tmp_path):
    """Two-byte events, and a recurrent layer that holds its marker until the previous step's
    spikes are replayed: the project's test passes on the RTL (area not measured here)."""
    from neurotile.compiler.floatsim import simulate
    from neurotile.compiler.graph import read_graph
    from neurotile.compiler.quantise import QuantOptions, quantise
    from neurotile.output import write_tree
    from neurotile.tapeout.network import network_adapter
    from neurotile.tapeout.project import AreaEstimate, generate

    graph = read_graph(DIGITS / "digits_recurrent.nir")
    with np.load(DIGITS / "digits_test.npz") as d:
        x, y = d["inputs"][:2], d["labels"][:2]
    q = quantise(graph, simulate(graph, x), x, QuantOptions(weight_bits=6, membrane_bits=12))
    assert q.network.layers[0].recurrent and q.network.input_width == 4
    adapter = network_adapter(q, q.encode(x), y, source="digits_recurrent.nir")
    project = generate(adapter, {"name": "rec"}, estimator=lambda verilog, top: AreaEstimate(
        90_000.0, 1, 1, "fixed estimate for tests"))
    assert project.regmap["EVENT"].nbytes == 2
    out = write_tree(tmp_path / "rec", project.files, force=False)
    assert check_project(out) == []
    result = run_make(out)
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"\d+ reads checked in \d+ cycles, 0 mismatches", result.stdout)


# -- routing -------------------------------------------------------------------------------------

def test_a_path_goes_to_the_network_flow_and_a_block_stays_a_block(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "lif").write_text("a file named like a block\n")
    (tmp_path / "net.h5").write_text("x\n")
    assert route(["flow", "a/b.nir", "-o", "x"]) == ["flow", NETWORK, "a/b.nir", "-o", "x"]
    assert route(["flow", "net.h5"]) == ["flow", NETWORK, "net.h5"]
    assert route(["flow", "lif", "-o", "x"]) == ["flow", "lif", "-o", "x"]
    assert route(["flow", "--help"]) == ["flow", "--help"]
    assert route(["flow", NETWORK, "--help"]) == ["flow", NETWORK, NETWORK, "--help"]
    assert route(["tapeout", "a.nir"]) == ["tapeout", "a.nir"]
    assert route(["compile", "a.nir"]) == ["compile", "a.nir"]


def test_help_lists_the_network_form_for_flow_only(capsys):
    with pytest.raises(SystemExit):
        main(["flow", "--help"])
    assert NETWORK in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["tapeout", "--help"])
    text = capsys.readouterr().out
    assert NETWORK not in text
    assert "network" not in adapters()
    with pytest.raises(SystemExit):
        main(["flow", "some.nir", "--help"])
    text = capsys.readouterr().out
    assert "--test-samples" in text and "--data" in text and "--no-gates" in text


# -- bad input: one line, exit 2, nothing written -----------------------------------------------

def write_graph(path: Path, inputs: int, outputs: int, *, threshold: bool = False) -> Path:
    """A one-layer LIF graph; with ``threshold`` a node neurotile does not map."""
    rng = np.random.default_rng(0)
    zeros, ones = np.zeros(outputs, np.float32), np.ones(outputs, np.float32)
    nodes = {
        "input": nir.Input(np.array([inputs])),
        "fc": nir.Linear(weight=rng.normal(0, 1, (outputs, inputs)).astype(np.float32)),
        "lif": nir.LIF(tau=np.full(outputs, 1e-3, np.float32), r=np.full(outputs, 10, np.float32),
                       v_leak=zeros, v_threshold=ones, v_reset=zeros),
        "output": nir.Output(np.array([outputs])),
    }
    edges = [("input", "fc"), ("fc", "lif"), ("lif", "output")]
    if threshold:
        nodes["th"] = nir.Threshold(threshold=ones)
        edges = [("input", "fc"), ("fc", "lif"), ("lif", "th"), ("th", "output")]
    nir.write(str(path), nir.NIRGraph(nodes=nodes, edges=edges, type_check=False))
    return path


def write_data(path: Path, inputs: int, classes: int, samples: int = 5) -> Path:
    rng = np.random.default_rng(1)
    x = (rng.random((samples, 4, inputs)) < 0.5).astype(np.float32)
    np.savez(path, inputs=x, labels=np.arange(samples) % classes)
    return path


def refused(tmp_path: Path, monkeypatch, capsys, *args: str) -> str:
    """Run ``neurotile ARGS`` in ``tmp_path``; check it is refused and wrote nothing there."""
    monkeypatch.chdir(tmp_path)
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    capsys.readouterr()
    assert main(list(args)) == 2
    captured = capsys.readouterr()
    lines = [ln for ln in captured.err.splitlines() if ln.startswith("neurotile: error: ")]
    assert len(lines) == 1 and "Traceback" not in captured.err, captured.err
    assert captured.out == ""
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before
    return lines[0].removeprefix("neurotile: error: ")


def test_an_unsupported_node_is_refused(tmp_path, monkeypatch, capsys):
    net = write_graph(tmp_path / "th.nir", 4, 3, threshold=True)
    data = write_data(tmp_path / "d.npz", 4, 3)
    line = refused(tmp_path, monkeypatch, capsys, "flow", str(net), "--data", str(data),
                   "-o", "out")
    assert "node 'th' is a Threshold, which neurotile does not map to hardware" in line


def test_programmable_weights_are_refused(tmp_path, monkeypatch, capsys):
    data = write_data(tmp_path / "d.npz", 64, 10)
    line = refused(tmp_path, monkeypatch, capsys, "flow", str(H8), "--data", str(data),
                   "-o", "out", "--weights", "programmable")
    assert line.startswith("the TinyTapeout project of a network takes constant weights")


@pytest.mark.parametrize("flag,value", [("--storage", "latch"), ("--layout", "dense")])
def test_latch_storage_and_the_dense_layout_are_refused(tmp_path, monkeypatch, capsys, flag,
                                                         value):
    data = write_data(tmp_path / "d.npz", 64, 10)
    line = refused(tmp_path, monkeypatch, capsys, "flow", str(H8), "--data", str(data),
                   "-o", "out", flag, value)
    assert line == (f"the TinyTapeout project of a network takes constant weights (ROMs in "
                    f"logic), which have no {flag}; drop {flag} {value} (neurotile compile "
                    f"--weights programmable {flag} {value} writes the Verilog)")


@pytest.mark.sim
@pytest.mark.flows
@pytest.mark.parametrize("layout", ["csr", "dense"])
def test_programmable_weights_in_latches_at_gate_level(tmp_path, build_root, layout):
    """The compile stage with programmable weights (latch storage, the default for them):
    the RTL on Icarus and the synthesised netlist (latches and clock gates kept as Sky130
    cells) on the cells' models, every spike, count and class against the integer network;
    the same gate-level run with one expected spike flipped reports exactly that spike."""
    from neurotile.compiler.pipeline import CompileOptions, compile_network
    from neurotile.testbench.network_bulk import assert_network_found, run_network_bulk

    graph = write_graph(tmp_path / "small.nir", 6, 4)
    data = write_data(tmp_path / "d.npz", 6, 4, samples=6)
    options = CompileOptions(weights="programmable", layout=layout, verify=("icarus",),
                             gate_samples=6)
    work = build_root / "compile-latch"
    result = compile_network(graph, data, options, build_dir=work)
    r = result.report
    assert (r["weights"], r["storage"], r["layout"]) == ("programmable", "latch", layout)
    checks = r["rtl_checks"]
    assert checks["icarus"]["samples"] == checks["gate-level"]["samples"] == 6
    assert checks["icarus"]["mismatches"] == checks["gate-level"]["mismatches"] == 0
    assert r["layers"][0]["integer_spike_rate"] > 0.1
    netlist = work / r["top"] / "synth" / f"{r['top']}.gl.v"
    assert "sky130_fd_sc_hd__dlxtp_1" in netlist.read_text()
    x = result.quantised.encode(np.load(data)["inputs"])
    spikes = np.argwhere(result.integer.spikes[-1])
    plant = tuple(int(v) for v in spikes[len(spikes) // 2])
    report = run_network_bulk(result.quantised.network, x, sim="icarus",
                              weights="programmable", storage="latch", layout=layout,
                              build_dir=work / "plant", netlist=netlist, plant=plant)
    assert_network_found(report, plant)


def test_a_network_whose_registers_do_not_fit_is_refused(tmp_path, monkeypatch, capsys):
    net = write_graph(tmp_path / "wide.nir", 4, 30)
    data = write_data(tmp_path / "d.npz", 4, 30)
    line = refused(tmp_path, monkeypatch, capsys, "flow", str(net), "--data", str(data),
                   "-o", "out")
    assert line == ("the network's 30 outputs need 34 register addresses (30 for the spike "
                    "counts, 4 for ID, EVENT, STATUS and CLS) but the TinyTapeout host interface "
                    "has 32; at most 28 outputs fit, so train a network with fewer classes or "
                    "output neurons")


@pytest.mark.parametrize("case,message", [
    ("missing", "no such file; give the path of a .nir graph"),
    ("samples", "--test-samples must be from 1 to 5 (the samples in"),
    ("name", "--name must be letters, digits and '_' starting with a letter"),
    ("data", "does not fit the graph"),
])
def test_other_bad_input_is_refused(tmp_path, monkeypatch, capsys, case, message):
    net, data = str(H8), str(write_data(tmp_path / "d.npz", 64, 10))
    extra: list[str] = []
    if case == "missing":
        net = str(tmp_path / "absent.nir")
    elif case == "samples":
        extra = ["--test-samples", "6"]
    elif case == "name":
        extra = ["--name", "9 lives"]
    elif case == "data":
        data = str(write_data(tmp_path / "d63.npz", 63, 10))
    line = refused(tmp_path, monkeypatch, capsys, "flow", net, "--data", data, "-o", "out",
                   *extra)
    assert message in line


def test_register_count():
    # ID, EVENT (1 byte for 64 binary inputs; 2 with 4-bit values), STATUS, CLS, 10 counts.
    assert register_bytes(64, 10) == 14
    assert register_bytes(64, 10, input_width=4) == 15
    assert register_bytes(64, 28) == 32
    check_fits(64, 28)
    with pytest.raises(UsageError, match="at most 28 outputs fit"):
        check_fits(64, 29)
