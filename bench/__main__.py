# SPDX-License-Identifier: Apache-2.0
"""Run the benchmarks and gather their tables into build/bench/BENCHMARKS.md."""

from __future__ import annotations

import sys

from neurotile.bench.run import main

sys.exit(main(sys.argv[1:]))
