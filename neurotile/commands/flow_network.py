# SPDX-License-Identifier: Apache-2.0
"""``neurotile flow NET.nir --data DATA.npz -o DIR``: a trained network to a checked
TinyTapeout project.

The network form of ``neurotile flow`` (whose first positional is otherwise a block): a path
ending in ``.nir``, or naming an existing file, is routed here by :func:`route`. Stages, one
line each on stdout (the compile's own progress goes to stderr, as ``neurotile compile``'s does):

1. compile: read the graph, quantise, check the RTL against the integer network (Verilator on
   every sample, Icarus on a subset) and report (``neurotile compile``'s options);
2. project: the TinyTapeout project in ``DIR`` (:mod:`neurotile.tapeout.network`: the network
   behind the byte-wide register interface, sized in Sky130 cells for its tile), with the
   compile's report under ``DIR/neurotile/``;
3. check: TinyTapeout's rules (:mod:`neurotile.tapeout.check`);
4. the project's own cocotb test on the RTL, which streams the first ``--test-samples``
   samples of ``--data`` through the pins and checks the class and every spike count;
5. the same test on the synthesised gate-level netlist (unless ``--no-gates``).

Everything that can be checked is checked before anything is written: the options, the graph
(an unsupported node), the data, whether the registers fit the host interface, the tools and
the folder. The exit status is 0 only when every stage passes.
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import sys
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from neurotile.errors import UsageError

__all__ = ["NETWORK", "SUMMARY", "is_network", "route", "add_arguments", "run"]

#: The name of the network form among ``flow``'s sub-parsers (what ``flow --help`` lists).
NETWORK = "NET.nir"
SUMMARY = ("a trained network (NIR graph) and its data: compile, TinyTapeout project, checks, "
           "its test on RTL and gates")
#: Samples the project's test replays by default.
TEST_SAMPLES = 4


def is_network(token: str, blocks: Any = ()) -> bool:
    """Whether ``flow``'s first positional ``token`` names a network rather than a block."""
    if not token or token.startswith("-") or token in blocks:
        return False
    return token.lower().endswith(".nir") or Path(token).is_file()


def route(argv: list[str]) -> list[str]:
    """``argv`` with ``flow PATH ...`` turned into ``flow NET.nir PATH ...`` for a network."""
    if len(argv) < 2 or argv[0] != "flow":
        return argv
    from neurotile.tapeout.adapters import adapters

    if not is_network(argv[1], adapters()):
        return argv
    return [argv[0], NETWORK, *argv[1:]]


def add_arguments(p: argparse.ArgumentParser) -> None:
    """``compile``'s options plus the tapeout's."""
    from neurotile.commands.compile import add_network_options

    add_network_options(p)
    t = p.add_argument_group("the TinyTapeout project")
    t.add_argument("--name", default=None, metavar="NAME",
                   help="project name: the top module is tt_um_<name> (default: "
                        "neurotile_<graph file name>)")
    t.add_argument("--author", default="neurotile user", metavar="TEXT",
                   help="author for info.yaml (default: neurotile user)")
    t.add_argument("--clock-hz", type=int, default=50_000_000, metavar="HZ",
                   help="clock frequency in Hz for info.yaml and config.json "
                        "(default: 50000000)")
    t.add_argument("--test-samples", type=int, default=None, metavar="N",
                   help=f"samples of --data (the first N) the project's test streams through "
                        f"the pins, every step (default: {TEST_SAMPLES})")
    t.add_argument("--no-gates", action="store_true",
                   help="skip the gate-level run of the project's test")
    t.add_argument("--work-dir", default=None, metavar="DIR",
                   help="where the compile's checks and the synthesis run (not under /tmp; "
                        "default: build/, or ~/.cache/neurotile when the current folder is "
                        "under /tmp)")


def _default_name(graph: str) -> str:
    stem = re.sub(r"[^0-9a-zA-Z_]+", "_", Path(graph).stem).strip("_").lower()
    return f"neurotile_{stem}" if stem else "neurotile_network"


def _say(text: str, quiet: bool) -> None:
    print(text, file=sys.stderr if quiet else sys.stdout, flush=True)


#: The options that shape the project (the others choose checks, folders and output).
_SHAPING = ("reset", "dt", "weight_bits", "membrane_bits", "input_bits", "leak", "beta_bits",
            "max_drop", "name", "author", "clock_hz", "test_samples")


