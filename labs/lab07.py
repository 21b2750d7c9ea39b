# SPDX-License-Identifier: Apache-2.0
"""Lab 07 checker: from a trained network (NIR) to verified Verilog with ``neurotile compile``.

The student compiles ``examples/digits/digits_lif.nir`` into ``digits/`` in the lab folder (the
full command: quantise, generate, check the RTL on every sample, synthesise) and reports
accuracies measured with other options in ``answers.yaml``. The checker reads the student's
``digits/report.json``, regenerates the same network (``--no-verify --no-synth``, seconds) to
confirm the report belongs to it, and measures every accuracy again.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from neurotile.labs.grading import Criterion, Fail, Grader, Lab, Result, close, kit_json, \
    load_answers, need

__all__ = ["LAB", "examples", "measure"]

NET = "digits_lif.nir"
DATA = "digits_test.npz"

#: Answer key -> extra ``neurotile compile`` options whose integer accuracy it reports.
RUNS = {
    "integer_accuracy_w4": ("--weight-bits", "4"),
    "integer_accuracy_m8": ("--membrane-bits", "8"),
    "integer_accuracy_zero_reset": ("--reset", "zero", "--no-reset-delay"),
}

CRITERIA = (
    Criterion("compiled", "digits/report.json: the default compile of digits_lif.nir, the RTL "
              "checked on every sample and equal to the integer network",
              "run the compile command of step 2 with -o digits inside this folder, without "
              "--no-verify"),
    Criterion("float_accuracy", "answers.yaml: the float reference's accuracy",
              "report.md of your compile lists it (a fraction, e.g. 0.95, not a percentage)"),
    Criterion("quantisation", "answers.yaml: integer accuracy with 4-bit weights and with "
              "8-bit membranes", "compile again with --weight-bits 4 (and then --membrane-bits "
              "8) into another folder, --no-verify --no-synth is enough"),
    Criterion("conventions", "answers.yaml: integer accuracy when the graph is read with a "
              "reset to zero and no reset delay", "--reset zero --no-reset-delay: the "
              "conventions snnTorch's own NIR import assumes"),
    Criterion("silicon", "answers.yaml: area, tile and cycles per sample as your report gives "
              "them", "copy area_um2, tile and cycles_per_sample from digits/report.json"),
)


def examples() -> Path:
    """The folder with the digits networks (``examples/digits`` of the source tree)."""
    import neurotile

    folder = Path(neurotile.__file__).resolve().parent.parent / "examples" / "digits"
    if not (folder / NET).is_file():
        raise Fail(f"{folder / NET} not found: this lab needs the kit's source tree "
                   "(git clone, then pip install -e .)")
    return folder


@lru_cache(maxsize=None)
def measure(*options: str) -> dict:
    """``neurotile compile`` report of the digits network with ``options``, without RTL check
    or synthesis, written to a scratch folder."""
    import tempfile

    ex = examples()
    with tempfile.TemporaryDirectory() as tmp:
        return kit_json(["compile", str(ex / NET), "--data", str(ex / DATA), "-o",
                         str(Path(tmp) / "out"), "--no-verify", "--no-synth", *options])


def _report(folder: Path) -> dict:
    path = folder / "digits" / "report.json"
    if not path.is_file():
        raise Fail(f"{path} is missing")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        raise Fail(f"{path} is not the JSON neurotile compile writes") from None


def _compiled(folder: Path) -> None:
    r = _report(folder)
    if Path(str(r.get("graph", ""))).name != NET:
        raise Fail(f"the report is of {r.get('graph')}, not {NET}")
    if r.get("top") != measure()["top"]:
        raise Fail(f"the report's network ({r.get('top')}) is not the default compile of {NET} "
                   f"({measure()['top']}); compile without extra options")
    if r.get("rtl_matches_integer") != 1 or r.get("rtl_samples") != r.get("samples"):
        raise Fail(f"the RTL was checked on {r.get('rtl_samples')} of {r.get('samples')} "
                   f"samples, matching: {r.get('rtl_matches_integer')}")


def _silicon(folder: Path, a: dict) -> None:
    r = _report(folder)
    if r.get("area_um2") is None:
        raise Fail("digits/report.json has no area: compile without --no-synth")
    close("area_um2", need(a, "area_um2"), float(r["area_um2"]), rel=0.01)
    tile = a.get("tile")
    if str(tile) != str(r["tile"]):
        raise Fail(f"tile: you wrote {tile!r}, your report says {r['tile']!r}")
    close("cycles_per_sample", need(a, "cycles_per_sample"), float(r["cycles_per_sample"]),
          rel=0.01)


def check(folder: Path) -> list[Result]:
    g = Grader(CRITERIA)
    g.run("compiled", lambda: _compiled(folder))
    try:
        a = load_answers(folder)
    except Fail as exc:
        g.fail_rest(str(exc))
        return g.results()
    g.run("float_accuracy", lambda: close("float_accuracy", need(a, "float_accuracy"),
                                          measure()["float_accuracy"], abs_=0.0015))
    g.run("quantisation", lambda: [close(k, need(a, k), measure(*RUNS[k])["integer_accuracy"],
                                         abs_=0.0015)
                                   for k in ("integer_accuracy_w4", "integer_accuracy_m8")])
    g.run("conventions", lambda: close(
        "integer_accuracy_zero_reset", need(a, "integer_accuracy_zero_reset"),
        measure(*RUNS["integer_accuracy_zero_reset"])["integer_accuracy"], abs_=0.0015))
    g.run("silicon", lambda: _silicon(folder, a))
    return g.results()


LAB = Lab(7, "07_nir", "From a trained network to silicon with NIR", ("answers.yaml",),
          CRITERIA, check)
