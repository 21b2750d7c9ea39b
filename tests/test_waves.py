# SPDX-License-Identifier: Apache-2.0
"""``WAVES=1`` (or ``--waves``) records waveforms on Icarus and Verilator, on the bulk and the
cycle path, says where the file is and puts a GTKWave layout beside it whose signals are in the
dump; ``--plot`` draws the RTL's own recording."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neurotile.neurons.spec import models, run_model
from neurotile.rtl.population import Population, datapath_for
from neurotile.rtl.export import port_list
from neurotile.testbench.waves import bulk_scope, cocotb_scope, gtkw_signals, gtkw_text

ROOT = Path(__file__).resolve().parent.parent
PORTS = [{"name": "current__payload", "direction": "input", "width": 8, "signed": True},
         {"name": "output__valid", "direction": "output", "width": 1, "signed": False}]


def dumped(wave: Path) -> dict[str, int]:
    """Every variable of a wave file (full name -> bits), read with pywellen."""
    pywellen = pytest.importorskip("pywellen")
    return {v.full_name: v.bitwidth for v in pywellen.Waveform(str(wave)).all_vars()}


def layout_signals(gtkw: Path) -> list[tuple[str, int]]:
    """``(name, bits)`` of the traces a .gtkw file shows (``scope.port[w-1:0]``)."""
    out = []
    for line in gtkw.read_text().splitlines():
        if line and line[0] not in "[@-":
            m = re.fullmatch(r"(.*?)(?:\[(\d+):0\])?", line)
            out.append((m.group(1), int(m.group(2) or 0) + 1))
    return out


def test_layout_lists_clock_reset_and_ports_by_direction(tmp_path):
    text = gtkw_text(tmp_path / "run.fst", "nt_bulk.dut", PORTS)
    assert f'[dumpfile] "{(tmp_path / "run.fst").resolve()}"' in text
    assert "[treeopen] nt_bulk.dut." in text
    assert [name for _, name, _ in gtkw_signals("nt_bulk.dut", PORTS)] == [
        "nt_bulk.dut.clk", "nt_bulk.dut.rst", "nt_bulk.dut.current__payload[7:0]",
        "nt_bulk.dut.output__valid"]
    assert text.index("-inputs") < text.index("current__payload") < text.index("-outputs")
    assert (bulk_scope("icarus"), bulk_scope("verilator")) == ("nt_bulk.dut", "TOP.nt_bulk.dut")
    assert cocotb_scope("verilator", "top") == "top"


@pytest.mark.sim
@pytest.mark.parametrize("sim, suffix", [("icarus", ".fst"), ("verilator", ".vcd")])
@pytest.mark.parametrize("path", ["bulk", "cycle"])
def test_waves_are_recorded_with_a_layout_of_signals_in_the_dump(sim, suffix, path, tmp_path):
    env = dict(os.environ, WAVES="1")
    args = ["simulate", "lif", "--sim", sim, "--neurons", "4", "--steps", "6", "--seed", "3"]
    if path == "cycle":
        args.append("--no-bulk")
    else:
        env.pop("WAVES")
        args.append("--waves")  # the option, as WAVES=1
        if sim == "icarus":
            args += ["--plot", str(tmp_path / "run.png")]
    res = subprocess.run([sys.executable, "-m", "neurotile", *args],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)
    assert res.returncode == 0, res.stderr
    assert "0 mismatches" in res.stdout
    found = re.search(r"waves: (\S+)\)", res.stdout)
    assert found, res.stdout
    wave = Path(found.group(1))
    assert wave.suffix == suffix and wave.is_file() and wave.stat().st_size > 0
    assert ("/bulk/" in str(wave)) == (path == "bulk")
    gtkw = wave.with_suffix(".gtkw")
    shown = layout_signals(gtkw)
    config = models()["lif"](neurons=4)
    ports = port_list(Population(config, datapath=datapath_for("lif")))
    assert len(shown) == len(ports) + 2  # clk, rst and every port
    have = dumped(wave)
    missing = [(name, bits) for name, bits in shown if have.get(name) != bits]
    assert not missing, f"{gtkw} shows signals {wave.name} does not hold: {missing}"
    if path == "bulk" and sim == "icarus":
        assert (tmp_path / "run.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.sim
def test_model_plot_draws_the_rtls_recording_of_the_same_stimulus(tmp_path):
    from neurotile.plots import codes_of
    from neurotile.testbench.check import record_population

    config = models()["lif"](neurons=4)
    rng = np.random.default_rng(7)
    currents = rng.uniform(-10, 60, (40, 4))
    rtl, report = record_population(config, codes_of(config, currents), sim="icarus",
                                    build_dir=tmp_path)
    raw, _ = run_model(config, codes_of(config, currents))
    assert report["mismatches"] == 0 and report["updates"] == 160
    for name, values in raw.items():
        np.testing.assert_array_equal(rtl[name], np.asarray(values, np.int64))
    # the command: the RTL trace drawn, exit 0 when it matches
    out = tmp_path / "lif.png"
    res = subprocess.run([sys.executable, "-m", "neurotile", "model", "lif", "--current", "30",
                          "--steps", "30", "--neurons", "4", "--plot", str(out), "--sim",
                          "icarus", "--build-dir", str(tmp_path / "b")],
                         capture_output=True, text=True, cwd=ROOT, timeout=900)
    assert res.returncode == 0, res.stderr
    assert f"picture: {out}" in res.stdout and out.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.sim
def test_hh_model_plot_records_the_neurons_rtl(tmp_path):
    from neurotile.blocks import blocks
    from neurotile.plots import codes_of

    config = models()["hh"](neurons=1)
    currents = np.full((60, 1), 12.0)
    currents[:5] = 0.0
    rtl, report = blocks()["hh"].extras["record"](config, codes_of(config, currents),
                                                  sim="icarus", build_dir=tmp_path)
    raw, _ = run_model(config, codes_of(config, currents))
    assert report["mismatches"] == 0 and report["updates"] == 60
    np.testing.assert_array_equal(rtl["v"], raw["v"])
    np.testing.assert_array_equal(rtl["spike"], raw["spike"])
