# SPDX-License-Identifier: Apache-2.0
"""The path to a shuttle: every generated project carries TinyTapeout's four workflows, calling
TinyTapeout's actions on the project's own files, and says how to submit it; the network
project's regenerate command gives the same options back."""

from __future__ import annotations

import shlex
from pathlib import Path

import numpy as np
import pytest
import yaml

from neurotile.output import write_tree
from neurotile.tapeout.adapters import adapters, get_adapter
from neurotile.tapeout.check import check_project
from neurotile.tapeout.project import AreaEstimate, generate
from neurotile.tapeout.texts import TT_ACTIONS_REF, TT_PDK, WORKFLOWS

DIGITS = Path(__file__).resolve().parents[1] / "examples" / "digits"


def _estimate(verilog: str, top: str) -> AreaEstimate:
    return AreaEstimate(9_000.0, 1000, 100, "fixed estimate for tests")


def _network_adapter():
    from neurotile.compiler.floatsim import simulate
    from neurotile.compiler.graph import read_graph
    from neurotile.compiler.quantise import QuantOptions, quantise
    from neurotile.tapeout.network import network_adapter

    graph = read_graph(DIGITS / "digits_lif.nir")
    with np.load(DIGITS / "digits_test.npz") as d:
        x, y = d["inputs"][:2], d["labels"][:2]
    q = quantise(graph, simulate(graph, x), x, QuantOptions())
    return network_adapter(q, q.encode(x), y, source="digits_lif.nir")


#: Every tapeout block (populations, sparse tile, layer, Hodgkin-Huxley) and a compiled network.
KINDS = (*adapters(), "network")


@pytest.fixture(scope="module", params=KINDS)
def project(request):
    adapter = _network_adapter() if request.param == "network" else get_adapter(request.param)
    return generate(adapter, {}, estimator=_estimate)


def _uses(flow: dict) -> set[tuple[str, str]]:
    return {(job, step["uses"]) for job, body in flow["jobs"].items()
            for step in body["steps"] if "uses" in step}


def test_every_project_has_the_four_workflows(project, tmp_path):
    paths = {f".github/workflows/{name}.yaml" for name in WORKFLOWS}
    assert paths <= set(project.files)
    flows = {name: yaml.safe_load(project.files[f".github/workflows/{name}.yaml"])
             for name in WORKFLOWS}
    ref = TT_ACTIONS_REF
    tt = "TinyTapeout/tt-gds-action"
    # The same actions, tags and inputs as TinyTapeout's template.
    assert _uses(flows["gds"]) == {
        ("gds", "actions/checkout@v6"), ("gds", f"{tt}@{ref}"),
        ("precheck", f"{tt}/precheck@{ref}"),
        ("gl_test", "actions/checkout@v6"), ("gl_test", f"{tt}/gl_test@{ref}"),
        ("viewer", f"{tt}/viewer@{ref}")}
    gds_step = next(s for s in flows["gds"]["jobs"]["gds"]["steps"] if s.get("uses", "")
                    .startswith(tt))
    assert gds_step["with"] == {"pdk": TT_PDK}
    assert flows["gds"]["jobs"]["viewer"]["permissions"] == {"pages": "write",
                                                            "id-token": "write"}
    assert all(flows["gds"]["jobs"][j]["needs"] == "gds" for j in ("precheck", "gl_test",
                                                                    "viewer"))
    assert _uses(flows["docs"]) == {("docs", "actions/checkout@v6"), ("docs", f"{tt}/docs@{ref}")}
    assert _uses(flows["fpga"]) == {("fpga", "actions/checkout@v6"),
                                    ("fpga", f"{tt}/fpga/ice40up5k@{ref}")}
    # fpga runs by hand, the others on every push (YAML 1.1 reads the key `on` as True)
    assert flows["fpga"][True] == {"push": {"branches": "none"}, "workflow_dispatch": None}
    for name in ("gds", "docs"):
        assert set(flows[name][True]) == {"push", "workflow_dispatch"}
    # The files the workflows name exist in the project.
    test_runs = " ".join(s.get("run", "") for s in flows["test"]["jobs"]["test"]["steps"])
    assert "pip install -r test/requirements.txt" in test_runs
    assert "cd test" in test_runs and "! grep failure results.xml" in test_runs
    for needed in ("test/requirements.txt", "test/Makefile", "info.yaml", "docs/info.md",
                   f"src/{project.top}.v"):
        assert needed in project.files
    # TinyTapeout's gate-level action copies the hardened netlist to test/gate_level_netlist.v.
    assert "$(CURDIR)/gate_level_netlist.v" in project.files["test/Makefile"]
    assert "test/gate_level_netlist.v" in project.files[".gitignore"].splitlines()
    # The README says how to submit, and the kit's checker accepts the project.
    readme = project.files["README.md"]
    assert "## Submitting it to TinyTapeout" in readme and "app.tinytapeout.com" in readme
    assert f"tile {project.tile})" in readme
    assert check_project(write_tree(tmp_path / "p", project.files, force=False)) == []


