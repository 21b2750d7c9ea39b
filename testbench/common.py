# SPDX-License-Identifier: Apache-2.0
"""Pieces every neurotile testbench shares: configuration hand-over, reports, the scoreboard.

A testbench here is written once as a simulator-independent *checker* (it decides what to drive
each cycle and checks what it samples) and run by thin adapters: cocotb on Icarus or Verilator
(:func:`cocotb_loop`) and Amaranth's own simulator (:func:`amaranth_loop`).
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from neurotile.testbench.runner import CONFIG_ENV, REPORT_ENV

__all__ = [
    "read_config",
    "write_report",
    "Mismatch",
    "Scoreboard",
    "CycleChecker",
    "cocotb_loop",
    "amaranth_loop",
    "signed_field",
    "assert_found",
    "apply_plant",
]

log = logging.getLogger("neurotile.testbench")


# -- configuration and report ------------------------------------------------------------------

def read_config() -> dict[str, Any]:
    """The configuration :func:`testbench.runner.run_cocotb` handed to this simulation."""
    path = os.environ.get(CONFIG_ENV)
    if not path:
        raise RuntimeError(f"{CONFIG_ENV} is not set; run this testbench through run_cocotb()")
    with open(path) as f:
        return json.load(f)


def write_report(report: Mapping[str, Any]) -> None:
    """Write the test's findings where :func:`testbench.runner.run_cocotb` reads them."""
    path = os.environ.get(REPORT_ENV)
    if path:
        with open(path, "w") as f:
            json.dump(report, f, indent=2, sort_keys=True, default=int)


# -- scoreboard --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mismatch:
    """One output that differs from the reference: where, which field, expected and observed."""

    step: int
    neuron: int
    field: str
    expected: int
    observed: int

    def __str__(self) -> str:
        return (f"step {self.step} neuron {self.neuron}: {self.field} expected {self.expected}, "
                f"got {self.observed}")


@dataclass
class Scoreboard:
    """Counts compared values and keeps the first mismatches (all are counted)."""

    keep: int = 20
    checked: int = 0
    count: int = 0
    first: list[Mismatch] = field(default_factory=list)

    def compare(self, step: int, neuron: int, name: str, expected: int, observed: int) -> bool:
        if int(expected) == int(observed):
            return True
        self.count += 1
        if len(self.first) < self.keep:
            m = Mismatch(step, neuron, name, int(expected), int(observed))
            self.first.append(m)
            log.error("mismatch: %s", m)
        return False

    def as_dict(self) -> dict[str, Any]:
        return {
            "mismatches": self.count,
            "first_mismatches": [m.__dict__ for m in self.first],
        }


def apply_plant(cfg: Mapping[str, Any], stim: Any) -> None:
    """Plant the configuration's error in ``stim``'s expectation, if it names one.

    ``plant`` is announced (the run must report it as its only mismatch); ``corrupt`` is the
    same error unannounced (the run must fail). Either is where to plant: a step, or a list such
    as ``[step, neuron]``, passed to ``stim.plant_error``.
    """
    planted = cfg.get("plant")
    if planted is None:
        planted = cfg.get("corrupt")
    if planted is not None:
        stim.plant_error(*(planted if isinstance(planted, (list, tuple)) else [planted]))


def assert_found(report: Mapping[str, Any], plant: tuple[int, ...] | None, field: str) -> None:
    """Assert a run found exactly what it should: no mismatch, or only the planted one.

    ``plant`` is where an error was planted in the expectation: ``(step,)`` or
    ``(step, neuron)``; it must be the single mismatch reported, in ``field``.
    """
    first = report["first_mismatches"]
    if plant:
        where = [(m["step"], m["neuron"], m["field"])[: len(plant)] + (m["field"],)
                 for m in first[:1]]
        assert report["mismatches"] == 1 and where == [tuple(plant) + (field,)], (
            f"planted error at {tuple(plant)} ({field}) not reported as the only mismatch: "
            f"{first}")
    else:
        assert report["mismatches"] == 0, (
            f"{report['mismatches']} mismatches against the reference model, first: {first[:3]}")


def signed_field(value: int, lsb: int, width: int) -> int:
    """Bits ``lsb .. lsb+width-1`` of ``value`` read as two's complement."""
    raw = (value >> lsb) & ((1 << width) - 1)
    return raw - (1 << width) if raw >> (width - 1) else raw


