# SPDX-License-Identifier: Apache-2.0
"""The denoiser's TinyTapeout project: accepted by the checks, its own test checks every
decision against the reference model, and a wrong expectation fails it."""

from __future__ import annotations

import json
import re

import pytest

from neurotile.output import write_tree
from neurotile.tapeout.adapters import get_adapter
from neurotile.tapeout.check import check_project, parse_ports
from neurotile.tapeout.project import AreaEstimate, generate, run_make
from tests.planting import plant_wrong_read
from neurotile.tapeout.wrapper import TT_PORTS


def _estimate(verilog: str, top: str) -> AreaEstimate:
    return AreaEstimate(9_000.0, 1000, 100, "fixed estimate for tests")


@pytest.fixture(scope="module", params=[{}, {"filter": "rowcol", "neighbours": 8,
                                             "window": 6}])
def project(request):
    return generate(get_adapter("denoiser"), request.param, estimator=_estimate)


def test_project_passes_the_tinytapeout_checks(tmp_path, project):
    out = write_tree(tmp_path / "p", project.files, force=False)
    assert check_project(out) == []
    assert parse_ports(project.files[f"src/{project.top}.v"], project.top) == dict(TT_PORTS)


def test_vectors_check_every_decision(project):
    vectors = json.loads(project.files["test/vectors.json"])
    reads = [op for op in vectors["ops"] if op[0] == "R"]
    decisions = [op for op in reads if re.fullmatch(r"event \d+ decision", op[3])]
    assert len(decisions) == vectors["meta"]["steps"] == 40
    assert {op[2] for op in decisions} == {1, 3}  # both drops and passes


@pytest.fixture(scope="module")
def sim_project(tmp_path_factory):
    project = generate(get_adapter("denoiser"), {}, estimator=_estimate)
    return write_tree(tmp_path_factory.mktemp("tt") / "denoiser", project.files, force=False)


@pytest.mark.sim
def test_generated_test_passes_on_icarus(sim_project):
    result = run_make(sim_project)
    assert result.returncode == 0, result.stdout[-3000:]
    assert re.search(r"TESTS=1 PASS=1 FAIL=0", result.stdout)
    assert re.search(r"\d+ reads checked in \d+ cycles, 0 mismatches", result.stdout)


@pytest.mark.sim
def test_generated_test_fails_on_a_wrong_decision(tmp_path, sim_project):
    broken = tmp_path / "broken"
    plant_wrong_read(sim_project, broken, lambda name: name == "event 17 decision", flip=2)
    result = run_make(broken)
    assert result.returncode != 0
    assert "FAIL=1" in result.stdout and "event 17 decision" in result.stdout