def test_network_regenerate_command_gives_the_same_options():
    """The command in a network project's README parses back to the options that shaped it:
    the author (with a space) and the name included, folders dropped."""
    from neurotile.cli import _route, build_parser
    from neurotile.commands.flow_network import _SHAPING, _command_line

    argv = ["flow", str(DIGITS / "digits_lif.nir"), "--data", str(DIGITS / "digits_test.npz"),
            "--author", "Ada Lovelace", "--name", "my_net", "--weight-bits", "6",
            "--no-reset-delay", "--clock-hz", "25000000", "-o", "build/x"]
    parser = build_parser()
    first = parser.parse_args(_route(argv))
    line = _command_line(first)
    words = shlex.split(line)
    assert words[:2] == ["neurotile", "flow"] and words[-2:] == ["-o", "<dir>"]
    assert words[2] == "digits_lif.nir"
    again = words[1:-1] + ["build/y"]
    again[1] = str(DIGITS / again[1])
    again[again.index("--data") + 1] = str(DIGITS / "digits_test.npz")
    second = parser.parse_args(_route(again))
    for key in (*_SHAPING, "reset_delay", "per_channel"):
        assert getattr(first, key) == getattr(second, key), key


# -- ./dev puts neurotile within reach -------------------------------------------------------------

def _fake_checkout(tmp_path: Path) -> Path:
    """A copy of ./dev beside a fake nox (that records its arguments and installs a fake
    neurotile as the demo session would) and a Python that passes the version check."""
    import os
    import shutil
    import stat

    root = tmp_path / "repo"
    (root / ".venv" / "bin").mkdir(parents=True)
    shutil.copy(Path(__file__).resolve().parents[1] / "dev", root / "dev")
    nox = root / ".venv" / "bin" / "nox"
    nox.write_text("#!/bin/sh\necho \"$@\" >> nox.log\nmkdir -p .nox/demo/bin\n"
                   "printf '#!/bin/sh\\necho neurotile \"$@\"\\n' > .nox/demo/bin/neurotile\n"
                   "chmod +x .nox/demo/bin/neurotile\n")
    for path in (root / "dev", nox):
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    assert os.access(root / "dev", os.X_OK)
    return root


def test_dev_neurotile_and_shell(tmp_path):
    import subprocess
    import sys

    root = _fake_checkout(tmp_path)
    env = {"PATH": "/usr/bin:/bin", "PYTHON": sys.executable, "HOME": str(tmp_path)}
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    first = subprocess.run([str(root / "dev"), "neurotile", "check", "my project"],
                           cwd=elsewhere, env=env, capture_output=True, text=True)
    assert first.returncode == 0, first.stderr
    assert first.stdout == "neurotile check my project\n"  # run where it was called
    assert (root / "nox.log").read_text() == "--session demo --install-only\n"
    again = subprocess.run(["./dev", "neurotile", "--version"], cwd=root, env=env,
                           capture_output=True, text=True)
    assert again.stdout == "neurotile --version\n"
    assert (root / "nox.log").read_text().count("\n") == 1  # installed once
    shell = tmp_path / "shell"
    shell.write_text("#!/bin/sh\necho \"$PATH\"\ncommand -v neurotile\npwd\n")
    shell.chmod(0o755)
    run = subprocess.run([str(root / "dev"), "shell"], cwd=elsewhere,
                         env=env | {"SHELL": str(shell)}, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    path, found, where = run.stdout.splitlines()
    assert where == str(elsewhere)
    assert path.split(":")[0] == str(root / ".nox" / "demo" / "bin")
    assert found == str(root / ".nox" / "demo" / "bin" / "neurotile")
