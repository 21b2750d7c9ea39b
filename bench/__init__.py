# SPDX-License-Identifier: Apache-2.0
"""neurotile's benchmarks: speed, area and accuracy figures, measured and written to build/bench.

Each module has ``main(argv) -> int`` and writes ``build/bench/<name>.json`` and ``.md``.
``python -m neurotile.bench [NAME ...]`` (or ``neurotile bench``, ``./dev bench``) runs them.
"""

from __future__ import annotations

ORDER = ("speed", "area", "hh_accuracy", "sparse_scaling", "compile", "reservoir", "denoiser",
         "pictures")
#: Benchmarks whose ``--update-docs`` stores figures the docs quote (``docs/figures.json``).
DOC_FIGURES = ("area", "compile")
