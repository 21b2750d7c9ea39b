# SPDX-License-Identifier: Apache-2.0
"""The ``neurotile`` command line: generation, simulation and every kind of bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from neurotile.cli import main
from neurotile.output import RECORD


def _cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the installed entry point in a fresh process (as a user would)."""
    return subprocess.run([sys.executable, "-m", "neurotile", *args], capture_output=True,
                          text=True, env=env)


def test_generate_writes_verilog_and_manifest(tmp_path):
    out = tmp_path / "lif"
    assert main(["generate", "lif", "--neurons", "16", "--decay", "2", "-o", str(out)]) == 0
    files = sorted(p.name for p in out.iterdir())
    assert files == [RECORD, "lif_population_n16_w8.json", "lif_population_n16_w8.v"]
    manifest = json.loads((out / "lif_population_n16_w8.json").read_text())
    assert manifest["params"]["neurons"] == 16
    assert manifest["params"]["decay"] == 2
    names = {p["name"]: p for p in manifest["ports"]}
    assert names["current__payload"] == {"name": "current__payload", "direction": "input",
                                         "width": 8, "signed": True}
    assert {"output__valid", "output__ready", "threshold", "decay", "refractory"} <= set(names)
    assert "module lif_population_n16_w8" in (out / "lif_population_n16_w8.v").read_text()


def test_generate_is_byte_identical(tmp_path):
    for d in ("a", "b"):
        assert main(["generate", "lif", "--beta", "0.9", "-o", str(tmp_path / d)]) == 0
    for name in ("lif_population_n32_w8.v", "lif_population_n32_w8.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def _error_line(result: subprocess.CompletedProcess) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize("args,message", [
    (["generate", "morris-lecar", "-o", "x"], "invalid choice: 'morris-lecar'"),
    (["generate", "lif", "--neurons", "0", "-o", "x"], "neurons must be between 1 and 4096, not 0"),
    (["generate", "lif", "--threshold", "300", "-o", "x"],
     "lif: threshold must be between 0 and 127 for a 8-bit membrane, not 300"),
    (["generate", "lif", "--beta", "1.5", "-o", "x"],
     "beta must be in the open interval (0, 1), not 1.5"),
    (["generate", "lif", "--beta", "0.5", "--decay", "2", "-o", "x"],
     "give --beta (a float) or --decay (the hardware code), not both"),
    (["generate", "lif", "--beta", "0.5", "--leak", "shift", "-o", "x"],
     "--beta sets the multiply leak; drop --leak shift or use --decay K"),
    (["generate", "lif", "--neurons", "many", "-o", "x"], "invalid int value: 'many'"),
    (["simulate", "lif", "--steps", "0"], "--steps must be at least 1, not 0"),
    (["simulate", "lif", "--sim", "xcelium"], "invalid choice: 'xcelium'"),
])
def test_bad_input_is_one_line_exit_2(tmp_path, args, message):
    result = subprocess.run([sys.executable, "-m", "neurotile", *args], capture_output=True,
                            text=True, cwd=tmp_path)
    assert message in _error_line(result)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_non_empty_output_needs_force(tmp_path):
    (tmp_path / "mine.txt").write_text("user data")
    line = _error_line(_cli("generate", "lif", "-o", str(tmp_path)))
    assert "not empty; pass --force" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine.txt"]
    assert _cli("generate", "lif", "-o", str(tmp_path), "--force").returncode == 0
    assert (tmp_path / "mine.txt").read_text() == "user data"  # --force replaces only ours


def test_unwritable_output_is_refused(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    # root may write anywhere chmod allows; /proc/1 refuses even root
    target = "/proc/1/neurotile-out" if os.geteuid() == 0 else str(locked / "o")
    try:
        assert "is not writable" in _error_line(_cli("generate", "lif", "-o", target))
    finally:
        locked.chmod(0o700)


def test_output_path_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "file.v"
    target.write_text("keep")
    assert "is a file, not a folder" in _error_line(_cli("generate", "lif", "-o", str(target)))
    assert target.read_text() == "keep"


def test_missing_simulator_is_reported(tmp_path):
    env = dict(os.environ, PATH=str(tmp_path))  # no iverilog anywhere
    line = _error_line(_cli("simulate", "lif", "--sim", "icarus", "--steps", "5", env=env))
    assert "Icarus Verilog (iverilog, vvp) is not on PATH" in line
    assert "apt-get install iverilog" in line


def test_help_lists_blocks_and_parameters():
    result = _cli("generate", "--help")
    assert result.returncode == 0
    assert "lif:" in result.stdout and "--decay" in result.stdout and "--beta" in result.stdout
    assert "--refractory-width" in result.stdout


def test_simulate_amaranth_prints_one_summary_line(capsys):
    assert main(["simulate", "lif", "--neurons", "4", "--sim", "amaranth", "--steps", "50"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1
    assert out[0].startswith("amaranth: ") and " 0 mismatches" in out[0]
