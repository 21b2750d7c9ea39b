# SPDX-License-Identifier: Apache-2.0
"""Planting one wrong expectation in a generated TinyTapeout project, to show that its test
catches it."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path


def plant_wrong_read(project: Path, dest: Path, label: Callable[[str], bool],
                     flip: int = 1) -> str:
    """Copy ``project`` to ``dest`` (without simulator output) and XOR ``flip`` into the expected
    value of the first read in ``test/vectors.json`` whose label satisfies ``label``. Returns
    that read's label, which the failing test must name."""
    shutil.copytree(project, dest, ignore=shutil.ignore_patterns("sim_build", "*.fst"))
    path = dest / "test" / "vectors.json"
    vectors = json.loads(path.read_text())
    target = next(i for i, op in enumerate(vectors["ops"]) if op[0] == "R" and label(op[3]))
    vectors["ops"][target][2] ^= flip
    path.write_text(json.dumps(vectors))
    return vectors["ops"][target][3]


def sample_count(name: str) -> bool:
    """A spike-count read of the second sample (network and reservoir projects)."""
    return name.startswith("sample 1 ") and name.endswith("count")
