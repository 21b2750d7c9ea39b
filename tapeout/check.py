# SPDX-License-Identifier: Apache-2.0
"""Check a TinyTapeout project folder against TinyTapeout's rules; collect every error.

:func:`check_project` returns a list of :class:`Problem` (file and message); an empty list means
the project passes. Nothing stops at the first error, so one run shows everything to fix.

Checked: ``info.yaml`` (version, required project fields, tiles, top module, source files,
exactly the 24 pinout keys), the top module's ports in the Verilog (exactly TinyTapeout's eight,
with their directions and widths), ``src/config.json`` (parses, LibreLane keys, no ``meta``, 0/1
rather than booleans, the PDK's cell models for the linter when the Verilog instantiates cells), ``docs/info.md`` (real "How it works" and "How to test" sections) and the
``test/`` harness (Makefile conventions, ``tb.v`` instantiating the top, a ``test.py`` that
asserts, cocotb 2.0.x pinned) and the four GitHub workflows of TinyTapeout's template
(``.github/workflows/{test,gds,docs,fpga}.yaml``: valid YAML, each calling what TinyTapeout's
does: the test run that fails on a failure in ``results.xml``, the GDS action with its pdk, the
precheck, gate-level test and Pages viewer after it, the docs action, the FPGA action).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from neurotile.tapeout.wrapper import TT_PORTS

__all__ = ["Problem", "check_project", "TILE_NAMES", "PINOUT_KEYS", "parse_ports",
           "WORKFLOW_ACTIONS"]

TILE_NAMES = ("1x1", "1x2", "2x2", "3x2", "4x2", "6x2", "8x2", "3x4", "4x4", "5x4", "6x4", "8x4")
PINOUT_KEYS = tuple(f"{bank}[{i}]" for bank in ("ui", "uo", "uio") for i in range(8))
ANALOG_KEYS = tuple(f"ua[{i}]" for i in range(6))
REQUIRED_TEXT = ("title", "author", "description", "language")
CONFIG_REQUIRED = ("CLOCK_PORT", "CLOCK_PERIOD", "PL_TARGET_DENSITY_PCT")
DOC_SECTIONS = ("How it works", "How to test")
#: What each workflow of TinyTapeout's template must call: job -> the ``TinyTapeout/tt-gds-action``
#: sub-action (``""`` for the GDS action itself) a step of that job uses.
WORKFLOW_ACTIONS: dict[str, dict[str, str]] = {
    "test": {},
    "gds": {"gds": "", "precheck": "precheck", "gl_test": "gl_test", "viewer": "viewer"},
    "docs": {"docs": "docs"},
    "fpga": {"fpga": "fpga/ice40up5k"},
}
GDS_ACTION = "TinyTapeout/tt-gds-action"
#: Characters of real text a documentation section needs (comments and blanks removed).
MIN_SECTION_TEXT = 40


@dataclass(frozen=True)
class Problem:
    """One rule the project breaks: ``file`` (relative to the project) and what is wrong."""

    file: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.message}"


# -- Verilog ports ------------------------------------------------------------------------------

def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def _module_pattern(name: str) -> str:
    return rf"(?:^|[\s;])module\s+\\?{re.escape(name)}(?=[\s(#;])"


def parse_ports(text: str, top: str) -> dict[str, tuple[str, int]] | None:
    """Ports of module ``top`` in Verilog ``text``: name -> (direction, width).

    Handles both port styles (ANSI declarations in the header and declarations in the body).
    Returns ``None`` when the module is not defined in ``text``.
    """
    text = _strip_comments(text)
    match = re.search(_module_pattern(top), text)
    if match is None:
        return None
    end = text.find("endmodule", match.end())
    body = text[match.end(): end if end >= 0 else len(text)]
    header_match = re.match(r"\s*(?:#\s*\(.*?\)\s*)?\((.*?)\)\s*;", body, re.S)
    header = header_match.group(1) if header_match else ""
    rest = body[header_match.end():] if header_match else body

    decl = re.compile(r"\b(input|output|inout)\b\s*(?:wire|reg|logic)?\s*(?:signed\s*)?"
                      r"(\[\s*(\d+)\s*:\s*(\d+)\s*\])?\s*([^;]*)")
    ports: dict[str, tuple[str, int]] = {}
    names: list[str] = []
    # ANSI: declarations inside the header, separated by commas; a declaration keeps applying to
    # following bare names.
    current: tuple[str, int] | None = None
    for item in header.split(","):
        item = item.strip()
        if not item:
            continue
        m = re.match(r"(input|output|inout)\b\s*(?:wire|reg|logic)?\s*(?:signed\s*)?"
                     r"(?:\[\s*(\d+)\s*:\s*(\d+)\s*\])?\s*(\\?\S+)$", item)
        if m:
            width = abs(int(m.group(2)) - int(m.group(3))) + 1 if m.group(2) else 1
            current = (m.group(1), width)
            names.append(m.group(4))
            ports[m.group(4)] = current
        else:
            name = item.split()[-1]
            names.append(name)
            if current is not None:  # ANSI continuation: "input [7:0] a, b"
                ports[name] = current
    for m in decl.finditer(rest):
        width = abs(int(m.group(3)) - int(m.group(4))) + 1 if m.group(2) else 1
        for name in m.group(5).split(","):
            name = name.strip().split("=")[0].strip()
            if name:
                ports.setdefault(name, (m.group(1), width))
    return {n: ports.get(n, ("unknown", 0)) for n in names}


def _module_count(sources: list[tuple[str, str]], top: str) -> list[str]:
    pattern = _module_pattern(top)
    return [name for name, text in sources if re.search(pattern, _strip_comments(text))]


# -- the checks ---------------------------------------------------------------------------------

def _check_info(root: Path, problems: list[Problem]) -> dict[str, Any]:
    path = root / "info.yaml"
    add = lambda msg: problems.append(Problem("info.yaml", msg))  # noqa: E731
    if not path.is_file():
        add("missing")
        return {}
    try:
        info = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        add(f"is not valid YAML: {str(exc).splitlines()[0]}")
        return {}
    if not isinstance(info, dict):
        add("must be a mapping with project:, pinout: and yaml_version:")
        return {}
    if info.get("yaml_version") != 6:
        add(f"yaml_version must be 6, not {info.get('yaml_version')!r}")
    project = info.get("project")
    if not isinstance(project, dict):
        add("project: section is missing")
        project = {}
    for key in REQUIRED_TEXT:
        value = project.get(key)
        if not isinstance(value, str) or not value.strip():
            add(f"project.{key} must be a non-empty string")
    clock = project.get("clock_hz")
    if isinstance(clock, bool) or not isinstance(clock, int) or clock < 0:
        add(f"project.clock_hz must be an integer (0 if not applicable), not {clock!r}")
    tiles = project.get("tiles")
    if tiles not in TILE_NAMES:
        add(f"project.tiles must be one of {', '.join(TILE_NAMES)}, not {tiles!r}")
    top = project.get("top_module")
    if not isinstance(top, str) or not top.startswith("tt_um_"):
        add(f"project.top_module must start with 'tt_um_', not {top!r}")
    files = project.get("source_files")
    if not isinstance(files, list) or not files:
        add("project.source_files must be a non-empty list of files under src/")
        files = []
    for f in files:
        if not isinstance(f, str) or not f:
            add(f"project.source_files entry {f!r} is not a file name")
        elif any(c in f for c in "*?[]"):
            add(f"project.source_files entry {f!r} has a wildcard; list each file")
        elif f.startswith("/") or f.startswith("src/") or ".." in Path(f).parts:
            add(f"project.source_files entry {f!r} must be a path relative to src/")
        elif not (root / "src" / f).is_file():
            add(f"project.source_files entry {f!r} does not exist in src/")

    pinout = info.get("pinout")
    if not isinstance(pinout, dict):
        add("pinout: section is missing")
    else:
        keys = [str(k) for k in pinout]
        missing = [k for k in PINOUT_KEYS if k not in pinout]
        extra = [k for k in keys if k not in PINOUT_KEYS + ANALOG_KEYS]
        if missing:
            add(f"pinout is missing {', '.join(missing)}")
        if extra:
            add(f"pinout has unknown keys {', '.join(extra)}")
        if not any(isinstance(v, str) and v.strip() for v in pinout.values()):
            add("pinout describes no pin; describe at least one")
    return info


def _check_verilog(root: Path, info: dict[str, Any], problems: list[Problem]) -> None:
    project = info.get("project") if isinstance(info.get("project"), dict) else {}
    top = project.get("top_module")
    files = project.get("source_files")
    if not isinstance(top, str) or not isinstance(files, list):
        return
    sources = []
    for f in files:
        if isinstance(f, str) and (root / "src" / f).is_file():
            sources.append((f, (root / "src" / f).read_text(encoding="utf-8", errors="replace")))
    if not sources:
        return
    defining = _module_count(sources, top)
    if len(defining) != 1:
        where = ", ".join(defining) if defining else "none of the source files"
        problems.append(Problem("src", f"top module {top} must be defined in exactly one source "
                                       f"file; found in {where}"))
    if not defining:
        return
    name = defining[0]
    ports = parse_ports(dict(sources)[name], top) or {}
    file = f"src/{name}"
    for port, (direction, width) in TT_PORTS.items():
        if port not in ports:
            problems.append(Problem(file, f"{top} lacks port {port} ({direction} {width} bit)"))
            continue
        got = ports[port]
        if got != (direction, width):
            problems.append(Problem(file, f"{top} port {port} is {got[0]} {got[1]} bit; "
                                          f"must be {direction} {width} bit"))
    extra = [p for p in ports if p not in TT_PORTS]
    if extra:
        problems.append(Problem(file, f"{top} has ports TinyTapeout does not allow: "
                                      f"{', '.join(extra)}"))


def _check_config(root: Path, problems: list[Problem]) -> None:
    path = root / "src" / "config.json"
    add = lambda msg: problems.append(Problem("src/config.json", msg))  # noqa: E731
    if not path.is_file():
        add("missing")
        return
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        add(f"is not valid JSON: {exc}")
        return
    if not isinstance(config, dict):
        add("must be a JSON object")
        return
    if "meta" in config:
        add("must not have a 'meta' key (TinyTapeout's flow adds its own)")
    for key in CONFIG_REQUIRED:
        if key not in config:
            add(f"lacks {key}")
    if "CLOCK_PORT" in config and config["CLOCK_PORT"] != "clk":
        add(f"CLOCK_PORT must be 'clk', not {config['CLOCK_PORT']!r}")
    period = config.get("CLOCK_PERIOD")
    bad_period = (isinstance(period, bool) or not isinstance(period, (int, float))
                  or period <= 0)
    if "CLOCK_PERIOD" in config and bad_period:
        add(f"CLOCK_PERIOD must be a positive number of ns, not {period!r}")
    bools = sorted(k for k, v in config.items() if isinstance(v, bool))
    if bools:
        add(f"use 0/1 instead of true/false for {', '.join(bools)}")
    cells = any(re.search(r"^\s*sky130_fd_sc_hd__\w+\s", f.read_text(errors="replace"), re.M)
                for f in sorted((root / "src").glob("*.v")))
    if cells and config.get("LINTER_INCLUDE_PDK_MODELS") != 1:
        add("the Verilog instantiates sky130_fd_sc_hd cells: set LINTER_INCLUDE_PDK_MODELS to 1 "
            "so LibreLane's linter knows them")


def _sections(text: str) -> dict[str, str]:
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    out: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^#{1,2}\s+(.*?)\s*#*\s*$", line)
        if m:
            current = m.group(1).strip().lower()
            out.setdefault(current, "")
        elif current is not None:
            out[current] += line + "\n"
    return out


def _check_docs(root: Path, problems: list[Problem]) -> None:
    path = root / "docs" / "info.md"
    if not path.is_file():
        problems.append(Problem("docs/info.md", "missing"))
        return
    sections = _sections(path.read_text(encoding="utf-8"))
    for title in DOC_SECTIONS:
        body = sections.get(title.lower())
        if body is None:
            problems.append(Problem("docs/info.md", f"lacks a '## {title}' section"))
        elif len("".join(body.split())) < MIN_SECTION_TEXT:
            problems.append(Problem("docs/info.md", f"section '{title}' is empty or too short; "
                                                    "describe the design"))


def _check_tests(root: Path, info: dict[str, Any], problems: list[Problem]) -> None:
    test = root / "test"
    project = info.get("project") if isinstance(info.get("project"), dict) else {}
    top = project.get("top_module")
    files = project.get("source_files") if isinstance(project.get("source_files"), list) else []

    makefile = test / "Makefile"
    if not makefile.is_file():
        problems.append(Problem("test/Makefile", "missing"))
    else:
        text = makefile.read_text(encoding="utf-8")
        add = lambda msg: problems.append(Problem("test/Makefile", msg))  # noqa: E731
        if not re.search(r"^SIM\s*\?=\s*icarus\s*$", text, re.M):
            add("must default the simulator with 'SIM ?= icarus'")
        if not re.search(r"^(COCOTB_)?TOPLEVEL\s*:?=\s*tb\s*$", text, re.M):
            add("must set 'TOPLEVEL = tb'")
        if not re.search(r"^(COCOTB_TEST_MODULES|MODULE)\s*:?=\s*test\s*$", text, re.M):
            add("must name the test module: 'COCOTB_TEST_MODULES = test'")
        if "GATES" not in text or "gate_level_netlist.v" not in text:
            add("must support GATES=yes with test/gate_level_netlist.v")
        if "GL_TEST" not in text:
            add("must define GL_TEST for the gate-level run")
        m = re.search(r"^PROJECT_SOURCES\s*:?=\s*(.*)$", text, re.M)
        listed = m.group(1).split() if m else []
        for f in files:
            if isinstance(f, str) and f not in listed:
                add(f"PROJECT_SOURCES does not list {f}")
        if "cocotb-config" not in text:
            add("must include cocotb's Makefile.sim (via cocotb-config --makefiles)")

    tb = test / "tb.v"
    if not tb.is_file():
        problems.append(Problem("test/tb.v", "missing"))
    else:
        text = _strip_comments(tb.read_text(encoding="utf-8"))
        if not re.search(r"\bmodule\s+tb\b", text):
            problems.append(Problem("test/tb.v", "must define module tb"))
        name = re.escape(top) if isinstance(top, str) else ""
        instance = rf"\b{name}\s+(#\s*\(.*?\)\s*)?\w+\s*\("
        if isinstance(top, str) and not re.search(instance, text, re.S):
            problems.append(Problem("test/tb.v", f"does not instantiate {top}"))
        if "GL_TEST" not in text or "VPWR" not in text:
            problems.append(Problem("test/tb.v", "must connect VPWR/VGND under `ifdef GL_TEST"))

    test_py = test / "test.py"
    if not test_py.is_file():
        problems.append(Problem("test/test.py", "missing"))
    else:
        text = test_py.read_text(encoding="utf-8")
        if "@cocotb.test" not in text:
            problems.append(Problem("test/test.py", "has no @cocotb.test() function"))
        if not re.search(r"^\s*assert\b", text, re.M):
            problems.append(Problem("test/test.py", "asserts nothing; a test that checks nothing "
                                                    "passes TinyTapeout's CI and proves nothing"))

    req = test / "requirements.txt"
    if not req.is_file():
        problems.append(Problem("test/requirements.txt", "missing"))
    else:
        lines = [ln.strip() for ln in req.read_text(encoding="utf-8").splitlines()]
        if not any(re.fullmatch(r"cocotb\s*==\s*2\.0\.\d+", ln) for ln in lines):
            problems.append(Problem("test/requirements.txt", "must pin cocotb 2.0.x "
                                                             "(cocotb==2.0.1)"))


def _load_workflow(root: Path, name: str, problems: list[Problem]) -> tuple[str, dict] | None:
    for suffix in (".yaml", ".yml"):
        path = root / ".github" / "workflows" / f"{name}{suffix}"
        if path.is_file():
            break
    else:
        problems.append(Problem(f".github/workflows/{name}.yaml",
                                "missing (TinyTapeout's template has it)"))
        return None
    file = f".github/workflows/{path.name}"
    try:
        flow = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        problems.append(Problem(file, f"is not valid YAML: {str(exc).splitlines()[0]}"))
        return None
    if not isinstance(flow, dict) or not isinstance(flow.get("jobs"), dict):
        problems.append(Problem(file, "must be a workflow with a jobs: mapping"))
        return None
    return file, flow


def _steps(job: Any) -> list[dict]:
    steps = job.get("steps") if isinstance(job, dict) else None
    return [s for s in steps if isinstance(s, dict)] if isinstance(steps, list) else []


def _check_workflows(root: Path, problems: list[Problem]) -> None:
    for name, jobs in WORKFLOW_ACTIONS.items():
        loaded = _load_workflow(root, name, problems)
        if loaded is None:
            continue
        file, flow = loaded
        add = lambda msg, file=file: problems.append(Problem(file, msg))  # noqa: E731
        if True not in flow and "on" not in flow:  # YAML 1.1 reads the key `on` as true
            add("has no 'on:' trigger")
        if name == "test":
            runs = "\n".join(str(s.get("run", "")) for job in flow["jobs"].values()
                             for s in _steps(job))
            if "requirements.txt" not in runs:
                add("must install test/requirements.txt")
            if "make" not in runs:
                add("must run the test with make in test/")
            if not re.search(r"grep\s+(-q\s+)?failure\s+\S*results\.xml", runs):
                add("must fail on a failure in results.xml (make succeeds either way)")
            continue
        for job, sub in jobs.items():
            action = GDS_ACTION + (f"/{sub}" if sub else "")
            uses = [s for s in _steps(flow["jobs"].get(job))
                    if str(s.get("uses", "")).split("@")[0] == action]
            if not uses:
                add(f"job {job} must use {action}@<shuttle tag>")
                continue
            if "@" not in str(uses[0]["uses"]):
                add(f"{action} needs a tag: {action}@<shuttle tag>")
            if name == "gds" and job == "gds":
                pdk = (uses[0].get("with") or {}).get("pdk")
                if not isinstance(pdk, str) or not pdk.startswith("sky130"):
                    add(f"{action} needs 'with: pdk: sky130A', not {pdk!r}")
            if name == "gds" and job != "gds":
                needs = flow["jobs"][job].get("needs")
                if needs != "gds" and not (isinstance(needs, list) and "gds" in needs):
                    add(f"job {job} must run after the gds job (needs: gds)")
            if job == "viewer":
                permissions = flow["jobs"][job].get("permissions")
                granted = permissions if isinstance(permissions, dict) else {}
                if permissions != "write-all" and (granted.get("pages") != "write"
                                                   or granted.get("id-token") != "write"):
                    add("job viewer needs permissions pages: write and id-token: write")


def check_project(path: str | Path) -> list[Problem]:
    """Every TinyTapeout rule ``path`` breaks; an empty list when it passes."""
    root = Path(path)
    problems: list[Problem] = []
    info = _check_info(root, problems)
    _check_verilog(root, info, problems)
    _check_config(root, problems)
    _check_docs(root, problems)
    _check_tests(root, info, problems)
    _check_workflows(root, problems)
    return problems
