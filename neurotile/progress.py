# SPDX-License-Identifier: Apache-2.0
"""Progress lines for the steps that take more than a few seconds.

Synthesis, simulator builds and runs, the project's cocotb test and the compiler's stages each
announce themselves on stderr when they start and say how long they took when they end::

    neurotile: synthesising tt_um_neurotile_lif to Sky130 cells (Yosys) ...
    neurotile: synthesising tt_um_neurotile_lif to Sky130 cells (Yosys): done in 6.2 s

The library is silent by default; the command line turns the lines on (:func:`enable`) unless
``--quiet`` or ``--json`` asks for silence. Results stay on stdout, so pipes see only them.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["enable", "disable", "enabled", "note", "stage"]

_on = False


def enable() -> None:
    """Print progress lines (to ``sys.stderr`` as it is when each line is printed)."""
    global _on
    _on = True


def disable() -> None:
    """Stop printing progress lines."""
    global _on
    _on = False


def enabled() -> bool:
    return _on


def note(text: str) -> None:
    """One progress line (when enabled)."""
    if _on:
        print(f"neurotile: {text}", file=sys.stderr, flush=True)


@contextmanager
def stage(what: str) -> Iterator[None]:
    """Announce ``what`` now and its duration when it ends (an error says the rest)."""
    note(f"{what} ...")
    t0 = time.perf_counter()
    yield
    note(f"{what}: done in {time.perf_counter() - t0:.1f} s")
