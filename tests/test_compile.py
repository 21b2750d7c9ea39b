# SPDX-License-Identifier: Apache-2.0
"""``neurotile compile`` on the shipped digits networks (examples/digits, exported by snnTorch).

The float reference must reproduce snnTorch's own output spike counts on every sample; the
quantised network must stay within half a point of the float accuracy; the command must check
its RTL spike for spike and refuse bad input in one line with nothing written.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("nir")

from neurotile.compiler.floatsim import simulate  # noqa: E402
from neurotile.compiler.graph import read_graph  # noqa: E402
from neurotile.compiler.quantise import QuantOptions, quantise  # noqa: E402
from neurotile.neurons.network import run_network  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DIGITS = ROOT / "examples" / "digits"
#: Every (network, data) pair the golden file holds snnTorch's counts for.
GOLDEN = [("lif", "digits_test"), ("lif", "digits_all"), ("cuba", "digits_test"),
          ("cuba", "digits_all"), ("recurrent", "digits_test"), ("recurrent", "digits_all"),
          ("lif-spikes", "digits_spikes_test")]


def data(name: str) -> tuple[np.ndarray, np.ndarray]:
    with np.load(DIGITS / f"{name}.npz") as d:
        return d["inputs"], d["labels"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "neurotile", *args], capture_output=True,
                          text=True, cwd=cwd, timeout=900)


@pytest.mark.parametrize("net,dataset", GOLDEN)
def test_float_reference_equals_snntorch_on_every_sample(net, dataset):
    graph = read_graph(DIGITS / f"digits_{net}.nir")
    x, _ = data(dataset)
    with np.load(DIGITS / "golden.npz") as g:
        want = g[f"{net}_{dataset}_counts"]
    got = simulate(graph, x).counts
    differ = np.flatnonzero((got != want).any(axis=1))
    assert len(differ) == 0, f"{len(differ)} samples differ from snnTorch, first {differ[:5]}"


def test_scalar_parameters_read_like_per_neuron_ones():
    x, _ = data("digits_test")
    a = simulate(read_graph(DIGITS / "digits_lif.nir"), x[:50]).counts
    b = simulate(read_graph(DIGITS / "digits_lif_scalar.nir"), x[:50]).counts
    assert (a == b).all()


def test_reading_as_snntorch_import_does_changes_the_answers():
    # snnTorch's own importer reads the graph with a reset to zero and no delay; the counts
    # then differ from the trained network's on many samples: the options matter.
    x, _ = data("digits_test")
    graph = read_graph(DIGITS / "digits_lif.nir", reset="zero", reset_delay=False)
    with np.load(DIGITS / "golden.npz") as g:
        want = g["lif_digits_test_counts"]
    assert (simulate(graph, x).counts != want).any(axis=1).mean() > 0.2


@pytest.mark.parametrize("net,dataset", [("lif", "digits_test"), ("lif", "digits_all"),
                                         ("lif-spikes", "digits_spikes_test")])
def test_eight_bit_weights_keep_the_accuracy_within_half_a_point(net, dataset):
    graph = read_graph(DIGITS / f"digits_{net}.nir")
    x, y = data(dataset)
    f = simulate(graph, x)
    q = quantise(graph, f, x, QuantOptions(weight_bits=8, membrane_bits=16))
    r = run_network(q.network, q.encode(x))
    drop = 100 * (np.mean(f.classes == y) - np.mean(r.classes == y))
    assert drop <= 0.5, f"{drop:.2f} points lost"


def subset(tmp_path: Path, name: str, n: int) -> Path:
    x, y = data(name)
    path = tmp_path / f"{name}_{n}.npz"
    np.savez(path, inputs=x[:n], labels=y[:n])
    return path


@pytest.mark.sim
def test_compile_checks_the_rtl_and_writes_the_report(tmp_path, build_root):
    d = subset(tmp_path, "digits_spikes_test", 30)
    out = tmp_path / "out"
    res = run("compile", str(DIGITS / "digits_lif-spikes.nir"), "--data", str(d), "-o",
              str(out), "--no-synth", "--icarus-samples", "3", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    for key in ("float_accuracy", "integer_accuracy", "rtl_accuracy", "rtl_matches_integer",
                "area_um2", "tile", "cycles_per_sample"):
        assert key in report
    assert report["rtl_matches_integer"] == 1.0
    assert report["rtl_checks"]["verilator"]["samples"] == 30
    assert report["rtl_checks"]["icarus"]["samples"] == 3
    assert all(c["mismatches"] == 0 for c in report["rtl_checks"].values())
    assert report["conventions"] == {"reset": "subtract", "reset_delay": True, "dt": 1e-4}
    names = {p.name for p in out.iterdir()}
    assert {"report.json", "report.md", "predictions.npz", "network.json",
            f"{report['top']}.v"} <= names
    with np.load(out / "predictions.npz") as p:
        assert (p["rtl"] == p["integer"]).all() and len(p["float"]) == 30
    assert "| accuracy |" in (out / "report.md").read_text()
    # Progress goes to stderr, one line per stage, except with --json (stderr stays quiet).
    assert "checking the RTL on verilator" not in res.stderr


def test_max_drop_searches_and_prints_its_table(tmp_path):
    d = subset(tmp_path, "digits_test", 120)
    out = tmp_path / "out"
    res = run("compile", str(DIGITS / "digits_lif.nir"), "--data", str(d), "-o", str(out),
              "--no-synth", "--no-verify", "--max-drop", "1", "--json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    rows = report["width_search"]
    assert rows and rows[-1]["drop_pp"] is not None
    assert any(r["ok"] for r in rows) and any(not r["ok"] for r in rows)
    assert 100 * (report["float_accuracy"] - report["integer_accuracy"]) <= 1 + 1e-9
    assert res.stderr == ""  # --json keeps stderr quiet; the searched table is in the report


@pytest.mark.parametrize("case,message", [
    ("not_nir", "is not a NIR graph file"),
    ("missing", "no such file"),
    ("data_shape", "does not fit the graph"),
    ("data_keys", "has no 'labels'"),
    ("max_drop", "--max-drop must be between"),
    ("weight_bits", "weight bits must be an integer from 2 to 16"),
    ("storage", "--storage latch holds weights the host writes, but constant weights are logic "
                "(ROMs); add --weights programmable or drop --storage latch"),
    ("layout", "--layout dense holds weights the host writes, but constant weights are logic "
               "(ROMs); add --weights programmable or drop --layout dense"),
    ("dense_memory", "--layout dense needs --storage latch (the default with --weights "
                     "programmable); drop --storage memory or --layout dense"),
])
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, case, message):
    nir_file = DIGITS / "digits_lif.nir"
    d = subset(tmp_path, "digits_test", 5)
    extra: list[str] = []
    if case == "not_nir":
        nir_file = tmp_path / "x.nir"
        nir_file.write_text("hello\n")
    elif case == "missing":
        nir_file = tmp_path / "absent.nir"
    elif case == "data_shape":
        np.savez(d, inputs=np.zeros((5, 20, 63), np.float32), labels=np.zeros(5, np.int64))
    elif case == "data_keys":
        np.savez(d, inputs=np.zeros((5, 20, 64), np.float32))
    elif case == "max_drop":
        extra = ["--max-drop", "-3"]
    elif case == "weight_bits":
        extra = ["--weight-bits", "40"]
    elif case == "storage":
        extra = ["--storage", "latch"]
    elif case == "layout":
        extra = ["--layout", "dense"]
    elif case == "dense_memory":
        extra = ["--weights", "programmable", "--storage", "memory", "--layout", "dense"]
    out = tmp_path / "out"
    res = run("compile", str(nir_file), "--data", str(d), "-o", str(out), "--no-synth",
              "--no-verify", *extra, cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    lines = [ln for ln in res.stderr.splitlines() if ln.startswith("neurotile: error:")]
    assert len(lines) == 1 and message in lines[0], res.stderr
    assert not out.exists()


def test_equal_networks_give_byte_identical_verilog():
    from neurotile.rtl.network import network_verilog

    graph = read_graph(DIGITS / "digits_lif-spikes.nir")
    x, _ = data("digits_spikes_test")
    texts = []
    for _ in range(2):
        f = simulate(graph, x)
        q = quantise(graph, f, x, QuantOptions())
        texts.append(network_verilog(q.network, weights="constant")[0])
    assert texts[0] == texts[1]


@pytest.mark.flows
def test_gate_level_netlist_runs_real_samples_and_a_planted_error_is_caught(build_root):
    from neurotile.compiler.pipeline import CompileOptions, compile_network
    from neurotile.testbench.network_bulk import assert_network_found, run_network_bulk

    x, y = data("digits_spikes_test")
    d = build_root / "compile-gl" / "data.npz"
    d.parent.mkdir(parents=True, exist_ok=True)
    np.savez(d, inputs=x[:12], labels=y[:12])
    options = CompileOptions(quant=QuantOptions(weight_bits=5, membrane_bits=10),
                             verify=("verilator",), gate_samples=2)
    result = compile_network(DIGITS / "sizes" / "digits_lif-spikes_h8.nir", d, options,
                             build_dir=build_root / "compile-gl")
    r = result.report
    assert r["rtl_checks"]["gate-level"]["samples"] == 2
    assert r["rtl_checks"]["gate-level"]["mismatches"] == 0
    assert r["area_um2"] > 0 and r["tile"] is not None
    netlist = build_root / "compile-gl" / r["top"] / "synth" / f"{r['top']}.gl.v"
    assert netlist.is_file()
    # The same comparison with one expected spike flipped: exactly that mismatch is reported.
    xi = result.quantised.encode(x[:1])
    report = run_network_bulk(result.quantised.network, xi, sim="icarus", weights="constant",
                              build_dir=build_root / "compile-gl" / "plant", netlist=netlist,
                              plant=(0, 4, 3))
    assert_network_found(report, (0, 4, 3))


def test_programmable_weights_take_the_layout_that_stores_fewer_bits(tmp_path):
    """Without --layout, latch-stored weights take the layout of fewer bits: dense for the
    almost full digits matrices, CSR once the weights are pruned; flip-flops CSR; the report
    says which and why, and an explicit --layout is kept."""
    from neurotile.compiler.pipeline import CompileOptions, compile_network

    x, y = data("digits_spikes_test")
    d = tmp_path / "data.npz"
    np.savez(d, inputs=x[:4], labels=y[:4])
    net = DIGITS / "sizes" / "digits_lif-spikes_h8.nir"

    def report(**options):
        r = compile_network(net, d, CompileOptions(weights="programmable", verify=(),
                                                   synth=False, **options),
                            build_dir=tmp_path / "build").report
        return r["layout"], r["layout_reason"], r["weight_bits"]

    layout, reason, bits = report()
    assert layout == "dense" and "fewer bits" in reason and bits["dense"] < bits["csr"]
    assert report(layout="csr")[:2] == ("csr", "as asked")
    assert report(storage="memory")[:2] == ("csr", "the only layout of flip-flop memories")
    # Most weights pruned away (rounded to zero at 2 bits): CSR is the smaller.
    pruned = report(quant=QuantOptions(weight_bits=2, membrane_bits=10))
    assert pruned[2]["csr"] < pruned[2]["dense"]
    assert pruned[:2] == ("csr", "the one that stores fewer bits")
