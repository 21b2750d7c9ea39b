# SPDX-License-Identifier: Apache-2.0
"""Find the entries a package declares, one per module, so adding one never edits a shared file."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterable
from typing import Any

__all__ = ["scan"]


def scan(package: Any, attribute: str, kind: type, *, skip: Iterable[str] = ()) -> list[Any]:
    """The module-level ``attribute`` of every module in ``package`` that is a ``kind``.

    Modules are imported in name order; modules named in ``skip`` are not imported.
    """
    skipped = set(skip)
    found = []
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
        if info.name in skipped:
            continue
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        entry = getattr(module, attribute, None)
        if isinstance(entry, kind):
            found.append(entry)
    return found