def _command_line(args: argparse.Namespace) -> str:
    """The command that regenerates the project: file names only (no folders), and only the
    options that shape the project and differ from their defaults."""
    reference = argparse.ArgumentParser(add_help=False)
    add_arguments(reference)
    defaults = {a.dest: a.default for a in reference._actions}
    parts = ["neurotile flow", shlex.quote(Path(args.graph).name), "--data",
             shlex.quote(Path(args.data).name)]
    for flag in _SHAPING:
        value = getattr(args, flag, None)
        if value is None or value == defaults.get(flag):
            continue
        if isinstance(value, tuple):
            value = ",".join(map(str, value))
        parts += [f"--{flag.replace('_', '-')}", shlex.quote(str(value))]
    if not args.reset_delay:
        parts.append("--no-reset-delay")
    if args.per_channel:
        parts.append("--per-channel")
    return " ".join(parts + ["-o", "<dir>"])


def _check_first(args: argparse.Namespace):
    """Everything checkable before compiling: options, graph, data, registers, tools, folder.

    Returns ``(options, test_samples, name)``.
    """
    from neurotile.commands.compile import compile_options
    from neurotile.commands.flow import _check_prerequisites
    from neurotile.compiler.graph import read_graph
    from neurotile.compiler.pipeline import load_data
    from neurotile.compiler.quantise import input_encoding
    from neurotile.output import check_output_dir
    from neurotile.tapeout.network import check_fits
    from neurotile.tapeout.project import project_name

    if args.weights == "programmable":
        raise UsageError("the TinyTapeout project of a network takes constant weights (baked "
                         "into the logic); drop --weights programmable (neurotile compile "
                         "--weights programmable writes the Verilog with weight memories)")
    for flag, value, default in (("--storage", args.storage, "memory"),
                                 ("--layout", args.layout, "csr")):
        if value not in (None, default):
            raise UsageError(f"the TinyTapeout project of a network takes constant weights "
                             f"(ROMs in logic), which have no {flag}; drop {flag} {value} "
                             f"(neurotile compile --weights programmable {flag} {value} writes "
                             f"the Verilog)")
    options = compile_options(args)
    if args.clock_hz < 0:
        raise UsageError(f"--clock-hz must be 0 or positive, not {args.clock_hz}")
    name = project_name(SimpleNamespace(block="network"), args.name or _default_name(args.graph))
    graph = read_graph(args.graph, reset=args.reset, reset_delay=args.reset_delay, dt=args.dt)
    options.quant.check(len(graph.layers))
    x, _ = load_data(args.data, graph)
    samples = x.shape[0]
    n = args.test_samples if args.test_samples is not None else min(TEST_SAMPLES, samples)
    if not 1 <= n <= samples:
        raise UsageError(f"--test-samples must be from 1 to {samples} (the samples in "
                         f"{args.data}), not {n}")
    binary = input_encoding(x) == "binary"
    check_fits(graph.inputs, graph.outputs, 1 if binary else options.quant.input_bits,
               options.quant.count_width)
    from neurotile.testbench.runner import check_simulator

    for sim in options.verify:
        check_simulator(sim)
    compile_gates = options.synth and options.gate_samples > 0 and bool(options.verify)
    _check_prerequisites(False, not args.no_gates or compile_gates)
    check_output_dir(args.output, force=args.force or args.overwrite)
    return options, n, name


def _compile_line(report: dict[str, Any], seconds: float) -> str:
    def pct(v):
        return "-" if v is None else f"{100 * v:.2f}%"

    shape = "-".join([str(report["layers"][0]["inputs"])]
                     + [str(lay["neurons"]) for lay in report["layers"]])
    checks = ", ".join(f"{sim} {c['samples']} samples {c['mismatches']} mismatches"
                       for sim, c in report["rtl_checks"].items()) or "RTL not checked"
    return (f"compile: {shape} ({report['widths']}); accuracy float "
            f"{pct(report['float_accuracy'])}, integer {pct(report['integer_accuracy'])}, "
            f"RTL {pct(report['rtl_accuracy'])}; {checks} ({seconds:.1f} s)")


def _tapeout_section(report: dict[str, Any]) -> str:
    t = report["tapeout"]
    return (f"\n## TinyTapeout project\n\n"
            f"`{t['top']}`: the network, its register interface and the TinyTapeout wrapper, "
            f"{t['cells']} Sky130 cells ({t['flip_flops']} flip-flops), {t['area_um2']:,.0f} "
            f"um^2 of cell area; tile {t['tile']} at {100 * t['utilisation']:.0f}% utilisation "
            f"(target density {t['density_pct']}%). {t['registers']} register addresses of 32; "
            f"the project's test replays {t['test_samples']} samples ({t['test_reads']} reads).\n")


