# SPDX-License-Identifier: Apache-2.0
"""What every lab checker shares: criteria, results, loading a student's files.

A lab declares its criteria once (:class:`Criterion`: what is checked and the hint shown when it
fails); its checker runs the student's files against the kit's reference models and returns one
:class:`Result` per criterion. A criterion whose check raises :class:`Fail` (or any exception
from the student's code) fails with that message as its detail; one criterion's failure never
stops the others from being checked.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

__all__ = ["Criterion", "Result", "Fail", "Lab", "Grader", "load_module", "load_answers",
           "need", "close", "kit_json"]


@dataclass(frozen=True)
class Criterion:
    """One thing a lab checks: ``key`` (a short name), ``text`` (what passes), ``hint``."""

    key: str
    text: str
    hint: str


@dataclass(frozen=True)
class Result:
    """The verdict on one criterion; ``detail`` says what was seen when it failed."""

    criterion: Criterion
    passed: bool
    detail: str = ""

    def line(self) -> str:
        """One line: ``PASS key: text`` or ``FAIL key: text -- detail; hint: ...``."""
        c = self.criterion
        if self.passed:
            return f"PASS {c.key}: {c.text}"
        detail = f" -- {self.detail}" if self.detail else ""
        return f"FAIL {c.key}: {c.text}{detail}; hint: {c.hint}"


class Fail(Exception):
    """Raised by a check: the criterion fails, the message says what was seen (one line)."""


@dataclass(frozen=True)
class Lab:
    """A lab: its number, folder name under ``labs/``, title, the student's files, criteria
    and checker ``check(folder) -> list[Result]``."""

    number: int
    name: str
    title: str
    files: tuple[str, ...]
    criteria: tuple[Criterion, ...]
    check: Callable[[Path], list[Result]]

    def criterion(self, key: str) -> Criterion:
        for c in self.criteria:
            if c.key == key:
                return c
        raise KeyError(key)


def _kit_dirs() -> tuple[Path, ...]:
    import neurotile
    import neurotile.neurons
    import neurotile.rtl
    import neurotile.testbench

    here = Path(__file__).resolve().parent
    return (here, *(Path(m.__file__).resolve().parent for m in
                    (neurotile, neurotile.neurons, neurotile.rtl, neurotile.testbench)))


def _one_line(exc: BaseException) -> str:
    """``ValueError: ... (file.py:12)``: the exception and the deepest frame outside the kit and
    the installed libraries (the student's line, when there is one)."""
    kit = _kit_dirs()
    where = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        path = Path(frame.filename).resolve()
        if path.parent not in kit and "site-packages" not in path.parts \
                and not frame.filename.startswith("<"):
            where = f" ({path.name}:{frame.lineno})"
            break
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}{': ' + text if text else ''}{where}"


class Grader:
    """Collects one :class:`Result` per criterion of ``lab``, in the lab's order."""

    def __init__(self, lab_criteria: tuple[Criterion, ...]) -> None:
        self._criteria = {c.key: c for c in lab_criteria}
        self._results: dict[str, Result] = {}

    def run(self, key: str, check: Callable[[], Any]) -> bool:
        """Run ``check()``; it passes unless it raises. Return whether it passed."""
        c = self._criteria[key]
        logging.disable(logging.CRITICAL)  # the kit's checkers log each mismatch; we summarise
        try:
            check()
        except Fail as exc:
            self._results[key] = Result(c, False, str(exc))
        except Exception as exc:  # the student's code raised: that is a failure, not a crash
            self._results[key] = Result(c, False, _one_line(exc))
        else:
            self._results[key] = Result(c, True)
        finally:
            logging.disable(logging.NOTSET)
        return self._results[key].passed

    def fail(self, key: str, detail: str) -> None:
        """Fail ``key`` without running anything (e.g. the file it needs is missing)."""
        self._results[key] = Result(self._criteria[key], False, detail)

    def fail_rest(self, detail: str) -> None:
        """Fail every criterion not decided yet with ``detail``."""
        for key in self._criteria:
            if key not in self._results:
                self.fail(key, detail)

    def results(self) -> list[Result]:
        self.fail_rest("not checked")
        return [self._results[k] for k in self._criteria]


@contextmanager
def _on_path(folder: Path) -> Iterator[None]:
    sys.path.insert(0, str(folder))
    try:
        yield
    finally:
        sys.path.remove(str(folder))


def load_module(folder: Path, filename: str) -> ModuleType:
    """Import the student's ``folder/filename`` afresh (never a cached copy); raise
    :class:`Fail` naming the file when it is missing or does not import."""
    path = folder / filename
    if not path.is_file():
        raise Fail(f"{path} is missing (neurotile lab start copies it)")
    name = f"_neurotile_lab_{path.stem}_{abs(hash(str(path.resolve())))}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        with _on_path(folder):
            spec.loader.exec_module(module)
    except Exception as exc:
        raise Fail(f"{filename} does not import: {_one_line(exc)}") from None
    return module


def load_answers(folder: Path, filename: str = "answers.yaml") -> dict[str, Any]:
    """The student's measured numbers; raise :class:`Fail` when missing or not a mapping."""
    path = folder / filename
    if not path.is_file():
        raise Fail(f"{path} is missing (neurotile lab start copies it)")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise Fail(f"{filename} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise Fail(f"{filename} must hold 'name: value' lines")
    return data


def need(answers: dict[str, Any], key: str, kind: type = float) -> Any:
    """``answers[key]`` as ``kind``; :class:`Fail` when it is still blank or not a number."""
    value = answers.get(key)
    if value is None or value == "":
        raise Fail(f"answers.yaml: {key} is still blank")
    if kind is bool:
        if not isinstance(value, bool):
            raise Fail(f"answers.yaml: {key} must be true or false, not {value!r}")
        return value
    if kind in (int, float) and isinstance(value, bool):
        raise Fail(f"answers.yaml: {key} must be a number, not {value!r}")
    try:
        out = kind(value)
    except (TypeError, ValueError):
        raise Fail(f"answers.yaml: {key} must be {'an integer' if kind is int else 'a number'}"
                   f", not {value!r}") from None
    if kind is int and isinstance(value, float) and value != out:
        raise Fail(f"answers.yaml: {key} must be an integer, not {value!r}")
    return out


def close(name: str, got: float, want: float, *, rel: float = 0.0, abs_: float = 0.0) -> None:
    """:class:`Fail` unless ``got`` is within ``rel`` (relative) or ``abs_`` of ``want``."""
    if abs(got - want) > max(abs_, rel * abs(want)):
        tol = f"{rel:.0%}" if rel else f"{abs_:g}"
        raise Fail(f"{name}: you wrote {got:g}, the kit measures {want:g} (tolerance {tol})")


def kit_json(argv: list[str]) -> dict[str, Any]:
    """Run ``neurotile ARGV --json`` in this process and return what it printed, parsed: the
    checker measures with the same command the lab text asks the student to run."""
    import contextlib
    import io
    import json

    from neurotile.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([*argv, "--json"])
    if code != 0:
        raise RuntimeError(f"neurotile {' '.join(argv)} failed: {err.getvalue().strip()}")
    return json.loads(out.getvalue())