# -- simulator-independent cycle checker --------------------------------------------------------

class CycleChecker(Protocol):
    """What the simulator loops drive.

    Each cycle a loop calls :meth:`drive` and applies the returned ``{port: value}`` (``rst`` is
    the synchronous reset), lets combinational logic settle, reads the ports named in
    :attr:`sampled` and passes them to :meth:`sample` (which decides what transferred on the
    coming clock edge), then advances one clock. The loop ends when :attr:`done` is true.
    """

    sampled: Sequence[str]
    done: bool

    def drive(self) -> Mapping[str, int]: ...

    def sample(self, values: Mapping[str, int]) -> None: ...

    def report(self) -> dict[str, Any]: ...


async def cocotb_loop(dut: Any, checker: CycleChecker, *, max_cycles: int,
                      period_ns: int = 10, settle: bool = False) -> dict[str, Any]:
    """Run ``checker`` against a cocotb DUT, one clock per cycle; return its report.

    The report is ``checker.report()`` with the ``cycles`` used and the ``seconds`` taken.

    Port names use Verilog spelling (``current__valid``); ``rst`` drives the DUT's ``rst``.
    Inputs are driven just after the rising edge. Outputs are sampled once the step settles:
    at once for RTL, whose registers change with the edge, or with ``settle`` at the falling
    edge, for gate-level netlists whose flip-flop models switch a unit delay after it.
    """
    from cocotb.clock import Clock
    from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

    Clock(dut.clk, period_ns, unit="ns").start()
    handles: dict[str, Any] = {}

    def handle(name: str) -> Any:
        h = handles.get(name)
        if h is None:
            h = handles[name] = getattr(dut, name)
        return h

    masks: dict[str, int] = {}

    def mask(name: str) -> int:
        m = masks.get(name)
        if m is None:
            m = masks[name] = (1 << len(handle(name))) - 1
        return m

    sampled = [handle(n) for n in checker.sampled]
    names = list(checker.sampled)
    edge = RisingEdge(dut.clk)
    fall = FallingEdge(dut.clk)
    read_only = ReadOnly()
    cycles = 0
    t0 = time.perf_counter()
    await edge
    while not checker.done:
        if cycles >= max_cycles:
            raise AssertionError(f"testbench did not finish within {max_cycles} cycles")
        for name, value in checker.drive().items():
            handle(name).value = value & mask(name)  # ports are declared unsigned in Verilog
        if settle:
            await fall
        await read_only
        checker.sample({n: int(h.value) for n, h in zip(names, sampled)})
        await edge
        cycles += 1
    return checker.report() | {"cycles": cycles, "seconds": time.perf_counter() - t0}


def amaranth_loop(dut: Any, checker: CycleChecker, *, max_cycles: int,
                  ports: Callable[[Any, str], Any]) -> dict[str, Any]:
    """Run ``checker`` against an Amaranth component in Amaranth's simulator.

    ``ports(dut, name)`` maps a Verilog-spelled port name to the Amaranth signal; ``rst`` is
    handled here through a reset-less wrapper domain. Returns ``checker.report()`` with the
    ``cycles`` used and the ``seconds`` taken.
    """
    from amaranth.hdl import ClockDomain, Module
    from amaranth.sim import Simulator

    top = Module()
    top.domains.sync = domain = ClockDomain("sync")
    top.submodules.dut = dut
    rst = domain.rst
    sim = Simulator(top)
    sim.add_clock(1e-6)
    result = {"cycles": 0}
    signals: dict[str, Any] = {}

    def signal(name: str) -> Any:
        s = signals.get(name)
        if s is None:
            s = signals[name] = rst if name == "rst" else ports(dut, name)
        return s

    async def bench(ctx: Any) -> None:
        cycles = 0
        while not checker.done:
            if cycles >= max_cycles:
                raise AssertionError(f"testbench did not finish within {max_cycles} cycles")
            for name, value in checker.drive().items():
                ctx.set(signal(name), value)
            checker.sample({n: ctx.get(signal(n)) for n in checker.sampled})
            await ctx.tick()
            cycles += 1
        result["cycles"] = cycles

    sim.add_testbench(bench)
    t0 = time.perf_counter()
    sim.run()
    return checker.report() | {"cycles": result["cycles"], "seconds": time.perf_counter() - t0}
