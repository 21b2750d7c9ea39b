# SPDX-License-Identifier: Apache-2.0
"""Run benchmarks by name and gather their Markdown tables."""

from __future__ import annotations

import importlib
import time
from pathlib import Path

from neurotile.bench import DOC_FIGURES, ORDER
from neurotile.errors import UsageError

OUT = Path(__file__).resolve().parent.parent / "build" / "bench"


def main(names: list[str], update_docs: bool = False) -> int:
    """Run ``names`` (all when empty); return non-zero when any benchmark misses its target.

    ``update_docs`` has the benchmarks of :data:`DOC_FIGURES` store their figures in
    ``docs/figures.json`` and rewrite the docs' markers."""
    unknown = [n for n in names if n not in ORDER]
    if unknown:
        raise UsageError(f"unknown benchmark {unknown[0]!r}; choose from: {', '.join(ORDER)}")
    status = 0
    sections = []
    for name in names or ORDER:
        module = importlib.import_module(f"neurotile.bench.{name}")
        t0 = time.perf_counter()
        print(f"== bench {name}", flush=True)
        argv = ["--update-docs"] if update_docs and name in DOC_FIGURES else []
        status |= int(module.main(argv) or 0)
        print(f"== bench {name}: {time.perf_counter() - t0:.0f} s", flush=True)
        md = OUT / f"{name}.md"
        if md.exists():
            sections.append(f"## {name}\n\n{md.read_text()}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "BENCHMARKS.md").write_text("# neurotile benchmarks\n\n" + "\n".join(sections))
    print(f"tables gathered in {OUT / 'BENCHMARKS.md'}")
    return status
