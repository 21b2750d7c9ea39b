# SPDX-License-Identifier: Apache-2.0
"""Shared fixtures: a per-session build folder under the repository's git-ignored build/."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def build_root() -> Path:
    """``build/tests``: simulator builds are cached here by source digest across runs."""
    path = ROOT / "build" / "tests"
    path.mkdir(parents=True, exist_ok=True)
    return path
