# SPDX-License-Identifier: Apache-2.0
"""Lab 08 checker: a TinyTapeout project of the LIF population, ready to submit.

The student generates ``project/`` with ``neurotile tapeout lif`` (parameters of their choice
that fit one tile), runs its test at RTL and gate level with ``neurotile check --test --gates``
and answers questions about pins, registers and timing in ``answers.yaml``. The checker applies
TinyTapeout's project rules (:func:`neurotile.tapeout.check.check_project`), reads the project's
own files for every answer and the last test run's ``results.xml``; it runs no simulator.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

from neurotile.labs.grading import Criterion, Fail, Grader, Lab, Result, load_answers, need

__all__ = ["LAB"]

CRITERIA = (
    Criterion("project", "project/ is a neurotile TinyTapeout project of the lif block that "
              "passes TinyTapeout's project rules", "neurotile tapeout lif ... -o project, "
              "inside this folder; regenerate rather than edit info.yaml"),
    Criterion("one_tile", "the project fits a 1x1 tile", "fewer neurons (--neurons 16) or "
              "--storage ring; neurotile tapeout prints the area and the tile it chose"),
    Criterion("gate_level", "the project's test passed on the gate-level netlist (the last run "
              "in project/test)", "neurotile check project --test --gates; read the "
              "TESTS=... line"),
    Criterion("registers", "answers.yaml: identification byte, CURRENT and THRESHOLD addresses, "
              "writes per timestep", "project/docs/info.md has the register table; one timestep "
              "is one CURRENT write per neuron"),
    Criterion("pins", "answers.yaml: the write strobe and busy pins", "project/info.yaml's "
              "pinout: give the pin name as it is written there, e.g. uio[3]"),
    Criterion("timing", "answers.yaml: clock period given to the hardening flow, and how many "
              "clock cycles a write strobe must be held", "src/config.json has CLOCK_PERIOD (ns); "
              "'How to test' in docs/info.md states the strobe rule"),
)

#: The write-strobe rule of the host interface (``docs/tapeout.md``, "Protocol").
STROBE_CYCLES = 4


def _project(folder: Path) -> Path:
    root = folder / "project"
    if not (root / "info.yaml").is_file() or not (root / "neurotile.json").is_file():
        raise Fail(f"{root} has no info.yaml and neurotile.json")
    return root


def _manifest(root: Path) -> dict:
    return json.loads((root / "neurotile.json").read_text())


def _check_project(folder: Path) -> None:
    from neurotile.tapeout.check import check_project

    root = _project(folder)
    block = _manifest(root).get("block")
    if block != "lif":
        raise Fail(f"the project is of block {block!r}, not 'lif'")
    problems = check_project(root)
    if problems:
        p = problems[0]
        raise Fail(f"{len(problems)} rule(s) broken, first: {p.file}: {p.message}")


def _one_tile(folder: Path) -> None:
    root = _project(folder)
    tiles = yaml.safe_load((root / "info.yaml").read_text())["project"]["tiles"]
    if tiles != "1x1":
        area = _manifest(root).get("area", {})
        raise Fail(f"info.yaml asks for {tiles} ({area.get('um2', 0):,.0f} um^2 of cells)")


def _gate_level(folder: Path) -> None:
    test = _project(folder) / "test"
    results, gl = test / "results.xml", test / "sim_build" / "gl" / "sim.vvp"
    if not gl.is_file():
        raise Fail("no gate-level build in project/test (sim_build/gl): run with --gates")
    if not results.is_file() or results.stat().st_mtime < gl.stat().st_mtime:
        raise Fail("project/test/results.xml is not from the gate-level run")
    suites = ET.parse(results).getroot().iter("testsuite")
    tests = failed = 0
    for s in suites:
        tests += int(s.get("tests", 0))
        failed += int(s.get("failures", 0)) + int(s.get("errors", 0))
    if tests == 0 or failed:
        raise Fail(f"gate-level run: {tests} tests, {failed} failed")
    sources = [p for p in (test.parent / "src").glob("*.v")]
    if any(p.stat().st_mtime > gl.stat().st_mtime for p in sources):
        raise Fail("src/ changed after the gate-level run: run it again")


def _registers(folder: Path, a: dict) -> None:
    m = _manifest(_project(folder))
    regs = {r["name"]: r for r in m["registers"]["registers"]}
    want = {"id_byte": regs["ID"]["reset"], "current_address": regs["CURRENT"]["address"],
            "threshold_address": regs["THRESHOLD"]["address"],
            "writes_per_timestep": m["params"]["neurons"]}
    wrong = [f"{k}: you wrote {need(a, k, int)}, the project says {v}"
             for k, v in want.items() if need(a, k, int) != v]
    if wrong:
        raise Fail("; ".join(wrong))


def _pin(pinout: dict, starts: str) -> str:
    return next(pin for pin, text in pinout.items() if str(text).startswith(starts))


def _pins(folder: Path, a: dict) -> None:
    pinout = yaml.safe_load((_project(folder) / "info.yaml").read_text())["pinout"]
    want = {"write_strobe_pin": _pin(pinout, "write strobe"), "busy_pin": _pin(pinout, "busy")}
    wrong = []
    for key, pin in want.items():
        got = str(a.get(key, "")).strip().replace(" ", "")
        if got != pin:
            wrong.append(f"{key}: you wrote {a.get(key)!r}")
    if wrong:
        raise Fail("; ".join(wrong))


def _timing(folder: Path, a: dict) -> None:
    config = json.loads((_project(folder) / "src" / "config.json").read_text())
    period, cycles = need(a, "clock_period_ns"), need(a, "strobe_cycles", int)
    wrong = []
    if abs(period - float(config["CLOCK_PERIOD"])) > 1e-9:
        wrong.append(f"clock_period_ns: you wrote {period:g}, src/config.json says "
                     f"{config['CLOCK_PERIOD']}")
    if cycles != STROBE_CYCLES:
        wrong.append(f"strobe_cycles: you wrote {cycles}")
    if wrong:
        raise Fail("; ".join(wrong))


def check(folder: Path) -> list[Result]:
    g = Grader(CRITERIA)
    g.run("project", lambda: _check_project(folder))
    g.run("one_tile", lambda: _one_tile(folder))
    g.run("gate_level", lambda: _gate_level(folder))
    try:
        a = load_answers(folder)
    except Fail as exc:
        g.fail_rest(str(exc))
        return g.results()
    g.run("registers", lambda: _registers(folder, a))
    g.run("pins", lambda: _pins(folder, a))
    g.run("timing", lambda: _timing(folder, a))
    return g.results()


LAB = Lab(8, "08_submit", "Submit it: a TinyTapeout project", ("answers.yaml",), CRITERIA,
          check)
