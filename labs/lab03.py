# SPDX-License-Identifier: Apache-2.0
"""Lab 03 checker: the student's cocotb test must pass on the LIF population and catch bugs.

The student's ``test_lif.py`` (written from the template) runs through the kit's cocotb runner
(:func:`neurotile.testbench.runner.run_cocotb`, Icarus) against three builds of the same
population: the correct one and two with a bug planted in the datapath (:data:`BUGS`). Its
directed test runs alone against both bugs as well. The numbers in ``answers.yaml`` (how soon
the kit's own checker finds the threshold bug with and without directed cases) are measured
again in Amaranth's simulator.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from amaranth.hdl import Module, Mux

from neurotile.labs.grading import Criterion, Fail, Grader, Lab, Result, load_answers, need
from neurotile.neurons.lif import LIFIntParams
from neurotile.rtl.lif import LIFDatapath

__all__ = ["LAB", "CONFIG", "BUGS", "run_student", "first_mismatch_step"]

#: The population under test (the template's ``CONFIG``).
CONFIG = LIFIntParams(neurons=4, width=8, input_width=8, refractory_width=0)


class ThresholdBug(LIFDatapath):
    """Fires at ``v >= th`` instead of ``v > th``."""

    def elaborate(self, platform):
        m = super().elaborate(platform)
        m.d.comb += self.out_spike.eq(self.out_membrane >= self.threshold)
        return m


class SaturationBug(LIFDatapath):
    """Lets a negative sum wrap around instead of clamping it (positive side still clamps)."""

    def elaborate(self, platform):
        m = Module()
        p, u, th = self.config, self.membrane, self.threshold
        r = u > th
        total = u - (u >> self.decay) + self.current - Mux(r, th, 0)
        v = Mux(total > p.mem_max, p.mem_max, total[:p.width].as_signed())
        m.d.comb += [self.out_spike.eq(v > th), self.out_membrane.eq(v),
                     self.next_membrane.eq(v)]
        return m


BUGS = {"threshold": ThresholdBug, "saturation": SaturationBug}

#: Seeds of the kit-checker runs that ``answers.yaml`` reports on.
SEEDS = (1, 2, 3)
RANDOM_STEPS = 400

CRITERIA = (
    Criterion("passes_correct", "your tests pass on the correct population (no false alarm), "
              "and there are at least two", "read the first error in build/.../sim.log; compare "
              "your expected value with 'neurotile model lif' for the same currents"),
    Criterion("catches_threshold", "your tests fail on the population that fires at v >= th",
              "a test without an assert passes on every design: assert spike AND membrane of "
              "every neuron, every step"),
    Criterion("catches_saturation", "your tests fail on the population whose negative sums wrap",
              "drive the most negative current for many steps: the membrane must stay at -128"),
    Criterion("directed_alone", "test_directed by itself fails on both buggy populations",
              "directed cases: a current that lands exactly on the threshold from rest, and a "
              "long run at the minimum (and maximum) current"),
    Criterion("answers", "answers.yaml: first failing step of the kit's checker, directed "
              "against random only", "run python random_vs_directed.py and copy its numbers"),
)


@contextmanager
def _importable(folder: Path) -> Iterator[None]:
    """The simulator's Python inherits ``sys.path``: put the student's folder on it."""
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))


def run_student(folder: str | Path, *, bug: str | None = None, seed: int = 1,
                testcase: str | None = None):
    """Run ``folder/test_lif.py`` on the population (with ``bug`` planted) on Icarus; return
    the :class:`~neurotile.testbench.runner.CocotbResult`."""
    from neurotile.rtl.export import to_verilog
    from neurotile.rtl.population import Population
    from neurotile.testbench.runner import run_cocotb, write_source

    folder = Path(folder).resolve()
    if not (folder / "test_lif.py").is_file():
        raise Fail(f"{folder / 'test_lif.py'} is missing (neurotile lab start copies it)")
    datapath = BUGS[bug] if bug else LIFDatapath
    top = "lif_population"
    verilog = to_verilog(Population(CONFIG, datapath=datapath), name=top)
    build = folder / "build" / (bug or "correct")
    src = write_source(build / "src" / f"{top}.v", verilog)
    with _importable(folder):
        return run_cocotb("icarus", sources=[src], toplevel=top, test_module="test_lif",
                          build_dir=build, config={}, seed=seed, testcase=testcase)


def first_mismatch_step(seed: int, *, directed: bool) -> int:
    """Step of the first mismatch the kit's cycle checker reports on the threshold bug."""
    from neurotile.testbench.check import check_population

    logging.disable(logging.CRITICAL)  # the checker logs every mismatch; only the first counts
    try:
        report = check_population(CONFIG, sim="amaranth", steps=RANDOM_STEPS, seed=seed,
                                  build_dir="build", datapath=ThresholdBug, directed=directed)
    finally:
        logging.disable(logging.NOTSET)
    first = report["first_mismatches"]
    return int(first[0]["step"]) if first else -1


def _summary(result) -> str:
    return f"{result.tests} tests, {result.failed} failed (log: {result.run_dir / 'sim.log'})"


def check(folder: Path) -> list[Result]:
    from neurotile.testbench.runner import check_simulator

    g = Grader(CRITERIA)
    try:
        check_simulator("icarus")
    except Exception as exc:  # a missing simulator is the only usage problem here
        g.fail_rest(str(exc))
        return g.results()

    def passes() -> None:
        r = run_student(folder)
        if r.tests < 2 or r.failed:
            raise Fail(_summary(r))

    def catches(bug: str, testcase: str | None = None) -> None:
        r = run_student(folder, bug=bug, testcase=testcase)
        if r.tests == 0:
            raise Fail("no test ran")
        if r.failed == 0:
            raise Fail(f"{bug} bug planted: {_summary(r)}")

    g.run("passes_correct", passes)
    g.run("catches_threshold", lambda: catches("threshold"))
    g.run("catches_saturation", lambda: catches("saturation"))
    g.run("directed_alone", lambda: (catches("threshold", "test_directed"),
                                     catches("saturation", "test_directed")))

    def answers() -> None:
        a = load_answers(folder)
        wrong = []
        for key, directed, seeds in (("directed_first_step", True, SEEDS[:1]),
                                     *((f"random_first_step_seed{s}", False, (s,))
                                       for s in SEEDS)):
            got, want = need(a, key, int), first_mismatch_step(seeds[0], directed=directed)
            if got != want:
                wrong.append(f"{key}: you wrote {got}, the kit's checker fails at step {want}")
        if wrong:
            raise Fail("; ".join(wrong))

    g.run("answers", answers)
    return g.results()


LAB = Lab(3, "03_verification", "Verification with cocotb", ("test_lif.py", "answers.yaml"),
          CRITERIA, check)