def run(args: argparse.Namespace) -> int:
    """Run the network flow; 0 when every stage passes, 1 when one fails."""
    from neurotile import __version__
    from neurotile.commands.compile import progress_line
    from neurotile.compiler.pipeline import compile_network, load_data, markdown_report
    from neurotile.flows.synth import work_root
    from neurotile.output import remove_new_on_failure, write_tree
    from neurotile.tapeout.check import check_project
    from neurotile.tapeout.network import network_adapter, readme, test_readme
    from neurotile.tapeout.project import (
        gate_level_make_args, generate, run_make, synth_estimator,
    )

    options, n, name = _check_first(args)
    quiet = bool(args.json)
    work = Path(args.work_dir) if args.work_dir else work_root()
    failures: list[str] = []
    stages: dict[str, Any] = {}

    # 1. compile
    t0 = time.perf_counter()
    with remove_new_on_failure(work):
        compiled = compile_network(args.graph, args.data, options, build_dir=work / "compile",
                                   progress=progress_line)
    report = compiled.report
    _say(_compile_line(report, time.perf_counter() - t0), quiet)
    bad = [sim for sim, c in report["rtl_checks"].items() if c["mismatches"]]
    for sim in bad:
        failures.append(f"compile check on {sim}")
    stages["compile"] = {"passed": not bad, "seconds": round(time.perf_counter() - t0, 1)}

    # 2. the TinyTapeout project
    t0 = time.perf_counter()
    x, y = load_data(args.data, compiled.graph)
    xi = compiled.quantised.encode(x[:n])
    adapter = network_adapter(compiled.quantised, xi, y[:n], report=report,
                              source=Path(args.graph).name)
    params = {"name": name, "author": args.author, "clock_hz": args.clock_hz}
    with remove_new_on_failure(work):
        project = generate(adapter, params, estimator=synth_estimator(work / "tapeout"))
        if not args.no_gates and project.estimate.netlist is None:
            raise UsageError("no gate-level netlist was produced; rerun with --no-gates")
        e = project.estimate
        vectors = json.loads(project.files["test/vectors.json"])
        report = report | {"tapeout": {
            "top": project.top, "tile": project.tile, "area_um2": round(e.area, 4),
            "cells": e.cells, "flip_flops": e.flip_flops,
            "utilisation": round(project.utilisation, 4),
            "density_pct": json.loads(project.files["neurotile.json"])["area"]["density_pct"],
            "registers": project.regmap.size, "test_samples": n,
            "test_reads": vectors["meta"]["reads"]}}
        files = dict(project.files)
        text = adapter.describe({}, project.regmap)
        files["README.md"] = readme(text.title, text.description, __version__,
                                    _command_line(args), project.top, e.area, project.tile,
                                    project.utilisation)
        files["test/README.md"] = test_readme(project.top, n, int(xi.shape[1]),
                                              vectors["meta"]["reads"], Path(args.data).name)
        files["neurotile/report.json"] = json.dumps(report, indent=2) + "\n"
        files["neurotile/report.md"] = markdown_report(report) + _tapeout_section(report)
        files["neurotile/network.json"] = compiled.files["network.json"]
        out = write_tree(args.output, files, force=args.force, overwrite=args.overwrite)
    _say(f"project: {project.top} in {out} ({time.perf_counter() - t0:.1f} s); "
         f"{project.report()}", quiet)
    stages["project"] = {"passed": True, "seconds": round(time.perf_counter() - t0, 1)}

    # 3. TinyTapeout's rules
    problems = check_project(out)
    for problem in problems:
        _say(f"check: {problem}", quiet)
    if problems:
        failures.append("TinyTapeout rules")
    else:
        _say("check: passed (TinyTapeout rules)", quiet)
    stages["check"] = {"passed": not problems, "problems": [str(p) for p in problems]}

    # 4, 5. the project's own test, RTL and gate level
    runs = [("test (RTL, Icarus)", "rtl", [])]
    if not args.no_gates:
        runs.append(("test (gate level, Icarus)", "gates",
                     gate_level_make_args(project.estimate.netlist)))
    for label, key, extra in runs:
        t0 = time.perf_counter()
        result = run_make(out, extra)
        ok = result.returncode == 0 and "FAIL=0" in result.stdout
        seconds = time.perf_counter() - t0
        _say(f"{label}: {'passed' if ok else 'FAILED'}, {n} samples ({seconds:.1f} s)", quiet)
        stages[key] = {"passed": ok, "seconds": round(seconds, 1)}
        if not ok:
            log = out / "test" / ("make-gl.log" if extra else "make.log")
            log.write_text(result.stdout)
            _say(f"  see {log}", quiet)
            failures.append(label)

    if args.json:
        print(json.dumps({"project": str(out), "top": project.top, "stages": stages,
                          "failures": failures, "report": report}, indent=2))
    if failures:
        _say(f"flow: FAILED: {', '.join(failures)}", quiet)
        return 1
    _say(f"flow: {project.top} verified and fits tile {project.tile}; project in {out}", quiet)
    return 0
