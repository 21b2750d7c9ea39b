# SPDX-License-Identifier: Apache-2.0
"""Progress lines: every step that can take more than a few seconds (synthesis, simulator
builds and runs, the project's cocotb test, the compiler's stages) says on stderr when it starts
and how long it took; ``--quiet`` and ``--json`` silence them, and the library alone is silent."""

from __future__ import annotations

import json
import re
import subprocess

import pytest

from neurotile import progress
from neurotile.cli import main

DONE = r"neurotile: {what}: done in \d+\.\d s"


def _lines(err: str) -> list[str]:
    return [ln for ln in err.splitlines() if ln.startswith("neurotile: ")]


def test_stage_lines_and_silence(capsys):
    with progress.stage("nothing yet"):
        pass
    assert capsys.readouterr().err == ""  # the library is silent unless the CLI enables it
    progress.enable()
    try:
        with progress.stage("counting"):
            progress.note("half way")
    finally:
        progress.disable()
    lines = _lines(capsys.readouterr().err)
    assert lines[:2] == ["neurotile: counting ...", "neurotile: half way"]
    assert re.fullmatch(DONE.format(what="counting"), lines[2])


def test_simulate_announces_its_run_and_quiet_silences_it(capsys):
    argv = ["simulate", "lif", "--neurons", "2", "--steps", "3", "--sim", "amaranth"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    what = ("checking lif on amaranth: 3 timesteps (the first run of a design builds the "
            "simulation)")
    assert _lines(captured.err)[0] == f"neurotile: {what} ..."
    assert re.fullmatch(DONE.format(what=re.escape(what)), _lines(captured.err)[1])
    assert "0 mismatches" in captured.out  # the result stays on stdout
    assert main(["--quiet", *argv]) == 0
    assert capsys.readouterr().err == ""
    assert not progress.enabled()  # main leaves the library silent again


@pytest.mark.flows
def test_synthesis_announces_itself_and_json_silences_it(tmp_path, build_root, capsys):
    gen = tmp_path / "gen"
    assert main(["generate", "lif", "--neurons", "2", "-o", str(gen)]) == 0
    work = build_root / "progress-synth"
    assert main(["synth", str(gen), "--work-dir", str(work)]) == 0
    err = capsys.readouterr().err
    what = "synthesising lif_population_n2_w8 to Sky130 cells (Yosys)"
    assert f"neurotile: {what} ..." in _lines(err), err
    assert any(re.fullmatch(DONE.format(what=re.escape(what)), ln) for ln in _lines(err)), err
    assert main(["synth", str(gen), "--work-dir", str(work), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and json.loads(captured.out)["cells"] > 0


def test_project_test_run_announces_itself(tmp_path, monkeypatch, capsys):
    from neurotile.tapeout import testrun

    ran = []

    def fake_run(cmd, **kwargs):
        ran.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "FAIL=0\n")

    monkeypatch.setattr(testrun.subprocess, "run", fake_run)
    progress.enable()
    try:
        testrun.run_make(tmp_path, ["GATES=yes"])
    finally:
        progress.disable()
    lines = _lines(capsys.readouterr().err)
    what = ("running the project's cocotb test on the gate-level netlist "
            f"(make in {tmp_path / 'test'})")
    assert lines[0] == f"neurotile: {what} ..."
    assert ran[0][:3] == ["make", "-C", str(tmp_path / "test")]
    assert re.fullmatch(DONE.format(what=re.escape(what)), lines[1])


def test_compile_stages_follow_the_switch(capsys):
    from neurotile.commands.compile import progress_line

    progress_line("reading net.nir")
    assert capsys.readouterr().err == ""
    progress.enable()
    try:
        progress_line("reading net.nir")
    finally:
        progress.disable()
    assert capsys.readouterr().err == "neurotile: reading net.nir\n"
