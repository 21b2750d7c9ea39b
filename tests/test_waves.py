# SPDX-License-Identifier: Apache-2.0
"""``WAVES=1`` records waveforms on Icarus and Verilator and says where the file is."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.sim
@pytest.mark.parametrize("sim, suffix", [("icarus", ".fst"), ("verilator", ".vcd")])
def test_waves_are_recorded_and_their_path_printed(sim, suffix, tmp_path):
    env = dict(os.environ, WAVES="1")
    res = subprocess.run([sys.executable, "-m", "neurotile", "simulate", "lif", "--sim", sim,
                          "--neurons", "4", "--steps", "6", "--seed", "3"],
                         capture_output=True, text=True, cwd=ROOT, env=env, timeout=600)
    assert res.returncode == 0, res.stderr
    assert "0 mismatches" in res.stdout
    found = re.search(r"waves: (\S+)\)", res.stdout)
    assert found, res.stdout
    path = Path(found.group(1))
    assert path.suffix == suffix and path.is_file() and path.stat().st_size > 0
