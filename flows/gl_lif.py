# SPDX-License-Identifier: Apache-2.0
"""The LIF population's bit-exact cocotb check, run on a gate-level netlist.

Same stimulus, same reference model and same checker as the RTL run
(:mod:`neurotile.testbench.lif`); only the moment outputs are sampled differs. In the RTL,
registers change in the same simulation step as the rising clock edge, so the RTL loop samples
right after it; in the gate-level netlist every flip-flop model has a ``UNIT_DELAY`` (1 ns), so the
outputs settle later. This loop drives inputs after the rising edge, as the RTL loop does, and
samples at the falling edge, when both kinds of netlist have settled.

Use :func:`run_gate_level` to run it; the cocotb test is :func:`lif_gate_level_check`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["run_gate_level", "cocotb_loop_settled"]


async def cocotb_loop_settled(dut: Any, checker: Any, *, max_cycles: int,
                              period_ns: int = 10) -> int:
    """Like :func:`neurotile.testbench.common.cocotb_loop`, but sample at the falling edge."""
    from cocotb.clock import Clock
    from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

    Clock(dut.clk, period_ns, unit="ns").start()
    handles = {name: getattr(dut, name) for name in checker.sampled}
    masks: dict[str, int] = {}

    def handle(name: str) -> Any:
        if name not in handles:
            handles[name] = getattr(dut, name)
        return handles[name]

    rise, fall, read_only = RisingEdge(dut.clk), FallingEdge(dut.clk), ReadOnly()
    names = list(checker.sampled)
    cycles = 0
    await rise
    while not checker.done:
        if cycles >= max_cycles:
            raise AssertionError(f"testbench did not finish within {max_cycles} cycles")
        for name, value in checker.drive().items():
            if name not in masks:
                masks[name] = (1 << len(handle(name))) - 1
            handle(name).value = value & masks[name]
        await fall
        await read_only
        checker.sample({n: int(handles[n].value) for n in names})
        await rise
        cycles += 1
    return cycles


def run_gate_level(netlist: str | Path, *, top: str, params: Mapping[str, Any], steps: int,
                   seed: int, build_dir: str | Path, power_pins: bool = True,
                   **options: Any) -> dict[str, Any]:
    """Run the LIF check on a synthesised netlist with Icarus and the sky130 cell models.

    ``params`` are the population's :class:`~neurotile.neurons.lif.LIFIntParams` fields (as
    :func:`neurotile.blocks.lif.int_params` gives them); ``options`` go into the testbench
    configuration (``gap``, ``stall``, ``plant``, ...). Returns the testbench report plus
    ``passed`` and ``run_dir``. Outputs that are unknown (``x``) are read as random bits, so an
    ``x`` that reaches a checked output shows up as a mismatch rather than stopping the run.
    """
    from neurotile.flows.gatelevel import bundle
    from neurotile.testbench.runner import run_cocotb

    build_dir = Path(build_dir)
    src = build_dir / "src" / f"{top}.v"
    src.parent.mkdir(parents=True, exist_ok=True)
    text = bundle(netlist, top=top, power_pins=power_pins)
    if not src.exists() or src.read_text() != text:
        src.write_text(text)
    cfg = {"params": dict(params), "steps": steps, "seed": seed, **options}
    saved = os.environ.get("COCOTB_RESOLVE_X")
    os.environ["COCOTB_RESOLVE_X"] = "random"
    try:
        result = run_cocotb("icarus", sources=[src], toplevel=top, test_module=__name__,
                            build_dir=build_dir, config=cfg, seed=seed)
    finally:
        if saved is None:
            os.environ.pop("COCOTB_RESOLVE_X", None)
        else:
            os.environ["COCOTB_RESOLVE_X"] = saved
    report = dict(result.report)
    report.setdefault("updates", 0)
    report.setdefault("spikes", 0)
    report.setdefault("mismatches", 0 if result.passed else -1)
    report["passed"] = result.passed
    report["run_dir"] = str(result.run_dir)
    return report


try:
    import cocotb
except ImportError:  # pragma: no cover - cocotb is a dependency
    cocotb = None

if cocotb is not None:

    @cocotb.test()
    async def lif_gate_level_check(dut: Any) -> None:
        """Every output of the gate-level population against the integer reference."""
        from neurotile.testbench.common import read_config, write_report
        from neurotile.testbench.lif import _max_cycles, _verdict, check_config

        cfg = read_config()
        stim, checker = check_config(cfg)
        t0 = time.perf_counter()
        cycles = await cocotb_loop_settled(dut, checker, max_cycles=_max_cycles(stim))
        report = checker.report() | {"cycles": cycles, "seconds": time.perf_counter() - t0}
        write_report(report)
        _verdict(cfg, stim, report)
